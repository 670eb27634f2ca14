
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


/*
 * Target "jwt": a key set and a token through auth/.  The first byte
 * picks the mode, the rest is the text of a key set, a 0x00, and then
 *
 *   bit 0 clear: a compact token, as sent;
 *   bit 0 set:   header JSON 0x00 payload JSON 0x00 signature bytes, which
 *                the target encodes (base64url) into a token, so that the
 *                fuzzer mutates the JSON rather than its encoding.
 *
 * Bit 1 allows the HMAC algorithms as well.  The key set goes through
 * ngx_http_mcp_jwks_parse() (a JWK set, a JWK or PEM); the token through
 * ngx_http_mcp_jwt_parse(), then ngx_http_mcp_jwt_verify() with that set,
 * with the fixed set of t/unit/jwt_vectors.h (RS*, PS*, ES256, ES384,
 * EdDSA and an oct key), with a fixed set of public keys only, and with
 * all of them merged, and ngx_http_mcp_jwt_claims().
 *
 * Invariants: no HMAC ever verifies with a set that has no oct key (key
 * confusion); a verified alg is one of those allowed; a refusal has a
 * reason; claims that pass do not expire before now; OpenSSL's error
 * queue is left empty.  Each input has a pool of its own, destroyed
 * after it, so a key it does not free shows as a leak.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <openssl/err.h>

#include "auth/ngx_http_mcp_jwt.h"
#include "fuzz_common.h"
#include "../unit/jwt_vectors.h"


#define NGX_HTTP_MCP_FUZZ_NOW  1700000000


static ngx_int_t ngx_http_mcp_fuzz_token(ngx_pool_t *pool, u_char *p,
    u_char *last, ngx_uint_t raw, ngx_str_t *token);
static void ngx_http_mcp_fuzz_verify(ngx_http_mcp_jwt_t *jwt,
    ngx_http_mcp_jwks_t *set, ngx_uint_t algs, ngx_uint_t has_oct);
static ngx_uint_t ngx_http_mcp_fuzz_has_oct(ngx_http_mcp_jwks_t *set);


static ngx_log_t            *ngx_http_mcp_fuzz_log;
static ngx_pool_t           *ngx_http_mcp_fuzz_pool;
static ngx_http_mcp_jwks_t   ngx_http_mcp_fuzz_all;      /* JWKS of vectors */
static ngx_http_mcp_jwks_t   ngx_http_mcp_fuzz_public;   /* PEM, no oct */
static ngx_array_t           ngx_http_mcp_fuzz_auds;


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    u_char     *text;
    ngx_str_t   err, *aud;

    ngx_http_mcp_fuzz_log = ngx_http_mcp_fuzz_init();

    /* the fixed sets live as long as the process */

    ngx_http_mcp_fuzz_pool = ngx_create_pool(16384, ngx_http_mcp_fuzz_log);
    if (ngx_http_mcp_fuzz_pool == NULL) {
        abort();
    }

    text = (u_char *) JWT_V_JWKS;

    if (ngx_http_mcp_jwks_parse(ngx_http_mcp_fuzz_pool, text,
                                sizeof(JWT_V_JWKS) - 1,
                                &ngx_http_mcp_fuzz_all, &err)
        != NGX_OK)
    {
        ngx_http_mcp_fuzz_fail("the fixed JWK set", &err, NULL);
    }

    text = (u_char *) JWT_V_PEM_TWO JWT_V_ED_PEM;

    if (ngx_http_mcp_jwks_parse(ngx_http_mcp_fuzz_pool, text,
                                sizeof(JWT_V_PEM_TWO JWT_V_ED_PEM) - 1,
                                &ngx_http_mcp_fuzz_public, &err)
        != NGX_OK)
    {
        ngx_http_mcp_fuzz_fail("the fixed PEM keys", &err, NULL);
    }

    if (ngx_array_init(&ngx_http_mcp_fuzz_auds, ngx_http_mcp_fuzz_pool, 2,
                       sizeof(ngx_str_t))
        != NGX_OK)
    {
        abort();
    }

    aud = ngx_array_push_n(&ngx_http_mcp_fuzz_auds, 2);
    if (aud == NULL) {
        abort();
    }

    ngx_str_set(&aud[0], "https://mcp.example.com/mcp");
    ngx_str_set(&aud[1], "urn:other");

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                *p, *last, *sep;
    time_t                 expires, leeway;
    ngx_int_t              rc, keys_rc;
    ngx_str_t              err, token, iss;
    ngx_uint_t             mode, algs;
    ngx_pool_t            *pool;
    ngx_http_mcp_jwt_t     jwt;
    ngx_http_mcp_jwks_t    set, merged;

    if (size == 0) {
        return 0;
    }

    mode = data[0];
    algs = NGX_HTTP_MCP_JWT_ASYMMETRIC;

    if (mode & 2) {
        algs |= NGX_HTTP_MCP_JWT_HMAC;
    }

    pool = ngx_create_pool(NGX_HTTP_MCP_FUZZ_POOL_SIZE,
                           ngx_http_mcp_fuzz_log);
    if (pool == NULL) {
        abort();
    }

    /* a copy of exactly the input, so that a read past it is seen */

    p = ngx_pnalloc(pool, size - 1 ? size - 1 : 1);
    if (p == NULL) {
        abort();
    }

    ngx_memcpy(p, data + 1, size - 1);
    last = p + size - 1;

    sep = ngx_strlchr(p, last, '\0');

    keys_rc = NGX_DECLINED;

    if (sep == NULL) {
        sep = p;

    } else if (sep > p) {
        keys_rc = ngx_http_mcp_jwks_parse(pool, p, sep - p, &set, &err);

        if (keys_rc == NGX_DECLINED && err.len == 0) {
            ngx_http_mcp_fuzz_fail("a key set refused without a reason",
                                   NULL, NULL);
        }

        if (keys_rc == NGX_OK && set.keys.nelts == 0) {
            ngx_http_mcp_fuzz_fail("a key set without keys", NULL, NULL);
        }

        sep++;

    } else {
        sep++;
    }

    if (ngx_http_mcp_fuzz_token(pool, sep, last, mode & 1, &token)
        != NGX_OK)
    {
        goto done;
    }

    rc = ngx_http_mcp_jwt_parse(pool, &token, NULL, &jwt, &err);

    if (rc == NGX_DECLINED && err.len == 0) {
        ngx_http_mcp_fuzz_fail("a token refused without a reason", NULL,
                               NULL);
    }

    if (rc != NGX_OK) {
        goto done;
    }

    ngx_http_mcp_fuzz_verify(&jwt, &ngx_http_mcp_fuzz_all, algs, 1);
    ngx_http_mcp_fuzz_verify(&jwt, &ngx_http_mcp_fuzz_public, algs, 0);

    if (keys_rc == NGX_OK) {
        ngx_http_mcp_fuzz_verify(&jwt, &set,
                                 NGX_HTTP_MCP_JWT_ASYMMETRIC
                                 |NGX_HTTP_MCP_JWT_HMAC,
                                 ngx_http_mcp_fuzz_has_oct(&set));

        ngx_memzero(&merged, sizeof(ngx_http_mcp_jwks_t));

        if (ngx_http_mcp_jwks_merge(&merged, &ngx_http_mcp_fuzz_public)
            != NGX_OK
            || ngx_http_mcp_jwks_merge(&merged, &set) != NGX_OK)
        {
            abort();
        }

        ngx_http_mcp_fuzz_verify(&jwt, &merged, algs,
                                 ngx_http_mcp_fuzz_has_oct(&set));
    }

    ngx_str_set(&iss, "https://issuer.example");
    leeway = (mode >> 2) & 0x3f;

    rc = ngx_http_mcp_jwt_claims(&jwt, (mode & 0x80) ? &iss : NULL,
                                 (mode & 0x40) ? &ngx_http_mcp_fuzz_auds
                                               : NULL,
                                 leeway, NGX_HTTP_MCP_FUZZ_NOW, &expires,
                                 &err);

    if (rc == NGX_OK && expires < NGX_HTTP_MCP_FUZZ_NOW) {
        ngx_http_mcp_fuzz_fail("claims pass, but expired before now", NULL,
                               NULL);
    }

    if (rc == NGX_DECLINED && err.len == 0) {
        ngx_http_mcp_fuzz_fail("claims refused without a reason", NULL,
                               NULL);
    }

    if (rc != NGX_OK && rc != NGX_DECLINED) {
        abort();
    }

