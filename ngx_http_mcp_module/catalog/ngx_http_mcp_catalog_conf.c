
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "catalog/ngx_http_mcp_catalog_conf.h"
#include "catalog/ngx_http_mcp_registry.h"
#include "json/ngx_http_mcp_schema.h"
#include "catalog/ngx_http_mcp_content.h"


typedef char *(*ngx_http_mcp_server_entry_pt)(ngx_conf_t *cf,
    ngx_http_mcp_catalog_t *cat, ngx_str_t *value);

typedef struct {
    ngx_str_t                     name;
    ngx_http_mcp_server_entry_pt  handler;
    ngx_uint_t                    offset;
} ngx_http_mcp_server_entry_t;


static char *ngx_http_mcp_catalog_str(ngx_conf_t *cf,
    ngx_http_mcp_catalog_t *cat, ngx_str_t *value);
static char *ngx_http_mcp_catalog_cache_ttl(ngx_conf_t *cf,
    ngx_http_mcp_catalog_t *cat, ngx_str_t *value);
static char *ngx_http_mcp_catalog_cache_scope(ngx_conf_t *cf,
    ngx_http_mcp_catalog_t *cat, ngx_str_t *value);


#define ngx_http_mcp_catalog_row(name, args)                                  \
    { ngx_string(name), NGX_HTTP_MCP_CATALOG_CONF|NGX_DIRECT_CONF|args,       \
      ngx_http_mcp_catalog_entry, 0, 0, NULL }

static ngx_command_t  ngx_http_mcp_catalog_commands[] = {
    ngx_http_mcp_catalog_row("name", NGX_CONF_TAKE1),
    ngx_http_mcp_catalog_row("version", NGX_CONF_TAKE1),
    ngx_http_mcp_catalog_row("title", NGX_CONF_TAKE1),
    ngx_http_mcp_catalog_row("description", NGX_CONF_TAKE1),
    ngx_http_mcp_catalog_row("instructions", NGX_CONF_TAKE1),
    ngx_http_mcp_catalog_row("cache_ttl", NGX_CONF_TAKE1),
    ngx_http_mcp_catalog_row("cache_scope", NGX_CONF_TAKE1),
    ngx_http_mcp_catalog_row("include", NGX_CONF_TAKE1),
    ngx_http_mcp_catalog_row("tool", NGX_CONF_BLOCK|NGX_CONF_TAKE1),
    ngx_http_mcp_catalog_row("resource", NGX_CONF_BLOCK|NGX_CONF_TAKE1),
    ngx_http_mcp_catalog_row("resource_template",
                             NGX_CONF_BLOCK|NGX_CONF_TAKE1),
    ngx_http_mcp_catalog_row("prompt", NGX_CONF_BLOCK|NGX_CONF_TAKE1),
    ngx_null_command
};


/* the commands of mcp_server {}, of a module type nothing else parses */

