
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


/*
 * Key sets for ngx_http_mcp_jwt.c: JWK sets, single JWKs (RFC 7517,
 * RFC 7518 section 6, RFC 8037) and PEM public keys, as EVP_PKEYs
 * (OpenSSL 3 APIs only) freed by cleanups of the pool given.
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

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "auth/ngx_http_mcp_jwt.h"


#define NGX_HTTP_MCP_JWK_PEM  "-----BEGIN "

#define NGX_HTTP_MCP_JWK_RSA_MIN_BITS  2048
#define NGX_HTTP_MCP_JWK_RSA_MAX_BITS  16384

#define NGX_HTTP_MCP_JWK_RSA_ALGS                                             \
    (NGX_HTTP_MCP_JWT_RS256|NGX_HTTP_MCP_JWT_RS384|NGX_HTTP_MCP_JWT_RS512      \
     |NGX_HTTP_MCP_JWT_PS256|NGX_HTTP_MCP_JWT_PS384|NGX_HTTP_MCP_JWT_PS512)


/* what a key's parse comes to, besides NGX_OK and NGX_ERROR */

#define NGX_HTTP_MCP_JWK_SKIP  NGX_DONE       /* well-formed, not usable */
#define NGX_HTTP_MCP_JWK_BAD   NGX_DECLINED   /* malformed: refuse all */


typedef struct {
    ngx_pool_t                 *pool;
    ngx_http_mcp_jwks_t        *set;
    ngx_str_t                  *err;
    ngx_uint_t                  index;        /* of the key at hand */
    ngx_uint_t                  skipped;
    const char                 *skip;         /* the first reason */
    ngx_uint_t                  skip_index;
} ngx_http_mcp_jwk_ctx_t;


static ngx_int_t ngx_http_mcp_jwks_json(ngx_http_mcp_jwk_ctx_t *ctx,
    u_char *data, size_t len);
static ngx_int_t ngx_http_mcp_jwks_pem(ngx_http_mcp_jwk_ctx_t *ctx,
    u_char *data, size_t len);
static ngx_int_t ngx_http_mcp_jwk(ngx_http_mcp_jwk_ctx_t *ctx,
    ngx_http_mcp_json_t *obj, const char **reason);
static ngx_int_t ngx_http_mcp_jwk_usable(ngx_http_mcp_jwk_ctx_t *ctx,
    ngx_http_mcp_json_t *obj, const char **reason);
static ngx_int_t ngx_http_mcp_jwk_rsa(ngx_http_mcp_jwk_ctx_t *ctx,
    ngx_http_mcp_json_t *obj, EVP_PKEY **pkey, const char **reason);
static ngx_int_t ngx_http_mcp_jwk_ec(ngx_http_mcp_jwk_ctx_t *ctx,
    ngx_http_mcp_json_t *obj, EVP_PKEY **pkey, const char **reason);
static ngx_int_t ngx_http_mcp_jwk_okp(ngx_http_mcp_jwk_ctx_t *ctx,
    ngx_http_mcp_json_t *obj, EVP_PKEY **pkey, const char **reason);
static ngx_int_t ngx_http_mcp_jwk_oct(ngx_http_mcp_jwk_ctx_t *ctx,
    ngx_http_mcp_json_t *obj, ngx_http_mcp_jwk_t *key, const char **reason);
static ngx_int_t ngx_http_mcp_jwk_string(ngx_http_mcp_jwk_ctx_t *ctx,
    ngx_http_mcp_json_t *obj, char *name, ngx_uint_t required,
    ngx_str_t *value);
static ngx_int_t ngx_http_mcp_jwk_bytes(ngx_http_mcp_jwk_ctx_t *ctx,
    ngx_http_mcp_json_t *obj, char *name, ngx_str_t *value);
static ngx_int_t ngx_http_mcp_jwk_bad(ngx_http_mcp_jwk_ctx_t *ctx,
    char *name, char *what);
static EVP_PKEY *ngx_http_mcp_jwk_fromdata(const char *type,
    OSSL_PARAM *params);
static const char *ngx_http_mcp_jwk_classify(EVP_PKEY *pkey,
    ngx_http_mcp_jwk_t *key);
static const char *ngx_http_mcp_jwk_restrict(ngx_http_mcp_jwk_t *key,
    ngx_str_t *alg);
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


