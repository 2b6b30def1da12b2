/*
** conv_tune.h — the convolution algorithm measured fastest for a shape,
** kept in memory and in the cache directory (conv_tune.c).
*/
#ifndef SL_CONV_TUNE_H
#define SL_CONV_TUNE_H

#include <stddef.h>

/* The algorithm kept for key into name: 0 none, 1 found, 2 found and asked
** for the first time in this process (from the cache file). */
int sl_conv_tune_find(const char *key, char *name, size_t n);

/* Keeps algorithm name for key, and appends it to the cache file. */
void sl_conv_tune_keep(const char *key, const char *name);

#endif
