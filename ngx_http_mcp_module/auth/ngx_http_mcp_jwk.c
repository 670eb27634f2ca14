
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


/*
 * Key sets for ngx_http_mcp_jwt_verify.c: JWK sets, single JWKs
 * (RFC 7517, RFC 7518 section 6, RFC 8037) and PEM public keys, as
 * EVP_PKEYs (OpenSSL 3 APIs only) freed by cleanups of the pool given;
 * the keys of each type are made in ngx_http_mcp_jwk_key.c.
 *
 * Keys of a set that are malformed (a member of the wrong JSON type, not
 * base64url, missing) refuse the whole set: the text is broken.  Keys
 * that are well-formed but unusable here (another "use", an unknown
 * "kty", a weak RSA key, an unsupported curve, an "alg" that does not fit)
 * are skipped, so that one odd key of an identity provider does not
 * take the others down.  Reasons name a key by its index and a member by
 * its name, never by a value.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "auth/ngx_http_mcp_jwt.h"
#include "auth/ngx_http_mcp_jwk_int.h"


#define NGX_HTTP_MCP_JWK_PEM  "-----BEGIN "


static ngx_int_t ngx_http_mcp_jwks_json(ngx_http_mcp_jwk_ctx_t *ctx,
    u_char *data, size_t len);
static ngx_int_t ngx_http_mcp_jwks_pem(ngx_http_mcp_jwk_ctx_t *ctx,
    u_char *data, size_t len);
static ngx_int_t ngx_http_mcp_jwk(ngx_http_mcp_jwk_ctx_t *ctx,
    ngx_http_mcp_json_t *obj, const char **reason);
static ngx_int_t ngx_http_mcp_jwk_usable(ngx_http_mcp_jwk_ctx_t *ctx,
    ngx_http_mcp_json_t *obj, const char **reason);
static ngx_int_t ngx_http_mcp_jwk_bad(ngx_http_mcp_jwk_ctx_t *ctx,
    char *name, char *what);
static ngx_int_t ngx_http_mcp_jwk_add(ngx_http_mcp_jwk_ctx_t *ctx,
    ngx_http_mcp_jwk_t *key);
static void ngx_http_mcp_jwk_skip(ngx_http_mcp_jwk_ctx_t *ctx,
    const char *reason);
static void ngx_http_mcp_jwk_cleanup(void *data);


ngx_int_t
ngx_http_mcp_jwks_parse(ngx_pool_t *pool, u_char *data, size_t len,
    ngx_http_mcp_jwks_t *set, ngx_str_t *err)
{
    u_char                  *p, *last;
    ngx_int_t                rc;
    ngx_http_mcp_jwk_ctx_t   ctx;

    ngx_str_null(err);

    if (ngx_array_init(&set->keys, pool, 4, sizeof(ngx_http_mcp_jwk_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_memzero(&ctx, sizeof(ngx_http_mcp_jwk_ctx_t));

    ctx.pool = pool;
    ctx.set = set;
    ctx.err = err;

    for (p = data, last = data + len; p < last; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
            break;
        }
    }

    if (p < last && *p == '{') {
        rc = ngx_http_mcp_jwks_json(&ctx, data, len);

    } else if ((size_t) (last - p) >= sizeof("-----BEGIN ") - 1
               && ngx_strncmp(p, "-----BEGIN ", sizeof("-----BEGIN ") - 1)
                  == 0)
    {
        rc = ngx_http_mcp_jwks_pem(&ctx, p, last - p);

    } else {
        ngx_str_set(err, "neither a JWK set, a JWK nor PEM");
        return NGX_DECLINED;
    }

    if (rc != NGX_OK) {
        return rc;
    }

    if (set->keys.nelts == 0) {

        if (ctx.skip == NULL) {
            ngx_str_set(err, "no usable key");
            return NGX_DECLINED;
        }

        err->data = ngx_pnalloc(pool, sizeof("no usable key (key : )") - 1
                                      + NGX_INT_T_LEN
                                      + ngx_strlen(ctx.skip));
        if (err->data == NULL) {
            return NGX_ERROR;
        }

        err->len = ngx_sprintf(err->data, "no usable key (key %ui: %s)",
                               ctx.skip_index, ctx.skip)
                   - err->data;

        return NGX_DECLINED;
    }

    /* NGX_OK: *err says why keys were skipped, if any were */

    if (ctx.skip) {
        err->data = ngx_pnalloc(pool, sizeof(" skipped, key : ") - 1
                                      + 2 * NGX_INT_T_LEN
                                      + ngx_strlen(ctx.skip));
        if (err->data == NULL) {
            return NGX_ERROR;
        }

        err->len = ngx_sprintf(err->data, "%ui skipped, key %ui: %s",
                               ctx.skipped, ctx.skip_index, ctx.skip)
                   - err->data;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_mcp_jwks_merge(ngx_http_mcp_jwks_t *dst, ngx_http_mcp_jwks_t *src)
{
    ngx_http_mcp_jwk_t  *key;

    if (src->keys.nelts == 0) {
        return NGX_OK;
    }

    if (dst->keys.elts == NULL) {
        if (ngx_array_init(&dst->keys, src->keys.pool, src->keys.nelts,
                           sizeof(ngx_http_mcp_jwk_t))
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    key = ngx_array_push_n(&dst->keys, src->keys.nelts);
    if (key == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(key, src->keys.elts,
               src->keys.nelts * sizeof(ngx_http_mcp_jwk_t));

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_jwks_json(ngx_http_mcp_jwk_ctx_t *ctx, u_char *data, size_t len)
{
    u_char                      *p;
    ngx_int_t                    rc;
    ngx_str_t                    err;
    const char                  *reason;
    ngx_http_mcp_json_t         *root, *keys, *k;
    ngx_http_mcp_json_limits_t   limits;

    ngx_memzero(&limits, sizeof(ngx_http_mcp_json_limits_t));

    limits.max_depth = 8;
    limits.max_members = 1000;
    limits.max_string = 65536;
    limits.max_values = 20000;

    rc = ngx_http_mcp_json_parse(ctx->pool, data, len, &limits, &root, &err);

    if (rc == NGX_DECLINED) {
        p = ngx_pnalloc(ctx->pool, sizeof("invalid JSON: ") - 1 + err.len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        ctx->err->data = p;
        ctx->err->len = ngx_sprintf(p, "invalid JSON: %V", &err) - p;

        return NGX_DECLINED;
    }

    if (rc != NGX_OK) {
        return rc;
    }

    keys = ngx_http_mcp_json_member(root, "keys");

    if (keys == NULL) {
        /* a single JWK */
        k = root;

    } else if (keys->type != NGX_HTTP_MCP_JSON_ARRAY) {
        ngx_str_set(ctx->err, "\"keys\" is not an array");
        return NGX_DECLINED;

    } else {
        k = keys->first;
    }

    for ( /* void */ ; k; k = (keys ? k->next : NULL), ctx->index++) {

        reason = NULL;

        rc = ngx_http_mcp_jwk(ctx, k, &reason);

        if (rc == NGX_HTTP_MCP_JWK_SKIP) {
            ngx_http_mcp_jwk_skip(ctx, reason);
            continue;
        }

        if (rc != NGX_OK) {
            return rc;
        }
    }

    return NGX_OK;
}


/*
 * one or more "-----BEGIN PUBLIC KEY-----" blocks (or PKCS #1 "RSA PUBLIC
 * KEY"); private keys, certificates and other blocks are refused
 */

static ngx_int_t
ngx_http_mcp_jwks_pem(ngx_http_mcp_jwk_ctx_t *ctx, u_char *data, size_t len)
{
    long                 n;
    BIO                 *bio;
    u_char              *p;
    EVP_PKEY            *pkey;
    ngx_int_t            rc;
    const char          *reason;
    ngx_pool_cleanup_t  *cln;
    ngx_http_mcp_jwk_t   key;

    if (len > INT_MAX) {
        ngx_str_set(ctx->err, "PEM text too long");
        return NGX_DECLINED;
    }

    bio = BIO_new_mem_buf(data, (int) len);
    if (bio == NULL) {
        ERR_clear_error();
        return NGX_ERROR;
    }

    rc = NGX_OK;

    for ( ;; ) {

        /* the cleanup first: once the key exists, nothing may fail */

        cln = ngx_pool_cleanup_add(ctx->pool, 0);
        if (cln == NULL) {
            rc = NGX_ERROR;
            break;
        }

        /*
         * the end: no "-----BEGIN " left (OpenSSL 3's decoders do not tell
         * the end from a broken key); any block left must be a public key
         */

        n = BIO_get_mem_data(bio, &p);

        if (n <= 0
            || ngx_strlcasestrn(p, p + n, (u_char *) NGX_HTTP_MCP_JWK_PEM,
                                sizeof(NGX_HTTP_MCP_JWK_PEM) - 2)
               == NULL)
        {
            break;
        }

        pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);

        if (pkey == NULL) {
            ngx_str_set(ctx->err, "bad PEM public key");
            rc = NGX_DECLINED;
            break;
        }

        cln->handler = ngx_http_mcp_jwk_cleanup;
        cln->data = pkey;

        ngx_memzero(&key, sizeof(ngx_http_mcp_jwk_t));

        key.pkey = pkey;

        reason = ngx_http_mcp_jwk_classify(pkey, &key);

        if (reason) {
            ngx_http_mcp_jwk_skip(ctx, reason);
            EVP_PKEY_free(pkey);
            cln->handler = NULL;

        } else if (ngx_http_mcp_jwk_add(ctx, &key) != NGX_OK) {
            rc = NGX_ERROR;
            break;
        }

        ctx->index++;
    }

    BIO_free(bio);
    ERR_clear_error();

    if (rc == NGX_OK && ctx->index == 0) {
        ngx_str_set(ctx->err, "no PEM public key");
        return NGX_DECLINED;
    }

    return rc;
}


/* NGX_OK (added), NGX_HTTP_MCP_JWK_SKIP, NGX_HTTP_MCP_JWK_BAD, NGX_ERROR */

static ngx_int_t
ngx_http_mcp_jwk(ngx_http_mcp_jwk_ctx_t *ctx, ngx_http_mcp_json_t *obj,
    const char **reason)
{
    EVP_PKEY            *pkey;
    ngx_int_t            rc, usable;
    ngx_str_t            kty, alg;
    const char          *unusable;
    ngx_pool_cleanup_t  *cln;
    ngx_http_mcp_jwk_t   key;

    if (obj->type != NGX_HTTP_MCP_JSON_OBJECT) {
        return ngx_http_mcp_jwk_bad(ctx, NULL, "is not an object");
    }

    ngx_memzero(&key, sizeof(ngx_http_mcp_jwk_t));

    rc = ngx_http_mcp_jwk_string(ctx, obj, "kty", 1, &kty);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_mcp_jwk_string(ctx, obj, "kid", 0, &key.kid);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_mcp_jwk_string(ctx, obj, "alg", 0, &alg);
    if (rc != NGX_OK) {
        return rc;
    }

    unusable = NULL;

    usable = ngx_http_mcp_jwk_usable(ctx, obj, &unusable);

    if (usable != NGX_OK && usable != NGX_HTTP_MCP_JWK_SKIP) {
        return usable;
    }

    /* the members of known types are checked even if the key is skipped */

    pkey = NULL;
    cln = NULL;

    if (kty.len == 3 && ngx_strncmp(kty.data, "oct", 3) == 0) {
        key.type = NGX_HTTP_MCP_JWK_OCT;
        rc = ngx_http_mcp_jwk_oct(ctx, obj, &key, reason);

    } else {

        /* the cleanup first: once a key exists, nothing may fail */

        cln = ngx_pool_cleanup_add(ctx->pool, 0);
        if (cln == NULL) {
            return NGX_ERROR;
        }

        if (kty.len == 3 && ngx_strncmp(kty.data, "RSA", 3) == 0) {
            rc = ngx_http_mcp_jwk_rsa(ctx, obj, &pkey, reason);

        } else if (kty.len == 2 && ngx_strncmp(kty.data, "EC", 2) == 0) {
            rc = ngx_http_mcp_jwk_ec(ctx, obj, &pkey, reason);

        } else if (kty.len == 3 && ngx_strncmp(kty.data, "OKP", 3) == 0) {
            rc = ngx_http_mcp_jwk_okp(ctx, obj, &pkey, reason);

        } else {
            *reason = "unknown kty";
            rc = NGX_HTTP_MCP_JWK_SKIP;
        }

        if (pkey) {
            cln->handler = ngx_http_mcp_jwk_cleanup;
            cln->data = pkey;
            key.pkey = pkey;
        }

        if (rc == NGX_OK) {
            *reason = ngx_http_mcp_jwk_classify(pkey, &key);

            if (*reason) {
                rc = NGX_HTTP_MCP_JWK_SKIP;
            }
        }
    }

    /* "use" or "key_ops" is the first reason to skip a key */

    if ((rc == NGX_OK || rc == NGX_HTTP_MCP_JWK_SKIP) && usable != NGX_OK) {
        *reason = unusable;
        rc = NGX_HTTP_MCP_JWK_SKIP;
    }

    if (rc == NGX_OK && alg.data) {
        *reason = ngx_http_mcp_jwk_restrict(&key, &alg);

        if (*reason) {
            rc = NGX_HTTP_MCP_JWK_SKIP;
        }
    }

    if (rc == NGX_OK) {
        return ngx_http_mcp_jwk_add(ctx, &key);
    }

    /* not kept: freed now rather than with the pool */

    if (pkey) {
        EVP_PKEY_free(pkey);
        cln->handler = NULL;
    }

    return rc;
}


/* "use" (RFC 7517 section 4.2) and "key_ops" (section 4.3) */

static ngx_int_t
ngx_http_mcp_jwk_usable(ngx_http_mcp_jwk_ctx_t *ctx, ngx_http_mcp_json_t *obj,
    const char **reason)
{
    ngx_int_t             rc;
    ngx_str_t             use;
    ngx_uint_t            verify;
    ngx_http_mcp_json_t  *ops, *op;

    rc = ngx_http_mcp_jwk_string(ctx, obj, "use", 0, &use);
    if (rc != NGX_OK) {
        return rc;
    }

    ops = ngx_http_mcp_json_member(obj, "key_ops");
    verify = 0;

    if (ops) {
        if (ops->type != NGX_HTTP_MCP_JSON_ARRAY) {
            return ngx_http_mcp_jwk_bad(ctx, "key_ops", "is not an array");
        }

        for (op = ops->first; op; op = op->next) {
            if (op->type != NGX_HTTP_MCP_JSON_STRING) {
                return ngx_http_mcp_jwk_bad(ctx, "key_ops",
                                            "has a non-string");
            }

            if (op->str.len == sizeof("verify") - 1
                && ngx_strncmp(op->str.data, "verify", op->str.len) == 0)
            {
                verify = 1;
            }
        }
    }

    if (use.data
        && !(use.len == 3 && ngx_strncmp(use.data, "sig", 3) == 0))
    {
        *reason = "\"use\" is not \"sig\"";
        return NGX_HTTP_MCP_JWK_SKIP;
    }

    if (ops && !verify) {
        *reason = "\"key_ops\" lacks \"verify\"";
        return NGX_HTTP_MCP_JWK_SKIP;
    }

    return NGX_OK;
}


/*
 * A string member: NGX_OK (value->data NULL when absent and optional),
 * NGX_HTTP_MCP_JWK_BAD with ctx->err set, or NGX_ERROR
 */

ngx_int_t
ngx_http_mcp_jwk_string(ngx_http_mcp_jwk_ctx_t *ctx, ngx_http_mcp_json_t *obj,
    char *name, ngx_uint_t required, ngx_str_t *value)
{
    ngx_http_mcp_json_t  *v;

    ngx_str_null(value);

    v = ngx_http_mcp_json_get(obj, (u_char *) name, ngx_strlen(name));

    if (v == NULL) {
        if (required) {
            return ngx_http_mcp_jwk_bad(ctx, name, "is missing");
        }

        return NGX_OK;
    }

    if (v->type != NGX_HTTP_MCP_JSON_STRING) {
        return ngx_http_mcp_jwk_bad(ctx, name, "is not a string");
    }

    *value = v->str;

    if (value->data == NULL) {
        value->data = (u_char *) "";
    }

    return NGX_OK;
}


/* a required base64url member, decoded: NGX_OK, _BAD, NGX_ERROR */

ngx_int_t
ngx_http_mcp_jwk_bytes(ngx_http_mcp_jwk_ctx_t *ctx, ngx_http_mcp_json_t *obj,
    char *name, ngx_str_t *value)
{
    ngx_int_t  rc;
    ngx_str_t  text;

    rc = ngx_http_mcp_jwk_string(ctx, obj, name, 1, &text);
    if (rc != NGX_OK) {
        return rc;
    }

    value->data = ngx_pnalloc(ctx->pool,
                              ngx_base64_decoded_length(text.len) + 1);
    if (value->data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_mcp_base64url_decode(value, &text) != NGX_OK) {
        return ngx_http_mcp_jwk_bad(ctx, name, "is not base64url");
    }

    if (value->len == 0) {
        return ngx_http_mcp_jwk_bad(ctx, name, "is empty");
    }

    return NGX_OK;
}


/* "key 3: \"n\" is not base64url": NGX_HTTP_MCP_JWK_BAD, or NGX_ERROR */

static ngx_int_t
ngx_http_mcp_jwk_bad(ngx_http_mcp_jwk_ctx_t *ctx, char *name, char *what)
{
    u_char  *p, *last;
    size_t   len;

    len = sizeof("key : \"\" ") - 1 + NGX_INT_T_LEN + ngx_strlen(what)
          + (name ? ngx_strlen(name) : 0);

    p = ngx_pnalloc(ctx->pool, len);
    if (p == NULL) {
        ngx_str_null(ctx->err);
        return NGX_ERROR;
    }

    if (name) {
        last = ngx_slprintf(p, p + len, "key %ui: \"%s\" %s", ctx->index,
                            name, what);

    } else {
        last = ngx_slprintf(p, p + len, "key %ui: %s", ctx->index, what);
    }

    ctx->err->data = p;
    ctx->err->len = last - p;

    return NGX_HTTP_MCP_JWK_BAD;
}


static ngx_int_t
ngx_http_mcp_jwk_add(ngx_http_mcp_jwk_ctx_t *ctx, ngx_http_mcp_jwk_t *key)
{
    ngx_http_mcp_jwk_t  *k;

    /* on failure the key stays with its cleanup, freed with the pool */

    k = ngx_array_push(&ctx->set->keys);
    if (k == NULL) {
        return NGX_ERROR;
    }

    *k = *key;

    return NGX_OK;
}


static void
ngx_http_mcp_jwk_skip(ngx_http_mcp_jwk_ctx_t *ctx, const char *reason)
{
    ngx_log_debug2(NGX_LOG_DEBUG_CORE, ctx->pool->log, 0,
                   "jwks: key %ui skipped: %s", ctx->index, reason);

    if (ctx->skip == NULL) {
        ctx->skip = reason;
        ctx->skip_index = ctx->index;
    }

    ctx->skipped++;
}


static void
ngx_http_mcp_jwk_cleanup(void *data)
{
    EVP_PKEY  *pkey = data;

    EVP_PKEY_free(pkey);
}
