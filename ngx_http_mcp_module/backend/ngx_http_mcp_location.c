
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "backend/ngx_http_mcp_location.h"
#include "backend/ngx_http_mcp_static.h"


static ngx_int_t ngx_http_mcp_location_done(ngx_http_request_t *sr,
    void *data, ngx_int_t rc);
static ngx_int_t ngx_http_mcp_location_headers(ngx_http_request_t *r,
    ngx_http_request_t *sr, ngx_array_t *extra);
static void ngx_http_mcp_location_error(ngx_http_mcp_location_op_t *op,
    ngx_http_mcp_jw_t *jw);


static ngx_str_t  ngx_http_mcp_post_method = ngx_string("POST");


char *
ngx_http_mcp_location_conf(ngx_conf_t *cf, ngx_str_t *uri,
    ngx_http_mcp_location_t **loc)
{
    ngx_http_mcp_location_t  *l;

    if (uri->len == 0 || uri->data[0] != '/') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid pass \"%V\": a location URI starting "
                           "with \"/\" is expected", uri);
        return NGX_CONF_ERROR;
    }

    l = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_location_t));
    if (l == NULL) {
        return NGX_CONF_ERROR;
    }

    l->uri = *uri;
    *loc = l;

    return NGX_CONF_OK;
}


ngx_http_mcp_location_op_t *
ngx_http_mcp_location_start(ngx_http_request_t *r,
    ngx_http_mcp_location_t *loc, ngx_http_mcp_location_call_t *call)
{
    ngx_str_t                      body;
    ngx_array_t                   *headers;
    ngx_keyval_t                  *kv;
    ngx_http_mcp_jw_t              jw;
    ngx_buf_t                     *b;
    ngx_chain_t                   *cl;
    ngx_http_request_t            *sr;
    ngx_http_request_body_t       *rb;
    ngx_http_mcp_location_op_t    *op;
    ngx_http_post_subrequest_t    *ps;

    op = ngx_pcalloc(r->pool, sizeof(ngx_http_mcp_location_op_t));
    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    rb = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));
    b = ngx_calloc_buf(r->pool);
    cl = ngx_alloc_chain_link(r->pool);

    if (op == NULL || ps == NULL || rb == NULL || b == NULL || cl == NULL) {
        return NULL;
    }

    op->loc = loc;

    /* the contract of docs/BACKENDS.md */

    if (ngx_http_mcp_jw_init(&jw, r->pool, 256) != NGX_OK) {
        return NULL;
    }

    ngx_http_mcp_jw_literal(&jw, "{\"name\":");
    ngx_http_mcp_jw_str(&jw, &call->name);
    ngx_http_mcp_jw_literal(&jw, ",\"arguments\":");

    if (call->arguments) {
        ngx_http_mcp_jw_value(&jw, call->arguments);

    } else {
        ngx_http_mcp_jw_literal(&jw, "{}");
    }

    ngx_http_mcp_jw_literal(&jw, "}");

    if (ngx_http_mcp_jw_finish(&jw, &body) != NGX_OK) {
        return NULL;
    }

    headers = ngx_array_create(r->pool, 3, sizeof(ngx_keyval_t));
    if (headers == NULL) {
        return NULL;
    }

    kv = ngx_array_push_n(headers, 2);
    if (kv == NULL) {
        return NULL;
    }

    ngx_str_set(&kv[0].key, "X-MCP-Tool");
    kv[0].value = call->name;

    ngx_str_set(&kv[1].key, "X-MCP-Request-Id");

    if (ngx_http_mcp_jw_init(&jw, r->pool, 32) != NGX_OK) {
        return NULL;
    }

    if (call->id) {
        ngx_http_mcp_jw_value(&jw, call->id);
    }

    if (ngx_http_mcp_jw_finish(&jw, &kv[1].value) != NGX_OK) {
        return NULL;
    }

    if (call->session.len) {
        kv = ngx_array_push(headers);
        if (kv == NULL) {
            return NULL;
        }

        ngx_str_set(&kv->key, "X-MCP-Session-Id");
        kv->value = call->session;
    }

    ps->handler = ngx_http_mcp_location_done;
    ps->data = op;

    if (ngx_http_subrequest(r, &loc->uri, NULL, &sr, ps,
                            NGX_HTTP_SUBREQUEST_IN_MEMORY
                            |NGX_HTTP_SUBREQUEST_WAITED)
        != NGX_OK)
    {
        return NULL;
    }

    op->sr = sr;

    /* a POST of the call, whatever the client's request looked like */

    b->pos = body.data;
    b->last = body.data + body.len;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    cl->buf = b;
    cl->next = NULL;

    rb->bufs = cl;

    sr->request_body = rb;
    sr->method = NGX_HTTP_POST;
    sr->method_name = ngx_http_mcp_post_method;

    if (ngx_http_mcp_location_headers(r, sr, headers) != NGX_OK) {
        return NULL;
    }

    sr->headers_in.content_length_n = body.len;

    return op;
}


