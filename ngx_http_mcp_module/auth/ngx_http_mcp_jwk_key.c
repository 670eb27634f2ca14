
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


/*
 * The public key of one JWK of each type (RSA, EC, OKP) as an EVP_PKEY
 * built with OpenSSL 3's APIs, the secret of an oct key, and the checks
 * every public key passes, from a JWK or from PEM: RSA of 2048 to 16384
 * bits with an odd exponent above 1, EC on P-256 or P-384 with its point
 * on the curve, Ed25519 or Ed448.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "auth/ngx_http_mcp_jwt.h"
#include "auth/ngx_http_mcp_jwk_int.h"


#define NGX_HTTP_MCP_JWK_RSA_MIN_BITS  2048
#define NGX_HTTP_MCP_JWK_RSA_MAX_BITS  16384

#define NGX_HTTP_MCP_JWK_RSA_ALGS                                             \
    (NGX_HTTP_MCP_JWT_RS256|NGX_HTTP_MCP_JWT_RS384|NGX_HTTP_MCP_JWT_RS512      \
     |NGX_HTTP_MCP_JWT_PS256|NGX_HTTP_MCP_JWT_PS384|NGX_HTTP_MCP_JWT_PS512)


static EVP_PKEY *ngx_http_mcp_jwk_fromdata(const char *type,
    OSSL_PARAM *params);


ngx_int_t
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


ngx_int_t
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


ngx_int_t
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


ngx_int_t
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

const char *
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

const char *
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
