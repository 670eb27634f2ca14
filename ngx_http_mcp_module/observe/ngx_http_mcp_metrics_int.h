
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


typedef struct {
    ngx_rbtree_t                rbtree;
    ngx_rbtree_node_t           sentinel;
    ngx_queue_t                 queue;
    ngx_atomic_t                http[600];     /* responses by status */
    ngx_atomic_t                streams;
    ngx_http_mcp_labeled_t      labeled[NGX_HTTP_MCP_NLABELS];
} ngx_http_mcp_metrics_sh_t;


/* the zone's context; wanted: the series of the configuration */

typedef struct {
    ngx_array_t                 wanted;
    ngx_http_mcp_metrics_sh_t  *sh;
    ngx_slab_pool_t            *shpool;
} ngx_http_mcp_metrics_ctx_t;


extern ngx_shm_zone_t  *ngx_http_mcp_metrics_zone;
extern ngx_str_t        ngx_http_mcp_metric_methods[];
extern ngx_str_t        ngx_http_mcp_metric_outcomes[];
extern char            *ngx_http_mcp_les[];


#endif /* _NGX_HTTP_MCP_METRICS_INT_H_INCLUDED_ */
