
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "catalog/ngx_http_mcp_content.h"


void
ngx_http_mcp_content_text(ngx_http_mcp_sb_t *sb, ngx_str_t *text)
{
    ngx_http_mcp_sb_literal(sb, "{\"type\":\"text\",\"text\":");
    ngx_http_mcp_sb_string(sb, text->data, text->len);
    ngx_http_mcp_sb_literal(sb, "}");
}


void
ngx_http_mcp_content_media(ngx_http_mcp_sb_t *sb, ngx_uint_t audio,
    ngx_str_t *data, ngx_str_t *mime)
{
    if (audio) {
        ngx_http_mcp_sb_literal(sb, "{\"type\":\"audio\",\"data\":");

    } else {
        ngx_http_mcp_sb_literal(sb, "{\"type\":\"image\",\"data\":");
    }

    ngx_http_mcp_jw_base64(&sb->jw, data->data, data->len);
    ngx_http_mcp_sb_literal(sb, ",\"mimeType\":");
    ngx_http_mcp_jw_str(&sb->jw, mime);
    ngx_http_mcp_sb_literal(sb, "}");
}


void
ngx_http_mcp_content_read(ngx_http_mcp_sb_t *sb, ngx_str_t *uri,
    ngx_str_t *mime, ngx_str_t *data, ngx_uint_t blob)
{
    ngx_http_mcp_sb_literal(sb, "{\"uri\":");
    ngx_http_mcp_sb_string(sb, uri->data, uri->len);
    ngx_http_mcp_sb_literal(sb, ",\"mimeType\":");
    ngx_http_mcp_jw_str(&sb->jw, mime);

    if (!blob) {
        ngx_http_mcp_sb_literal(sb, ",\"text\":");
        ngx_http_mcp_sb_string(sb, data->data, data->len);

    } else {
        ngx_http_mcp_sb_literal(sb, ",\"blob\":");
        ngx_http_mcp_jw_base64(&sb->jw, data->data, data->len);
    }

    ngx_http_mcp_sb_literal(sb, "}");
}


void
ngx_http_mcp_content_embedded(ngx_http_mcp_sb_t *sb, ngx_str_t *uri,
    ngx_str_t *mime, ngx_str_t *data, ngx_uint_t blob)
{
    ngx_http_mcp_sb_literal(sb, "{\"type\":\"resource\",\"resource\":");
    ngx_http_mcp_content_read(sb, uri, mime, data, blob);
    ngx_http_mcp_sb_literal(sb, "}");
}


void
ngx_http_mcp_content_link(ngx_http_mcp_sb_t *sb, ngx_str_t *uri,
    ngx_str_t *name, ngx_str_t *mime)
{
    ngx_http_mcp_sb_literal(sb, "{\"type\":\"resource_link\",\"uri\":");
    ngx_http_mcp_sb_string(sb, uri->data, uri->len);
    ngx_http_mcp_sb_literal(sb, ",\"name\":");
    ngx_http_mcp_sb_string(sb, name->data, name->len);

    if (mime->len) {
        ngx_http_mcp_sb_literal(sb, ",\"mimeType\":");
        ngx_http_mcp_jw_str(&sb->jw, mime);
    }

    ngx_http_mcp_sb_literal(sb, "}");
}
