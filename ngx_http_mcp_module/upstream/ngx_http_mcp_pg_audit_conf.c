
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "observe/ngx_http_mcp_audit.h"
#include "upstream/ngx_http_mcp_pg_audit.h"


/*
 * The directive of the audit's PostgreSQL sink:
 *
 *   mcp_audit_postgres UPSTREAM TABLE [queue=N] [timeout=TIME];
 *   mcp_audit_postgres off;
 *
 * TABLE is a name or schema.name of lower-case letters, digits, "_" and
 * "$", checked here and always sent double-quoted: it can be nothing but
 * a table's name in the statement.  The records themselves are a bound
 * parameter.  Directives that name the same pair share its queue and must
 * give it the same parameters, as mcp_audit_log's files are shared.
 */


#define NGX_HTTP_MCP_PG_AUDIT_QUEUE    1024
#define NGX_HTTP_MCP_PG_AUDIT_TIMEOUT  5000
#define NGX_HTTP_MCP_PG_AUDIT_NAMELEN  63     /* PostgreSQL's NAMEDATALEN-1 */


typedef struct {
    ngx_array_t                  targets;     /* ngx_http_mcp_pg_audit_t * */
} ngx_http_mcp_pg_audit_main_conf_t;


typedef struct {
    ngx_http_mcp_pg_audit_t     *target;      /* NULL: off */
} ngx_http_mcp_pg_audit_loc_conf_t;


static char *ngx_http_mcp_pg_audit_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_mcp_pg_audit_table(ngx_conf_t *cf, ngx_str_t *table,
    ngx_str_t *sql);
static ngx_int_t ngx_http_mcp_pg_audit_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_mcp_pg_audit_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_mcp_pg_audit_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_mcp_pg_audit_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static ngx_uint_t ngx_http_mcp_pg_audit_wants(ngx_http_request_t *r);
static void ngx_http_mcp_pg_audit_record(ngx_http_request_t *r,
    u_char *record, size_t len);


static ngx_command_t  ngx_http_mcp_audit_pg_commands[] = {

    { ngx_string("mcp_audit_postgres"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_mcp_pg_audit_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_mcp_audit_pg_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_mcp_pg_audit_postconfiguration, /* postconfiguration */

    ngx_http_mcp_pg_audit_create_main_conf, /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_mcp_pg_audit_create_loc_conf, /* create location configuration */
    ngx_http_mcp_pg_audit_merge_loc_conf   /* merge location configuration */
};


ngx_module_t  ngx_http_mcp_audit_pg_module = {
    NGX_MODULE_V1,
    &ngx_http_mcp_audit_pg_module_ctx,     /* module context */
    ngx_http_mcp_audit_pg_commands,        /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process: through the
                                              module file's hooks, before
                                              the pool closes its
                                              connections */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_mcp_audit_sink_t  ngx_http_mcp_pg_audit_sink = {
    ngx_http_mcp_pg_audit_wants,
    ngx_http_mcp_pg_audit_record
};


static char *
ngx_http_mcp_pg_audit_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_mcp_pg_audit_loc_conf_t *plcf = conf;

    ngx_int_t                           n;
    ngx_str_t                          *value, s, sql;
    ngx_uint_t                          i, size;
    ngx_msec_t                          timeout;
    ngx_http_mcp_pg_audit_t            *t, **tp;
    ngx_http_mcp_pg_audit_main_conf_t  *pmcf;

    if (plcf->target != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts != 2) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        plcf->target = NULL;
        return NGX_CONF_OK;
    }

    if (cf->args->nelts < 3) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mcp_audit_postgres\" takes an upstream and a "
                           "table, or \"off\"");
        return NGX_CONF_ERROR;
    }

    if (ngx_http_mcp_pg_audit_table(cf, &value[2], &sql) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    size = NGX_HTTP_MCP_PG_AUDIT_QUEUE;
    timeout = NGX_HTTP_MCP_PG_AUDIT_TIMEOUT;

    for (i = 3; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "queue=", 6) == 0) {
            n = ngx_atoi(value[i].data + 6, value[i].len - 6);

            if (n == NGX_ERROR || n < 1 || n > 1000000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid queue size \"%V\": 1 to "
                                   "1000000 records", &value[i]);
                return NGX_CONF_ERROR;
            }

            size = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "timeout=", 8) == 0) {
            s.len = value[i].len - 8;
            s.data = value[i].data + 8;

            timeout = ngx_parse_time(&s, 0);

            if (timeout == (ngx_msec_t) NGX_ERROR || timeout == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid timeout \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    pmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_mcp_audit_pg_module);
    tp = pmcf->targets.elts;

    for (i = 0; i < pmcf->targets.nelts; i++) {
        t = tp[i];

        if (t->upstream_name.len != value[1].len
            || ngx_strncasecmp(t->upstream_name.data, value[1].data,
                               value[1].len) != 0
            || t->table.len != value[2].len
            || ngx_strncmp(t->table.data, value[2].data, value[2].len) != 0)
        {
            continue;
        }

        if (t->size != size || t->timeout != timeout) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "mcp_audit_postgres \"%V\" \"%V\" already "
                               "defined with conflicting parameters",
                               &value[1], &value[2]);
            return NGX_CONF_ERROR;
        }

        plcf->target = t;
        return NGX_CONF_OK;
    }

    t = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_pg_audit_t));
    if (t == NULL) {
        return NGX_CONF_ERROR;
    }

    t->upstream_name = value[1];
    t->table = value[2];
    t->sql = (char *) sql.data;
    t->size = size;
    t->timeout = timeout;
    t->file = cf->conf_file->file.name.data;
    t->line = cf->conf_file->line;

    ngx_http_mcp_pg_audit_init(cf, t);

    tp = ngx_array_push(&pmcf->targets);
    if (tp == NULL) {
        return NGX_CONF_ERROR;
    }

    *tp = t;
    plcf->target = t;

    /* the audit makes records for it from now on */

    ngx_http_mcp_audit_sink(cf, &ngx_http_mcp_pg_audit_sink);

    return NGX_CONF_OK;
}


