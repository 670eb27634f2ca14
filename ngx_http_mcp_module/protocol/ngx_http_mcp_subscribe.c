
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_mcp_module.h"
#include "protocol/ngx_http_mcp_subscribe.h"


/*
 * What a client asks to hear of, and what it hears: resources/subscribe
 * and resources/unsubscribe keep a 2025 session's resource subscriptions
 * in its record (the store carries them to every worker and replica);
 * subscriptions/listen (2026) names the kinds and URIs a stream of its own
 * carries.  Transport opens the streams and sends what this file writes;
 * an operator's backend says what changed through an mcp_publish location,
 * whose body is checked here too.
 */


#define NGX_HTTP_MCP_SUB_ID  "io.modelcontextprotocol/subscriptionId"


static ngx_int_t ngx_http_mcp_sub_uri(ngx_http_mcp_call_t *c,
    ngx_http_mcp_json_t *uri, ngx_uint_t exists);
static ngx_uint_t ngx_http_mcp_sub_readable(ngx_http_mcp_call_t *c,
    ngx_str_t *uri);


static ngx_str_t  ngx_http_mcp_note_methods[] = {
    ngx_string("notifications/tools/list_changed"),
    ngx_string("notifications/resources/list_changed"),
    ngx_string("notifications/prompts/list_changed"),
    ngx_string("notifications/resources/updated")
};

/* the listen filter's members, in ngx_http_mcp_note_e order */
static char  *ngx_http_mcp_note_filters[] = {
    "toolsListChanged", "resourcesListChanged", "promptsListChanged"
};

/* the kinds of item each list_changed is about */
static ngx_http_mcp_list_e  ngx_http_mcp_note_lists[] = {
    NGX_HTTP_MCP_LIST_TOOLS, NGX_HTTP_MCP_LIST_RESOURCES,
    NGX_HTTP_MCP_LIST_PROMPTS
};


ngx_int_t
ngx_http_mcp_method_subscribe(ngx_http_mcp_call_t *c)
{
    uint64_t                 key, *subs;
    ngx_int_t                rc;
    ngx_uint_t               i, unsubscribe, free;
    ngx_http_mcp_json_t     *uri;

    if (!ngx_http_mcp_has_kind(c, NGX_HTTP_MCP_LIST_RESOURCES)) {
        return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_METHOD_NOT_FOUND,
                                       "Method not found: %V",
                                       &c->msg->method);
    }

    unsubscribe = (c->msg->method.len == sizeof("resources/unsubscribe") - 1);

    uri = ngx_http_mcp_param(c, "uri", NGX_HTTP_MCP_JSON_STRING, 1);
    if (uri == NULL) {
        return NGX_DECLINED;
    }

    /* a resource that went (a reload) can still be unsubscribed from */

    rc = ngx_http_mcp_sub_uri(c, uri, !unsubscribe);
    if (rc != NGX_OK) {
        return rc;
    }

    key = ngx_http_mcp_session_uri_key(&uri->str);
    subs = c->x->session->subs;
    free = NGX_HTTP_MCP_SESSION_SUBS;

    for (i = 0; i < NGX_HTTP_MCP_SESSION_SUBS; i++) {
        if (subs[i] == key) {
            break;
        }

        if (subs[i] == 0 && free == NGX_HTTP_MCP_SESSION_SUBS) {
            free = i;
        }
    }

    if (unsubscribe) {
        if (i < NGX_HTTP_MCP_SESSION_SUBS) {
            ngx_http_mcp_session_change(c->x)->subs[i] = 0;
            c->x->subs_changed = 1;
        }

        return NGX_OK;
    }

    if (i < NGX_HTTP_MCP_SESSION_SUBS) {
        return NGX_OK;                          /* subscribed already */
    }

    if (free == NGX_HTTP_MCP_SESSION_SUBS) {
        return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_INVALID_PARAMS,
                                       "Too many subscriptions: a session "
                                       "has at most %d",
                                       NGX_HTTP_MCP_SESSION_SUBS);
    }

    ngx_http_mcp_session_change(c->x)->subs[free] = key;
    c->x->subs_changed = 1;

    return NGX_OK;
}


/*
 * A URI a client subscribes to: not too long, printable, and (exists) a
 * resource of the catalog this caller may read.  NGX_OK, NGX_DECLINED
 * (c->code set), NGX_ERROR.
 */

