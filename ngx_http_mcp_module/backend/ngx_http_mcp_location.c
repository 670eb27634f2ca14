
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "backend/ngx_http_mcp_location.h"


/*
 * The location backend: `pass URI [timeout=TIME] [max_size=SIZE];` makes
 * an nginx location answer the item.  A call is a POST subrequest of the
 * client's request with a JSON body that describes it; its answer is taken
 * by the body filter of location_stream.c and turned into a neutral result
 * by location_map.c.  nginx posts the client's request when the
 * subrequest has ended, and the call is done.
 */


static char *ngx_http_mcp_location_conf(ngx_conf_t *cf,
    ngx_http_mcp_entry_t *e, ngx_str_t *value, ngx_uint_t n);
static ngx_int_t ngx_http_mcp_location_start(ngx_http_mcp_bcall_t *bc);
static ngx_int_t ngx_http_mcp_location_abort(ngx_http_mcp_bcall_t *bc,
    ngx_uint_t why);
static ngx_array_t *ngx_http_mcp_location_ids(ngx_http_mcp_bcall_t *bc);
static ngx_int_t ngx_http_mcp_location_body(ngx_http_mcp_bcall_t *bc,
    ngx_str_t *body);
static ngx_int_t ngx_http_mcp_location_headers(ngx_http_request_t *r,
    ngx_http_request_t *sr, ngx_array_t *extra, ngx_uint_t forward);
static void ngx_http_mcp_location_wake(ngx_http_request_t *r);
static void ngx_http_mcp_location_cleanup(void *data);
static void ngx_http_mcp_location_cache_control(ngx_http_request_t *sr,
    ngx_http_mcp_location_op_t *op);


ngx_http_mcp_backend_t  ngx_http_mcp_location_backend = {
    ngx_string("pass"),
    1, 3,
    ngx_http_mcp_location_conf,
    NULL,
    ngx_http_mcp_location_start,
    ngx_http_mcp_location_abort,
    0,
    ngx_null_string, 0, NULL
};


static ngx_str_t  ngx_http_mcp_post_method = ngx_string("POST");

static ngx_str_t  ngx_http_mcp_item_headers[] = {
    ngx_string("X-MCP-Tool"),
    ngx_string("X-MCP-Resource"),
    ngx_string("X-MCP-Prompt")
};


static char *
ngx_http_mcp_location_conf(ngx_conf_t *cf, ngx_http_mcp_entry_t *e,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_str_t                 *uri;
    ngx_uint_t                 i;
    ngx_http_mcp_location_t  *l;

    uri = &value[1];

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

    l->origin.len = sizeof("nginx:") - 1 + uri->len;
    l->origin.data = ngx_pnalloc(cf->pool, l->origin.len);
    if (l->origin.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_sprintf(l->origin.data, "nginx:%V", uri);

    for (i = 2; i <= n; i++) {

        switch (ngx_http_mcp_backend_limit(e, &value[i])) {

        case NGX_OK:
            continue;

        case NGX_ERROR:
            goto invalid;

        default:
            break;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" of pass: "
                           "\"timeout=TIME\" or \"max_size=SIZE\" is "
                           "expected", &value[i]);
        return NGX_CONF_ERROR;
    }

    e->conf = l;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid value \"%V\" of pass",
                       &value[i]);
    return NGX_CONF_ERROR;
}


