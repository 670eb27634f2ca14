
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


/*
 * Another place for the records, beside mcp_audit_log's files: a sink
 * that lives in a layer observe/ does not include (mcp_audit_postgres,
 * upstream/ngx_http_mcp_pg_audit*.c).  wants() says whether a request's
 * location sends its records there; put() is given each record, the JSON
 * object as mcp_audit_log writes it, without a chain's members and the
 * newline, and copies it before it returns: it must never block.
 */

typedef struct {
    ngx_uint_t                (*wants)(ngx_http_request_t *r);
    void                      (*put)(ngx_http_request_t *r, u_char *record,
                                     size_t len);
} ngx_http_mcp_audit_sink_t;


/* at configuration time: the records go to the sink as well */
void ngx_http_mcp_audit_sink(ngx_conf_t *cf, ngx_http_mcp_audit_sink_t *sink);


extern ngx_module_t  ngx_http_mcp_audit_module;


#endif /* _NGX_HTTP_MCP_AUDIT_H_INCLUDED_ */
