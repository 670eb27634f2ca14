
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "protocol/ngx_http_mcp_catalog_conf.h"
#include "protocol/ngx_http_mcp_registry.h"
#include "protocol/ngx_http_mcp_schema.h"
#include "backend/ngx_http_mcp_static.h"


#define NGX_HTTP_MCP_FILE_MAX      (16 * 1024 * 1024)
#define NGX_HTTP_MCP_NAME_MAX      128
#define NGX_HTTP_MCP_ANY           ((ngx_uint_t) -1)

#define NGX_HTTP_MCP_MSG_TEXT      0
#define NGX_HTTP_MCP_MSG_IMAGE     1
#define NGX_HTTP_MCP_MSG_RESOURCE  2


typedef struct ngx_http_mcp_block_s  ngx_http_mcp_block_t;

typedef char *(*ngx_http_mcp_entry_pt)(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b, ngx_str_t *value, ngx_uint_t n);


/* one entry of a tool/resource/resource_template/prompt block */
typedef struct {
    ngx_str_t                   name;
    ngx_uint_t                  min;       /* arguments after the name */
    ngx_uint_t                  max;
    ngx_http_mcp_entry_pt       handler;
    ngx_uint_t                  offset;    /* for the string entries */
} ngx_http_mcp_entry_t;


/* the state of one mcp_server block */
typedef struct {
    ngx_http_mcp_server_t      *srv;
    ngx_hash_keys_arrays_t      names[NGX_HTTP_MCP_LIST_MAX];
} ngx_http_mcp_catalog_t;


typedef char *(*ngx_http_mcp_server_entry_pt)(ngx_conf_t *cf,
    ngx_http_mcp_catalog_t *cat, ngx_str_t *value);

typedef struct {
    ngx_str_t                     name;
    ngx_http_mcp_server_entry_pt  handler;
    ngx_uint_t                    offset;
} ngx_http_mcp_server_entry_t;


typedef struct {
    ngx_uint_t                  kind;      /* NGX_HTTP_MCP_MSG_* */
    ngx_str_t                   role;
    ngx_str_t                   uri;
    ngx_str_t                   mime;
    ngx_str_t                   data;      /* text, or the image bytes */
} ngx_http_mcp_message_t;


struct ngx_http_mcp_block_s {
    ngx_http_mcp_catalog_t     *cat;
    ngx_http_mcp_entry_t       *entries;
    char                       *what;      /* "tool", "prompt", ... */
    ngx_str_t                   id;        /* its name or uri */

    ngx_str_t                   name;
    ngx_str_t                   title;
    ngx_str_t                   description;
    ngx_str_t                   mime;

    /* tool */
    ngx_http_mcp_tool_t        *tool;
    ngx_http_mcp_tool_conf_t    tc;
    ngx_array_t                 result;    /* ngx_http_mcp_seg_t */
    ngx_http_mcp_sb_t           sb;        /* the result being written */
    ngx_uint_t                  nitems;
    ngx_uint_t                  has_text;
    ngx_http_mcp_json_t        *structured;
    ngx_uint_t                  requires;  /* bit per capability */

    /* resource, resource_template */
    ngx_http_mcp_resource_t    *res;
    ngx_str_t                   data;
    ngx_str_t                   file;      /* data came from this file */
    ngx_uint_t                  has_data;

    /* prompt */
    ngx_http_mcp_prompt_t      *prompt;
    ngx_array_t                 messages;  /* ngx_http_mcp_message_t */
};


static char *ngx_http_mcp_catalog_str(ngx_conf_t *cf,
    ngx_http_mcp_catalog_t *cat, ngx_str_t *value);
static char *ngx_http_mcp_catalog_cache_ttl(ngx_conf_t *cf,
    ngx_http_mcp_catalog_t *cat, ngx_str_t *value);
static char *ngx_http_mcp_catalog_cache_scope(ngx_conf_t *cf,
    ngx_http_mcp_catalog_t *cat, ngx_str_t *value);
static char *ngx_http_mcp_catalog_tool(ngx_conf_t *cf,
    ngx_http_mcp_catalog_t *cat, ngx_str_t *value);
static char *ngx_http_mcp_catalog_resource(ngx_conf_t *cf,
    ngx_http_mcp_catalog_t *cat, ngx_str_t *value);
static char *ngx_http_mcp_catalog_template(ngx_conf_t *cf,
    ngx_http_mcp_catalog_t *cat, ngx_str_t *value);
static char *ngx_http_mcp_catalog_prompt(ngx_conf_t *cf,
    ngx_http_mcp_catalog_t *cat, ngx_str_t *value);

static char *ngx_http_mcp_catalog_block(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b);
static char *ngx_http_mcp_catalog_item(ngx_conf_t *cf, ngx_command_t *dummy,
    void *conf);
static ngx_int_t ngx_http_mcp_catalog_unique(ngx_conf_t *cf,
    ngx_http_mcp_catalog_t *cat, ngx_http_mcp_list_e kind, ngx_str_t *key,
    char *what);
static ngx_int_t ngx_http_mcp_catalog_name(ngx_conf_t *cf, char *what,
    ngx_str_t *name);
static ngx_int_t ngx_http_mcp_catalog_uri(ngx_conf_t *cf, char *what,
    ngx_str_t *uri);
static char *ngx_http_mcp_catalog_read(ngx_conf_t *cf, ngx_str_t *name,
    ngx_str_t *data);
static char *ngx_http_mcp_catalog_json(ngx_conf_t *cf, ngx_str_t *value,
    ngx_uint_t is_file, char *what, ngx_http_mcp_json_t **root);
static char *ngx_http_mcp_catalog_param(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b, ngx_array_t *params, ngx_str_t *value,
    ngx_uint_t n, ngx_uint_t typed);
