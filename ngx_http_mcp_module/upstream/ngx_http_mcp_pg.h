
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_PG_H_INCLUDED_
#define _NGX_HTTP_MCP_PG_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <libpq-fe.h>


/*
 * PostgreSQL servers in nginx upstream{} blocks, and the connections of
 * each worker to them.  `mcp_postgres_server` lines make an upstream's
 * servers (ngx_http_mcp_pg_conf.c); each worker keeps its own pool of
 * libpq connections per upstream, driven by nginx events and never
 * blocking (ngx_http_mcp_pg_pool.c, ngx_http_mcp_pg_conn.c).
 *
 * A user of a connection asks for one with ngx_http_mcp_pg_get(): it is
 * given at once, or later through the waiter's handler (a pooled one
 * freed, or a new one connected), or refused (the queue timeout, or no
 * server can be reached).  The user then sends through libpq itself
 * (PQsend* on pc->conn, in pipeline mode if it likes), calls
 * ngx_http_mcp_pg_send(), and is handed each PGresult by its handler,
 * then gives the connection back with ngx_http_mcp_pg_free().
 */


typedef struct ngx_http_mcp_pg_upstream_s  ngx_http_mcp_pg_upstream_t;
typedef struct ngx_http_mcp_pg_server_s    ngx_http_mcp_pg_server_t;
typedef struct ngx_http_mcp_pg_conn_s      ngx_http_mcp_pg_conn_t;
typedef struct ngx_http_mcp_pg_wait_s      ngx_http_mcp_pg_wait_t;


/* why no connection was given */
#define NGX_HTTP_MCP_PG_QUEUE_TIMEOUT  1
#define NGX_HTTP_MCP_PG_UNAVAILABLE    2


/*
 * a connection for the waiter (pc not NULL), or why none (pc NULL, why
 * one of the above, w->reason a text for people without secrets in it)
 */
typedef void (*ngx_http_mcp_pg_ready_pt)(ngx_http_mcp_pg_wait_t *w,
    ngx_http_mcp_pg_conn_t *pc, ngx_uint_t why);

/*
 * a result of what the user sent (a PGresult, or NULL between queries),
 * or res NULL and lost set: the connection broke.  NGX_OK: more please;
 * NGX_DONE: the user has what it wants and has freed the connection (or
 * is about to, without another result); NGX_ERROR: close it.
 */
typedef ngx_int_t (*ngx_http_mcp_pg_result_pt)(ngx_http_mcp_pg_conn_t *pc,
    PGresult *res, ngx_uint_t lost);


struct ngx_http_mcp_pg_wait_s {
    ngx_queue_t                  queue;
    ngx_event_t                  timer;
    ngx_http_mcp_pg_upstream_t  *upstream;
    ngx_http_mcp_pg_ready_pt     handler;
    void                        *data;
    ngx_str_t                    reason;
    ngx_log_t                   *log;
    unsigned                     waiting:1;
};


struct ngx_http_mcp_pg_conn_s {
    ngx_queue_t                  queue;       /* idle or busy list */
    PGconn                      *conn;
    ngx_connection_t            *c;
    ngx_http_mcp_pg_upstream_t  *upstream;
    ngx_http_mcp_pg_server_t    *server;
    ngx_pool_t                  *pool;        /* lives with the connection */
    ngx_log_t                    log;

    u_char                      *prepared;    /* a byte per statement */

    /* the user's notes on the session's defaults: -1 unknown */
    ngx_int_t                    session_timeout;
    ngx_int_t                    session_read_only;

    ngx_http_mcp_pg_result_pt    handler;     /* while busy */
    void                        *data;

    ngx_uint_t                   state;
    PostgresPollingStatusType  polling;
    ConnStatusType               status;
};


/* the upstream{} of this name that has mcp_postgres_server, or NULL */
ngx_http_mcp_pg_upstream_t *ngx_http_mcp_pg_upstream(ngx_conf_t *cf,
    ngx_str_t *name);
/* its name, for messages */
ngx_str_t *ngx_http_mcp_pg_upstream_name(ngx_http_mcp_pg_upstream_t *u);
/* mcp_postgres_queue_timeout */
ngx_msec_t ngx_http_mcp_pg_queue_timeout(ngx_http_mcp_pg_upstream_t *u);

/* mcp_postgres_trace_comment on */
ngx_uint_t ngx_http_mcp_pg_trace_comment(ngx_http_mcp_pg_upstream_t *u);
/* a number for a statement an entry prepares on each connection */
ngx_uint_t ngx_http_mcp_pg_statement(ngx_http_mcp_pg_upstream_t *u);
/* notes that a server (an MCP location) uses it: readiness checks it */
ngx_int_t ngx_http_mcp_pg_use(ngx_conf_t *cf, ngx_http_mcp_pg_upstream_t *u);
/* the upstreams in use, ngx_http_mcp_pg_upstream_t *; NULL if none */
ngx_array_t *ngx_http_mcp_pg_used(ngx_cycle_t *cycle);

/* NGX_OK: w given pc now; NGX_AGAIN: the handler follows; NGX_ERROR */
ngx_int_t ngx_http_mcp_pg_get(ngx_http_mcp_pg_upstream_t *u,
    ngx_http_mcp_pg_wait_t *w, ngx_http_mcp_pg_conn_t **pc);
/* a waiter gives up */
void ngx_http_mcp_pg_cancel(ngx_http_mcp_pg_wait_t *w);
/* what was sent through libpq leaves: results go to the handler */
ngx_int_t ngx_http_mcp_pg_send(ngx_http_mcp_pg_conn_t *pc,
    ngx_http_mcp_pg_result_pt handler, void *data);
/* the user is done: pooled when clean and keep is set, else closed */
void ngx_http_mcp_pg_free(ngx_http_mcp_pg_conn_t *pc, ngx_uint_t keep);
/*
 * readiness of an upstream in this worker: NGX_OK or NGX_DECLINED with
 * *detail for people; a failing check starts a new connection
 */
ngx_int_t ngx_http_mcp_pg_check(ngx_http_mcp_pg_upstream_t *u,
    ngx_pool_t *pool, ngx_str_t *detail);

ngx_int_t ngx_http_mcp_pg_init_process(ngx_cycle_t *cycle);
void ngx_http_mcp_pg_exit_process(ngx_cycle_t *cycle);


extern ngx_module_t  ngx_http_mcp_upstream_module;


#endif /* _NGX_HTTP_MCP_PG_H_INCLUDED_ */