/*
 * The client's headers, without those describing its own body, plus the
 * MCP ones: the subrequest's list must not share the parent's.
 */

static ngx_int_t
ngx_http_mcp_location_headers(ngx_http_request_t *r, ngx_http_request_t *sr,
    ngx_array_t *extra)
{
    ngx_uint_t        i, n;
    ngx_keyval_t     *kv;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *nh;

    n = (extra ? extra->nelts : 0) + 8;

    if (ngx_list_init(&sr->headers_in.headers, r->pool, n,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if ((h[i].key.len == sizeof("content-length") - 1
             && ngx_strncmp(h[i].lowcase_key, "content-length",
                            h[i].key.len) == 0)
            || (h[i].key.len == sizeof("transfer-encoding") - 1
                && ngx_strncmp(h[i].lowcase_key, "transfer-encoding",
                               h[i].key.len) == 0)
            || (h[i].key.len > sizeof("mcp-") - 1
                && ngx_strncmp(h[i].lowcase_key, "mcp-", 4) == 0))
        {
            continue;
        }

        nh = ngx_list_push(&sr->headers_in.headers);
        if (nh == NULL) {
            return NGX_ERROR;
        }

        *nh = h[i];
    }

    kv = extra ? extra->elts : NULL;

    for (i = 0; extra && i < extra->nelts; i++) {
        nh = ngx_list_push(&sr->headers_in.headers);
        if (nh == NULL) {
            return NGX_ERROR;
        }

        nh->hash = 1;
        nh->key = kv[i].key;
        nh->value = kv[i].value;

        nh->lowcase_key = ngx_pnalloc(r->pool, kv[i].key.len);
        if (nh->lowcase_key == NULL) {
            return NGX_ERROR;
        }

        ngx_strlow(nh->lowcase_key, kv[i].key.data, kv[i].key.len);
    }

    sr->headers_in.content_length = NULL;
    sr->headers_in.transfer_encoding = NULL;
    sr->headers_in.chunked = 0;

    return NGX_OK;
}


/* the subrequest finalizes: keep what it answered */

static ngx_int_t
ngx_http_mcp_location_done(ngx_http_request_t *sr, void *data, ngx_int_t rc)
{
    ngx_http_mcp_location_op_t *op = data;

    u_char            *p;
    size_t             len;
    ngx_buf_t         *b;
    ngx_chain_t       *cl;
    ngx_connection_t  *c;

    /*
     * Called on every finalization of the subrequest: an error page or an
     * internal redirect answers after a first status.  The last call, the
     * one before nginx wakes the parent, tells what the location answered.
     */

    op->done = 1;
    op->type.len = 0;
    op->body.len = 0;

    c = sr->connection;

    if ((rc == NGX_ERROR || c->error) && !c->read->error && !c->write->error
        && !c->timedout)
    {
        /*
         * A filter of the subrequest failed, not the client's socket: an
         * answer over subrequest_output_buffer_size, say.  Any filter error
         * marks the shared client connection (ngx_http_output_filter()),
         * which would terminate the client's request with the subrequest;
         * the call gets a tool error instead.
         */

        c->error = 0;
        op->status = 0;

        return NGX_OK;
    }

    if (rc == NGX_ERROR || sr->connection->error
        || sr->headers_out.status == 0)
    {
        op->status = (rc >= NGX_HTTP_SPECIAL_RESPONSE) ? (ngx_uint_t) rc : 0;
        return rc;
    }

    op->status = sr->headers_out.status;

    op->type = sr->headers_out.content_type;

    p = ngx_strlchr(op->type.data, op->type.data + op->type.len, ';');
    if (p) {
        op->type.len = p - op->type.data;
    }

    while (op->type.len && op->type.data[op->type.len - 1] == ' ') {
        op->type.len--;
    }

    /* one buffer in practice (subrequest_output_buffer_size caps it) */

    len = 0;

    for (cl = sr->out; cl; cl = cl->next) {
        b = cl->buf;
        len += b->last - b->pos;
    }

    if (sr->out && sr->out->next == NULL) {
        op->body.data = sr->out->buf->pos;
        op->body.len = len;
        return rc;
    }

    p = ngx_pnalloc(sr->pool, len);
    if (p == NULL) {
        op->status = 0;
        return rc;
    }

    op->body.data = p;
    op->body.len = len;

    for (cl = sr->out; cl; cl = cl->next) {
        b = cl->buf;
        p = ngx_cpymem(p, b->pos, b->last - b->pos);
    }

    return rc;
}


ngx_int_t
ngx_http_mcp_location_result(ngx_http_mcp_location_op_t *op,
    ngx_pool_t *pool, ngx_uint_t object_only, ngx_http_mcp_jw_t *jw,
    ngx_uint_t *input_required, ngx_http_mcp_json_t **meta)
{
    ngx_int_t             rc;
    ngx_str_t            *type, err;
    ngx_uint_t            n;
    ngx_http_mcp_json_t  *v, *m, *rt;

    *input_required = 0;
    *meta = NULL;

    if (op->status < NGX_HTTP_OK || op->status >= NGX_HTTP_SPECIAL_RESPONSE) {
        ngx_http_mcp_location_error(op, jw);
        return NGX_OK;
    }

    type = &op->type;

    if ((type->len == sizeof("application/json") - 1
         && ngx_strncasecmp(type->data, (u_char *) "application/json",
                            type->len) == 0)
        || (type->len > sizeof("+json") - 1
            && ngx_strncasecmp(type->data + type->len - 5, (u_char *) "+json",
                               5) == 0))
    {
        rc = ngx_http_mcp_json_parse(pool, op->body.data, op->body.len, NULL,
                                     &v, &err);
        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_DECLINED) {
            ngx_http_mcp_jw_literal(jw, "\"content\":[{\"type\":\"text\","
                                        "\"text\":\"The tool's backend "
                                        "answered invalid JSON: ");
            ngx_http_mcp_jw_escaped(jw, err.data, err.len);
            ngx_http_mcp_jw_literal(jw, "\"}],\"isError\":true");
            return NGX_OK;
        }

        /* a CallToolResult (or an input_required result): its members */

        m = ngx_http_mcp_json_member(v, "content");
        rt = ngx_http_mcp_json_member(v, "resultType");

        if (rt && rt->type == NGX_HTTP_MCP_JSON_STRING
            && rt->str.len == sizeof("input_required") - 1
            && ngx_strncmp(rt->str.data, "input_required", rt->str.len) == 0)
        {
            if (object_only) {
                ngx_http_mcp_jw_literal(jw, "\"content\":[{\"type\":\"text\","
                                            "\"text\":\"The tool needs input "
                                            "from the client, which takes "
                                            "protocol revision 2026-07-28\"}],"
                                            "\"isError\":true");
                return NGX_OK;
            }

            *input_required = 1;

        } else if (m == NULL || m->type != NGX_HTTP_MCP_JSON_ARRAY) {
            goto any;
        }

        /* a CallToolResult or an input_required result: its members */

        n = 0;

        for (m = v->first; m; m = m->next) {

            if (m == rt) {
                continue;                /* written by dispatch */
            }

            if (m->key.len == sizeof("_meta") - 1
                && ngx_strncmp(m->key.data, "_meta", m->key.len) == 0
                && m->type == NGX_HTTP_MCP_JSON_OBJECT)
            {
                *meta = m;               /* dispatch adds its own to it */
                continue;
            }

            if (n++) {
                ngx_http_mcp_jw_literal(jw, ",");
            }

            ngx_http_mcp_jw_str(jw, &m->key);
            ngx_http_mcp_jw_literal(jw, ":");
            ngx_http_mcp_jw_value(jw, m);
        }

        return NGX_OK;

    any:

        /* any other JSON: a text rendering, and structured when it can be */

        ngx_http_mcp_jw_literal(jw, "\"content\":[{\"type\":\"text\","
                                    "\"text\":\"");
        ngx_http_mcp_jw_escaped(jw, op->body.data, op->body.len);
        ngx_http_mcp_jw_literal(jw, "\"}]");

        if (v->type == NGX_HTTP_MCP_JSON_OBJECT || !object_only) {
            ngx_http_mcp_jw_literal(jw, ",\"structuredContent\":");
            ngx_http_mcp_jw_value(jw, v);
        }

        return NGX_OK;
    }

    /* image/... and audio/...: one item of that kind, named as the type */

    if (type->len > sizeof("image/") - 1
        && (ngx_strncasecmp(type->data, (u_char *) "image/", 6) == 0
            || ngx_strncasecmp(type->data, (u_char *) "audio/", 6) == 0))
    {
        if (ngx_strncasecmp(type->data, (u_char *) "audio/", 6) == 0) {
            ngx_http_mcp_jw_literal(jw, "\"content\":[{\"type\":\"audio\",");

        } else {
            ngx_http_mcp_jw_literal(jw, "\"content\":[{\"type\":\"image\",");
        }

        ngx_http_mcp_jw_literal(jw, "\"data\":");
        ngx_http_mcp_jw_base64(jw, op->body.data, op->body.len);
        ngx_http_mcp_jw_literal(jw, ",\"mimeType\":");
        ngx_http_mcp_jw_str(jw, type);
        ngx_http_mcp_jw_literal(jw, "}]");
        return NGX_OK;
    }

    if (type->len == 0 || ngx_http_mcp_static_textual(type)) {
        ngx_http_mcp_jw_literal(jw, "\"content\":[{\"type\":\"text\","
                                    "\"text\":");
        ngx_http_mcp_jw_string(jw, op->body.data, op->body.len);
        ngx_http_mcp_jw_literal(jw, "}]");
        return NGX_OK;
    }

    /* anything else travels as an embedded binary resource */

    ngx_http_mcp_jw_literal(jw, "\"content\":[{\"type\":\"resource\","
                                "\"resource\":{\"uri\":\"nginx:");
    ngx_http_mcp_jw_escaped(jw, op->loc->uri.data, op->loc->uri.len);
    ngx_http_mcp_jw_literal(jw, "\",\"mimeType\":");
    ngx_http_mcp_jw_str(jw, type);
    ngx_http_mcp_jw_literal(jw, ",\"blob\":");
    ngx_http_mcp_jw_base64(jw, op->body.data, op->body.len);
    ngx_http_mcp_jw_literal(jw, "}}]");

    return NGX_OK;
}


