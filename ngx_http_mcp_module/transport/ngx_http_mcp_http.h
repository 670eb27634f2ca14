
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

/* a whole response from memory of the request pool; no body: NULL */
ngx_int_t ngx_http_mcp_send_body(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, ngx_str_t *body);


#endif /* _NGX_HTTP_MCP_HTTP_H_INCLUDED_ */
