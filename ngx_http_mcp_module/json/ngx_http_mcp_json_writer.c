
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <math.h>                  /* isnan(), isinf(): macros only */

#include "json/ngx_http_mcp_json.h"


static ngx_int_t ngx_http_mcp_jw_grow(ngx_http_mcp_jw_t *jw, size_t need);


ngx_int_t
ngx_http_mcp_jw_init(ngx_http_mcp_jw_t *jw, ngx_pool_t *pool, size_t size)
{
    ngx_memzero(jw, sizeof(ngx_http_mcp_jw_t));

    jw->pool = pool;

    if (size < 64) {
        size = 64;
    }

    jw->start = ngx_pnalloc(pool, size);
    if (jw->start == NULL) {
        jw->failed = 1;
        return NGX_ERROR;
    }

    jw->pos = jw->start;
    jw->end = jw->start + size;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_jw_grow(ngx_http_mcp_jw_t *jw, size_t need)
{
    u_char  *p;
    size_t   size, used;

    if (jw->failed) {
        return NGX_ERROR;
    }

    if ((size_t) (jw->end - jw->pos) >= need) {
        return NGX_OK;
    }

    used = jw->pos - jw->start;
    size = (jw->end - jw->start) * 2;

    if (size < used + need) {
        size = used + need;
    }

    if (size < 64) {
        size = 64;
    }

    p = ngx_pnalloc(jw->pool, size);
    if (p == NULL) {
        jw->failed = 1;
        return NGX_ERROR;
    }

    if (used) {
        ngx_memcpy(p, jw->start, used);
    }

    if (jw->start) {
        ngx_pfree(jw->pool, jw->start);
    }

    jw->start = p;
    jw->pos = p + used;
    jw->end = p + size;

    return NGX_OK;
}


void
ngx_http_mcp_jw_reserve(ngx_http_mcp_jw_t *jw, size_t len)
{
    (void) ngx_http_mcp_jw_grow(jw, len);
}


void
ngx_http_mcp_jw_raw(ngx_http_mcp_jw_t *jw, u_char *p, size_t len)
{
    if (len == 0 || ngx_http_mcp_jw_grow(jw, len) != NGX_OK) {
        return;
    }

    jw->pos = ngx_cpymem(jw->pos, p, len);
}


void
ngx_http_mcp_jw_string(ngx_http_mcp_jw_t *jw, u_char *p, size_t len)
{
    if (ngx_http_mcp_jw_grow(jw, len + 2) != NGX_OK) {
        return;
    }

    *jw->pos++ = '"';

    ngx_http_mcp_jw_escaped(jw, p, len);

    if (ngx_http_mcp_jw_grow(jw, 1) != NGX_OK) {
        return;
    }

    *jw->pos++ = '"';
}


void
ngx_http_mcp_jw_escaped(ngx_http_mcp_jw_t *jw, u_char *p, size_t len)
{
    u_char  c, *last, *run;
    size_t  n;

    static u_char  hex[] = "0123456789abcdef";

    /* an empty value may have no pointer at all (an absent argument) */

    if (len == 0) {
        return;
    }

    last = p + len;

    while (p < last) {

        /* copy a run of bytes that need nothing */

        for (run = p; p < last; p++) {
            c = *p;

            if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) {
                break;
            }
        }

        if (p > run) {
            if (ngx_http_mcp_jw_grow(jw, p - run) != NGX_OK) {
                return;
            }

            jw->pos = ngx_cpymem(jw->pos, run, p - run);
        }

        if (p == last) {
            break;
        }

        if (ngx_http_mcp_jw_grow(jw, 6) != NGX_OK) {
            return;
        }

        c = *p;

        if (c >= 0x80) {
            n = ngx_http_mcp_json_utf8(p, last);

            if (n) {
                jw->pos = ngx_cpymem(jw->pos, p, n);
                p += n;

            } else {
                /* U+FFFD REPLACEMENT CHARACTER for each bad byte */
                *jw->pos++ = 0xef;
                *jw->pos++ = 0xbf;
                *jw->pos++ = 0xbd;
                p++;
            }

            continue;
        }

        *jw->pos++ = '\\';

        switch (c) {
        case '"':
        case '\\':
            *jw->pos++ = c;
            break;
        case '\n':
            *jw->pos++ = 'n';
            break;
        case '\r':
            *jw->pos++ = 'r';
            break;
        case '\t':
            *jw->pos++ = 't';
            break;
        case '\b':
            *jw->pos++ = 'b';
            break;
        case '\f':
            *jw->pos++ = 'f';
            break;
        default:
            *jw->pos++ = 'u';
            *jw->pos++ = '0';
            *jw->pos++ = '0';
            *jw->pos++ = hex[c >> 4];
            *jw->pos++ = hex[c & 0xf];
        }

        p++;
    }
}