done:

    if (ERR_peek_error() != 0) {
        ngx_http_mcp_fuzz_fail("OpenSSL's error queue is not empty", NULL,
                               NULL);
    }

    ngx_destroy_pool(pool);

    return 0;
}


/* the token as sent, or made of header, payload and signature */

static ngx_int_t
ngx_http_mcp_fuzz_token(ngx_pool_t *pool, u_char *p, u_char *last,
    ngx_uint_t raw, ngx_str_t *token)
{
    u_char     *h, *s, *t;
    ngx_str_t   src, dst;

    if (!raw) {
        token->data = p;
        token->len = last - p;
        return NGX_OK;
    }

    h = ngx_strlchr(p, last, '\0');
    if (h == NULL) {
        return NGX_DECLINED;
    }

    s = ngx_strlchr(h + 1, last, '\0');
    if (s == NULL) {
        return NGX_DECLINED;
    }

    t = ngx_pnalloc(pool, ngx_base64_encoded_length(last - p) + 3);
    if (t == NULL) {
        abort();
    }

    token->data = t;

    src.data = p;
    src.len = h - p;
    dst.data = t;
    ngx_encode_base64url(&dst, &src);
    t += dst.len;
    *t++ = '.';

    src.data = h + 1;
    src.len = s - h - 1;
    dst.data = t;
    ngx_encode_base64url(&dst, &src);
    t += dst.len;
    *t++ = '.';

    src.data = s + 1;
    src.len = last - s - 1;
    dst.data = t;
    ngx_encode_base64url(&dst, &src);
    t += dst.len;

    token->len = t - token->data;

    return NGX_OK;
}


