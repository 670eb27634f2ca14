
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

/* ngx_http_mcp_postgres_call.c */
ngx_int_t ngx_http_mcp_postgres_start(ngx_http_mcp_bcall_t *bc);
ngx_int_t ngx_http_mcp_postgres_abort(ngx_http_mcp_bcall_t *bc,
    ngx_uint_t why);


#endif /* _NGX_HTTP_MCP_POSTGRES_H_INCLUDED_ */
