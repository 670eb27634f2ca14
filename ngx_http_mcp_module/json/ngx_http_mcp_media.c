
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "json/ngx_http_mcp_media.h"


/*
 * Media types of content, for every layer: the type of a file by its name,
 * and whether a type is text (written as a string) or bytes (base64).
 */


typedef struct {
    ngx_str_t                   ext;
    ngx_str_t                   mime;
} ngx_http_mcp_media_type_t;


static ngx_http_mcp_media_type_t  ngx_http_mcp_media_types[] = {
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


static ngx_str_t  ngx_http_mcp_media_textual_types[] = {
    ngx_string("application/json"),
    ngx_string("application/xml"),
    ngx_string("application/javascript"),
    ngx_string("application/yaml"),
    ngx_null_string
};


ngx_int_t
ngx_http_mcp_media_of(ngx_str_t *path, ngx_str_t *mime)
{
    u_char                      *p, *dot;
    size_t                       len;
    ngx_http_mcp_media_type_t  *t;

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

    for (t = ngx_http_mcp_media_types; t->ext.len; t++) {
        if (t->ext.len == len && ngx_strncasecmp(dot, t->ext.data, len) == 0) {
            *mime = t->mime;
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


ngx_uint_t
ngx_http_mcp_media_textual(ngx_str_t *mime)
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

    for (t = ngx_http_mcp_media_textual_types; t->len; t++) {
        if (t->len == len && ngx_strncasecmp(mime->data, t->data, len) == 0) {
            return 1;
        }
    }

    return 0;
}
