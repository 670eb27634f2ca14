
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


/*
 * Compact JWS tokens: splitting and decoding (parse), the signature
 * (verify, with the keys of ngx_http_mcp_jwk.c), and the registered
 * claims.  Nothing here logs or quotes a token or a key.
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


/* the claims' times: JSON numbers within +-2^53 */
#define NGX_HTTP_MCP_JWT_MAX_TIME    9007199254740992LL

/* leeway beyond this is a configuration error; clamped */
#define NGX_HTTP_MCP_JWT_MAX_LEEWAY  (1LL << 40)

/* the DER form of an ECDSA signature over P-384: 104 bytes at most */
#define NGX_HTTP_MCP_JWT_DER_LEN     128


typedef struct {
    ngx_str_t                   name;
    ngx_uint_t                  alg;
} ngx_http_mcp_jwt_alg_t;


static ngx_int_t ngx_http_mcp_jwt_decode(ngx_pool_t *pool, u_char *p,
    size_t len, ngx_str_t *out);
static ngx_int_t ngx_http_mcp_jwt_object(ngx_pool_t *pool, u_char *p,
    size_t len, ngx_http_mcp_json_limits_t *limits,
    ngx_http_mcp_json_t **obj);
static ngx_int_t ngx_http_mcp_jwt_header(ngx_http_mcp_jwt_t *jwt,
    ngx_str_t *err);
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
static ngx_int_t ngx_http_mcp_jwt_time(ngx_http_mcp_json_t *v, ngx_uint_t up,
    int64_t *t);
static ngx_uint_t ngx_http_mcp_jwt_audience(ngx_str_t *aud,
    ngx_array_t *audiences);
static ngx_uint_t ngx_http_mcp_jwt_uri_equal(ngx_str_t *a, ngx_str_t *b);


static ngx_http_mcp_jwt_alg_t  ngx_http_mcp_jwt_algs[] = {
    { ngx_string("RS256"), NGX_HTTP_MCP_JWT_RS256 },
    { ngx_string("RS384"), NGX_HTTP_MCP_JWT_RS384 },
    { ngx_string("RS512"), NGX_HTTP_MCP_JWT_RS512 },
    { ngx_string("PS256"), NGX_HTTP_MCP_JWT_PS256 },
    { ngx_string("PS384"), NGX_HTTP_MCP_JWT_PS384 },
    { ngx_string("PS512"), NGX_HTTP_MCP_JWT_PS512 },
    { ngx_string("ES256"), NGX_HTTP_MCP_JWT_ES256 },
    { ngx_string("ES384"), NGX_HTTP_MCP_JWT_ES384 },
    { ngx_string("EdDSA"), NGX_HTTP_MCP_JWT_EDDSA },
    { ngx_string("HS256"), NGX_HTTP_MCP_JWT_HS256 },
    { ngx_string("HS384"), NGX_HTTP_MCP_JWT_HS384 },
    { ngx_string("HS512"), NGX_HTTP_MCP_JWT_HS512 },
    { ngx_null_string, 0 }
};


ngx_uint_t
ngx_http_mcp_jwt_alg(u_char *name, size_t len)
{
    ngx_http_mcp_jwt_alg_t  *a;

    /* case-sensitive (RFC 7515 section 4.1.1): "none", "rs256" unknown */

    for (a = ngx_http_mcp_jwt_algs; a->name.len; a++) {
        if (a->name.len == len && ngx_memcmp(a->name.data, name, len) == 0) {
            return a->alg;
        }
    }

    return 0;
}


/*
 * dst->data must have room for ngx_base64_decoded_length(src->len) bytes;
 * refused: any byte outside A-Z a-z 0-9 - _ (so padding too), a length
 * of 4n + 1, and bits left over at the end that are not zero (so that
 * each value has exactly one encoding)
 */

