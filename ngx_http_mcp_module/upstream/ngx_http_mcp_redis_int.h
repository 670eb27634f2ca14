
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_REDIS_INT_H_INCLUDED_
#define _NGX_HTTP_MCP_REDIS_INT_H_INCLUDED_


#include <hiredis/async.h>

#include "ngx_http_mcp_module.h"
#include "upstream/ngx_http_mcp_redis.h"
#include "upstream/ngx_http_mcp_peer.h"


#define NGX_HTTP_MCP_REDIS_CONNECT_TIMEOUT  3000
#define NGX_HTTP_MCP_REDIS_RETRY            1000    /* a subscriber's pause
                                                       before it reconnects */
#define NGX_HTTP_MCP_REDIS_MAX_REPLY        (64 * 1024 * 1024)
#define NGX_HTTP_MCP_REDIS_BATCH            32      /* replies due on a
                                                       connection before
                                                       the next one is used */

/* what a worker knows of an upstream */
#define NGX_HTTP_MCP_REDIS_UNKNOWN  0
#define NGX_HTTP_MCP_REDIS_UP       1
#define NGX_HTTP_MCP_REDIS_DOWN     2


typedef struct ngx_http_mcp_redis_server_s  ngx_http_mcp_redis_server_t;
typedef struct ngx_http_mcp_redis_conn_s    ngx_http_mcp_redis_conn_t;


/* one address of a mcp_redis_server line */
struct ngx_http_mcp_redis_server_s {
    ngx_http_mcp_peer_t              peer;
    ngx_str_t                        name;      /* host:port, for logs */
    char                            *ip;        /* resolved at start-up, or
                                                   a unix socket's path */
    int                              port;      /* 0: unix socket */
    ngx_str_t                        password;  /* empty: no AUTH */
    ngx_str_t                        user;      /* empty: AUTH password */
    ngx_int_t                        db;        /* 0: no SELECT */
    ngx_msec_t                       connect_timeout;
};


/* a channel this worker listens to */
typedef struct {
    ngx_str_t                        channel;
    ngx_http_mcp_redis_message_pt    handler;
    void                            *data;
} ngx_http_mcp_redis_sub_t;


struct ngx_http_mcp_redis_upstream_s {
    ngx_str_t                        name;
    ngx_array_t                      servers;   /* ..._redis_server_t */
    ngx_uint_t                       keepalive;
    ngx_uint_t                       metric;    /* its number for the
                                                   connection gauges */
    unsigned                         used:1;

    /* this worker's */
    ngx_queue_t                      conns;     /* for commands */
    ngx_uint_t                       nconns;
    ngx_uint_t                       next;      /* round robin */
    ngx_uint_t                       state;
    const char                      *why;       /* DOWN: why */
    ngx_array_t                      subs;      /* ..._redis_sub_t */
    ngx_http_mcp_redis_conn_t       *subscriber;
    ngx_event_t                      retry;     /* the subscriber's */
    unsigned                         ready:1;
};


struct ngx_http_mcp_redis_conn_s {
    ngx_queue_t                      queue;
    redisAsyncContext               *ac;
    ngx_connection_t                *c;
    ngx_http_mcp_redis_upstream_t   *upstream;
    ngx_http_mcp_redis_server_t     *server;
    ngx_event_t                      connect;   /* its timer */
    ngx_uint_t                       pending;   /* replies due */
    ngx_uint_t                       setup;     /* of them, AUTH and
                                                   SELECT's */
    ngx_uint_t                       counted;   /* the state the
                                                   gauges have:
                                                   NGX_HTTP_MCP_CONN_* */
    ngx_log_t                        log;
    unsigned                         connected:1;
    unsigned                         exclusive:1;
    unsigned                         subscriber:1;
    unsigned                         closing:1;
};


/* ngx_http_mcp_redis_server.c: a server line */
char *ngx_http_mcp_redis_server(ngx_conf_t *cf,
    ngx_http_mcp_redis_upstream_t *u, ngx_str_t *value, ngx_uint_t n,
    ngx_http_mcp_peer_t *peer);

/* ngx_http_mcp_redis_conn.c: hiredis on an nginx connection */
ngx_http_mcp_redis_conn_t *ngx_http_mcp_redis_connect(
    ngx_http_mcp_redis_upstream_t *u, ngx_http_mcp_redis_server_t *s);
void ngx_http_mcp_redis_close(ngx_http_mcp_redis_conn_t *rc);
#define ngx_http_mcp_redis_live(rc)                                          \
    (!(rc)->closing && (rc)->ac->err == 0                                    \
     && !((rc)->ac->c.flags & (REDIS_DISCONNECTING|REDIS_FREEING)))

/* ngx_http_mcp_redis_pool.c: a connection's outcome */
void ngx_http_mcp_redis_connected(ngx_http_mcp_redis_conn_t *rc);
void ngx_http_mcp_redis_gone(ngx_http_mcp_redis_conn_t *rc, const char *why);

/* the connection's state, as the gauges count it, after a change */
void ngx_http_mcp_redis_count(ngx_http_mcp_redis_conn_t *rc);


#endif /* _NGX_HTTP_MCP_REDIS_INT_H_INCLUDED_ */
