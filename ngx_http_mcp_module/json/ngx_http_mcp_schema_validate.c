
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


/* JSON Schema, request time: ngx_http_mcp_schema_validate() */


#include <ngx_config.h>
#include <ngx_core.h>

#include <math.h>                  /* macros only: nginx has no libm */

#include "json/ngx_http_mcp_schema_int.h"


#define NGX_HTTP_MCP_SCHEMA_MAX_STEPS  100000
#define NGX_HTTP_MCP_SCHEMA_MAX_REFS   128


/* how minItems and the like name what they count, for messages */

typedef struct {
    const char                *fewer;     /* "fewer than" */
    const char                *more;      /* "more than" */
    const char                *one;       /* "item" */
    const char                *many;      /* "items" */
} ngx_http_mcp_schema_unit_t;


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
static ngx_int_t ngx_http_mcp_schema_size(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *v, size_t n, ngx_http_mcp_json_t *min,
    ngx_http_mcp_json_t *max, ngx_http_mcp_schema_unit_t *unit);

static ngx_int_t ngx_http_mcp_schema_fail(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *v, const char *fmt, ...);


static ngx_http_mcp_schema_unit_t  ngx_http_mcp_schema_properties = {
    "fewer than", "more than", "property", "properties"
};


static ngx_http_mcp_schema_unit_t  ngx_http_mcp_schema_items = {
    "fewer than", "more than", "item", "items"
};


static ngx_http_mcp_schema_unit_t  ngx_http_mcp_schema_characters = {
    "shorter than", "longer than", "character", "characters"
};


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

    if (ngx_http_mcp_schema_init(&ctx, pool, schema, err) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx.top = value;

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

    rc = ngx_http_mcp_schema_size(ctx, v, v->nelts,
                                  k->kw[NGX_HTTP_MCP_KW_MIN_PROPERTIES],
                                  k->kw[NGX_HTTP_MCP_KW_MAX_PROPERTIES],
                                  &ngx_http_mcp_schema_properties);
    if (rc != NGX_OK) {
        return rc;
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

    rc = ngx_http_mcp_schema_size(ctx, v, v->nelts,
                                  k->kw[NGX_HTTP_MCP_KW_MIN_ITEMS],
                                  k->kw[NGX_HTTP_MCP_KW_MAX_ITEMS],
                                  &ngx_http_mcp_schema_items);
    if (rc != NGX_OK) {
        return rc;
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
    ngx_int_t             rc;
    ngx_http_mcp_json_t  *kw, *min, *max;

    min = k->kw[NGX_HTTP_MCP_KW_MIN_LENGTH];
    max = k->kw[NGX_HTTP_MCP_KW_MAX_LENGTH];

    if ((min && min->type == NGX_HTTP_MCP_JSON_INTEGER)
        || (max && max->type == NGX_HTTP_MCP_JSON_INTEGER))
    {
        rc = ngx_http_mcp_schema_size(ctx, v,
                                      ngx_http_mcp_schema_chars(&v->str),
                                      min, max,
                                      &ngx_http_mcp_schema_characters);
        if (rc != NGX_OK) {
            return rc;
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


/* minProperties, maxItems, minLength...: n against the bounds given */

static ngx_int_t
ngx_http_mcp_schema_size(ngx_http_mcp_schema_ctx_t *ctx,
    ngx_http_mcp_json_t *v, size_t n, ngx_http_mcp_json_t *min,
    ngx_http_mcp_json_t *max, ngx_http_mcp_schema_unit_t *unit)
{
    if (min && min->type == NGX_HTTP_MCP_JSON_INTEGER
        && (int64_t) n < min->integer)
    {
        return ngx_http_mcp_schema_fail(ctx, v, "%s %L %s", unit->fewer,
                                        min->integer,
                                        min->integer == 1 ? unit->one
                                                          : unit->many);
    }

    if (max && max->type == NGX_HTTP_MCP_JSON_INTEGER
        && (int64_t) n > max->integer)
    {
        return ngx_http_mcp_schema_fail(ctx, v, "%s %L %s", unit->more,
                                        max->integer,
                                        max->integer == 1 ? unit->one
                                                          : unit->many);
    }

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