static ngx_http_mcp_param_t *ngx_http_mcp_catalog_find_param(
    ngx_array_t *params, ngx_str_t *name);

static char *ngx_http_mcp_entry_str(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_mcp_tool_argument(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_mcp_tool_schema(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_mcp_tool_annotations(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_mcp_tool_requires(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_mcp_tool_content(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_mcp_tool_structured(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_mcp_tool_done(ngx_conf_t *cf, ngx_http_mcp_block_t *b);
static char *ngx_http_mcp_resource_data(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_mcp_resource_done(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b);
static char *ngx_http_mcp_template_done(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b);
static char *ngx_http_mcp_entry_complete(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_mcp_prompt_argument(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_mcp_prompt_message(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_mcp_prompt_done(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b);


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


#define ngx_http_mcp_block_str(field)                                         \
    ngx_http_mcp_entry_str, offsetof(ngx_http_mcp_block_t, field)


static ngx_http_mcp_entry_t  ngx_http_mcp_tool_entries[] = {
    { ngx_string("title"), 1, 1, ngx_http_mcp_block_str(tc.title) },
    { ngx_string("description"), 1, 1,
      ngx_http_mcp_block_str(tc.description) },
    { ngx_string("argument"), 2, 4, ngx_http_mcp_tool_argument, 0 },
    { ngx_string("input_schema"), 1, 1, ngx_http_mcp_tool_schema, 0 },
    { ngx_string("input_schema_file"), 1, 1, ngx_http_mcp_tool_schema, 0 },
    { ngx_string("output_schema"), 1, 1, ngx_http_mcp_tool_schema, 0 },
    { ngx_string("output_schema_file"), 1, 1, ngx_http_mcp_tool_schema, 0 },
    { ngx_string("annotations"), 1, 4, ngx_http_mcp_tool_annotations, 0 },
    { ngx_string("requires_capability"), 1, 3, ngx_http_mcp_tool_requires,
      0 },
    { ngx_string("text"), 1, 1, ngx_http_mcp_tool_content, 0 },
    { ngx_string("text_file"), 1, 1, ngx_http_mcp_tool_content, 0 },
    { ngx_string("image"), 1, 2, ngx_http_mcp_tool_content, 0 },
    { ngx_string("audio"), 1, 2, ngx_http_mcp_tool_content, 0 },
    { ngx_string("resource"), 3, 3, ngx_http_mcp_tool_content, 0 },
    { ngx_string("resource_file"), 2, 3, ngx_http_mcp_tool_content, 0 },
    { ngx_string("resource_link"), 2, 3, ngx_http_mcp_tool_content, 0 },
    { ngx_string("error"), 1, 1, ngx_http_mcp_tool_content, 0 },
    { ngx_string("structured"), 1, 1, ngx_http_mcp_tool_structured, 0 },
    { ngx_null_string, 0, 0, NULL, 0 }
};


static ngx_http_mcp_entry_t  ngx_http_mcp_resource_entries[] = {
    { ngx_string("name"), 1, 1, ngx_http_mcp_block_str(name) },
    { ngx_string("title"), 1, 1, ngx_http_mcp_block_str(title) },
    { ngx_string("description"), 1, 1, ngx_http_mcp_block_str(description) },
    { ngx_string("mime_type"), 1, 1, ngx_http_mcp_block_str(mime) },
    { ngx_string("text"), 1, 1, ngx_http_mcp_resource_data, 0 },
    { ngx_string("file"), 1, 1, ngx_http_mcp_resource_data, 0 },
    { ngx_null_string, 0, 0, NULL, 0 }
};


static ngx_http_mcp_entry_t  ngx_http_mcp_template_entries[] = {
    { ngx_string("name"), 1, 1, ngx_http_mcp_block_str(name) },
    { ngx_string("title"), 1, 1, ngx_http_mcp_block_str(title) },
    { ngx_string("description"), 1, 1, ngx_http_mcp_block_str(description) },
    { ngx_string("mime_type"), 1, 1, ngx_http_mcp_block_str(mime) },
    { ngx_string("text"), 1, 1, ngx_http_mcp_resource_data, 0 },
    { ngx_string("complete"), 2, NGX_HTTP_MCP_ANY,
      ngx_http_mcp_entry_complete, 0 },
    { ngx_null_string, 0, 0, NULL, 0 }
};


static ngx_http_mcp_entry_t  ngx_http_mcp_prompt_entries[] = {
    { ngx_string("title"), 1, 1, ngx_http_mcp_block_str(title) },
    { ngx_string("description"), 1, 1, ngx_http_mcp_block_str(description) },
    { ngx_string("argument"), 1, 3, ngx_http_mcp_prompt_argument, 0 },
    { ngx_string("message"), 2, 2, ngx_http_mcp_prompt_message, 0 },
    { ngx_string("message_image"), 2, 3, ngx_http_mcp_prompt_message, 0 },
    { ngx_string("message_resource"), 4, 4, ngx_http_mcp_prompt_message, 0 },
    { ngx_string("complete"), 2, NGX_HTTP_MCP_ANY,
      ngx_http_mcp_entry_complete, 0 },
    { ngx_null_string, 0, 0, NULL, 0 }
};


static ngx_str_t  ngx_http_mcp_arg_types[] = {
    ngx_string("string"),
    ngx_string("integer"),
    ngx_string("number"),
    ngx_string("boolean"),
    ngx_string("object"),
    ngx_string("array"),
    ngx_null_string
};


/* in the order of ngx_http_mcp_tool_conf_t.annotations */
static ngx_str_t  ngx_http_mcp_annotation_flags[] = {
    ngx_string("read_only"),
    ngx_string("destructive"),
    ngx_string("idempotent"),
    ngx_string("open_world"),
    ngx_null_string
};


static ngx_str_t  ngx_http_mcp_capabilities[] = {
    ngx_string("sampling"),
    ngx_string("elicitation"),
    ngx_string("roots"),
    ngx_null_string
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

    for (i = 0; i < NGX_HTTP_MCP_LIST_MAX; i++) {
        cat->names[i].pool = cf->temp_pool;
        cat->names[i].temp_pool = cf->temp_pool;

        if (ngx_hash_keys_array_init(&cat->names[i], NGX_HASH_SMALL)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    /* ngx_conf_handler() finds our rows' conf at ctx[0][ctx_index] */

    confp = ngx_pcalloc(cf->temp_pool,
                        (ngx_http_mcp_module.ctx_index + 1) * sizeof(void *));
    if (confp == NULL) {
        return NGX_CONF_ERROR;
    }

    confp[ngx_http_mcp_module.ctx_index] = cat;

    save = *cf;
    cf->ctx = &confp;
    cf->cmd_type = NGX_HTTP_MCP_CATALOG_CONF;
    cf->handler = NULL;

    rv = ngx_conf_parse(cf, NULL);

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

    if (cat == NULL) {
        return "is allowed only inside mcp_server";
    }

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


/* the item blocks */

static char *
ngx_http_mcp_catalog_tool(ngx_conf_t *cf, ngx_http_mcp_catalog_t *cat,
    ngx_str_t *value)
{
    char                  *rv;
    ngx_uint_t             i;
    ngx_http_mcp_block_t   b;

    if (ngx_http_mcp_catalog_name(cf, "tool", &value[1]) != NGX_OK
        || ngx_http_mcp_catalog_unique(cf, cat, NGX_HTTP_MCP_LIST_TOOLS,
                                       &value[1], "tool")
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&b, sizeof(ngx_http_mcp_block_t));

    b.cat = cat;
    b.entries = ngx_http_mcp_tool_entries;
    b.what = "tool";
    b.id = value[1];

    b.tool = ngx_array_push(&cat->srv->tools);
    if (b.tool == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(b.tool, sizeof(ngx_http_mcp_tool_t));
    b.tool->name = value[1];

    for (i = 0; i < 4; i++) {
        b.tc.annotations[i] = -1;
    }

    if (ngx_array_init(&b.tc.params, cf->pool, 4,
                       sizeof(ngx_http_mcp_param_t))
        != NGX_OK
        || ngx_array_init(&b.result, cf->pool, 1, sizeof(ngx_http_mcp_seg_t))
           != NGX_OK
        || ngx_http_mcp_sb_init(&b.sb, cf->pool, &b.result, NULL) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    ngx_http_mcp_sb_literal(&b.sb, "\"content\":[");

    rv = ngx_http_mcp_catalog_block(cf, &b);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    return ngx_http_mcp_tool_done(cf, &b);
}


static char *
ngx_http_mcp_catalog_resource(ngx_conf_t *cf, ngx_http_mcp_catalog_t *cat,
    ngx_str_t *value)
{
    char                  *rv;
    ngx_http_mcp_block_t   b;

    if (ngx_http_mcp_catalog_uri(cf, "resource", &value[1]) != NGX_OK
        || ngx_http_mcp_catalog_unique(cf, cat, NGX_HTTP_MCP_LIST_RESOURCES,
                                       &value[1], "resource")
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&b, sizeof(ngx_http_mcp_block_t));

    b.cat = cat;
    b.entries = ngx_http_mcp_resource_entries;
    b.what = "resource";
    b.id = value[1];

    b.res = ngx_array_push(&cat->srv->resources);
    if (b.res == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(b.res, sizeof(ngx_http_mcp_resource_t));
    b.res->uri = value[1];

    rv = ngx_http_mcp_catalog_block(cf, &b);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    return ngx_http_mcp_resource_done(cf, &b);
}


static char *
ngx_http_mcp_catalog_template(ngx_conf_t *cf, ngx_http_mcp_catalog_t *cat,
    ngx_str_t *value)
{
    char                  *rv;
    ngx_int_t              rc;
    ngx_str_t              err;
    ngx_http_mcp_block_t   b;

    if (ngx_http_mcp_catalog_uri(cf, "resource_template", &value[1])
        != NGX_OK
        || ngx_http_mcp_catalog_unique(cf, cat, NGX_HTTP_MCP_LIST_TEMPLATES,
                                       &value[1], "resource_template")
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&b, sizeof(ngx_http_mcp_block_t));

    b.cat = cat;
    b.entries = ngx_http_mcp_template_entries;
    b.what = "resource_template";
    b.id = value[1];

    b.res = ngx_array_push(&cat->srv->templates);
    if (b.res == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(b.res, sizeof(ngx_http_mcp_resource_t));
    b.res->uri = value[1];

    rc = ngx_http_mcp_registry_template_parse(cf, b.res, &err);

    if (rc == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    if (rc != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid resource_template \"%V\": %V",
                           &value[1], &err);
        return NGX_CONF_ERROR;
    }

    rv = ngx_http_mcp_catalog_block(cf, &b);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    return ngx_http_mcp_template_done(cf, &b);
}


static char *
ngx_http_mcp_catalog_prompt(ngx_conf_t *cf, ngx_http_mcp_catalog_t *cat,
    ngx_str_t *value)
{
    char                  *rv;
    ngx_http_mcp_block_t   b;

    if (ngx_http_mcp_catalog_name(cf, "prompt", &value[1]) != NGX_OK
        || ngx_http_mcp_catalog_unique(cf, cat, NGX_HTTP_MCP_LIST_PROMPTS,
                                       &value[1], "prompt")
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&b, sizeof(ngx_http_mcp_block_t));

    b.cat = cat;
    b.entries = ngx_http_mcp_prompt_entries;
    b.what = "prompt";
    b.id = value[1];

    b.prompt = ngx_array_push(&cat->srv->prompts);
    if (b.prompt == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(b.prompt, sizeof(ngx_http_mcp_prompt_t));
    b.prompt->name = value[1];

    if (ngx_array_init(&b.prompt->params, cf->pool, 4,
                       sizeof(ngx_http_mcp_param_t))
        != NGX_OK
        || ngx_array_init(&b.prompt->messages, cf->pool, 4,
                          sizeof(ngx_http_mcp_seg_t))
           != NGX_OK
        || ngx_array_init(&b.messages, cf->temp_pool, 4,
                          sizeof(ngx_http_mcp_message_t))
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    rv = ngx_http_mcp_catalog_block(cf, &b);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    return ngx_http_mcp_prompt_done(cf, &b);
}


static char *
ngx_http_mcp_catalog_block(ngx_conf_t *cf, ngx_http_mcp_block_t *b)
{
    char        *rv;
    ngx_conf_t   save;

    save = *cf;
    cf->handler = ngx_http_mcp_catalog_item;
    cf->handler_conf = b;

    rv = ngx_conf_parse(cf, NULL);

    *cf = save;

    return rv;
}


static char *
ngx_http_mcp_catalog_item(ngx_conf_t *cf, ngx_command_t *dummy, void *conf)
{
    ngx_http_mcp_block_t *b = conf;

    ngx_str_t             *value;
    ngx_uint_t             n;
    ngx_http_mcp_entry_t  *e;

    value = cf->args->elts;
    n = cf->args->nelts - 1;

    if (value[0].len == sizeof("include") - 1
        && ngx_strcmp(value[0].data, "include") == 0)
    {
        if (n != 1) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid number of arguments in \"include\"");
            return NGX_CONF_ERROR;
        }

        return ngx_conf_include(cf, dummy, conf);
    }

    for (e = b->entries; e->name.len; e++) {

        if (e->name.len != value[0].len
            || ngx_strcmp(e->name.data, value[0].data) != 0)
        {
            continue;
        }

        if (n < e->min || n > e->max) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid number of arguments in \"%V\" "
                               "in %s \"%V\"", &value[0], b->what, &b->id);
            return NGX_CONF_ERROR;
        }

        return e->handler(cf, b, value, n);
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "unknown entry \"%V\" in %s \"%V\"",
                       &value[0], b->what, &b->id);

    return NGX_CONF_ERROR;
}


static ngx_int_t
ngx_http_mcp_catalog_unique(ngx_conf_t *cf, ngx_http_mcp_catalog_t *cat,
    ngx_http_mcp_list_e kind, ngx_str_t *key, char *what)
{
    ngx_int_t  rc;

    rc = ngx_hash_add_key(&cat->names[kind], key, cat->srv,
                          NGX_HASH_READONLY_KEY);

    if (rc == NGX_BUSY) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate %s \"%V\" in mcp_server \"%V\"",
                           what, key, &cat->srv->id);
        return NGX_ERROR;
    }

    return rc;
}


static ngx_int_t
ngx_http_mcp_catalog_name(ngx_conf_t *cf, char *what, ngx_str_t *name)
{
    u_char      c;
    ngx_uint_t  i;

    if (name->len == 0 || name->len > NGX_HTTP_MCP_NAME_MAX) {
        goto invalid;
    }

    for (i = 0; i < name->len; i++) {
        c = name->data[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')
        {
            continue;
        }

        goto invalid;
    }

    return NGX_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid %s name \"%V\": use 1-128 characters of "
                       "A-Z a-z 0-9 _ . -", what, name);

    return NGX_ERROR;
}


static ngx_int_t
ngx_http_mcp_catalog_uri(ngx_conf_t *cf, char *what, ngx_str_t *uri)
{
    u_char      c;
    ngx_uint_t  i;

    /* RFC 3986 scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */

    for (i = 0; i < uri->len; i++) {
        c = uri->data[i];

        if (c == ':' && i > 0) {
            break;
        }

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (i > 0 && ((c >= '0' && c <= '9')
                          || c == '+' || c == '-' || c == '.')))
        {
            continue;
        }

        i = uri->len;
        break;
    }

    if (i + 1 >= uri->len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid %s URI \"%V\": it must be scheme:rest",
                           what, uri);
        return NGX_ERROR;
    }

    for (i = 0; i < uri->len; i++) {
        if (uri->data[i] <= ' ' || uri->data[i] == 0x7f) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid %s URI \"%V\": "
                               "whitespace or control character", what, uri);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static char *
ngx_http_mcp_catalog_read(ngx_conf_t *cf, ngx_str_t *name, ngx_str_t *data)
{
    u_char           *p;
    off_t             size;
    size_t            got;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_str_t         file;
    ngx_file_info_t   fi;

    file = *name;

    if (file.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "empty file name");
        return NGX_CONF_ERROR;
    }

    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%s\" failed", file.data);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " \"%s\" failed", file.data);
        goto failed;
    }

    if (!ngx_is_file(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" is not a regular file", file.data);
        goto failed;
    }

    size = ngx_file_size(&fi);

    if (size > NGX_HTTP_MCP_FILE_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" is larger than %d bytes",
                           file.data, NGX_HTTP_MCP_FILE_MAX);
        goto failed;
    }

    p = ngx_pnalloc(cf->pool, size ? (size_t) size : 1);
    if (p == NULL) {
        goto failed;
    }

    for (got = 0; got < (size_t) size; got += n) {
        n = ngx_read_fd(fd, p + got, (size_t) size - got);

        if (n == -1) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                               ngx_read_fd_n " \"%s\" failed", file.data);
            goto failed;
        }

        if (n == 0) {
            break;
        }
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, cf->log, ngx_errno,
                      ngx_close_file_n " \"%s\" failed", file.data);
    }

    data->data = p;
    data->len = got;

    *name = file;

    return NGX_CONF_OK;

failed:

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, cf->log, ngx_errno,
                      ngx_close_file_n " \"%s\" failed", file.data);
    }

    return NGX_CONF_ERROR;
}


/* parses JSON given inline or in a file: NGX_CONF_OK and *root */

static char *
ngx_http_mcp_catalog_json(ngx_conf_t *cf, ngx_str_t *value,
    ngx_uint_t is_file, char *what, ngx_http_mcp_json_t **root)
{
    ngx_int_t  rc;
    ngx_str_t  text, name, err;

    if (is_file) {
        name = *value;

        if (ngx_http_mcp_catalog_read(cf, &name, &text) != NGX_CONF_OK) {
            return NGX_CONF_ERROR;
        }

    } else {
        text = *value;
    }

    rc = ngx_http_mcp_json_parse(cf->pool, text.data, text.len, NULL, root,
                                 &err);

    if (rc == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    if (rc != NGX_OK) {
        if (is_file) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid JSON in %s \"%V\": %V",
                               what, &name, &err);

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid JSON in %s: %V", what, &err);
        }

        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* `argument NAME [TYPE] [required] [DESCRIPTION]` */

static char *
ngx_http_mcp_catalog_param(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_array_t *params, ngx_str_t *value, ngx_uint_t n, ngx_uint_t typed)
{
    ngx_str_t             *t;
    ngx_uint_t             i;
    ngx_http_mcp_param_t  *param;

    if (ngx_http_mcp_catalog_name(cf, "argument", &value[1]) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_mcp_catalog_find_param(params, &value[1])) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate argument \"%V\" in %s \"%V\"",
                           &value[1], b->what, &b->id);
        return NGX_CONF_ERROR;
    }

    param = ngx_array_push(params);
    if (param == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(param, sizeof(ngx_http_mcp_param_t));
    param->name = value[1];

    i = 2;

    if (typed) {
        for (t = ngx_http_mcp_arg_types; t->len; t++) {
            if (t->len == value[2].len
                && ngx_strcmp(t->data, value[2].data) == 0)
            {
                break;
            }
        }

        if (t->len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown argument type \"%V\": use string, "
                               "integer, number, boolean, object or array",
                               &value[2]);
            return NGX_CONF_ERROR;
        }

        param->type = value[2];
        i = 3;
    }

    if (i <= n && ngx_strcmp(value[i].data, "required") == 0) {
        param->required = 1;
        i++;
    }

    if (i <= n) {
        param->description = value[i];
        i++;
    }

    if (i <= n) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"argument\": expected NAME %s[required] "
                           "[DESCRIPTION]", typed ? "TYPE " : "");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_http_mcp_param_t *
ngx_http_mcp_catalog_find_param(ngx_array_t *params, ngx_str_t *name)
{
    ngx_uint_t             i;
    ngx_http_mcp_param_t  *param;

    param = params->elts;

    for (i = 0; i < params->nelts; i++) {
        if (param[i].name.len == name->len
            && ngx_strncmp(param[i].name.data, name->data, name->len) == 0)
        {
            return &param[i];
        }
    }

    return NULL;
}


static char *
ngx_http_mcp_entry_str(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_str_t             *field;
    ngx_http_mcp_entry_t  *e;

    for (e = b->entries; e->name.len; e++) {
        if (e->name.len == value[0].len
            && ngx_strcmp(e->name.data, value[0].data) == 0)
        {
            break;
        }
    }

    field = (ngx_str_t *) ((char *) b + e->offset);

    if (field->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate \"%V\" in %s \"%V\"",
                           &value[0], b->what, &b->id);
        return NGX_CONF_ERROR;
    }

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "empty \"%V\" in %s \"%V\"",
                           &value[0], b->what, &b->id);
        return NGX_CONF_ERROR;
    }

    *field = value[1];

    return NGX_CONF_OK;
}


