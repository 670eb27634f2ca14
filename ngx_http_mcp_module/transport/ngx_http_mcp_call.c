
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "transport/ngx_http_mcp_call.h"
#include "state/ngx_http_mcp_mailbox.h"


static void ngx_http_mcp_call_resume(ngx_http_request_t *r);
static ngx_int_t ngx_http_mcp_call_answer(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx);
static ngx_int_t ngx_http_mcp_call_cancelled(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx);
static ngx_int_t ngx_http_mcp_call_stream(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx);
static ngx_int_t ngx_http_mcp_call_event(void *data,
    ngx_http_mcp_json_t *event, ngx_pool_t *pool, ngx_str_t *out);
static void ngx_http_mcp_call_timer(ngx_event_t *ev);
static void ngx_http_mcp_call_abort(ngx_http_mcp_flight_t *f,
    ngx_uint_t why);
static void ngx_http_mcp_call_end(void *data);


/* this worker's calls in 2025 sessions, for notifications/cancelled */
static ngx_queue_t  ngx_http_mcp_calls;


static ngx_str_t  ngx_http_mcp_item_headers[] = {
    ngx_string("X-MCP-Tool"),
    ngx_string("X-MCP-Resource"),
    ngx_string("X-MCP-Resource"),
    ngx_string("X-MCP-Prompt")
};


/*
 * The location runs as a subrequest; nginx posts this request when it is
 * complete, and ngx_http_mcp_call_resume() answers.
 */

