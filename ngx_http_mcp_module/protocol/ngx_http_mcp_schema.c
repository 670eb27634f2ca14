/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <math.h>                  /* macros only: nginx has no libm */

#include "protocol/ngx_http_mcp_schema.h"


#define NGX_HTTP_MCP_SCHEMA_MAX_STEPS  100000
#define NGX_HTTP_MCP_SCHEMA_MAX_REFS   128

#define NGX_HTTP_MCP_SCHEMA_MSGLEN     256


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
    unsigned                   nomem:1;
    unsigned                   abort:1;   /* work bound hit */
} ngx_http_mcp_schema_ctx_t;


static ngx_int_t ngx_http_mcp_schema_check_node(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *s);
static ngx_int_t ngx_http_mcp_schema_check_list(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *kw);
static ngx_int_t ngx_http_mcp_schema_check_map(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *kw, ngx_uint_t patterns);
static ngx_int_t ngx_http_mcp_schema_check_type(ngx_http_mcp_json_t *kw);
static ngx_int_t ngx_http_mcp_schema_check_loop(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *home, ngx_http_mcp_json_t *target);
static ngx_int_t ngx_http_mcp_schema_reaches(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *from, ngx_http_mcp_json_t *home,
    ngx_array_t *seen);
static ngx_int_t ngx_http_mcp_schema_check_fail(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *at, const char *fmt, ...);

static ngx_int_t ngx_http_mcp_schema_apply(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *s, ngx_http_mcp_json_t *v);
static ngx_int_t ngx_http_mcp_schema_ref(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *kw, ngx_http_mcp_json_t *v);
static ngx_int_t ngx_http_mcp_schema_object(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_schema_kws_t *k, ngx_http_mcp_json_t *v);
static ngx_int_t ngx_http_mcp_schema_array(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_schema_kws_t *k, ngx_http_mcp_json_t *v);
static ngx_int_t ngx_http_mcp_schema_number(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_schema_kws_t *k, ngx_http_mcp_json_t *v);
static ngx_int_t ngx_http_mcp_schema_string(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_schema_kws_t *k, ngx_http_mcp_json_t *v);
static ngx_int_t ngx_http_mcp_schema_logic(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_schema_kws_t *k, ngx_http_mcp_json_t *v);
static ngx_int_t ngx_http_mcp_schema_quietly(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *s, ngx_http_mcp_json_t *v);

static void ngx_http_mcp_schema_keywords(ngx_http_mcp_json_t *s,
    ngx_http_mcp_schema_kws_t *k);
static ngx_uint_t ngx_http_mcp_schema_has_type(ngx_http_mcp_json_t *type,
    ngx_http_mcp_json_t *v);
static ngx_uint_t ngx_http_mcp_schema_type_is(ngx_str_t *name,
    ngx_http_mcp_json_t *v);
static const char *ngx_http_mcp_schema_type_name(ngx_http_mcp_json_t *v);
static ngx_int_t ngx_http_mcp_schema_compare(ngx_http_mcp_json_t *a,
    ngx_http_mcp_json_t *b);
static ngx_int_t ngx_http_mcp_schema_match(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *pattern, ngx_str_t *pat, ngx_str_t *subject);
static ngx_regex_t *ngx_http_mcp_schema_regex(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *node, ngx_str_t *pattern, ngx_str_t *reason);
static ngx_http_mcp_json_t *ngx_http_mcp_schema_resolve(
    ngx_http_mcp_schema_ctx_t *ctx, ngx_http_mcp_json_t *ref);
static ngx_http_mcp_json_t *ngx_http_mcp_schema_pointer(
    ngx_http_mcp_schema_ctx_t *ctx, u_char *p, u_char *last);
static ngx_http_mcp_json_t *ngx_http_mcp_schema_anchor(
    ngx_http_mcp_schema_ctx_t *ctx, ngx_http_mcp_json_t *s, ngx_str_t *name);
static void *ngx_http_mcp_schema_cached(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *node);
static ngx_int_t ngx_http_mcp_schema_remember(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *node, void *data);
static ngx_int_t ngx_http_mcp_schema_fail(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *v, const char *fmt, ...);
static ngx_int_t ngx_http_mcp_schema_error(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *top, ngx_http_mcp_json_t *at, ngx_uint_t prefix,
    const char *fmt, va_list args);
static void ngx_http_mcp_schema_path(ngx_http_mcp_jw_t *jw,
    ngx_http_mcp_json_t *top, ngx_http_mcp_json_t *at);
static ngx_str_t *ngx_http_mcp_schema_quote(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_str_t *s);
static size_t ngx_http_mcp_schema_chars(ngx_str_t *s);
static ngx_uint_t ngx_http_mcp_schema_integral(double d, double eps);


static ngx_str_t  ngx_http_mcp_schema_kw_names[] = {
    ngx_string("$ref"),
    ngx_string("type"),
    ngx_string("enum"),
    ngx_string("const"),
    ngx_string("properties"),
    ngx_string("patternProperties"),
    ngx_string("additionalProperties"),
    ngx_string("required"),
    ngx_string("minProperties"),
    ngx_string("maxProperties"),
    ngx_string("prefixItems"),
    ngx_string("items"),
    ngx_string("minItems"),
    ngx_string("maxItems"),
    ngx_string("uniqueItems"),
    ngx_string("minimum"),
    ngx_string("maximum"),
    ngx_string("exclusiveMinimum"),
    ngx_string("exclusiveMaximum"),
    ngx_string("multipleOf"),
    ngx_string("minLength"),
    ngx_string("maxLength"),
    ngx_string("pattern"),
    ngx_string("allOf"),
    ngx_string("anyOf"),
    ngx_string("oneOf"),
    ngx_string("not"),
    ngx_string("if"),
    ngx_string("then"),
    ngx_string("else"),
    ngx_string("$defs"),
    ngx_string("definitions"),
    ngx_string("$anchor")
};


static ngx_str_t  ngx_http_mcp_schema_types[] = {
    ngx_string("null"),
    ngx_string("boolean"),
    ngx_string("object"),
    ngx_string("array"),
    ngx_string("number"),
    ngx_string("string"),
    ngx_string("integer"),
    ngx_null_string
};


