
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_REGISTRY_H_INCLUDED_
#define _NGX_HTTP_MCP_REGISTRY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "json/ngx_http_mcp_json.h"
#include "backend/ngx_http_mcp_backend.h"


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


typedef struct ngx_http_mcp_tool_s      ngx_http_mcp_tool_t;
typedef struct ngx_http_mcp_resource_s  ngx_http_mcp_resource_t;
typedef struct ngx_http_mcp_prompt_s    ngx_http_mcp_prompt_t;

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

    ngx_http_mcp_entry_t        entry;         /* what runs it */
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
    ngx_uint_t                  limited;       /* an entry has `limit` or
                                                  `quota` lines */

    /* list items in declaration order; elements are the item structs */
    ngx_array_t                 tools;         /* ngx_http_mcp_tool_t */
    ngx_array_t                 resources;     /* registry-private */
    ngx_array_t                 templates;     /* registry-private */
    ngx_array_t                 prompts;       /* registry-private */

    /* sorted indexes for binary search (names are case-sensitive) */
    void                       *ctx;           /* registry-private */
};


/*
 * Scopes (`scope NAME...;` in an item block): a caller may use an item
 * when it holds every scope the item names.  Lists show a caller only
 * what it may use; the queries below answer NGX_HTTP_MCP_DENIED for an
 * item it may not, with the item in acc->denied (its scopes make the
 * step-up challenge).
 */

#define NGX_HTTP_MCP_DENIED  NGX_BUSY


typedef struct {
    ngx_http_mcp_identity_t    *who;
    ngx_http_mcp_entry_t       *denied;       /* out */
} ngx_http_mcp_access_t;


ngx_uint_t ngx_http_mcp_registry_allowed(ngx_http_mcp_entry_t *e,
    ngx_http_mcp_identity_t *who);


/*
 * Writes the members `"tools":[...]` and, when more remain,
 * `,"nextCursor":"..."` (no braces) for the page that `cursor` names
 * (NULL: the first page).  NGX_DECLINED: the cursor is invalid.
 */
ngx_int_t ngx_http_mcp_registry_list(ngx_http_mcp_server_t *srv,
    ngx_http_mcp_list_e kind, ngx_str_t *cursor, ngx_uint_t page_size,
    ngx_http_mcp_identity_t *who, ngx_http_mcp_jw_t *jw);

ngx_http_mcp_tool_t *ngx_http_mcp_registry_tool(ngx_http_mcp_server_t *srv,
    ngx_str_t *name);

/*
 * resources/read: writes `"contents":[...]` for a resource or a matching
 * template.  NGX_DECLINED: no resource has that uri.  NGX_AGAIN: a
 * backend answers it; *res is the resource or template, and for a
 * template *values its variables (res->params.nelts of them), else NULL.
 */
/*
 * the entry a tools/call or prompts/get (name) or resources/read (a uri)
 * runs, whoever calls, or NULL
 */
ngx_http_mcp_entry_t *ngx_http_mcp_registry_entry(ngx_http_mcp_server_t *srv,
    ngx_http_mcp_item_e kind, ngx_str_t *name, ngx_pool_t *pool);

ngx_int_t ngx_http_mcp_registry_read(ngx_http_mcp_server_t *srv,
    ngx_str_t *uri, ngx_http_mcp_access_t *acc, ngx_http_mcp_jw_t *jw,
    ngx_http_mcp_resource_t **res, ngx_str_t **values);

/*
 * prompts/get: writes `"description":...,"messages":[...]` with the
 * arguments substituted.  `args` is the params.arguments object or NULL.
 * NGX_DECLINED: no such prompt; NGX_ABORT: arguments missing or not
 * strings, with the reason in *err; NGX_AGAIN: the arguments are valid
 * and a backend answers, *prompt is set.
 */
ngx_int_t ngx_http_mcp_registry_prompt(ngx_http_mcp_server_t *srv,
    ngx_str_t *name, ngx_http_mcp_json_t *args, ngx_http_mcp_access_t *acc,
    ngx_http_mcp_jw_t *jw, ngx_str_t *err, ngx_http_mcp_prompt_t **prompt);

/*
 * completion/complete: writes `"completion":{"values":[...],"total":N,
 * "hasMore":false}` with the configured values that start with `value`.
 * ref_type is "ref/prompt" (ref = prompt name) or "ref/resource"
 * (ref = template uri).  NGX_DECLINED: unknown prompt or template, with the
 * reason in *err.
 */
ngx_int_t ngx_http_mcp_registry_complete(ngx_http_mcp_server_t *srv,
    ngx_str_t *ref_type, ngx_str_t *ref, ngx_str_t *arg, ngx_str_t *value,
    ngx_http_mcp_access_t *acc, ngx_http_mcp_jw_t *jw, ngx_str_t *err);

/*
 * once the whole configuration is read (upstreams too): each item's
 * backend checks what its line names (backend init())
 */
ngx_int_t ngx_http_mcp_catalog_check(ngx_conf_t *cf,
    ngx_http_mcp_main_conf_t *mmcf);

/* lookup of a catalog by name, for mcp_pass; NULL if unknown */
ngx_http_mcp_server_t *ngx_http_mcp_registry_find(
    ngx_http_mcp_main_conf_t *mmcf, ngx_str_t *name);


