
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_CATALOG_CONF_H_INCLUDED_
#define _NGX_HTTP_MCP_CATALOG_CONF_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "catalog/ngx_http_mcp_registry.h"
#include "backend/ngx_http_mcp_backend.h"


/*
 * The inside of `mcp_server NAME { ... }` is parsed by ngx_conf_parse()
 * with cf->module_type and cf->cmd_type set to private values, so that
 * only the commands of ngx_http_mcp_catalog_module match (and the nested
 * `tool NAME { ... }` blocks are allowed: a cf->handler, as in types {},
 * cannot receive a line that opens a block).  The module shows its
 * commands only while an mcp_server block is read: elsewhere `name` is an
 * unknown directive, as it should be.  The item blocks themselves have no
 * nested blocks and are parsed with a cf->handler and a table of
 * keywords.
 */

#define NGX_HTTP_MCP_CATALOG_MODULE  0x4350434D     /* "MCPC" */
#define NGX_HTTP_MCP_CATALOG_CONF    0x00200000


extern ngx_module_t  ngx_http_mcp_catalog_module;


/* `mcp_server NAME { ... }` at http level: parses and builds one catalog */
char *ngx_http_mcp_server_block(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* one line directly inside mcp_server {} (the rows above) */
char *ngx_http_mcp_catalog_entry(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


/*
 * Internal to catalog/ngx_http_mcp_catalog_{conf,tool,items}.c: the
 * parse state of mcp_server {} and of one item block, and the helpers the
 * three files share.
 */

#define NGX_HTTP_MCP_FILE_MAX      (16 * 1024 * 1024)
#define NGX_HTTP_MCP_NAME_MAX      128
#define NGX_HTTP_MCP_ANY           ((ngx_uint_t) -1)


typedef struct ngx_http_mcp_block_s  ngx_http_mcp_block_t;

typedef char *(*ngx_http_mcp_keyword_pt)(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b, ngx_str_t *value, ngx_uint_t n);
typedef char *(*ngx_http_mcp_done_pt)(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b);


/* one keyword of a tool/resource/resource_template/prompt block */
typedef struct {
    ngx_str_t                   name;
    ngx_uint_t                  min;       /* arguments after the name */
    ngx_uint_t                  max;
    ngx_http_mcp_keyword_pt     handler;
    ngx_uint_t                  offset;    /* for the string entries */
} ngx_http_mcp_keyword_t;


/* the state of one mcp_server block */
typedef struct {
    ngx_http_mcp_server_t      *srv;
    ngx_hash_keys_arrays_t      names[NGX_HTTP_MCP_LIST_MAX];
    void                       *http_ctx;  /* http{}'s, for backend lines
                                              (variables, complex values) */
} ngx_http_mcp_catalog_t;


struct ngx_http_mcp_block_s {
    ngx_http_mcp_catalog_t     *cat;
    ngx_http_mcp_keyword_t     *entries;
    char                       *what;      /* "tool", "prompt", ... */
    ngx_str_t                   id;        /* its name or uri */

    ngx_str_t                   name;
    ngx_str_t                   title;
    ngx_str_t                   description;
    ngx_str_t                   mime;
    ngx_http_mcp_entry_t        entry;     /* a backend's line: `pass` */

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


#define ngx_http_mcp_block_str(field)                                         \
    ngx_http_mcp_entry_str, offsetof(ngx_http_mcp_block_t, field)


char *ngx_http_mcp_catalog_tool(ngx_conf_t *cf, ngx_http_mcp_catalog_t *cat,
    ngx_str_t *value);
char *ngx_http_mcp_catalog_resource(ngx_conf_t *cf,
    ngx_http_mcp_catalog_t *cat, ngx_str_t *value);
char *ngx_http_mcp_catalog_template(ngx_conf_t *cf,
    ngx_http_mcp_catalog_t *cat, ngx_str_t *value);
char *ngx_http_mcp_catalog_prompt(ngx_conf_t *cf,
    ngx_http_mcp_catalog_t *cat, ngx_str_t *value);

/*
 * parses the inside of an item block, line by line, through entries,
 * then completes the item with done()
 */
char *ngx_http_mcp_catalog_block(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_http_mcp_keyword_t *entries, ngx_http_mcp_done_pt done);
/*
 * checks the name (tool, prompt) or uri (resource, resource_template) of
 * a new item block and that it is unique in its list, starts *b, and
 * appends a zeroed item to the list: the item, or NULL (logged)
 */
void *ngx_http_mcp_catalog_open(ngx_conf_t *cf, ngx_http_mcp_catalog_t *cat,
    ngx_http_mcp_block_t *b, ngx_http_mcp_list_e kind, ngx_str_t *id);
/* 1-128 of [A-Za-z0-9_.-], else logged NGX_ERROR */
ngx_int_t ngx_http_mcp_catalog_name(ngx_conf_t *cf, char *what,
    ngx_str_t *name);
/* scheme:rest without whitespace, else logged NGX_ERROR */
ngx_int_t ngx_http_mcp_catalog_uri(ngx_conf_t *cf, char *what,
    ngx_str_t *uri);
/* reads a whole file (relative to the conf prefix); *name becomes full */
char *ngx_http_mcp_catalog_read(ngx_conf_t *cf, ngx_str_t *name,
    ngx_str_t *data);
/*
 * reads the file named; its MIME type is *type when given (not NULL),
 * else found from the name, else *dflt, else a logged error
 */
char *ngx_http_mcp_catalog_media(ngx_conf_t *cf, ngx_str_t *name,
    ngx_str_t *type, ngx_str_t *dflt, ngx_str_t *data, ngx_str_t *mime);
/* parses JSON given inline or, with is_file, in the file named */
char *ngx_http_mcp_catalog_json(ngx_conf_t *cf, ngx_str_t *value,
    ngx_uint_t is_file, char *what, ngx_http_mcp_json_t **root);
/* `argument NAME [TYPE] [required] [DESCRIPTION]` */
char *ngx_http_mcp_catalog_param(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_array_t *params, ngx_str_t *value, ngx_uint_t n, ngx_uint_t typed);
/*
 * whether the block has a backend line (`pass`, ...): its name for
 * messages, or NULL
 */
#define ngx_http_mcp_block_backend(b)                                         \
    ((b)->entry.backend ? &(b)->entry.backend->name : NULL)
/* binds the block's backend (if any) to an item's entry */
void ngx_http_mcp_catalog_bind(ngx_http_mcp_block_t *b,
    ngx_http_mcp_entry_t *entry, ngx_http_mcp_item_e kind, void *item);
/* a string entry stored at e->offset in the block, set once */
char *ngx_http_mcp_entry_str(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_str_t *value, ngx_uint_t n);


#endif /* _NGX_HTTP_MCP_CATALOG_CONF_H_INCLUDED_ */
