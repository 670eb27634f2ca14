
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/crypto.h>

#include "ngx_http_mcp_module.h"
#include "transport/ngx_http_mcp_http.h"
#include "transport/ngx_http_mcp_sse.h"
#include "transport/ngx_http_mcp_stream.h"
#include "protocol/ngx_http_mcp_dispatch.h"
#include "protocol/ngx_http_mcp_jsonrpc.h"
#include "state/ngx_http_mcp_store.h"
#include "state/ngx_http_mcp_events.h"
#include "state/ngx_http_mcp_mailbox.h"
#include "auth/ngx_http_mcp_auth.h"
#include "observe/ngx_http_mcp_observe.h"


/*
 * The standalone GET stream of a session (the 2025 revisions; 2026 has
 * none): an event stream that stays open for what the server says outside
 * any request of the client.  Its session is looked up as a POST's is, and
 * is its creator's alone.  A 2025-11-25 stream begins with a priming event
 * (an id and no data); a quiet stream gets a keep-alive comment every
 * mcp_sse_keepalive.  Event ids are "g" and 16 hex digits of the stream,
 * "-" and a sequence number: unique among the session's streams, and
 * saying which stream they belong to.
 *
 * A worker that shuts down (a reload, a quit) closes its idle connections
 * first; a stream's connection counts as idle, and its read handler then
 * ends the stream whole, with a retry: hint, so that the client comes
 * back, to a worker that stays, after that long.  A client that goes away
 * ends it too (ngx_http_test_reading()).
 */


#define NGX_HTTP_MCP_STREAM_RETRY  "retry: 1000" CRLF CRLF


static void ngx_http_mcp_stream_lookup_handler(void *data, ngx_int_t rc);
static ngx_int_t ngx_http_mcp_stream_open(ngx_http_mcp_stream_t *st,
    ngx_int_t rc);
static ngx_int_t ngx_http_mcp_stream_prime(ngx_http_mcp_stream_t *st);
static void ngx_http_mcp_stream_read(ngx_event_t *rev);
static ngx_int_t ngx_http_mcp_stream_resume(ngx_http_mcp_stream_t *st);
static void ngx_http_mcp_stream_replay_handler(void *data, ngx_int_t rc);
static ngx_int_t ngx_http_mcp_stream_replay(ngx_http_mcp_stream_t *st,
    ngx_int_t rc);
static ngx_int_t ngx_http_mcp_stream_begin(ngx_http_mcp_stream_t *st);
static ngx_int_t ngx_http_mcp_stream_new(ngx_http_mcp_stream_t *st);
static ngx_int_t ngx_http_mcp_stream_take(ngx_http_mcp_stream_t *st,
    ngx_uint_t get, ngx_int_t *rc);
static void ngx_http_mcp_stream_forget(void *data);


/* this worker's streams that resume a POST's, waiting for its events */
static ngx_queue_t  ngx_http_mcp_resumers;
static ngx_int_t ngx_http_mcp_stream_write(ngx_http_mcp_stream_t *st,
    ngx_str_t *message, ngx_http_mcp_events_share_t *share);
static void ngx_http_mcp_stream_hold(ngx_http_mcp_stream_t *st);


