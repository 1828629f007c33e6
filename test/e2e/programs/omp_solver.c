/* omp_solver.c - e2e program (OpenMP): many short parallel regions, as an
 * iterative solver runs them, checkpointed between regions.
 *
 * Each of 20000 iterations (x scale) runs several parallel regions over a
 * 1-D grid of integers (so every result is exact and independent of how
 * threads are scheduled): a static-schedule stencil sweep, a dynamic-
 * schedule pass with uneven work per row, a reduction(+) and a
 * reduction(max), a critical section and an atomic update. The program
 * sets the number of threads with omp_set_num_threads(3) and the schedule
 * with omp_set_schedule, and checks at every iteration that they are still
 * what it set (a restart must bring back the ICVs set through the API);
 * OMP_NUM_THREADS in the environment is ignored for the team size.
 *
 * Usage: omp_solver [scale]   (default 1; ~2 s at -O2 on 2 cores)
 */
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define N 20000

static int64_t grid[2][N];
static uint64_t critical_sum;
static uint64_t atomic_count;

int main(int argc, char **argv) {
  long scale = argc > 1 ? atol(argv[1]) : 1;
  if (scale < 1)
    scale = 1;
  long iters = 20000 * scale;
  omp_set_num_threads(3);
  omp_set_schedule(omp_sched_dynamic, 7);
  for (int i = 0; i < N; i++)
    grid[0][i] = (int64_t)((i * 7919) % 1000);

  uint64_t digest = 0;
  for (long it = 0; it < iters; it++) {
    const int64_t *src = grid[it & 1];
    int64_t *dst = grid[(it + 1) & 1];

    /* The ICVs the program set: lost ones would change the team size. */
    omp_sched_t kind;
    int chunk;
    omp_get_schedule(&kind, &chunk);
    if (omp_get_max_threads() != 3 || kind != omp_sched_dynamic || chunk != 7) {
      printf("FAIL: iteration %ld: max threads %d, schedule %d/%d\n", it,
             omp_get_max_threads(), (int)kind, chunk);
      return 1;
    }

    int team = 0;
#pragma omp parallel
    {
#pragma omp single
      team = omp_get_num_threads();
#pragma omp for schedule(static)
      for (int i = 0; i < N; i++) {
        int64_t l = src[i == 0 ? N - 1 : i - 1], r = src[i == N - 1 ? 0 : i + 1];
        dst[i] = (l + 2 * src[i] + r + (int64_t)it) % 1000003;
      }
    }
    if (team != 3) {
      printf("FAIL: iteration %ld: a team of %d threads\n", it, team);
      return 1;
    }

    /* Uneven work per row: the runtime schedule (dynamic, 7). */
    uint64_t sum = 0;
#pragma omp parallel for schedule(runtime) reduction(+ : sum)
    for (int i = 0; i < N; i += 97) {
      uint64_t h = (uint64_t)dst[i];
      for (int k = 0; k < (i % 13) * 20; k++)
        h = h * 6364136223846793005ull + 1442695040888963407ull;
      sum += h >> 40;
    }

    int64_t biggest = 0;
#pragma omp parallel for reduction(max : biggest)
    for (int i = 0; i < N; i++)
      if (dst[i] > biggest)
        biggest = dst[i];

#pragma omp parallel
    {
      uint64_t mine = (uint64_t)omp_get_thread_num() + 1;
#pragma omp critical
      critical_sum += mine;
#pragma omp atomic
      atomic_count++;
    }
    digest = digest * 1099511628211ull ^ sum ^ (uint64_t)biggest;
  }

  uint64_t grid_sum = 0;
  for (int i = 0; i < N; i++)
    grid_sum += (uint64_t)grid[iters & 1][i] * (uint64_t)(i % 31 + 1);
  printf("omp_solver: iterations %ld digest %016llx grid %llu critical %llu "
         "atomic %llu\n",
         iters, (unsigned long long)digest, (unsigned long long)grid_sum,
         (unsigned long long)critical_sum, (unsigned long long)atomic_count);
  return 0;
}
