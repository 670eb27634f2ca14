
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


/*
 * JSON Schema, configuration time: ngx_http_mcp_schema_check(), the
 * well-formedness of a schema at `nginx -t` (what validation shares with it
 * is in ngx_http_mcp_schema_common.c).
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <math.h>                  /* macros only: nginx has no libm */

#include "json/ngx_http_mcp_schema_int.h"


static ngx_int_t ngx_http_mcp_schema_check_node(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *s);
static ngx_int_t ngx_http_mcp_schema_check_value(
    ngx_http_mcp_schema_ctx_t *ctx, ngx_http_mcp_json_t *kw, ngx_uint_t i);
static ngx_int_t ngx_http_mcp_schema_check_ref(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *s, ngx_http_mcp_json_t *kw);
static ngx_int_t ngx_http_mcp_schema_check_pattern(
    ngx_http_mcp_schema_ctx_t *ctx, ngx_http_mcp_json_t *kw);
static ngx_int_t ngx_http_mcp_schema_check_list(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *kw);
static ngx_int_t ngx_http_mcp_schema_check_map(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *kw, ngx_uint_t patterns);
static ngx_int_t ngx_http_mcp_schema_check_type(ngx_http_mcp_json_t *kw);
static ngx_int_t ngx_http_mcp_schema_check_target(
    ngx_http_mcp_schema_ctx_t *ctx, ngx_http_mcp_json_t *target);
static ngx_int_t ngx_http_mcp_schema_check_loop(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *home, ngx_http_mcp_json_t *target);
static ngx_int_t ngx_http_mcp_schema_reaches(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *from, ngx_http_mcp_json_t *home,
    ngx_array_t *seen);
static ngx_int_t ngx_http_mcp_schema_check_fail(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *at, const char *fmt, ...);



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
    ngx_int_t                   rc;
    ngx_uint_t                  i;
    ngx_http_mcp_json_t        *type, **target;
    ngx_http_mcp_schema_ctx_t   ctx;

    ngx_str_null(err);

    if (ngx_http_mcp_schema_init(&ctx, pool, schema, err) != NGX_OK
        || ngx_array_init(&ctx.targets, pool, 4,
                          sizeof(ngx_http_mcp_json_t *))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_rbtree_init(&ctx.seen, &ctx.sentinel, ngx_rbtree_insert_value);

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

    rc = ngx_http_mcp_schema_check_node(&ctx, schema);

    /*
     * Validation follows a $ref wherever it points, also into a place the
     * walk above does not see as a schema (an unknown keyword, a "const"):
     * each target is checked as a schema too, once.  The list may grow.
     */

    for (i = 0; rc == NGX_OK && i < ctx.targets.nelts; i++) {
        target = ctx.targets.elts;
        rc = ngx_http_mcp_schema_check_node(&ctx, target[i]);
    }

    return rc;
}


static ngx_int_t
ngx_http_mcp_schema_check_node(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *s)
{
    ngx_int_t             rc;
    ngx_uint_t            i;
    ngx_http_mcp_json_t  *kw;

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

        i = ngx_http_mcp_schema_keyword(&kw->key);
        rc = NGX_OK;

        switch (i) {

        case NGX_HTTP_MCP_KW_PROPERTIES:
        case NGX_HTTP_MCP_KW_DEFS:
        case NGX_HTTP_MCP_KW_DEFINITIONS:
            rc = ngx_http_mcp_schema_check_map(ctx, kw, 0);
            break;

        case NGX_HTTP_MCP_KW_PATTERN_PROPERTIES:
            rc = ngx_http_mcp_schema_check_map(ctx, kw, 1);
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
            rc = ngx_http_mcp_schema_check_pattern(ctx, kw);
            break;

        case NGX_HTTP_MCP_KW_REF:
            rc = ngx_http_mcp_schema_check_ref(ctx, s, kw);
            break;

        default:
            rc = ngx_http_mcp_schema_check_value(ctx, kw, i);
            break;
        }

        if (rc != NGX_OK) {
            return rc;
        }
    }

    return NGX_OK;
}


/* the keywords whose value is not a schema: its type and range */

