
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_METRICS_INT_H_INCLUDED_
#define _NGX_HTTP_MCP_METRICS_INT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"


/* internal to observe/: the metrics zone and its series */


#define NGX_HTTP_MCP_NB    14              /* histogram buckets */
#define NGX_HTTP_MCP_NOUT  15              /* outcomes */
#define NGX_HTTP_MCP_NM    13              /* methods, the last "other" */
#define NGX_HTTP_MCP_NSB   14              /* session duration buckets */

/*
 * Pooled connections: per generation of workers (a reload starts the
 * next; four, so that workers of a reload or two before still draining
 * keep slots of their own), per worker (ngx_worker), per upstream that
 * the configuration numbers, per state (NGX_HTTP_MCP_CONN_*)
 */
#define NGX_HTTP_MCP_NGEN       4
#define NGX_HTTP_MCP_NWORKERS   64
#define NGX_HTTP_MCP_NUPS       16
#define NGX_HTTP_MCP_UPS_NAME   64


typedef struct {
    ngx_atomic_t                count[2];      /* ok, error */
    ngx_atomic_t                sum_us[2];
    ngx_atomic_t                bucket[2][NGX_HTTP_MCP_NB];
    ngx_atomic_t                outcome[NGX_HTTP_MCP_NOUT];
    ngx_atomic_t                calls[4];      /* NGX_HTTP_MCP_CALL_* */
} ngx_http_mcp_counters_t;


typedef struct {
    ngx_rbtree_node_t           node;
    ngx_queue_t                 queue;         /* all, in creation order */
    ngx_http_mcp_counters_t     c;
    ngx_uint_t                  method;
    ngx_str_t                   name;          /* in the zone */
    ngx_str_t                   kind;
    ngx_str_t                   target;
} ngx_http_mcp_series_t;


/* a count of an event by its label (ngx_http_mcp_event()) */

#define NGX_HTTP_MCP_NLABELS  128
#define NGX_HTTP_MCP_LABEL    64

typedef struct {
    ngx_atomic_t                count;
    ngx_uint_t                  event;
    size_t                      len;          /* 0: free */
    u_char                      label[NGX_HTTP_MCP_LABEL];
} ngx_http_mcp_labeled_t;


/* an upstream of a generation: its kind and name, the label values */

typedef struct {
    ngx_uint_t                  kind;         /* NGX_HTTP_MCP_CONN_POSTGRES,
                                                 ..._REDIS */
    size_t                      len;          /* 0: none */
    u_char                      name[NGX_HTTP_MCP_UPS_NAME];
} ngx_http_mcp_ups_t;


/* by protocol revision: sessions are of the legacy ones */

#define NGX_HTTP_MCP_NSV   (NGX_HTTP_MCP_V_LATEST_LEGACY + 1)

typedef struct {
    ngx_atomic_t                count;
    ngx_atomic_t                sum_ms;
    ngx_atomic_t                bucket[NGX_HTTP_MCP_NSB];
} ngx_http_mcp_sessions_sh_t;


typedef struct {
    ngx_atomic_t                n[NGX_HTTP_MCP_NGEN][NGX_HTTP_MCP_NWORKERS]
                                 [NGX_HTTP_MCP_NUPS]
                                 [NGX_HTTP_MCP_CONN_NSTATES];
    ngx_http_mcp_ups_t          ups[NGX_HTTP_MCP_NGEN][NGX_HTTP_MCP_NUPS];
    ngx_atomic_t                generation;   /* the last cycle's */
} ngx_http_mcp_conns_sh_t;


typedef struct {
    ngx_rbtree_t                rbtree;
    ngx_rbtree_node_t           sentinel;
    ngx_queue_t                 queue;
    ngx_atomic_t                http[600];     /* responses by status */
    ngx_atomic_t                streams;
    ngx_atomic_t                audit_dropped;
    ngx_http_mcp_labeled_t      labeled[NGX_HTTP_MCP_NLABELS];
    ngx_http_mcp_sessions_sh_t  sessions[NGX_HTTP_MCP_NSV];
    ngx_http_mcp_conns_sh_t     conns;
} ngx_http_mcp_metrics_sh_t;


/*
 * observe/'s main configuration, one a cycle (never a static: a reload
 * that fails must leave the running cycle's as they are): whether an
 * mcp_metrics location exists, the series the configuration wants, the
 * zone and each method's own series once the zone is made
 */

typedef struct {
    ngx_uint_t                  shown;
    ngx_array_t                 wanted;
    ngx_shm_zone_t             *zone;
    ngx_http_mcp_metrics_sh_t  *sh;           /* NULL: nothing counted */
    ngx_slab_pool_t            *shpool;
    ngx_http_mcp_series_t      *method[NGX_HTTP_MCP_NM];
    ngx_array_t                 upstreams;    /* ngx_http_mcp_ups_t */
    ngx_uint_t                  generation;   /* this cycle's */
} ngx_http_mcp_metrics_ctx_t;


/* the running cycle's; sh NULL when nothing is counted */
#define ngx_http_mcp_metrics_ctx()                                            \
    ((ngx_http_mcp_metrics_ctx_t *) ngx_http_cycle_get_module_main_conf(      \
         ngx_cycle, ngx_http_mcp_observe_module))

extern ngx_module_t     ngx_http_mcp_observe_module;
extern ngx_str_t        ngx_http_mcp_metric_methods[];
extern ngx_str_t        ngx_http_mcp_metric_outcomes[];
extern char            *ngx_http_mcp_les[];
extern char            *ngx_http_mcp_session_les[];


#endif /* _NGX_HTTP_MCP_METRICS_INT_H_INCLUDED_ */
