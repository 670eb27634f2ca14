
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_JSONRPC_H_INCLUDED_
#define _NGX_HTTP_MCP_JSONRPC_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "json/ngx_http_mcp_json.h"


#define NGX_HTTP_MCP_PARSE_ERROR           -32700
#define NGX_HTTP_MCP_INVALID_REQUEST       -32600
#define NGX_HTTP_MCP_METHOD_NOT_FOUND      -32601
#define NGX_HTTP_MCP_INVALID_PARAMS        -32602
#define NGX_HTTP_MCP_INTERNAL_ERROR        -32603
#define NGX_HTTP_MCP_SESSION_NOT_FOUND     -32001
#define NGX_HTTP_MCP_RESOURCE_NOT_FOUND    -32002
#define NGX_HTTP_MCP_HEADER_MISMATCH       -32020
#define NGX_HTTP_MCP_MISSING_CAPABILITY    -32021
#define NGX_HTTP_MCP_UNSUPPORTED_VERSION   -32022
#define NGX_HTTP_MCP_FORBIDDEN             -32003   /* with HTTP 403 */


typedef enum {
    NGX_HTTP_MCP_MSG_INVALID = 0,
    NGX_HTTP_MCP_MSG_REQUEST,
    NGX_HTTP_MCP_MSG_NOTIFICATION,
    NGX_HTTP_MCP_MSG_RESPONSE
} ngx_http_mcp_msg_kind_e;


typedef struct {
    ngx_http_mcp_msg_kind_e     kind;
    ngx_http_mcp_json_t        *id;        /* NULL for notifications */
    ngx_str_t                   method;
    ngx_http_mcp_json_t        *params;    /* NULL when absent */
    ngx_http_mcp_json_t        *meta;      /* params._meta or NULL */
    const char                 *invalid;   /* why kind is INVALID */
} ngx_http_mcp_msg_t;


/* classifies one JSON-RPC 2.0 message (never fails; see ->invalid) */
void ngx_http_mcp_jsonrpc_read(ngx_http_mcp_json_t *v, ngx_http_mcp_msg_t *m);

/* `{"jsonrpc":"2.0","id":<id>,"result":` (the caller writes the object) */
void ngx_http_mcp_jsonrpc_result_start(ngx_http_mcp_jw_t *jw,
    ngx_http_mcp_json_t *id);

/* a whole error response; id NULL writes "id":null; data is raw JSON */
void ngx_http_mcp_jsonrpc_error(ngx_http_mcp_jw_t *jw,
    ngx_http_mcp_json_t *id, ngx_int_t code, ngx_str_t *message,
    ngx_str_t *data);


#endif /* _NGX_HTTP_MCP_JSONRPC_H_INCLUDED_ */
