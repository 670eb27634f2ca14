
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_STATIC_H_INCLUDED_
#define _NGX_HTTP_MCP_STATIC_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "json/ngx_http_mcp_json.h"
#include "catalog/ngx_http_mcp_registry.h"


/*
 * The static backend: writes the CallToolResult members of a tool whose
 * result was fixed at configuration time (`"content":[...]` and, when set,
 * `,"structuredContent":...` and `,"isError":true`), no braces.
 */
ngx_int_t ngx_http_mcp_static_call(ngx_http_mcp_tool_t *tool,
    ngx_http_mcp_json_t *args, ngx_http_mcp_jw_t *jw);


#endif /* _NGX_HTTP_MCP_STATIC_H_INCLUDED_ */