/* tool entries */

static char *
ngx_http_mcp_tool_argument(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_str_t *value, ngx_uint_t n)
{
    if (b->tool->input_schema) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"argument\" cannot be mixed with "
                           "\"input_schema\" in tool \"%V\"", &b->id);
        return NGX_CONF_ERROR;
    }

    return ngx_http_mcp_catalog_param(cf, b, &b->tc.params, value, n, 1);
}


static char *
ngx_http_mcp_tool_schema(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_int_t              rc;
    ngx_str_t              err;
    ngx_uint_t             input, is_file;
    ngx_http_mcp_json_t  **schema;

    input = (value[0].data[0] == 'i');
    is_file = (value[0].len > sizeof("_file") - 1
               && ngx_strcmp(value[0].data + value[0].len
                             - (sizeof("_file") - 1), "_file")
                  == 0);

    schema = input ? &b->tool->input_schema : &b->tool->output_schema;

    if (*schema) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate %s in tool \"%V\"",
                           input ? "input_schema" : "output_schema", &b->id);
        return NGX_CONF_ERROR;
    }

    if (input && b->tc.params.nelts) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" cannot be mixed with \"argument\" "
                           "in tool \"%V\"", &value[0], &b->id);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_mcp_catalog_json(cf, &value[1], is_file,
                                  (char *) value[0].data, schema)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    rc = ngx_http_mcp_schema_check(cf->pool, *schema, 1, &err);

    if (rc == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    if (rc != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid JSON Schema in %V of tool \"%V\": %V",
                           &value[0], &b->id, &err);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_tool_annotations(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_str_t *value, ngx_uint_t n)
{
    u_char      *eq;
    size_t       len;
    ngx_int_t    on;
    ngx_uint_t   i, k;

    for (i = 1; i <= n; i++) {

        len = value[i].len;
        on = 1;

        eq = ngx_strlchr(value[i].data, value[i].data + len, '=');

        if (eq) {
            len = eq - value[i].data;

            if (ngx_strcmp(eq + 1, "on") == 0) {
                on = 1;

            } else if (ngx_strcmp(eq + 1, "off") == 0) {
                on = 0;

            } else {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid annotation \"%V\": "
                                   "the value must be on or off", &value[i]);
                return NGX_CONF_ERROR;
            }
        }

        for (k = 0; ngx_http_mcp_annotation_flags[k].len; k++) {
            if (ngx_http_mcp_annotation_flags[k].len == len
                && ngx_strncmp(ngx_http_mcp_annotation_flags[k].data,
                               value[i].data, len)
                   == 0)
            {
                break;
            }
        }

        if (ngx_http_mcp_annotation_flags[k].len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown annotation \"%V\": use read_only, "
                               "destructive, idempotent or open_world",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        if (b->tc.annotations[k] != -1) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate annotation \"%V\" in tool \"%V\"",
                               &ngx_http_mcp_annotation_flags[k], &b->id);
            return NGX_CONF_ERROR;
        }

        b->tc.annotations[k] = on;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_tool_requires(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_uint_t  i, k;

    for (i = 1; i <= n; i++) {

        for (k = 0; ngx_http_mcp_capabilities[k].len; k++) {
            if (ngx_http_mcp_capabilities[k].len == value[i].len
                && ngx_strcmp(ngx_http_mcp_capabilities[k].data,
                              value[i].data)
                   == 0)
            {
                break;
            }
        }

        if (ngx_http_mcp_capabilities[k].len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown client capability \"%V\": use "
                               "sampling, elicitation or roots", &value[i]);
            return NGX_CONF_ERROR;
        }

        b->requires |= 1 << k;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_tool_content(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_str_t *value, ngx_uint_t n)
{
    u_char             *name;
    ngx_str_t           data, file, mime;
    ngx_http_mcp_sb_t  *sb;

    sb = &b->sb;
    name = value[0].data;

    if (ngx_strcmp(name, "text") == 0 || ngx_strcmp(name, "error") == 0) {
        data = value[1];
        b->has_text = 1;

        if (name[0] == 'e') {
            b->tool->is_error = 1;
        }

        goto text;
    }

    if (ngx_strcmp(name, "text_file") == 0) {
        file = value[1];

        if (ngx_http_mcp_catalog_read(cf, &file, &data) != NGX_CONF_OK) {
            return NGX_CONF_ERROR;
        }

        b->has_text = 1;

        goto text;
    }

    if (ngx_strcmp(name, "resource_link") == 0) {
        if (ngx_http_mcp_catalog_uri(cf, "resource_link", &value[1])
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        if (n == 3) {
            mime = value[3];

        } else {
            ngx_str_null(&mime);
        }

        if (b->nitems++) {
            ngx_http_mcp_sb_literal(sb, ",");
        }

        ngx_http_mcp_static_link(sb, &value[1], &value[2], &mime);

        return NGX_CONF_OK;
    }

    if (ngx_strcmp(name, "resource") == 0) {
        if (ngx_http_mcp_catalog_uri(cf, "resource", &value[1]) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        if (b->nitems++) {
            ngx_http_mcp_sb_literal(sb, ",");
        }

        ngx_http_mcp_static_embedded(sb, &value[1], &value[2], &value[3], 0);

        return NGX_CONF_OK;
    }

    if (ngx_strcmp(name, "resource_file") == 0) {
        if (ngx_http_mcp_catalog_uri(cf, "resource_file", &value[1])
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        file = value[2];

        if (ngx_http_mcp_catalog_read(cf, &file, &data) != NGX_CONF_OK) {
            return NGX_CONF_ERROR;
        }

        if (n == 3) {
            mime = value[3];

        } else if (ngx_http_mcp_static_mime(&file, &mime) != NGX_OK) {
            ngx_str_set(&mime, "application/octet-stream");
        }

        if (b->nitems++) {
            ngx_http_mcp_sb_literal(sb, ",");
        }

        ngx_http_mcp_static_embedded(sb, &value[1], &mime, &data,
                                     !ngx_http_mcp_static_textual(&mime));

        return NGX_CONF_OK;
    }

    /* image, audio */

    file = value[1];

    if (ngx_http_mcp_catalog_read(cf, &file, &data) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (n == 2) {
        mime = value[2];

    } else if (ngx_http_mcp_static_mime(&file, &mime) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown MIME type of \"%V\": give it after "
                           "the file name", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (b->nitems++) {
        ngx_http_mcp_sb_literal(sb, ",");
    }

    ngx_http_mcp_static_media(sb, name[0] == 'a', &data, &mime);

    return NGX_CONF_OK;

text:

    if (b->nitems++) {
        ngx_http_mcp_sb_literal(sb, ",");
    }

    ngx_http_mcp_static_text(sb, &data);

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_tool_structured(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_str_t *value, ngx_uint_t n)
{
    if (b->structured) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate \"structured\" in tool \"%V\"", &b->id);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_mcp_catalog_json(cf, &value[1], 0, "structured",
                                  &b->structured)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (b->structured->type != NGX_HTTP_MCP_JSON_OBJECT) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"structured\" must be a JSON object");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_tool_done(ngx_conf_t *cf, ngx_http_mcp_block_t *b)
{
    ngx_int_t             rc;
    ngx_str_t             text, err;
    ngx_uint_t            k, n;
    ngx_http_mcp_jw_t     jw;
    ngx_http_mcp_tool_t  *tool;

    tool = b->tool;

    if (b->tc.description.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "tool \"%V\" has no description", &b->id);
        return NGX_CONF_ERROR;
    }

    if (tool->backend == NULL) {

        if (b->nitems == 0 && b->structured == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "tool \"%V\" has no result: add text, "
                               "text_file, image, audio, resource, "
                               "resource_file, resource_link, structured "
                               "or error", &b->id);
            return NGX_CONF_ERROR;
        }

        if (tool->output_schema && b->structured == NULL && !tool->is_error) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "tool \"%V\" has an output_schema but no "
                               "\"structured\" result", &b->id);
            return NGX_CONF_ERROR;
        }
    }

    if (b->structured && tool->output_schema) {
        rc = ngx_http_mcp_schema_validate(cf->pool, tool->output_schema,
                                          b->structured, &err);

        if (rc == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }

        if (rc != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"structured\" of tool \"%V\" does not match "
                               "its output_schema: %V", &b->id, &err);
            return NGX_CONF_ERROR;
        }
    }

    /* the static result */

    if (b->structured) {
        if (!b->has_text) {
            if (ngx_http_mcp_jw_init(&jw, cf->pool, 256) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            ngx_http_mcp_jw_value(&jw, b->structured);

            if (ngx_http_mcp_jw_finish(&jw, &text) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            if (b->nitems++) {
                ngx_http_mcp_sb_literal(&b->sb, ",");
            }

            ngx_http_mcp_static_text(&b->sb, &text);
        }

        ngx_http_mcp_sb_literal(&b->sb, "],\"structuredContent\":");
        ngx_http_mcp_jw_value(&b->sb.jw, b->structured);

    } else {
        ngx_http_mcp_sb_literal(&b->sb, "]");
    }

    if (tool->is_error) {
        ngx_http_mcp_sb_literal(&b->sb, ",\"isError\":true");
    }

    if (ngx_http_mcp_sb_finish(&b->sb) != NGX_OK || b->result.nelts != 1) {
        return NGX_CONF_ERROR;
    }

    tool->result = ((ngx_http_mcp_seg_t *) b->result.elts)[0].text;

    /* client capabilities it needs */

    if (b->requires) {
        if (ngx_http_mcp_jw_init(&jw, cf->pool, 64) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        for (k = 0, n = 0; ngx_http_mcp_capabilities[k].len; k++) {
            if (!(b->requires & (1 << k))) {
                continue;
            }

            if (n++) {
                ngx_http_mcp_jw_literal(&jw, ",");

            } else {
                ngx_http_mcp_jw_literal(&jw, "{");
            }

            ngx_http_mcp_jw_str(&jw, &ngx_http_mcp_capabilities[k]);
            ngx_http_mcp_jw_literal(&jw, ":{}");
        }

        ngx_http_mcp_jw_literal(&jw, "}");

        if (ngx_http_mcp_jw_finish(&jw, &tool->requires) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_mcp_registry_tool_json(cf, tool, &b->tc) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* resource and resource_template entries */

static char *
ngx_http_mcp_resource_data(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_str_t *value, ngx_uint_t n)
{
    if (b->has_data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%s \"%V\" already has its content "
                           "(one \"text\" or \"file\")", b->what, &b->id);
        return NGX_CONF_ERROR;
    }

    b->has_data = 1;

    if (value[0].data[0] == 't') {
        b->data = value[1];
        return NGX_CONF_OK;
    }

    b->file = value[1];

    return ngx_http_mcp_catalog_read(cf, &b->file, &b->data);
}


static char *
ngx_http_mcp_resource_done(ngx_conf_t *cf, ngx_http_mcp_block_t *b)
{
    ngx_array_t              segs;
    ngx_http_mcp_sb_t        sb;
    ngx_http_mcp_resource_t  *res;

    res = b->res;

    if (!b->has_data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "resource \"%V\" has no content: add \"text\" "
                           "or \"file\"", &b->id);
        return NGX_CONF_ERROR;
    }

    if (b->mime.len == 0) {
        if (b->file.len == 0
            || ngx_http_mcp_static_mime(&b->file, &b->mime) != NGX_OK)
        {
            if (b->file.len) {
                ngx_str_set(&b->mime, "application/octet-stream");

            } else {
                ngx_str_set(&b->mime, "text/plain");
            }
        }
    }

    if (ngx_array_init(&segs, cf->pool, 1, sizeof(ngx_http_mcp_seg_t))
        != NGX_OK
        || ngx_http_mcp_sb_init(&sb, cf->pool, &segs, NULL) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    ngx_http_mcp_static_contents(&sb, &res->uri, &b->mime, &b->data,
                                 b->file.len
                                 && !ngx_http_mcp_static_textual(&b->mime));

    if (ngx_http_mcp_sb_finish(&sb) != NGX_OK || segs.nelts != 1) {
        return NGX_CONF_ERROR;
    }

    res->contents = ((ngx_http_mcp_seg_t *) segs.elts)[0].text;

    if (ngx_http_mcp_registry_resource_json(cf, res, 0, &b->name, &b->title,
                                            &b->description, &b->mime,
                                            b->data.len)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_template_done(ngx_conf_t *cf, ngx_http_mcp_block_t *b)
{
    ngx_http_mcp_sb_t         sb;
    ngx_http_mcp_resource_t  *res;

    res = b->res;

    if (!b->has_data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "resource_template \"%V\" has no \"text\"",
                           &b->id);
        return NGX_CONF_ERROR;
    }

    if (b->mime.len == 0) {
        ngx_str_set(&b->mime, "text/plain");
    }

    /* after `{"uri":<the uri read>` */

    if (ngx_array_init(&res->body, cf->pool, 4, sizeof(ngx_http_mcp_seg_t))
        != NGX_OK
        || ngx_http_mcp_sb_init(&sb, cf->pool, &res->body, &res->params)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    ngx_http_mcp_sb_literal(&sb, ",\"mimeType\":");
    ngx_http_mcp_jw_str(&sb.jw, &b->mime);
    ngx_http_mcp_sb_literal(&sb, ",\"text\":");
    ngx_http_mcp_sb_string(&sb, b->data.data, b->data.len);
    ngx_http_mcp_sb_literal(&sb, "}");

    if (ngx_http_mcp_sb_finish(&sb) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_mcp_registry_resource_json(cf, res, 1, &b->name, &b->title,
                                            &b->description, &b->mime, -1)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* `complete NAME VALUE ...` in a prompt or a resource_template */

static char *
ngx_http_mcp_entry_complete(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_str_t             *v;
    ngx_uint_t             i;
    ngx_array_t           *params;
    ngx_http_mcp_param_t  *param;

    params = b->prompt ? &b->prompt->params : &b->res->params;

    param = ngx_http_mcp_catalog_find_param(params, &value[1]);

    if (param == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"complete\" for \"%V\", which %s \"%V\" does "
                           "not declare%s", &value[1], b->what, &b->id,
                           b->prompt ? " (declare the argument first)" : "");
        return NGX_CONF_ERROR;
    }

    if (param->complete == NULL) {
        param->complete = ngx_array_create(cf->pool, n - 1,
                                           sizeof(ngx_str_t));
        if (param->complete == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    for (i = 2; i <= n; i++) {
        v = ngx_array_push(param->complete);
        if (v == NULL) {
            return NGX_CONF_ERROR;
        }

        *v = value[i];
    }

    return NGX_CONF_OK;
}


/* prompt entries */

static char *
ngx_http_mcp_prompt_argument(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_str_t *value, ngx_uint_t n)
{
    return ngx_http_mcp_catalog_param(cf, b, &b->prompt->params, value, n, 0);
}


static char *
ngx_http_mcp_prompt_message(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_str_t                file;
    ngx_http_mcp_message_t  *msg;

    if (ngx_strcmp(value[1].data, "user") != 0
        && ngx_strcmp(value[1].data, "assistant") != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid role \"%V\": use user or assistant",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    msg = ngx_array_push(&b->messages);
    if (msg == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(msg, sizeof(ngx_http_mcp_message_t));
    msg->role = value[1];

    if (value[0].len == sizeof("message") - 1) {
        msg->kind = NGX_HTTP_MCP_MSG_TEXT;
        msg->data = value[2];
        return NGX_CONF_OK;
    }

    if (value[0].data[sizeof("message_") - 1] == 'r') {
        msg->kind = NGX_HTTP_MCP_MSG_RESOURCE;
        msg->uri = value[2];
        msg->mime = value[3];
        msg->data = value[4];

        /* a {placeholder} may stand for the scheme: check only the form */

        if (value[2].len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "empty resource URI");
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    msg->kind = NGX_HTTP_MCP_MSG_IMAGE;

    file = value[2];

    if (ngx_http_mcp_catalog_read(cf, &file, &msg->data) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (n == 3) {
        msg->mime = value[3];

    } else if (ngx_http_mcp_static_mime(&file, &msg->mime) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown MIME type of \"%V\": give it after "
                           "the file name", &value[2]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_prompt_done(ngx_conf_t *cf, ngx_http_mcp_block_t *b)
{
    ngx_uint_t               i;
    ngx_http_mcp_jw_t        jw;
    ngx_http_mcp_sb_t        sb;
    ngx_http_mcp_prompt_t   *prompt;
    ngx_http_mcp_message_t  *msg;

    prompt = b->prompt;

    if (b->description.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "prompt \"%V\" has no description", &b->id);
        return NGX_CONF_ERROR;
    }

    if (b->messages.nelts == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "prompt \"%V\" has no messages: add \"message\", "
                           "\"message_image\" or \"message_resource\"",
                           &b->id);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_mcp_jw_init(&jw, cf->pool, 64) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    ngx_http_mcp_jw_str(&jw, &b->description);

    if (ngx_http_mcp_jw_finish(&jw, &prompt->description) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* the messages, with {argument} segments */

    if (ngx_http_mcp_sb_init(&sb, cf->pool, &prompt->messages,
                             &prompt->params)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    msg = b->messages.elts;

    for (i = 0; i < b->messages.nelts; i++) {

        if (i) {
            ngx_http_mcp_sb_literal(&sb, ",");
        }

        ngx_http_mcp_sb_literal(&sb, "{\"role\":");
        ngx_http_mcp_jw_str(&sb.jw, &msg[i].role);
        ngx_http_mcp_sb_literal(&sb, ",\"content\":");

        switch (msg[i].kind) {

        case NGX_HTTP_MCP_MSG_TEXT:
            ngx_http_mcp_static_text(&sb, &msg[i].data);
            break;

        case NGX_HTTP_MCP_MSG_IMAGE:
            ngx_http_mcp_static_media(&sb, 0, &msg[i].data, &msg[i].mime);
            break;

        default: /* NGX_HTTP_MCP_MSG_RESOURCE */
            ngx_http_mcp_static_embedded(&sb, &msg[i].uri, &msg[i].mime,
                                         &msg[i].data, 0);
            break;
        }

        ngx_http_mcp_sb_literal(&sb, "}");
    }

    if (ngx_http_mcp_sb_finish(&sb) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_mcp_registry_prompt_json(cf, prompt, &b->title) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
