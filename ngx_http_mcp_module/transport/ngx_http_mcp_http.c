
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/crypto.h>

#include "ngx_http_mcp_module.h"
#include "transport/ngx_http_mcp_http.h"
#include "state/ngx_http_mcp_session.h"
#include "state/ngx_http_mcp_store.h"
#include "state/ngx_http_mcp_mailbox.h"
#include "state/ngx_http_mcp_events.h"
#include "json/ngx_http_mcp_json.h"
#include "protocol/ngx_http_mcp_jsonrpc.h"
#include "protocol/ngx_http_mcp_dispatch.h"
#include "transport/ngx_http_mcp_call.h"
#include "transport/ngx_http_mcp_ask.h"
#include "transport/ngx_http_mcp_stream.h"
#include "auth/ngx_http_mcp_auth.h"
#include "limit/ngx_http_mcp_limit.h"
#include "observe/ngx_http_mcp_observe.h"




static void ngx_http_mcp_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_mcp_process(ngx_http_request_t *r);
static ngx_int_t ngx_http_mcp_looked_up(ngx_http_request_t *r,
    ngx_int_t rc);
static ngx_int_t ngx_http_mcp_answer(ngx_http_request_t *r);
static void ngx_http_mcp_observe_body(ngx_http_request_t *r,
    ngx_http_mcp_exchange_t *x);
static void ngx_http_mcp_limit_handler(ngx_http_request_t *r, ngx_int_t rc);
static ngx_int_t ngx_http_mcp_limited(ngx_http_request_t *r, ngx_int_t rc);
static void ngx_http_mcp_delayed(ngx_http_request_t *r);
static ngx_int_t ngx_http_mcp_run(ngx_http_request_t *r);
static ngx_int_t ngx_http_mcp_stored(ngx_http_request_t *r, ngx_int_t rc);
static ngx_int_t ngx_http_mcp_delete(ngx_http_request_t *r,
    ngx_http_mcp_loc_conf_t *mlcf);
static ngx_int_t ngx_http_mcp_deleted(ngx_http_request_t *r, ngx_int_t rc);
static void ngx_http_mcp_lookup_handler(void *data, ngx_int_t rc);
static void ngx_http_mcp_store_handler(void *data, ngx_int_t rc);
static void ngx_http_mcp_delete_handler(void *data, ngx_int_t rc);
static ngx_int_t ngx_http_mcp_reject(ngx_http_request_t *r,
    ngx_uint_t status, char *message);


ngx_int_t
ngx_http_mcp_transport_init_process(ngx_cycle_t *cycle)
{
    ngx_http_mcp_mailbox_subscribe(NGX_HTTP_MCP_LETTER_CANCEL,
                                   ngx_http_mcp_call_cancel_local);
    ngx_http_mcp_mailbox_subscribe(NGX_HTTP_MCP_LETTER_EVENT,
                                   ngx_http_mcp_stream_event);
    ngx_http_mcp_mailbox_subscribe(NGX_HTTP_MCP_LETTER_ANSWER,
                                   ngx_http_mcp_ask_letter);

    return ngx_http_mcp_streams_init_process(cycle);
}


