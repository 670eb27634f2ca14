
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_STREAM_H_INCLUDED_
#define _NGX_HTTP_MCP_STREAM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "transport/ngx_http_mcp_http.h"
#include "protocol/ngx_http_mcp_subscribe.h"
#include "state/ngx_http_mcp_events.h"


/*
 * What a client that never reads may hold of a stream's memory: past this
 * many bytes unsent, the stream is dropped (not the worker's memory)
 */
#define NGX_HTTP_MCP_STREAM_BUFFER_MAX  (256 * 1024)


/*
 * A long-lived stream of this worker: a 2025 session's GET stream, or a
 * 2026 subscriptions/listen stream (->listen).  Every message on it goes
 * through ngx_http_mcp_stream_send().
 */

/*
 * First what a publication reads and writes of every stream: three cache
 * lines (a light stream is allocated aligned to them), then the rest.
 */
struct ngx_http_mcp_stream_s {
    ngx_queue_t                 queue;        /* this worker's streams */
    ngx_http_mcp_server_t      *server;
    ngx_http_mcp_listen_t      *listen;       /* a listen stream's, or NULL */
    ngx_connection_t           *conn;         /* a light stream's */
    ngx_http_mcp_store_ref_t   *store;        /* where its events are kept */
    ngx_http_mcp_events_hint_t  hint;

    ngx_uint_t                  events;       /* the next event's number */
    ngx_msec_t                  written;      /* when an event last went */
    size_t                      out_pos;      /* of out: what waits to be */
    size_t                      out_last;     /*   sent, of a light stream */
    u_char                      id[18];       /* "g", 16 hex digits, 0;
                                                 or the resumed stream's */
    unsigned                    registered:1;
    unsigned                    lite:1;
    unsigned                    h2:1;         /* registered, of HTTP/2 */
    unsigned                    ended:1;      /* light: its end waits */

    u_char                      digest[NGX_HTTP_MCP_SESSION_ID_LEN];

    ngx_http_request_t         *request;
    ngx_http_mcp_exchange_t     x;
    ngx_http_mcp_session_t      session;      /* a GET stream's: ->subs */
    ngx_http_mcp_sse_t          sse;
    ngx_event_handler_pt        read_handler; /* the connection's, before */
    ngx_array_t                *replay;       /* what Last-Event-ID found
                                                 kept (ngx_http_mcp_event_t) */
    ngx_queue_t                 resumer;      /* resuming a POST's stream */
    ngx_str_node_t              node;         /* GET: by session digest */

    /* a light stream: the connection alone, its request freed (lite.c) */
    ngx_event_t                 lighten;      /* posted once it is open */
    ngx_event_t                 ping;
    ngx_msec_t                  keepalive;
    ngx_msec_t                  send_timeout; /* the location's */
    u_char                     *out;
    size_t                      out_size;
};


/*
 * One message on a stream (a GET stream's with an event id "g<hex>-<n>",
 * kept for resumption; share: NULL, or many streams' message is kept once):
 * NGX_OK, or NGX_ERROR when the stream was dropped (a client gone or one
 * that does not read); then the request is finalized and st is gone.
 */
ngx_int_t ngx_http_mcp_stream_send(ngx_http_mcp_stream_t *st,
    ngx_str_t *message, ngx_http_mcp_events_share_t *share);

/*
 * The worker shuts down: the stream (not a light one) ends whole, with the
 * list changes of a reload and a retry: hint, or a listen stream with its
 * response; its request is finalized
 */
void ngx_http_mcp_stream_shutdown(ngx_http_mcp_stream_t *st);

/* the stream's log, and a pool for a message, light or not */
#define ngx_http_mcp_stream_log(st)                                          \
    ((st)->lite ? (st)->conn->log : (st)->request->connection->log)
#define ngx_http_mcp_stream_pool(st)                                         \
    ((st)->lite ? (st)->conn->pool : (st)->request->pool)

/*
 * lite.c: an open GET stream (HTTP/1) becomes light, from the event loop:
 * its request is freed, the connection and a copy of st stay
 */
void ngx_http_mcp_stream_lighten(ngx_http_mcp_stream_t *st);
/* a light stream's message (NGX_ERROR: dropped, not sent) and end */
ngx_int_t ngx_http_mcp_lite_send(ngx_http_mcp_stream_t *st, ngx_str_t *id,
    ngx_str_t *message);
void ngx_http_mcp_lite_close(ngx_http_mcp_stream_t *st);
/* streams.c: a light stream joins, any stream leaves the registry */
void ngx_http_mcp_streams_add_lite(ngx_http_mcp_stream_t *st);
void ngx_http_mcp_streams_drop(ngx_http_mcp_stream_t *st);

/* a listen stream for a POST whose dispatch asked for one (NGX_DONE) */
ngx_int_t ngx_http_mcp_listen_start(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx);

/* streams.c: this worker's streams, and what they hear of */

/* the GET stream of the session of that digest in this worker, or NULL */
ngx_http_mcp_stream_t *ngx_http_mcp_streams_find(u_char *digest);
/* a stream joins the registry until its request goes; NGX_OK/NGX_ERROR */
ngx_int_t ngx_http_mcp_streams_add(ngx_http_mcp_stream_t *st);
/*
 * an HTTP/2 stream is watched for the worker's shutdown while it is open
 * (the registry's do so by themselves), then ended with
 * ngx_http_mcp_stream_shutdown(); stream.c ends its resumers of POST
 * streams that are HTTP/2 in ngx_http_mcp_stream_resumers_shutdown()
 */
void ngx_http_mcp_streams_h2_join(ngx_http_mcp_stream_t *st);
void ngx_http_mcp_streams_h2_leave(ngx_http_mcp_stream_t *st);
void ngx_http_mcp_stream_resumers_shutdown(void);
/*
 * a stream about to end as its worker shuts down: the list_changed
 * notifications of lists a reload changed (the new digests in shm);
 * NGX_ERROR: the stream was dropped meanwhile
 */
ngx_int_t ngx_http_mcp_streams_reloaded(ngx_http_mcp_stream_t *st);
/* a session's subscriptions changed: every stream of it hears */
void ngx_http_mcp_streams_subs_changed(ngx_http_mcp_session_t *s,
    ngx_log_t *log);

/*
 * what changed, to every stream of srv that wants it, in every worker of
 * every replica: NGX_OK, or NGX_DECLINED (no worker could be reached)
 */
ngx_int_t ngx_http_mcp_streams_publish(ngx_http_mcp_server_t *srv,
    ngx_http_mcp_note_e note, ngx_str_t *uri);

/* hooks (ngx_http_mcp_module.c) */
ngx_int_t ngx_http_mcp_streams_conf(ngx_conf_t *cf);
ngx_int_t ngx_http_mcp_streams_init_process(ngx_cycle_t *cycle);

/* the content handler of an mcp_publish location */
ngx_int_t ngx_http_mcp_publish_handler(ngx_http_request_t *r);


#endif /* _NGX_HTTP_MCP_STREAM_H_INCLUDED_ */
