
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_HEALTH_H_INCLUDED_
#define _NGX_HTTP_MCP_HEALTH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* `mcp_health live | ready;`: installs the content handler */
char *ngx_http_mcp_health(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);


#endif /* _NGX_HTTP_MCP_HEALTH_H_INCLUDED_ */