static ngx_int_t
ngx_http_mcp_jwk_rsa(ngx_http_mcp_jwk_ctx_t *ctx, ngx_http_mcp_json_t *obj,
    EVP_PKEY **pkey, const char **reason)
{
    int              bits;
    BIGNUM          *n, *e;
    ngx_int_t        rc;
    ngx_str_t        nb, eb;
    OSSL_PARAM      *params;
    OSSL_PARAM_BLD  *bld;

    rc = ngx_http_mcp_jwk_bytes(ctx, obj, "n", &nb);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_mcp_jwk_bytes(ctx, obj, "e", &eb);
    if (rc != NGX_OK) {
        return rc;
    }

    if (nb.len > NGX_HTTP_MCP_JWK_RSA_MAX_BITS / 8 || eb.len > nb.len) {
        *reason = "RSA key too large";
        return NGX_HTTP_MCP_JWK_SKIP;
    }

    n = BN_bin2bn(nb.data, (int) nb.len, NULL);
    e = BN_bin2bn(eb.data, (int) eb.len, NULL);
    bld = OSSL_PARAM_BLD_new();
    params = NULL;
    rc = NGX_ERROR;

    if (n == NULL || e == NULL || bld == NULL) {
        goto done;
    }

    bits = BN_num_bits(n);

    if (bits < NGX_HTTP_MCP_JWK_RSA_MIN_BITS) {
        *reason = "RSA key under 2048 bits";
        rc = NGX_HTTP_MCP_JWK_SKIP;
        goto done;
    }

    if (!BN_is_odd(n) || !BN_is_odd(e) || BN_is_one(e)) {
        *reason = "RSA modulus or exponent not valid";
        rc = NGX_HTTP_MCP_JWK_SKIP;
        goto done;
    }

    if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1
        || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1)
    {
        goto done;
    }

    params = OSSL_PARAM_BLD_to_param(bld);
    if (params == NULL) {
        goto done;
    }

    *pkey = ngx_http_mcp_jwk_fromdata("RSA", params);

    if (*pkey == NULL) {
        *reason = "RSA key not valid";
        rc = NGX_HTTP_MCP_JWK_SKIP;
        goto done;
    }

    rc = NGX_OK;

done:

    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    ERR_clear_error();

    return rc;
}


