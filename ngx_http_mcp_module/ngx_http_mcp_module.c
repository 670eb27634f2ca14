
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

/* the low-level SHA-256 functions, as ngx_event_openssl.h allows them */
#ifndef OPENSSL_SUPPRESS_DEPRECATED
#define OPENSSL_SUPPRESS_DEPRECATED
#endif

#include <openssl/sha.h>

#include "ngx_http_mcp_module.h"
#include "transport/ngx_http_mcp_http.h"
#include "transport/ngx_http_mcp_stream.h"
#include "state/ngx_http_mcp_session_shm.h"
#include "state/ngx_http_mcp_mailbox.h"
#include "state/ngx_http_mcp_events.h"
#include "state/ngx_http_mcp_session_redis.h"
#include "catalog/ngx_http_mcp_catalog_conf.h"
#include "catalog/ngx_http_mcp_registry.h"
#include "health/ngx_http_mcp_health.h"
#include "backend/ngx_http_mcp_backend.h"
#include "backend/ngx_http_mcp_postgres.h"
#include "upstream/ngx_http_mcp_pg.h"
#include "upstream/ngx_http_mcp_pg_audit.h"
#include "upstream/ngx_http_mcp_redis.h"
#include "observe/ngx_http_mcp_metrics.h"
#include "protocol/ngx_http_mcp_state.h"


#define NGX_HTTP_MCP_NHOOKS                                                  \
    (sizeof(ngx_http_mcp_hooks) / sizeof(ngx_http_mcp_hooks_t))


/* a subsystem's start-up and exit hooks; NULL where it has none */

typedef struct {
    ngx_int_t                 (*init_module)(ngx_cycle_t *cycle);
    ngx_int_t                 (*init_process)(ngx_cycle_t *cycle);
    void                      (*exit_process)(ngx_cycle_t *cycle);
} ngx_http_mcp_hooks_t;