ngx_int_t
ngx_http_mcp_get(ngx_http_request_t *r, ngx_http_mcp_loc_conf_t *mlcf)
{
    ngx_int_t                  rc;
    ngx_http_mcp_ctx_t        *ctx;
    ngx_http_mcp_stream_t     *st;
    ngx_http_mcp_store_ref_t  *ref;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_mcp_ctx_t));
    st = ngx_pcalloc(r->pool, sizeof(ngx_http_mcp_stream_t));

    if (ctx == NULL || st == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* errors answer as a POST's would, in what Accept allows */

    ctx->accept = ngx_http_mcp_accept(r);
    ctx->get = st;
    ngx_http_set_ctx(r, ctx, ngx_http_mcp_module);

    st->request = r;
    st->server = mlcf->server;
    st->x.pool = r->pool;

    ngx_http_mcp_read_headers(r, &st->x);

    if (ngx_http_mcp_dispatch_era(&st->x) == NGX_HTTP_MCP_ERA_MODERN) {

        /* 2026 clients listen with subscriptions/listen, a POST */

        if (ngx_http_mcp_add_header(r, "Allow", (u_char *) "POST", 4)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_mcp_fail(r, NGX_HTTP_NOT_ALLOWED, NULL,
                                 NGX_HTTP_MCP_INVALID_REQUEST,
                                 "Method not allowed: this protocol "
                                 "revision has no GET stream", NULL);
    }

    if (!(ctx->accept & NGX_HTTP_MCP_ACCEPT_SSE)) {
        return ngx_http_mcp_fail(r, NGX_HTTP_MCP_NOT_ACCEPTABLE, NULL,
                                 NGX_HTTP_MCP_INVALID_REQUEST,
                                 "Not Acceptable: the GET stream is "
                                 "text/event-stream", NULL);
    }

    if (!st->x.has_session) {
        return ngx_http_mcp_fail(r, NGX_HTTP_BAD_REQUEST, NULL,
                                 NGX_HTTP_MCP_INVALID_REQUEST,
                                 "Mcp-Session-Id header is required", NULL);
    }

    ngx_http_mcp_observe(r)->session = st->x.h_session;

    ref = mlcf->session_store;

    rc = ref->store->lookup(ref, &st->x.h_session, mlcf->session_timeout,
                            r->pool, &st->session,
                            ngx_http_mcp_stream_lookup_handler, st);

    if (rc == NGX_AGAIN) {
        r->main->count++;
        return ngx_http_mcp_store_wait(r);
    }

    rc = ngx_http_mcp_stream_open(st, rc);

    if (rc == NGX_DONE) {
        r->main->count++;
    }

    return rc;
}


static void
ngx_http_mcp_stream_lookup_handler(void *data, ngx_int_t rc)
{
    ngx_http_mcp_stream_t *st = data;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, st->request->connection->log, 0,
                   "mcp stream: session lookup resumes: %i", rc);

    ngx_http_mcp_store_resume(st->request, ngx_http_mcp_stream_open(st, rc));
}


/* the session's answer: an error, or the stream (NGX_DONE) */

static ngx_int_t
ngx_http_mcp_stream_open(ngx_http_mcp_stream_t *st, ngx_int_t rc)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = st->request;
    c = r->connection;

    if (rc == NGX_BUSY) {
        return ngx_http_mcp_store_busy(r, NULL);
    }

    if (rc != NGX_OK && rc != NGX_DECLINED) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_OK
        && CRYPTO_memcmp(st->session.principal,
                         ngx_http_mcp_auth_identity(r)->principal,
                         NGX_HTTP_MCP_PRINCIPAL_LEN)
           != 0)
    {
        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "mcp: a session presented by a caller other than "
                      "the one that created it");
        rc = NGX_DECLINED;
    }

    if (rc == NGX_DECLINED) {
        ngx_http_mcp_observe(r)->session.len = 0;

        return ngx_http_mcp_fail(r, NGX_HTTP_NOT_FOUND, NULL,
                                 NGX_HTTP_MCP_SESSION_NOT_FOUND,
                                 "Session not found", NULL);
    }

    /* as on a POST: the header, when sent, is the session's revision */

    if (st->x.has_version
        && ngx_http_mcp_version_parse(&st->x.h_version)
           != st->session.version)
    {
        return ngx_http_mcp_fail(r, NGX_HTTP_BAD_REQUEST, NULL,
                                 NGX_HTTP_MCP_INVALID_REQUEST,
                                 "MCP-Protocol-Version does not match the "
                                 "session's protocol version", NULL);
    }

    ngx_http_mcp_session_digest(&st->x.h_session, st->digest);
    ngx_http_mcp_observe(r)->client_info = st->session.client_info;

    st->store = ((ngx_http_mcp_loc_conf_t *)
                 ngx_http_get_module_loc_conf(r, ngx_http_mcp_module))
                ->session_store;

    /* Last-Event-ID: the rest of that stream, if it is kept */

    rc = ngx_http_mcp_stream_resume(st);

    if (rc != NGX_DECLINED) {
        return rc;
    }

    return ngx_http_mcp_stream_new(st);
}


/*
 * A new GET stream of the session; one per session (in this worker), as
 * the SDKs do
 */

