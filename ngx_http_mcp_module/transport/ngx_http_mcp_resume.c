
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "transport/ngx_http_mcp_http.h"
#include "transport/ngx_http_mcp_sse.h"
#include "state/ngx_http_mcp_events.h"
#include "state/ngx_http_mcp_mailbox.h"
#include "state/ngx_http_mcp_session.h"


/*
 * The event stream of a POST, the one way its messages reach the client.
 *
 * In a 2025-11-25 session the stream is resumable: it has a name ("p" and
 * 16 hex digits), begins with a priming event (an id, no data), and each
 * of its events has an id and is kept in the session's event buffer
 * (state/ngx_http_mcp_events.h).  When the client goes away, or when the
 * call has been quiet for mcp_sse_poll and the server ends the stream
 * early with a retry: hint (SEP-1699 polling), the call goes on: the
 * request is detached from its connection, and what the call still says,
 * its response too, is kept in the buffer and told to every worker (an
 * EVENT letter), for the client that resumes the stream with a GET and
 * Last-Event-ID, wherever it lands (ngx_http_mcp_stream.c).
 */


struct ngx_http_mcp_resume_s {
    ngx_http_request_t         *request;
    ngx_http_mcp_store_ref_t   *ref;
    ngx_event_t                 poll;
    ngx_event_handler_pt        read_handler;  /* the connection's */
    ngx_uint_t                  seq;           /* the next event's */
    ngx_http_mcp_events_hint_t  hint;
    u_char                      key[NGX_HTTP_MCP_SESSION_ID_LEN];
    u_char                      name[NGX_HTTP_MCP_STREAM_NAME_LEN];
    unsigned                    detached:1;
    unsigned                    closed:1;      /* by the client */
    unsigned                    polls:1;       /* may end early */
};


static ngx_int_t ngx_http_mcp_resume_keep(ngx_http_mcp_resume_t *rs,
    ngx_str_t *message, ngx_uint_t last);
static void ngx_http_mcp_resume_poll(ngx_event_t *ev);
static void ngx_http_mcp_resume_read(ngx_event_t *rev);
static void ngx_http_mcp_resume_cleanup(void *data);


/* a call of a 2025-11-25 session that may stream: its resumable stream */

