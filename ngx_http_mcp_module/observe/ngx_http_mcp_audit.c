
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "observe/ngx_http_mcp_observe.h"
#include "observe/ngx_http_mcp_metrics.h"
#include "observe/ngx_http_mcp_audit.h"
#include "observe/ngx_http_mcp_audit_int.h"


/*
 * The audit log's module (its directives: ngx_http_mcp_audit_conf.c), and
 * which requests it records: a request of an mcp_pass location leaves a
 * line when it called an item (tools/call, resources/read, prompts/get),
 * began a session (initialize) or ended one (DELETE), or was refused by
 * authentication (401, 403) or by a limit; each request of a batch its
 * own.
 */


#define NGX_HTTP_MCP_AUDIT_LIMITED    -32029   /* limit/'s refusal */
#define NGX_HTTP_MCP_AUDIT_FORBIDDEN  -32003   /* an item's scope */


static ngx_int_t ngx_http_mcp_audit_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_mcp_audit_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_mcp_audit_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_mcp_audit_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_mcp_audit_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_http_mcp_audit_event_e ngx_http_mcp_audit_event(
    ngx_http_mcp_obs_t *o, ngx_uint_t status, ngx_uint_t early);
static void ngx_http_mcp_audit_one(ngx_http_request_t *r,
    ngx_http_mcp_audit_log_t *log, ngx_http_mcp_audit_sink_t *sink,
    ngx_http_mcp_obs_t *o, ngx_uint_t status, ngx_uint_t early);


static ngx_command_t  ngx_http_mcp_audit_commands[] = {

    { ngx_string("mcp_audit_log"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_mcp_audit_log,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_mcp_audit_module_ctx = {
    ngx_http_mcp_audit_preconfiguration,   /* preconfiguration */
    ngx_http_mcp_audit_postconfiguration,  /* postconfiguration */

    ngx_http_mcp_audit_create_main_conf,   /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_mcp_audit_create_loc_conf,    /* create location configuration */
    ngx_http_mcp_audit_merge_loc_conf      /* merge location configuration */
};


ngx_module_t  ngx_http_mcp_audit_module = {
    NGX_MODULE_V1,
    &ngx_http_mcp_audit_module_ctx,        /* module context */
    ngx_http_mcp_audit_commands,           /* module directives */
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


static ngx_int_t
ngx_http_mcp_audit_preconfiguration(ngx_conf_t *cf)
{
    ngx_http_mcp_main_conf_t   *mmcf;
    ngx_http_mcp_entry_line_t  *line;

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_module);

    line = ngx_array_push(&mmcf->entry_lines);
    if (line == NULL) {
        return NGX_ERROR;
    }

    ngx_str_set(&line->name, "audit_arguments");
    line->set = ngx_http_mcp_audit_entry_line;

    return NGX_OK;
}


/*
 * The caller's variables (auth/), by index; and no log whose file a
 * buffered access_log uses as well (each would take the other's buffer)
 */

static ngx_int_t
ngx_http_mcp_audit_postconfiguration(ngx_conf_t *cf)
{
    ngx_uint_t                       i;
    ngx_http_mcp_audit_log_t       **log;
    ngx_http_mcp_audit_main_conf_t  *amcf;

    static ngx_str_t  subject = ngx_string("mcp_subject");
    static ngx_str_t  tenant = ngx_string("mcp_tenant");

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_audit_module);

    if (amcf->logs.nelts == 0 && amcf->sink == NULL) {
        return NGX_OK;
    }

    amcf->subject = ngx_http_get_variable_index(cf, &subject);
    amcf->tenant = ngx_http_get_variable_index(cf, &tenant);

    if (amcf->subject == NGX_ERROR || amcf->tenant == NGX_ERROR) {
        return NGX_ERROR;
    }

    log = amcf->logs.elts;

    for (i = 0; i < amcf->logs.nelts; i++) {
        if (log[i]->file
            && log[i]->file->data != (log[i]->start ? log[i] : NULL))
        {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "mcp_audit_log \"%V\" is a buffered access_log's "
                          "file as well: give the audit a file of its own",
                          &log[i]->name);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static void *
ngx_http_mcp_audit_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_mcp_audit_main_conf_t  *amcf;

    amcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_audit_main_conf_t));
    if (amcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&amcf->logs, cf->pool, 2,
                       sizeof(ngx_http_mcp_audit_log_t *))
        != NGX_OK)
    {
        return NULL;
    }

    amcf->subject = NGX_ERROR;
    amcf->tenant = NGX_ERROR;

    return amcf;
}


static void *
ngx_http_mcp_audit_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_mcp_audit_loc_conf_t  *alcf;

    alcf = ngx_palloc(cf->pool, sizeof(ngx_http_mcp_audit_loc_conf_t));
    if (alcf == NULL) {
        return NULL;
    }

    alcf->log = NGX_CONF_UNSET_PTR;

    return alcf;
}


