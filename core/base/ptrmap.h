/*
** ptrmap.h — a map from pointers to ints (open addressing), for graph walks.
*/
#ifndef SL_PTRMAP_H
#define SL_PTRMAP_H

#include <stddef.h>

typedef struct { const void **keys; int *vals; size_t cap, n; } sl_ptrmap;

int  sl_ptrmap_get(const sl_ptrmap *m, const void *k);        /* -1 when absent */
int  sl_ptrmap_put(sl_ptrmap *m, const void *k, int v);       /* 0, or -1 + sl_fail */
void sl_ptrmap_free(sl_ptrmap *m);

#endif
