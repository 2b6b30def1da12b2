/*
** cache.h — the disk cache of compiled shared objects: a 128-bit hash for
** keys and checksums, entries that carry their checksum, atomic installs.
*/
#ifndef SL_CACHE_H
#define SL_CACHE_H

#include <stddef.h>
#include <stdint.h>

/* -- hashing ------------------------------------------------------------------ */

typedef struct { uint64_t lo, hi; } sl_hash128;

/* A streaming 128-bit hash: feed pieces, then finish. */
typedef struct sl_hasher {
  uint64_t a, b, len;
  unsigned char buf[16];
  size_t nbuf;
} sl_hasher;

void sl_hasher_init(sl_hasher *h, uint64_t seed);
void sl_hasher_update(sl_hasher *h, const void *p, size_t n);
/* A string and its terminating NUL, so that ("ab","c") and ("a","bc") differ. */
void sl_hasher_string(sl_hasher *h, const char *s);
sl_hash128 sl_hasher_final(const sl_hasher *h);
/* C or C++ source without its comments (each one a space, as the compiler
** sees it): annotations such as node ids or script lines then do not change
** the key of code that compiles the same. Literals are kept whole. */
void sl_hasher_code(sl_hasher *h, const char *s);
sl_hash128 sl_hash128_bytes(const void *p, size_t n);

/* 32 lowercase hex digits and a NUL. */
void sl_hash128_hex(sl_hash128 h, char out[33]);

/* -- entries -------------------------------------------------------------------
** An entry is DIR/kk/kkkk...kk.so (kk: the key's first two hex digits): the
** shared object followed by a trailer (a magic word, the object's size and
** its hash), which the dynamic loader ignores and sl_cache_lookup verifies.
*/

/* The cache directory in use, copied into dir: sl.config.cache_dir,
** $SYMLUA_CACHE_DIR, $XDG_CACHE_HOME/symlua or ~/.cache/symlua, created when
** missing. When that cannot be written to, a temporary directory is used
** instead (one warning per directory). configured is sl.config.cache_dir
** (read by the caller: compiles in other threads pass a copy). 0, or -1 + sl_fail. */
int sl_cache_dir(const char *configured, char *dir, size_t n);

/* The directory the settings name, when it exists, whether or not it can be
** written to (a read-only cache is still read): 1 and its path in dir, or 0. */
int sl_cache_read_dir(const char *configured, char *dir, size_t n);

/* The path of an entry's file in dir, creating nothing. 0, or -1 + sl_fail. */
int sl_cache_name(const char *dir, sl_hash128 key, const char *ext, char *out, size_t n);

/* Paths of an entry's files in dir: ext is ".so" (the entry), ".c" (its kept
** source). The entry's subfolder is created. 0, or -1 + sl_fail. */
int sl_cache_path(const char *dir, sl_hash128 key, const char *ext, char *out, size_t n);

/* A unique temporary name in the same folder as final (for a later rename). */
void sl_cache_temp_path(const char *final, const char *ext, char *out, size_t n);

/* NULL when the n bytes of an entry (object and trailer) are intact, else
** what is wrong: "truncated" or "checksum mismatch". */
const char *sl_cache_entry_problem(const unsigned char *buf, size_t n);

/* 1 when the entry at path exists and its checksum holds; 0 when missing. A
** corrupt or truncated entry is removed with a warning, and 0 returned. */
int sl_cache_check(const char *path);

/* The object of the intact entry at path, without its trailer: malloc'd,
** its size in *size and a NUL byte after it; NULL when missing or corrupt
** (a corrupt one is removed with a warning, as by sl_cache_check). */
unsigned char *sl_cache_read(const char *path, size_t *size);

/* Append the trailer to the freshly built object at tmp, then rename it to
** final (atomically replacing whatever is there). 0, or -1 + sl_fail. */
int sl_cache_install(const char *tmp, const char *final);

/* Remove temporaries over an hour old (left by killed compiles) from the
** folder of the entry at path. */
void sl_cache_sweep(const char *path);

/* Counters of this process, and the entries on disk. */
typedef struct sl_cache_stats {
  int64_t hits, misses, corrupt;   /* lookups in this process */
  int64_t entries, bytes;          /* files in the cache directory */
} sl_cache_stats;

void sl_cache_count(int hit);
int sl_cache_info(char *dir, size_t n, sl_cache_stats *st);

/* Remove every file that looks like an entry (or a kept source, or a stale
** temporary) from the cache directory; returns how many, or -1 + sl_fail. */
int64_t sl_cache_clear(void);

/* A warning on stderr, one line. */
void sl_cache_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
