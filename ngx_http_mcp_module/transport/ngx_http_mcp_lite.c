
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "transport/ngx_http_mcp_stream.h"
#include "transport/ngx_http_mcp_sse.h"
#include "observe/ngx_http_mcp_metrics.h"


/*
 * A light GET stream.  An open GET stream needs nothing of its request but
 * its connection: once its headers and priming event are out, the request
 * is freed (its pool, the lists and variables nginx keeps per request: most
 * of a stream's memory) and a copy of the stream, allocated on its own,
 * keeps the connection.  It writes its chunked events itself, keeps what
 * the client has not taken yet (dropped past NGX_HTTP_MCP_STREAM_BUFFER_MAX,
 * as a heavy stream is), sends the keep-alive comments, and ends as a heavy
 * stream does: when its client goes, or with the list changes of a reload
 * and a retry: hint when its worker shuts down.  The request's access log
 * line is written when it becomes light.
 */


#define NGX_HTTP_MCP_LITE_RETRY  "retry: 1000" CRLF CRLF
#define NGX_HTTP_MCP_LITE_PING   ": keep-alive" CRLF CRLF
#define NGX_HTTP_MCP_LITE_END    "0" CRLF CRLF
#define NGX_HTTP_MCP_LITE_FRAME  4096


static void ngx_http_mcp_lite_start(ngx_event_t *ev);
static void ngx_http_mcp_lite_cancel(void *data);
static ngx_int_t ngx_http_mcp_lite_put(ngx_http_mcp_stream_t *st,
    ngx_str_t *id, ngx_str_t *message, ngx_str_t *raw, ngx_uint_t last);
static ngx_int_t ngx_http_mcp_lite_out(ngx_http_mcp_stream_t *st,
    u_char *data, size_t len);
static ngx_int_t ngx_http_mcp_lite_flush(ngx_http_mcp_stream_t *st);
static ngx_int_t ngx_http_mcp_lite_wait(ngx_http_mcp_stream_t *st,
    ngx_uint_t progress);
static void ngx_http_mcp_lite_quiet(ngx_connection_t *c);
static void ngx_http_mcp_lite_read(ngx_event_t *rev);
static void ngx_http_mcp_lite_write(ngx_event_t *wev);
static void ngx_http_mcp_lite_ping(ngx_event_t *ev);
static void ngx_http_mcp_lite_end(ngx_http_mcp_stream_t *st);


/* from stream.c, when a GET stream is open: light from the event loop */

void
ngx_http_mcp_stream_lighten(ngx_http_mcp_stream_t *st)
{
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(st->request->pool, 0);
    if (cln == NULL) {
        return;                             /* it stays as it is */
    }

    cln->handler = ngx_http_mcp_lite_cancel;
    cln->data = st;

    st->lighten.handler = ngx_http_mcp_lite_start;
    st->lighten.data = st;
    st->lighten.log = st->request->connection->log;

    ngx_post_event(&st->lighten, &ngx_posted_events);
}


static void
ngx_http_mcp_lite_cancel(void *data)
{
    ngx_http_mcp_stream_t *st = data;

    if (st->lighten.posted) {
        ngx_delete_posted_event(&st->lighten);
    }
}


