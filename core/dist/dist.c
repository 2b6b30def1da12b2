/*
** dist.c — sl.dist's collectives over MPI, opened with dlopen at run time.
**
** Only Open MPI's ABI is supported: its handles (MPI_Comm, MPI_Datatype,
** MPI_Op) are pointers to predefined global objects, which dlsym finds by
** name, and MPI_IN_PLACE is (void *)1. Every fact about that ABI is in the
** tables of the first section. (MPICH's handles are integer constants fixed
** at compile time in mpi.h; supporting it is a second table of those.)
**
** MPI is opened only in a process started by Open MPI's launcher
** (OMPI_COMM_WORLD_SIZE set): anywhere else the process is one rank, and
** every collective leaves its tensor as it is.
*/
#define _GNU_SOURCE   /* sched_getaffinity, CPU_COUNT */
#include <dlfcn.h>
#include <sched.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <omp.h>

#include "config.h"
#include "dist.h"

/* -- Open MPI's ABI ------------------------------------------------------------- */

typedef void *mpi_handle;
#define MPI_IN_PLACE_OMPI ((void *)1)

static const char *const mpi_libraries[] = { "libmpi.so.40", "libmpi.so" };

static struct {
  void *lib;
  const char *name;
  int (*Init)(int *, char ***);
  int (*Finalized)(int *);
  int (*Finalize)(void);
  int (*Comm_rank)(mpi_handle, int *);
  int (*Comm_size)(mpi_handle, int *);
  int (*Barrier)(mpi_handle);
  int (*Allreduce)(const void *, void *, int, mpi_handle, mpi_handle, mpi_handle);
  int (*Bcast)(void *, int, mpi_handle, int, mpi_handle);
  int (*Allgather)(const void *, int, mpi_handle, void *, int, mpi_handle, mpi_handle);
  int (*Abort)(mpi_handle, int);
  mpi_handle world, dtypes[SL_NDTYPES], ops[SL_DIST_NOPS];
} mpi;

#define MPI_FN(f) { "MPI_" #f, (void **)&mpi.f }
static const struct { const char *symbol; void **slot; } mpi_symbols[] = {
  MPI_FN(Init), MPI_FN(Finalized), MPI_FN(Finalize), MPI_FN(Comm_rank), MPI_FN(Comm_size),
  MPI_FN(Barrier), MPI_FN(Allreduce), MPI_FN(Bcast), MPI_FN(Allgather), MPI_FN(Abort),
  { "ompi_mpi_comm_world", &mpi.world },
  /* bool travels as bytes: max is "any", min and prod "all" */
  { "ompi_mpi_uint8_t", &mpi.dtypes[SL_BOOL] }, { "ompi_mpi_uint8_t", &mpi.dtypes[SL_UINT8] },
  { "ompi_mpi_int8_t", &mpi.dtypes[SL_INT8] }, { "ompi_mpi_int16_t", &mpi.dtypes[SL_INT16] },
  { "ompi_mpi_int32_t", &mpi.dtypes[SL_INT32] }, { "ompi_mpi_int64_t", &mpi.dtypes[SL_INT64] },
  /* float16 and bfloat16 travel as their bits: moved, never reduced */
  { "ompi_mpi_uint16_t", &mpi.dtypes[SL_FLOAT16] }, { "ompi_mpi_uint16_t", &mpi.dtypes[SL_BFLOAT16] },
  { "ompi_mpi_float", &mpi.dtypes[SL_FLOAT32] }, { "ompi_mpi_double", &mpi.dtypes[SL_FLOAT64] },
  { "ompi_mpi_c_float_complex", &mpi.dtypes[SL_COMPLEX64] },
  { "ompi_mpi_c_double_complex", &mpi.dtypes[SL_COMPLEX128] },
  { "ompi_mpi_op_sum", &mpi.ops[SL_DIST_SUM] }, { "ompi_mpi_op_sum", &mpi.ops[SL_DIST_MEAN] },
  { "ompi_mpi_op_max", &mpi.ops[SL_DIST_MAX] }, { "ompi_mpi_op_min", &mpi.ops[SL_DIST_MIN] },
  { "ompi_mpi_op_prod", &mpi.ops[SL_DIST_PROD] },
};
#define NSYMBOLS (sizeof mpi_symbols / sizeof *mpi_symbols)

