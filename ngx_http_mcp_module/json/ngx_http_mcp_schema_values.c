
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


/*
 * JSON Schema validation, about values: their types, comparison, the
 * characters of a string, integral numbers, and patterns compiled once per
 * validation (a cache in the validation's context).
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <math.h>                  /* macros only: nginx has no libm */

#include "json/ngx_http_mcp_schema_int.h"


ngx_uint_t
ngx_http_mcp_schema_has_type(ngx_http_mcp_json_t *type,
    ngx_http_mcp_json_t *v)
{
    ngx_http_mcp_json_t  *t;

    if (type->type == NGX_HTTP_MCP_JSON_STRING) {
        return ngx_http_mcp_schema_type_is(&type->str, v);
    }

    if (type->type != NGX_HTTP_MCP_JSON_ARRAY) {
        return 1;
    }

    for (t = type->first; t; t = t->next) {
        if (t->type == NGX_HTTP_MCP_JSON_STRING
            && ngx_http_mcp_schema_type_is(&t->str, v))
        {
            return 1;
        }
    }

    return 0;
}


ngx_uint_t
ngx_http_mcp_schema_type_is(ngx_str_t *name, ngx_http_mcp_json_t *v)
{
    const char  *have;

    have = ngx_http_mcp_schema_type_name(v);

    if (name->len == ngx_strlen(have)
        && ngx_strncmp(name->data, have, name->len) == 0)
    {
        return 1;
    }

    if (name->len == 6 && ngx_strncmp(name->data, "number", 6) == 0) {
        return v->type == NGX_HTTP_MCP_JSON_INTEGER;
    }

    if (name->len == 7 && ngx_strncmp(name->data, "integer", 7) == 0) {
        /* 1.0 is an integer in JSON Schema */
        return v->type == NGX_HTTP_MCP_JSON_NUMBER
               && ngx_http_mcp_schema_integral(v->number, 0);
    }

    return 0;
}


const char *
ngx_http_mcp_schema_type_name(ngx_http_mcp_json_t *v)
{
    switch (v->type) {
    case NGX_HTTP_MCP_JSON_NULL:
        return "null";
    case NGX_HTTP_MCP_JSON_FALSE:
    case NGX_HTTP_MCP_JSON_TRUE:
        return "boolean";
    case NGX_HTTP_MCP_JSON_INTEGER:
        return "integer";
    case NGX_HTTP_MCP_JSON_NUMBER:
        return "number";
    case NGX_HTTP_MCP_JSON_STRING:
        return "string";
    case NGX_HTTP_MCP_JSON_ARRAY:
        return "array";
    default:
        return "object";
    }
}


/* -1, 0, 1 as a < b, a == b, a > b; 0 when b is not a number */

ngx_int_t
ngx_http_mcp_schema_compare(ngx_http_mcp_json_t *a, ngx_http_mcp_json_t *b)
{
    if (a->type == NGX_HTTP_MCP_JSON_INTEGER
        && b->type == NGX_HTTP_MCP_JSON_INTEGER)
    {
        return (a->integer > b->integer) - (a->integer < b->integer);
    }

    if (b->type != NGX_HTTP_MCP_JSON_INTEGER
        && b->type != NGX_HTTP_MCP_JSON_NUMBER)
    {
        return 0;
    }

    return (a->number > b->number) - (a->number < b->number);
}


/* NGX_OK: matches; NGX_DECLINED: does not; NGX_ERROR: memory, bad regex */

ngx_int_t
ngx_http_mcp_schema_match(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *node, ngx_str_t *pat, ngx_str_t *subject)
{
    ngx_int_t     rc;
    ngx_str_t     reason;
    ngx_regex_t  *re;

    re = ngx_http_mcp_schema_cached(ctx, node);

    if (re == NULL) {
        re = ngx_http_mcp_schema_regex(ctx, node, pat, &reason);

        if (re == NULL) {
            if (!ctx->nomem) {
                /* ngx_http_mcp_schema_check() refuses such patterns */
                ctx->abort = 1;
                ngx_str_set(ctx->err, "invalid pattern in the schema");
            }

            return NGX_ERROR;
        }

        if (ngx_http_mcp_schema_remember(ctx, node, re) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    ctx->steps++;

    rc = ngx_regex_exec(re, subject, NULL, 0);

    if (rc >= 0) {
        return NGX_OK;
    }

    if (rc == NGX_REGEX_NO_MATCHED) {
        return NGX_DECLINED;
    }

    /* match limit and such: refuse rather than guess */

    ctx->abort = 1;
    ngx_str_set(ctx->err, "pattern matching failed (" ngx_regex_exec_n
                          " error)");

    return NGX_ERROR;
}


void *
ngx_http_mcp_schema_cached(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *node)
{
    ngx_uint_t                    i;
    ngx_http_mcp_schema_cache_t  *c;

    c = ctx->cache.elts;

    for (i = 0; i < ctx->cache.nelts; i++) {
        if (c[i].node == node) {
            return c[i].data;
        }
    }

    return NULL;
}


ngx_int_t
ngx_http_mcp_schema_remember(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *node, void *data)
{
    ngx_http_mcp_schema_cache_t  *c;

    c = ngx_array_push(&ctx->cache);
    if (c == NULL) {
        ctx->nomem = 1;
        return NGX_ERROR;
    }

    c->node = node;
    c->data = data;

    return NGX_OK;
}


/* characters (code points) of valid UTF-8 */

size_t
ngx_http_mcp_schema_chars(ngx_str_t *s)
{
    size_t   n;
    u_char  *p, *last;

    n = 0;

    for (p = s->data, last = p + s->len; p < last; p++) {
        n += ((*p & 0xc0) != 0x80);
    }

    return n;
}


/* is d a whole number, within eps relative to its size? */

ngx_uint_t
ngx_http_mcp_schema_integral(double d, double eps)
{
    double  r, a;

    if (!isfinite(d)) {
        return 0;
    }

    a = (d < 0) ? -d : d;

    if (a >= 9007199254740992.0) {      /* 2^53: no fractions left */
        return 1;
    }

    r = (double) (int64_t) (a + 0.5);   /* rounded, without libm */
    r = a - r;

    if (r < 0) {
        r = -r;
    }

    return r <= eps * (a > 1.0 ? a : 1.0);
}
