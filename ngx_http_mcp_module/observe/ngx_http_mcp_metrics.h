
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_METRICS_H_INCLUDED_
#define _NGX_HTTP_MCP_METRICS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"


/*
 * Prometheus metrics in shared memory (observe/ngx_http_mcp_metrics.c):
 * counters that every worker adds to without a lock (atomic adds), kept
 * across reloads, shown by `location = /metrics { mcp_metrics; }`.
 */


/*
 * the configuration has an entry of this method ("tools/call", ...) and
 * name: its series, made when the zone is, are then *series; at
 * configuration time (the module file walks the catalogs)
 */
ngx_int_t ngx_http_mcp_metrics_entry(ngx_conf_t *cf, ngx_str_t *method,
    ngx_str_t *name, ngx_str_t *kind, ngx_str_t *target, void **series);

/* whether an mcp_metrics location exists: requests are then counted */
ngx_uint_t ngx_http_mcp_metrics_on(ngx_conf_t *cf);

/* the zone, sized for the entries named; from postconfiguration */
ngx_int_t ngx_http_mcp_metrics_init(ngx_conf_t *cf);

/* the log phase: what a request of an mcp_pass location did */
void ngx_http_mcp_metrics_record(ngx_http_request_t *r,
    ngx_http_mcp_obs_t *o);

/* the content handler of `mcp_metrics` */
ngx_int_t ngx_http_mcp_metrics_handler(ngx_http_request_t *r);

/* an audit record, or a buffered write of them, was lost */
void ngx_http_mcp_metrics_audit_dropped(void);

/* an SSE stream opens (+1) or closes (-1) */
void ngx_http_mcp_metrics_stream(ngx_int_t n);

/* a backend call of an entry ended: NGX_HTTP_MCP_CALL_* */
#define NGX_HTTP_MCP_CALL_OK         0
#define NGX_HTTP_MCP_CALL_ERROR      1
#define NGX_HTTP_MCP_CALL_TIMEOUT    2
#define NGX_HTTP_MCP_CALL_CANCELLED  3

void ngx_http_mcp_metrics_call(void *series, ngx_uint_t outcome);

/*
 * a worker starts: the connection gauges of a worker of its number (one
 * that died) start again at zero
 */
ngx_int_t ngx_http_mcp_metrics_init_process(ngx_cycle_t *cycle);


#endif /* _NGX_HTTP_MCP_METRICS_H_INCLUDED_ */