ngx_int_t
ngx_http_mcp_handler(ngx_http_request_t *r)
{
    ngx_int_t                 rc;
    ngx_http_mcp_obs_t       *obs;
    ngx_http_mcp_ctx_t       *ctx;
    ngx_http_mcp_loc_conf_t  *mlcf;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mcp handler: %V", &r->method_name);

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    /* what the request does is seen from its start (observe/) */

    obs = ngx_http_mcp_observe(r);
    if (obs == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_mcp_trace_begin(r, obs);

    if (ngx_http_mcp_check_peer(r, mlcf) != NGX_OK) {

        return ngx_http_mcp_reject(r, NGX_HTTP_FORBIDDEN,
                                   "Forbidden: origin or host not allowed");
    }

    switch (r->method) {

    case NGX_HTTP_POST:
        break;

    case NGX_HTTP_DELETE:
        return ngx_http_mcp_delete(r, mlcf);

    case NGX_HTTP_GET:
        return ngx_http_mcp_get(r, mlcf);

    default:

        if (ngx_http_mcp_add_header(r, "Allow",
                                    (u_char *) "GET, POST, DELETE",
                                    sizeof("GET, POST, DELETE") - 1)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_mcp_reject(r, NGX_HTTP_NOT_ALLOWED,
                                   "Method not allowed");
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_mcp_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_mcp_module);

    ctx->accept = ngx_http_mcp_accept(r);

    if (ctx->accept == 0) {
        return ngx_http_mcp_reject(r, NGX_HTTP_MCP_NOT_ACCEPTABLE,
                                   "Not Acceptable: the client must accept "
                                   "application/json or text/event-stream");
    }

    if (!ngx_http_mcp_json_content(r)) {
        return ngx_http_mcp_reject(r, NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                   "Unsupported Media Type: Content-Type must "
                                   "be application/json");
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_mcp_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_mcp_body_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mcp body handler: %O bytes",
                   r->headers_in.content_length_n);

    rc = ngx_http_mcp_process(r);

    if (rc == NGX_DONE) {
        /*
         * the answer comes later, and finalizes: from a store's answer
         * (ngx_http_mcp_store_resume()), or, when a backend runs, from
         * ngx_http_mcp_call_done() in transport/ngx_http_mcp_call.c
         */
        return;
    }

    ngx_http_finalize_request(r, rc);
}


/*
 * A POST runs in steps: parse (ngx_http_mcp_process), session lookup,
 * dispatch (ngx_http_mcp_answer), session create or update, send.  Each
 * session store operation answers at once or returns NGX_AGAIN and calls
 * back later (state/ngx_http_mcp_store.h).  Either way its answer goes to
 * one and the same next step, ngx_http_mcp_looked_up(),
 * ngx_http_mcp_stored() or ngx_http_mcp_deleted(): called directly for an
 * answer at once, or by a thin handler that only finalizes with what the
 * step returns (ngx_http_mcp_store_resume).  The shared-memory store
 * always answers at once, so every test runs the steps on that path;
 * only the handlers and ngx_http_mcp_store_wait() need a store that
 * waits, and t/034-session-store.t loads a test-only one (t/store/,
 * never built into the module).  A step returns what the request
 * finalizes with, or NGX_DONE when the answer comes later; meanwhile the
 * request lives on the count that reading the body took (DELETE takes its
 * own).
 */

static ngx_int_t
ngx_http_mcp_process(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_str_t                    body, err;
    ngx_http_mcp_ctx_t          *ctx;
    ngx_http_mcp_json_t         *id;
    ngx_http_mcp_loc_conf_t     *mlcf;
    ngx_http_mcp_exchange_t     *x;
    ngx_http_mcp_store_ref_t    *st;
    ngx_http_mcp_json_limits_t   limits;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    rc = ngx_http_mcp_read_body(r, &body);
    if (rc != NGX_OK) {
        return rc;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_module);
    x = &ctx->x;

    x->pool = r->pool;
    x->log = r->connection->log;
    x->conf = mlcf;
    x->identity = ngx_http_mcp_auth_identity(r);

    limits.max_depth = mlcf->max_depth;
    limits.max_members = mlcf->max_members;
    limits.max_string = mlcf->max_string;
    limits.max_values = mlcf->max_values;
    limits.in_place = 1;           /* the body lives in r->pool, as the tree */

    rc = ngx_http_mcp_json_parse(r->pool, body.data, body.len, &limits,
                                 &x->body, &err);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp: invalid JSON: %V", &err);

        return ngx_http_mcp_fail(r, NGX_HTTP_BAD_REQUEST, NULL,
                                 NGX_HTTP_MCP_PARSE_ERROR, "Parse error: ",
                                 &err);
    }

    id = NULL;

    if (x->body->type == NGX_HTTP_MCP_JSON_OBJECT) {
        id = ngx_http_mcp_json_member(x->body, "id");

        if (id && id->type != NGX_HTTP_MCP_JSON_STRING
            && id->type != NGX_HTTP_MCP_JSON_INTEGER)
        {
            id = NULL;
        }

    } else if (x->body->type != NGX_HTTP_MCP_JSON_ARRAY) {
        return ngx_http_mcp_fail(r, NGX_HTTP_BAD_REQUEST, NULL,
                                 NGX_HTTP_MCP_INVALID_REQUEST,
                                 "Invalid Request: a JSON-RPC message must "
                                 "be an object", NULL);
    }

    ctx->id = id;

    ngx_http_mcp_read_headers(r, x);

    x->era = ngx_http_mcp_dispatch_era(x);

    ngx_http_mcp_observe_body(r, x);

    if (x->era != NGX_HTTP_MCP_ERA_SESSION) {
        return ngx_http_mcp_answer(r);
    }

    st = mlcf->session_store;

    rc = st->store->lookup(st, &x->h_session, mlcf->session_timeout,
                           r->pool, &ctx->session,
                           ngx_http_mcp_lookup_handler, r);

    if (rc == NGX_AGAIN) {
        return ngx_http_mcp_store_wait(r);
    }

    return ngx_http_mcp_looked_up(r, rc);
}


/* the session lookup's answer */

static ngx_int_t
ngx_http_mcp_looked_up(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_http_mcp_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_module);

    if (rc == NGX_DECLINED) {
        return ngx_http_mcp_fail(r, NGX_HTTP_NOT_FOUND, ctx->id,
                                 NGX_HTTP_MCP_SESSION_NOT_FOUND,
                                 "Session not found", NULL);
    }

    if (rc == NGX_BUSY) {
        return ngx_http_mcp_store_busy(r, ctx->id);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a session is its creator's: to anyone else it does not exist */

    if (CRYPTO_memcmp(ctx->session.principal, ctx->x.identity->principal,
                      NGX_HTTP_MCP_PRINCIPAL_LEN)
        != 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp: a session presented by a caller other than "
                      "the one that created it");

        return ngx_http_mcp_fail(r, NGX_HTTP_NOT_FOUND, ctx->id,
                                 NGX_HTTP_MCP_SESSION_NOT_FOUND,
                                 "Session not found", NULL);
    }

    ctx->x.session = &ctx->session;
    ctx->x.obs->session = ctx->x.h_session;
    ctx->x.obs->client_info = ctx->session.client_info;

    return ngx_http_mcp_answer(r);
}


