/*
** cc.h — compiling generated C into loaded modules: the system compiler with
** a disk cache, libtcc in memory, and compiles that run in the background.
*/
#ifndef SL_CC_H
#define SL_CC_H

typedef struct sl_module sl_module;

/* Part of every cache key: raise it whenever generated code changes meaning
** for the same source text (e.g. a prelude change not visible in the source). */
#define SL_CODEGEN_VERSION 1

/* Compile one C translation unit with sl.config's compiler and flags (through
** the disk cache) and load it. NULL + sl_fail (the compiler's message and
** the path of the kept source) on failure. */
sl_module *sl_module_compile(const char *source);

/* The same with libtcc, in memory: fast to build, slower code. */
sl_module *sl_module_compile_tcc(const char *source);
/* 1 when libtcc is linked in (bin/symlua; not the shared libraries, since
** Debian's libtcc.a is not position-independent). */
int sl_cc_tcc_available(void);

void *sl_module_sym(const sl_module *m, const char *name);   /* NULL when absent */
void sl_module_release(sl_module *m);

/* 1 when the configured compiler runs (checked once, then remembered). */
int sl_cc_available(void);

/* Text to put at the top of every generated source: the kernel headers
** (kernels/scalar.h, kernels/vmath.h), embedded when symlua is built. */
const char *sl_cc_prelude(void);

/* A compile in a background thread (with the settings of the moment it
** starts). poll never blocks: it returns the module once it is ready, and
** hands it over (the caller releases it; later polls return NULL); before
** that, or on failure, NULL (on failure failed() is 1, and both poll and
** failed() leave the compiler's message in sl_errmsg). The job is freed by
** sl_compile_job_free at any time, also while running (the thread then
** cleans up). */
typedef struct sl_compile_job sl_compile_job;
sl_compile_job *sl_compile_start(const char *source);
sl_module *sl_compile_poll(sl_compile_job *j);
int sl_compile_failed(const sl_compile_job *j);
void sl_compile_job_free(sl_compile_job *j);

#endif
