
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_EVENTS_H_INCLUDED_
#define _NGX_HTTP_MCP_EVENTS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_mcp_module.h"
#include "state/ngx_http_mcp_store.h"


/*
 * The events of a session's SSE streams, kept for a client that resumes a
 * stream with Last-Event-ID on any worker (a shared zone) or replica (a
 * Redis list, when the location's sessions are in Redis).  Per session the
 * newest `events` events and at most `size` bytes of them are kept; when
 * the zone is full, the sessions used least recently (to the second) lose
 * theirs.
 *
 * Stream names are "g" (GET) or "p" (POST) and 16 hex digits; an event's
 * id is its stream's name, "-" and its number in the stream, from 0 (the
 * priming event, without data).
 */

#define NGX_HTTP_MCP_STREAM_NAME_LEN  17


typedef struct {
    u_char                      stream[NGX_HTTP_MCP_STREAM_NAME_LEN];
    ngx_uint_t                  seq;
    ngx_uint_t                  last;       /* the stream ends with it */
    ngx_str_t                   data;       /* the message, or empty */
} ngx_http_mcp_event_t;


/*
 * where a stream's session was found last time in the zone: a hint the
 * zone checks (the place still holds that session's same incarnation)
 * before it trusts it, else it looks the session up
 */
typedef struct {
    void                       *node;
    uint64_t                    incarnation;
} ngx_http_mcp_events_hint_t;


/*
 * one message in the events of many sessions (a publication to every GET
 * stream), kept once in the zone: zeroed before the first event, and
 * ngx_http_mcp_events_unshare() after the last
 */
typedef struct {
    void                       *blob;
} ngx_http_mcp_events_share_t;


/* `mcp_sse_buffer`, main conf: the zone, and the limits per session */
char *ngx_http_mcp_events_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
/* the default zone, for a configuration that serves MCP */
ngx_int_t ngx_http_mcp_events_init(ngx_conf_t *cf);
ngx_int_t ngx_http_mcp_events_init_process(ngx_cycle_t *cycle);

/*
 * Keeps an event of the session whose digest is key, in the store the
 * location's sessions are in (share: NULL, or its message is shared);
 * nobody waits: a failure is logged.
 */
void ngx_http_mcp_events_add(ngx_http_mcp_store_ref_t *ref, u_char *key,
    ngx_http_mcp_event_t *ev, ngx_http_mcp_events_share_t *share,
    ngx_http_mcp_events_hint_t *hint, ngx_log_t *log);
void ngx_http_mcp_events_unshare(ngx_http_mcp_events_share_t *share);

/*
 * The events of a stream of the session after number `after`, oldest
 * first, into *out (ngx_http_mcp_event_t, strings in pool): NGX_OK;
 * NGX_DECLINED: the stream is not known there (never, another session's,
 * or its events after `after` are no longer all kept); NGX_ERROR; or
 * NGX_AGAIN and done(data, rc) later (the store rules of
 * state/ngx_http_mcp_store.h)
 */
ngx_int_t ngx_http_mcp_events_get(ngx_http_mcp_store_ref_t *ref,
    u_char *key, u_char *stream, ngx_uint_t after, ngx_pool_t *pool,
    ngx_array_t **out, ngx_http_mcp_store_done_pt done, void *data);

/* the session has ended: its events go */
void ngx_http_mcp_events_forget(ngx_http_mcp_store_ref_t *ref, u_char *key,
    ngx_log_t *log);


/*
 * the same in Redis (state/ngx_http_mcp_events_redis.c), when ref is a
 * Redis store; NGX_DECLINED when it is not
 */
ngx_int_t ngx_http_mcp_events_redis_add(ngx_http_mcp_store_ref_t *ref,
    u_char *key, ngx_http_mcp_event_t *ev, ngx_uint_t max, ngx_log_t *log);
ngx_int_t ngx_http_mcp_events_redis_get(ngx_http_mcp_store_ref_t *ref,
    u_char *key, u_char *stream, ngx_uint_t after, ngx_pool_t *pool,
    ngx_array_t **out, ngx_http_mcp_store_done_pt done, void *data);
ngx_int_t ngx_http_mcp_events_redis_forget(ngx_http_mcp_store_ref_t *ref,
    u_char *key, ngx_log_t *log);


#endif /* _NGX_HTTP_MCP_EVENTS_H_INCLUDED_ */