static ngx_int_t
ngx_http_mcp_sub_uri(ngx_http_mcp_call_t *c, ngx_http_mcp_json_t *uri,
    ngx_uint_t exists)
{
    size_t                    mark;
    ngx_int_t                 rc;
    ngx_str_t                *vars;
    ngx_http_mcp_access_t     acc;
    ngx_http_mcp_resource_t  *res;

    if (uri->str.len > NGX_HTTP_MCP_SUB_URI_MAX) {
        return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_INVALID_PARAMS,
                                       "Invalid params: uri is longer than "
                                       "%d bytes", NGX_HTTP_MCP_SUB_URI_MAX);
    }

    if (!ngx_http_mcp_uri_printable(&uri->str)) {
        return ngx_http_mcp_not_found(c, &uri->str);
    }

    if (!exists) {
        return NGX_OK;
    }

    /* the resource must exist; what reading it wrote is taken back */

    acc.who = c->x->identity;

    mark = ngx_http_mcp_jw_mark(c->jw);
    rc = ngx_http_mcp_registry_read(c->srv, &uri->str, &acc, c->jw, &res,
                                    &vars);
    ngx_http_mcp_jw_rewind(c->jw, mark);

    if (rc == NGX_DECLINED) {
        return ngx_http_mcp_not_found(c, &uri->str);
    }

    if (rc == NGX_HTTP_MCP_DENIED) {
        return ngx_http_mcp_denied(c, acc.denied);
    }

    return (rc == NGX_AGAIN) ? NGX_OK : rc;     /* a location serves it */
}


/* a resource of the catalog the caller may read, by a URI it sent */

static ngx_uint_t
ngx_http_mcp_sub_readable(ngx_http_mcp_call_t *c, ngx_str_t *uri)
{
    size_t                    mark;
    ngx_int_t                 rc;
    ngx_str_t                *vars;
    ngx_http_mcp_access_t     acc;
    ngx_http_mcp_resource_t  *res;

    if (uri->len > NGX_HTTP_MCP_SUB_URI_MAX
        || !ngx_http_mcp_uri_printable(uri))
    {
        return 0;
    }

    acc.who = c->x->identity;

    mark = ngx_http_mcp_jw_mark(c->jw);
    rc = ngx_http_mcp_registry_read(c->srv, uri, &acc, c->jw, &res, &vars);
    ngx_http_mcp_jw_rewind(c->jw, mark);

    return (rc == NGX_OK || rc == NGX_AGAIN);
}


/*
 * subscriptions/listen {notifications: {toolsListChanged?,
 * resourcesListChanged?, promptsListChanged?, resourceSubscriptions?}}:
 * the kinds this server has, the URIs of resources it has that the caller
 * may read; the acknowledgement says which were taken.  The result
 * written here is never sent: transport opens the stream instead.
 */