static ngx_int_t
ngx_http_mcp_jwk_ec(ngx_http_mcp_jwk_ctx_t *ctx, ngx_http_mcp_json_t *obj,
    EVP_PKEY **pkey, const char **reason)
{
    size_t       size;
    ngx_int_t    rc;
    ngx_str_t    crv, x, y;
    const char  *group;
    OSSL_PARAM   params[3];
    u_char       point[1 + 2 * 48];

    rc = ngx_http_mcp_jwk_string(ctx, obj, "crv", 1, &crv);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_mcp_jwk_bytes(ctx, obj, "x", &x);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_mcp_jwk_bytes(ctx, obj, "y", &y);
    if (rc != NGX_OK) {
        return rc;
    }

    if (crv.len == 5 && ngx_strncmp(crv.data, "P-256", 5) == 0) {
        group = "prime256v1";
        size = 32;

    } else if (crv.len == 5 && ngx_strncmp(crv.data, "P-384", 5) == 0) {
        group = "secp384r1";
        size = 48;

    } else {
        *reason = "EC curve not supported";
        return NGX_HTTP_MCP_JWK_SKIP;
    }

    /* full-length coordinates (RFC 7518 section 6.2.1.2) */

    if (x.len != size || y.len != size) {
        *reason = "EC coordinates of the wrong length";
        return NGX_HTTP_MCP_JWK_SKIP;
    }

    point[0] = 0x04;
    ngx_memcpy(point + 1, x.data, size);
    ngx_memcpy(point + 1 + size, y.data, size);

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                                 (char *) group, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                                  point, 1 + 2 * size);
    params[2] = OSSL_PARAM_construct_end();

    *pkey = ngx_http_mcp_jwk_fromdata("EC", params);

    if (*pkey == NULL) {
        ERR_clear_error();
        *reason = "EC point not on the curve";
        return NGX_HTTP_MCP_JWK_SKIP;
    }

    /* ngx_http_mcp_jwk_classify() checks the point further */

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_jwk_okp(ngx_http_mcp_jwk_ctx_t *ctx, ngx_http_mcp_json_t *obj,
    EVP_PKEY **pkey, const char **reason)
{
    int         id;
    size_t      size;
    ngx_int_t   rc;
    ngx_str_t   crv, x;

    rc = ngx_http_mcp_jwk_string(ctx, obj, "crv", 1, &crv);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_mcp_jwk_bytes(ctx, obj, "x", &x);
    if (rc != NGX_OK) {
        return rc;
    }

    if (crv.len == 7 && ngx_strncmp(crv.data, "Ed25519", 7) == 0) {
        id = EVP_PKEY_ED25519;
        size = 32;

    } else if (crv.len == 5 && ngx_strncmp(crv.data, "Ed448", 5) == 0) {
        id = EVP_PKEY_ED448;
        size = 57;

    } else {
        /* X25519 and X448 are for key agreement */
        *reason = "OKP curve not supported";
        return NGX_HTTP_MCP_JWK_SKIP;
    }

    if (x.len != size) {
        *reason = "OKP key of the wrong length";
        return NGX_HTTP_MCP_JWK_SKIP;
    }

    *pkey = EVP_PKEY_new_raw_public_key(id, NULL, x.data, x.len);

    if (*pkey == NULL) {
        ERR_clear_error();
        *reason = "OKP key not valid";
        return NGX_HTTP_MCP_JWK_SKIP;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_jwk_oct(ngx_http_mcp_jwk_ctx_t *ctx, ngx_http_mcp_json_t *obj,
    ngx_http_mcp_jwk_t *key, const char **reason)
{
    ngx_int_t  rc;

    rc = ngx_http_mcp_jwk_bytes(ctx, obj, "k", &key->secret);
    if (rc != NGX_OK) {
        return rc;
    }

    /* a secret at least as long as the hash (RFC 7518 section 3.2) */

    key->algs = 0;

    if (key->secret.len >= 32) {
        key->algs |= NGX_HTTP_MCP_JWT_HS256;
    }

    if (key->secret.len >= 48) {
        key->algs |= NGX_HTTP_MCP_JWT_HS384;
    }

    if (key->secret.len >= 64) {
        key->algs |= NGX_HTTP_MCP_JWT_HS512;
    }

    if (key->algs == 0) {
        *reason = "oct key under 32 bytes";
        return NGX_HTTP_MCP_JWK_SKIP;
    }

    return NGX_OK;
}


/*
 * A string member: NGX_OK (value->data NULL when absent and optional),
 * NGX_HTTP_MCP_JWK_BAD with ctx->err set, or NGX_ERROR
 */

static ngx_int_t
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

static ngx_int_t
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


/* a public key from OSSL_PARAMs; NULL when refused (or out of memory) */

static EVP_PKEY *
ngx_http_mcp_jwk_fromdata(const char *type, OSSL_PARAM *params)
{
    EVP_PKEY      *pkey;
    EVP_PKEY_CTX  *pctx;

    pkey = NULL;

    pctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (pctx == NULL) {
        return NULL;
    }

    if (EVP_PKEY_fromdata_init(pctx) != 1
        || EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
    {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }

    EVP_PKEY_CTX_free(pctx);

    return pkey;
}


/*
 * The type and the algorithms of a public key, whether it came from a
 * JWK or from PEM; NULL, or the reason it is not usable
 */

static const char *
ngx_http_mcp_jwk_classify(EVP_PKEY *pkey, ngx_http_mcp_jwk_t *key)
{
    int            ok;
    size_t         len;
    BIGNUM        *e;
    EVP_PKEY_CTX  *pctx;
    char           group[64];

    switch (EVP_PKEY_get_base_id(pkey)) {

    case EVP_PKEY_RSA:
        if (EVP_PKEY_get_bits(pkey) < NGX_HTTP_MCP_JWK_RSA_MIN_BITS) {
            return "RSA key under 2048 bits";
        }

        if (EVP_PKEY_get_bits(pkey) > NGX_HTTP_MCP_JWK_RSA_MAX_BITS) {
            return "RSA key too large";
        }

        e = NULL;

        if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
            ERR_clear_error();
            return "RSA key not valid";
        }

        ok = BN_is_odd(e) && !BN_is_one(e);
        BN_free(e);

        if (!ok) {
            return "RSA modulus or exponent not valid";
        }

        key->type = NGX_HTTP_MCP_JWK_RSA;
        key->algs = NGX_HTTP_MCP_JWK_RSA_ALGS;

        return NULL;

    case EVP_PKEY_EC:
        if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                           group, sizeof(group), &len)
            != 1)
        {
            ERR_clear_error();
            return "EC curve not supported";
        }

        if (ngx_strcmp(group, "prime256v1") == 0) {
            key->algs = NGX_HTTP_MCP_JWT_ES256;

        } else if (ngx_strcmp(group, "secp384r1") == 0) {
            key->algs = NGX_HTTP_MCP_JWT_ES384;

        } else {
            return "EC curve not supported";
        }

        pctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
        if (pctx == NULL) {
            ERR_clear_error();
            return "EC key not valid";
        }

        ok = EVP_PKEY_public_check(pctx);

        EVP_PKEY_CTX_free(pctx);
        ERR_clear_error();

        if (ok != 1) {
            return "EC point not on the curve";
        }

        key->type = NGX_HTTP_MCP_JWK_EC;

        return NULL;

    case EVP_PKEY_ED25519:
    case EVP_PKEY_ED448:
        key->type = NGX_HTTP_MCP_JWK_OKP;
        key->algs = NGX_HTTP_MCP_JWT_EDDSA;

        return NULL;

    default:
        return "key type not supported";
    }
}


/* the key's "alg": one algorithm, which must fit the key */

static const char *
ngx_http_mcp_jwk_restrict(ngx_http_mcp_jwk_t *key, ngx_str_t *alg)
{
    ngx_uint_t  a;

    a = ngx_http_mcp_jwt_alg(alg->data, alg->len);

    if (a == 0) {
        return "\"alg\" not supported";
    }

    if ((key->algs & a) == 0) {
        return (key->type == NGX_HTTP_MCP_JWK_OCT
                && (a & NGX_HTTP_MCP_JWT_HMAC))
               ? "oct key shorter than its \"alg\" needs"
               : "\"alg\" does not fit the key type";
    }

    key->algs = a;

    return NULL;
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
