
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_SUBSCRIBE_H_INCLUDED_
#define _NGX_HTTP_MCP_SUBSCRIBE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_mcp_module.h"
#include "json/ngx_http_mcp_json.h"
#include "state/ngx_http_mcp_session.h"
#include "protocol/ngx_http_mcp_methods.h"


/* the longest resource URI a subscription or a publication may name */
#define NGX_HTTP_MCP_SUB_URI_MAX  2048


/* what a notification to listeners says */
typedef enum {
    NGX_HTTP_MCP_NOTE_TOOLS = 0,       /* notifications/tools/list_changed */
    NGX_HTTP_MCP_NOTE_RESOURCES,       /* .../resources/list_changed */
    NGX_HTTP_MCP_NOTE_PROMPTS,         /* .../prompts/list_changed */
    NGX_HTTP_MCP_NOTE_UPDATED          /* .../resources/updated {uri} */
} ngx_http_mcp_note_e;

#define NGX_HTTP_MCP_NOTE_LISTS   3    /* the list_changed kinds */


/* subscriptions/listen (2026): what the stream it opens carries */

struct ngx_http_mcp_listen_s {
    ngx_str_t                   id;         /* the request's id, JSON text */
    ngx_uint_t                  kinds;      /* 1 << ngx_http_mcp_note_e of
                                               the list_changed kinds */
    ngx_uint_t                  nsubs;
    uint64_t                    subs[NGX_HTTP_MCP_SESSION_SUBS];
    ngx_str_t                   ack;        /* the first message, whole */
};


/* resources/subscribe, resources/unsubscribe (2025 sessions) */
ngx_int_t ngx_http_mcp_method_subscribe(ngx_http_mcp_call_t *c);
/* subscriptions/listen (2026): x->listen, the stream transport opens */
ngx_int_t ngx_http_mcp_method_listen(ngx_http_mcp_call_t *c);

/*
 * The notification as JSON-RPC text in pool: for a session's GET stream
 * (listen NULL), or tagged with a listen stream's subscription id
 */
ngx_int_t ngx_http_mcp_notification(ngx_pool_t *pool, ngx_http_mcp_note_e note,
    ngx_str_t *uri, ngx_http_mcp_listen_t *listen, ngx_str_t *out);

/* the response that ends a listen stream gracefully */
ngx_int_t ngx_http_mcp_listen_end(ngx_pool_t *pool,
    ngx_http_mcp_listen_t *listen, ngx_str_t *out);

/*
 * A body POSTed to an mcp_publish location: NGX_OK with *note (and *uri
 * for resources/updated, pointing into the tree), or NGX_DECLINED with
 * the reason in *err (a static string)
 */
ngx_int_t ngx_http_mcp_publish_parse(ngx_http_mcp_json_t *body,
    ngx_http_mcp_note_e *note, ngx_str_t *uri, char **err);


#endif /* _NGX_HTTP_MCP_SUBSCRIBE_H_INCLUDED_ */
