
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_MEDIA_H_INCLUDED_
#define _NGX_HTTP_MCP_MEDIA_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* MIME type by file name extension; NGX_DECLINED when unknown */
ngx_int_t ngx_http_mcp_media_of(ngx_str_t *path, ngx_str_t *mime);

/* text types, JSON, XML, JavaScript, YAML: text; anything else: bytes */
ngx_uint_t ngx_http_mcp_media_textual(ngx_str_t *mime);


#endif /* _NGX_HTTP_MCP_MEDIA_H_INCLUDED_ */
