/*
** fgraph.h — the graph under rewrite (see fgraph.c and rewrite.h), for the
** optimizer's own files.
*/
#ifndef SL_FGRAPH_H
#define SL_FGRAPH_H

#include "ptrmap.h"
#include "rewrite.h"

typedef struct { sl_client *e; int n, cap; } sl_clients;
typedef struct { void *p; int is_node; } sl_scratch;

struct sl_fgraph {
  int nin;
  sl_var **inputs;             /* the function's inputs (not retained: the caller holds them) */
  int nout;
  sl_var **outputs;            /* retained */
  sl_ptrmap live;              /* node -> 1 while in the graph, 0 after */
  int nnodes;
  sl_ptrmap client_index;      /* var -> index in clients */
  sl_clients *clients;
  int nclients, clients_cap;
  sl_scratch *scratch;         /* built during the current rewrite */
  int nscratch, scratch_cap;
  const sl_rewrite *rewrite;   /* running now, for messages and the trace */
  const sl_node *site;         /* the node it was offered */
  int changed;                 /* replacements so far */
  int trace;
  int nupdates;                /* the last nupdates outputs are new values of */
  sl_var *const *updated;      /* these shared variables (sl_opt_config) */
  void *shapes;                /* opt/shape_infer.c's sizes worked out so far, and */
  void (*free_shapes)(void *); /* how to free them with the graph */
};

sl_fgraph *sl_fgraph_new(int nin, sl_var **inputs, int n, sl_var **vars);
void sl_fgraph_free(sl_fgraph *g);
int  sl_fgraph_alive(const sl_fgraph *g, const sl_node *n);
int  sl_fgraph_toposort(sl_fgraph *g, sl_node ***order);   /* count, or -1 */
void sl_fgraph_release_scratch(sl_fgraph *g);

#endif