ngx_int_t
ngx_http_mcp_method_listen(ngx_http_mcp_call_t *c)
{
    uint64_t                key;
    ngx_uint_t              i, j, n, sep;
    ngx_http_mcp_jw_t       jw;
    ngx_http_mcp_json_t    *nt, *v, *uri;
    ngx_http_mcp_listen_t  *ls;

    nt = ngx_http_mcp_param(c, "notifications", NGX_HTTP_MCP_JSON_OBJECT, 1);
    if (nt == NULL) {
        return NGX_DECLINED;
    }

    ls = ngx_pcalloc(c->x->pool, sizeof(ngx_http_mcp_listen_t));
    if (ls == NULL
        || ngx_http_mcp_jw_init(&jw, c->x->pool, 256) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_mcp_jw_value(&jw, c->msg->id);

    if (ngx_http_mcp_jw_finish(&jw, &ls->id) != NGX_OK) {
        return NGX_ERROR;
    }

    for (i = 0; i < NGX_HTTP_MCP_NOTE_LISTS; i++) {
        v = ngx_http_mcp_json_get(nt, (u_char *) ngx_http_mcp_note_filters[i],
                                  ngx_strlen(ngx_http_mcp_note_filters[i]));

        if (v == NULL) {
            continue;
        }

        if (v->type != NGX_HTTP_MCP_JSON_TRUE
            && v->type != NGX_HTTP_MCP_JSON_FALSE)
        {
            return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_INVALID_PARAMS,
                                           "Invalid params: notifications."
                                           "%s must be a boolean",
                                           ngx_http_mcp_note_filters[i]);
        }

        if (v->type == NGX_HTTP_MCP_JSON_TRUE
            && (ngx_http_mcp_has_kind(c, ngx_http_mcp_note_lists[i])
                || (i == NGX_HTTP_MCP_NOTE_RESOURCES
                    && ngx_http_mcp_has_kind(c, NGX_HTTP_MCP_LIST_TEMPLATES))))
        {
            ls->kinds |= 1 << i;
        }
    }

    v = ngx_http_mcp_json_get(nt, (u_char *) "resourceSubscriptions",
                              sizeof("resourceSubscriptions") - 1);

    if (v && v->type != NGX_HTTP_MCP_JSON_ARRAY) {
        return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_INVALID_PARAMS,
                                       "Invalid params: notifications."
                                       "resourceSubscriptions must be an "
                                       "array of URIs");
    }

    if (v && v->nelts > NGX_HTTP_MCP_SESSION_SUBS) {
        return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_INVALID_PARAMS,
                                       "Too many subscriptions: a stream "
                                       "has at most %d",
                                       NGX_HTTP_MCP_SESSION_SUBS);
    }

    /* the acknowledgement, with the URIs taken */

    if (ngx_http_mcp_jw_init(&jw, c->x->pool, 512) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_mcp_jw_literal(&jw, "{\"jsonrpc\":\"2.0\",\"method\":"
                            "\"notifications/subscriptions/acknowledged\","
                            "\"params\":{\"_meta\":{\"" NGX_HTTP_MCP_SUB_ID
                            "\":");
    ngx_http_mcp_jw_raw(&jw, ls->id.data, ls->id.len);
    ngx_http_mcp_jw_literal(&jw, "},\"notifications\":{");

    sep = 0;

    for (i = 0; i < NGX_HTTP_MCP_NOTE_LISTS; i++) {
        if (ls->kinds & (1 << i)) {
            if (sep++) {
                ngx_http_mcp_jw_literal(&jw, ",");
            }

            ngx_http_mcp_jw_literal(&jw, "\"");
            ngx_http_mcp_jw_raw(&jw, (u_char *) ngx_http_mcp_note_filters[i],
                                ngx_strlen(ngx_http_mcp_note_filters[i]));
            ngx_http_mcp_jw_literal(&jw, "\":true");
        }
    }

    n = 0;

    for (uri = v ? v->first : NULL; uri; uri = uri->next) {

        if (uri->type != NGX_HTTP_MCP_JSON_STRING) {
            return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_INVALID_PARAMS,
                                           "Invalid params: notifications."
                                           "resourceSubscriptions must be "
                                           "an array of URIs");
        }

        /* one the caller may not have: not taken, not an error */

        if (!ngx_http_mcp_sub_readable(c, &uri->str)) {
            continue;
        }

        key = ngx_http_mcp_session_uri_key(&uri->str);

        for (j = 0; j < n; j++) {
            if (ls->subs[j] == key) {
                break;
            }
        }

        if (j < n) {
            continue;
        }

        if (n) {
            ngx_http_mcp_jw_literal(&jw, ",");

        } else {
            if (sep) {
                ngx_http_mcp_jw_literal(&jw, ",");
            }

            ngx_http_mcp_jw_literal(&jw, "\"resourceSubscriptions\":[");
        }

        ls->subs[n++] = key;
        ngx_http_mcp_jw_string(&jw, uri->str.data, uri->str.len);
    }

    ls->nsubs = n;

    if (n) {
        ngx_http_mcp_jw_literal(&jw, "]");
    }

    ngx_http_mcp_jw_literal(&jw, "}}}");

    if (ngx_http_mcp_jw_finish(&jw, &ls->ack) != NGX_OK) {
        return NGX_ERROR;
    }

    c->x->listen = ls;

    return NGX_OK;
}


