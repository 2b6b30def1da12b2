/*
** conv_tune.c — which convolution algorithm is fastest for a shape (ops/conv.c
** measures it once): kept in memory, and as lines "key<TAB>algorithm" in
** conv_algos.txt of the cache directory, so that later runs measure no more.
** A later line for the same key wins. The table follows the cache directory:
** when that setting changes, the next lookup reads the new directory's file.
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "config.h"
#include "conv_tune.h"

typedef struct tune_entry {
  char key[256], name[32];
  int asked;                 /* looked up in this process already */
  struct tune_entry *next;
} tune_entry;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static tune_entry *entries;
static char table_file[4200];   /* the file entries were read from; "" before */

static void file_path(char *path, size_t n)
{
  char dir[4096];
  path[0] = 0;
  if (sl_cache_dir(sl_cfg.cache_dir, dir, sizeof dir) == 0) snprintf(path, n, "%s/conv_algos.txt", dir);
}

static tune_entry *lookup(const char *key)
{
  for (tune_entry *e = entries; e; e = e->next)
    if (strcmp(e->key, key) == 0) return e;
  return NULL;
}

static void put(const char *key, const char *name, int asked)
{
  tune_entry *e = lookup(key);
  if (!e) {
    if (!(e = calloc(1, sizeof *e))) return;   /* no memory: measured again next time */
    snprintf(e->key, sizeof e->key, "%s", key);
    e->next = entries;
    entries = e;
  }
  snprintf(e->name, sizeof e->name, "%s", name);
  e->asked = asked;
}

/* Called locked: the entries of the current cache directory's file. */
static void follow_cache_dir(void)
{
  char path[sizeof table_file];
  file_path(path, sizeof path);
  if (strcmp(path, table_file) == 0 && path[0]) return;
  while (entries) { tune_entry *next = entries->next; free(entries); entries = next; }
  snprintf(table_file, sizeof table_file, "%s", path);
  FILE *f = path[0] ? fopen(path, "r") : NULL;
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    char *tab = strchr(line, '\t'), *end = strchr(line, '\n');
    if (!tab || !end || tab - line >= (long)sizeof entries->key) continue;   /* not ours: skipped */
    *tab = *end = 0;
    if (strlen(tab + 1) < sizeof entries->name) put(line, tab + 1, 0);
  }
  fclose(f);
}

int sl_conv_tune_find(const char *key, char *name, size_t n)
{
  pthread_mutex_lock(&lock);
  follow_cache_dir();
  tune_entry *e = lookup(key);
  int found = e ? (e->asked ? 1 : 2) : 0;
  if (e) { snprintf(name, n, "%s", e->name); e->asked = 1; }
  pthread_mutex_unlock(&lock);
  return found;
}

void sl_conv_tune_keep(const char *key, const char *name)
{
  pthread_mutex_lock(&lock);
  follow_cache_dir();
  put(key, name, 1);
  FILE *f = table_file[0] ? fopen(table_file, "a") : NULL;
  if (f) {   /* one short write: lines of concurrent processes stay whole */
    char line[300];
    snprintf(line, sizeof line, "%s\t%s\n", key, name);
    fputs(line, f);
    fclose(f);
  }
  pthread_mutex_unlock(&lock);
}
