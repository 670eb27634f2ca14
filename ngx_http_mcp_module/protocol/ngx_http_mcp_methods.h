
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_METHODS_H_INCLUDED_
#define _NGX_HTTP_MCP_METHODS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_mcp_module.h"
#include "protocol/ngx_http_mcp_json.h"
#include "protocol/ngx_http_mcp_jsonrpc.h"
#include "protocol/ngx_http_mcp_dispatch.h"
#include "protocol/ngx_http_mcp_registry.h"


/* one request being answered, shared by dispatch and the method handlers */

typedef struct {
    ngx_http_mcp_exchange_t    *x;
    ngx_http_mcp_msg_t         *msg;
    ngx_http_mcp_server_t      *srv;
    ngx_http_mcp_version_e      version;
    ngx_http_mcp_json_t        *client_caps;  /* 2026: this request's */
    ngx_http_mcp_jw_t          *jw;

    /* set by a handler that answers with an error (it returns NGX_DECLINED) */
    ngx_int_t                   code;
    ngx_str_t                   message;
    ngx_str_t                   data;         /* raw JSON or empty */
    ngx_uint_t                  http_status;  /* 0: the era's default */

    unsigned                    modern:1;
    unsigned                    cacheable:1;  /* 2026 ttlMs/cacheScope */
} ngx_http_mcp_call_t;


typedef ngx_int_t (*ngx_http_mcp_method_pt)(ngx_http_mcp_call_t *c);


/*
 * Method handlers write the members of the result object (no braces) and
 * return NGX_OK, or fill c->code/message/data and return NGX_DECLINED, or
 * return NGX_ERROR.
 */
ngx_int_t ngx_http_mcp_method_initialize(ngx_http_mcp_call_t *c);
ngx_int_t ngx_http_mcp_method_discover(ngx_http_mcp_call_t *c);
ngx_int_t ngx_http_mcp_method_empty(ngx_http_mcp_call_t *c);
ngx_int_t ngx_http_mcp_method_list(ngx_http_mcp_call_t *c);
ngx_int_t ngx_http_mcp_method_tools_call(ngx_http_mcp_call_t *c);
ngx_int_t ngx_http_mcp_method_resources_read(ngx_http_mcp_call_t *c);
ngx_int_t ngx_http_mcp_method_subscribe(ngx_http_mcp_call_t *c);
ngx_int_t ngx_http_mcp_method_prompts_get(ngx_http_mcp_call_t *c);
ngx_int_t ngx_http_mcp_method_complete(ngx_http_mcp_call_t *c);
ngx_int_t ngx_http_mcp_method_set_level(ngx_http_mcp_call_t *c);

/* the capabilities object of a catalog, as the revision spells it */
void ngx_http_mcp_write_capabilities(ngx_http_mcp_call_t *c);

/* c->code/message for a handler's error; returns NGX_DECLINED */
ngx_int_t ngx_http_mcp_call_error(ngx_http_mcp_call_t *c, ngx_int_t code,
    const char *fmt, ...);

/* a log level name ("info") to its value, NGX_HTTP_MCP_LOG_NONE if unknown */
ngx_http_mcp_log_level_e ngx_http_mcp_log_level(ngx_str_t *name);


#endif /* _NGX_HTTP_MCP_METHODS_H_INCLUDED_ */
