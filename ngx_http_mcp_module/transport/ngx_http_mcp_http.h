
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_HTTP_H_INCLUDED_
#define _NGX_HTTP_MCP_HTTP_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* the content handler of an `mcp_pass` location */
ngx_int_t ngx_http_mcp_handler(ngx_http_request_t *r);


#endif /* _NGX_HTTP_MCP_HTTP_H_INCLUDED_ */