static ngx_int_t
ngx_http_mcp_schema_check_value(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *kw, ngx_uint_t i)
{
    ngx_http_mcp_json_t        *target;
    ngx_http_mcp_json_type_e    t;

    t = kw->type;

    switch (i) {

    case NGX_HTTP_MCP_KW_TYPE:
        if (ngx_http_mcp_schema_check_type(kw) != NGX_OK) {
            return ngx_http_mcp_schema_check_fail(ctx, kw,
                              "\"type\" must be one of null, boolean, "
                              "object, array, number, string, integer, "
                              "or an array of distinct ones");
        }

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

    case NGX_HTTP_MCP_KW_ANCHOR:
        if (t != NGX_HTTP_MCP_JSON_STRING || kw->str.len == 0) {
            return ngx_http_mcp_schema_check_fail(ctx, kw,
                               "\"$anchor\" must be a non-empty string");
        }

        break;

    default:
        /* const, and keywords we do not know: anything goes */
        break;
    }

    return NGX_OK;
}


/* "$ref": local, resolving to a schema, not looping back to its own */

static ngx_int_t
ngx_http_mcp_schema_check_ref(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *s, ngx_http_mcp_json_t *kw)
{
    ngx_str_t            *ref;
    ngx_http_mcp_json_t  *target;

    if (kw->type != NGX_HTTP_MCP_JSON_STRING) {
        return ngx_http_mcp_schema_check_fail(ctx, kw,
                                              "\"$ref\" must be a string");
    }

    ref = ngx_http_mcp_schema_quote(ctx, &kw->str);

    if (kw->str.len == 0 || kw->str.data[0] != '#') {
        return ngx_http_mcp_schema_check_fail(ctx, kw,
                                              "\"$ref\" %V is not local "
                                              "(only \"#...\" references "
                                              "are supported)", ref);
    }

    target = ngx_http_mcp_schema_resolve(ctx, kw);

    if (ctx->nomem) {
        return NGX_ERROR;
    }

    if (target == NULL) {
        return ngx_http_mcp_schema_check_fail(ctx, kw,
                                              "\"$ref\" %V does not "
                                              "resolve", ref);
    }

    if (target->type != NGX_HTTP_MCP_JSON_OBJECT
        && target->type != NGX_HTTP_MCP_JSON_TRUE
        && target->type != NGX_HTTP_MCP_JSON_FALSE)
    {
        return ngx_http_mcp_schema_check_fail(ctx, kw,
                                              "\"$ref\" %V does not point "
                                              "to a schema", ref);
    }

    if (ngx_http_mcp_schema_check_target(ctx, target) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_mcp_schema_check_loop(ctx, s, target) == NGX_DECLINED) {
        return ngx_http_mcp_schema_check_fail(ctx, kw,
                                              "\"$ref\" %V loops back to "
                                              "its own schema without "
                                              "descending into the value",
                                              ref);
    }

    return NGX_OK;
}


/* "pattern": a string that compiles as an ECMA-262-like regex */

static ngx_int_t
ngx_http_mcp_schema_check_pattern(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *kw)
{
    ngx_str_t  reason;

    if (kw->type != NGX_HTTP_MCP_JSON_STRING) {
        return ngx_http_mcp_schema_check_fail(ctx, kw,
                                              "\"pattern\" must be a string");
    }

    if (ngx_http_mcp_schema_regex(ctx, kw, &kw->str, &reason) == NULL) {

        if (ctx->nomem) {
            return NGX_ERROR;
        }

        return ngx_http_mcp_schema_check_fail(ctx, kw,
                                              "\"pattern\" is invalid: %V",
                                              &reason);
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

        i = ngx_http_mcp_schema_find(ngx_http_mcp_schema_types, &t->str);

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

/* a $ref target to check after the walk, unless it is listed already */

static ngx_int_t
ngx_http_mcp_schema_check_target(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *target)
{
    ngx_rbtree_key_t       key;
    ngx_rbtree_node_t     *node;
    ngx_http_mcp_json_t  **t;

    key = (ngx_rbtree_key_t) (uintptr_t) target;
    node = ctx->seen.root;

    while (node != ctx->seen.sentinel) {

        if (key == node->key) {
            return NGX_OK;
        }

        node = (key < node->key) ? node->left : node->right;
    }

    node = ngx_palloc(ctx->pool, sizeof(ngx_rbtree_node_t));
    t = ngx_array_push(&ctx->targets);

    if (node == NULL || t == NULL) {
        ctx->nomem = 1;
        return NGX_ERROR;
    }

    node->key = key;
    ngx_rbtree_insert(&ctx->seen, node);

    *t = target;

    return NGX_OK;
}


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
