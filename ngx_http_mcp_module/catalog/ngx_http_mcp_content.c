
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "catalog/ngx_http_mcp_content.h"


typedef struct {
    ngx_str_t                   ext;
    ngx_str_t                   mime;
} ngx_http_mcp_content_type_t;


static ngx_http_mcp_content_type_t  ngx_http_mcp_content_types[] = {
    { ngx_string("png"), ngx_string("image/png") },
    { ngx_string("jpg"), ngx_string("image/jpeg") },
    { ngx_string("jpeg"), ngx_string("image/jpeg") },
    { ngx_string("gif"), ngx_string("image/gif") },
    { ngx_string("webp"), ngx_string("image/webp") },
    { ngx_string("svg"), ngx_string("image/svg+xml") },
    { ngx_string("wav"), ngx_string("audio/wav") },
    { ngx_string("mp3"), ngx_string("audio/mpeg") },
    { ngx_string("ogg"), ngx_string("audio/ogg") },
    { ngx_string("txt"), ngx_string("text/plain") },
    { ngx_string("md"), ngx_string("text/markdown") },
    { ngx_string("html"), ngx_string("text/html") },
    { ngx_string("htm"), ngx_string("text/html") },
    { ngx_string("css"), ngx_string("text/css") },
    { ngx_string("csv"), ngx_string("text/csv") },
    { ngx_string("json"), ngx_string("application/json") },
    { ngx_string("xml"), ngx_string("application/xml") },
    { ngx_string("js"), ngx_string("application/javascript") },
    { ngx_string("yaml"), ngx_string("application/yaml") },
    { ngx_string("yml"), ngx_string("application/yaml") },
    { ngx_string("pdf"), ngx_string("application/pdf") },
    { ngx_null_string, ngx_null_string }
};


static ngx_str_t  ngx_http_mcp_content_textual_types[] = {
    ngx_string("application/json"),
    ngx_string("application/xml"),
    ngx_string("application/javascript"),
    ngx_string("application/yaml"),
    ngx_null_string
};


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


ngx_int_t
ngx_http_mcp_content_mime(ngx_str_t *path, ngx_str_t *mime)
{
    u_char                      *p, *dot;
    size_t                       len;
    ngx_http_mcp_content_type_t  *t;

    dot = NULL;

    for (p = path->data + path->len; p > path->data; p--) {
        if (p[-1] == '/') {
            break;
        }

        if (p[-1] == '.') {
            dot = p;
            break;
        }
    }

    if (dot == NULL) {
        return NGX_DECLINED;
    }

    len = path->data + path->len - dot;

    for (t = ngx_http_mcp_content_types; t->ext.len; t++) {
        if (t->ext.len == len && ngx_strncasecmp(dot, t->ext.data, len) == 0) {
            *mime = t->mime;
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


ngx_uint_t
ngx_http_mcp_content_textual(ngx_str_t *mime)
{
    size_t      len;
    u_char     *semi;
    ngx_str_t  *t;

    len = mime->len;

    semi = ngx_strlchr(mime->data, mime->data + len, ';');
    if (semi) {
        len = semi - mime->data;
    }

    while (len && mime->data[len - 1] == ' ') {
        len--;
    }

    if (len > 5 && ngx_strncasecmp(mime->data, (u_char *) "text/", 5) == 0) {
        return 1;
    }

    if (len > 5
        && (ngx_strncasecmp(mime->data + len - 5, (u_char *) "+json", 5) == 0
            || ngx_strncasecmp(mime->data + len - 4, (u_char *) "+xml", 4)
               == 0))
    {
        return 1;
    }

    for (t = ngx_http_mcp_content_textual_types; t->len; t++) {
        if (t->len == len && ngx_strncasecmp(mime->data, t->data, len) == 0) {
            return 1;
        }
    }

    return 0;
}