static ngx_int_t
ngx_http_mcp_location_start(ngx_http_mcp_bcall_t *bc)
{
    ngx_str_t                      body;
    ngx_uint_t                     i, *index;
    ngx_pool_cleanup_t            *cln;
    ngx_array_t                   *headers;
    ngx_buf_t                     *b;
    ngx_chain_t                   *cl;
    ngx_http_request_t            *r, *sr;
    ngx_http_request_body_t       *rb;
    ngx_http_mcp_location_t       *loc;
    ngx_http_mcp_location_op_t    *op;
    ngx_http_post_subrequest_t    *ps;
    ngx_http_mcp_main_conf_t      *mmcf;

    r = bc->request;
    loc = bc->entry->conf;

    op = ngx_pcalloc(bc->pool, sizeof(ngx_http_mcp_location_op_t));
    ps = ngx_palloc(bc->pool, sizeof(ngx_http_post_subrequest_t));
    rb = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));
    b = ngx_calloc_buf(r->pool);
    cl = ngx_alloc_chain_link(r->pool);
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (op == NULL || ps == NULL || rb == NULL || b == NULL || cl == NULL
        || cln == NULL)
    {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_mcp_location_cleanup;
    cln->data = op;

    op->bc = bc;
    op->loc = loc;
    bc->ctx = op;

    if (ngx_http_mcp_location_body(bc, &body) != NGX_OK) {
        return NGX_ERROR;
    }

    headers = ngx_http_mcp_location_ids(bc);
    if (headers == NULL) {
        return NGX_ERROR;
    }

    ps->handler = ngx_http_mcp_location_done;
    ps->data = op;

    /* the answer passes through ngx_http_mcp_location_body_filter */

    if (ngx_http_subrequest(r, &loc->uri, NULL, &sr, ps,
                            NGX_HTTP_SUBREQUEST_WAITED)
        != NGX_OK)
    {
        return NGX_ERROR;
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

    if (ngx_http_mcp_location_headers(r, sr, headers,
                                      bc->identity->forward)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    sr->headers_in.content_length_n = body.len;

    /* values the client's headers left in the shared variables */

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mcp_module);
    index = mmcf->header_vars.elts;

    for (i = 0; i < mmcf->header_vars.nelts; i++) {
        sr->variables[index[i]].valid = 0;
        sr->variables[index[i]].not_found = 0;
    }

    /* nginx posts the client's request when the subrequest has ended */

    r->write_event_handler = ngx_http_mcp_location_wake;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, bc->log, 0,
                   "mcp location: call \"%V\" started, %uz bytes",
                   &loc->uri, body.len);

    return NGX_AGAIN;
}


/*
 * The contract of docs/BACKENDS.md: what the call is, in headers of the
 * module's own (the client's X-MCP-* never pass): the item, the request id
 * as JSON text, the session, and the verified caller (subject, tenant,
 * scopes).  NULL on failure.
 */

static ngx_array_t *
ngx_http_mcp_location_ids(ngx_http_mcp_bcall_t *bc)
{
    ngx_pool_t               *pool;
    ngx_array_t              *headers;
    ngx_keyval_t             *kv;
    ngx_http_mcp_jw_t         jw;
    ngx_http_mcp_identity_t  *id;

    pool = bc->request->pool;

    headers = ngx_array_create(pool, 6, sizeof(ngx_keyval_t));
    if (headers == NULL) {
        return NULL;
    }

    kv = ngx_array_push_n(headers, 2);
    if (kv == NULL) {
        return NULL;
    }

    kv[0].key = ngx_http_mcp_item_headers[bc->entry->kind];
    kv[0].value = bc->entry->kind == NGX_HTTP_MCP_ITEM_RESOURCE
                  ? bc->uri : bc->entry->name;

    ngx_str_set(&kv[1].key, "X-MCP-Request-Id");

    if (ngx_http_mcp_jw_init(&jw, pool, 32) != NGX_OK) {
        return NULL;
    }

    if (bc->id) {
        ngx_http_mcp_jw_value(&jw, bc->id);
    }

    if (ngx_http_mcp_jw_finish(&jw, &kv[1].value) != NGX_OK) {
        return NULL;
    }

    if (bc->session.len) {
        kv = ngx_array_push(headers);
        if (kv == NULL) {
            return NULL;
        }

        ngx_str_set(&kv->key, "X-MCP-Session-Id");
        kv->value = bc->session;
    }

    if (bc->traceparent.len) {
        kv = ngx_array_push(headers);
        if (kv == NULL) {
            return NULL;
        }

        ngx_str_set(&kv->key, "traceparent");
        kv->value = bc->traceparent;
    }

    if (bc->tracestate.len) {
        kv = ngx_array_push(headers);
        if (kv == NULL) {
            return NULL;
        }

        ngx_str_set(&kv->key, "tracestate");
        kv->value = bc->tracestate;
    }

    id = bc->identity;

    if (id->method.len == 0) {
        return headers;
    }

    kv = ngx_array_push_n(headers, 3);
    if (kv == NULL) {
        return NULL;
    }

    ngx_str_set(&kv[0].key, "X-MCP-Subject");
    kv[0].value = id->subject;
    ngx_str_set(&kv[1].key, "X-MCP-Tenant");
    kv[1].value = id->tenant;
    ngx_str_set(&kv[2].key, "X-MCP-Scopes");
    kv[2].value = id->scopes;

    return headers;
}


