
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_LIMIT_H_INCLUDED_
#define _NGX_HTTP_MCP_LIMIT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"


/*
 * Rate limits and quotas (limit/), as transport calls them: after the
 * body is parsed and the caller known, before dispatch, for each request
 * of the body (ngx_http_mcp_admit_t, which protocol fills with what it
 * calls).
 *
 *   mcp_limit_zone per_tenant:10m key=$mcp_tenant rate=50r/s;
 *   mcp_quota_zone daily:10m key=$mcp_tenant redis=cache;
 *   location = /mcp { mcp_pass shop; mcp_limit zone=per_tenant burst=20; }
 *   tool search { limit zone=per_user burst=5; quota daily 1000/d; ... }
 */


#define NGX_HTTP_MCP_LIMITED  -32029        /* the JSON-RPC error code */


/*
 * whether the location has mcp_limit lines (admits are then wanted, as
 * they are when an entry of its server has limit or quota lines)
 */
ngx_uint_t ngx_http_mcp_limit_wanted(ngx_http_request_t *r);

/* the decision is made: rc NGX_OK, or NGX_ERROR */
typedef void (*ngx_http_mcp_limit_done_pt)(ngx_http_request_t *r,
    ngx_int_t rc);

/*
 * decides each admit (ngx_http_mcp_admit_t) of the array: NGX_OK, or
 * NGX_AGAIN and done() follows (from the event loop), or NGX_ERROR.  Calls
 * counted by a quota are given back when the request ends unless their
 * admit says ok.
 */
ngx_int_t ngx_http_mcp_limit_check(ngx_http_request_t *r,
    ngx_array_t *admits, ngx_http_mcp_limit_done_pt done);

/* once decided: how long the request waits before it runs (ms) */
ngx_msec_t ngx_http_mcp_limit_delay(ngx_http_request_t *r);


#endif /* _NGX_HTTP_MCP_LIMIT_H_INCLUDED_ */
