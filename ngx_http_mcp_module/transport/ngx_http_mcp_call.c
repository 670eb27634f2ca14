
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "transport/ngx_http_mcp_call.h"
#include "transport/ngx_http_mcp_sse.h"
#include "transport/ngx_http_mcp_ask.h"
#include "state/ngx_http_mcp_mailbox.h"
#include "state/ngx_http_mcp_session.h"
#include "observe/ngx_http_mcp_observe.h"
#include "observe/ngx_http_mcp_metrics.h"


/*
 * Backend calls in flight: transport starts the call that dispatch left
 * in x->bcall, holds the client's request while it runs, stops it at its
 * deadline or on notifications/cancelled, and sends what protocol makes
 * of its result.
 */


static void ngx_http_mcp_call_done(ngx_http_mcp_bcall_t *bc);
static ngx_int_t ngx_http_mcp_call_answer(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx);
static ngx_int_t ngx_http_mcp_call_cancelled(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx);
static ngx_int_t ngx_http_mcp_call_event(ngx_http_mcp_bcall_t *bc,
    ngx_http_mcp_json_t *event, ngx_pool_t *pool);
static ngx_int_t ngx_http_mcp_call_run(ngx_http_mcp_bcall_t *bc);
static void ngx_http_mcp_call_own(ngx_event_t *ev);
static void ngx_http_mcp_call_timer(ngx_event_t *ev);
static void ngx_http_mcp_call_abort(ngx_http_mcp_flight_t *f,
    ngx_uint_t why);
static void ngx_http_mcp_call_free(void *data);
static void ngx_http_mcp_call_end(void *data);


/* this worker's calls in 2025 sessions, for notifications/cancelled */
static ngx_queue_t  ngx_http_mcp_calls;


#define NGX_HTTP_MCP_CALL_POOL_SIZE  1024


