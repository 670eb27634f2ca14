
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_OBSERVE_H_INCLUDED_
#define _NGX_HTTP_MCP_OBSERVE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"


/*
 * What a request did, seen from outside (observe/): the $mcp_* variables
 * of access logs, W3C trace context, metrics and the audit.  Transport
 * makes the record when a POST begins; transport and protocol fill it.
 */


/* the request's record, made at the first call; NULL: no memory */
ngx_http_mcp_obs_t *ngx_http_mcp_observe(ngx_http_request_t *r);

/*
 * whether anything reads the entry's part of r's record (series, target,
 * audit): metrics are counted, or an audit log applies to r's location
 */
ngx_uint_t ngx_http_mcp_observe_detail(ngx_http_request_t *r);

/*
 * what logs show of a session id, a secret: the first 16 hex digits of
 * its SHA-256, at p; the end of them
 */
u_char *ngx_http_mcp_observe_session(u_char *p, ngx_str_t *session);

#define NGX_HTTP_MCP_OBS_SESSION_LEN  16

/*
 * the client's clientInfo object (the 2026 _meta's, or the session's) in
 * *info, NULL if none: NGX_OK, or NGX_ERROR
 */
ngx_int_t ngx_http_mcp_observe_client(ngx_http_request_t *r,
    ngx_http_mcp_obs_t *o, struct ngx_http_mcp_json_s **info);

/*
 * the request's trace: a valid traceparent header's (and its tracestate
 * headers', if valid), else a new one; and a span of its own
 */
void ngx_http_mcp_trace_begin(ngx_http_request_t *r, ngx_http_mcp_obs_t *o);

/*
 * the 2026 _meta's traceparent and tracestate (or NULL), when the headers
 * gave no traceparent that is valid
 */
void ngx_http_mcp_trace_continue(ngx_http_mcp_obs_t *o,
    ngx_str_t *traceparent, ngx_str_t *tracestate);

/*
 * a traceparent for a call the request makes (a new span of its trace),
 * from pool: NGX_OK or NGX_ERROR
 */
ngx_int_t ngx_http_mcp_trace_child(ngx_http_mcp_obs_t *o, ngx_pool_t *pool,
    ngx_str_t *traceparent);


extern ngx_module_t  ngx_http_mcp_observe_module;


#endif /* _NGX_HTTP_MCP_OBSERVE_H_INCLUDED_ */
