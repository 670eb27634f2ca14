
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_POSTGRES_H_INCLUDED_
#define _NGX_HTTP_MCP_POSTGRES_H_INCLUDED_


#include "backend/ngx_http_mcp_backend.h"
#include "upstream/ngx_http_mcp_pg.h"


/* a value bound to a placeholder */
typedef struct {
    ngx_str_t                    name;        /* argument, or variable */
    ngx_int_t                    index;       /* variable's, or -1 */
} ngx_http_mcp_pg_bind_t;


/* `postgres_set NAME VALUE;` */
typedef struct {
    ngx_str_t                    name;
    ngx_http_complex_value_t     value;
} ngx_http_mcp_pg_setting_t;


/* an entry's `postgres UPSTREAM "SQL" VALUE... [max_rows=N] ...` */
typedef struct {
    ngx_str_t                    upstream_name;
    ngx_http_mcp_pg_upstream_t  *upstream;
    ngx_str_t                    sql;         /* NUL-terminated */
    ngx_array_t                  binds;       /* ngx_http_mcp_pg_bind_t */
    ngx_uint_t                   max_rows;    /* NGX_CONF_UNSET_UINT */
    ngx_uint_t                   statement;   /* its number per connection */
    u_char                       stmt_name[32];
} ngx_http_mcp_postgres_t;


extern ngx_http_mcp_backend_t  ngx_http_mcp_postgres_backend;

/* `postgres_set NAME VALUE` into *sets (location or entry) */
char *ngx_http_mcp_postgres_setting(ngx_conf_t *cf, ngx_array_t **sets,
    ngx_str_t *value);

/* a call in flight */

#define NGX_HTTP_MCP_PG_GRACE  1000     /* the module's deadline, after the
                                           server's statement_timeout */

/* what the round trip carries, in order (ctx->steps) */
#define NGX_HTTP_MCP_PG_SESSION    1    /* the connection's defaults */
#define NGX_HTTP_MCP_PG_BEGIN      2
#define NGX_HTTP_MCP_PG_SETTINGS   3
#define NGX_HTTP_MCP_PG_PREPARE    4
#define NGX_HTTP_MCP_PG_STATEMENT  5
#define NGX_HTTP_MCP_PG_COMMIT     6
#define NGX_HTTP_MCP_PG_SYNC       7
#define NGX_HTTP_MCP_PG_ROLLBACK   8

#define NGX_HTTP_MCP_PG_MAX_STEPS  10


typedef struct {
    ngx_http_mcp_bcall_t        *bc;
    ngx_http_mcp_postgres_t     *pg;
    ngx_http_mcp_pg_wait_t       wait;
    ngx_http_mcp_pg_conn_t      *pc;

    /* what is sent */
    ngx_uint_t                   nvalues;
    const char                 **values;
    ngx_str_t                    set_sql;     /* SELECT set_config(..) */
    ngx_uint_t                   nsettings;
    const char                 **settings;
    ngx_msec_t                   timeout;

    /* what comes back */
    u_char                       steps[NGX_HTTP_MCP_PG_MAX_STEPS];
    ngx_uint_t                   nsteps;
    ngx_uint_t                   step;        /* the index of the next */
    ngx_uint_t                   max_rows;
    ngx_uint_t                   rows;
    ngx_str_t                   *columns;     /* `"name":` each */
    ngx_uint_t                   ncolumns;
    ngx_str_t                    single;      /* one value, one row */
    ngx_http_mcp_jw_t            jw;
    ngx_str_t                    affected;
    ngx_str_t                    error;

    unsigned                     prepare:1;
    unsigned                     dml:1;
    unsigned                     truncated:1;
    unsigned                     failed:1;
    unsigned                     finished:1;
    unsigned                     stale:1;     /* the connection's prepared
                                                 statement no longer works */
} ngx_http_mcp_pg_call_t;


/* ngx_http_mcp_postgres_call.c */
ngx_int_t ngx_http_mcp_postgres_start(ngx_http_mcp_bcall_t *bc);
ngx_int_t ngx_http_mcp_postgres_abort(ngx_http_mcp_bcall_t *bc,
    ngx_uint_t why);
/* the call's error, once: fmt has one or two %V */
void ngx_http_mcp_postgres_fail(ngx_http_mcp_pg_call_t *ctx,
    const char *fmt, ngx_str_t *arg, ngx_str_t *arg2);
/* the result goes up: done() */
void ngx_http_mcp_postgres_finish(ngx_http_mcp_pg_call_t *ctx);

/* ngx_http_mcp_postgres_rows.c: each result of the round trip, in order */
ngx_int_t ngx_http_mcp_postgres_result(ngx_http_mcp_pg_conn_t *pc,
    PGresult *res, ngx_uint_t lost);


#endif /* _NGX_HTTP_MCP_POSTGRES_H_INCLUDED_ */