static void
ngx_http_mcp_fuzz_verify(ngx_http_mcp_jwt_t *jwt, ngx_http_mcp_jwks_t *set,
    ngx_uint_t algs, ngx_uint_t has_oct)
{
    ngx_int_t  rc;
    ngx_str_t  err;

    rc = ngx_http_mcp_jwt_verify(jwt, set, algs, &err);

    if (rc == NGX_OK) {
        if ((jwt->alg & algs) == 0) {
            ngx_http_mcp_fuzz_fail("verified an alg not allowed", NULL,
                                   NULL);
        }

        if ((jwt->alg & NGX_HTTP_MCP_JWT_HMAC) && !has_oct) {
            ngx_http_mcp_fuzz_fail("an HMAC verified without an oct key",
                                   NULL, NULL);
        }

        return;
    }

    if (rc != NGX_DECLINED) {
        abort();
    }

    if (err.len == 0) {
        ngx_http_mcp_fuzz_fail("a signature refused without a reason", NULL,
                               NULL);
    }
}


static ngx_uint_t
ngx_http_mcp_fuzz_has_oct(ngx_http_mcp_jwks_t *set)
{
    ngx_uint_t           i;
    ngx_http_mcp_jwk_t  *k;

    k = set->keys.elts;

    for (i = 0; i < set->keys.nelts; i++) {
        if (k[i].type == NGX_HTTP_MCP_JWK_OCT) {
            return 1;
        }
    }

    return 0;
}
