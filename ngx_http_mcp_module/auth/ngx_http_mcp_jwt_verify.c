
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


/*
 * The signature of a parsed token, with the keys of a set
 * (ngx_http_mcp_jwk.c): RSASSA-PKCS1-v1_5, RSASSA-PSS, ECDSA (JOSE's
 * r || s), EdDSA, and HMAC compared in constant time.  The key's type
 * decides what it may verify, whatever else it says: an HMAC never meets
 * the bytes of a public key.  OpenSSL's error queue is left empty.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include "auth/ngx_http_mcp_jwt.h"


/* the DER form of an ECDSA signature over P-384: 104 bytes at most */
#define NGX_HTTP_MCP_JWT_DER_LEN     128


static ngx_uint_t ngx_http_mcp_jwt_key_fits(ngx_http_mcp_jwk_t *key,
    ngx_uint_t alg);
static const EVP_MD *ngx_http_mcp_jwt_md(ngx_uint_t alg);
static ngx_int_t ngx_http_mcp_jwt_verify_key(ngx_http_mcp_jwt_t *jwt,
    ngx_http_mcp_jwk_t *key);
static ngx_int_t ngx_http_mcp_jwt_verify_hmac(ngx_http_mcp_jwt_t *jwt,
    ngx_http_mcp_jwk_t *key);
static ngx_int_t ngx_http_mcp_jwt_verify_pkey(ngx_http_mcp_jwt_t *jwt,
    ngx_http_mcp_jwk_t *key, u_char *sig, size_t siglen);
static ngx_int_t ngx_http_mcp_jwt_ecdsa_der(ngx_str_t *sig, u_char *der,
    size_t *len);


ngx_int_t
ngx_http_mcp_jwt_verify(ngx_http_mcp_jwt_t *jwt, ngx_http_mcp_jwks_t *set,
    ngx_uint_t algs, ngx_str_t *err)
{
    size_t               siglen;
    ngx_int_t            rc;
    ngx_uint_t           i, kid_seen, tried;
    ngx_http_mcp_jwk_t  *key;

    ngx_str_null(err);

    if ((jwt->alg & algs) == 0) {
        ngx_str_set(err, "alg not allowed");
        return NGX_DECLINED;
    }

    /* r || s of the curve's size, nothing else (RFC 7518 section 3.4) */

    siglen = (jwt->alg == NGX_HTTP_MCP_JWT_ES256) ? 64
             : (jwt->alg == NGX_HTTP_MCP_JWT_ES384) ? 96 : 0;

    if (siglen && jwt->signature.len != siglen) {
        ngx_str_set(err, "bad signature length");
        return NGX_DECLINED;
    }

    kid_seen = 0;
    tried = 0;
    key = set->keys.elts;

    for (i = 0; i < set->keys.nelts; i++) {

        /*
         * a kid picks the keys of that kid; keys without one (PEM) are
         * tried for any token, but do not make its kid known
         */

        if (jwt->kid.len && key[i].kid.len) {
            if (key[i].kid.len != jwt->kid.len
                || ngx_memcmp(key[i].kid.data, jwt->kid.data, jwt->kid.len)
                   != 0)
            {
                continue;
            }

            kid_seen = 1;
        }

        if (!ngx_http_mcp_jwt_key_fits(&key[i], jwt->alg)) {
            continue;
        }

        tried = 1;

        rc = ngx_http_mcp_jwt_verify_key(jwt, &key[i]);

        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    if (jwt->kid.len && !kid_seen) {
        ngx_str_set(err, NGX_HTTP_MCP_JWT_KID_UNKNOWN);
        return NGX_DECLINED;
    }

    if (!tried) {
        ngx_str_set(err, "no key for alg");
        return NGX_DECLINED;
    }

    ngx_str_set(err, "bad signature");
    return NGX_DECLINED;
}


/*
 * The key may verify alg: the alg is among the key's, and the key is of
 * the type the alg needs, whatever its algs say.  An HMAC therefore only
 * ever meets an oct secret, never the bytes of a public key.
 */

static ngx_uint_t
ngx_http_mcp_jwt_key_fits(ngx_http_mcp_jwk_t *key, ngx_uint_t alg)
{
    int  id;

    if ((key->algs & alg) == 0) {
        return 0;
    }

    if (alg & NGX_HTTP_MCP_JWT_HMAC) {
        return key->type == NGX_HTTP_MCP_JWK_OCT && key->pkey == NULL
               && key->secret.len > 0;
    }

    if (key->type == NGX_HTTP_MCP_JWK_OCT || key->pkey == NULL) {
        return 0;
    }

    id = EVP_PKEY_get_base_id(key->pkey);

    switch (alg) {

    case NGX_HTTP_MCP_JWT_ES256:
        return key->type == NGX_HTTP_MCP_JWK_EC && id == EVP_PKEY_EC
               && EVP_PKEY_get_bits(key->pkey) == 256;

    case NGX_HTTP_MCP_JWT_ES384:
        return key->type == NGX_HTTP_MCP_JWK_EC && id == EVP_PKEY_EC
               && EVP_PKEY_get_bits(key->pkey) == 384;

    case NGX_HTTP_MCP_JWT_EDDSA:
        return key->type == NGX_HTTP_MCP_JWK_OKP
               && (id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448);

    default: /* RS*, PS* */
        return key->type == NGX_HTTP_MCP_JWK_RSA && id == EVP_PKEY_RSA;
    }
}


static const EVP_MD *
ngx_http_mcp_jwt_md(ngx_uint_t alg)
{
    switch (alg) {

    case NGX_HTTP_MCP_JWT_RS256:
    case NGX_HTTP_MCP_JWT_PS256:
    case NGX_HTTP_MCP_JWT_ES256:
    case NGX_HTTP_MCP_JWT_HS256:
        return EVP_sha256();

    case NGX_HTTP_MCP_JWT_RS384:
    case NGX_HTTP_MCP_JWT_PS384:
    case NGX_HTTP_MCP_JWT_ES384:
    case NGX_HTTP_MCP_JWT_HS384:
        return EVP_sha384();

    case NGX_HTTP_MCP_JWT_RS512:
    case NGX_HTTP_MCP_JWT_PS512:
    case NGX_HTTP_MCP_JWT_HS512:
        return EVP_sha512();

    default: /* EdDSA hashes by itself */
        return NULL;
    }
}


/* NGX_OK, NGX_DECLINED (the signature does not verify), NGX_ERROR */

static ngx_int_t
ngx_http_mcp_jwt_verify_key(ngx_http_mcp_jwt_t *jwt, ngx_http_mcp_jwk_t *key)
{
    size_t     len;
    ngx_int_t  rc;
    u_char     der[NGX_HTTP_MCP_JWT_DER_LEN];

    if (jwt->alg & NGX_HTTP_MCP_JWT_HMAC) {
        return ngx_http_mcp_jwt_verify_hmac(jwt, key);
    }

    if (jwt->alg & (NGX_HTTP_MCP_JWT_ES256|NGX_HTTP_MCP_JWT_ES384)) {
        rc = ngx_http_mcp_jwt_ecdsa_der(&jwt->signature, der, &len);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_mcp_jwt_verify_pkey(jwt, key, der, len);
    }

    return ngx_http_mcp_jwt_verify_pkey(jwt, key, jwt->signature.data,
                                        jwt->signature.len);
}


static ngx_int_t
ngx_http_mcp_jwt_verify_hmac(ngx_http_mcp_jwt_t *jwt, ngx_http_mcp_jwk_t *key)
{
    const EVP_MD  *md;
    unsigned int   len;
    u_char         mac[EVP_MAX_MD_SIZE];

    md = ngx_http_mcp_jwt_md(jwt->alg);

    if (jwt->signature.len != (size_t) EVP_MD_get_size(md)) {
        return NGX_DECLINED;
    }

    if (key->secret.len > INT_MAX) {
        return NGX_DECLINED;
    }

    if (HMAC(md, key->secret.data, (int) key->secret.len,
             jwt->signed_part.data, jwt->signed_part.len, mac, &len)
        == NULL)
    {
        ERR_clear_error();
        return NGX_ERROR;
    }

    if (len != jwt->signature.len
        || CRYPTO_memcmp(mac, jwt->signature.data, len) != 0)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_jwt_verify_pkey(ngx_http_mcp_jwt_t *jwt, ngx_http_mcp_jwk_t *key,
    u_char *sig, size_t siglen)
{
    int             n;
    EVP_MD_CTX     *mctx;
    const EVP_MD   *md;
    EVP_PKEY_CTX   *pctx;

    md = ngx_http_mcp_jwt_md(jwt->alg);

    mctx = EVP_MD_CTX_new();
    if (mctx == NULL) {
        ERR_clear_error();
        return NGX_ERROR;
    }

    pctx = NULL;
    n = 0;

    if (EVP_DigestVerifyInit(mctx, &pctx, md, NULL, key->pkey) != 1) {
        goto done;
    }

    if (jwt->alg
        & (NGX_HTTP_MCP_JWT_PS256|NGX_HTTP_MCP_JWT_PS384
           |NGX_HTTP_MCP_JWT_PS512))
    {
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0
            || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST)
               <= 0
            || EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) <= 0)
        {
            goto done;
        }
    }

    n = EVP_DigestVerify(mctx, sig, siglen, jwt->signed_part.data,
                         jwt->signed_part.len);

