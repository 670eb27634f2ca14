
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "upstream/ngx_http_mcp_pg_int.h"


/*
 * The directives of PostgreSQL upstreams:
 *
 *   upstream app_db {
 *       mcp_postgres_server 127.0.0.1:5432 dbname=app user=app password=..;
 *       mcp_postgres_server postgresql://app:..@db:5432/app max_fails=3;
 *       mcp_postgres_keepalive 8;
 *       mcp_postgres_max_connections 32;
 *       mcp_postgres_queue_timeout 1s;
 *   }
 *
 * A server line's connection parameters are read by
 * ngx_http_mcp_pg_server.c.
 */


static void *ngx_http_mcp_pg_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_mcp_pg_create_conf(ngx_conf_t *cf);
static char *ngx_http_mcp_pg_server_line(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_mcp_pg_init_upstream(ngx_conf_t *cf,
    ngx_http_upstream_srv_conf_t *us);
static ngx_int_t ngx_http_mcp_pg_init_peer(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us);


static ngx_conf_num_bounds_t  ngx_http_mcp_pg_conns_bounds = {
    ngx_conf_check_num_bounds, 1, 10000
};


static ngx_command_t  ngx_http_mcp_upstream_commands[] = {

    { ngx_string("mcp_postgres_server"),
      NGX_HTTP_UPS_CONF|NGX_CONF_1MORE,
      ngx_http_mcp_pg_server_line,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_postgres_keepalive"),
      NGX_HTTP_UPS_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_mcp_pg_upstream_t, keepalive),
      NULL },

    { ngx_string("mcp_postgres_max_connections"),
      NGX_HTTP_UPS_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_mcp_pg_upstream_t, max_connections),
      &ngx_http_mcp_pg_conns_bounds },

    { ngx_string("mcp_postgres_trace_comment"),
      NGX_HTTP_UPS_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_mcp_pg_upstream_t, trace_comment),
      NULL },

    { ngx_string("mcp_postgres_queue_timeout"),
      NGX_HTTP_UPS_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_mcp_pg_upstream_t, queue_timeout),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_mcp_upstream_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_mcp_pg_create_main_conf,      /* create main configuration */
    NULL,                                  /* init main configuration */

    ngx_http_mcp_pg_create_conf,           /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_mcp_upstream_module = {
    NGX_MODULE_V1,
    &ngx_http_mcp_upstream_module_ctx,     /* module context */
    ngx_http_mcp_upstream_commands,        /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


typedef struct {
    ngx_array_t                  used;   /* ngx_http_mcp_pg_upstream_t *:
                                            those MCP servers use */
} ngx_http_mcp_pg_main_conf_t;


static void *
ngx_http_mcp_pg_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_mcp_pg_main_conf_t  *pmcf;

    pmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_pg_main_conf_t));
    if (pmcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&pmcf->used, cf->pool, 2,
                       sizeof(ngx_http_mcp_pg_upstream_t *))
        != NGX_OK)
    {
        return NULL;
    }

    return pmcf;
}


static void *
ngx_http_mcp_pg_create_conf(ngx_conf_t *cf)
{
    ngx_http_mcp_pg_upstream_t  *u;

    u = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_pg_upstream_t));
    if (u == NULL) {
        return NULL;
    }

    u->keepalive = NGX_CONF_UNSET_UINT;
    u->max_connections = NGX_CONF_UNSET_UINT;
    u->queue_timeout = NGX_CONF_UNSET_MSEC;
    u->trace_comment = NGX_CONF_UNSET;

    return u;
}


