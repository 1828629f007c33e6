/* omp_tasks.c - e2e program (OpenMP): a few long parallel regions with
 * tasks, locks and a threadprivate-free reduction, so that most checkpoint
 * requests arrive in the middle of a region and must wait for its end.
 *
 * 8 rounds (x scale); each runs one region of about 0.1 s in which a
 * `single` thread creates 400 tasks of uneven size (a recursive Fibonacci
 * with a cut-off, spawning child tasks and waiting for them), the others
 * take them; results go into an array through an omp_lock_t (initialised
 * once, before the first round: it must work after a restart) and an
 * omp_nest_lock_t taken twice. Between rounds the main thread does some
 * sequential work. Output: per-round sums, exact integers.
 *
 * Usage: omp_tasks [scale]   (default 1; ~1 s at -O2 on 2 cores)
 */
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define TASKS 400

static omp_lock_t result_lock;
static omp_nest_lock_t count_lock;
static uint64_t results[TASKS];
static long tasks_done;

static uint64_t fib(int n) {
  if (n < 2)
    return (uint64_t)n;
  if (n < 18)
    return fib(n - 1) + fib(n - 2);
  uint64_t a, b;
#pragma omp task shared(a)
  a = fib(n - 1);
#pragma omp task shared(b)
  b = fib(n - 2);
#pragma omp taskwait
  return a + b;
}

int main(int argc, char **argv) {
  long scale = argc > 1 ? atol(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  long rounds = 8 * scale;
  omp_init_lock(&result_lock);
  omp_init_nest_lock(&count_lock);
  omp_set_num_threads(2);
  uint64_t seq = 1;
  for (long r = 0; r < rounds; r++) {
#pragma omp parallel
    {
#pragma omp single
      for (int t = 0; t < TASKS; t++) {
#pragma omp task firstprivate(t)
        {
          uint64_t v = fib(16 + (int)((t * 7 + r) % 11));
          omp_set_lock(&result_lock);
          results[t] = v + (uint64_t)r;
          omp_unset_lock(&result_lock);
          omp_set_nest_lock(&count_lock);
          omp_set_nest_lock(&count_lock);
          tasks_done++;
          omp_unset_nest_lock(&count_lock);
          omp_unset_nest_lock(&count_lock);
        }
      }
    }
    uint64_t sum = 0;
    for (int t = 0; t < TASKS; t++)
      sum += results[t] * (uint64_t)(t + 1);
    for (int k = 0; k < 2000000; k++) /* sequential part */
      seq = seq * 6364136223846793005ull + (uint64_t)k;
    printf("round %ld: sum %llu tasks %ld\n", r, (unsigned long long)sum,
           tasks_done);
  }
  omp_destroy_lock(&result_lock);
  omp_destroy_nest_lock(&count_lock);
  printf("sequential %016llx\n", (unsigned long long)seq);
  return 0;
}