static void
ngx_http_mcp_lite_start(ngx_event_t *ev)
{
    ngx_http_mcp_stream_t *st = ev->data;

    ngx_connection_t          *c;
    ngx_http_request_t        *r;
    ngx_http_mcp_stream_t     *lt;
    ngx_http_core_loc_conf_t  *clcf;

    r = st->request;
    c = r->connection;

    /* only a stream with everything sent, and no other request on it */

    if (st->sse.ended || r->out || r->buffered || r->postponed || c->buffered
        || r != r->main || r->main->count != 1 || c->data != r
        || c->write->timer_set || c->read->timer_set)
    {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0,
                       "mcp stream: stays with its request");
        return;
    }

    lt = ngx_memalign(NGX_CPU_CACHE_LINE, sizeof(ngx_http_mcp_stream_t),
                      c->log);
    if (lt == NULL) {
        return;
    }

    *lt = *st;

    lt->request = NULL;
    lt->conn = c;
    lt->lite = 1;
    lt->registered = 0;
    lt->h2 = 0;
    lt->replay = NULL;
    ngx_memzero(&lt->x, sizeof(ngx_http_mcp_exchange_t));
    ngx_memzero(&lt->sse, sizeof(ngx_http_mcp_sse_t));
    ngx_memzero(&lt->lighten, sizeof(ngx_event_t));
    ngx_str_null(&lt->session.client_capabilities);
    ngx_str_null(&lt->session.client_info);
    lt->keepalive = st->sse.keepalive;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);
    lt->send_timeout = clcf->send_timeout;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "mcp stream: %s goes light", lt->id);

    /* the request goes (its cleanups take st out, its log line is written) */

    ngx_http_free_request(r, 0);

    c->destroyed = 0;
    c->data = lt;
    c->idle = 1;
    c->read->handler = ngx_http_mcp_lite_read;
    c->write->handler = ngx_http_mcp_lite_write;
    c->log->action = "streaming MCP events";

    ngx_http_mcp_streams_add_lite(lt);
    ngx_http_mcp_metrics_stream(1);

    lt->ping.handler = ngx_http_mcp_lite_ping;
    lt->ping.data = lt;
    lt->ping.log = c->log;
    lt->ping.cancelable = 1;

    lt->written = ngx_current_msec;
    ngx_add_timer(&lt->ping, lt->keepalive);

    ngx_http_mcp_lite_quiet(c);

    if (c->read->ready) {
        ngx_post_event(c->read, &ngx_posted_events);
    }
}


ngx_int_t
ngx_http_mcp_lite_send(ngx_http_mcp_stream_t *st, ngx_str_t *id,
    ngx_str_t *message)
{
    if (ngx_http_mcp_lite_put(st, id, message, NULL, 0) == NGX_ERROR) {
        return NGX_ERROR;
    }

    /* the ping timer stays: it looks at this when it fires */

    st->written = ngx_current_msec;

    return NGX_OK;
}


/*
 * One chunk, an event (id, message) or raw SSE lines, and the last chunk
 * after it if `last`: framed on the stack (in memory of its own if large),
 * where it stays in cache for the socket; NGX_ERROR: drop the stream
 */

static ngx_int_t
ngx_http_mcp_lite_put(ngx_http_mcp_stream_t *st, ngx_str_t *id,
    ngx_str_t *message, ngx_str_t *raw, ngx_uint_t last)
{
    u_char     buf[NGX_HTTP_MCP_LITE_FRAME], *start, *p;
    size_t     len, size;
    ngx_int_t  rc;

    len = raw ? raw->len : ngx_http_mcp_sse_size(id, message);
    size = NGX_SIZE_T_LEN + 2 + len + 2 + sizeof(NGX_HTTP_MCP_LITE_END) - 1;

    if (size <= sizeof(buf)) {
        start = buf;

    } else {
        start = ngx_alloc(size, st->conn->log);
        if (start == NULL) {
            return NGX_ERROR;
        }
    }

    p = ngx_sprintf(start, "%xz" CRLF, len);
    p = raw ? ngx_cpymem(p, raw->data, raw->len)
            : ngx_http_mcp_sse_frame(p, id, message);
    *p++ = CR; *p++ = LF;

    if (last) {
        p = ngx_cpymem(p, NGX_HTTP_MCP_LITE_END,
                       sizeof(NGX_HTTP_MCP_LITE_END) - 1);
    }

    rc = ngx_http_mcp_lite_out(st, start, p - start);

    if (start != buf) {
        ngx_free(start);
    }

    return rc;
}


/*
 * Bytes for the client: sent at once when nothing waits, and what the
 * socket does not take is kept (the stream is dropped when more than
 * NGX_HTTP_MCP_STREAM_BUFFER_MAX would wait); NGX_OK: all sent; NGX_AGAIN:
 * the rest goes when the socket takes it; NGX_ERROR: drop the stream
 */

