
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_METHODS_H_INCLUDED_
#define _NGX_HTTP_MCP_METHODS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_mcp_module.h"
#include "json/ngx_http_mcp_json.h"
#include "protocol/ngx_http_mcp_jsonrpc.h"
#include "protocol/ngx_http_mcp_dispatch.h"
#include "catalog/ngx_http_mcp_registry.h"


#define NGX_HTTP_MCP_M_LEGACY     0x01   /* in a session */
#define NGX_HTTP_MCP_M_MODERN     0x02   /* 2026-07-28 */
#define NGX_HTTP_MCP_M_BOTH       0x03
#define NGX_HTTP_MCP_M_CACHE      0x04   /* ttlMs/cacheScope in 2026 */
#define NGX_HTTP_MCP_M_NAME       0x08   /* Mcp-Name is params.name */
#define NGX_HTTP_MCP_M_URI        0x10   /* Mcp-Name is params.uri */
#define NGX_HTTP_MCP_M_PARAMS     0x20   /* Mcp-Param-* (tools/call) */

#define NGX_HTTP_MCP_META_VERSION  "io.modelcontextprotocol/protocolVersion"


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

    size_t                      start;        /* where the answer starts */
    size_t                      members;      /* where the result's start */

    unsigned                    modern:1;
    unsigned                    cacheable:1;  /* 2026 ttlMs/cacheScope */
    unsigned                    failed:1;     /* a tool result with isError
                                                 (quotas do not count it) */
} ngx_http_mcp_call_t;


typedef ngx_int_t (*ngx_http_mcp_method_pt)(ngx_http_mcp_call_t *c);


/*
 * Method handlers write the members of the result object (no braces) and
 * return NGX_OK, or fill c->code/message/data and return NGX_DECLINED, or
 * set c->x->pending and return NGX_AGAIN (a backend answers later), or
 * return NGX_ERROR.
 */
ngx_int_t ngx_http_mcp_method_initialize(ngx_http_mcp_call_t *c);
ngx_int_t ngx_http_mcp_method_discover(ngx_http_mcp_call_t *c);
ngx_int_t ngx_http_mcp_method_empty(ngx_http_mcp_call_t *c);
ngx_int_t ngx_http_mcp_method_list(ngx_http_mcp_call_t *c);
ngx_int_t ngx_http_mcp_method_tools_call(ngx_http_mcp_call_t *c);
ngx_int_t ngx_http_mcp_method_resources_read(ngx_http_mcp_call_t *c);
ngx_int_t ngx_http_mcp_method_prompts_get(ngx_http_mcp_call_t *c);
ngx_int_t ngx_http_mcp_method_complete(ngx_http_mcp_call_t *c);
ngx_int_t ngx_http_mcp_method_set_level(ngx_http_mcp_call_t *c);

/*
 * 2026-07-28: the per-request checks (headers, _meta, version) in the
 * order the specification gives; `flags` are the method's NGX_HTTP_MCP_M_*
 * (0: no such method).  NGX_OK, NGX_DECLINED (c->code set), NGX_ERROR.
 */
ngx_int_t ngx_http_mcp_modern_check(ngx_http_mcp_call_t *c, ngx_uint_t flags);

/* "capabilities", "serverInfo" and "instructions" of the catalog */
void ngx_http_mcp_write_server(ngx_http_mcp_call_t *c);

/*
 * params.NAME of the request when it has that type; NULL when absent
 * (with c->code set if required) or of another type (c->code set)
 */
ngx_http_mcp_json_t *ngx_http_mcp_param(ngx_http_mcp_call_t *c,
    const char *name, ngx_http_mcp_json_type_e type, ngx_uint_t required);

/* the catalog has items of that kind (so their methods exist) */
ngx_uint_t ngx_http_mcp_has_kind(ngx_http_mcp_call_t *c,
    ngx_http_mcp_list_e kind);

/* c->code/message/data for a resource that does not exist; NGX_DECLINED */
ngx_int_t ngx_http_mcp_not_found(ngx_http_mcp_call_t *c, ngx_str_t *uri);
/* no control characters in a resource URI a client sent */
ngx_uint_t ngx_http_mcp_uri_printable(ngx_str_t *uri);
/*
 * the caller lacks scopes the item needs: HTTP 403 with the scopes for
 * the challenge (x->scope_needed); NGX_DECLINED or NGX_ERROR
 */
ngx_int_t ngx_http_mcp_denied(ngx_http_mcp_call_t *c,
    ngx_http_mcp_entry_t *entry);

/*
 * 2026 retries (ngx_http_mcp_mrtr.c): the call's inputResponses and its
 * requestState, opened; NGX_AGAIN (the backend runs), NGX_DECLINED
 * (c->code set), NGX_ERROR
 */
ngx_int_t ngx_http_mcp_mrtr_retry(ngx_http_mcp_call_t *c,
    ngx_http_mcp_bcall_t *bc);

/*
 * A backend's input_required answer, its requests narrowed to the
 * client's capabilities and its state sealed: NGX_OK with the result's
 * members written (the backend's _meta in *meta); NGX_DECLINED when the
 * answer is no such result, or a malformed one, which bc->result then
 * tells as a failure; NGX_ABORT (c->code set: -32021); NGX_ERROR.
 */
ngx_int_t ngx_http_mcp_mrtr_result(ngx_http_mcp_call_t *c,
    ngx_http_mcp_bcall_t *bc, ngx_http_mcp_json_t **meta);

/* c->code/message for a handler's error; returns NGX_DECLINED */
ngx_int_t ngx_http_mcp_call_error(ngx_http_mcp_call_t *c, ngx_int_t code,
    const char *fmt, ...);

/* the session copy that transport writes back after this request */
ngx_http_mcp_session_t *ngx_http_mcp_session_change(
    ngx_http_mcp_exchange_t *x);

/* a log level name ("info") to its value, NGX_HTTP_MCP_LOG_NONE if unknown */
ngx_http_mcp_log_level_e ngx_http_mcp_log_level(ngx_str_t *name);


#endif /* _NGX_HTTP_MCP_METHODS_H_INCLUDED_ */
