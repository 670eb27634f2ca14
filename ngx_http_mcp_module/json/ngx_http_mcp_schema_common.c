
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


/*
 * JSON Schema: what checking (ngx_http_mcp_schema.c) and validation
 * (ngx_http_mcp_schema_validate.c) share: the keywords, $ref resolution
 * (JSON pointers, anchors), patterns, error messages with JSON pointers.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "json/ngx_http_mcp_schema_int.h"


#define NGX_HTTP_MCP_SCHEMA_MSGLEN     256


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

ngx_uint_t
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
