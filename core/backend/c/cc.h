/*
** cc.h — compiling generated C into loaded modules: the system compiler with
** a disk cache, libtcc in memory, and compiles that run in the background.
*/
#ifndef SL_CC_H
#define SL_CC_H

#include <stddef.h>

typedef struct sl_module sl_module;

/* Part of every cache key: raise it whenever generated code changes meaning
** for the same source text (e.g. a prelude change not visible in the source). */
#define SL_CODEGEN_VERSION 1

/* Compile one C translation unit with sl.config's compiler and flags (through
** the disk cache) and load it. NULL + sl_fail (the compiler's message and
** the path of the kept source) on failure. */
sl_module *sl_module_compile(const char *source);

/* The compiled module of source when the disk cache has it: 1 and *m; 0
** when it is not there (nothing is compiled); -1 + sl_fail (no compiler). */
int sl_module_lookup(const char *source, sl_module **m);

/* The same with compiler cc and flags cflags instead of sl.config's (both
** part of the cache key): e.g. "c++" and "-x c++ ..." for a C++ source. */
sl_module *sl_module_compile_using(const char *source, const char *cc, const char *cflags);

/* The same with libtcc, in memory: fast to build, slower code. */
sl_module *sl_module_compile_tcc(const char *source);
/* 1 when libtcc is linked in (bin/symlua; not the shared libraries, since
** Debian's libtcc.a is not position-independent). */
int sl_cc_tcc_available(void);

void *sl_module_sym(const sl_module *m, const char *name);   /* NULL when absent */
void sl_module_release(sl_module *m);

/* 1 when the configured compiler runs (checked once, then remembered). */
int sl_cc_available(void);
/* 1 when compiler cc runs (`cc --version`, checked once). */
int sl_cc_runs(const char *cc);

/* The configured compiler as one line: its command, the first line of its
** `--version` and its flags (what the kernels' speed depends on). 0, or -1
** + sl_fail when it does not run. */
int sl_cc_identity(char *out, size_t n);

/* Text to put at the top of every generated source: the kernel headers
** (kernels/scalar.h, kernels/vmath.h), embedded when symlua is built. */
const char *sl_cc_prelude(void);

/* A compile in the background (with the settings of the moment it starts),
** queued for a few worker threads: at most that many compilers run at once.
** A start of a source that is already queued or compiling joins that job
** (and sl_module_compile waits for it), so one module never compiles twice
** at once. poll never blocks: once the job is done it loads the module (each
** poll a new reference: take one, then free the job); before that, or on
** failure, NULL (on failure failed() is 1, and both poll and failed() leave
** the compiler's message, naming the kept source, in sl_errmsg). A job is
** freed by sl_compile_job_free at any time, also while it runs; one whose
** owners are all gone before it starts is not compiled. Compilers still
** running at exit are stopped: entries are installed whole or not at all. */
typedef struct sl_compile_job sl_compile_job;
sl_compile_job *sl_compile_start(const char *source);
sl_module *sl_compile_poll(sl_compile_job *j);
int sl_compile_failed(const sl_compile_job *j);
void sl_compile_job_free(sl_compile_job *j);

#endif
