
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_CATALOG_CONF_H_INCLUDED_
#define _NGX_HTTP_MCP_CATALOG_CONF_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/*
 * The inside of `mcp_server NAME { ... }` is parsed by ngx_conf_parse()
 * with cf->cmd_type set to this private bit (unused by nginx: bits
 * 0x00020000-0x00800000 are free), so that only the rows below match and
 * the nested `tool NAME { ... }` blocks are allowed (a cf->handler, as in
 * types {}, cannot receive a line that opens a block).  The blocks
 * themselves have no nested blocks and are parsed with a cf->handler and
 * a table of entries.
 */

#define NGX_HTTP_MCP_CATALOG_CONF   0x00200000


#define NGX_HTTP_MCP_CATALOG_ROW(name, args)                                  \
    { ngx_string(name), NGX_HTTP_MCP_CATALOG_CONF|args,                       \
      ngx_http_mcp_catalog_entry, 0, 0, NULL }

/* rows for the module's command table, before ngx_null_command */
#define NGX_HTTP_MCP_CATALOG_COMMANDS                                         \
    NGX_HTTP_MCP_CATALOG_ROW("name", NGX_CONF_TAKE1),                         \
    NGX_HTTP_MCP_CATALOG_ROW("version", NGX_CONF_TAKE1),                      \
    NGX_HTTP_MCP_CATALOG_ROW("title", NGX_CONF_TAKE1),                        \
    NGX_HTTP_MCP_CATALOG_ROW("description", NGX_CONF_TAKE1),                  \
    NGX_HTTP_MCP_CATALOG_ROW("instructions", NGX_CONF_TAKE1),                 \
    NGX_HTTP_MCP_CATALOG_ROW("cache_ttl", NGX_CONF_TAKE1),                    \
    NGX_HTTP_MCP_CATALOG_ROW("cache_scope", NGX_CONF_TAKE1),                  \
    NGX_HTTP_MCP_CATALOG_ROW("include", NGX_CONF_TAKE1),                      \
    NGX_HTTP_MCP_CATALOG_ROW("tool", NGX_CONF_BLOCK|NGX_CONF_TAKE1),          \
    NGX_HTTP_MCP_CATALOG_ROW("resource", NGX_CONF_BLOCK|NGX_CONF_TAKE1),      \
    NGX_HTTP_MCP_CATALOG_ROW("resource_template",                             \
                             NGX_CONF_BLOCK|NGX_CONF_TAKE1),                  \
    NGX_HTTP_MCP_CATALOG_ROW("prompt", NGX_CONF_BLOCK|NGX_CONF_TAKE1)


/* `mcp_server NAME { ... }` at http level: parses and builds one catalog */
char *ngx_http_mcp_server_block(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* one line directly inside mcp_server {} (the rows above) */
char *ngx_http_mcp_catalog_entry(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* _NGX_HTTP_MCP_CATALOG_CONF_H_INCLUDED_ */