/* -- the job -------------------------------------------------------------------- */

static int rank_, size_ = 1, initialized;

static const char *const op_names[] = {
#define SL_DIST_OP_NAME(e, name) name,
  SL_DIST_REDUCTIONS(SL_DIST_OP_NAME)
#undef SL_DIST_OP_NAME
};

const char *sl_dist_op_name(sl_dist_op op) { return op >= 0 && op < SL_DIST_NOPS ? op_names[op] : "?"; }

int sl_dist_op_from_name(const char *name, sl_dist_op *op)
{
  for (int k = 0; k < SL_DIST_NOPS; k++)
    if (strcmp(name, op_names[k]) == 0) { *op = (sl_dist_op)k; return 0; }
  return sl_fail("dist.allreduce: unknown reduction '%s' (sum, mean, max, min or prod)", name);
}

int sl_dist_rank(void) { return rank_; }
int sl_dist_size(void) { return size_; }
const char *sl_dist_library(void) { return mpi.lib ? mpi.name : NULL; }

static void finalize_at_exit(void) { sl_dist_finalize(); }

/* The ranks on one machine share its cores: unless the user chose a thread
** count (sl.config.threads, OMP_NUM_THREADS, OPENBLAS_NUM_THREADS), each
** unbound rank's kernels and BLAS calls take cores / local ranks threads.
** Left at all cores, every rank's OpenMP threads spin for cores the others
** hold, and a step takes twenty times as long. A rank that mpirun bound to
** some cores (its default up to 2 ranks) has OpenMP count those already. */
static void share_cores(void)
{
  int local = sl_env_int(SL_ENV_OMPI_LOCAL_SIZE);
  if (local <= 1 || sl_env(SL_ENV_OMP_NUM_THREADS) || sl_env(SL_ENV_OPENBLAS_NUM_THREADS) ||
      sl_config_origin(sl_config_find("threads")) == SL_CFG_FROM_USER) return;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  cpu_set_t mine;
  if (sched_getaffinity(0, sizeof mine, &mine) != 0 || CPU_COUNT(&mine) < cores) return;
  int threads = cores / local > 1 ? (int)(cores / local) : 1;
  sl_cfg.threads = threads;
  omp_set_num_threads(threads);   /* OpenBLAS's OpenMP build follows it too */
}

static int open_mpi(void)
{
  for (size_t i = 0; i < sizeof mpi_libraries / sizeof *mpi_libraries && !mpi.lib; i++) {
    /* RTLD_GLOBAL: Open MPI's own plugins resolve their symbols in libmpi */
    mpi.lib = dlopen(mpi_libraries[i], RTLD_NOW | RTLD_GLOBAL);
    mpi.name = mpi_libraries[i];
  }
  if (!mpi.lib)
    return sl_fail("dist.init: started by mpirun but Open MPI's libmpi.so.40 cannot be opened "
                   "(apt-get install libopenmpi-dev)");
  for (size_t i = 0; i < NSYMBOLS; i++) {
    *mpi_symbols[i].slot = dlsym(mpi.lib, mpi_symbols[i].symbol);
    if (!*mpi_symbols[i].slot) {
      dlclose(mpi.lib);
      mpi.lib = NULL;
      return sl_fail("dist.init: %s has no %s: only Open MPI's ABI is supported", mpi.name,
                     mpi_symbols[i].symbol);
    }
  }
  return 0;
}

/* Ranks that take every core of their machine wait for each other by
** yielding the core, not spinning on it: any other process there (a
** background compile of symlua's, the launcher, another job) preempts a
** rank, and a partner that spins then holds the core that rank waits for,
** a time slice per message of the collective (a 2-rank step under load
** took three times as long). With cores to spare the ranks spin, as Open
** MPI does by default. Open MPI reads its setting at MPI_Init; a value the
** user set is kept. */
static void yield_when_cores_taken(void)
{
  if (sl_env_int(SL_ENV_OMPI_LOCAL_SIZE) >= sysconf(_SC_NPROCESSORS_ONLN))
    setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0);
}

