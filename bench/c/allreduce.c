/*
** allreduce.c — MPI_Allreduce called directly, the baseline of bench/dist.lua
** for sl.dist.allreduce: same buffer, in place, float64 sum.
**
** Built by the bench with mpicc -O2 -shared and loaded into the ranks of the
** job (libmpi is already open there: sl.dist opened it).
*/
#include <mpi.h>

/* Seconds per call: the best over `rounds` of `reps` calls, each round
** starting and ending on a barrier so every rank times the same calls. */
double bench_allreduce_seconds(double *buf, int n, int reps, int rounds)
{
  double best = 1e300;
  for (int r = 0; r < rounds; r++) {
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    for (int i = 0; i < reps; i++) MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    MPI_Barrier(MPI_COMM_WORLD);
    double t = (MPI_Wtime() - t0) / reps;
    if (t < best) best = t;
  }
  return best;
}