ngx_int_t
ngx_http_mcp_schema_check(ngx_pool_t *pool, ngx_http_mcp_json_t *schema,
    ngx_uint_t object_root, ngx_str_t *err)
{
    ngx_http_mcp_json_t        *type;
    ngx_http_mcp_schema_ctx_t   ctx;

    ngx_str_null(err);

    ngx_memzero(&ctx, sizeof(ngx_http_mcp_schema_ctx_t));

    ctx.pool = pool;
    ctx.root = schema;
    ctx.err = err;

    if (ngx_array_init(&ctx.cache, pool, 4,
                       sizeof(ngx_http_mcp_schema_cache_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (schema == NULL) {
        ngx_str_set(err, "no schema");
        return NGX_DECLINED;
    }

    if (object_root) {
        type = ngx_http_mcp_json_member(schema, "type");

        if (type == NULL || type->type != NGX_HTTP_MCP_JSON_STRING
            || type->str.len != 6
            || ngx_strncmp(type->str.data, "object", 6) != 0)
        {
            ngx_str_set(err, "the schema must say \"type\":\"object\"");
            return NGX_DECLINED;
        }
    }

    return ngx_http_mcp_schema_check_node(&ctx, schema);
}


static ngx_int_t
ngx_http_mcp_schema_check_node(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *s)
{
    ngx_int_t                   rc;
    ngx_str_t                   reason;
    ngx_uint_t                  i;
    ngx_http_mcp_json_t        *kw, *target;
    ngx_http_mcp_json_type_e    t;

    if (s->type == NGX_HTTP_MCP_JSON_TRUE
        || s->type == NGX_HTTP_MCP_JSON_FALSE)
    {
        return NGX_OK;
    }

    if (s->type != NGX_HTTP_MCP_JSON_OBJECT) {
        return ngx_http_mcp_schema_check_fail(ctx, s,
                                      "schema must be an object or a boolean");
    }

    for (kw = s->first; kw; kw = kw->next) {

        for (i = 0; i < NGX_HTTP_MCP_KW_UNKNOWN; i++) {
            if (kw->key.len == ngx_http_mcp_schema_kw_names[i].len
                && ngx_strncmp(kw->key.data,
                               ngx_http_mcp_schema_kw_names[i].data,
                               kw->key.len) == 0)
            {
                break;
            }
        }

        t = kw->type;
        rc = NGX_OK;

        switch (i) {

        case NGX_HTTP_MCP_KW_TYPE:
            if (ngx_http_mcp_schema_check_type(kw) != NGX_OK) {
                return ngx_http_mcp_schema_check_fail(ctx, kw,
                                  "\"type\" must be one of null, boolean, "
                                  "object, array, number, string, integer, "
                                  "or an array of distinct ones");
            }

            break;

        case NGX_HTTP_MCP_KW_PROPERTIES:
        case NGX_HTTP_MCP_KW_DEFS:
        case NGX_HTTP_MCP_KW_DEFINITIONS:
            rc = ngx_http_mcp_schema_check_map(ctx, kw, 0);
            break;

        case NGX_HTTP_MCP_KW_PATTERN_PROPERTIES:
            rc = ngx_http_mcp_schema_check_map(ctx, kw, 1);
            break;

        case NGX_HTTP_MCP_KW_REQUIRED:
            if (t != NGX_HTTP_MCP_JSON_ARRAY) {
                goto not_strings;
            }

            for (target = kw->first; target; target = target->next) {
                if (target->type != NGX_HTTP_MCP_JSON_STRING) {
                    goto not_strings;
                }
            }

            break;

        not_strings:
            return ngx_http_mcp_schema_check_fail(ctx, kw,
                                    "\"required\" must be an array of strings");

        case NGX_HTTP_MCP_KW_ENUM:
            if (t != NGX_HTTP_MCP_JSON_ARRAY) {
                return ngx_http_mcp_schema_check_fail(ctx, kw,
                                                "\"enum\" must be an array");
            }

            break;

        case NGX_HTTP_MCP_KW_MINIMUM:
        case NGX_HTTP_MCP_KW_MAXIMUM:
        case NGX_HTTP_MCP_KW_EXCLUSIVE_MINIMUM:
        case NGX_HTTP_MCP_KW_EXCLUSIVE_MAXIMUM:
            if (t != NGX_HTTP_MCP_JSON_INTEGER
                && t != NGX_HTTP_MCP_JSON_NUMBER)
            {
                return ngx_http_mcp_schema_check_fail(ctx, kw,
                                                "\"%V\" must be a number",
                                                &kw->key);
            }

            break;

        case NGX_HTTP_MCP_KW_MULTIPLE_OF:
            if ((t != NGX_HTTP_MCP_JSON_INTEGER
                 && t != NGX_HTTP_MCP_JSON_NUMBER)
                || !(kw->number > 0) || isinf(kw->number))
            {
                return ngx_http_mcp_schema_check_fail(ctx, kw,
                            "\"multipleOf\" must be a number greater than 0");
            }

            break;

        case NGX_HTTP_MCP_KW_MIN_LENGTH:
        case NGX_HTTP_MCP_KW_MAX_LENGTH:
        case NGX_HTTP_MCP_KW_MIN_ITEMS:
        case NGX_HTTP_MCP_KW_MAX_ITEMS:
        case NGX_HTTP_MCP_KW_MIN_PROPERTIES:
        case NGX_HTTP_MCP_KW_MAX_PROPERTIES:
            if (t != NGX_HTTP_MCP_JSON_INTEGER || kw->integer < 0) {
                return ngx_http_mcp_schema_check_fail(ctx, kw,
                                    "\"%V\" must be a non-negative integer",
                                    &kw->key);
            }

            break;

        case NGX_HTTP_MCP_KW_UNIQUE_ITEMS:
            if (t != NGX_HTTP_MCP_JSON_TRUE && t != NGX_HTTP_MCP_JSON_FALSE) {
                return ngx_http_mcp_schema_check_fail(ctx, kw,
                                         "\"uniqueItems\" must be a boolean");
            }

            break;

        case NGX_HTTP_MCP_KW_ITEMS:
        case NGX_HTTP_MCP_KW_ADDITIONAL_PROPERTIES:
        case NGX_HTTP_MCP_KW_NOT:
        case NGX_HTTP_MCP_KW_IF:
        case NGX_HTTP_MCP_KW_THEN:
        case NGX_HTTP_MCP_KW_ELSE:
            rc = ngx_http_mcp_schema_check_node(ctx, kw);
            break;

        case NGX_HTTP_MCP_KW_PREFIX_ITEMS:
        case NGX_HTTP_MCP_KW_ALL_OF:
        case NGX_HTTP_MCP_KW_ANY_OF:
        case NGX_HTTP_MCP_KW_ONE_OF:
            rc = ngx_http_mcp_schema_check_list(ctx, kw);
            break;

        case NGX_HTTP_MCP_KW_PATTERN:
            if (t != NGX_HTTP_MCP_JSON_STRING) {
                return ngx_http_mcp_schema_check_fail(ctx, kw,
                                              "\"pattern\" must be a string");
            }

            if (ngx_http_mcp_schema_regex(ctx, kw, &kw->str, &reason)
                == NULL)
            {
                if (ctx->nomem) {
                    return NGX_ERROR;
                }

                return ngx_http_mcp_schema_check_fail(ctx, kw,
                                              "\"pattern\" is invalid: %V",
                                              &reason);
            }

            break;

        case NGX_HTTP_MCP_KW_ANCHOR:
            if (t != NGX_HTTP_MCP_JSON_STRING || kw->str.len == 0) {
                return ngx_http_mcp_schema_check_fail(ctx, kw,
                                   "\"$anchor\" must be a non-empty string");
            }

            break;

        case NGX_HTTP_MCP_KW_REF:
            if (t != NGX_HTTP_MCP_JSON_STRING) {
                return ngx_http_mcp_schema_check_fail(ctx, kw,
                                                 "\"$ref\" must be a string");
            }

            if (kw->str.len == 0 || kw->str.data[0] != '#') {
                return ngx_http_mcp_schema_check_fail(ctx, kw,
                          "\"$ref\" %V is not local (only \"#...\" "
                          "references are supported)",
                          ngx_http_mcp_schema_quote(ctx, &kw->str));
            }

            target = ngx_http_mcp_schema_resolve(ctx, kw);

            if (ctx->nomem) {
                return NGX_ERROR;
            }

            if (target == NULL) {
                return ngx_http_mcp_schema_check_fail(ctx, kw,
                                      "\"$ref\" %V does not resolve",
                                      ngx_http_mcp_schema_quote(ctx,
                                                                &kw->str));
            }

            if (target->type != NGX_HTTP_MCP_JSON_OBJECT
                && target->type != NGX_HTTP_MCP_JSON_TRUE
                && target->type != NGX_HTTP_MCP_JSON_FALSE)
            {
                return ngx_http_mcp_schema_check_fail(ctx, kw,
                                      "\"$ref\" %V does not point to a schema",
                                      ngx_http_mcp_schema_quote(ctx,
                                                                &kw->str));
            }

            rc = ngx_http_mcp_schema_check_loop(ctx, s, target);

            if (rc == NGX_DECLINED) {
                return ngx_http_mcp_schema_check_fail(ctx, kw,
                                      "\"$ref\" %V loops back to its own "
                                      "schema without descending into the "
                                      "value",
                                      ngx_http_mcp_schema_quote(ctx,
                                                                &kw->str));
            }

            break;

        default:
            /* const, and keywords we do not know: anything goes */
            break;
        }

        if (rc != NGX_OK) {
            return rc;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_schema_check_list(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *kw)
{
    ngx_int_t             rc;
    ngx_http_mcp_json_t  *s;

    if (kw->type != NGX_HTTP_MCP_JSON_ARRAY || kw->nelts == 0) {
        return ngx_http_mcp_schema_check_fail(ctx, kw,
                                        "\"%V\" must be a non-empty array of "
                                        "schemas", &kw->key);
    }

    for (s = kw->first; s; s = s->next) {
        rc = ngx_http_mcp_schema_check_node(ctx, s);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_schema_check_map(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *kw, ngx_uint_t patterns)
{
    ngx_int_t             rc;
    ngx_str_t             reason;
    ngx_http_mcp_json_t  *s;

    if (kw->type != NGX_HTTP_MCP_JSON_OBJECT) {
        return ngx_http_mcp_schema_check_fail(ctx, kw,
                                      "\"%V\" must be an object of schemas",
                                      &kw->key);
    }

    for (s = kw->first; s; s = s->next) {

        if (patterns
            && ngx_http_mcp_schema_regex(ctx, s, &s->key, &reason) == NULL)
        {
            if (ctx->nomem) {
                return NGX_ERROR;
            }

            return ngx_http_mcp_schema_check_fail(ctx, s,
                                            "invalid pattern: %V", &reason);
        }

        rc = ngx_http_mcp_schema_check_node(ctx, s);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_schema_check_type(ngx_http_mcp_json_t *kw)
{
    ngx_uint_t            i, seen;
    ngx_http_mcp_json_t  *t, *list;

    if (kw->type == NGX_HTTP_MCP_JSON_STRING) {
        list = kw;

    } else if (kw->type == NGX_HTTP_MCP_JSON_ARRAY && kw->nelts) {
        list = kw->first;

    } else {
        return NGX_DECLINED;
    }

    seen = 0;

    for (t = list; t; t = (list == kw) ? NULL : t->next) {

        if (t->type != NGX_HTTP_MCP_JSON_STRING) {
            return NGX_DECLINED;
        }

        for (i = 0; ngx_http_mcp_schema_types[i].len; i++) {
            if (t->str.len == ngx_http_mcp_schema_types[i].len
                && ngx_strncmp(t->str.data, ngx_http_mcp_schema_types[i].data,
                               t->str.len) == 0)
            {
                break;
            }
        }

        if (ngx_http_mcp_schema_types[i].len == 0 || (seen & (1 << i))) {
            return NGX_DECLINED;
        }

        seen |= 1 << i;
    }

    return NGX_OK;
}


/*
 * A $ref in schema `home` loops when its target applies `home` again to
 * the same value: through $ref, allOf, anyOf, oneOf, not, if, then, else
 * (properties and items descend, so they end recursion).  NGX_DECLINED
 * for a loop.
 */

static ngx_int_t
ngx_http_mcp_schema_check_loop(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *home, ngx_http_mcp_json_t *target)
{
    ngx_array_t  seen;

    if (ngx_array_init(&seen, ctx->pool, 16, sizeof(ngx_http_mcp_json_t *))
        != NGX_OK)
    {
        ctx->nomem = 1;
        return NGX_ERROR;
    }

    return ngx_http_mcp_schema_reaches(ctx, target, home, &seen);
}


static ngx_int_t
ngx_http_mcp_schema_reaches(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *from, ngx_http_mcp_json_t *home, ngx_array_t *seen)
{
    ngx_int_t                   rc;
    ngx_uint_t                  i;
    ngx_http_mcp_json_t        *kw, *next, **p;
    ngx_http_mcp_schema_kws_t   k;

    static ngx_uint_t  inplace[] = {
        NGX_HTTP_MCP_KW_ALL_OF, NGX_HTTP_MCP_KW_ANY_OF, NGX_HTTP_MCP_KW_ONE_OF,
        NGX_HTTP_MCP_KW_NOT, NGX_HTTP_MCP_KW_IF, NGX_HTTP_MCP_KW_THEN,
        NGX_HTTP_MCP_KW_ELSE
    };

    if (from == home) {
        return NGX_DECLINED;
    }

    if (from->type != NGX_HTTP_MCP_JSON_OBJECT) {
        return NGX_OK;
    }

    p = seen->elts;

    for (i = 0; i < seen->nelts; i++) {
        if (p[i] == from) {
            return NGX_OK;
        }
    }

    if (seen->nelts >= 10000) {
        /* too big to prove anything: validation bounds the work anyway */
        return NGX_OK;
    }

    p = ngx_array_push(seen);
    if (p == NULL) {
        ctx->nomem = 1;
        return NGX_ERROR;
    }

    *p = from;

    ngx_http_mcp_schema_keywords(from, &k);

    kw = k.kw[NGX_HTTP_MCP_KW_REF];

    if (kw && kw->type == NGX_HTTP_MCP_JSON_STRING) {
        next = ngx_http_mcp_schema_resolve(ctx, kw);

        if (next) {
            rc = ngx_http_mcp_schema_reaches(ctx, next, home, seen);
            if (rc != NGX_OK) {
                return rc;
            }
        }
    }

    for (i = 0; i < sizeof(inplace) / sizeof(inplace[0]); i++) {
        kw = k.kw[inplace[i]];

        if (kw == NULL) {
            continue;
        }

        if (kw->type != NGX_HTTP_MCP_JSON_ARRAY) {
            rc = ngx_http_mcp_schema_reaches(ctx, kw, home, seen);
            if (rc != NGX_OK) {
                return rc;
            }

            continue;
        }

        for (next = kw->first; next; next = next->next) {
            rc = ngx_http_mcp_schema_reaches(ctx, next, home, seen);
            if (rc != NGX_OK) {
                return rc;
            }
        }
    }

    return ctx->nomem ? NGX_ERROR : NGX_OK;
}


static ngx_int_t
ngx_http_mcp_schema_check_fail(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *at, const char *fmt, ...)
{
    ngx_int_t  rc;
    va_list    args;

    va_start(args, fmt);
    rc = ngx_http_mcp_schema_error(ctx, ctx->root, at, 0, fmt, args);
    va_end(args);

    return rc;
}


ngx_int_t
ngx_http_mcp_schema_validate(ngx_pool_t *pool, ngx_http_mcp_json_t *schema,
    ngx_http_mcp_json_t *value, ngx_str_t *err)
{
    ngx_int_t                   rc;
    ngx_http_mcp_json_t         empty;
    ngx_http_mcp_schema_ctx_t   ctx;

    ngx_str_null(err);

    if (schema == NULL) {
        return NGX_OK;
    }

    if (value == NULL) {
        /* absent arguments are validated as {} */
        ngx_memzero(&empty, sizeof(ngx_http_mcp_json_t));
        empty.type = NGX_HTTP_MCP_JSON_OBJECT;
        value = &empty;
    }

    ngx_memzero(&ctx, sizeof(ngx_http_mcp_schema_ctx_t));

    ctx.pool = pool;
    ctx.root = schema;
    ctx.top = value;
    ctx.err = err;

    if (ngx_array_init(&ctx.cache, pool, 4,
                       sizeof(ngx_http_mcp_schema_cache_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_mcp_schema_apply(&ctx, schema, value);

    if (ctx.nomem) {
        return NGX_ERROR;
    }

    if (ctx.abort) {
        return NGX_DECLINED;
    }

    if (rc == NGX_DECLINED && err->len == 0) {
        ngx_str_set(err, "invalid");
    }

    return rc;
}


/*
 * NGX_OK: valid; NGX_DECLINED: invalid (*err set unless quiet);
 * NGX_ERROR: out of memory or out of budget, stop everything.
 */

static ngx_int_t
ngx_http_mcp_schema_apply(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *s, ngx_http_mcp_json_t *v)
{
    u_char                     *p;
    ngx_int_t                   rc;
    ngx_http_mcp_json_t        *kw, *t;
    ngx_http_mcp_schema_kws_t   k;
    u_char                      names[96];

    if (++ctx->steps > NGX_HTTP_MCP_SCHEMA_MAX_STEPS) {
        if (!ctx->abort) {
            ctx->abort = 1;
            ngx_str_set(ctx->err, "arguments too complex to validate "
                                  "(more than 100000 steps)");
        }

        return NGX_ERROR;
    }

    if (s->type == NGX_HTTP_MCP_JSON_FALSE) {
        return ngx_http_mcp_schema_fail(ctx, v, "value not allowed here");
    }

    if (s->type != NGX_HTTP_MCP_JSON_OBJECT) {
        return NGX_OK;
    }

    ngx_http_mcp_schema_keywords(s, &k);

    kw = k.kw[NGX_HTTP_MCP_KW_REF];

    if (kw) {
        rc = ngx_http_mcp_schema_ref(ctx, kw, v);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    kw = k.kw[NGX_HTTP_MCP_KW_TYPE];

    if (kw && !ngx_http_mcp_schema_has_type(kw, v)) {

        /* "expected string, integer or null, got object" */

        p = names;

        if (kw->type == NGX_HTTP_MCP_JSON_ARRAY) {
            for (t = kw->first; t; t = t->next) {
                if (t != kw->first) {
                    p = ngx_slprintf(p, names + sizeof(names), "%s",
                                     t->next ? ", " : " or ");
                }

                p = ngx_slprintf(p, names + sizeof(names), "%V", &t->str);
            }

        } else {
            p = ngx_slprintf(p, names + sizeof(names), "%V", &kw->str);
        }

        return ngx_http_mcp_schema_fail(ctx, v, "expected %*s, got %s",
                                        (size_t) (p - names), names,
                                        ngx_http_mcp_schema_type_name(v));
    }

    kw = k.kw[NGX_HTTP_MCP_KW_ENUM];

    if (kw && kw->type == NGX_HTTP_MCP_JSON_ARRAY) {

        ctx->steps += kw->nelts;

        for (kw = kw->first; kw; kw = kw->next) {
            if (ngx_http_mcp_json_equal(kw, v)) {
                break;
            }
        }

        if (kw == NULL) {
            return ngx_http_mcp_schema_fail(ctx, v,
                                            "not one of the allowed values");
        }
    }

    kw = k.kw[NGX_HTTP_MCP_KW_CONST];

    if (kw && !ngx_http_mcp_json_equal(kw, v)) {
        return ngx_http_mcp_schema_fail(ctx, v,
                                        "not equal to the \"const\" value");
    }

    switch (v->type) {

    case NGX_HTTP_MCP_JSON_OBJECT:
        rc = ngx_http_mcp_schema_object(ctx, &k, v);
        break;

    case NGX_HTTP_MCP_JSON_ARRAY:
        rc = ngx_http_mcp_schema_array(ctx, &k, v);
        break;

    case NGX_HTTP_MCP_JSON_INTEGER:
    case NGX_HTTP_MCP_JSON_NUMBER:
        rc = ngx_http_mcp_schema_number(ctx, &k, v);
        break;

    case NGX_HTTP_MCP_JSON_STRING:
        rc = ngx_http_mcp_schema_string(ctx, &k, v);
        break;

    default:
        rc = NGX_OK;
    }

    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_mcp_schema_logic(ctx, &k, v);
}


static ngx_int_t
ngx_http_mcp_schema_ref(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *kw, ngx_http_mcp_json_t *v)
{
    ngx_int_t             rc;
    ngx_http_mcp_json_t  *target;

    if (kw->type != NGX_HTTP_MCP_JSON_STRING) {
        return NGX_OK;
    }

    target = ngx_http_mcp_schema_cached(ctx, kw);

    if (target == NULL) {
        target = ngx_http_mcp_schema_resolve(ctx, kw);

        if (target == NULL) {
            if (ctx->nomem || ctx->abort) {
                return NGX_ERROR;
            }

            /* ngx_http_mcp_schema_check() refuses this */
            return ngx_http_mcp_schema_fail(ctx, v, "schema $ref %V "
                                            "does not resolve", &kw->str);
        }

        if (ngx_http_mcp_schema_remember(ctx, kw, target) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (ctx->refs >= NGX_HTTP_MCP_SCHEMA_MAX_REFS) {
        ctx->abort = 1;
        ngx_str_set(ctx->err, "schema $ref nesting deeper than 128");
        return NGX_ERROR;
    }

    ctx->refs++;
    rc = ngx_http_mcp_schema_apply(ctx, target, v);
    ctx->refs--;

    return rc;
}


static ngx_int_t
ngx_http_mcp_schema_object(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_schema_kws_t *k, ngx_http_mcp_json_t *v)
{
    ngx_int_t             rc;
    ngx_uint_t            matched;
    ngx_http_mcp_json_t  *kw, *props, *pprops, *addl, *m, *s;

    kw = k->kw[NGX_HTTP_MCP_KW_REQUIRED];

    if (kw && kw->type == NGX_HTTP_MCP_JSON_ARRAY) {

        for (s = kw->first; s; s = s->next) {
            if (s->type == NGX_HTTP_MCP_JSON_STRING
                && ngx_http_mcp_json_get(v, s->str.data, s->str.len) == NULL)
            {
                if (ctx->quiet) {
                    return NGX_DECLINED;
                }

                return ngx_http_mcp_schema_fail(ctx, v,
                                        "missing required property %V",
                                        ngx_http_mcp_schema_quote(ctx,
                                                                  &s->str));
            }
        }
    }

    kw = k->kw[NGX_HTTP_MCP_KW_MIN_PROPERTIES];

    if (kw && kw->type == NGX_HTTP_MCP_JSON_INTEGER
        && (int64_t) v->nelts < kw->integer)
    {
        return ngx_http_mcp_schema_fail(ctx, v, "fewer than %L propert%s",
                                        kw->integer,
                                        kw->integer == 1 ? "y" : "ies");
    }

    kw = k->kw[NGX_HTTP_MCP_KW_MAX_PROPERTIES];

    if (kw && kw->type == NGX_HTTP_MCP_JSON_INTEGER
        && (int64_t) v->nelts > kw->integer)
    {
        return ngx_http_mcp_schema_fail(ctx, v, "more than %L propert%s",
                                        kw->integer,
                                        kw->integer == 1 ? "y" : "ies");
    }

    props = k->kw[NGX_HTTP_MCP_KW_PROPERTIES];
    pprops = k->kw[NGX_HTTP_MCP_KW_PATTERN_PROPERTIES];
    addl = k->kw[NGX_HTTP_MCP_KW_ADDITIONAL_PROPERTIES];

    if (props && props->type != NGX_HTTP_MCP_JSON_OBJECT) {
        props = NULL;
    }

    if (pprops && pprops->type != NGX_HTTP_MCP_JSON_OBJECT) {
        pprops = NULL;
    }

    if (props == NULL && pprops == NULL && addl == NULL) {
        return NGX_OK;
    }

    for (m = v->first; m; m = m->next) {

        matched = 0;

        s = ngx_http_mcp_json_get(props, m->key.data, m->key.len);

        if (s) {
            matched = 1;

            rc = ngx_http_mcp_schema_apply(ctx, s, m);
            if (rc != NGX_OK) {
                return rc;
            }
        }

        if (pprops) {
            for (s = pprops->first; s; s = s->next) {

                rc = ngx_http_mcp_schema_match(ctx, s, &s->key, &m->key);

                if (rc == NGX_DECLINED) {
                    continue;
                }

                if (rc != NGX_OK) {
                    return NGX_ERROR;
                }

                matched = 1;

                rc = ngx_http_mcp_schema_apply(ctx, s, m);
                if (rc != NGX_OK) {
                    return rc;
                }
            }
        }

        if (matched || addl == NULL) {
            continue;
        }

        if (addl->type == NGX_HTTP_MCP_JSON_FALSE) {
            return ngx_http_mcp_schema_fail(ctx, m,
                                        "additional property not allowed");
        }

        rc = ngx_http_mcp_schema_apply(ctx, addl, m);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_schema_array(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_schema_kws_t *k, ngx_http_mcp_json_t *v)
{
    ngx_int_t             rc;
    ngx_uint_t            i, j;
    ngx_http_mcp_json_t  *kw, *items, *s, *e, *f;

    kw = k->kw[NGX_HTTP_MCP_KW_MIN_ITEMS];

    if (kw && kw->type == NGX_HTTP_MCP_JSON_INTEGER
        && (int64_t) v->nelts < kw->integer)
    {
        return ngx_http_mcp_schema_fail(ctx, v, "fewer than %L item%s",
                                        kw->integer,
                                        kw->integer == 1 ? "" : "s");
    }

    kw = k->kw[NGX_HTTP_MCP_KW_MAX_ITEMS];

    if (kw && kw->type == NGX_HTTP_MCP_JSON_INTEGER
        && (int64_t) v->nelts > kw->integer)
    {
        return ngx_http_mcp_schema_fail(ctx, v, "more than %L item%s",
                                        kw->integer,
                                        kw->integer == 1 ? "" : "s");
    }

    kw = k->kw[NGX_HTTP_MCP_KW_PREFIX_ITEMS];
    items = k->kw[NGX_HTTP_MCP_KW_ITEMS];

    s = (kw && kw->type == NGX_HTTP_MCP_JSON_ARRAY) ? kw->first : NULL;

    for (e = v->first; e; e = e->next) {

        if (s) {
            rc = ngx_http_mcp_schema_apply(ctx, s, e);
            s = s->next;

        } else if (items && items->type == NGX_HTTP_MCP_JSON_FALSE) {
            return ngx_http_mcp_schema_fail(ctx, e,
                                            "additional item not allowed");

        } else if (items) {
            rc = ngx_http_mcp_schema_apply(ctx, items, e);

        } else {
            break;
        }

        if (rc != NGX_OK) {
            return rc;
        }
    }

    kw = k->kw[NGX_HTTP_MCP_KW_UNIQUE_ITEMS];

    if (kw && kw->type == NGX_HTTP_MCP_JSON_TRUE) {

        for (e = v->first, i = 0; e; e = e->next, i++) {
            for (f = e->next, j = i + 1; f; f = f->next, j++) {

                if (++ctx->steps > NGX_HTTP_MCP_SCHEMA_MAX_STEPS) {
                    ctx->abort = 1;
                    ngx_str_set(ctx->err, "arguments too complex to validate "
                                          "(uniqueItems over too many items)");
                    return NGX_ERROR;
                }

                if (ngx_http_mcp_json_equal(e, f)) {
                    return ngx_http_mcp_schema_fail(ctx, v,
                                            "items are not unique (%ui and "
                                            "%ui are equal)", i, j);
                }
            }
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_schema_number(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_schema_kws_t *k, ngx_http_mcp_json_t *v)
{
    double                q;
    ngx_http_mcp_json_t  *kw;

    kw = k->kw[NGX_HTTP_MCP_KW_MINIMUM];

    if (kw && ngx_http_mcp_schema_compare(v, kw) < 0) {
        return ngx_http_mcp_schema_fail(ctx, v, "less than the minimum %V",
                                        &kw->str);
    }

    kw = k->kw[NGX_HTTP_MCP_KW_MAXIMUM];

    if (kw && ngx_http_mcp_schema_compare(v, kw) > 0) {
        return ngx_http_mcp_schema_fail(ctx, v, "greater than the maximum %V",
                                        &kw->str);
    }

    kw = k->kw[NGX_HTTP_MCP_KW_EXCLUSIVE_MINIMUM];

    if (kw && ngx_http_mcp_schema_compare(v, kw) <= 0) {
        return ngx_http_mcp_schema_fail(ctx, v, "must be greater than %V "
                                        "(exclusiveMinimum)", &kw->str);
    }

    kw = k->kw[NGX_HTTP_MCP_KW_EXCLUSIVE_MAXIMUM];

    if (kw && ngx_http_mcp_schema_compare(v, kw) >= 0) {
        return ngx_http_mcp_schema_fail(ctx, v, "must be less than %V "
                                        "(exclusiveMaximum)", &kw->str);
    }

    kw = k->kw[NGX_HTTP_MCP_KW_MULTIPLE_OF];

    if (kw == NULL) {
        return NGX_OK;
    }

    if (v->type == NGX_HTTP_MCP_JSON_INTEGER
        && kw->type == NGX_HTTP_MCP_JSON_INTEGER && kw->integer > 0)
    {
        if (v->integer % kw->integer == 0) {
            return NGX_OK;
        }

    } else if (kw->type == NGX_HTTP_MCP_JSON_INTEGER
               || kw->type == NGX_HTTP_MCP_JSON_NUMBER)
    {
        q = v->number / kw->number;

        if (ngx_http_mcp_schema_integral(q, 1e-9)) {
            return NGX_OK;
        }

    } else {
        return NGX_OK;
    }

    return ngx_http_mcp_schema_fail(ctx, v, "not a multiple of %V",
                                    &kw->str);
}


static ngx_int_t
ngx_http_mcp_schema_string(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_schema_kws_t *k, ngx_http_mcp_json_t *v)
{
    size_t                n;
    ngx_int_t             rc;
    ngx_http_mcp_json_t  *kw, *min, *max;

    min = k->kw[NGX_HTTP_MCP_KW_MIN_LENGTH];
    max = k->kw[NGX_HTTP_MCP_KW_MAX_LENGTH];

    if ((min && min->type == NGX_HTTP_MCP_JSON_INTEGER)
        || (max && max->type == NGX_HTTP_MCP_JSON_INTEGER))
    {
        n = ngx_http_mcp_schema_chars(&v->str);

        if (min && min->type == NGX_HTTP_MCP_JSON_INTEGER
            && (int64_t) n < min->integer)
        {
            return ngx_http_mcp_schema_fail(ctx, v,
                                            "shorter than %L character%s",
                                            min->integer,
                                            min->integer == 1 ? "" : "s");
        }

        if (max && max->type == NGX_HTTP_MCP_JSON_INTEGER
            && (int64_t) n > max->integer)
        {
            return ngx_http_mcp_schema_fail(ctx, v,
                                            "longer than %L character%s",
                                            max->integer,
                                            max->integer == 1 ? "" : "s");
        }
    }

    kw = k->kw[NGX_HTTP_MCP_KW_PATTERN];

    if (kw == NULL || kw->type != NGX_HTTP_MCP_JSON_STRING) {
        return NGX_OK;
    }

    rc = ngx_http_mcp_schema_match(ctx, kw, &kw->str, &v->str);

    if (rc == NGX_DECLINED) {
        if (ctx->quiet) {
            return NGX_DECLINED;
        }

        return ngx_http_mcp_schema_fail(ctx, v,
                                        "does not match the pattern %V",
                                        ngx_http_mcp_schema_quote(ctx,
                                                                  &kw->str));
    }

    return rc;
}


static ngx_int_t
ngx_http_mcp_schema_logic(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_schema_kws_t *k, ngx_http_mcp_json_t *v)
{
    ngx_int_t             rc;
    ngx_uint_t            n;
    ngx_http_mcp_json_t  *kw, *s;

    kw = k->kw[NGX_HTTP_MCP_KW_ALL_OF];

    if (kw && kw->type == NGX_HTTP_MCP_JSON_ARRAY) {
        for (s = kw->first; s; s = s->next) {
            rc = ngx_http_mcp_schema_apply(ctx, s, v);
            if (rc != NGX_OK) {
                return rc;
            }
        }
    }

    kw = k->kw[NGX_HTTP_MCP_KW_ANY_OF];

    if (kw && kw->type == NGX_HTTP_MCP_JSON_ARRAY) {

        for (s = kw->first; s; s = s->next) {
            rc = ngx_http_mcp_schema_quietly(ctx, s, v);

            if (rc == NGX_OK) {
                break;
            }

            if (rc == NGX_ERROR) {
                return rc;
            }
        }

        if (s == NULL) {
            return ngx_http_mcp_schema_fail(ctx, v,
                                    "does not match any schema in \"anyOf\"");
        }
    }

    kw = k->kw[NGX_HTTP_MCP_KW_ONE_OF];

    if (kw && kw->type == NGX_HTTP_MCP_JSON_ARRAY) {

        n = 0;

        for (s = kw->first; s; s = s->next) {
            rc = ngx_http_mcp_schema_quietly(ctx, s, v);

            if (rc == NGX_ERROR) {
                return rc;
            }

            n += (rc == NGX_OK);
        }

        if (n == 0) {
            return ngx_http_mcp_schema_fail(ctx, v,
                                    "does not match any schema in \"oneOf\"");
        }

        if (n > 1) {
            return ngx_http_mcp_schema_fail(ctx, v,
                                    "matches %ui schemas in \"oneOf\", "
                                    "exactly one expected", n);
        }
    }

    kw = k->kw[NGX_HTTP_MCP_KW_NOT];

    if (kw) {
        rc = ngx_http_mcp_schema_quietly(ctx, kw, v);

        if (rc == NGX_ERROR) {
            return rc;
        }

        if (rc == NGX_OK) {
            return ngx_http_mcp_schema_fail(ctx, v,
                                   "must not match the schema in \"not\"");
        }
    }

    kw = k->kw[NGX_HTTP_MCP_KW_IF];

    if (kw) {
        rc = ngx_http_mcp_schema_quietly(ctx, kw, v);

        if (rc == NGX_ERROR) {
            return rc;
        }

        s = k->kw[rc == NGX_OK ? NGX_HTTP_MCP_KW_THEN : NGX_HTTP_MCP_KW_ELSE];

        if (s) {
            return ngx_http_mcp_schema_apply(ctx, s, v);
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_schema_quietly(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *s, ngx_http_mcp_json_t *v)
{
    ngx_int_t  rc;

    ctx->quiet++;
    rc = ngx_http_mcp_schema_apply(ctx, s, v);
    ctx->quiet--;

    return rc;
}


static void
ngx_http_mcp_schema_keywords(ngx_http_mcp_json_t *s,
    ngx_http_mcp_schema_kws_t *k)
{
    ngx_uint_t            i;
    ngx_http_mcp_json_t  *m;

    ngx_memzero(k, sizeof(ngx_http_mcp_schema_kws_t));

    for (m = s->first; m; m = m->next) {
        for (i = 0; i < NGX_HTTP_MCP_KW_UNKNOWN; i++) {
            if (m->key.len == ngx_http_mcp_schema_kw_names[i].len
                && ngx_strncmp(m->key.data,
                               ngx_http_mcp_schema_kw_names[i].data,
                               m->key.len) == 0)
            {
                k->kw[i] = m;
                break;
            }
        }
    }
}


static ngx_uint_t
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


static ngx_uint_t
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


static const char *
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

static ngx_int_t
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

static ngx_int_t
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


/* ECMA-262 patterns are unanchored and work on characters: (*UTF) */

static ngx_regex_t *
ngx_http_mcp_schema_regex(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *node, ngx_str_t *pattern, ngx_str_t *reason)
{
    u_char               *p;
    size_t                n;
    ngx_regex_compile_t   rc;
    u_char                errstr[NGX_MAX_CONF_ERRSTR];

    ngx_str_set(reason, "");

    p = ngx_pnalloc(ctx->pool, sizeof("(*UTF)") - 1 + pattern->len + 1);
    if (p == NULL) {
        ctx->nomem = 1;
        return NULL;
    }

    ngx_memzero(&rc, sizeof(ngx_regex_compile_t));

    rc.pattern.data = p;
    rc.pattern.len = ngx_sprintf(p, "(*UTF)%V", pattern) - p;
    p[rc.pattern.len] = '\0';

    rc.pool = ctx->pool;
    rc.err.len = NGX_MAX_CONF_ERRSTR;
    rc.err.data = errstr;

    if (ngx_regex_compile(&rc) != NGX_OK) {
        reason->data = ngx_pnalloc(ctx->pool, rc.err.len);
        if (reason->data == NULL) {
            ctx->nomem = 1;
            return NULL;
        }

        /* the message quotes the pattern: hide our "(*UTF)" */

        p = ngx_strlcasestrn(rc.err.data, rc.err.data + rc.err.len,
                             (u_char *) "(*UTF)", 6 - 1);

        if (p) {
            n = p - rc.err.data;
            ngx_memcpy(reason->data, rc.err.data, n);
            ngx_memcpy(reason->data + n, p + 6, rc.err.len - n - 6);
            reason->len = rc.err.len - 6;

        } else {
            ngx_memcpy(reason->data, rc.err.data, rc.err.len);
            reason->len = rc.err.len;
        }

        return NULL;
    }

    return rc.regex;
}


static ngx_http_mcp_json_t *
ngx_http_mcp_schema_resolve(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *ref)
{
    ngx_str_t   name;
    u_char     *p, *last;

    p = ref->str.data;
    last = p + ref->str.len;

    if (p == last || *p != '#') {
        return NULL;
    }

    p++;

    if (p == last) {
        return ctx->root;
    }

    if (*p == '/') {
        return ngx_http_mcp_schema_pointer(ctx, p, last);
    }

    name.data = p;
    name.len = last - p;

    return ngx_http_mcp_schema_anchor(ctx, ctx->root, &name);
}


/* RFC 6901 in a URI fragment: "/a~1b/0", with %XX decoded */

static ngx_http_mcp_json_t *
ngx_http_mcp_schema_pointer(ngx_http_mcp_schema_ctx_t *ctx, u_char *p,
    u_char *last)
{
    u_char               *seg, *q, c, *end;
    size_t                len;
    ngx_int_t             n, i;
    ngx_http_mcp_json_t  *cur;

    seg = ngx_pnalloc(ctx->pool, last - p);
    if (seg == NULL) {
        ctx->nomem = 1;
        return NULL;
    }

    cur = ctx->root;

    while (p < last) {

        p++;                            /* '/' */

        for (q = seg; p < last && *p != '/'; p++) {
            c = *p;

            if (c == '%' && last - p >= 3) {
                n = ngx_hextoi(p + 1, 2);
                if (n == NGX_ERROR) {
                    return NULL;
                }

                c = (u_char) n;
                p += 2;

            } else if (c == '~') {
                if (p + 1 == last || (p[1] != '0' && p[1] != '1')) {
                    return NULL;
                }

                c = (p[1] == '0') ? '~' : '/';
                p++;
            }

            *q++ = c;
        }

        len = q - seg;
        end = q;

        if (cur->type == NGX_HTTP_MCP_JSON_OBJECT) {
            cur = ngx_http_mcp_json_get(cur, seg, len);

        } else if (cur->type == NGX_HTTP_MCP_JSON_ARRAY) {

            if (len == 0 || (len > 1 && seg[0] == '0')) {
                return NULL;
            }

            n = ngx_atoi(seg, end - seg);
            if (n == NGX_ERROR || (ngx_uint_t) n >= cur->nelts) {
                return NULL;
            }

            for (i = 0, cur = cur->first; i < n; i++) {
                cur = cur->next;
            }

        } else {
            return NULL;
        }

        if (cur == NULL) {
            return NULL;
        }
    }

    return cur;
}


static ngx_http_mcp_json_t *
ngx_http_mcp_schema_anchor(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *s, ngx_str_t *name)
{
    ngx_http_mcp_json_t  *m, *found;

    ctx->steps++;

    if (s->type == NGX_HTTP_MCP_JSON_OBJECT) {
        m = ngx_http_mcp_json_member(s, "$anchor");

        if (m && m->type == NGX_HTTP_MCP_JSON_STRING
            && m->str.len == name->len
            && ngx_strncmp(m->str.data, name->data, name->len) == 0)
        {
            return s;
        }

    } else if (s->type != NGX_HTTP_MCP_JSON_ARRAY) {
        return NULL;
    }

    for (m = s->first; m; m = m->next) {
        found = ngx_http_mcp_schema_anchor(ctx, m, name);
        if (found) {
            return found;
        }
    }

    return NULL;
}


static void *
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


static ngx_int_t
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


static ngx_int_t
ngx_http_mcp_schema_fail(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *v, const char *fmt, ...)
{
    ngx_int_t  rc;
    va_list    args;

    if (ctx->quiet) {
        return NGX_DECLINED;
    }

    va_start(args, fmt);
    rc = ngx_http_mcp_schema_error(ctx, ctx->top, v, 1, fmt, args);
    va_end(args);

    return rc;
}


/*
 * Validation: "/a/0: message" (no prefix at the top);
 * check: "message at /properties/a" (nothing at the root).
 */

static ngx_int_t
ngx_http_mcp_schema_error(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *top, ngx_http_mcp_json_t *at, ngx_uint_t prefix,
    const char *fmt, va_list args)
{
    u_char             *p;
    ngx_http_mcp_jw_t   jw;
    u_char              msg[NGX_HTTP_MCP_SCHEMA_MSGLEN];

    p = ngx_vslprintf(msg, msg + NGX_HTTP_MCP_SCHEMA_MSGLEN, fmt, args);

    if (ngx_http_mcp_jw_init(&jw, ctx->pool, 128) != NGX_OK) {
        ctx->nomem = 1;
        return NGX_ERROR;
    }

    if (prefix) {
        if (at != top) {
            ngx_http_mcp_schema_path(&jw, top, at);
            ngx_http_mcp_jw_literal(&jw, ": ");
        }

        ngx_http_mcp_jw_raw(&jw, msg, p - msg);

    } else {
        ngx_http_mcp_jw_raw(&jw, msg, p - msg);

        if (at != top) {
            ngx_http_mcp_jw_literal(&jw, " at ");
            ngx_http_mcp_schema_path(&jw, top, at);
        }
    }

    if (ngx_http_mcp_jw_finish(&jw, ctx->err) != NGX_OK) {
        ctx->nomem = 1;
        return NGX_ERROR;
    }

    return NGX_DECLINED;
}


/* a JSON pointer from top to at, following parent links */

static void
ngx_http_mcp_schema_path(ngx_http_mcp_jw_t *jw, ngx_http_mcp_json_t *top,
    ngx_http_mcp_json_t *at)
{
    u_char               *p, *last, *run;
    ngx_uint_t            n, i;
    ngx_http_mcp_json_t  *v, *e, *chain[128];

    n = 0;

    for (v = at; v && v != top && v->parent && n < 128; v = v->parent) {
        chain[n++] = v;
    }

    if (v != top && n == 128) {
        ngx_http_mcp_jw_literal(jw, "/...");
    }

    while (n--) {
        v = chain[n];

        ngx_http_mcp_jw_literal(jw, "/");

        if (v->parent->type == NGX_HTTP_MCP_JSON_ARRAY) {
            for (i = 0, e = v->parent->first; e && e != v; e = e->next) {
                i++;
            }

            ngx_http_mcp_jw_int(jw, i);
            continue;
        }

        p = v->key.data;
        last = p + v->key.len;

        while (p < last) {
            for (run = p; p < last && *p != '~' && *p != '/'; p++) {
                /* void */
            }

            ngx_http_mcp_jw_escaped(jw, run, p - run);

            if (p < last) {
                if (*p == '~') {
                    ngx_http_mcp_jw_literal(jw, "~0");

                } else {
                    ngx_http_mcp_jw_literal(jw, "~1");
                }

                p++;
            }
        }
    }
}


/* a name in JSON quotes and escapes, cut at 64 bytes, for messages */

static ngx_str_t *
ngx_http_mcp_schema_quote(ngx_http_mcp_schema_ctx_t *ctx, ngx_str_t *s)
{
    ngx_str_t          *out;
    ngx_http_mcp_jw_t   jw;

    static ngx_str_t    unknown = ngx_string("(name)");

    out = ngx_palloc(ctx->pool, sizeof(ngx_str_t));
    if (out == NULL) {
        ctx->nomem = 1;
        return &unknown;
    }

    ngx_http_mcp_jw_init(&jw, ctx->pool, s->len + 8);
    ngx_http_mcp_jw_string(&jw, s->data, ngx_min(s->len, 64));

    if (s->len > 64) {
        ngx_http_mcp_jw_literal(&jw, "...");
    }

    if (ngx_http_mcp_jw_finish(&jw, out) != NGX_OK) {
        ctx->nomem = 1;
        return &unknown;
    }

    return out;
}


/* characters (code points) of valid UTF-8 */

static size_t
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

static ngx_uint_t
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