static ngx_int_t
ngx_http_mcp_lite_out(ngx_http_mcp_stream_t *st, u_char *data, size_t len)
{
    u_char            *out;
    size_t             size;
    ssize_t            n;
    ngx_connection_t  *c;

    c = st->conn;
    n = 0;

    if (st->out_pos == st->out_last) {

        /* nothing waits, nor does a write timer run */

        n = c->send(c, data, len);

        if (n == NGX_ERROR || n == 0) {
            return NGX_ERROR;
        }

        if (n == (ssize_t) len) {
            return NGX_OK;
        }

        if (n > 0) {
            data += n;
            len -= n;
        }
    }

    if (st->out_last - st->out_pos + len > NGX_HTTP_MCP_STREAM_BUFFER_MAX) {
        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "mcp stream: the client does not read, %uz bytes "
                      "unsent: stream dropped", st->out_last - st->out_pos);
        return NGX_ERROR;
    }

    if (st->out_size - st->out_last < len) {

        /* what waits moves to the start of a buffer big enough */

        size = ngx_max(2 * (st->out_last - st->out_pos + len), 1024);

        out = ngx_alloc(size, c->log);
        if (out == NULL) {
            return NGX_ERROR;
        }

        if (st->out) {
            ngx_memcpy(out, st->out + st->out_pos,
                       st->out_last - st->out_pos);
            ngx_free(st->out);
        }

        st->out_last -= st->out_pos;
        st->out_pos = 0;
        st->out = out;
        st->out_size = size;
    }

    st->out_last = ngx_cpymem(st->out + st->out_last, data, len) - st->out;

    if (n != 0) {
        return ngx_http_mcp_lite_wait(st, n > 0);   /* the socket is full */
    }

    return ngx_http_mcp_lite_flush(st);
}


/*
 * NGX_OK: all sent, and the buffer freed (an idle stream keeps none);
 * NGX_AGAIN: the rest when the socket takes it
 */

static ngx_int_t
ngx_http_mcp_lite_flush(ngx_http_mcp_stream_t *st)
{
    ssize_t            n;
    ngx_uint_t         sent;
    ngx_connection_t  *c;

    c = st->conn;
    sent = 0;

    while (st->out_pos < st->out_last) {

        n = c->send(c, st->out + st->out_pos, st->out_last - st->out_pos);

        if (n == NGX_ERROR || n == 0) {
            return NGX_ERROR;
        }

        if (n == NGX_AGAIN) {
            return ngx_http_mcp_lite_wait(st, sent);
        }

        st->out_pos += n;
        sent = 1;
    }

    if (st->out) {
        ngx_free(st->out);
        st->out = NULL;
    }

    st->out_pos = 0;
    st->out_last = 0;
    st->out_size = 0;

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    ngx_http_mcp_lite_quiet(c);

    if (st->ended) {
        ngx_http_mcp_lite_close(st);        /* its last chunk went */
        return NGX_DONE;
    }

    return NGX_OK;
}


/*
 * The socket takes no more: the rest when it does.  A client that takes
 * nothing for send_timeout is let go; one that took some has that long
 * again (as nginx's ngx_http_writer() does).
 */

static ngx_int_t
ngx_http_mcp_lite_wait(ngx_http_mcp_stream_t *st, ngx_uint_t progress)
{
    ngx_connection_t  *c;

    c = st->conn;

    if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    if (progress || !c->write->timer_set) {
        ngx_add_timer(c->write, st->send_timeout);
    }

    return NGX_AGAIN;
}


/*
 * While nothing waits, a stream does not ask to hear that its socket takes
 * more: with epoll each ACK of its client would post a write event for
 * nothing (a publication to 10,000 streams, 10,000 events after it);
 * ngx_handle_write_event() asks again when a send() cannot go on
 */

static void
ngx_http_mcp_lite_quiet(ngx_connection_t *c)
{
    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT,
                             (ngx_event_flags & NGX_USE_CLEAR_EVENT)
                             ? NGX_CLEAR_EVENT : 0);
    }
}