static char *
ngx_http_mcp_audit_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_mcp_audit_loc_conf_t *prev = parent;
    ngx_http_mcp_audit_loc_conf_t *conf = child;

    ngx_conf_merge_ptr_value(conf->log, prev->log, NULL);

    return NGX_CONF_OK;
}


ngx_uint_t
ngx_http_mcp_audit_on(ngx_http_request_t *r)
{
    ngx_http_mcp_audit_loc_conf_t   *alcf;
    ngx_http_mcp_audit_main_conf_t  *amcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_audit_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_mcp_audit_module);

    return alcf->log != NULL || (amcf->sink && amcf->sink->wants(r));
}


void
ngx_http_mcp_audit_record(ngx_http_request_t *r, ngx_http_mcp_obs_t *o)
{
    ngx_uint_t                       i, status, early;
    ngx_http_mcp_obs_t              *prev;
    ngx_http_mcp_loc_conf_t         *mlcf;
    ngx_http_mcp_audit_sink_t       *sink;
    ngx_http_mcp_audit_loc_conf_t   *alcf;
    ngx_http_mcp_audit_main_conf_t  *amcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_audit_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_mcp_audit_module);
    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    sink = (amcf->sink && amcf->sink->wants(r)) ? amcf->sink : NULL;

    if ((alcf->log == NULL && sink == NULL) || mlcf->server == NULL) {
        return;
    }

    status = r->err_status ? r->err_status : r->headers_out.status;
    early = 0;

    if (o == NULL) {

        /* refused before the location's handler ran: the access phase */

        if (status != NGX_HTTP_UNAUTHORIZED && status != NGX_HTTP_FORBIDDEN
            && status != NGX_HTTP_TOO_MANY_REQUESTS)
        {
            return;
        }

        o = ngx_http_mcp_observe(r);
        if (o == NULL) {
            return;
        }

        early = 1;
    }

    if (o->batch) {
        prev = o->batch->elts;

        for (i = 0; i < o->batch->nelts; i++) {
            ngx_http_mcp_audit_one(r, alcf->log, sink, &prev[i], status, 0);
        }
    }

    ngx_http_mcp_audit_one(r, alcf->log, sink, o, status, early);
}


static void
ngx_http_mcp_audit_one(ngx_http_request_t *r, ngx_http_mcp_audit_log_t *log,
    ngx_http_mcp_audit_sink_t *sink, ngx_http_mcp_obs_t *o, ngx_uint_t status,
    ngx_uint_t early)
{
    ngx_http_mcp_jw_t           jw;
    ngx_http_mcp_audit_event_e  event;

    event = ngx_http_mcp_audit_event(o, status, early);

    if (event == NGX_HTTP_MCP_AUDIT_NONE) {
        return;
    }

    if (ngx_http_mcp_audit_line(r, o, event, status, &jw) != NGX_OK) {
        ngx_http_mcp_metrics_audit_dropped();
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "mcp audit: a record is lost: no memory");
        return;
    }

    if (sink) {

        /* the object closed for the sink, then open again for the log */

        ngx_http_mcp_jw_literal(&jw, "}");

        if (jw.failed) {
            ngx_http_mcp_metrics_audit_dropped();

        } else {
            sink->put(r, jw.start + NGX_HTTP_MCP_AUDIT_FRONT,
                      jw.pos - jw.start - NGX_HTTP_MCP_AUDIT_FRONT);
            jw.pos--;
        }
    }

    if (log) {
        ngx_http_mcp_audit_write(log, &jw, r->connection->log);
    }
}


/* what the request was, for the audit; early: the access phase refused it */

static ngx_http_mcp_audit_event_e
ngx_http_mcp_audit_event(ngx_http_mcp_obs_t *o, ngx_uint_t status,
    ngx_uint_t early)
{
    ngx_uint_t  i;

    static ngx_str_t  calls[] = {
        ngx_string("tools/call"),
        ngx_string("resources/read"),
        ngx_string("prompts/get")
    };

    if (o->session_deleted) {
        return NGX_HTTP_MCP_AUDIT_SESSION_END;
    }

    if (o->session_created) {
        return NGX_HTTP_MCP_AUDIT_SESSION_START;
    }

    if (o->limited || o->outcome == NGX_HTTP_MCP_AUDIT_LIMITED
        || (early && status == NGX_HTTP_TOO_MANY_REQUESTS))
    {
        return NGX_HTTP_MCP_AUDIT_LIMIT_REFUSAL;
    }

    if (status == NGX_HTTP_UNAUTHORIZED
        || (status == NGX_HTTP_FORBIDDEN
            && (early || o->outcome == NGX_HTTP_MCP_AUDIT_FORBIDDEN)))
    {
        return NGX_HTTP_MCP_AUDIT_AUTH_FAILURE;
    }

    for (i = 0; i < sizeof(calls) / sizeof(ngx_str_t); i++) {
        if (o->method.len == calls[i].len
            && ngx_strncmp(o->method.data, calls[i].data, calls[i].len) == 0)
        {
            return NGX_HTTP_MCP_AUDIT_CALL;
        }
    }

    return NGX_HTTP_MCP_AUDIT_NONE;
}