ngx_int_t
ngx_http_mcp_base64url_decode(ngx_str_t *dst, ngx_str_t *src)
{
    u_char      c, *d, *s, *last;
    uint32_t    acc, v;
    ngx_uint_t  bits;

    if (src->len % 4 == 1) {
        return NGX_ERROR;
    }

    acc = 0;
    bits = 0;
    d = dst->data;

    for (s = src->data, last = s + src->len; s < last; s++) {
        c = *s;

        if (c >= 'A' && c <= 'Z') {
            v = c - 'A';

        } else if (c >= 'a' && c <= 'z') {
            v = c - 'a' + 26;

        } else if (c >= '0' && c <= '9') {
            v = c - '0' + 52;

        } else if (c == '-') {
            v = 62;

        } else if (c == '_') {
            v = 63;

        } else {
            return NGX_ERROR;
        }

        acc = (acc << 6) | v;
        bits += 6;

        if (bits >= 8) {
            bits -= 8;
            *d++ = (u_char) (acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }

    if (acc != 0) {
        return NGX_ERROR;
    }

    dst->len = d - dst->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_mcp_jwt_parse(ngx_pool_t *pool, ngx_str_t *token,
    ngx_http_mcp_json_limits_t *limits, ngx_http_mcp_jwt_t *jwt,
    ngx_str_t *err)
{
    u_char     *p, *last, *dot1, *dot2;
    ngx_int_t   rc;

    ngx_memzero(jwt, sizeof(ngx_http_mcp_jwt_t));
    ngx_str_null(err);

    p = token->data;
    last = p + token->len;

    dot1 = (token->len == 0) ? NULL : ngx_strlchr(p, last, '.');
    dot2 = (dot1 == NULL) ? NULL : ngx_strlchr(dot1 + 1, last, '.');

    if (dot2 == NULL || ngx_strlchr(dot2 + 1, last, '.') != NULL) {
        ngx_str_set(err, "not a compact JWS (three parts)");
        return NGX_DECLINED;
    }

    if (dot1 == p || dot2 == dot1 + 1 || dot2 + 1 == last) {
        ngx_str_set(err, "empty part in token");
        return NGX_DECLINED;
    }

    rc = ngx_http_mcp_jwt_object(pool, p, dot1 - p, limits, &jwt->header);

    if (rc == NGX_DECLINED) {
        ngx_str_set(err, "header is not a base64url JSON object");
    }

    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_mcp_jwt_header(jwt, err);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_mcp_jwt_object(pool, dot1 + 1, dot2 - dot1 - 1, limits,
                                 &jwt->claims);

    if (rc == NGX_DECLINED) {
        ngx_str_set(err, "payload is not a base64url JSON object");
    }

    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_mcp_jwt_decode(pool, dot2 + 1, last - dot2 - 1,
                                 &jwt->signature);

    if (rc == NGX_DECLINED) {
        ngx_str_set(err, "signature is not base64url");
    }

    if (rc != NGX_OK) {
        return rc;
    }

    if (jwt->signature.len == 0) {
        ngx_str_set(err, "empty signature");
        return NGX_DECLINED;
    }

    /* a copy, so that the token may go before the result */

    jwt->signed_part.len = dot2 - p;
    jwt->signed_part.data = ngx_pnalloc(pool, jwt->signed_part.len);
    if (jwt->signed_part.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(jwt->signed_part.data, p, jwt->signed_part.len);

    return NGX_OK;
}


/* NGX_OK, NGX_DECLINED (not base64url), NGX_ERROR */

static ngx_int_t
ngx_http_mcp_jwt_decode(ngx_pool_t *pool, u_char *p, size_t len,
    ngx_str_t *out)
{
    ngx_str_t  src;

    src.data = p;
    src.len = len;

    out->data = ngx_pnalloc(pool, ngx_base64_decoded_length(len) + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_mcp_base64url_decode(out, &src) != NGX_OK) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_jwt_object(ngx_pool_t *pool, u_char *p, size_t len,
    ngx_http_mcp_json_limits_t *limits, ngx_http_mcp_json_t **obj)
{
    ngx_int_t                   rc;
    ngx_str_t                   text, err;
    ngx_http_mcp_json_limits_t  lim;

    rc = ngx_http_mcp_jwt_decode(pool, p, len, &text);
    if (rc != NGX_OK) {
        return rc;
    }

    /* the decoded text lives in the pool as long as the tree */

    if (limits) {
        lim = *limits;

    } else {
        ngx_memzero(&lim, sizeof(ngx_http_mcp_json_limits_t));
    }

    lim.in_place = 1;

    rc = ngx_http_mcp_json_parse(pool, text.data, text.len, &lim, obj, &err);
    if (rc != NGX_OK) {
        return rc;
    }

    if ((*obj)->type != NGX_HTTP_MCP_JSON_OBJECT) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_jwt_header(ngx_http_mcp_jwt_t *jwt, ngx_str_t *err)
{
    ngx_str_t            *s;
    ngx_http_mcp_json_t  *v;

    v = ngx_http_mcp_json_member(jwt->header, "alg");

    if (v == NULL) {
        ngx_str_set(err, "no alg");
        return NGX_DECLINED;
    }

    if (v->type != NGX_HTTP_MCP_JSON_STRING) {
        ngx_str_set(err, "bad alg");
        return NGX_DECLINED;
    }

    jwt->alg = ngx_http_mcp_jwt_alg(v->str.data, v->str.len);

    if (jwt->alg == 0) {
        ngx_str_set(err, "alg not supported");
        return NGX_DECLINED;
    }

    /* no extension is understood (RFC 7515 section 4.1.11) */

    if (ngx_http_mcp_json_member(jwt->header, "crit") != NULL) {
        ngx_str_set(err, "crit not understood");
        return NGX_DECLINED;
    }

    /* unencoded payloads (RFC 7797) are not supported */

    if (ngx_http_mcp_json_member(jwt->header, "b64") != NULL) {
        ngx_str_set(err, "b64 not supported");
        return NGX_DECLINED;
    }

    v = ngx_http_mcp_json_member(jwt->header, "typ");

    if (v != NULL) {
        s = &v->str;

        if (v->type != NGX_HTTP_MCP_JSON_STRING
            || !((s->len == sizeof("JWT") - 1
                  && ngx_strncasecmp(s->data, (u_char *) "JWT", s->len) == 0)
                 || (s->len == sizeof("at+jwt") - 1
                     && ngx_strncasecmp(s->data, (u_char *) "at+jwt", s->len)
                        == 0)
                 || (s->len == sizeof("application/at+jwt") - 1
                     && ngx_strncasecmp(s->data,
                                        (u_char *) "application/at+jwt",
                                        s->len)
                        == 0)))
        {
            ngx_str_set(err, "bad typ");
            return NGX_DECLINED;
        }
    }

    v = ngx_http_mcp_json_member(jwt->header, "kid");

    if (v != NULL) {
        if (v->type != NGX_HTTP_MCP_JSON_STRING) {
            ngx_str_set(err, "bad kid");
            return NGX_DECLINED;
        }

        jwt->kid = v->str;
    }

    return NGX_OK;
}


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


ngx_int_t
ngx_http_mcp_jwt_claims(ngx_http_mcp_jwt_t *jwt, ngx_str_t *issuer,
    ngx_array_t *audiences, time_t leeway, time_t now, time_t *expires,
    ngx_str_t *err)
{
    int64_t               exp, t, lw, tnow;
    ngx_uint_t            found;
    ngx_http_mcp_json_t  *v, *e;

    ngx_str_null(err);

    lw = (leeway < 0) ? 0 : ngx_min((int64_t) leeway,
                                    NGX_HTTP_MCP_JWT_MAX_LEEWAY);
    tnow = now;

    /* each time is rounded so that comparing it with an integer is exact */

    v = ngx_http_mcp_json_member(jwt->claims, "exp");

    if (v == NULL) {
        ngx_str_set(err, "no exp");
        return NGX_DECLINED;
    }

    if (ngx_http_mcp_jwt_time(v, 0, &exp) != NGX_OK) {
        ngx_str_set(err, "bad exp");
        return NGX_DECLINED;
    }

    if (tnow > exp + lw) {
        ngx_str_set(err, "expired");
        return NGX_DECLINED;
    }

    v = ngx_http_mcp_json_member(jwt->claims, "nbf");

    if (v != NULL) {
        if (ngx_http_mcp_jwt_time(v, 1, &t) != NGX_OK) {
            ngx_str_set(err, "bad nbf");
            return NGX_DECLINED;
        }

        if (tnow + lw < t) {
            ngx_str_set(err, "not yet valid");
            return NGX_DECLINED;
        }
    }

    v = ngx_http_mcp_json_member(jwt->claims, "iat");

    if (v != NULL) {
        if (ngx_http_mcp_jwt_time(v, 1, &t) != NGX_OK) {
            ngx_str_set(err, "bad iat");
            return NGX_DECLINED;
        }

        if (t > tnow + lw) {
            ngx_str_set(err, "issued in the future");
            return NGX_DECLINED;
        }
    }

    if (issuer && issuer->len) {
        v = ngx_http_mcp_json_member(jwt->claims, "iss");

        if (v == NULL) {
            ngx_str_set(err, "no iss");
            return NGX_DECLINED;
        }

        if (v->type != NGX_HTTP_MCP_JSON_STRING
            || v->str.len != issuer->len
            || ngx_memcmp(v->str.data, issuer->data, issuer->len) != 0)
        {
            ngx_str_set(err, "wrong issuer");
            return NGX_DECLINED;
        }
    }

    v = ngx_http_mcp_json_member(jwt->claims, "aud");
    found = 0;

    if (v != NULL) {

        if (v->type == NGX_HTTP_MCP_JSON_STRING) {
            found = ngx_http_mcp_jwt_audience(&v->str, audiences);

        } else if (v->type == NGX_HTTP_MCP_JSON_ARRAY) {

            for (e = v->first; e; e = e->next) {
                if (e->type != NGX_HTTP_MCP_JSON_STRING) {
                    ngx_str_set(err, "bad aud");
                    return NGX_DECLINED;
                }

                found |= ngx_http_mcp_jwt_audience(&e->str, audiences);
            }

        } else {
            ngx_str_set(err, "bad aud");
            return NGX_DECLINED;
        }
    }

    if (audiences != NULL && !found) {
        if (v == NULL) {
            ngx_str_set(err, "no aud");

        } else {
            ngx_str_set(err, "wrong audience");
        }

        return NGX_DECLINED;
    }

    v = ngx_http_mcp_json_member(jwt->claims, "sub");

    if (v != NULL && v->type != NGX_HTTP_MCP_JSON_STRING) {
        ngx_str_set(err, "bad sub");
        return NGX_DECLINED;
    }

    exp += lw;

    if (exp > (int64_t) NGX_MAX_TIME_T_VALUE) {
        exp = NGX_MAX_TIME_T_VALUE;
    }

    *expires = (time_t) exp;

    return NGX_OK;
}


/*
 * A NumericDate (RFC 7519 section 2) within +-2^53 seconds, rounded down
 * (exp) or up (nbf, iat): "now > exp" then means the same for the
 * rounded value and the exact one.
 */

static ngx_int_t
ngx_http_mcp_jwt_time(ngx_http_mcp_json_t *v, ngx_uint_t up, int64_t *t)
{
    double  d, f;

    if (v->type == NGX_HTTP_MCP_JSON_INTEGER) {
        if (v->integer > NGX_HTTP_MCP_JWT_MAX_TIME
            || v->integer < -NGX_HTTP_MCP_JWT_MAX_TIME)
        {
            return NGX_ERROR;
        }

        *t = v->integer;
        return NGX_OK;
    }

    if (v->type != NGX_HTTP_MCP_JSON_NUMBER) {
        return NGX_ERROR;
    }

    d = v->number;

    /* NaN fails both */

    if (!(d <= (double) NGX_HTTP_MCP_JWT_MAX_TIME
          && d >= -(double) NGX_HTTP_MCP_JWT_MAX_TIME))
    {
        return NGX_ERROR;
    }

    f = (double) (int64_t) d;    /* truncated towards zero */

    if (up && f < d) {
        f += 1;

    } else if (!up && f > d) {
        f -= 1;
    }

    *t = (int64_t) f;

    return NGX_OK;
}


static ngx_uint_t
ngx_http_mcp_jwt_audience(ngx_str_t *aud, ngx_array_t *audiences)
{
    ngx_str_t   *a;
    ngx_uint_t   i;

    if (audiences == NULL) {
        return 0;
    }

    a = audiences->elts;

    for (i = 0; i < audiences->nelts; i++) {
        if (ngx_http_mcp_jwt_uri_equal(aud, &a[i])) {
            return 1;
        }
    }

    return 0;
}


/*
 * Equal, or equal as URIs once scheme and host are lowercased and one
 * trailing "/" is dropped on each side (RFC 8707 resource indicators:
 * "https://MCP.example.com/" names "https://mcp.example.com")
 */

static ngx_uint_t
ngx_http_mcp_jwt_uri_equal(ngx_str_t *a, ngx_str_t *b)
{
    u_char  *p, *q, *last;
    size_t   i, len, host;

    if (a->len == b->len && ngx_memcmp(a->data, b->data, a->len) == 0) {
        return 1;
    }

    len = a->len;

    if (len && a->data[len - 1] == '/') {
        len--;
    }

    if (b->len != len && !(b->len == len + 1 && b->data[len] == '/')) {
        return 0;
    }

    /* scheme "://" authority, up to the next "/" of a */

    last = a->data + len;

    for (p = a->data; p + 2 < last; p++) {
        if (p[0] == ':' && p[1] == '/' && p[2] == '/') {
            break;
        }
    }

    if (p + 2 >= last) {
        return 0;
    }

    q = ngx_strlchr(p + 3, last, '/');
    host = (q ? q : last) - a->data;

    for (i = 0; i < host; i++) {
        if (ngx_tolower(a->data[i]) != ngx_tolower(b->data[i])) {
            return 0;
        }
    }

    return ngx_memcmp(a->data + host, b->data + host, len - host) == 0;
}