int sl_dist_init(void)
{
  if (initialized) return 0;
  const char *launched = sl_env(SL_ENV_OMPI_SIZE);
  if (launched && atoi(launched) > 1) {
    if (open_mpi()) return -1;
    yield_when_cores_taken();
    if (mpi.Init(NULL, NULL) != 0) return sl_fail("dist.init: MPI_Init failed");
    mpi.Comm_rank(mpi.world, &rank_);
    mpi.Comm_size(mpi.world, &size_);
    atexit(finalize_at_exit);
    share_cores();
  }
  initialized = 1;
  return 0;
}

static int active(void) { return mpi.lib && size_ > 1; }

int sl_dist_finalize(void)
{
  int done = 1;
  if (active() && mpi.Finalized(&done) == 0 && !done) mpi.Finalize();
  return 0;
}

void sl_dist_abort(int code)
{
  int done = 1;
  if (!active() || mpi.Finalized(&done) != 0 || done) return;
  fflush(stdout);
  fprintf(stderr, "symlua: rank %d of %d failed (exit status %d); ending the job\n", rank_, size_, code);
  fflush(stderr);
  mpi.Abort(mpi.world, code);
}

int sl_dist_barrier(void)
{
  if (active() && mpi.Barrier(mpi.world) != 0) return sl_fail("dist.barrier: MPI_Barrier failed");
  return 0;
}

/* -- collectives ---------------------------------------------------------------- */

/* Counts are ints in MPI: a larger buffer goes in chunks. */
#define CHUNK ((int64_t)1 << 30)

int sl_dist_gather_types(const sl_tensor *t, int64_t *out)
{
  int64_t mine[2 + SL_MAXDIM] = { t->dtype, t->ndim };
  for (int d = 0; d < t->ndim; d++) mine[2 + d] = t->shape[d];
  if (!active()) { memcpy(out, mine, sizeof mine); return 0; }
  if (mpi.Allgather(mine, 2 + SL_MAXDIM, mpi.dtypes[SL_INT64], out, 2 + SL_MAXDIM,
                    mpi.dtypes[SL_INT64], mpi.world) != 0)
    return sl_fail("dist: MPI_Allgather of the shapes failed");
  return 0;
}

static void type_text(const int64_t *ty, char *buf, size_t n)
{
  int at = snprintf(buf, n, "%s (", sl_dtype_name((sl_dtype)ty[0]));
  for (int d = 0; d < ty[1] && at < (int)n; d++)
    at += snprintf(buf + at, n - (size_t)at, d ? ", %lld" : "%lld", (long long)ty[2 + d]);
  if (at < (int)n) snprintf(buf + at, n - (size_t)at, ")");
}

/* Every rank's t has rank 0's dtype and shape; else an error naming the first that differs. */
static int same_types(const char *what, const sl_tensor *t)
{
  if (!active()) return 0;
  int64_t *all = malloc(sizeof(int64_t) * (2 + SL_MAXDIM) * (size_t)size_);
  if (!all) return sl_fail("out of memory");
  int rc = sl_dist_gather_types(t, all);
  for (int r = 1; r < size_ && rc == 0; r++) {
    const int64_t *a = all, *b = all + r * (2 + SL_MAXDIM);
    if (memcmp(a, b, sizeof(int64_t) * (size_t)(2 + a[1])) != 0) {
      char ta[256], tb[256];
      type_text(a, ta, sizeof ta);
      type_text(b, tb, sizeof tb);
      rc = sl_fail("%s: rank %d has %s but rank 0 has %s", what, r, tb, ta);
    }
  }
  free(all);
  return rc;
}

static void divide(sl_tensor *t, int64_t n, double by)
{
  void *p = sl_tensor_ptr(t);
  switch (t->dtype) {
  case SL_FLOAT32: for (int64_t i = 0; i < n; i++) ((float *)p)[i] /= (float)by; break;
  case SL_FLOAT64: for (int64_t i = 0; i < n; i++) ((double *)p)[i] /= by; break;
  case SL_COMPLEX64: for (int64_t i = 0; i < n; i++) ((float _Complex *)p)[i] /= (float)by; break;
  case SL_COMPLEX128: for (int64_t i = 0; i < n; i++) ((double _Complex *)p)[i] /= by; break;
  default: break;
  }
}