/*
 * What the location receives, one shape per kind of item:
 * {"name":..,"arguments":{..}} (tools, prompts); {"uri":..} and
 * "arguments" with a template's variables (resources); and on a 2026
 * retry "inputResponses" and "requestState" (the backend's own, opened).
 */

static ngx_int_t
ngx_http_mcp_location_body(ngx_http_mcp_bcall_t *bc, ngx_str_t *body)
{
    ngx_uint_t          i;
    ngx_keyval_t       *kv;
    ngx_http_mcp_jw_t   jw;

    if (ngx_http_mcp_jw_init(&jw, bc->pool, 256) != NGX_OK) {
        return NGX_ERROR;
    }

    if (bc->entry->kind == NGX_HTTP_MCP_ITEM_RESOURCE) {
        ngx_http_mcp_jw_literal(&jw, "{\"uri\":");
        ngx_http_mcp_jw_str(&jw, &bc->uri);

        if (bc->variables) {
            ngx_http_mcp_jw_literal(&jw, ",\"arguments\":{");

            kv = bc->variables->elts;

            for (i = 0; i < bc->variables->nelts; i++) {
                if (i) {
                    ngx_http_mcp_jw_literal(&jw, ",");
                }

                ngx_http_mcp_jw_str(&jw, &kv[i].key);
                ngx_http_mcp_jw_literal(&jw, ":");
                ngx_http_mcp_jw_str(&jw, &kv[i].value);
            }

            ngx_http_mcp_jw_literal(&jw, "}");
        }

    } else {
        ngx_http_mcp_jw_literal(&jw, "{\"name\":");
        ngx_http_mcp_jw_str(&jw, &bc->entry->name);
        ngx_http_mcp_jw_literal(&jw, ",\"arguments\":");

        if (bc->arguments) {
            ngx_http_mcp_jw_value(&jw, bc->arguments);

        } else {
            ngx_http_mcp_jw_literal(&jw, "{}");
        }
    }

    if (bc->input_responses) {
        ngx_http_mcp_jw_literal(&jw, ",\"inputResponses\":");
        ngx_http_mcp_jw_value(&jw, bc->input_responses);
    }

    if (bc->request_state) {
        ngx_http_mcp_jw_literal(&jw, ",\"requestState\":");
        ngx_http_mcp_jw_value(&jw, bc->request_state);
    }

    ngx_http_mcp_jw_literal(&jw, "}");

    return ngx_http_mcp_jw_finish(&jw, body);
}


/*
 * The client's headers, without those describing its own body and its
 * traceparent and tracestate (the call's own, a span of the request's
 * trace, replaces them: the tracestate only of a trace continued), then
 * the module's own: the subrequest's list must not share the parent's.
 * The X-MCP-* names belong to the module: a client's header of that prefix
 * never reaches the location, so that X-MCP-Tool, X-MCP-Request-Id,
 * X-MCP-Session-Id and the like are the module's word alone (and the
 * first of its name, which is what $http_x_mcp_* and most backends read).
 */

