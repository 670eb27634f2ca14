
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_AUDIT_H_INCLUDED_
#define _NGX_HTTP_MCP_AUDIT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"


/*
 * The audit log (mcp_audit_log, observe/ngx_http_mcp_audit*.c): one JSON
 * line per call, session start and end, authentication failure and limit
 * refusal of an mcp_pass location, written in the log phase through
 * nginx's log files or syslog, optionally in a keyed hash chain.
 */


/* the log phase: the request's lines, if it has any (o may be NULL) */
void ngx_http_mcp_audit_record(ngx_http_request_t *r, ngx_http_mcp_obs_t *o);

/* whether an audit log applies to r's location */
ngx_uint_t ngx_http_mcp_audit_on(ngx_http_request_t *r);


extern ngx_module_t  ngx_http_mcp_audit_module;


#endif /* _NGX_HTTP_MCP_AUDIT_H_INCLUDED_ */