void
ngx_http_mcp_jw_int(ngx_http_mcp_jw_t *jw, int64_t n)
{
    if (ngx_http_mcp_jw_grow(jw, NGX_INT64_LEN) != NGX_OK) {
        return;
    }

    jw->pos = ngx_sprintf(jw->pos, "%L", n);
}


void
ngx_http_mcp_jw_value(ngx_http_mcp_jw_t *jw, ngx_http_mcp_json_t *v)
{
    u_char                c;
    ngx_http_mcp_json_t  *m;

    if (jw->failed) {
        return;
    }

    if (v == NULL) {
        ngx_http_mcp_jw_literal(jw, "null");
        return;
    }

    switch (v->type) {

    case NGX_HTTP_MCP_JSON_NULL:
        ngx_http_mcp_jw_literal(jw, "null");
        break;

    case NGX_HTTP_MCP_JSON_FALSE:
        ngx_http_mcp_jw_literal(jw, "false");
        break;

    case NGX_HTTP_MCP_JSON_TRUE:
        ngx_http_mcp_jw_literal(jw, "true");
        break;

    case NGX_HTTP_MCP_JSON_INTEGER:
        if (v->str.len) {
            ngx_http_mcp_jw_raw(jw, v->str.data, v->str.len);

        } else {
            ngx_http_mcp_jw_int(jw, v->integer);
        }

        break;

    case NGX_HTTP_MCP_JSON_NUMBER:
        if (v->str.len) {
            ngx_http_mcp_jw_raw(jw, v->str.data, v->str.len);

        } else if (isnan(v->number) || isinf(v->number)) {
            ngx_http_mcp_jw_literal(jw, "null");

        } else if (ngx_http_mcp_jw_grow(jw, 32) == NGX_OK) {
            /* a number built by code, not parsed: "%.17g" round-trips */
            jw->pos += snprintf((char *) jw->pos, 32, "%.17g", v->number);
        }

        break;

    case NGX_HTTP_MCP_JSON_STRING:
        ngx_http_mcp_jw_string(jw, v->str.data, v->str.len);
        break;

    case NGX_HTTP_MCP_JSON_ARRAY:
    case NGX_HTTP_MCP_JSON_OBJECT:

        c = (v->type == NGX_HTTP_MCP_JSON_ARRAY) ? '[' : '{';
        ngx_http_mcp_jw_raw(jw, &c, 1);

        for (m = v->first; m; m = m->next) {

            if (m != v->first) {
                ngx_http_mcp_jw_literal(jw, ",");
            }

            if (v->type == NGX_HTTP_MCP_JSON_OBJECT) {
                ngx_http_mcp_jw_string(jw, m->key.data, m->key.len);
                ngx_http_mcp_jw_literal(jw, ":");
            }

            ngx_http_mcp_jw_value(jw, m);
        }

        c = (v->type == NGX_HTTP_MCP_JSON_ARRAY) ? ']' : '}';
        ngx_http_mcp_jw_raw(jw, &c, 1);

        break;
    }
}


void
ngx_http_mcp_jw_base64(ngx_http_mcp_jw_t *jw, u_char *p, size_t len)
{
    ngx_str_t  src, dst;

    if (ngx_http_mcp_jw_grow(jw, ngx_base64_encoded_length(len) + 2)
        != NGX_OK)
    {
        return;
    }

    *jw->pos++ = '"';

    src.data = p;
    src.len = len;
    dst.data = jw->pos;

    ngx_encode_base64(&dst, &src);

    jw->pos += dst.len;
    *jw->pos++ = '"';
}


ngx_int_t
ngx_http_mcp_jw_finish(ngx_http_mcp_jw_t *jw, ngx_str_t *out)
{
    if (jw->failed) {
        ngx_str_null(out);
        return NGX_ERROR;
    }

    out->data = jw->start;
    out->len = jw->pos - jw->start;

    return NGX_OK;
}