static ngx_int_t
ngx_http_mcp_location_headers(ngx_http_request_t *r, ngx_http_request_t *sr,
    ngx_array_t *extra, ngx_uint_t forward)
{
    u_char           *p;
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
            || (h[i].key.len == sizeof("traceparent") - 1
                && ngx_strncmp(h[i].lowcase_key, "traceparent",
                               h[i].key.len) == 0)
            || (h[i].key.len == sizeof("tracestate") - 1
                && ngx_strncmp(h[i].lowcase_key, "tracestate",
                               h[i].key.len) == 0)
            || (h[i].key.len > sizeof("mcp-") - 1
                && ngx_strncmp(h[i].lowcase_key, "mcp", 3) == 0
                && (h[i].lowcase_key[3] == '-' || h[i].lowcase_key[3] == '_'))
            || (h[i].key.len > sizeof("x-mcp-") - 1
                && (h[i].lowcase_key[1] == '-' || h[i].lowcase_key[1] == '_')
                && (h[i].lowcase_key[5] == '-' || h[i].lowcase_key[5] == '_')
                && h[i].lowcase_key[0] == 'x'
                && ngx_strncmp(h[i].lowcase_key + 2, "mcp", 3) == 0))
        {
            /* also X_MCP_* under underscores_in_headers (FastCGI's HTTP_) */
            continue;
        }

        /* no token passthrough (MCP authorization), unless told so */

        if (!forward
            && ((h[i].key.len == sizeof("authorization") - 1
                 && ngx_strncmp(h[i].lowcase_key, "authorization",
                                h[i].key.len) == 0)
                || (h[i].key.len == sizeof("x-api-key") - 1
                    && (ngx_strncmp(h[i].lowcase_key, "x-api-key",
                                    h[i].key.len) == 0
                        || ngx_strncmp(h[i].lowcase_key, "x_api_key",
                                       h[i].key.len) == 0))))
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

        /* checked where they come from; a header is never split here */

        for (p = kv[i].value.data; p < kv[i].value.data + kv[i].value.len;
             p++)
        {
            if (*p < 0x20 || *p == 0x7f) {
                return NGX_ERROR;
            }
        }

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

    if (!forward) {
        sr->headers_in.authorization = NULL;
    }

    return NGX_OK;
}


/* the subrequest finalizes: keep what it answered */

ngx_int_t
ngx_http_mcp_location_done(ngx_http_request_t *sr, void *data, ngx_int_t rc)
{
    ngx_http_mcp_location_op_t *op = data;

    u_char            *p;
    ngx_connection_t  *c;

    /*
     * Called on every finalization of the subrequest: an error page or an
     * internal redirect answers after a first status.  The last call, the
     * one before nginx wakes the parent, tells what the location answered.
     */

    op->done = 1;
    op->type.len = 0;
    op->body.len = 0;

    if (op->aborted) {
        op->status = 0;
        return rc;
    }

    c = sr->connection;

    if ((rc == NGX_ERROR || c->error) && !c->read->error && !c->write->error
        && !c->timedout)
    {
        /*
         * A filter of the subrequest failed, not the client's socket (the
         * module's own body filter cannot allocate, say).  Any filter error
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

    ngx_http_mcp_location_cache_control(sr, op);

    /* what the body filter kept */

    if (op->ndjson && !op->too_big) {
        ngx_http_mcp_location_ndjson(sr, op);

    } else {
        op->body.data = op->data;
        op->body.len = op->len;
    }

    return rc;
}


/*
 * How long the answer may be reused, from its Cache-Control: max-age, or
 * 0 (no-store, no-cache, none given); `private` too.  Read from the list
 * of headers, which every nginx version keeps the same way.
 */

static void
ngx_http_mcp_location_cache_control(ngx_http_request_t *sr,
    ngx_http_mcp_location_op_t *op)
{
    u_char           *p, *last;
    ngx_int_t         n;
    ngx_uint_t        i, none;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    op->max_age = 0;
    op->private = 0;
    none = 0;

    part = &sr->headers_out.headers.part;
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

        if (h[i].hash == 0
            || h[i].key.len != sizeof("Cache-Control") - 1
            || ngx_strncasecmp(h[i].key.data, (u_char *) "Cache-Control",
                               h[i].key.len) != 0)
        {
            continue;
        }

        p = h[i].value.data;
        last = p + h[i].value.len;

        if (ngx_strlcasestrn(p, last, (u_char *) "no-store", 8 - 1)
            || ngx_strlcasestrn(p, last, (u_char *) "no-cache", 8 - 1))
        {
            none = 1;
        }

        if (ngx_strlcasestrn(p, last, (u_char *) "private", 7 - 1)) {
            op->private = 1;
        }

        p = ngx_strlcasestrn(p, last, (u_char *) "max-age=", 8 - 1);

        if (p == NULL || (p > h[i].value.data && p[-1] == '-')) {
            continue;                    /* none, or s-maxage= */
        }

        p += 8;

        for (n = 0; p < last && *p >= '0' && *p <= '9'; p++) {
            if (n < 86400 * 365) {
                n = n * 10 + (*p - '0');
            }
        }

        op->max_age = (ngx_msec_t) ngx_min(n, 86400 * 365) * 1000;
    }

    if (none) {
        op->max_age = 0;
    }
}


