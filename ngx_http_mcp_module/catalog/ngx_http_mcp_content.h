
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_CONTENT_H_INCLUDED_
#define _NGX_HTTP_MCP_CONTENT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "json/ngx_http_mcp_json.h"
#include "json/ngx_http_mcp_media.h"
#include "catalog/ngx_http_mcp_registry.h"


/*
 * Content blocks, the same for tool results and prompt messages; written
 * at configuration time through a segment builder, so that text, uri and
 * name may carry {argument} placeholders (with sb->params set).
 */

void ngx_http_mcp_content_text(ngx_http_mcp_sb_t *sb, ngx_str_t *text);
/* image or audio: data is the raw file, written as base64 */
void ngx_http_mcp_content_media(ngx_http_mcp_sb_t *sb, ngx_uint_t audio,
    ngx_str_t *data, ngx_str_t *mime);
/*
 * `{"uri":..,"mimeType":..,"text":..}` as in resources/read, or with
 * "blob" (base64 of data) when `blob` is set
 */
void ngx_http_mcp_content_read(ngx_http_mcp_sb_t *sb, ngx_str_t *uri,
    ngx_str_t *mime, ngx_str_t *data, ngx_uint_t blob);
/* `{"type":"resource","resource":<contents>}` */
void ngx_http_mcp_content_embedded(ngx_http_mcp_sb_t *sb, ngx_str_t *uri,
    ngx_str_t *mime, ngx_str_t *data, ngx_uint_t blob);
/* mime may be empty */
void ngx_http_mcp_content_link(ngx_http_mcp_sb_t *sb, ngx_str_t *uri,
    ngx_str_t *name, ngx_str_t *mime);


#endif /* _NGX_HTTP_MCP_CONTENT_H_INCLUDED_ */