ngx_int_t
ngx_http_mcp_call_start(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx)
{
    ngx_msec_t                     timeout;
    ngx_pool_cleanup_t            *cln;
    ngx_http_mcp_flight_t         *f;
    ngx_http_mcp_location_t       *loc;
    ngx_http_mcp_exchange_t       *x;
    ngx_http_mcp_loc_conf_t       *mlcf;
    ngx_http_mcp_location_call_t   call;

    x = &ctx->x;
    loc = x->pending;

    f = ngx_pcalloc(r->pool, sizeof(ngx_http_mcp_flight_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (f == NULL || cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    call.body = x->pending_body;
    call.item.key = ngx_http_mcp_item_headers[x->pending_kind];
    call.item.value = x->pending_name;
    call.id = x->pending_id;
    ngx_str_null(&call.session);

    if (x->era == NGX_HTTP_MCP_ERA_SESSION) {
        call.session = x->h_session;
    }

    /* the entry's limits, else the MCP location's */

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    call.max_size = (loc->max_size != NGX_CONF_UNSET_SIZE)
                    ? loc->max_size : mlcf->backend_max_size;

    timeout = (loc->timeout != NGX_CONF_UNSET_MSEC) ? loc->timeout
                                                    : mlcf->backend_timeout;

    /* progress and log messages travel as SSE before the result */

    call.event = NULL;
    call.event_data = r;

    if ((ctx->accept & NGX_HTTP_MCP_ACCEPT_SSE)
        && (x->progress_token || x->log_level != NGX_HTTP_MCP_LOG_NONE))
    {
        call.event = ngx_http_mcp_call_event;
    }

    f->op = ngx_http_mcp_location_start(r, loc, &call);

    if (f->op == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    f->request = r;
    ctx->flight = f;

    cln->handler = ngx_http_mcp_call_end;
    cln->data = f;

    /* the deadline */

    f->op->timeout = timeout;

    f->timer.handler = ngx_http_mcp_call_timer;
    f->timer.data = f;
    f->timer.log = r->connection->log;

    if (timeout) {
        ngx_add_timer(&f->timer, timeout);
    }

    if (call.session.len) {

        if (ngx_http_mcp_calls.next == NULL) {
            ngx_queue_init(&ngx_http_mcp_calls);
        }

        f->session = call.session;
        ngx_queue_insert_tail(&ngx_http_mcp_calls, &f->queue);
        f->listed = 1;
    }

    r->write_event_handler = ngx_http_mcp_call_resume;

    return NGX_DONE;
}


static void
ngx_http_mcp_call_resume(ngx_http_request_t *r)
{
    ngx_int_t               rc;
    ngx_http_mcp_ctx_t     *ctx;
    ngx_http_mcp_flight_t  *f;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_module);

    f = ctx ? ctx->flight : NULL;

    if (f == NULL || !f->op->done || !f->op->sr->done) {
        return;                          /* the location still runs */
    }

    r->write_event_handler = ngx_http_request_empty_handler;

    ngx_http_mcp_call_end(f);

    if (f->op->aborted == NGX_HTTP_MCP_ABORT_CANCEL) {
        rc = ngx_http_mcp_call_cancelled(r, ctx);

    } else {
        rc = ngx_http_mcp_call_answer(r, ctx);
    }

    ngx_http_finalize_request(r, rc);
}


/* the method's answer, from what the location answered */

static ngx_int_t
ngx_http_mcp_call_answer(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx)
{
    ngx_int_t                    rc;
    ngx_str_t                    members, err, *type;
    ngx_uint_t                   input_required;
    ngx_chain_t                 *out;
    ngx_http_mcp_jw_t            jw;
    ngx_http_mcp_json_t         *meta;
    ngx_http_mcp_exchange_t     *x;
    ngx_http_mcp_location_op_t  *op;

    static ngx_str_t  input = ngx_string("input_required");

    x = &ctx->x;
    op = ctx->flight->op;

    if (ngx_http_mcp_jw_init(&jw, r->pool, 512) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    meta = NULL;
    type = NULL;

    switch (x->pending_kind) {

    case NGX_HTTP_MCP_LIST_TOOLS:
        rc = ngx_http_mcp_location_result(op, r->pool, x->object_only, &jw,
                                          &input_required, &meta);
        type = input_required ? &input : NULL;
        break;

    case NGX_HTTP_MCP_LIST_PROMPTS:
        rc = ngx_http_mcp_location_messages(op, r->pool,
                                            &x->pending_description, &jw,
                                            &meta, &err);
        break;

    default: /* NGX_HTTP_MCP_LIST_RESOURCES */
        rc = ngx_http_mcp_location_contents(op, &x->pending_name,
                                            &x->pending_mime, &jw);

        /* 2026 caching hints: what the answer's Cache-Control allows */

        x->pending_ttl = op->max_age;
        x->pending_private = op->private;

        if (rc == NGX_DECLINED
            && ngx_http_mcp_location_fault(op, "resource", r->pool, &err)
               != NGX_OK)
        {
            rc = NGX_ERROR;
        }

        break;
    }

    if (rc == NGX_DECLINED) {
        rc = ngx_http_mcp_dispatch_resume_error(x, op->status, &err);

    } else if (rc == NGX_OK) {
        rc = ngx_http_mcp_jw_finish(&jw, &members);

        if (rc == NGX_OK) {
            rc = ngx_http_mcp_dispatch_resume(x, &members, type, meta);
        }
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!ctx->sse) {
        return ngx_http_mcp_send(r, x->status, &x->out);
    }

    /* the stream's last event: the response */

    out = ngx_http_mcp_sse_event(r, &x->out, 1);

    return out ? ngx_http_output_filter(r, out) : NGX_ERROR;
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

    if (!ctx->sse) {

        if (!(ctx->accept & NGX_HTTP_MCP_ACCEPT_SSE)) {
            return ngx_http_mcp_send_body(r, NGX_HTTP_ACCEPTED, NULL, NULL);
        }

        rc = ngx_http_mcp_call_stream(r, ctx);

        if (rc != NGX_OK) {
            return rc;
        }
    }

    return ngx_http_send_special(r, NGX_HTTP_LAST);
}


/*
 * An event of a streamed call, from the backend's body filter: the first
 * one the client asked for starts the event stream.  The text to send goes
 * in pool, which the filter reuses for the next line.
 */

static ngx_int_t
ngx_http_mcp_call_event(void *data, ngx_http_mcp_json_t *event,
    ngx_pool_t *pool, ngx_str_t *out)
{
    ngx_http_request_t *r = data;

    ngx_int_t            rc;
    ngx_str_t            message;
    ngx_http_mcp_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_module);

    out->len = 0;

    rc = ngx_http_mcp_dispatch_notification(&ctx->x, event, pool, &message);

    if (rc == NGX_DECLINED) {
        return NGX_OK;
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    if (!ctx->sse && ngx_http_mcp_call_stream(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_mcp_sse_frame(pool, &message, out);
}


/*
 * The response becomes an event stream of unknown length, not buffered by
 * proxies in front: NGX_OK, or what ngx_http_send_header() failed with.
 */

static ngx_int_t
ngx_http_mcp_call_stream(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx)
{
    ngx_int_t  rc;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = -1;
    ngx_str_set(&r->headers_out.content_type, "text/event-stream");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    if (ngx_http_mcp_add_header(r, "Cache-Control", (u_char *) "no-cache",
                                sizeof("no-cache") - 1)
        != NGX_OK
        || ngx_http_mcp_add_header(r, "X-Accel-Buffering", (u_char *) "no",
                                   sizeof("no") - 1)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK) {
        return (rc > NGX_OK) ? rc : NGX_ERROR;
    }

    ctx->sse = 1;

    return NGX_OK;
}


void
ngx_http_mcp_call_cancel(ngx_str_t *session, ngx_http_mcp_json_t *id,
    ngx_pool_t *pool)
{
    ngx_str_t          text;
    ngx_http_mcp_jw_t  jw;

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

    ngx_http_mcp_call_cancel_local(session, &text);
    ngx_http_mcp_mailbox_post(session, &text);
}


void
ngx_http_mcp_call_cancel_local(ngx_str_t *session, ngx_str_t *id)
{
    ngx_queue_t            *q;
    ngx_http_mcp_flight_t  *f;

    if (ngx_http_mcp_calls.next == NULL) {
        return;
    }

    for (q = ngx_queue_head(&ngx_http_mcp_calls);
         q != ngx_queue_sentinel(&ngx_http_mcp_calls);
         q = ngx_queue_next(q))
    {
        f = ngx_queue_data(q, ngx_http_mcp_flight_t, queue);

        if (f->session.len == session->len
            && f->op->id.len == id->len
            && ngx_memcmp(f->op->id.data, id->data, id->len) == 0
            && ngx_memcmp(f->session.data, session->data, session->len) == 0)
        {
            ngx_http_mcp_call_abort(f, NGX_HTTP_MCP_ABORT_CANCEL);
            return;
        }
    }
}


static void
ngx_http_mcp_call_timer(ngx_event_t *ev)
{
    ngx_http_mcp_flight_t *f = ev->data;

    ngx_http_mcp_call_abort(f, f->abort ? f->abort
                                        : NGX_HTTP_MCP_ABORT_TIMEOUT);
}


static void
ngx_http_mcp_call_abort(ngx_http_mcp_flight_t *f, ngx_uint_t why)
{
    ngx_int_t          rc;
    ngx_connection_t  *c;

    c = f->request->connection;

    rc = ngx_http_mcp_location_abort(f->op, why);

    if (rc == NGX_AGAIN || rc == NGX_DECLINED) {

        /*
         * The request is blocked (AIO, a thread, a proxy_cache_lock wait),
         * or no upstream runs for it (a handler that is not one): tried
         * again until the call ends
         */

        if (rc == NGX_DECLINED && !f->warned) {
            ngx_log_error(NGX_LOG_WARN, c->log, 0,
                          "mcp: the call to \"%V\" cannot be stopped now: "
                          "no upstream runs for it", &f->op->loc->uri);
            f->warned = 1;
        }

        f->abort = why;

        if (f->timer.timer_set) {
            ngx_del_timer(&f->timer);
        }

        ngx_add_timer(&f->timer, (rc == NGX_AGAIN) ? 100 : 1000);
        return;
    }

    /* the subrequest ended and posted this request */

    ngx_http_run_posted_requests(c);
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
