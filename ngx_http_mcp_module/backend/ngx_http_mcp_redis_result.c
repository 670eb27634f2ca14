
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "backend/ngx_http_mcp_redis_backend.h"


/*
 * A Redis reply as the neutral result (docs/BACKENDS.md, "Redis"): a
 * string or a status is text, as it is; an error reply is an error with
 * Redis's message; anything else is JSON, {"value": ...}: integers,
 * nil as null, arrays (nested) as arrays of the same, HGETALL's pairs as
 * an object (and RESP3's doubles, booleans and maps, with hiredis 1).
 * A resource that is nil is not found.  The JSON is valid whatever bytes
 * the reply holds (the writer replaces invalid UTF-8).  A reply larger
 * than max_size fails the call: an answer is never cut.
 */


#define NGX_HTTP_MCP_REDIS_ERRLEN     512

/* 2^53: integers up to it in magnitude are exact in an IEEE double */
#define NGX_HTTP_MCP_REDIS_MAX_EXACT  9007199254740992LL


static size_t ngx_http_mcp_redis_size(redisReply *r);
static ngx_http_mcp_json_t *ngx_http_mcp_redis_json(ngx_pool_t *pool,
    redisReply *r, ngx_uint_t hash);
static ngx_int_t ngx_http_mcp_redis_string(ngx_pool_t *pool,
    ngx_http_mcp_json_t *v, redisReply *r);
static ngx_uint_t ngx_http_mcp_redis_pairs(redisReply *r);
static void ngx_http_mcp_redis_error(ngx_http_mcp_redis_call_t *ctx,
    redisReply *r);
static void ngx_http_mcp_redis_too_big(ngx_http_mcp_redis_call_t *ctx);


static ngx_str_t  ngx_http_mcp_redis_json_type =
    ngx_string("application/json");


void
ngx_http_mcp_redis_result(ngx_http_mcp_redis_call_t *ctx, redisReply *reply)
{
    u_char                 *p;
    ngx_str_t               text;
    ngx_http_mcp_jw_t       jw;
    ngx_http_mcp_json_t    *root, *v;
    ngx_http_mcp_bcall_t   *bc;
    ngx_http_mcp_result_t  *res;

    bc = ctx->bc;
    res = &bc->result;

    switch (reply->type) {

    case REDIS_REPLY_ERROR:
        ngx_http_mcp_redis_error(ctx, reply);
        return;

    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:

        if (reply->len > bc->max_size) {
            ngx_http_mcp_redis_too_big(ctx);
            return;
        }

        p = ngx_pnalloc(bc->pool, reply->len);
        if (p == NULL && reply->len) {
            goto nomem;
        }

        ngx_memcpy(p, reply->str, reply->len);

        res->kind = NGX_HTTP_MCP_RESULT_TEXT;
        res->data.data = p;
        res->data.len = reply->len;
        return;

    case REDIS_REPLY_NIL:

        if (bc->entry->kind == NGX_HTTP_MCP_ITEM_RESOURCE) {
            res->kind = NGX_HTTP_MCP_RESULT_ERROR;
            res->status = NGX_HTTP_NOT_FOUND;
            ngx_str_set(&res->reason, "No value for this resource");
            return;
        }

        break;

    default:
        break;
    }

    /* what the JSON takes at least: a larger reply is not even converted */

    if (ngx_http_mcp_redis_size(reply) > bc->max_size) {
        ngx_http_mcp_redis_too_big(ctx);
        return;
    }

    root = ngx_pcalloc(bc->pool, sizeof(ngx_http_mcp_json_t));
    v = ngx_http_mcp_redis_json(bc->pool, reply, ctx->rd->hash);

    if (root == NULL || v == NULL) {
        goto nomem;
    }

    ngx_str_set(&v->key, "value");
    v->parent = root;

    root->type = NGX_HTTP_MCP_JSON_OBJECT;
    root->first = v;
    root->nelts = 1;

    if (ngx_http_mcp_jw_init(&jw, bc->pool, 64) != NGX_OK) {
        goto nomem;
    }

    ngx_http_mcp_jw_value(&jw, root);

    if (ngx_http_mcp_jw_finish(&jw, &text) != NGX_OK) {
        goto nomem;
    }

    if (text.len > bc->max_size) {
        ngx_http_mcp_redis_too_big(ctx);
        return;
    }

    res->data = text;

    if (bc->entry->kind == NGX_HTTP_MCP_ITEM_PROMPT) {
        /* one user message, the JSON its text */
        res->kind = NGX_HTTP_MCP_RESULT_TEXT;
        return;
    }

    res->kind = NGX_HTTP_MCP_RESULT_JSON;
    res->json = root;
    res->type = ngx_http_mcp_redis_json_type;

    return;

nomem:

    ngx_http_mcp_redis_fail(ctx, "The reply of Redis upstream \"%V\" could "
                            "not be kept (out of memory)",
                            ngx_http_mcp_redis_upstream_name(
                                                     ctx->rd->upstream),
                            NULL);
}