/*
 * TABLE checked, and the statement made: each part an unquoted
 * PostgreSQL name in lower case, quoted here, so that a reserved word
 * works and nothing else can get in; upper case is refused rather than
 * folded, so a name means the same table here and in psql
 */

static char *
ngx_http_mcp_pg_audit_table(ngx_conf_t *cf, ngx_str_t *table, ngx_str_t *sql)
{
    u_char      *p, *last, *start, *q, c;
    ngx_uint_t   parts;

    static char  head[] = "INSERT INTO ";
    static char  tail[] = " (record) SELECT value"
                          " FROM jsonb_array_elements($1::jsonb)";

    sql->data = ngx_pnalloc(cf->pool, sizeof(head) - 1 + table->len + 4
                                      + sizeof(tail));
    if (sql->data == NULL) {
        return NGX_CONF_ERROR;
    }

    q = ngx_cpymem(sql->data, head, sizeof(head) - 1);

    p = table->data;
    last = p + table->len;
    parts = 0;

    for ( ;; ) {
        start = p;

        while (p < last && *p != '.') {
            c = *p;

            if (!((c >= 'a' && c <= 'z') || c == '_'
                  || (p > start && ((c >= '0' && c <= '9') || c == '$'))))
            {
                goto invalid;
            }

            p++;
        }

        if (p == start || p - start > NGX_HTTP_MCP_PG_AUDIT_NAMELEN
            || ++parts > 2)
        {
            goto invalid;
        }

        *q++ = '"';
        q = ngx_cpymem(q, start, p - start);
        *q++ = '"';

        if (p == last) {
            break;
        }

        *q++ = *p++;        /* the dot */
    }

    q = ngx_cpymem(q, tail, sizeof(tail) - 1);
    *q = '\0';

    sql->len = q - sql->data;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid table \"%V\" in \"mcp_audit_postgres\": a "
                       "name or schema.name, each of lower-case letters, "
                       "digits, \"_\" and \"$\", not starting with a digit "
                       "or \"$\", at most 63 bytes", table);

    return NGX_CONF_ERROR;
}


/* the upstreams, now that every upstream{} is read */

static ngx_int_t
ngx_http_mcp_pg_audit_postconfiguration(ngx_conf_t *cf)
{
    ngx_uint_t                          i;
    ngx_http_mcp_pg_audit_t           **t;
    ngx_http_mcp_pg_audit_main_conf_t  *pmcf;

    pmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_mcp_audit_pg_module);
    t = pmcf->targets.elts;

    for (i = 0; i < pmcf->targets.nelts; i++) {

        t[i]->upstream = ngx_http_mcp_pg_upstream(cf, &t[i]->upstream_name);

        if (t[i]->upstream == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "no upstream \"%V\" with \"mcp_postgres_server\" "
                          "for \"mcp_audit_postgres\" in %s:%ui",
                          &t[i]->upstream_name, t[i]->file, t[i]->line);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static void *
ngx_http_mcp_pg_audit_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_mcp_pg_audit_main_conf_t  *pmcf;

    pmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_pg_audit_main_conf_t));
    if (pmcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&pmcf->targets, cf->pool, 1,
                       sizeof(ngx_http_mcp_pg_audit_t *))
        != NGX_OK)
    {
        return NULL;
    }

    return pmcf;
}


static void *
ngx_http_mcp_pg_audit_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_mcp_pg_audit_loc_conf_t  *plcf;

    plcf = ngx_palloc(cf->pool, sizeof(ngx_http_mcp_pg_audit_loc_conf_t));
    if (plcf == NULL) {
        return NULL;
    }

    plcf->target = NGX_CONF_UNSET_PTR;

    return plcf;
}


static char *
ngx_http_mcp_pg_audit_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_mcp_pg_audit_loc_conf_t *prev = parent;
    ngx_http_mcp_pg_audit_loc_conf_t *conf = child;

    ngx_conf_merge_ptr_value(conf->target, prev->target, NULL);

    return NGX_CONF_OK;
}


ngx_array_t *
ngx_http_mcp_pg_audit_targets(ngx_cycle_t *cycle)
{
    ngx_http_mcp_pg_audit_main_conf_t  *pmcf;

    pmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_mcp_audit_pg_module);

    return pmcf ? &pmcf->targets : NULL;
}


static ngx_uint_t
ngx_http_mcp_pg_audit_wants(ngx_http_request_t *r)
{
    ngx_http_mcp_pg_audit_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_audit_pg_module);

    return plcf->target != NULL;
}


static void
ngx_http_mcp_pg_audit_record(ngx_http_request_t *r, u_char *record,
    size_t len)
{
    ngx_http_mcp_pg_audit_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_audit_pg_module);

    ngx_http_mcp_pg_audit_put(plcf->target, record, len);
}