int sl_dist_check_op(sl_dtype dt, sl_dist_op op)
{
  char kind = sl_dtype_kind(dt);
  if (sl_dtype_is_half(dt))
    return sl_fail("dist.allreduce: %s values are stored, not reduced (cast to float32 first)", sl_dtype_name(dt));
  if (op == SL_DIST_MEAN && kind != 'f' && kind != 'c')
    return sl_fail("dist.allreduce: mean of %s values (cast to a float dtype first)", sl_dtype_name(dt));
  if (op == SL_DIST_SUM && kind == 'b')
    return sl_fail("dist.allreduce: sum of bool values (max is any, min is all; or cast first)");
  if ((op == SL_DIST_MAX || op == SL_DIST_MIN) && kind == 'c')
    return sl_fail("dist.allreduce: %s of complex values is not defined", op_names[op]);
  return 0;
}

int sl_dist_allreduce(sl_tensor *t, sl_dist_op op, int check_shapes)
{
  if (sl_dist_check_op(t->dtype, op)) return -1;
  if (!active()) return 0;
  if (check_shapes && same_types("dist.allreduce", t)) return -1;
  sl_tensor *c = sl_tensor_contiguous(t);
  if (!c) return -1;
  int64_t n = sl_tensor_numel(c);
  size_t es = sl_dtype_size(c->dtype);
  char *p = sl_tensor_ptr(c);
  int rc = 0;
  for (int64_t at = 0; at < n && rc == 0; at += CHUNK) {
    int count = (int)(n - at < CHUNK ? n - at : CHUNK);
    if (mpi.Allreduce(MPI_IN_PLACE_OMPI, p + (size_t)at * es, count, mpi.dtypes[c->dtype],
                      mpi.ops[op], mpi.world) != 0)
      rc = sl_fail("dist.allreduce: MPI_Allreduce failed");
  }
  if (rc == 0 && op == SL_DIST_MEAN) divide(c, n, size_);
  if (rc == 0 && c != t) rc = sl_tensor_copy(t, c);
  sl_tensor_release(c);
  return rc;
}

int sl_dist_broadcast(sl_tensor *t, int root)
{
  if (root < 0 || root >= size_)
    return sl_fail("dist.broadcast: root %d is not a rank (0..%d)", root, size_ - 1);
  if (!active()) return 0;
  if (same_types("dist.broadcast", t)) return -1;
  sl_tensor *c = sl_tensor_contiguous(t);
  if (!c) return -1;
  int64_t n = sl_tensor_numel(c);
  size_t es = sl_dtype_size(c->dtype);
  char *p = sl_tensor_ptr(c);
  int rc = 0;
  for (int64_t at = 0; at < n && rc == 0; at += CHUNK) {
    int count = (int)(n - at < CHUNK ? n - at : CHUNK);
    if (mpi.Bcast(p + (size_t)at * es, count, mpi.dtypes[c->dtype], root, mpi.world) != 0)
      rc = sl_fail("dist.broadcast: MPI_Bcast failed");
  }
  if (rc == 0 && c != t) rc = sl_tensor_copy(t, c);
  sl_tensor_release(c);
  return rc;
}

sl_tensor *sl_dist_allgather(const sl_tensor *t)
{
  int64_t shape[SL_MAXDIM];
  int ndim = t->ndim ? t->ndim : 1;
  shape[0] = (t->ndim ? t->shape[0] : 1) * size_;
  for (int d = 1; d < t->ndim; d++) shape[d] = t->shape[d];
  if (same_types("dist.allgather", t)) return NULL;
  sl_tensor *out = sl_tensor_empty(t->dtype, ndim, shape);
  sl_tensor *c = out ? sl_tensor_contiguous((sl_tensor *)t) : NULL;
  if (!c) { sl_tensor_release(out); return NULL; }
  int64_t n = sl_tensor_numel(c);
  if (!active()) {
    memcpy(sl_tensor_ptr(out), sl_tensor_ptr(c), (size_t)n * sl_dtype_size(c->dtype));
  } else if (n > INT_MAX || mpi.Allgather(sl_tensor_ptr(c), (int)n, mpi.dtypes[c->dtype],
                                          sl_tensor_ptr(out), (int)n, mpi.dtypes[c->dtype],
                                          mpi.world) != 0) {
    sl_fail(n > INT_MAX ? "dist.allgather: more than 2^31 - 1 elements per rank"
                        : "dist.allgather: MPI_Allgather failed");
    sl_tensor_release(out);
    out = NULL;
  }
  sl_tensor_release(c);
  return out;
}
