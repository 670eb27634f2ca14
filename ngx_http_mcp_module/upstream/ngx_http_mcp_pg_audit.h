
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_PG_AUDIT_H_INCLUDED_
#define _NGX_HTTP_MCP_PG_AUDIT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "upstream/ngx_http_mcp_pg.h"


/*
 * mcp_audit_postgres: the audit's records inserted into a PostgreSQL
 * table as well, through an upstream's pool, by each worker on its own:
 * its directive (ngx_http_mcp_pg_audit_conf.c), its queue and inserts
 * (ngx_http_mcp_pg_audit.c).  The audit (observe/) hands the records over
 * through its sink hook and knows nothing of PostgreSQL.
 */


/* one UPSTREAM TABLE pair: every directive that names it shares it */

typedef struct {
    ngx_str_t                    upstream_name;
    ngx_str_t                    table;       /* as written */
    ngx_http_mcp_pg_upstream_t  *upstream;
    char                        *sql;         /* the INSERT */
    ngx_uint_t                   size;        /* queue= */
    ngx_msec_t                   timeout;     /* timeout= */
    u_char                      *file;        /* of the first directive */
    ngx_uint_t                   line;

    /* this worker's: the records waiting, and those being inserted */
    u_char                      *pending;     /* "[rec,rec" */
    size_t                       plen;
    size_t                       pcap;
    ngx_uint_t                   npending;
    u_char                      *sending;     /* "[rec,rec]" */
    size_t                       scap;
    ngx_uint_t                   nsending;

    ngx_http_mcp_pg_wait_t       wait;
    ngx_http_mcp_pg_conn_t      *pc;
    ngx_event_t                  flush;       /* posted */
    ngx_event_t                  timer;       /* the insert's timeout */
    ngx_uint_t                   step;
    u_char                       error[128];  /* PostgreSQL's, for logs */

    ngx_uint_t                   dropped;     /* since the last log line */
    time_t                       error_time;
    unsigned                     busy:1;      /* a batch is out */
} ngx_http_mcp_pg_audit_t;


/* ngx_http_mcp_pg_audit.c */
void ngx_http_mcp_pg_audit_put(ngx_http_mcp_pg_audit_t *t, u_char *record,
    size_t len);
void ngx_http_mcp_pg_audit_init(ngx_conf_t *cf, ngx_http_mcp_pg_audit_t *t);

/* ngx_http_mcp_pg_audit_conf.c: the targets of a cycle, or NULL */
ngx_array_t *ngx_http_mcp_pg_audit_targets(ngx_cycle_t *cycle);

/*
 * the worker exits: what waits is dropped and counted (a graceful exit
 * has waited for the insert in flight, up to its timeout)
 */
void ngx_http_mcp_pg_audit_exit_process(ngx_cycle_t *cycle);


extern ngx_module_t  ngx_http_mcp_audit_pg_module;


#endif /* _NGX_HTTP_MCP_PG_AUDIT_H_INCLUDED_ */