/*
 * What the body adds to the request's record (observe/): the method it
 * names, and on the 2026 wire the trace and the client's name of _meta
 */

static void
ngx_http_mcp_observe_body(ngx_http_request_t *r, ngx_http_mcp_exchange_t *x)
{
    ngx_http_mcp_json_t  *meta, *p, *ts;
    ngx_http_mcp_obs_t   *o;

    o = ngx_http_mcp_observe(r);

    x->obs = o;
    o->detail = ngx_http_mcp_observe_detail(r);

    p = ngx_http_mcp_json_member(x->body, "method");

    if (p && p->type == NGX_HTTP_MCP_JSON_STRING) {
        o->method = p->str;
    }

    if (x->era != NGX_HTTP_MCP_ERA_MODERN) {
        return;
    }

    meta = ngx_http_mcp_json_member(ngx_http_mcp_json_member(x->body,
                                                             "params"),
                                    "_meta");

    p = ngx_http_mcp_json_member(meta, "traceparent");

    if (p && p->type == NGX_HTTP_MCP_JSON_STRING) {
        ts = ngx_http_mcp_json_member(meta, "tracestate");

        if (ts && ts->type != NGX_HTTP_MCP_JSON_STRING) {
            ts = NULL;
        }

        ngx_http_mcp_trace_continue(o, &p->str, ts ? &ts->str : NULL);
    }

    p = ngx_http_mcp_json_member(meta, "io.modelcontextprotocol/clientInfo");

    if (p && p->type == NGX_HTTP_MCP_JSON_OBJECT) {
        o->client = p;
    }
}


/*
 * Limits first, when the location has any (limit/): each request of the
 * body is decided, at once or after Redis answers, and may wait (a limit
 * without nodelay) before it runs.
 */

static ngx_int_t
ngx_http_mcp_answer(ngx_http_request_t *r)
{
    ngx_int_t            rc;
    ngx_http_mcp_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_module);

    if (!ctx->x.conf->server->limited && !ngx_http_mcp_limit_wanted(r)) {
        return ngx_http_mcp_run(r);
    }

    if (ngx_http_mcp_dispatch_admits(&ctx->x) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_mcp_limit_check(r, ctx->x.admits,
                                  ngx_http_mcp_limit_handler);

    if (rc == NGX_AGAIN) {
        return ngx_http_mcp_store_wait(r);
    }

    return ngx_http_mcp_limited(r, rc);
}


static void
ngx_http_mcp_limit_handler(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mcp: limits decided: %i", rc);

    ngx_http_mcp_store_resume(r, ngx_http_mcp_limited(r, rc));
}


/* decided: the requests run now, or after the delay a limit asks */