static ngx_int_t ngx_http_mcp_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_mcp_init_process(ngx_cycle_t *cycle);
static void ngx_http_mcp_exit_process(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_mcp_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_mcp_metrics_entries(ngx_conf_t *cf,
    ngx_http_mcp_main_conf_t *mmcf);
static void *ngx_http_mcp_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_mcp_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_mcp_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_mcp_pass(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_mcp_publish(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_mcp_session_store(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_mcp_stores_init_process(ngx_cycle_t *cycle);
static char *ngx_http_mcp_session_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_mcp_set_names(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_mcp_postgres_set(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static ngx_conf_num_bounds_t  ngx_http_mcp_page_size_bounds = {
    ngx_conf_check_num_bounds, 1, 10000
};

static ngx_conf_num_bounds_t  ngx_http_mcp_depth_bounds = {
    ngx_conf_check_num_bounds, 2, 1000
};

static ngx_conf_num_bounds_t  ngx_http_mcp_members_bounds = {
    ngx_conf_check_num_bounds, 16, 1000000
};


static ngx_conf_num_bounds_t  ngx_http_mcp_values_bounds = {
    ngx_conf_check_num_bounds, 16, 10000000
};

static ngx_conf_num_bounds_t  ngx_http_mcp_max_rows_bounds = {
    ngx_conf_check_num_bounds, 1, 10000000
};


/* called in this order at start-up, in the reverse order at exit */

static ngx_http_mcp_hooks_t  ngx_http_mcp_hooks[] = {

    /* observe: this worker's connection gauges, before any connection */
    { NULL,
      ngx_http_mcp_metrics_init_process,
      NULL },

    /* state: the workers' mailbox */
    { ngx_http_mcp_mailbox_init_module,
      ngx_http_mcp_mailbox_init_process,
      ngx_http_mcp_mailbox_exit_process },

    /* state: the events kept for resumption */
    { NULL,
      ngx_http_mcp_events_init_process,
      NULL },

    /* transport: the mailbox's letters cancel this worker's calls */
    { NULL,
      ngx_http_mcp_transport_init_process,
      NULL },

    /* upstream: PostgreSQL connections of this worker */
    { NULL,
      ngx_http_mcp_pg_init_process,
      ngx_http_mcp_pg_exit_process },

    /* upstream: mcp_audit_postgres, before the pool closes its connections */
    { NULL,
      NULL,
      ngx_http_mcp_pg_audit_exit_process },

    /* upstream: Redis connections of this worker, its channels */
    { NULL,
      ngx_http_mcp_redis_init_process,
      ngx_http_mcp_redis_exit_process },

    /* state: the Redis session stores' channels */
    { NULL,
      ngx_http_mcp_stores_init_process,
      NULL },
};


static ngx_command_t  ngx_http_mcp_commands[] = {

    { ngx_string("mcp_server"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_BLOCK|NGX_CONF_TAKE1,
      ngx_http_mcp_server_block,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_pass"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_mcp_pass,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_publish"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_mcp_publish,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_session_zone"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_mcp_session_zone,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_session_store"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_mcp_session_store,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_sse_buffer"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE123,
      ngx_http_mcp_events_conf,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_sse_poll"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, sse_poll),
      NULL },

    { ngx_string("mcp_sse_keepalive"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, sse_keepalive),
      NULL },

    { ngx_string("mcp_session_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, session_timeout),
      NULL },

    { ngx_string("mcp_backend_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, backend_timeout),
      NULL },

    { ngx_string("mcp_input_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, input_timeout),
      NULL },

    { ngx_string("mcp_backend_max_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, backend_max_size),
      NULL },

    { ngx_string("mcp_batch_max_response_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, batch_max_response_size),
      NULL },

    { ngx_string("mcp_allowed_origins"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_mcp_set_names,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, allowed_origins),
      NULL },

    { ngx_string("mcp_allowed_hosts"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_mcp_set_names,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, allowed_hosts),
      NULL },

    { ngx_string("mcp_page_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, page_size),
      &ngx_http_mcp_page_size_bounds },

    { ngx_string("mcp_json_max_depth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, max_depth),
      &ngx_http_mcp_depth_bounds },

    { ngx_string("mcp_json_max_members"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, max_members),
      &ngx_http_mcp_members_bounds },

    { ngx_string("mcp_json_max_values"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, max_values),
      &ngx_http_mcp_values_bounds },

    { ngx_string("mcp_json_max_string"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, max_string),
      NULL },

    { ngx_string("mcp_state_key"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_mcp_state_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, state_keys),
      NULL },

    { ngx_string("mcp_health"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_mcp_health,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("postgres_set"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_mcp_postgres_set,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_postgres_max_rows"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, pg_max_rows),
      &ngx_http_mcp_max_rows_bounds },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_mcp_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_mcp_postconfiguration,        /* postconfiguration */

    ngx_http_mcp_create_main_conf,         /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_mcp_create_loc_conf,          /* create location configuration */
    ngx_http_mcp_merge_loc_conf            /* merge location configuration */
};


ngx_module_t  ngx_http_mcp_module = {
    NGX_MODULE_V1,
    &ngx_http_mcp_module_ctx,              /* module context */
    ngx_http_mcp_commands,                 /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_mcp_init_module,              /* init module */
    ngx_http_mcp_init_process,             /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_mcp_exit_process,             /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_http_mcp_init_module(ngx_cycle_t *cycle)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_MCP_NHOOKS; i++) {
        if (ngx_http_mcp_hooks[i].init_module
            && ngx_http_mcp_hooks[i].init_module(cycle) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_MCP_NHOOKS; i++) {
        if (ngx_http_mcp_hooks[i].init_process
            && ngx_http_mcp_hooks[i].init_process(cycle) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static void
ngx_http_mcp_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t  i;

    for (i = NGX_HTTP_MCP_NHOOKS; i > 0; i--) {
        if (ngx_http_mcp_hooks[i - 1].exit_process) {
            ngx_http_mcp_hooks[i - 1].exit_process(cycle);
        }
    }
}


static ngx_int_t
ngx_http_mcp_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_mcp_main_conf_t  *mmcf;

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_module);

    if (ngx_http_mcp_catalog_check(cf, mmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (mmcf->servers.nelts
        && (ngx_http_mcp_mailbox_conf(cf) != NGX_OK
            || ngx_http_mcp_events_init(cf) != NGX_OK))
    {
        return NGX_ERROR;
    }

    if (ngx_http_mcp_streams_conf(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_mcp_metrics_on(cf)
        && (ngx_http_mcp_metrics_entries(cf, mmcf) != NGX_OK
            || ngx_http_mcp_metrics_init(cf) != NGX_OK))
    {
        return NGX_ERROR;
    }

    return ngx_http_mcp_backend_init(cf);
}


/* each entry of each catalog has series of its own in the metrics zone */

static ngx_int_t
ngx_http_mcp_metrics_entries(ngx_conf_t *cf, ngx_http_mcp_main_conf_t *mmcf)
{
    u_char                  *item;
    ngx_str_t                none, *kind;
    ngx_uint_t               i, k, n;
    ngx_array_t             *items;
    ngx_http_mcp_entry_t    *e;
    ngx_http_mcp_server_t  **srv;

    static ngx_str_t  methods[] = {
        ngx_string("tools/call"),
        ngx_string("resources/read"),
        ngx_string("resources/read"),
        ngx_string("prompts/get")
    };

    ngx_str_null(&none);
    srv = mmcf->servers.elts;

    for (n = 0; n < mmcf->servers.nelts; n++) {
        for (k = 0; k < 4; k++) {

            items = (k == 0) ? &srv[n]->tools
                    : (k == 1) ? &srv[n]->resources
                    : (k == 2) ? &srv[n]->templates
                    : &srv[n]->prompts;

            for (i = 0; i < items->nelts; i++) {
                item = (u_char *) items->elts + i * items->size;

                e = (ngx_http_mcp_entry_t *)
                    (item + ((k == 0) ? offsetof(ngx_http_mcp_tool_t, entry)
                             : (k == 3) ? offsetof(ngx_http_mcp_prompt_t, entry)
                             : offsetof(ngx_http_mcp_resource_t, entry)));

                kind = (e->backend && e->target.len) ? &e->backend->name
                                                     : &none;

                if (ngx_http_mcp_metrics_entry(cf, &methods[k], &e->name,
                                               kind, &e->target, &e->metric)
                    != NGX_OK)
                {
                    return NGX_ERROR;
                }
            }
        }
    }

    return NGX_OK;
}


static void *
ngx_http_mcp_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_mcp_main_conf_t  *mmcf;

    mmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_main_conf_t));
    if (mmcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&mmcf->servers, cf->pool, 4,
                       sizeof(ngx_http_mcp_server_t *))
        != NGX_OK
        || ngx_array_init(&mmcf->header_vars, cf->pool, 2,
                          sizeof(ngx_uint_t))
           != NGX_OK
        || ngx_array_init(&mmcf->stores, cf->pool, 2,
                          sizeof(ngx_http_mcp_store_ref_t *))
           != NGX_OK
        || ngx_array_init(&mmcf->entry_lines, cf->pool, 2,
                          sizeof(ngx_http_mcp_entry_line_t))
           != NGX_OK)
    {
        return NULL;
    }

    return mmcf;
}


static void *
ngx_http_mcp_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_mcp_loc_conf_t  *mlcf;

    mlcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_loc_conf_t));
    if (mlcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     mlcf->pass_name = { 0, NULL };
     *     mlcf->pass_file = NULL;
     *     mlcf->pass_line = 0;
     *     mlcf->server = NULL;
     *     mlcf->session_store = NULL;
     *     mlcf->health = NGX_HTTP_MCP_HEALTH_OFF;
     */

    mlcf->session_zone = NGX_CONF_UNSET_PTR;
    mlcf->session_redis = NGX_CONF_UNSET_PTR;
    mlcf->session_timeout = NGX_CONF_UNSET_MSEC;
    mlcf->sse_keepalive = NGX_CONF_UNSET_MSEC;
    mlcf->sse_poll = NGX_CONF_UNSET_MSEC;
    mlcf->backend_timeout = NGX_CONF_UNSET_MSEC;
    mlcf->input_timeout = NGX_CONF_UNSET_MSEC;
    mlcf->backend_max_size = NGX_CONF_UNSET_SIZE;
    mlcf->batch_max_response_size = NGX_CONF_UNSET_SIZE;
    mlcf->allowed_origins = NGX_CONF_UNSET_PTR;
    mlcf->allowed_hosts = NGX_CONF_UNSET_PTR;
    mlcf->page_size = NGX_CONF_UNSET_UINT;
    mlcf->max_depth = NGX_CONF_UNSET_SIZE;
    mlcf->max_members = NGX_CONF_UNSET_UINT;
    mlcf->max_values = NGX_CONF_UNSET_UINT;
    mlcf->max_string = NGX_CONF_UNSET_SIZE;
    mlcf->state_keys = NGX_CONF_UNSET_PTR;
    mlcf->pg_settings = NGX_CONF_UNSET_PTR;
    mlcf->pg_max_rows = NGX_CONF_UNSET_UINT;

    return mlcf;
}


static char *
ngx_http_mcp_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_mcp_loc_conf_t *prev = parent;
    ngx_http_mcp_loc_conf_t *conf = child;

    ngx_str_t                   name;
    ngx_uint_t                  i;
    ngx_http_mcp_store_ref_t  **ref;
    ngx_http_mcp_main_conf_t   *mmcf;

    ngx_conf_merge_ptr_value(conf->session_zone, prev->session_zone, NULL);
    ngx_conf_merge_ptr_value(conf->session_redis, prev->session_redis, NULL);
    ngx_conf_merge_msec_value(conf->sse_poll, prev->sse_poll, 0);
    ngx_conf_merge_msec_value(conf->sse_keepalive, prev->sse_keepalive,
                              15000);

    if (conf->sse_keepalive == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mcp_sse_keepalive\" must be more than 0");
        return NGX_CONF_ERROR;
    }

    ngx_conf_merge_msec_value(conf->session_timeout, prev->session_timeout,
                              30 * 60 * 1000);
    ngx_conf_merge_msec_value(conf->backend_timeout, prev->backend_timeout,
                              60000);
    ngx_conf_merge_msec_value(conf->input_timeout, prev->input_timeout,
                              60000);

    if (conf->input_timeout == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mcp_input_timeout\" must be more than 0");
        return NGX_CONF_ERROR;
    }

    ngx_conf_merge_size_value(conf->backend_max_size, prev->backend_max_size,
                              1024 * 1024);

    if (conf->backend_max_size == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mcp_backend_max_size\" must be more than 0");
        return NGX_CONF_ERROR;
    }

    ngx_conf_merge_size_value(conf->batch_max_response_size,
                              prev->batch_max_response_size, 1024 * 1024);

    ngx_conf_merge_ptr_value(conf->allowed_origins, prev->allowed_origins,
                             NULL);
    ngx_conf_merge_ptr_value(conf->allowed_hosts, prev->allowed_hosts, NULL);
    ngx_conf_merge_uint_value(conf->page_size, prev->page_size, 100);
    ngx_conf_merge_size_value(conf->max_depth, prev->max_depth, 64);
    ngx_conf_merge_uint_value(conf->max_members, prev->max_members, 10000);
    ngx_conf_merge_uint_value(conf->max_values, prev->max_values, 100000);
    ngx_conf_merge_size_value(conf->max_string, prev->max_string,
                              1024 * 1024);
    ngx_conf_merge_ptr_value(conf->pg_settings, prev->pg_settings, NULL);
    ngx_conf_merge_uint_value(conf->pg_max_rows, prev->pg_max_rows, 1000);

    ngx_conf_merge_ptr_value(conf->state_keys, prev->state_keys, NULL);

    if (conf->pass_name.data == NULL || conf->server) {
        return NGX_CONF_OK;
    }

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_module);

    if (conf->state_keys == NULL) {

        /* one random key for this configuration: workers share it */

        if (mmcf->state_random == NULL) {
            mmcf->state_random = ngx_http_mcp_state_key_random(cf);
            if (mmcf->state_random == NULL) {
                return NGX_CONF_ERROR;
            }
        }

        conf->state_keys = mmcf->state_random;
    }

    conf->server = ngx_http_mcp_registry_find(mmcf, &conf->pass_name);

    if (conf->server == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "%s: unknown mcp_server \"%V\" in %s:%ui",
                      conf->publish ? "mcp_publish" : "mcp_pass",
                      &conf->pass_name, conf->pass_file, conf->pass_line);
        return NGX_CONF_ERROR;
    }

    if (conf->session_zone == NULL) {
        ngx_str_set(&name, NGX_HTTP_MCP_DEFAULT_ZONE);

        conf->session_zone = ngx_http_mcp_session_zone_add(cf, &name,
                                               NGX_HTTP_MCP_DEFAULT_ZONE_SIZE);
        if (conf->session_zone == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if (conf->session_redis) {
        /* the zone keeps near copies */
        conf->session_store = ngx_http_mcp_session_redis_store(cf,
                                    conf->session_redis, conf->session_zone);
        if (conf->session_store == NULL) {
            return NGX_CONF_ERROR;
        }

    } else {
        conf->session_store =
                         ngx_http_mcp_session_shm_store(conf->session_zone);
    }

    /* every store once, for the readiness check */

    ref = mmcf->stores.elts;

    for (i = 0; i < mmcf->stores.nelts; i++) {
        if (ref[i] == conf->session_store) {
            return NGX_CONF_OK;
        }
    }

    ref = ngx_array_push(&mmcf->stores);
    if (ref == NULL) {
        return NGX_CONF_ERROR;
    }

    *ref = conf->session_store;

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_pass(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_loc_conf_t *mlcf = conf;

    ngx_str_t                 *value;
    ngx_http_core_loc_conf_t  *clcf;

    if (mlcf->pass_name.data) {
        return "is duplicate";
    }

    if (mlcf->health != NGX_HTTP_MCP_HEALTH_OFF) {
        return "cannot be used together with \"mcp_health\"";
    }

    value = cf->args->elts;

    mlcf->pass_name = value[1];
    mlcf->pass_file = cf->conf_file->file.name.data;
    mlcf->pass_line = cf->conf_file->line;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_mcp_handler;

    return NGX_CONF_OK;
}


/* where an operator's backend POSTs what changed (transport/publish) */

static char *
ngx_http_mcp_publish(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_loc_conf_t *mlcf = conf;

    char                      *rv;
    ngx_http_core_loc_conf_t  *clcf;

    rv = ngx_http_mcp_pass(cf, cmd, conf);

    if (rv != NGX_CONF_OK) {
        return rv;
    }

    mlcf->publish = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_mcp_publish_handler;

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_session_store(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_loc_conf_t *mlcf = conf;

    ngx_str_t  *value;

    if (mlcf->session_redis != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    return ngx_http_mcp_session_store_conf(cf, &value[1],
                         cf->args->nelts - 1,
                         (ngx_http_mcp_session_redis_conf_t **)
                             &mlcf->session_redis);
}


/*
 * The sessions alive in each shm zone that is a location's store (not one
 * that only keeps a Redis store's near copies), for the metrics page
 */

ngx_array_t *
ngx_http_mcp_sessions_active(ngx_pool_t *pool)
{
    ngx_uint_t                  i;
    ngx_array_t                *a;
    ngx_shm_zone_t             *zone;
    ngx_http_mcp_sessions_t    *n;
    ngx_http_mcp_store_ref_t  **ref;
    ngx_http_mcp_main_conf_t   *mmcf;

    mmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle, ngx_http_mcp_module);

    a = ngx_array_create(pool, 2, sizeof(ngx_http_mcp_sessions_t));
    if (a == NULL) {
        return NULL;
    }

    ref = mmcf->stores.elts;

    for (i = 0; i < mmcf->stores.nelts; i++) {

        if (ref[i]->store->name.len != sizeof("shm") - 1
            || ngx_strncmp(ref[i]->store->name.data, "shm", 3) != 0)
        {
            continue;
        }

        zone = ref[i]->data;

        n = ngx_array_push(a);
        if (n == NULL) {
            return NULL;
        }

        n->zone = zone->shm.name;
        n->active = ngx_http_mcp_session_shm_active(zone);
    }

    return a;
}


static ngx_int_t
ngx_http_mcp_stores_init_process(ngx_cycle_t *cycle)
{
    ngx_http_mcp_main_conf_t  *mmcf;

    mmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_mcp_module);

    if (mmcf == NULL) {
        return NGX_OK;
    }

    return ngx_http_mcp_session_redis_init_process(&mmcf->stores);
}


static char *
ngx_http_mcp_session_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_loc_conf_t *mlcf = conf;

    u_char     *p;
    ssize_t     size;
    ngx_str_t  *value, name, s;

    if (mlcf->session_zone != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    p = (u_char *) ngx_strchr(value[1].data, ':');

    if (p == NULL || p == value[1].data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid mcp_session_zone \"%V\", "
                           "expected NAME:SIZE", &value[1]);
        return NGX_CONF_ERROR;
    }

    name.data = value[1].data;
    name.len = p - value[1].data;

    s.data = p + 1;
    s.len = value[1].data + value[1].len - s.data;

    size = ngx_parse_size(&s);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid mcp_session_zone size \"%V\"", &s);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "mcp_session_zone \"%V\" is too small", &name);
        return NGX_CONF_ERROR;
    }

    mlcf->session_zone = ngx_http_mcp_session_zone_add(cf, &name, size);
    if (mlcf->session_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* mcp_allowed_origins, mcp_allowed_hosts: every argument, once */

static char *
ngx_http_mcp_set_names(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t     *value, *s;
    ngx_uint_t     i;
    ngx_array_t  **a;

    a = (ngx_array_t **) (p + cmd->offset);

    if (*a != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    *a = ngx_array_create(cf->pool, cf->args->nelts - 1, sizeof(ngx_str_t));
    if (*a == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        s = ngx_array_push(*a);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        *s = value[i];
    }

    return NGX_CONF_OK;
}


/* `postgres_set NAME VALUE;`: lines of one level replace the outer's */

static char *
ngx_http_mcp_postgres_set(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_loc_conf_t *mlcf = conf;

    if (mlcf->pg_settings == NGX_CONF_UNSET_PTR) {
        mlcf->pg_settings = NULL;
    }

    return ngx_http_mcp_postgres_setting(cf, &mlcf->pg_settings,
                                         cf->args->elts);
}


void
ngx_http_mcp_sha256(u_char *data, size_t n, u_char *md)
{
    SHA256_CTX  sha;

    SHA256_Init(&sha);
    SHA256_Update(&sha, data, n);
    SHA256_Final(md, &sha);
}