ngx_int_t
ngx_http_mcp_post_resumable(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx)
{
    uint64_t                  n;
    ngx_str_t                 id;
    ngx_pool_cleanup_t       *cln;
    ngx_http_mcp_resume_t    *rs;
    ngx_http_mcp_loc_conf_t  *mlcf;

    if (ctx->resume || ctx->session.version != NGX_HTTP_MCP_V_2025_11_25
        || !(ctx->accept & NGX_HTTP_MCP_ACCEPT_SSE))
    {
        return NGX_OK;
    }

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    rs = ngx_pcalloc(r->pool, sizeof(ngx_http_mcp_resume_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (rs == NULL || cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_mcp_resume_cleanup;
    cln->data = rs;

    rs->request = r;
    rs->ref = mlcf->session_store;

    id.data = ctx->session.id;
    id.len = NGX_HTTP_MCP_SESSION_ID_LEN;
    ngx_http_mcp_session_digest(&id, rs->key);

    n = (uint64_t) ngx_random() << 32 ^ (uint64_t) ngx_random() << 1
        ^ (uint64_t) (uintptr_t) rs;
    rs->name[0] = 'p';
    (void) ngx_hex_dump(&rs->name[1], (u_char *) &n, sizeof(n));

    ctx->resume = rs;

    /* over HTTP/2 a stream that ends ends its request: no polling */

    if (mlcf->sse_poll
#if (NGX_HTTP_V2)
        && r->stream == NULL
#endif
       )
    {
        rs->poll.handler = ngx_http_mcp_resume_poll;
        rs->poll.data = r;
        rs->poll.log = r->connection->log;
        rs->poll.cancelable = 1;

        ngx_add_timer(&rs->poll, mlcf->sse_poll);
        rs->polls = 1;
    }

    return NGX_OK;
}


/* the POST's event stream, once: NGX_OK, or what starting it failed with */

ngx_int_t
ngx_http_mcp_post_stream(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx)
{
    u_char                  buf[NGX_HTTP_MCP_STREAM_NAME_LEN + 32];
    ngx_int_t               rc;
    ngx_str_t               fields;
    ngx_connection_t       *c;
    ngx_http_mcp_resume_t  *rs;

    if (ctx->sse) {
        return NGX_OK;
    }

    rs = ctx->resume;

    if (rs && rs->polls) {

        /* it may end early: the client must not send another request on
         * a connection the call still holds */

        r->keepalive = 0;
    }

    rc = ngx_http_mcp_sse_start(&ctx->stream, r);

    if (rc != NGX_OK) {
        return rc;
    }

    ctx->sse = 1;

    if (rs == NULL) {
        return NGX_OK;
    }

    /* the priming event, kept as the stream's first */

    fields.data = buf;
    fields.len = ngx_sprintf(buf, "id: %*s-0" CRLF "data: " CRLF CRLF,
                             (size_t) NGX_HTTP_MCP_STREAM_NAME_LEN, rs->name)
                 - buf;

    if (ngx_http_mcp_resume_keep(rs, NULL, 0) != NGX_OK
        || ngx_http_mcp_sse_fields(&ctx->stream, &fields, 0) == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    /* a client that goes away does not end the call (HTTP/1: HTTP/2 ends
     * its streams itself) */

#if (NGX_HTTP_V2)
    if (r->stream) {
        return NGX_OK;
    }
#endif

    c = r->connection;

    rs->read_handler = c->read->handler;
    c->read->handler = ngx_http_mcp_resume_read;

    return NGX_OK;
}


/*
 * A message on the POST's stream, last: the response.  A detached
 * stream's messages are kept for the client that resumes it.
 */

ngx_int_t
ngx_http_mcp_post_event(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx,
    ngx_str_t *message, ngx_uint_t last)
{
    u_char                  buf[NGX_HTTP_MCP_STREAM_NAME_LEN + NGX_INT_T_LEN
                                + 1];
    ngx_int_t               rc;
    ngx_str_t               id;
    ngx_http_mcp_resume_t  *rs;

    rs = ctx->resume;

    if (rs == NULL || !rs->detached) {
        rc = ngx_http_mcp_post_stream(r, ctx);

        if (rc != NGX_OK) {
            return rc;
        }
    }

    if (rs == NULL) {
        return ngx_http_mcp_sse_send(&ctx->stream, NULL, message, last);
    }

    id.data = buf;
    id.len = ngx_sprintf(buf, "%*s-%ui",
                         (size_t) NGX_HTTP_MCP_STREAM_NAME_LEN, rs->name,
                         rs->seq)
             - buf;

    if (ngx_http_mcp_resume_keep(rs, message, last) != NGX_OK) {
        return NGX_ERROR;
    }

    if (rs->detached) {
        if (!last) {
            return NGX_OK;
        }

        /* nothing more goes to the client: the request ends quietly */

        return ngx_http_mcp_post_detached(ctx);
    }

    rc = ngx_http_mcp_sse_send(&ctx->stream, &id, message, last);

    if (rc == NGX_ERROR && !last) {

        /* the client is gone: the rest is kept */

        rs->detached = 1;
        rs->closed = 1;
        return NGX_OK;
    }

    return rc;
}


ngx_int_t
ngx_http_mcp_post_detached(ngx_http_mcp_ctx_t *ctx)
{
    ngx_http_mcp_resume_t  *rs;

    rs = ctx->resume;

    if (rs == NULL || !rs->detached) {
        return NGX_DECLINED;
    }

    return rs->closed ? NGX_HTTP_CLIENT_CLOSED_REQUEST : NGX_OK;
}


/* the event into the buffer; detached: to every worker too */

static ngx_int_t
ngx_http_mcp_resume_keep(ngx_http_mcp_resume_t *rs, ngx_str_t *message,
    ngx_uint_t last)
{
    u_char                *p;
    ngx_http_mcp_event_t   ev;
    ngx_http_mcp_letter_t  letter;

    ngx_memcpy(ev.stream, rs->name, NGX_HTTP_MCP_STREAM_NAME_LEN);
    ev.seq = rs->seq++;
    ev.last = last;

    if (message) {
        ev.data = *message;

    } else {
        ev.data.data = (u_char *) "";       /* memcpy() takes no NULL */
        ev.data.len = 0;
    }

    ngx_http_mcp_events_add(rs->ref, rs->key, &ev, NULL, &rs->hint,
                            rs->request->connection->log);

    if (!rs->detached) {
        return NGX_OK;
    }

    /* "SEQ LAST\nDATA" */

    p = ngx_pnalloc(rs->request->pool, 2 * NGX_INT_T_LEN + ev.data.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&letter, sizeof(ngx_http_mcp_letter_t));
    letter.kind = NGX_HTTP_MCP_LETTER_EVENT;
    letter.session.data = rs->key;
    letter.session.len = NGX_HTTP_MCP_SESSION_ID_LEN;
    letter.id.data = rs->name;
    letter.id.len = NGX_HTTP_MCP_STREAM_NAME_LEN;
    letter.body.data = p;
    p = ngx_sprintf(p, "%ui %ui\n", ev.seq, last ? 1 : 0);
    p = ngx_cpymem(p, ev.data.data, ev.data.len);
    letter.body.len = p - letter.body.data;

    (void) ngx_http_mcp_mailbox_post(&letter, 1);

    return NGX_OK;
}


/* the call has been quiet for mcp_sse_poll: the stream ends early */

static void
ngx_http_mcp_resume_poll(ngx_event_t *ev)
{
    ngx_http_request_t *r = ev->data;

    u_char                    buf[sizeof("retry: " CRLF CRLF) + NGX_INT_T_LEN];
    ngx_int_t                 rc;
    ngx_str_t                 retry;
    ngx_connection_t         *c;
    ngx_http_mcp_ctx_t       *ctx;
    ngx_http_mcp_resume_t    *rs;
    ngx_http_mcp_loc_conf_t  *mlcf;

    c = r->connection;
    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_module);
    rs = ctx->resume;

    if (rs->detached) {
        return;
    }

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "mcp stream: %*s ends early, the call goes on",
                   (size_t) NGX_HTTP_MCP_STREAM_NAME_LEN, rs->name);

    rc = ngx_http_mcp_post_stream(r, ctx);

    if (rc == NGX_OK) {
        retry.data = buf;
        retry.len = ngx_sprintf(buf, "retry: %M" CRLF CRLF, mlcf->sse_poll)
                    - buf;

        rc = ngx_http_mcp_sse_fields(&ctx->stream, &retry, 1);
    }

    rs->detached = 1;

    if (rc == NGX_ERROR) {
        rs->closed = 1;
    }

    ngx_http_run_posted_requests(c);
}


/* the client's connection while a resumable stream runs */

static void
ngx_http_mcp_resume_read(ngx_event_t *rev)
{
    u_char                  buf[1];
    ssize_t                 n;
    ngx_err_t               err;
    ngx_connection_t       *c;
    ngx_http_request_t     *r;
    ngx_http_mcp_ctx_t     *ctx;
    ngx_http_mcp_resume_t  *rs;

    c = rev->data;
    r = c->data;
    r = r->main;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_module);
    rs = ctx ? ctx->resume : NULL;

    if (rs == NULL) {
        return;
    }

    n = recv(c->fd, buf, 1, MSG_PEEK);
    err = ngx_socket_errno;

    if (n == -1 && err == NGX_EAGAIN) {
        if (ngx_handle_read_event(rev, 0) != NGX_OK) {
            rs->detached = 1;
            rs->closed = 1;
        }

        return;
    }

    if (n > 0) {

        /* a next request: it waits until this one ends */

        if ((ngx_event_flags & NGX_USE_LEVEL_EVENT) && rev->active) {
            (void) ngx_del_event(rev, NGX_READ_EVENT, 0);
        }

        return;
    }

    /* the client has gone: the call goes on, what it says is kept */

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "mcp stream: the client went away, the call goes on");

    rs->detached = 1;
    rs->closed = 1;

    if ((ngx_event_flags & NGX_USE_LEVEL_EVENT) && rev->active) {
        (void) ngx_del_event(rev, NGX_READ_EVENT, 0);
    }

    if (ctx->stream.ping.timer_set) {
        ngx_del_timer(&ctx->stream.ping);
    }
}


static void
ngx_http_mcp_resume_cleanup(void *data)
{
    ngx_http_mcp_resume_t *rs = data;

    if (rs->poll.timer_set) {
        ngx_del_timer(&rs->poll);
    }
}