static void
ngx_http_mcp_lite_write(ngx_event_t *wev)
{
    ngx_connection_t       *c;
    ngx_http_mcp_stream_t  *st;

    c = wev->data;
    st = c->data;

    if (wev->timedout) {
        ngx_log_error(NGX_LOG_INFO, c->log, NGX_ETIMEDOUT,
                      "client timed out on the MCP stream");
        c->timedout = 1;
        ngx_http_mcp_lite_close(st);
        return;
    }

    if (ngx_http_mcp_lite_flush(st) == NGX_ERROR) {
        ngx_http_mcp_lite_close(st);
    }
}


static void
ngx_http_mcp_lite_ping(ngx_event_t *ev)
{
    ngx_http_mcp_stream_t *st = ev->data;

    ngx_str_t     ping;
    ngx_msec_t    quiet;

    /* an event went out meanwhile: the comment is due that much later */

    quiet = ngx_current_msec - st->written;

    if (quiet < st->keepalive) {
        ngx_add_timer(&st->ping, st->keepalive - quiet);
        return;
    }

    ngx_str_set(&ping, NGX_HTTP_MCP_LITE_PING);

    if (ngx_http_mcp_lite_put(st, NULL, NULL, &ping, 0) == NGX_ERROR) {
        ngx_http_mcp_lite_close(st);
        return;
    }

    st->written = ngx_current_msec;

    ngx_add_timer(&st->ping, st->keepalive);
}


/* the client's end, or the worker's (c->close) */

static void
ngx_http_mcp_lite_read(ngx_event_t *rev)
{
    u_char                  buf[1];
    ssize_t                 n;
    ngx_err_t               err;
    ngx_connection_t       *c;
    ngx_http_mcp_stream_t  *st;

    c = rev->data;
    st = c->data;

    if (c->close) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                       "mcp stream: %s ends: the worker shuts down", st->id);
        ngx_http_mcp_lite_end(st);
        return;
    }

    n = recv(c->fd, buf, 1, MSG_PEEK);
    err = ngx_socket_errno;

    if (n == -1 && err == NGX_EAGAIN) {
        if (ngx_handle_read_event(rev, 0) != NGX_OK) {
            ngx_http_mcp_lite_close(st);
        }

        return;
    }

    if (n > 0) {

        /* something it sent has no place on a stream: it is left there */

        if ((ngx_event_flags & NGX_USE_LEVEL_EVENT) && rev->active) {
            (void) ngx_del_event(rev, NGX_READ_EVENT, 0);
        }

        return;
    }

    ngx_log_error(NGX_LOG_INFO, c->log, err,
                  "client closed the MCP stream");

    ngx_http_mcp_lite_close(st);
}


/* the worker shuts down: what a reload changed, a hint, the last chunk */

static void
ngx_http_mcp_lite_end(ngx_http_mcp_stream_t *st)
{
    ngx_str_t  retry;

    if (ngx_http_mcp_streams_reloaded(st) != NGX_OK) {
        return;                                 /* dropped */
    }

    ngx_str_set(&retry, NGX_HTTP_MCP_LITE_RETRY);

    if (ngx_http_mcp_lite_put(st, NULL, NULL, &retry, 1) != NGX_AGAIN) {
        ngx_http_mcp_lite_close(st);
        return;
    }

    /* the end goes when the socket takes it, or send_timeout lets it go */

    st->ended = 1;

    if (st->ping.timer_set) {
        ngx_del_timer(&st->ping);
    }
}


void
ngx_http_mcp_lite_close(ngx_http_mcp_stream_t *st)
{
    ngx_connection_t  *c;

    c = st->conn;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "mcp stream: %s closed", st->id);

    ngx_http_mcp_streams_drop(st);
    ngx_http_mcp_metrics_stream(-1);

    if (st->ping.timer_set) {
        ngx_del_timer(&st->ping);
    }

    if (st->out) {
        ngx_free(st->out);
    }

    ngx_free(st);

    ngx_http_close_connection(c);
}
