
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


/*
 * What the two halves of protocol/schema share: ngx_http_mcp_schema.c
 * (configuration-time check, $ref resolution, patterns, messages) and
 * ngx_http_mcp_schema_validate.c (request-time validation).  Private:
 * no other unit includes this file.
 */


#ifndef _NGX_HTTP_MCP_SCHEMA_INT_H_INCLUDED_
#define _NGX_HTTP_MCP_SCHEMA_INT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "json/ngx_http_mcp_schema.h"


/* the keywords this validator knows; everything else is ignored */

typedef enum {
    NGX_HTTP_MCP_KW_REF = 0,
    NGX_HTTP_MCP_KW_TYPE,
    NGX_HTTP_MCP_KW_ENUM,
    NGX_HTTP_MCP_KW_CONST,
    NGX_HTTP_MCP_KW_PROPERTIES,
    NGX_HTTP_MCP_KW_PATTERN_PROPERTIES,
    NGX_HTTP_MCP_KW_ADDITIONAL_PROPERTIES,
    NGX_HTTP_MCP_KW_REQUIRED,
    NGX_HTTP_MCP_KW_MIN_PROPERTIES,
    NGX_HTTP_MCP_KW_MAX_PROPERTIES,
    NGX_HTTP_MCP_KW_PREFIX_ITEMS,
    NGX_HTTP_MCP_KW_ITEMS,
    NGX_HTTP_MCP_KW_MIN_ITEMS,
    NGX_HTTP_MCP_KW_MAX_ITEMS,
    NGX_HTTP_MCP_KW_UNIQUE_ITEMS,
    NGX_HTTP_MCP_KW_MINIMUM,
    NGX_HTTP_MCP_KW_MAXIMUM,
    NGX_HTTP_MCP_KW_EXCLUSIVE_MINIMUM,
    NGX_HTTP_MCP_KW_EXCLUSIVE_MAXIMUM,
    NGX_HTTP_MCP_KW_MULTIPLE_OF,
    NGX_HTTP_MCP_KW_MIN_LENGTH,
    NGX_HTTP_MCP_KW_MAX_LENGTH,
    NGX_HTTP_MCP_KW_PATTERN,
    NGX_HTTP_MCP_KW_ALL_OF,
    NGX_HTTP_MCP_KW_ANY_OF,
    NGX_HTTP_MCP_KW_ONE_OF,
    NGX_HTTP_MCP_KW_NOT,
    NGX_HTTP_MCP_KW_IF,
    NGX_HTTP_MCP_KW_THEN,
    NGX_HTTP_MCP_KW_ELSE,
    NGX_HTTP_MCP_KW_DEFS,
    NGX_HTTP_MCP_KW_DEFINITIONS,
    NGX_HTTP_MCP_KW_ANCHOR,
    NGX_HTTP_MCP_KW_UNKNOWN
} ngx_http_mcp_schema_kw_e;


typedef struct {
    ngx_http_mcp_json_t       *kw[NGX_HTTP_MCP_KW_UNKNOWN];
} ngx_http_mcp_schema_kws_t;


/* a $ref target or a compiled pattern, found once per call */

typedef struct {
    ngx_http_mcp_json_t       *node;
    void                      *data;
} ngx_http_mcp_schema_cache_t;


typedef struct {
    ngx_pool_t                *pool;
    ngx_http_mcp_json_t       *root;      /* the schema */
    ngx_http_mcp_json_t       *top;       /* the value, for paths */
    ngx_str_t                 *err;
    ngx_uint_t                 steps;
    ngx_uint_t                 refs;      /* $ref nesting */
    ngx_uint_t                 quiet;     /* inside anyOf, oneOf, not, if */
    ngx_array_t                cache;     /* ngx_http_mcp_schema_cache_t */

    /* check: the $ref targets, each checked once (ngx_http_mcp_json_t *) */
    ngx_array_t                targets;
    ngx_rbtree_t               seen;      /* key: a target's address */
    ngx_rbtree_node_t          sentinel;

    unsigned                   nomem:1;
    unsigned                   abort:1;   /* work bound hit */
} ngx_http_mcp_schema_ctx_t;


/* ctx for a check or a validation of `schema`, its cache in `pool` */
ngx_int_t ngx_http_mcp_schema_init(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_pool_t *pool, ngx_http_mcp_json_t *schema, ngx_str_t *err);

/* NGX_HTTP_MCP_KW_UNKNOWN for a name this validator does not know */
ngx_http_mcp_schema_kw_e ngx_http_mcp_schema_keyword(ngx_str_t *name);
/* the index of name in a table ending with ngx_null_string, or its end */
ngx_uint_t ngx_http_mcp_schema_find(ngx_str_t *names, ngx_str_t *name);

/* the known keywords of schema object `s`, NULL where absent */
void ngx_http_mcp_schema_keywords(ngx_http_mcp_json_t *s,
    ngx_http_mcp_schema_kws_t *k);

/* NULL and ctx->nomem set, or NULL and a reason for a bad pattern */
ngx_regex_t *ngx_http_mcp_schema_regex(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *node, ngx_str_t *pattern, ngx_str_t *reason);

/* the target of a local $ref ("#", "#/json/pointer", "#anchor"), or NULL */
ngx_http_mcp_json_t *ngx_http_mcp_schema_resolve(
    ngx_http_mcp_schema_ctx_t *ctx, ngx_http_mcp_json_t *ref);

/*
 * Sets *ctx->err from fmt and the JSON pointer from `top` to `at`, as a
 * prefix ("/a/0: message") or a suffix ("message at /a/0").  NGX_DECLINED,
 * or NGX_ERROR with ctx->nomem.
 */
ngx_int_t ngx_http_mcp_schema_error(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *top, ngx_http_mcp_json_t *at, ngx_uint_t prefix,
    const char *fmt, va_list args);

/* a name in JSON quotes and escapes, cut at 64 bytes, for messages */
ngx_str_t *ngx_http_mcp_schema_quote(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_str_t *s);


/* ngx_http_mcp_schema_values.c: what validation needs of values */

ngx_uint_t ngx_http_mcp_schema_has_type(ngx_http_mcp_json_t *type,
    ngx_http_mcp_json_t *v);
ngx_uint_t ngx_http_mcp_schema_type_is(ngx_str_t *name,
    ngx_http_mcp_json_t *v);
const char *ngx_http_mcp_schema_type_name(ngx_http_mcp_json_t *v);
/* the number a against the number b: -1, 0 or 1 (integers exactly) */
ngx_int_t ngx_http_mcp_schema_compare(ngx_http_mcp_json_t *a,
    ngx_http_mcp_json_t *b);
/*
 * NGX_OK: subject matches the pattern of node (compiled once per
 * validation); NGX_DECLINED: it does not; NGX_ERROR: validation stops
 */
ngx_int_t ngx_http_mcp_schema_match(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *node, ngx_str_t *pat, ngx_str_t *subject);
void *ngx_http_mcp_schema_cached(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *node);
ngx_int_t ngx_http_mcp_schema_remember(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *node, void *data);
/* characters (code points) of valid UTF-8 */
size_t ngx_http_mcp_schema_chars(ngx_str_t *s);
ngx_uint_t ngx_http_mcp_schema_integral(double d, double eps);


#endif /* _NGX_HTTP_MCP_SCHEMA_INT_H_INCLUDED_ */
