
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_PG_INT_H_INCLUDED_
#define _NGX_HTTP_MCP_PG_INT_H_INCLUDED_


#include "ngx_http_mcp_module.h"
#include "upstream/ngx_http_mcp_pg.h"
#include "upstream/ngx_http_mcp_peer.h"


/* the state of a connection: the gauges' states (ngx_http_mcp_module.h) */
#define NGX_HTTP_MCP_PG_CONNECTING  NGX_HTTP_MCP_CONN_CONNECTING
#define NGX_HTTP_MCP_PG_IDLE        NGX_HTTP_MCP_CONN_IDLE
#define NGX_HTTP_MCP_PG_BUSY        NGX_HTTP_MCP_CONN_BUSY

/* what a worker knows of an upstream */
#define NGX_HTTP_MCP_PG_UNKNOWN     0
#define NGX_HTTP_MCP_PG_UP          1
#define NGX_HTTP_MCP_PG_DOWN        2


/* one address of a mcp_postgres_server line */
struct ngx_http_mcp_pg_server_s {
    ngx_http_mcp_peer_t          peer;        /* failure accounting */
    ngx_str_t                    name;        /* host:port, for logs */
    const char                 **keywords;    /* libpq's, NULL-ended */
    const char                 **values;
    ngx_msec_t                   connect_timeout;
};


struct ngx_http_mcp_pg_upstream_s {
    ngx_str_t                    name;
    ngx_array_t                  servers;     /* ngx_http_mcp_pg_server_t */
    ngx_uint_t                   keepalive;
    ngx_uint_t                   max_connections;
    ngx_msec_t                   queue_timeout;
    ngx_flag_t                   trace_comment;
    ngx_uint_t                   statements;
    ngx_uint_t                   metric;      /* its number for the
                                                 connection gauges */
    unsigned                     used:1;

    /* this worker's pool */
    ngx_queue_t                  idle;
    ngx_queue_t                  busy;        /* busy and connecting */
    ngx_queue_t                  waiters;
    ngx_uint_t                   nidle;
    ngx_uint_t                   nconnecting;
    ngx_uint_t                   nconns;      /* all */
    ngx_uint_t                   nwaiting;
    ngx_uint_t                   next;        /* round robin */
    ngx_uint_t                   state;
    ngx_str_t                    why;         /* DOWN: why, for readiness */
    char                        *failed;      /* the last connection
                                                 attempt's failure, or NULL
                                                 since one succeeded */
    unsigned                     ready:1;     /* queues initialised */
};


/* ngx_http_mcp_pg_server.c: a server line's parameters */
char *ngx_http_mcp_pg_server(ngx_conf_t *cf, ngx_http_mcp_pg_upstream_t *u,
    ngx_str_t *value, ngx_uint_t n, ngx_http_mcp_peer_t *peer);

/* ngx_http_mcp_pg_conn.c */
ngx_http_mcp_pg_conn_t *ngx_http_mcp_pg_connect(ngx_http_mcp_pg_upstream_t *u,
    ngx_http_mcp_pg_server_t *s);
void ngx_http_mcp_pg_close(ngx_http_mcp_pg_conn_t *pc);
void ngx_http_mcp_pg_keep(ngx_http_mcp_pg_conn_t *pc);
void ngx_http_mcp_pg_set_state(ngx_http_mcp_pg_conn_t *pc, ngx_uint_t state);

/* ngx_http_mcp_pg_pool.c: a connection's outcome */
void ngx_http_mcp_pg_connected(ngx_http_mcp_pg_conn_t *pc);
void ngx_http_mcp_pg_failed(ngx_http_mcp_pg_conn_t *pc, ngx_uint_t auth);
void ngx_http_mcp_pg_lost(ngx_http_mcp_pg_conn_t *pc);
void ngx_http_mcp_pg_retire(ngx_http_mcp_pg_conn_t *pc);


#endif /* _NGX_HTTP_MCP_PG_INT_H_INCLUDED_ */
