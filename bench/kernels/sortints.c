/* bench/kernels/sortints.c - hand-written sorting of ints: recursive
 * quicksort (median of three, insertion sort below 16) and top-down
 * mergesort with a scratch buffer, on fresh pseudo-random arrays.
 *   sortints [scale%]   default 100 (~1 s at -O2) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void insertion(int *a, long n) {
  for (long i = 1; i < n; i++) {
    int x = a[i];
    long j = i - 1;
    while (j >= 0 && a[j] > x) { a[j + 1] = a[j]; j--; }
    a[j + 1] = x;
  }
}

static void quicksort(int *a, long n) {
  while (n > 16) {
    long m = n / 2;
    if (a[m] < a[0]) { int t = a[m]; a[m] = a[0]; a[0] = t; }
    if (a[n - 1] < a[0]) { int t = a[n - 1]; a[n - 1] = a[0]; a[0] = t; }
    if (a[n - 1] < a[m]) { int t = a[n - 1]; a[n - 1] = a[m]; a[m] = t; }
    int p = a[m];
    long i = 0, j = n - 1;
    for (;;) {
      while (a[i] < p) i++;
      while (a[j] > p) j--;
      if (i >= j) break;
      int t = a[i]; a[i] = a[j]; a[j] = t;
      i++; j--;
    }
    /* recurse into the smaller part, loop on the larger */
    if (j + 1 < n - j - 1) { quicksort(a, j + 1); a += j + 1; n -= j + 1; }
    else { quicksort(a + j + 1, n - j - 1); n = j + 1; }
  }
  insertion(a, n);
}

static void merge_sort(int *a, int *tmp, long n) {
  if (n <= 16) { insertion(a, n); return; }
  long m = n / 2;
  merge_sort(a, tmp, m);
  merge_sort(a + m, tmp, n - m);
  long i = 0, j = m, k = 0;
  while (i < m && j < n) tmp[k++] = a[i] <= a[j] ? a[i++] : a[j++];
  while (i < m) tmp[k++] = a[i++];
  while (j < n) tmp[k++] = a[j++];
  memcpy(a, tmp, n * sizeof *a);
}

int main(int argc, char **argv) {
  long scale = argc > 1 ? atol(argv[1]) : 100;
  const long n = 1000000;
  int *a = malloc(n * sizeof *a), *tmp = malloc(n * sizeof *tmp);
  uint64_t rng = 99, sum = 0;
  long rounds = 20 * scale / 100;
  if (rounds < 1) rounds = 1;
  for (long r = 0; r < rounds; r++) {
    for (long i = 0; i < n; i++) {
      rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
      a[i] = (int)(rng >> 33) % (r & 1 ? 1000 : 100000000);
    }
    if (r & 2) merge_sort(a, tmp, n); else quicksort(a, n);
    for (long i = 1; i < n; i++)
      if (a[i - 1] > a[i]) { printf("not sorted at %ld\n", i); return 1; }
    sum += (uint64_t)a[n / 2] + a[n / 10] + a[n - 1];
  }
  printf("sortints sum=%llu\n", (unsigned long long)sum);
  free(a); free(tmp);
  return 0;
}