static char *
ngx_http_mcp_pg_server_line(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_pg_upstream_t *u = conf;

    ngx_str_t                     *value;
    ngx_uint_t                     last;
    ngx_http_mcp_peer_t            peer;
    ngx_http_upstream_srv_conf_t  *uscf;

    uscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_upstream_module);

    if (u->servers.elts == NULL) {

        if (uscf->servers == NULL || uscf->servers->nelts) {
            return "cannot be mixed with \"server\" in one upstream";
        }

        if (ngx_array_init(&u->servers, cf->pool, 2,
                           sizeof(ngx_http_mcp_pg_server_t))
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        /* nginx wants a server in the block: one that no peer is made of */

        if (ngx_array_push(uscf->servers) == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(uscf->servers->elts, sizeof(ngx_http_upstream_server_t));

        u->name = uscf->host;
        uscf->peer.init_upstream = ngx_http_mcp_pg_init_upstream;
    }

    value = cf->args->elts;
    last = cf->args->nelts;

    if (ngx_http_mcp_peer_params(value, &last, &peer) != NGX_OK) {
        goto invalid;
    }

    return ngx_http_mcp_pg_server(cf, u, &value[1], last - 1, &peer);

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                       &value[last - 1]);
    return NGX_CONF_ERROR;
}


static ngx_int_t
ngx_http_mcp_pg_init_upstream(ngx_conf_t *cf, ngx_http_upstream_srv_conf_t *us)
{
    ngx_http_mcp_pg_upstream_t  *u;

    u = us->srv_conf[ngx_http_mcp_upstream_module.ctx_index];

    if (us->servers->nelts != 1) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"mcp_postgres_server\" cannot be mixed with "
                      "\"server\" in upstream \"%V\" in %s:%ui",
                      &us->host, us->file_name, us->line);
        return NGX_ERROR;
    }

    ngx_conf_init_uint_value(u->keepalive, 8);
    ngx_conf_init_uint_value(u->max_connections, 32);
    ngx_conf_init_msec_value(u->queue_timeout, 1000);
    ngx_conf_init_value(u->trace_comment, 0);

    if (u->keepalive > u->max_connections) {
        u->keepalive = u->max_connections;
    }

    us->peer.init = ngx_http_mcp_pg_init_peer;

    return NGX_OK;
}


/* proxy_pass and the like cannot use a PostgreSQL upstream */

static ngx_int_t
ngx_http_mcp_pg_init_peer(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us)
{
    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "upstream \"%V\" has PostgreSQL servers: only the "
                  "\"postgres\" lines of mcp_server blocks can use it",
                  &us->host);

    return NGX_ERROR;
}


ngx_http_mcp_pg_upstream_t *
ngx_http_mcp_pg_upstream(ngx_conf_t *cf, ngx_str_t *name)
{
    ngx_http_mcp_pg_upstream_t  *u;

    u = ngx_http_mcp_upstream_conf(cf, name, &ngx_http_mcp_upstream_module);

    return (u && u->servers.nelts) ? u : NULL;
}


ngx_str_t *
ngx_http_mcp_pg_upstream_name(ngx_http_mcp_pg_upstream_t *u)
{
    return &u->name;
}


ngx_msec_t
ngx_http_mcp_pg_queue_timeout(ngx_http_mcp_pg_upstream_t *u)
{
    return u->queue_timeout;
}


ngx_uint_t
ngx_http_mcp_pg_trace_comment(ngx_http_mcp_pg_upstream_t *u)
{
    return u->trace_comment;
}


ngx_uint_t
ngx_http_mcp_pg_statement(ngx_http_mcp_pg_upstream_t *u)
{
    return u->statements++;
}


ngx_int_t
ngx_http_mcp_pg_use(ngx_conf_t *cf, ngx_http_mcp_pg_upstream_t *u)
{
    ngx_http_mcp_pg_upstream_t   **up;
    ngx_http_mcp_pg_main_conf_t   *pmcf;

    if (u->used) {
        return NGX_OK;
    }

    pmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_upstream_module);

    up = ngx_array_push(&pmcf->used);
    if (up == NULL) {
        return NGX_ERROR;
    }

    *up = u;
    u->used = 1;

    /* its connections are counted by state for the metrics page */
    u->metric = ngx_http_mcp_conn_upstream(cf, NGX_HTTP_MCP_CONN_POSTGRES,
                                           &u->name);

    return NGX_OK;
}


ngx_array_t *
ngx_http_mcp_pg_used(ngx_cycle_t *cycle)
{
    ngx_http_mcp_pg_main_conf_t  *pmcf;

    pmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_mcp_upstream_module);

    return pmcf ? &pmcf->used : NULL;
}