/* HTTP errors, timeouts, refused upstreams: a tool error the model sees */

static void
ngx_http_mcp_location_error(ngx_http_mcp_location_op_t *op,
    ngx_http_mcp_jw_t *jw)
{
    size_t      len;
    const char *why;

    switch (op->status) {

    case 0:
        why = "The tool's backend failed to answer (its response may be "
              "larger than subrequest_output_buffer_size)";
        break;

    case NGX_HTTP_GATEWAY_TIME_OUT:
        why = "The tool's backend timed out (HTTP 504)";
        break;

    case NGX_HTTP_BAD_GATEWAY:
        why = "The tool's backend is unreachable (HTTP 502)";
        break;

    case NGX_HTTP_SERVICE_UNAVAILABLE:
        why = "The tool's backend is unavailable (HTTP 503)";
        break;

    default:
        why = NULL;
    }

    ngx_http_mcp_jw_literal(jw, "\"content\":[{\"type\":\"text\",\"text\":\"");

    if (why) {
        ngx_http_mcp_jw_raw(jw, (u_char *) why, ngx_strlen(why));

    } else {
        ngx_http_mcp_jw_literal(jw, "The tool's backend answered HTTP ");
        ngx_http_mcp_jw_int(jw, op->status);

        /* a short text answer explains itself */

        if (op->body.len && ngx_http_mcp_static_textual(&op->type)
            && !(op->type.len == sizeof("text/html") - 1
                 && ngx_strncasecmp(op->type.data, (u_char *) "text/html",
                                    op->type.len) == 0))
        {
            len = ngx_min(op->body.len, 512);

            ngx_http_mcp_jw_literal(jw, ": ");
            ngx_http_mcp_jw_escaped(jw, op->body.data, len);
        }
    }

    ngx_http_mcp_jw_literal(jw, "\"}],\"isError\":true");
}