/*
 * Stops a call in flight: its upstream connection is closed, as nginx does
 * when the client goes away, and the subrequest ends with no answer; nginx
 * then posts the parent as for any answer, with op->aborted set, and the
 * call is done.
 * NGX_DECLINED: no upstream (proxy, fastcgi, grpc, uwsgi, scgi, memcached)
 * runs for it: the handler is another one, which ends on its own;
 * NGX_AGAIN: the request is blocked (a thread, AIO, a proxy_cache_lock
 * wait) and cannot be stopped now.
 */

static ngx_int_t
ngx_http_mcp_location_abort(ngx_http_mcp_bcall_t *bc, ngx_uint_t why)
{
    ngx_int_t                    rc;
    ngx_http_request_t          *sr;
    ngx_http_upstream_t         *u;
    ngx_http_mcp_location_op_t  *op;

    op = bc->ctx;
    sr = op->sr;

    if (sr->done || op->aborted) {
        return NGX_OK;
    }

    if (sr->main->blocked) {
        return NGX_AGAIN;
    }

    u = sr->upstream;

    if (u == NULL || u->cleanup == NULL) {
        return NGX_DECLINED;
    }

    ngx_log_error(NGX_LOG_INFO, sr->connection->log, 0,
                  "mcp: %s the call to \"%V\"",
                  why == NGX_HTTP_MCP_ABORT_TIMEOUT ? "timeout, aborting"
                                                    : "cancelled, aborting",
                  &op->loc->uri);

    op->aborted = why;

    /*
     * The upstream's cleanup closes its connection and finalizes the
     * subrequest with NGX_DONE, which releases a reference to the main
     * request that it does not hold here: one is taken for it.
     */

    sr->main->count++;
    (*u->cleanup)(sr);

    /* then the subrequest ends, as an empty answer */

    rc = NGX_OK;

    if (!sr->header_sent) {
        sr->headers_out.status = NGX_HTTP_GATEWAY_TIME_OUT;
        sr->header_only = 1;
        rc = ngx_http_send_header(sr);
    }

    if (rc != NGX_ERROR) {
        rc = ngx_http_send_special(sr, NGX_HTTP_LAST);
    }

    ngx_http_finalize_request(sr, rc);

    return NGX_OK;
}


/*
 * The client's request is posted: when the subrequest has ended (not only
 * answered: an error_page may follow a first status), the call is done.
 */

static void
ngx_http_mcp_location_wake(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t          *cln;
    ngx_http_mcp_bcall_t        *bc;
    ngx_http_mcp_location_op_t  *op;

    /* the call of this request: the data of its cleanup */

    op = NULL;

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_mcp_location_cleanup) {
            op = cln->data;
            break;
        }
    }

    if (op == NULL || !op->done || !op->sr->done) {
        return;                          /* the location still runs */
    }

    r->write_event_handler = ngx_http_request_empty_handler;

    bc = op->bc;

    if (ngx_http_mcp_location_result(op) != NGX_OK) {
        bc->result.kind = NGX_HTTP_MCP_RESULT_ERROR;
        bc->result.status = 0;
        ngx_str_set(&bc->result.reason, "The backend's answer could not be "
                                        "read");
    }

    bc->result.cancelled = (op->aborted == NGX_HTTP_MCP_ABORT_CANCEL);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, bc->log, 0,
                   "mcp location: call \"%V\" done, status %ui",
                   &op->loc->uri, op->status);

    bc->done(bc);
}


/*
 * The request is freed: the pool of NDJSON lines goes.  It is also how
 * ngx_http_mcp_location_wake() finds the request's call.
 */

static void
ngx_http_mcp_location_cleanup(void *data)
{
    ngx_http_mcp_location_op_t *op = data;

    if (op->scratch) {
        ngx_destroy_pool(op->scratch);
        op->scratch = NULL;
    }
}