static ngx_int_t
ngx_http_mcp_stream_new(ngx_http_mcp_stream_t *st)
{
    uint64_t   n;
    ngx_int_t  rc;

    if (ngx_http_mcp_stream_take(st, 1, &rc) != NGX_OK) {
        return rc;
    }

    n = (uint64_t) ngx_random() << 32 ^ (uint64_t) ngx_random() << 1
        ^ (uint64_t) (uintptr_t) st;
    st->id[0] = 'g';
    (void) ngx_hex_dump(&st->id[1], (u_char *) &n, sizeof(n));

    if (st->session.version >= NGX_HTTP_MCP_V_2025_11_25
        && ngx_http_mcp_stream_prime(st) == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    return ngx_http_mcp_stream_begin(st);
}


/*
 * The response becomes the stream (NGX_OK); as the session's GET stream
 * (get), one per session in this worker, else 409.  NGX_DECLINED: it does
 * not, and the request ends with *rc.
 */

static ngx_int_t
ngx_http_mcp_stream_take(ngx_http_mcp_stream_t *st, ngx_uint_t get,
    ngx_int_t *rc)
{
    ngx_http_request_t  *r;

    r = st->request;

    if (get && ngx_http_mcp_streams_find(st->digest)) {
        *rc = ngx_http_mcp_fail(r, NGX_HTTP_CONFLICT, NULL,
                                NGX_HTTP_MCP_INVALID_REQUEST,
                                "Conflict: the session has a GET stream "
                                "open already", NULL);
        return NGX_DECLINED;
    }

    *rc = ngx_http_mcp_sse_start(&st->sse, r);

    if (*rc != NGX_OK) {
        return NGX_DECLINED;
    }

    if (get && ngx_http_mcp_streams_add(st) != NGX_OK) {
        *rc = NGX_ERROR;
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* the stream stays open */

static ngx_int_t
ngx_http_mcp_stream_begin(ngx_http_mcp_stream_t *st)
{
    ngx_http_mcp_stream_hold(st);

    /* the header goes now, with no event to carry it (2025-06-18) */

    if (ngx_http_send_special(st->request, NGX_HTTP_FLUSH) == NGX_ERROR) {
        return NGX_ERROR;
    }

    /* a GET stream of HTTP/1 keeps only its connection, once open */

    if (st->id[0] == 'g' && st->listen == NULL
#if (NGX_HTTP_V2)
        && st->request->stream == NULL
#endif
       )
    {
        ngx_http_mcp_stream_lighten(st);
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, st->request->connection->log, 0,
                   "mcp stream: %s open", st->id);

    return NGX_DONE;
}


/* the end: the client's, or the worker's (with a retry: hint) */

static void
ngx_http_mcp_stream_hold(ngx_http_mcp_stream_t *st)
{
    ngx_connection_t  *c;

    c = st->request->connection;

#if (NGX_HTTP_V2)
    if (st->request->stream) {

        /*
         * HTTP/2: the connection is the h2 stream's; a client that goes
         * away is told by HTTP/2 through the request's read handler
         */

        st->request->read_event_handler = ngx_http_test_reading;
        return;
    }
#endif

    st->read_handler = c->read->handler;
    c->read->handler = ngx_http_mcp_stream_read;
    c->idle = 1;

    if (c->read->ready) {
        ngx_post_event(c->read, &ngx_posted_events);
    }
}


/*
 * A POST of subscriptions/listen (2026): its answer is a stream, first the
 * acknowledgement, then the notifications it asked for, tagged with its
 * id; it ends when the client goes, or with a response when the worker
 * shuts down.
 */

ngx_int_t
ngx_http_mcp_listen_start(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx)
{
    ngx_int_t               rc;
    ngx_http_mcp_stream_t  *st;

    st = ngx_pcalloc(r->pool, sizeof(ngx_http_mcp_stream_t));
    if (st == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    st->request = r;
    st->server = ctx->x.conf->server;
    st->listen = ctx->x.listen;
    ctx->get = st;

    rc = ngx_http_mcp_sse_start(&st->sse, r);

    if (rc != NGX_OK) {
        return rc;
    }

    ctx->sse = 1;

    if (ngx_http_mcp_streams_add(st) != NGX_OK
        || ngx_http_mcp_stream_write(st, &st->listen->ack, NULL) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_mcp_stream_hold(st);

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mcp stream: listen open");

    return NGX_DONE;
}


ngx_int_t
ngx_http_mcp_stream_send(ngx_http_mcp_stream_t *st, ngx_str_t *message,
    ngx_http_mcp_events_share_t *share)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    if (ngx_http_mcp_stream_write(st, message, share) == NGX_OK) {
        return NGX_OK;
    }

    if (st->lite) {
        ngx_http_mcp_lite_close(st);
        return NGX_ERROR;
    }

    r = st->request;
    c = r->connection;

    ngx_http_finalize_request(r, NGX_ERROR);
    ngx_http_run_posted_requests(c);

    return NGX_ERROR;
}


/* the one place a message goes onto a stream; NGX_ERROR: drop it */

static ngx_int_t
ngx_http_mcp_stream_write(ngx_http_mcp_stream_t *st, ngx_str_t *message,
    ngx_http_mcp_events_share_t *share)
{
    off_t                     unsent;
    u_char                    buf[17 + 1 + NGX_INT_T_LEN];
    ngx_int_t                 rc;
    ngx_str_t                 id, *idp;
    ngx_chain_t              *cl;
    ngx_http_mcp_event_t      ev;

    if (st->lite ? st->ended : st->sse.ended) {
        return NGX_OK;
    }

    idp = NULL;

    if (st->listen == NULL) {
        id.data = buf;
        id.len = ngx_sprintf(buf, "%*s-%ui", (size_t) 17, st->id,
                             st->events)
                 - buf;
        idp = &id;

        /* kept for a client that resumes the stream */

        ngx_memcpy(ev.stream, st->id, NGX_HTTP_MCP_STREAM_NAME_LEN);
        ev.seq = st->events++;
        ev.last = 0;
        ev.data = *message;

        ngx_http_mcp_events_add(st->store, st->digest, &ev, share,
                                &st->hint, ngx_http_mcp_stream_log(st));
    }

    if (st->lite) {
        return ngx_http_mcp_lite_send(st, idp, message);
    }

    rc = ngx_http_mcp_sse_send(&st->sse, idp, message, 0);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    unsent = 0;

    for (cl = st->sse.busy; cl; cl = cl->next) {
        unsent += ngx_buf_size(cl->buf);
    }

    if (unsent > NGX_HTTP_MCP_STREAM_BUFFER_MAX) {
        ngx_log_error(NGX_LOG_INFO, st->request->connection->log, 0,
                      "mcp stream: the client does not read, %O bytes "
                      "unsent: stream dropped", unsent);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* 2025-11-25: an event id first, without data, to resume from */

static ngx_int_t
ngx_http_mcp_stream_prime(ngx_http_mcp_stream_t *st)
{
    u_char     buf[sizeof("id: ") - 1 + 17 + 1 + NGX_INT_T_LEN
                   + sizeof(CRLF "data: " CRLF CRLF) - 1];
    ngx_str_t  fields;

    fields.data = buf;
    fields.len = ngx_sprintf(buf, "id: %s-%ui" CRLF "data: " CRLF CRLF,
                             st->id, st->events++)
                 - buf;

    return ngx_http_mcp_sse_fields(&st->sse, &fields, 0);
}


static void
ngx_http_mcp_stream_read(ngx_event_t *rev)
{
    ngx_connection_t    *c;
    ngx_http_mcp_ctx_t  *ctx;
    ngx_http_request_t  *r;

    c = rev->data;
    r = c->data;

    if (!c->close) {

        /* the client's end, or something it sent that has no place */

        ngx_http_test_reading(r);
        ngx_http_run_posted_requests(c);
        return;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_module);

    ngx_http_mcp_stream_shutdown(ctx->get);
}


void
ngx_http_mcp_stream_shutdown(ngx_http_mcp_stream_t *st)
{
    ngx_int_t            rc;
    ngx_str_t            retry, end;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = st->request;
    c = r->connection;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "mcp stream: ends: the worker shuts down");

    if (st->read_handler) {

        /* HTTP/1: the connection's own handler again (stream_hold) */

        c->close = 0;
        c->idle = 0;
        c->read->handler = st->read_handler;
    }

    /* what a reload changed, then the end */

    if (ngx_http_mcp_streams_reloaded(st) != NGX_OK) {
        return;                                 /* dropped */
    }

    if (st->listen) {
        if (ngx_http_mcp_listen_end(r->pool, st->listen, &end) != NGX_OK) {
            rc = NGX_ERROR;

        } else {
            rc = ngx_http_mcp_sse_send(&st->sse, NULL, &end, 1);
        }

    } else {
        ngx_str_set(&retry, NGX_HTTP_MCP_STREAM_RETRY);
        rc = ngx_http_mcp_sse_fields(&st->sse, &retry, 1);
    }

    r->keepalive = 0;

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


/*
 * A Last-Event-ID of the form of the module's ids ("g" or "p", 16 hex
 * digits, "-", a number): the events of that stream after it, from the
 * session's buffer.  NGX_DECLINED: no such header, an id of another form,
 * a stream the buffer does not know (another session's, or too old): the
 * client gets a new stream, the specification's answer to what cannot be
 * resumed.
 */

static ngx_int_t
ngx_http_mcp_stream_resume(ngx_http_mcp_stream_t *st)
{
    u_char                    *p, *last;
    ngx_int_t                  rc, after;
    ngx_uint_t                 i;
    ngx_table_elt_t           *h;
    ngx_http_request_t        *r;
    ngx_http_mcp_loc_conf_t   *mlcf;

    r = st->request;

    h = ngx_http_mcp_find_header(r, (u_char *) "last-event-id",
                                 sizeof("last-event-id") - 1);

    if (h == NULL
        || h->value.len < NGX_HTTP_MCP_STREAM_NAME_LEN + 2
        || h->value.len > NGX_HTTP_MCP_STREAM_NAME_LEN + 1 + NGX_INT_T_LEN
        || (h->value.data[0] != 'g' && h->value.data[0] != 'p')
        || h->value.data[NGX_HTTP_MCP_STREAM_NAME_LEN] != '-')
    {
        return NGX_DECLINED;
    }

    p = h->value.data;
    last = p + h->value.len;

    for (i = 1; i < NGX_HTTP_MCP_STREAM_NAME_LEN; i++) {
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) {
            return NGX_DECLINED;
        }
    }

    after = ngx_atoi(p + NGX_HTTP_MCP_STREAM_NAME_LEN + 1,
                     last - p - NGX_HTTP_MCP_STREAM_NAME_LEN - 1);

    if (after == NGX_ERROR) {
        return NGX_DECLINED;
    }

    ngx_memcpy(st->id, p, NGX_HTTP_MCP_STREAM_NAME_LEN);
    st->id[NGX_HTTP_MCP_STREAM_NAME_LEN] = '\0';
    st->events = after + 1;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    rc = ngx_http_mcp_events_get(mlcf->session_store, st->digest, st->id,
                                 after, r->pool, &st->replay,
                                 ngx_http_mcp_stream_replay_handler, st);

    if (rc == NGX_AGAIN) {
        return ngx_http_mcp_store_wait(r);
    }

    return ngx_http_mcp_stream_replay(st, rc);
}


static void
ngx_http_mcp_stream_replay_handler(void *data, ngx_int_t rc)
{
    ngx_http_mcp_stream_t *st = data;

    ngx_http_mcp_store_resume(st->request, ngx_http_mcp_stream_replay(st, rc));
}


/* what the buffer kept, then the stream goes on as the one it resumes */

static ngx_int_t
ngx_http_mcp_stream_replay(ngx_http_mcp_stream_t *st, ngx_int_t rc)
{
    u_char                 buf[NGX_HTTP_MCP_STREAM_NAME_LEN + NGX_INT_T_LEN
                               + 2];
    ngx_str_t              id;
    ngx_uint_t             i;
    ngx_pool_cleanup_t    *cln;
    ngx_http_request_t    *r;
    ngx_http_mcp_event_t  *ev;

    r = st->request;

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != NGX_OK || st->replay == NULL) {

        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "mcp stream: Last-Event-ID of nothing kept, "
                       "a new stream");

        st->events = 0;

        return ngx_http_mcp_stream_new(st);
    }

    /* a GET stream resumed is the session's GET stream again */

    if (ngx_http_mcp_stream_take(st, st->id[0] == 'g', &rc) != NGX_OK) {
        return rc;
    }

    /* the header goes now, even with nothing to replay */

    if (ngx_http_send_special(r, NGX_HTTP_FLUSH) == NGX_ERROR) {
        return NGX_ERROR;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mcp stream: %s resumed, %ui events kept",
                   st->id, st->replay->nelts);

    ev = st->replay->elts;

    for (i = 0; i < st->replay->nelts; i++) {

        id.data = buf;
        id.len = ngx_sprintf(buf, "%s-%ui", st->id, ev[i].seq) - buf;

        st->events = ev[i].seq + 1;

        if (ev[i].data.len == 0) {

            /* the priming event, or the end the client has seen */

            if (ev[i].last) {
                return ngx_http_mcp_sse_end(&st->sse);
            }

            continue;
        }

        rc = ngx_http_mcp_sse_send(&st->sse, &id, &ev[i].data, ev[i].last);

        if (rc == NGX_ERROR || ev[i].last) {
            return rc;
        }
    }

    if (st->id[0] == 'p') {

        /* the call goes on elsewhere: its events come by letter */

        cln = ngx_pool_cleanup_add(r->pool, 0);
        if (cln == NULL) {
            return NGX_ERROR;
        }

        if (ngx_http_mcp_resumers.next == NULL) {
            ngx_queue_init(&ngx_http_mcp_resumers);
        }

        ngx_queue_insert_tail(&ngx_http_mcp_resumers, &st->resumer);

        cln->handler = ngx_http_mcp_stream_forget;
        cln->data = st;

#if (NGX_HTTP_V2)
        if (r->stream) {
            ngx_http_mcp_streams_h2_join(st);
        }
#endif
    }

    return ngx_http_mcp_stream_begin(st);
}


/* an EVENT letter: the next of a stream a client of this worker resumes */

void
ngx_http_mcp_stream_event(ngx_http_mcp_letter_t *letter)
{
    u_char                 buf[NGX_HTTP_MCP_STREAM_NAME_LEN + NGX_INT_T_LEN
                               + 2];
    u_char                *p, *last, *nl;
    ngx_int_t              seq, rc;
    ngx_str_t              id, data;
    ngx_queue_t           *q, *next;
    ngx_connection_t      *c;
    ngx_http_request_t    *r;
    ngx_http_mcp_stream_t *st;

    if (ngx_http_mcp_resumers.next == NULL
        || letter->session.len != NGX_HTTP_MCP_SESSION_ID_LEN
        || letter->id.len != NGX_HTTP_MCP_STREAM_NAME_LEN)
    {
        return;
    }

    /* "SEQ LAST\nDATA" */

    p = letter->body.data;
    last = p + letter->body.len;
    nl = ngx_strlchr(p, last, '\n');

    if (nl == NULL || nl - p < 3 || nl[-2] != ' ') {
        return;
    }

    seq = ngx_atoi(p, nl - 2 - p);
    if (seq == NGX_ERROR) {
        return;
    }

    data.data = nl + 1;
    data.len = last - nl - 1;

    for (q = ngx_queue_head(&ngx_http_mcp_resumers);
         q != ngx_queue_sentinel(&ngx_http_mcp_resumers);
         q = next)
    {
        next = ngx_queue_next(q);
        st = ngx_queue_data(q, ngx_http_mcp_stream_t, resumer);

        if ((ngx_uint_t) seq < st->events
            || ngx_memcmp(st->digest, letter->session.data,
                          NGX_HTTP_MCP_SESSION_ID_LEN) != 0
            || ngx_memcmp(st->id, letter->id.data,
                          NGX_HTTP_MCP_STREAM_NAME_LEN) != 0)
        {
            continue;
        }

        r = st->request;
        c = r->connection;

        st->events = seq + 1;

        id.data = buf;
        id.len = ngx_sprintf(buf, "%s-%i", st->id, seq) - buf;

        rc = ngx_http_mcp_sse_send(&st->sse, &id, &data, nl[-1] == '1');

        if (nl[-1] != '1' && rc != NGX_ERROR) {
            continue;
        }

        /* the stream's end: the response went, or the client */

        if (st->read_handler) {
            c->idle = 0;
            c->read->handler = st->read_handler;
        }

        ngx_http_finalize_request(r, rc);
        ngx_http_run_posted_requests(c);
    }
}


static void
ngx_http_mcp_stream_forget(void *data)
{
    ngx_http_mcp_stream_t *st = data;

    ngx_queue_remove(&st->resumer);
    ngx_http_mcp_streams_h2_leave(st);
}


/* the worker shuts down: HTTP/2 streams resuming a POST's end (streams.c) */

void
ngx_http_mcp_stream_resumers_shutdown(void)
{
    ngx_queue_t            *q, *next;
    ngx_http_mcp_stream_t  *st;

    if (ngx_http_mcp_resumers.next == NULL) {
        return;
    }

    for (q = ngx_queue_head(&ngx_http_mcp_resumers);
         q != ngx_queue_sentinel(&ngx_http_mcp_resumers);
         q = next)
    {
        next = ngx_queue_next(q);
        st = ngx_queue_data(q, ngx_http_mcp_stream_t, resumer);

        if (st->h2 && !st->sse.ended) {
            ngx_http_mcp_stream_shutdown(st);
        }
    }
}