/*
 * Configuration-time pieces, filled by catalog_conf.c and static.c and
 * serialised by registry.c.
 *
 * Text that takes values at request time (prompt messages, template
 * contents) is pre-split into segments: a literal segment is raw JSON
 * ready to copy, an argument segment names a parameter whose value is
 * written JSON-escaped (it always sits inside a JSON string).
 */

#define NGX_HTTP_MCP_SEG_LITERAL   ((ngx_uint_t) -1)


typedef struct {
    ngx_str_t                   text;         /* raw JSON, literal only */
    ngx_uint_t                  arg;          /* parameter index or LITERAL */
} ngx_http_mcp_seg_t;


/* a tool or prompt argument, or a template variable */
typedef struct {
    ngx_str_t                   name;
    ngx_str_t                   type;         /* tool arguments only */
    ngx_str_t                   description;
    ngx_array_t                *complete;     /* ngx_str_t, or NULL */
    unsigned                    required:1;
} ngx_http_mcp_param_t;


/* segment builder */
typedef struct {
    ngx_array_t                *segs;         /* ngx_http_mcp_seg_t */
    ngx_array_t                *params;       /* substituted, or NULL */
    ngx_http_mcp_jw_t           jw;           /* the literal being built */
} ngx_http_mcp_sb_t;


/* a resource or a resource template */
struct ngx_http_mcp_resource_s {
    ngx_str_t                   uri;          /* URI or URI template */
    ngx_str_t                   json;         /* Resource/ResourceTemplate */
    ngx_str_t                   contents;     /* resource: the read entry */
    ngx_array_t                 parts;        /* template: literal/variable */
    ngx_array_t                 params;       /* template: variables */
    ngx_array_t                 body;         /* template: after "uri":.. */
    ngx_http_mcp_entry_t        entry;        /* a backend, or none */
    ngx_str_t                   mime;         /* a backend's: mime_type */
};


struct ngx_http_mcp_prompt_s {
    ngx_str_t                   name;
    ngx_str_t                   json;         /* the Prompt object */
    ngx_str_t                   description;  /* a JSON string */
    ngx_array_t                 params;       /* ngx_http_mcp_param_t */
    ngx_array_t                 messages;     /* ngx_http_mcp_seg_t */
    ngx_http_mcp_entry_t        entry;        /* a backend, or none */
};


/* what a tool block declared besides its result */
typedef struct {
    ngx_str_t                   title;
    ngx_str_t                   description;
    ngx_array_t                 params;       /* `argument` lines */
    ngx_int_t                   annotations[4];  /* -1 unset, 0, 1 */
    ngx_str_t                   confirm;      /* `confirm MESSAGE` */
} ngx_http_mcp_tool_conf_t;


ngx_int_t ngx_http_mcp_sb_init(ngx_http_mcp_sb_t *sb, ngx_pool_t *pool,
    ngx_array_t *segs, ngx_array_t *params);
void ngx_http_mcp_sb_raw(ngx_http_mcp_sb_t *sb, u_char *p, size_t len);
/* the inside of a JSON string; {name} of a parameter becomes a segment */
void ngx_http_mcp_sb_text(ngx_http_mcp_sb_t *sb, u_char *p, size_t len);
/* a quoted JSON string, with substitution as above */
void ngx_http_mcp_sb_string(ngx_http_mcp_sb_t *sb, u_char *p, size_t len);
ngx_int_t ngx_http_mcp_sb_finish(ngx_http_mcp_sb_t *sb);

#define ngx_http_mcp_sb_literal(sb, lit)                                      \
    ngx_http_mcp_sb_raw(sb, (u_char *) lit, sizeof(lit) - 1)

/*
 * Tool object; generates and parses the inputSchema from the `argument`
 * lines unless tool->input_schema is already set.
 */
ngx_int_t ngx_http_mcp_registry_tool_json(ngx_conf_t *cf,
    ngx_http_mcp_tool_t *tool, ngx_http_mcp_tool_conf_t *tc);
/* Resource or ResourceTemplate object; size < 0: not written */
ngx_int_t ngx_http_mcp_registry_resource_json(ngx_conf_t *cf,
    ngx_http_mcp_resource_t *res, ngx_uint_t is_template, ngx_str_t *name,
    ngx_str_t *title, ngx_str_t *description, ngx_str_t *mime,
    off_t size);
ngx_int_t ngx_http_mcp_registry_prompt_json(ngx_conf_t *cf,
    ngx_http_mcp_prompt_t *prompt, ngx_str_t *title);
/* splits a URI template into parts and variables; NGX_DECLINED + *err */
ngx_int_t ngx_http_mcp_registry_template_parse(ngx_conf_t *cf,
    ngx_http_mcp_resource_t *tpl, ngx_str_t *err);
/* the parameter (ngx_http_mcp_param_t) of this name in params, or NULL */
ngx_http_mcp_param_t *ngx_http_mcp_registry_param(ngx_array_t *params,
    u_char *name, size_t len);
/* at the end of mcp_server: serverInfo, lookup tables */
ngx_int_t ngx_http_mcp_registry_init(ngx_conf_t *cf,
    ngx_http_mcp_server_t *srv);


#endif /* _NGX_HTTP_MCP_REGISTRY_H_INCLUDED_ */