static ngx_int_t
ngx_http_mcp_limited(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_msec_t  delay;

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    delay = ngx_http_mcp_limit_delay(r);

    if (delay == 0) {
        return ngx_http_mcp_run(r);
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mcp: delayed by limits: %M ms", delay);

    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_mcp_delayed;
    ngx_add_timer(r->connection->write, delay);

    return NGX_DONE;
}


static void
ngx_http_mcp_delayed(ngx_http_request_t *r)
{
    ngx_event_t  *wev;

    wev = r->connection->write;

    if (!wev->timedout) {
        if (ngx_handle_write_event(wev, 0) != NGX_OK) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        }

        return;
    }

    wev->timedout = 0;

    r->read_event_handler = ngx_http_block_reading;
    r->write_event_handler = ngx_http_request_empty_handler;

    ngx_http_mcp_store_resume(r, ngx_http_mcp_run(r));
}


/* dispatch, then what the answer does to the session */

static ngx_int_t
ngx_http_mcp_run(ngx_http_request_t *r)
{
    u_char                    *p;
    ngx_int_t                  rc;
    ngx_http_mcp_ctx_t        *ctx;
    ngx_http_mcp_exchange_t   *x;
    ngx_http_mcp_store_ref_t  *st;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_module);
    x = &ctx->x;

    rc = ngx_http_mcp_dispatch(x);

    if (x->retry_after) {
        p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (ngx_http_mcp_add_header(r, "Retry-After", p,
                                    ngx_sprintf(p, "%T", x->retry_after) - p)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (rc == NGX_AGAIN) {
        return ngx_http_mcp_call_start(r, ctx);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (x->listen && x->status == NGX_HTTP_OK) {
        return ngx_http_mcp_listen_start(r, ctx);
    }

    if (x->cancel_id) {
        ngx_http_mcp_call_cancel(&x->h_session, x->cancel_id, r->pool);
    }

    if (x->answers) {
        ngx_http_mcp_ask_post(&x->h_session, x->answers, r->pool,
                              r->connection->log);
    }

    if (x->status == NGX_HTTP_FORBIDDEN && x->scope_needed.len
        && ngx_http_mcp_auth_forbid(r, &x->scope_needed) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    st = x->conf->session_store;

    if (x->session_action == NGX_HTTP_MCP_SESSION_CREATE
        && x->status == NGX_HTTP_OK)
    {
        x->new_session.timeout = x->conf->session_timeout;

        rc = st->store->create(st, &x->new_session, r->pool,
                               ngx_http_mcp_store_handler, r);

    } else if (x->session_action == NGX_HTTP_MCP_SESSION_UPDATE) {
        rc = st->store->update(st, &x->new_session, r->pool,
                               ngx_http_mcp_store_handler, r);

    } else {
        /* NGX_HTTP_MCP_SESSION_KEEP, or an initialize that failed */
        return ngx_http_mcp_send(r, x->status, &x->out);
    }

    if (rc == NGX_AGAIN) {
        return ngx_http_mcp_store_wait(r);
    }

    return ngx_http_mcp_stored(r, rc);
}


/* the session create's or update's answer, then the response */

static ngx_int_t
ngx_http_mcp_stored(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_http_mcp_ctx_t       *ctx;
    ngx_http_mcp_exchange_t  *x;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_module);
    x = &ctx->x;

    if (rc == NGX_BUSY) {
        return ngx_http_mcp_store_busy(r, ctx->id);
    }

    if (x->session_action == NGX_HTTP_MCP_SESSION_CREATE) {

        if (rc != NGX_OK) {
            return ngx_http_mcp_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     ctx->id, NGX_HTTP_MCP_INTERNAL_ERROR,
                                     "Cannot create a session", NULL);
        }

        if (ngx_http_mcp_add_header(r, "Mcp-Session-Id", x->new_session.id,
                                    NGX_HTTP_MCP_SESSION_ID_LEN)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        x->obs->session.data = x->new_session.id;
        x->obs->session.len = NGX_HTTP_MCP_SESSION_ID_LEN;
        x->obs->client_info = x->new_session.client_info;
        x->obs->session_created = 1;

    } else if (rc == NGX_DECLINED) { /* NGX_HTTP_MCP_SESSION_UPDATE */
        return ngx_http_mcp_fail(r, NGX_HTTP_NOT_FOUND, ctx->id,
                                 NGX_HTTP_MCP_SESSION_NOT_FOUND,
                                 "Session not found", NULL);

    } else if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;

    } else if (x->subs_changed) {
        ngx_http_mcp_streams_subs_changed(&x->new_session,
                                          r->connection->log);
    }

    return ngx_http_mcp_send(r, x->status, &x->out);
}


/* the body as one contiguous piece of memory */

ngx_int_t
ngx_http_mcp_read_body(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char       *p;
    size_t        len;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    ngx_str_null(body);

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    cl = r->request_body->bufs;

    if (cl->next == NULL && !cl->buf->in_file) {
        body->data = cl->buf->pos;
        body->len = cl->buf->last - cl->buf->pos;
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;
        len += b->in_file ? (size_t) (b->file_last - b->file_pos)
                          : (size_t) (b->last - b->pos);
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body->data = p;
    body->len = len;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (!b->in_file) {

            /* the last buffer of a chunked body is empty, with no memory */

            if (b->last != b->pos) {
                p = ngx_cpymem(p, b->pos, b->last - b->pos);
            }

            continue;
        }

        /* a large body went to a client_body_temp file */

        n = ngx_read_file(b->file, p, b->file_last - b->file_pos,
                          b->file_pos);

        if (n != b->file_last - b->file_pos) {
            ngx_log_error(NGX_LOG_CRIT, r->connection->log, 0,
                          "mcp: cannot read request body from \"%V\"",
                          &b->file->name);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p += n;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_delete(ngx_http_request_t *r, ngx_http_mcp_loc_conf_t *mlcf)
{
    ngx_int_t                  rc;
    ngx_http_mcp_exchange_t    x;
    ngx_http_mcp_store_ref_t  *st;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memzero(&x, sizeof(ngx_http_mcp_exchange_t));
    x.pool = r->pool;
    ngx_http_mcp_read_headers(r, &x);

    if (ngx_http_mcp_dispatch_era(&x) == NGX_HTTP_MCP_ERA_MODERN) {
        return ngx_http_mcp_fail(r, NGX_HTTP_NOT_ALLOWED, NULL,
                                 NGX_HTTP_MCP_INVALID_REQUEST,
                                 "Method not allowed: this protocol "
                                 "revision has no sessions", NULL);
    }

    if (!x.has_session) {
        return ngx_http_mcp_fail(r, NGX_HTTP_BAD_REQUEST, NULL,
                                 NGX_HTTP_MCP_INVALID_REQUEST,
                                 "Mcp-Session-Id header is required", NULL);
    }

    st = mlcf->session_store;

    /* the session it ends, for the audit (observe/), if it does */

    ngx_http_mcp_observe(r)->session = x.h_session;

    rc = st->store->delete(st, &x.h_session,
                           ngx_http_mcp_auth_identity(r)->principal, r->pool,
                           ngx_http_mcp_delete_handler, r);

    if (rc == NGX_AGAIN) {
        /* the content handler's own count: no body read holds one */
        r->main->count++;
        return ngx_http_mcp_store_wait(r);
    }

    return ngx_http_mcp_deleted(r, rc);
}


/* the session delete's answer */

static ngx_int_t
ngx_http_mcp_deleted(ngx_http_request_t *r, ngx_int_t rc)
{
    u_char                    key[NGX_HTTP_MCP_SESSION_ID_LEN];
    ngx_http_mcp_obs_t       *obs;
    ngx_http_mcp_loc_conf_t  *mlcf;

    obs = ngx_http_mcp_observe(r);

    if (rc == NGX_OK) {
        obs->session_deleted = 1;
        obs->outcome = NGX_HTTP_MCP_OUTCOME_OK;

        /* the events kept for its streams go with it */

        ngx_http_mcp_session_digest(&obs->session, key);
        mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);
        ngx_http_mcp_events_forget(mlcf->session_store, key,
                                   r->connection->log);

    } else {
        obs->session.len = 0;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_mcp_fail(r, NGX_HTTP_NOT_FOUND, NULL,
                                 NGX_HTTP_MCP_SESSION_NOT_FOUND,
                                 "Session not found", NULL);
    }

    if (rc == NGX_BUSY) {
        return ngx_http_mcp_store_busy(r, NULL);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mcp_send(r, NGX_HTTP_NO_CONTENT, NULL);
}


/* the session store cannot be reached now: 503, try again in a second */

ngx_int_t
ngx_http_mcp_store_busy(ngx_http_request_t *r, ngx_http_mcp_json_t *id)
{
    if (ngx_http_mcp_add_header(r, "Retry-After", (u_char *) "1", 1)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mcp_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE, id,
                             NGX_HTTP_MCP_INTERNAL_ERROR,
                             "The session store is unavailable", NULL);
}


/*
 * A store operation answered NGX_AGAIN: until its handler runs, a write
 * event must not run the request's phases (and so this handler) again.
 */

ngx_int_t
ngx_http_mcp_store_wait(ngx_http_request_t *r)
{
    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mcp: waiting for the session store");

    r->write_event_handler = ngx_http_request_empty_handler;

    return NGX_DONE;
}


static void
ngx_http_mcp_lookup_handler(void *data, ngx_int_t rc)
{
    ngx_http_request_t *r = data;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mcp: session lookup resumes: %i", rc);

    ngx_http_mcp_store_resume(r, ngx_http_mcp_looked_up(r, rc));
}


static void
ngx_http_mcp_store_handler(void *data, ngx_int_t rc)
{
    ngx_http_request_t *r = data;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mcp: session create or update resumes: %i", rc);

    ngx_http_mcp_store_resume(r, ngx_http_mcp_stored(r, rc));
}


static void
ngx_http_mcp_delete_handler(void *data, ngx_int_t rc)
{
    ngx_http_request_t *r = data;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mcp: session delete resumes: %i", rc);

    ngx_http_mcp_store_resume(r, ngx_http_mcp_deleted(r, rc));
}


/*
 * After a step that a store's answer ran, outside the client's events:
 * the one finalize, unless the request waits again (another store
 * operation, or a backend call), then what that posted (a subrequest).
 */

void
ngx_http_mcp_store_resume(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_connection_t  *c;

    c = r->connection;

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }

    ngx_http_run_posted_requests(c);
}


/* refused before the body was read: the body is discarded */

static ngx_int_t
ngx_http_mcp_reject(ngx_http_request_t *r, ngx_uint_t status, char *message)
{
    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mcp_fail(r, status, NULL, NGX_HTTP_MCP_INVALID_REQUEST,
                             message, NULL);
}


ngx_int_t
ngx_http_mcp_fail(ngx_http_request_t *r, ngx_uint_t status,
    ngx_http_mcp_json_t *id, ngx_int_t code, char *message, ngx_str_t *why)
{
    u_char              *p;
    ngx_str_t            msg, out;
    ngx_http_mcp_jw_t    jw;
    ngx_http_mcp_obs_t  *obs;

    msg.data = (u_char *) message;
    msg.len = ngx_strlen(message);

    if (why) {
        p = ngx_pnalloc(r->pool, msg.len + why->len);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        msg.len = ngx_sprintf(p, "%s%V", message, why) - p;
        msg.data = p;
    }

    obs = ngx_http_get_module_ctx(r, ngx_http_mcp_observe_module);

    if (obs) {
        obs->outcome = code;
        obs->error = msg;
    }

    if (ngx_http_mcp_jw_init(&jw, r->pool, msg.len + 64) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_mcp_jsonrpc_error(&jw, id, code, &msg, NULL);

    if (ngx_http_mcp_jw_finish(&jw, &out) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mcp_send(r, status, &out);
}


/*
 * One JSON body, or the same message as a single SSE event for a client
 * that accepts only text/event-stream.  202 and 204 carry no body.
 */

ngx_int_t
ngx_http_mcp_send(ngx_http_request_t *r, ngx_uint_t status, ngx_str_t *body)
{
    ngx_str_t            type;
    ngx_http_mcp_ctx_t  *ctx;

    if (body == NULL || body->len == 0
        || status == NGX_HTTP_ACCEPTED || status == NGX_HTTP_NO_CONTENT)
    {
        return ngx_http_mcp_send_body(r, status, NULL, NULL);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_module);

    if (ctx == NULL || ctx->accept != NGX_HTTP_MCP_ACCEPT_SSE) {
        ngx_str_set(&type, "application/json");
        return ngx_http_mcp_send_body(r, status, &type, body);
    }

    return ngx_http_mcp_sse_reply(r, status, body);
}


ngx_int_t
ngx_http_mcp_send_body(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, ngx_str_t *body)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    r->headers_out.status = status;

    if (body == NULL || body->len == 0) {
        r->header_only = 1;
        r->headers_out.content_length_n = 0;

        return ngx_http_send_header(r);
    }

    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;
    r->headers_out.content_length_n = body->len;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = body->data;
    b->last = body->data + body->len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_http_mcp_add_header(ngx_http_request_t *r, char *name, u_char *value,
    size_t len)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value.data = value;
    h->value.len = len;

    return NGX_OK;
}
