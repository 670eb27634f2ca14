
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_REGISTRY_H_INCLUDED_
#define _NGX_HTTP_MCP_REGISTRY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "protocol/ngx_http_mcp_json.h"


/*
 * The catalog of one `mcp_server NAME { ... }` block.  Built at
 * configuration time by protocol/ngx_http_mcp_catalog_conf.c; read-only at
 * request time.  Every list item is serialised once, at configuration time,
 * into ->json; request time only concatenates.
 */


typedef enum {
    NGX_HTTP_MCP_LIST_TOOLS = 0,
    NGX_HTTP_MCP_LIST_RESOURCES,
    NGX_HTTP_MCP_LIST_TEMPLATES,
    NGX_HTTP_MCP_LIST_PROMPTS,
    NGX_HTTP_MCP_LIST_MAX
} ngx_http_mcp_list_e;


typedef struct ngx_http_mcp_tool_s  ngx_http_mcp_tool_t;

struct ngx_http_mcp_tool_s {
    ngx_str_t                   name;
    ngx_str_t                   json;          /* the Tool object for lists */

    ngx_http_mcp_json_t        *input_schema;  /* parsed, for validation */
    ngx_http_mcp_json_t        *output_schema; /* parsed, or NULL */

    /* client capabilities the tool needs, e.g. {"sampling":{}}, or NULL */
    ngx_str_t                   requires;

    /* static backend: a pre-serialised CallToolResult body, no braces */
    ngx_str_t                   result;
    unsigned                    is_error:1;

    void                       *backend;       /* later backends */
};


struct ngx_http_mcp_server_s {
    ngx_str_t                   id;            /* mcp_server NAME */
    u_char                     *file;          /* where it was declared */
    ngx_uint_t                  line;

    ngx_str_t                   name;          /* serverInfo */
    ngx_str_t                   version;
    ngx_str_t                   title;
    ngx_str_t                   description;
    ngx_str_t                   instructions;

    /* `"serverInfo":{...}` member, serialised once */
    ngx_str_t                   server_info;

    ngx_msec_t                  cache_ttl;     /* ttlMs on 2026 results */
    ngx_uint_t                  cache_private; /* cacheScope */

    /* list items in declaration order; elements are the item structs */
    ngx_array_t                 tools;         /* ngx_http_mcp_tool_t */
    ngx_array_t                 resources;     /* registry-private */
    ngx_array_t                 templates;     /* registry-private */
    ngx_array_t                 prompts;       /* registry-private */

    ngx_hash_t                  tools_hash;    /* name -> tool */

    void                       *ctx;           /* registry-private */
};


/*
 * Writes the members `"tools":[...]` and, when more remain,
 * `,"nextCursor":"..."` (no braces) for the page that `cursor` names
 * (NULL: the first page).  NGX_DECLINED: the cursor is invalid.
 */
ngx_int_t ngx_http_mcp_registry_list(ngx_http_mcp_server_t *srv,
    ngx_http_mcp_list_e kind, ngx_str_t *cursor, ngx_uint_t page_size,
    ngx_http_mcp_jw_t *jw);

ngx_http_mcp_tool_t *ngx_http_mcp_registry_tool(ngx_http_mcp_server_t *srv,
    ngx_str_t *name);

/*
 * resources/read: writes `"contents":[...]` for a resource or a matching
 * template.  NGX_DECLINED: no resource has that uri.
 */
ngx_int_t ngx_http_mcp_registry_read(ngx_http_mcp_server_t *srv,
    ngx_str_t *uri, ngx_http_mcp_jw_t *jw);

/*
 * prompts/get: writes `"description":...,"messages":[...]` with the
 * arguments substituted.  `args` is the params.arguments object or NULL.
 * NGX_DECLINED: no such prompt; NGX_ABORT: arguments missing or not
 * strings, with the reason in *err.
 */
ngx_int_t ngx_http_mcp_registry_prompt(ngx_http_mcp_server_t *srv,
    ngx_str_t *name, ngx_http_mcp_json_t *args, ngx_http_mcp_jw_t *jw,
    ngx_str_t *err);

/*
 * completion/complete: writes `"completion":{"values":[...],"total":N,
 * "hasMore":false}` with the configured values that start with `value`.
 * ref_type is "ref/prompt" (ref = prompt name) or "ref/resource"
 * (ref = template uri).  NGX_DECLINED: unknown prompt or template, with the
 * reason in *err.
 */
ngx_int_t ngx_http_mcp_registry_complete(ngx_http_mcp_server_t *srv,
    ngx_str_t *ref_type, ngx_str_t *ref, ngx_str_t *arg, ngx_str_t *value,
    ngx_http_mcp_jw_t *jw, ngx_str_t *err);

/* lookup of a catalog by name, for mcp_pass; NULL if unknown */
ngx_http_mcp_server_t *ngx_http_mcp_registry_find(
    ngx_http_mcp_main_conf_t *mmcf, ngx_str_t *name);


#endif /* _NGX_HTTP_MCP_REGISTRY_H_INCLUDED_ */
