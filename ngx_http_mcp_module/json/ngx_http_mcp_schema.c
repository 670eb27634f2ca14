
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


/*
 * JSON Schema, configuration time: ngx_http_mcp_schema_check(); and what
 * validation (ngx_http_mcp_schema_validate.c) shares with it: keywords,
 * $ref resolution, patterns, error messages with JSON pointers.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <math.h>                  /* macros only: nginx has no libm */

#include "json/ngx_http_mcp_schema_int.h"


#define NGX_HTTP_MCP_SCHEMA_MSGLEN     256


static ngx_int_t ngx_http_mcp_schema_check_node(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *s);
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

static ngx_uint_t ngx_http_mcp_schema_find(ngx_str_t *names,
    ngx_str_t *name);
static ngx_http_mcp_json_t *ngx_http_mcp_schema_pointer(
    ngx_http_mcp_schema_ctx_t *ctx, u_char *p, u_char *last);
static ngx_http_mcp_json_t *ngx_http_mcp_schema_anchor(
    ngx_http_mcp_schema_ctx_t *ctx, ngx_http_mcp_json_t *s, ngx_str_t *name);
static void ngx_http_mcp_schema_path(ngx_http_mcp_jw_t *jw,
    ngx_http_mcp_json_t *top, ngx_http_mcp_json_t *at);


/* the longest keyword, and how many keywords share one length at most */
#define NGX_HTTP_MCP_KW_MAXLEN   20
#define NGX_HTTP_MCP_KW_PER_LEN  8


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
    ngx_string("$anchor"),
    ngx_null_string                     /* NGX_HTTP_MCP_KW_UNKNOWN */
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

        i = ngx_http_mcp_schema_keyword(&kw->key);
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

            if (ngx_http_mcp_schema_check_target(ctx, target) != NGX_OK) {
                return NGX_ERROR;
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


ngx_int_t
ngx_http_mcp_schema_init(ngx_http_mcp_schema_ctx_t *ctx, ngx_pool_t *pool,
    ngx_http_mcp_json_t *schema, ngx_str_t *err)
{
    ngx_memzero(ctx, sizeof(ngx_http_mcp_schema_ctx_t));

    ctx->pool = pool;
    ctx->root = schema;
    ctx->err = err;

    return ngx_array_init(&ctx->cache, pool, 4,
                          sizeof(ngx_http_mcp_schema_cache_t));
}


ngx_http_mcp_schema_kw_e
ngx_http_mcp_schema_keyword(ngx_str_t *name)
{
    ngx_uint_t   i, n, *idx;
    ngx_str_t   *kw;

    /*
     * Called for every member of every schema object a validation visits:
     * the names are bucketed by length once; at most six share a length.
     */

    static ngx_uint_t  built;
    static ngx_uint_t  by_len[NGX_HTTP_MCP_KW_MAXLEN + 1]
                             [NGX_HTTP_MCP_KW_PER_LEN];

    if (!built) {
        for (i = 0; i < NGX_HTTP_MCP_KW_MAXLEN + 1; i++) {
            for (n = 0; n < NGX_HTTP_MCP_KW_PER_LEN; n++) {
                by_len[i][n] = NGX_HTTP_MCP_KW_UNKNOWN;
            }
        }

        for (kw = ngx_http_mcp_schema_kw_names; kw->len; kw++) {
            idx = by_len[kw->len];

            for (n = 0; idx[n] != NGX_HTTP_MCP_KW_UNKNOWN; n++) {
                /* void */
            }

            idx[n] = kw - ngx_http_mcp_schema_kw_names;
        }

        built = 1;
    }

    if (name->len > NGX_HTTP_MCP_KW_MAXLEN) {
        return NGX_HTTP_MCP_KW_UNKNOWN;
    }

    idx = by_len[name->len];

    for (n = 0; n < NGX_HTTP_MCP_KW_PER_LEN; n++) {

        if (idx[n] == NGX_HTTP_MCP_KW_UNKNOWN) {
            break;
        }

        if (ngx_memcmp(ngx_http_mcp_schema_kw_names[idx[n]].data, name->data,
                       name->len)
            == 0)
        {
            return (ngx_http_mcp_schema_kw_e) idx[n];
        }
    }

    return NGX_HTTP_MCP_KW_UNKNOWN;
}


/* the index of name in a table ending with ngx_null_string, or its end */

static ngx_uint_t
ngx_http_mcp_schema_find(ngx_str_t *names, ngx_str_t *name)
{
    ngx_uint_t  i;

    for (i = 0; names[i].len; i++) {
        if (name->len == names[i].len
            && ngx_strncmp(name->data, names[i].data, name->len) == 0)
        {
            break;
        }
    }

    return i;
}


void
ngx_http_mcp_schema_keywords(ngx_http_mcp_json_t *s,
    ngx_http_mcp_schema_kws_t *k)
{
    ngx_http_mcp_json_t       *m;
    ngx_http_mcp_schema_kw_e   i;

    ngx_memzero(k, sizeof(ngx_http_mcp_schema_kws_t));

    for (m = s->first; m; m = m->next) {
        i = ngx_http_mcp_schema_keyword(&m->key);

        if (i != NGX_HTTP_MCP_KW_UNKNOWN) {
            k->kw[i] = m;
        }
    }
}


/* ECMA-262 patterns are unanchored and work on characters: (*UTF) */

ngx_regex_t *
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


ngx_http_mcp_json_t *
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


/*
 * Validation: "/a/0: message" (no prefix at the top);
 * check: "message at /properties/a" (nothing at the root).
 */

ngx_int_t
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

ngx_str_t *
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