/* the least the reply takes as JSON */

static size_t
ngx_http_mcp_redis_size(redisReply *r)
{
    size_t  size, i;

    switch (r->type) {

#ifdef REDIS_REPLY_MAP
    case REDIS_REPLY_MAP:
    case REDIS_REPLY_SET:
    case REDIS_REPLY_PUSH:
#endif
    case REDIS_REPLY_ARRAY:
        size = 2;

        for (i = 0; i < r->elements; i++) {
            size += ngx_http_mcp_redis_size(r->element[i]) + 1;
        }

        return size;

    case REDIS_REPLY_INTEGER:
#ifdef REDIS_REPLY_MAP
    case REDIS_REPLY_BOOL:
    case REDIS_REPLY_DOUBLE:
#endif
        return 1;

    case REDIS_REPLY_NIL:
        return sizeof("null") - 1;

    default:
        return r->len + 2;
    }
}


/* the reply as a JSON value; hash: an array of pairs as an object */

static ngx_http_mcp_json_t *
ngx_http_mcp_redis_json(ngx_pool_t *pool, redisReply *r, ngx_uint_t hash)
{
    size_t                i;
    ngx_uint_t            pairs;
    ngx_http_mcp_json_t  *v, *e, *prev, *msg;

    v = ngx_pcalloc(pool, sizeof(ngx_http_mcp_json_t));
    if (v == NULL) {
        return NULL;
    }

    switch (r->type) {

    case REDIS_REPLY_NIL:
        v->type = NGX_HTTP_MCP_JSON_NULL;
        return v;

    case REDIS_REPLY_INTEGER:

        if (r->integer > NGX_HTTP_MCP_REDIS_MAX_EXACT
            || r->integer < -NGX_HTTP_MCP_REDIS_MAX_EXACT)
        {
            /* exact as a string, as PostgreSQL's int8 */

            v->type = NGX_HTTP_MCP_JSON_STRING;
            v->str.data = ngx_pnalloc(pool, NGX_INT64_LEN);
            if (v->str.data == NULL) {
                return NULL;
            }

            v->str.len = ngx_sprintf(v->str.data, "%L",
                                     (int64_t) r->integer)
                         - v->str.data;
            return v;
        }

        v->type = NGX_HTTP_MCP_JSON_INTEGER;
        v->integer = r->integer;
        v->number = (double) r->integer;
        return v;

    case REDIS_REPLY_ERROR:

        /* inside an array (a script's table): {"error": message} */

        msg = ngx_pcalloc(pool, sizeof(ngx_http_mcp_json_t));
        if (msg == NULL
            || ngx_http_mcp_redis_string(pool, msg, r) != NGX_OK)
        {
            return NULL;
        }

        ngx_str_set(&msg->key, "error");
        msg->parent = v;

        v->type = NGX_HTTP_MCP_JSON_OBJECT;
        v->first = msg;
        v->nelts = 1;
        return v;

#ifdef REDIS_REPLY_MAP

    /* RESP3 (hiredis 1): a connection speaks it only after HELLO 3 */

    case REDIS_REPLY_BOOL:
        v->type = r->integer ? NGX_HTTP_MCP_JSON_TRUE
                             : NGX_HTTP_MCP_JSON_FALSE;
        return v;

    case REDIS_REPLY_DOUBLE:
        /* infinities and NaN are written as null */
        v->type = NGX_HTTP_MCP_JSON_NUMBER;
        v->number = r->dval;
        return v;

    case REDIS_REPLY_MAP:
        hash = 1;

        /* fall through */

    case REDIS_REPLY_SET:
    case REDIS_REPLY_PUSH:
#endif
    case REDIS_REPLY_ARRAY:
        break;

    default:
        return (ngx_http_mcp_redis_string(pool, v, r) == NGX_OK) ? v : NULL;
    }

    pairs = hash && ngx_http_mcp_redis_pairs(r);

    v->type = pairs ? NGX_HTTP_MCP_JSON_OBJECT : NGX_HTTP_MCP_JSON_ARRAY;
    v->nelts = pairs ? r->elements / 2 : r->elements;

    prev = NULL;

    for (i = 0; i < r->elements; i += pairs ? 2 : 1) {

        e = ngx_http_mcp_redis_json(pool, r->element[i + pairs], 0);
        if (e == NULL) {
            return NULL;
        }

        if (pairs) {
            e->key.len = r->element[i]->len;
            e->key.data = ngx_pnalloc(pool, e->key.len);
            if (e->key.data == NULL && e->key.len) {
                return NULL;
            }

            ngx_memcpy(e->key.data, r->element[i]->str, e->key.len);
        }

        e->parent = v;

        if (prev) {
            prev->next = e;

        } else {
            v->first = e;
        }

        prev = e;
    }

    return v;
}


