
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_CATALOG_CONF_H_INCLUDED_
#define _NGX_HTTP_MCP_CATALOG_CONF_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* `mcp_server NAME { ... }` at http level: parses and builds one catalog */
char *ngx_http_mcp_server_block(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* _NGX_HTTP_MCP_CATALOG_CONF_H_INCLUDED_ */
