
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "json/ngx_http_mcp_json.h"


/* questions to a parsed tree: a member by name, deep equality */


ngx_http_mcp_json_t *
ngx_http_mcp_json_get(ngx_http_mcp_json_t *obj, u_char *name, size_t len)
{
    ngx_http_mcp_json_t  *m;

    if (obj == NULL || obj->type != NGX_HTTP_MCP_JSON_OBJECT) {
        return NULL;
    }

    for (m = obj->first; m; m = m->next) {
        if (m->key.len == len && ngx_memcmp(m->key.data, name, len) == 0) {
            return m;
        }
    }

    return NULL;
}


ngx_uint_t
ngx_http_mcp_json_equal(ngx_http_mcp_json_t *a, ngx_http_mcp_json_t *b)
{
    ngx_http_mcp_json_t  *x, *y;

    if (a == NULL || b == NULL) {
        return a == b;
    }

    if (a->type == NGX_HTTP_MCP_JSON_INTEGER
        && b->type == NGX_HTTP_MCP_JSON_INTEGER)
    {
        return a->integer == b->integer;
    }

    if ((a->type == NGX_HTTP_MCP_JSON_INTEGER
         || a->type == NGX_HTTP_MCP_JSON_NUMBER)
        && (b->type == NGX_HTTP_MCP_JSON_INTEGER
            || b->type == NGX_HTTP_MCP_JSON_NUMBER))
    {
        return a->number == b->number;
    }

    if (a->type != b->type) {
        return 0;
    }

    switch (a->type) {

    case NGX_HTTP_MCP_JSON_STRING:
        return a->str.len == b->str.len
               && ngx_memcmp(a->str.data, b->str.data, a->str.len) == 0;

    case NGX_HTTP_MCP_JSON_ARRAY:

        if (a->nelts != b->nelts) {
            return 0;
        }

        for (x = a->first, y = b->first; x && y; x = x->next, y = y->next) {
            if (!ngx_http_mcp_json_equal(x, y)) {
                return 0;
            }
        }

        return x == NULL && y == NULL;

    case NGX_HTTP_MCP_JSON_OBJECT:

        if (a->nelts != b->nelts) {
            return 0;
        }

        /* member names are unique, so equal counts and a match each suffice */

        for (x = a->first; x; x = x->next) {
            y = ngx_http_mcp_json_get(b, x->key.data, x->key.len);

            if (y == NULL || !ngx_http_mcp_json_equal(x, y)) {
                return 0;
            }
        }

        return 1;

    default:                            /* null, false, true */
        return 1;
    }
}