done:

    EVP_MD_CTX_free(mctx);

    if (n == 1) {
        return NGX_OK;
    }

    /* a bad signature leaves errors behind; they must not pile up */

    ERR_clear_error();

    return NGX_DECLINED;
}


/*
 * JOSE's r || s (RFC 7518 section 3.4) to the DER SEQUENCE of two
 * INTEGERs that OpenSSL verifies; the length was checked for the alg
 */

static ngx_int_t
ngx_http_mcp_jwt_ecdsa_der(ngx_str_t *sig, u_char *der, size_t *len)
{
    int         n;
    BIGNUM     *r, *s;
    ECDSA_SIG  *es;

    es = ECDSA_SIG_new();
    r = BN_bin2bn(sig->data, sig->len / 2, NULL);
    s = BN_bin2bn(sig->data + sig->len / 2, sig->len / 2, NULL);

    if (es == NULL || r == NULL || s == NULL) {
        ECDSA_SIG_free(es);
        BN_free(r);
        BN_free(s);
        ERR_clear_error();
        return NGX_ERROR;
    }

    /* the signature owns r and s from here */

    if (ECDSA_SIG_set0(es, r, s) != 1) {
        ECDSA_SIG_free(es);
        BN_free(r);
        BN_free(s);
        ERR_clear_error();
        return NGX_ERROR;
    }

    n = i2d_ECDSA_SIG(es, NULL);

    if (n <= 0 || n > NGX_HTTP_MCP_JWT_DER_LEN) {
        ECDSA_SIG_free(es);
        ERR_clear_error();
        return NGX_DECLINED;
    }

    n = i2d_ECDSA_SIG(es, &der);

    ECDSA_SIG_free(es);

    if (n <= 0) {
        ERR_clear_error();
        return NGX_DECLINED;
    }

    *len = n;

    return NGX_OK;
}