ngx_int_t
ngx_http_mcp_notification(ngx_pool_t *pool, ngx_http_mcp_note_e note,
    ngx_str_t *uri, ngx_http_mcp_listen_t *listen, ngx_str_t *out)
{
    ngx_http_mcp_jw_t  jw;

    if (ngx_http_mcp_jw_init(&jw, pool, 128 + (uri ? uri->len : 0)) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_mcp_jw_literal(&jw, "{\"jsonrpc\":\"2.0\",\"method\":\"");
    ngx_http_mcp_jw_raw(&jw, ngx_http_mcp_note_methods[note].data,
                        ngx_http_mcp_note_methods[note].len);
    ngx_http_mcp_jw_literal(&jw, "\"");

    if (listen || note == NGX_HTTP_MCP_NOTE_UPDATED) {
        ngx_http_mcp_jw_literal(&jw, ",\"params\":{");

        if (listen) {
            ngx_http_mcp_jw_literal(&jw, "\"_meta\":{\"" NGX_HTTP_MCP_SUB_ID
                                    "\":");
            ngx_http_mcp_jw_raw(&jw, listen->id.data, listen->id.len);
            ngx_http_mcp_jw_literal(&jw, "}");
        }

        if (note == NGX_HTTP_MCP_NOTE_UPDATED) {
            if (listen) {
                ngx_http_mcp_jw_literal(&jw, ",");
            }

            ngx_http_mcp_jw_literal(&jw, "\"uri\":");
            ngx_http_mcp_jw_string(&jw, uri->data, uri->len);
        }

        ngx_http_mcp_jw_literal(&jw, "}");
    }

    ngx_http_mcp_jw_literal(&jw, "}");

    return ngx_http_mcp_jw_finish(&jw, out);
}


ngx_int_t
ngx_http_mcp_listen_end(ngx_pool_t *pool, ngx_http_mcp_listen_t *listen,
    ngx_str_t *out)
{
    ngx_http_mcp_jw_t  jw;

    if (ngx_http_mcp_jw_init(&jw, pool, 160 + 2 * listen->id.len) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_mcp_jw_literal(&jw, "{\"jsonrpc\":\"2.0\",\"id\":");
    ngx_http_mcp_jw_raw(&jw, listen->id.data, listen->id.len);
    ngx_http_mcp_jw_literal(&jw, ",\"result\":{\"resultType\":\"complete\","
                            "\"_meta\":{\"" NGX_HTTP_MCP_SUB_ID "\":");
    ngx_http_mcp_jw_raw(&jw, listen->id.data, listen->id.len);
    ngx_http_mcp_jw_literal(&jw, "}}}");

    return ngx_http_mcp_jw_finish(&jw, out);
}


/*
 * {"jsonrpc":"2.0"?, "method": one of the four, "params": {...}}: a
 * notification (no id), nothing else at the top; resources/updated needs
 * params.uri, a printable string of at most NGX_HTTP_MCP_SUB_URI_MAX
 * bytes; params may carry _meta (not passed on), nothing else.
 */

ngx_int_t
ngx_http_mcp_publish_parse(ngx_http_mcp_json_t *body,
    ngx_http_mcp_note_e *note, ngx_str_t *uri, char **err)
{
    ngx_uint_t            i;
    ngx_http_mcp_json_t  *v, *method, *params;

    if (body->type != NGX_HTTP_MCP_JSON_OBJECT) {
        *err = "the notification must be a JSON object";
        return NGX_DECLINED;
    }

    method = NULL;
    params = NULL;

    for (v = body->first; v; v = v->next) {

        if (v->key.len == 7 && ngx_strncmp(v->key.data, "jsonrpc", 7) == 0) {
            if (v->type != NGX_HTTP_MCP_JSON_STRING || v->str.len != 3
                || ngx_strncmp(v->str.data, "2.0", 3) != 0)
            {
                *err = "\"jsonrpc\" must be \"2.0\"";
                return NGX_DECLINED;
            }

        } else if (v->key.len == 6
                   && ngx_strncmp(v->key.data, "method", 6) == 0)
        {
            method = v;

        } else if (v->key.len == 6
                   && ngx_strncmp(v->key.data, "params", 6) == 0)
        {
            params = v;

        } else if (v->key.len == 2 && ngx_strncmp(v->key.data, "id", 2) == 0) {
            *err = "a notification has no \"id\"";
            return NGX_DECLINED;

        } else {
            *err = "unknown member: only \"jsonrpc\", \"method\" and "
                   "\"params\" are allowed";
            return NGX_DECLINED;
        }
    }

    if (method == NULL || method->type != NGX_HTTP_MCP_JSON_STRING) {
        *err = "\"method\" must be a string";
        return NGX_DECLINED;
    }

    for (i = 0; i <= NGX_HTTP_MCP_NOTE_UPDATED; i++) {
        if (method->str.len == ngx_http_mcp_note_methods[i].len
            && ngx_strncmp(method->str.data, ngx_http_mcp_note_methods[i].data,
                           method->str.len)
               == 0)
        {
            break;
        }
    }

    if (i > NGX_HTTP_MCP_NOTE_UPDATED) {
        *err = "\"method\" must be notifications/resources/updated or "
               "notifications/{tools,resources,prompts}/list_changed";
        return NGX_DECLINED;
    }

    *note = i;

    if (params && params->type != NGX_HTTP_MCP_JSON_OBJECT) {
        *err = "\"params\" must be an object";
        return NGX_DECLINED;
    }

    ngx_str_null(uri);

    for (v = params ? params->first : NULL; v; v = v->next) {

        if (v->key.len == 5 && ngx_strncmp(v->key.data, "_meta", 5) == 0) {
            continue;
        }

        if (i == NGX_HTTP_MCP_NOTE_UPDATED
            && v->key.len == 3 && ngx_strncmp(v->key.data, "uri", 3) == 0)
        {
            if (v->type != NGX_HTTP_MCP_JSON_STRING || v->str.len == 0
                || v->str.len > NGX_HTTP_MCP_SUB_URI_MAX
                || !ngx_http_mcp_uri_printable(&v->str))
            {
                *err = "\"params.uri\" must be a URI: a non-empty string "
                       "of printable characters, at most 2048 bytes";
                return NGX_DECLINED;
            }

            *uri = v->str;
            continue;
        }

        *err = "unknown member of \"params\"";
        return NGX_DECLINED;
    }

    if (i == NGX_HTTP_MCP_NOTE_UPDATED && uri->len == 0) {
        *err = "notifications/resources/updated needs \"params.uri\"";
        return NGX_DECLINED;
    }

    return NGX_OK;
}