ngx_int_t
ngx_http_mcp_call_start(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx)
{
    ngx_int_t                 rc;
    ngx_pool_cleanup_t       *cln;
    ngx_http_mcp_jw_t         jw;
    ngx_http_mcp_bcall_t     *bc;
    ngx_http_mcp_entry_t     *e;
    ngx_http_mcp_flight_t    *f;
    ngx_http_mcp_exchange_t  *x;
    ngx_http_mcp_loc_conf_t  *mlcf;

    x = &ctx->x;
    bc = x->bcall;
    e = bc->entry;

    f = ngx_pcalloc(r->pool, sizeof(ngx_http_mcp_flight_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (f == NULL || cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the entry's limits, else the MCP location's */

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    /* the call's own memory, freed with the request */

    bc->pool = ngx_create_pool(NGX_HTTP_MCP_CALL_POOL_SIZE, r->connection->log);
    if (bc->pool == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_mcp_call_free;
    cln->data = f;
    f->bc = bc;

    bc->request = r;
    bc->log = r->connection->log;
    bc->timeout = (e->timeout != NGX_CONF_UNSET_MSEC) ? e->timeout
                                                     : mlcf->backend_timeout;
    bc->max_size = (e->max_size != NGX_CONF_UNSET_SIZE)
                   ? e->max_size : mlcf->backend_max_size;
    bc->done = ngx_http_mcp_call_done;
    bc->data = r;

    /* the call is a span of the request's trace */

    if (ngx_http_mcp_trace_child(x->obs, bc->pool, &bc->traceparent)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    bc->tracestate = x->obs->tracestate;

    /* progress and log messages travel as SSE before the result */

    if ((ctx->accept & NGX_HTTP_MCP_ACCEPT_SSE)
        && (x->progress_token || x->log_level != NGX_HTTP_MCP_LOG_NONE))
    {
        bc->event = ngx_http_mcp_call_event;
    }

    f->request = r;
    ctx->flight = f;

    r->connection->log->action = "calling the backend of an MCP method";

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mcp call: start \"%V\" (%V), timeout %M",
                   &e->name, &e->backend->name, bc->timeout);

    rc = ngx_http_mcp_call_run(bc);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_OK && e->confirm.len && bc->session.len) {

        /*
         * the module's own question in a session: it goes as a backend's
         * answer goes, from the event loop, and is asked of the client
         */

        f->own.handler = ngx_http_mcp_call_own;
        f->own.data = f;
        f->own.log = r->connection->log;

        ngx_post_event(&f->own, &ngx_posted_events);

        rc = NGX_AGAIN;
    }

    if (rc == NGX_OK) {
        /* answered at once */
        r->connection->log->action = NULL;
        return ngx_http_mcp_call_answer(r, ctx);
    }

    /* the deadline */

    f->timer.handler = ngx_http_mcp_call_timer;
    f->timer.data = f;
    f->timer.log = r->connection->log;

    if (bc->timeout) {
        ngx_add_timer(&f->timer, bc->timeout);
    }

    if (bc->session.len) {

        /* the id as the location's X-MCP-Request-Id writes it */

        if (ngx_http_mcp_jw_init(&jw, r->pool, 32) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (bc->id) {
            ngx_http_mcp_jw_value(&jw, bc->id);
        }

        if (ngx_http_mcp_jw_finish(&jw, &f->id) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (ngx_http_mcp_calls.next == NULL) {
            ngx_queue_init(&ngx_http_mcp_calls);
        }

        f->session = bc->session;
        ngx_queue_insert_tail(&ngx_http_mcp_calls, &f->queue);
        f->listed = 1;

        /* 2025-11-25: its stream, if any, is resumable */

        if (ngx_http_mcp_post_resumable(r, ctx) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return NGX_DONE;
}


/* the entry's backend, unless the module answers first (confirm) */

static ngx_int_t
ngx_http_mcp_call_run(ngx_http_mcp_bcall_t *bc)
{
    ngx_int_t  rc;

    rc = ngx_http_mcp_confirm(bc);

    if (rc == NGX_DECLINED) {
        return bc->entry->backend->start(bc);
    }

    return rc;
}


static void
ngx_http_mcp_call_own(ngx_event_t *ev)
{
    ngx_http_mcp_flight_t *f = ev->data;

    ngx_connection_t  *c;

    c = f->request->connection;

    ngx_http_mcp_call_done(f->bc);
    ngx_http_run_posted_requests(c);
}


/* the backend is done: the answer, and the end of the request */

static void
ngx_http_mcp_call_done(ngx_http_mcp_bcall_t *bc)
{
    ngx_http_request_t *r = bc->data;

    ngx_int_t            rc;
    ngx_uint_t           outcome;
    ngx_http_mcp_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_module);

    if (!bc->result.cancelled && !ctx->flight->timed_out) {

        /* input_required in a 2025 session: the client is asked first */

        rc = ngx_http_mcp_ask(r, ctx);

        if (rc == NGX_DONE) {
            ngx_http_mcp_metrics_call(bc->entry->metric,
                                      NGX_HTTP_MCP_CALL_OK);
            return;
        }

        if (rc != NGX_DECLINED) {
            ngx_http_mcp_call_end(ctx->flight);
            ngx_http_finalize_request(r, rc);
            return;
        }
    }

    if (bc->result.cancelled) {
        outcome = NGX_HTTP_MCP_CALL_CANCELLED;

    } else if (ctx->flight->timed_out) {
        outcome = NGX_HTTP_MCP_CALL_TIMEOUT;

    } else if (bc->result.kind == NGX_HTTP_MCP_RESULT_ERROR) {
        outcome = NGX_HTTP_MCP_CALL_ERROR;

    } else {
        outcome = NGX_HTTP_MCP_CALL_OK;
    }

    ngx_http_mcp_metrics_call(bc->entry->metric, outcome);

    ngx_http_mcp_call_end(ctx->flight);

    r->connection->log->action = "answering an MCP method from its backend";

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mcp call: done \"%V\", result %d",
                   &bc->entry->name, (int) bc->result.kind);

    if (bc->result.cancelled) {
        rc = ngx_http_mcp_call_cancelled(r, ctx);

    } else {
        rc = ngx_http_mcp_call_answer(r, ctx);
    }

    r->connection->log->action = NULL;

    ngx_http_finalize_request(r, rc);
}


void
ngx_http_mcp_call_again(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx)
{
    ngx_int_t               rc;
    ngx_http_mcp_bcall_t   *bc;
    ngx_http_mcp_flight_t  *f;

    bc = ctx->x.bcall;
    f = ctx->flight;

    ngx_memzero(&bc->result, sizeof(ngx_http_mcp_result_t));
    bc->ctx = NULL;
    f->abort = 0;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mcp call: again \"%V\", with the client's answers",
                   &bc->entry->name);

    rc = ngx_http_mcp_call_run(bc);

    if (rc == NGX_ERROR) {
        ngx_http_mcp_call_end(f);
        ngx_http_finalize_request(r, NGX_ERROR);
        return;
    }

    if (rc == NGX_OK) {
        ngx_http_mcp_call_done(bc);
        return;
    }

    if (bc->timeout) {
        ngx_add_timer(&f->timer, bc->timeout);
    }
}


/* the method's answer, from what the backend answered */

static ngx_int_t
ngx_http_mcp_call_answer(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx)
{
    ngx_http_mcp_exchange_t  *x;

    x = &ctx->x;

    if (ngx_http_mcp_dispatch_resume(x) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!ctx->sse) {
        return ngx_http_mcp_send(r, x->status, &x->out);
    }

    /* the stream's last event: the response */

    return ngx_http_mcp_post_event(r, ctx, &x->out, 1);
}


/*
 * The client cancelled the request: it gets no response (the
 * specification's rule), the event stream ends; a client that takes no
 * stream gets a bare 202.
 */

static ngx_int_t
ngx_http_mcp_call_cancelled(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx)
{
    ngx_int_t  rc;

    rc = ngx_http_mcp_post_detached(ctx);

    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (!ctx->sse) {

        if (!(ctx->accept & NGX_HTTP_MCP_ACCEPT_SSE)) {
            return ngx_http_mcp_send_body(r, NGX_HTTP_ACCEPTED, NULL, NULL);
        }

        rc = ngx_http_mcp_sse_start(&ctx->stream, r);

        if (rc != NGX_OK) {
            return rc;
        }

        ctx->sse = 1;
    }

    return ngx_http_mcp_sse_end(&ctx->stream);
}


/*
 * An event of a backend's call: the notification the client asked for, if
 * any; the first one starts the event stream.
 */

static ngx_int_t
ngx_http_mcp_call_event(ngx_http_mcp_bcall_t *bc, ngx_http_mcp_json_t *event,
    ngx_pool_t *pool)
{
    ngx_http_request_t *r = bc->data;

    ngx_int_t            rc;
    ngx_str_t            message;
    ngx_http_mcp_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_module);

    rc = ngx_http_mcp_dispatch_notification(&ctx->x, event, pool, &message);

    if (rc == NGX_DECLINED) {
        return NGX_OK;
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mcp call: event of \"%V\"", &bc->entry->name);

    rc = ngx_http_mcp_post_event(r, ctx, &message, 0);

    return (rc == NGX_ERROR) ? NGX_ERROR : NGX_OK;
}


void
ngx_http_mcp_call_cancel(ngx_str_t *session, ngx_http_mcp_json_t *id,
    ngx_pool_t *pool)
{
    u_char                 digest[NGX_HTTP_MCP_SESSION_ID_LEN];
    ngx_str_t              text, key;
    ngx_http_mcp_jw_t      jw;
    ngx_http_mcp_letter_t  letter;

    if (id->type != NGX_HTTP_MCP_JSON_STRING
        && id->type != NGX_HTTP_MCP_JSON_INTEGER)
    {
        return;
    }

    /* the id as the call's X-MCP-Request-Id wrote it */

    if (ngx_http_mcp_jw_init(&jw, pool, 32) != NGX_OK) {
        return;
    }

    ngx_http_mcp_jw_value(&jw, id);

    if (ngx_http_mcp_jw_finish(&jw, &text) != NGX_OK) {
        return;
    }

    /* letters name the session by its digest: ids travel nowhere */

    key.data = digest;
    key.len = NGX_HTTP_MCP_SESSION_ID_LEN;

    ngx_http_mcp_session_digest(session, digest);

    ngx_memzero(&letter, sizeof(ngx_http_mcp_letter_t));
    letter.kind = NGX_HTTP_MCP_LETTER_CANCEL;
    letter.session = key;
    letter.id = text;

    ngx_http_mcp_call_cancel_local(&letter);
    (void) ngx_http_mcp_mailbox_post(&letter, 0);
}


void
ngx_http_mcp_call_cancel_local(ngx_http_mcp_letter_t *letter)
{
    u_char                  digest[NGX_HTTP_MCP_SESSION_ID_LEN];
    ngx_str_t              *session, *id;
    ngx_queue_t            *q;
    ngx_http_mcp_flight_t  *f;

    session = &letter->session;
    id = &letter->id;

    if (ngx_http_mcp_calls.next == NULL
        || session->len != NGX_HTTP_MCP_SESSION_ID_LEN)
    {
        return;
    }

    for (q = ngx_queue_head(&ngx_http_mcp_calls);
         q != ngx_queue_sentinel(&ngx_http_mcp_calls);
         q = ngx_queue_next(q))
    {
        f = ngx_queue_data(q, ngx_http_mcp_flight_t, queue);

        if (f->session.len == 0
            || f->id.len != id->len
            || ngx_memcmp(f->id.data, id->data, id->len) != 0)
        {
            continue;
        }

        ngx_http_mcp_session_digest(&f->session, digest);

        if (ngx_memcmp(digest, session->data, session->len) == 0) {

            /* a call that waits for the client's answers ends at once */

            if (ngx_http_mcp_ask_cancel(f->ask) != NGX_OK) {
                ngx_http_mcp_call_abort(f, NGX_HTTP_MCP_ABORT_CANCEL);
            }

            return;
        }
    }
}


static void
ngx_http_mcp_call_timer(ngx_event_t *ev)
{
    ngx_http_mcp_flight_t *f = ev->data;

    if (f->abort == 0) {
        f->timed_out = 1;
    }

    ngx_http_mcp_call_abort(f, f->abort ? f->abort
                                        : NGX_HTTP_MCP_ABORT_TIMEOUT);
}


static void
ngx_http_mcp_call_abort(ngx_http_mcp_flight_t *f, ngx_uint_t why)
{
    ngx_int_t          rc;
    ngx_connection_t  *c;

    c = f->request->connection;
    c->log->action = "stopping the backend call of an MCP method";

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "mcp call: abort \"%V\" (%ui)", &f->bc->entry->name, why);

    if (f->own.posted) {

        /* the module's own answer is on its way: no backend runs yet */

        f->bc->result.cancelled = (why == NGX_HTTP_MCP_ABORT_CANCEL);
        c->log->action = NULL;
        return;
    }

    rc = f->bc->entry->backend->abort(f->bc, why);

    if (rc == NGX_AGAIN || rc == NGX_DECLINED) {

        /*
         * The request is blocked (AIO, a thread, a proxy_cache_lock wait),
         * or no upstream runs for it (a handler that is not one): tried
         * again until the call ends
         */

        if (rc == NGX_DECLINED && !f->warned) {
            ngx_log_error(NGX_LOG_WARN, c->log, 0,
                          "mcp: the call of \"%V\" cannot be stopped now: "
                          "no upstream runs for it", &f->bc->entry->name);
            f->warned = 1;
        }

        f->abort = why;

        if (f->timer.timer_set) {
            ngx_del_timer(&f->timer);
        }

        ngx_add_timer(&f->timer, (rc == NGX_AGAIN) ? 100 : 1000);

        c->log->action = NULL;
        return;
    }

    /* the backend ended the call: done() follows, maybe posted */

    ngx_http_run_posted_requests(c);
}


/* the request is freed: so is the call, if it still runs */

static void
ngx_http_mcp_call_free(void *data)
{
    ngx_http_mcp_flight_t *f = data;

    ngx_http_mcp_call_end(f);

    if (f->own.posted) {
        ngx_delete_posted_event(&f->own);
    }

    if (f->bc && f->bc->pool) {
        ngx_destroy_pool(f->bc->pool);
        f->bc->pool = NULL;
    }
}


/* the call is over, or its request is freed */

static void
ngx_http_mcp_call_end(void *data)
{
    ngx_http_mcp_flight_t *f = data;

    if (f->timer.timer_set) {
        ngx_del_timer(&f->timer);
    }

    if (f->listed) {
        ngx_queue_remove(&f->queue);
        f->listed = 0;
    }
}