/* the bytes of a string reply, copied: the reply goes after the call */

static ngx_int_t
ngx_http_mcp_redis_string(ngx_pool_t *pool, ngx_http_mcp_json_t *v,
    redisReply *r)
{
    v->type = NGX_HTTP_MCP_JSON_STRING;
    v->str.len = r->len;
    v->str.data = ngx_pnalloc(pool, r->len);

    if (v->str.data == NULL && r->len) {
        return NGX_ERROR;
    }

    ngx_memcpy(v->str.data, r->str, r->len);

    return NGX_OK;
}


/*
 * HGETALL's flat array of field, value, ... is an object when each field
 * is a string of valid UTF-8 (then no two become the same JSON name)
 */

static ngx_uint_t
ngx_http_mcp_redis_pairs(redisReply *r)
{
    size_t  i;

    if (r->elements % 2) {
        return 0;
    }

    for (i = 0; i < r->elements; i += 2) {
        if (r->element[i]->type != REDIS_REPLY_STRING
            || !ngx_http_mcp_json_utf8_valid((u_char *) r->element[i]->str,
                                             r->element[i]->len))
        {
            return 0;
        }
    }

    return 1;
}


/* "Redis error: " and Redis's message, bounded, without control characters */

static void
ngx_http_mcp_redis_error(ngx_http_mcp_redis_call_t *ctx, redisReply *r)
{
    u_char                 *p, *s, *last;
    ngx_http_mcp_result_t  *res;

    res = &ctx->bc->result;
    res->kind = NGX_HTTP_MCP_RESULT_ERROR;

    p = ngx_pnalloc(ctx->bc->pool, sizeof("Redis error: ") - 1
                                   + NGX_HTTP_MCP_REDIS_ERRLEN);
    if (p == NULL) {
        ngx_str_set(&res->reason, "Redis error");
        return;
    }

    res->reason.data = p;
    p = ngx_cpymem(p, "Redis error: ", sizeof("Redis error: ") - 1);

    s = (u_char *) r->str;
    last = s + ngx_min(r->len, NGX_HTTP_MCP_REDIS_ERRLEN);

    for ( /* void */ ; s < last; s++) {
        if (*s >= 0x20 && *s != 0x7f) {
            *p++ = *s;
        }
    }

    res->reason.len = p - res->reason.data;

    ngx_log_error(NGX_LOG_INFO, ctx->bc->log, 0,
                  "redis: \"%V\" failed with an error reply",
                  &ctx->bc->entry->name);
}


static void
ngx_http_mcp_redis_too_big(ngx_http_mcp_redis_call_t *ctx)
{
    u_char     buf[NGX_SIZE_T_LEN];
    ngx_str_t  size;

    size.data = buf;
    size.len = ngx_sprintf(buf, "%uz", ctx->bc->max_size) - buf;

    ngx_http_mcp_redis_fail(ctx, "The reply of Redis upstream \"%V\" is "
                            "larger than %V bytes (max_size)",
                            ngx_http_mcp_redis_upstream_name(
                                                     ctx->rd->upstream),
                            &size);
}