ngx_module_t  ngx_http_mcp_catalog_module = {
    NGX_MODULE_V1,
    NULL,                                  /* module context */
    NULL,                                  /* module directives: while
                                              mcp_server {} is read, the
                                              catalog's commands */
    NGX_HTTP_MCP_CATALOG_MODULE,           /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_mcp_server_entry_t  ngx_http_mcp_server_entries[] = {

    { ngx_string("name"), ngx_http_mcp_catalog_str,
      offsetof(ngx_http_mcp_server_t, name) },

    { ngx_string("version"), ngx_http_mcp_catalog_str,
      offsetof(ngx_http_mcp_server_t, version) },

    { ngx_string("title"), ngx_http_mcp_catalog_str,
      offsetof(ngx_http_mcp_server_t, title) },

    { ngx_string("description"), ngx_http_mcp_catalog_str,
      offsetof(ngx_http_mcp_server_t, description) },

    { ngx_string("instructions"), ngx_http_mcp_catalog_str,
      offsetof(ngx_http_mcp_server_t, instructions) },

    { ngx_string("cache_ttl"), ngx_http_mcp_catalog_cache_ttl, 0 },
    { ngx_string("cache_scope"), ngx_http_mcp_catalog_cache_scope, 0 },
    { ngx_string("tool"), ngx_http_mcp_catalog_tool, 0 },
    { ngx_string("resource"), ngx_http_mcp_catalog_resource, 0 },
    { ngx_string("resource_template"), ngx_http_mcp_catalog_template, 0 },
    { ngx_string("prompt"), ngx_http_mcp_catalog_prompt, 0 },

    { ngx_null_string, NULL, 0 }
};


/* mcp_server NAME { ... } */

char *
ngx_http_mcp_server_block(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_main_conf_t *mmcf = conf;

    char                     *rv;
    void                    **confp;
    ngx_str_t                *value;
    ngx_uint_t                i;
    ngx_conf_t                save;
    ngx_http_mcp_server_t    *srv, **srvp;
    ngx_http_mcp_catalog_t   *cat;

    value = cf->args->elts;

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "mcp_server: empty name");
        return NGX_CONF_ERROR;
    }

    if (ngx_http_mcp_registry_find(mmcf, &value[1])) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate mcp_server \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    srv = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_server_t));
    if (srv == NULL) {
        return NGX_CONF_ERROR;
    }

    srv->id = value[1];
    srv->file = cf->conf_file->file.name.data;
    srv->line = cf->conf_file->line;
    srv->cache_ttl = NGX_CONF_UNSET_MSEC;
    srv->cache_private = NGX_CONF_UNSET_UINT;

    if (ngx_array_init(&srv->tools, cf->pool, 8, sizeof(ngx_http_mcp_tool_t))
        != NGX_OK
        || ngx_array_init(&srv->resources, cf->pool, 4,
                          sizeof(ngx_http_mcp_resource_t))
           != NGX_OK
        || ngx_array_init(&srv->templates, cf->pool, 4,
                          sizeof(ngx_http_mcp_resource_t))
           != NGX_OK
        || ngx_array_init(&srv->prompts, cf->pool, 4,
                          sizeof(ngx_http_mcp_prompt_t))
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    cat = ngx_pcalloc(cf->temp_pool, sizeof(ngx_http_mcp_catalog_t));
    if (cat == NULL) {
        return NGX_CONF_ERROR;
    }

    cat->srv = srv;
    cat->http_ctx = cf->ctx;

    for (i = 0; i < NGX_HTTP_MCP_LIST_MAX; i++) {
        cat->names[i].pool = cf->temp_pool;
        cat->names[i].temp_pool = cf->temp_pool;

        if (ngx_hash_keys_array_init(&cat->names[i], NGX_HASH_SMALL)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    /* ngx_conf_handler() finds our rows' conf at ctx[index] */

    confp = ngx_pcalloc(cf->temp_pool, cf->cycle->modules_n * sizeof(void *));
    if (confp == NULL) {
        return NGX_CONF_ERROR;
    }

    confp[ngx_http_mcp_catalog_module.index] = cat;

    save = *cf;
    cf->ctx = confp;
    cf->module_type = NGX_HTTP_MCP_CATALOG_MODULE;
    cf->cmd_type = NGX_HTTP_MCP_CATALOG_CONF;
    cf->handler = NULL;

    /*
     * nginx says "not allowed here" for a directive that any module has,
     * in any context: the rows are shown only while mcp_server {} is read
     */

    ngx_http_mcp_catalog_module.commands = ngx_http_mcp_catalog_commands;

    rv = ngx_conf_parse(cf, NULL);

    ngx_http_mcp_catalog_module.commands = NULL;

    *cf = save;

    if (rv != NGX_CONF_OK) {
        return rv;
    }

    ngx_conf_init_msec_value(srv->cache_ttl, 5 * 60 * 1000);
    ngx_conf_init_uint_value(srv->cache_private, 0);

    if (ngx_http_mcp_registry_init(cf, srv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    srvp = ngx_array_push(&mmcf->servers);
    if (srvp == NULL) {
        return NGX_CONF_ERROR;
    }

    *srvp = srv;

    return NGX_CONF_OK;
}


char *
ngx_http_mcp_catalog_entry(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_catalog_t *cat = conf;

    ngx_str_t                    *value;
    ngx_http_mcp_server_entry_t  *e;

    value = cf->args->elts;

    if (cmd->name.len == sizeof("include") - 1
        && ngx_strcmp(cmd->name.data, "include") == 0)
    {
        return ngx_conf_include(cf, cmd, conf);
    }

    for (e = ngx_http_mcp_server_entries; e->name.len; e++) {
        if (e->name.len == cmd->name.len
            && ngx_strcmp(e->name.data, cmd->name.data) == 0)
        {
            return e->handler(cf, cat, value);
        }
    }

    return "is not allowed here";
}


static char *
ngx_http_mcp_catalog_str(ngx_conf_t *cf, ngx_http_mcp_catalog_t *cat,
    ngx_str_t *value)
{
    ngx_str_t                    *field;
    ngx_http_mcp_server_entry_t  *e;

    for (e = ngx_http_mcp_server_entries; e->name.len; e++) {
        if (e->name.len == value[0].len
            && ngx_strcmp(e->name.data, value[0].data) == 0)
        {
            break;
        }
    }

    field = (ngx_str_t *) ((char *) cat->srv + e->offset);

    if (field->data) {
        return "is duplicate";
    }

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "empty \"%V\"", &value[0]);
        return NGX_CONF_ERROR;
    }

    *field = value[1];

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_catalog_cache_ttl(ngx_conf_t *cf, ngx_http_mcp_catalog_t *cat,
    ngx_str_t *value)
{
    ngx_msec_t  ms;

    if (cat->srv->cache_ttl != NGX_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    ms = ngx_parse_time(&value[1], 0);

    if (ms == (ngx_msec_t) NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid cache_ttl \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    cat->srv->cache_ttl = ms;

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_catalog_cache_scope(ngx_conf_t *cf, ngx_http_mcp_catalog_t *cat,
    ngx_str_t *value)
{
    if (cat->srv->cache_private != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    if (ngx_strcmp(value[1].data, "public") == 0) {
        cat->srv->cache_private = 0;

    } else if (ngx_strcmp(value[1].data, "private") == 0) {
        cat->srv->cache_private = 1;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid cache_scope \"%V\", "
                           "it must be \"public\" or \"private\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* the names an item declares: tool arguments (its inputSchema's
   properties), template variables, prompt arguments */

static ngx_int_t
ngx_http_mcp_catalog_names(ngx_conf_t *cf, ngx_http_mcp_entry_t *e,
    ngx_array_t *params, ngx_http_mcp_json_t *schema)
{
    ngx_str_t             *name;
    ngx_uint_t             i;
    ngx_http_mcp_json_t   *props, *m;
    ngx_http_mcp_param_t  *p;

    e->params = ngx_array_create(cf->pool, 4, sizeof(ngx_str_t));
    if (e->params == NULL) {
        return NGX_ERROR;
    }

    if (schema) {
        props = ngx_http_mcp_json_member(schema, "properties");

        if (props && props->type == NGX_HTTP_MCP_JSON_OBJECT) {
            for (m = props->first; m; m = m->next) {
                name = ngx_array_push(e->params);
                if (name == NULL) {
                    return NGX_ERROR;
                }

                *name = m->key;
            }
        }

        return NGX_OK;
    }

    p = params->elts;

    for (i = 0; i < params->nelts; i++) {
        name = ngx_array_push(e->params);
        if (name == NULL) {
            return NGX_ERROR;
        }

        *name = p[i].name;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_catalog_check_entry(ngx_conf_t *cf, ngx_http_mcp_entry_t *e)
{
    if (e->options
        && (e->backend == NULL || e->backend->option_conf == NULL))
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"%V\" has backend options but no backend line "
                      "that takes them", &e->name);
        return NGX_ERROR;
    }

    if (e->backend == NULL || e->backend->init == NULL) {
        return NGX_OK;
    }

    return e->backend->init(cf, e);
}


ngx_int_t
ngx_http_mcp_catalog_check(ngx_conf_t *cf, ngx_http_mcp_main_conf_t *mmcf)
{
    ngx_uint_t                i, j, k;
    ngx_array_t              *lists[2];
    ngx_http_mcp_tool_t      *tool;
    ngx_http_mcp_prompt_t    *prompt;
    ngx_http_mcp_server_t   **srv;
    ngx_http_mcp_resource_t  *res;

    srv = mmcf->servers.elts;

    for (i = 0; i < mmcf->servers.nelts; i++) {

        tool = srv[i]->tools.elts;

        for (k = 0; k < srv[i]->tools.nelts; k++) {
            if (ngx_http_mcp_catalog_names(cf, &tool[k].entry, NULL,
                                           tool[k].input_schema)
                   != NGX_OK
                || ngx_http_mcp_catalog_check_entry(cf, &tool[k].entry)
                   != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        lists[0] = &srv[i]->resources;
        lists[1] = &srv[i]->templates;

        for (k = 0; k < 2; k++) {
            res = lists[k]->elts;

            for (j = 0; j < lists[k]->nelts; j++) {
                res[j].entry.read_only = 1;
                res[j].entry.mime = res[j].mime;

                if (ngx_http_mcp_catalog_names(cf, &res[j].entry,
                                               &res[j].params, NULL)
                       != NGX_OK
                    || ngx_http_mcp_catalog_check_entry(cf, &res[j].entry)
                       != NGX_OK)
                {
                    return NGX_ERROR;
                }
            }
        }

        prompt = srv[i]->prompts.elts;

        for (k = 0; k < srv[i]->prompts.nelts; k++) {
            prompt[k].entry.read_only = 1;

            if (ngx_http_mcp_catalog_names(cf, &prompt[k].entry,
                                           &prompt[k].params, NULL)
                   != NGX_OK
                || ngx_http_mcp_catalog_check_entry(cf, &prompt[k].entry)
                   != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}
