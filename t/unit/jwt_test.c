
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


/*
 * Unit tests of auth/: JWK sets and PEM keys (ngx_http_mcp_jwk.c), and
 * tokens, signatures and claims (ngx_http_mcp_jwt.c).  The keys and the
 * signed tokens are in jwt_vectors.h (made by jwt_vectors.pl with the
 * openssl CLI and Crypt::JWT); unsigned tokens are built here.  Run from
 * json_test.c's directive, with its counters.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <stdio.h>

#include "auth/ngx_http_mcp_jwt.h"
#include "jwt_vectors.h"


#define ALL  (NGX_HTTP_MCP_JWT_ASYMMETRIC|NGX_HTTP_MCP_JWT_HMAC)
#define ASY  NGX_HTTP_MCP_JWT_ASYMMETRIC

/* as in json_test.c: tiny under ASan (run.sh SANITIZE=1) */
#ifndef NGX_HTTP_MCP_UNIT_POOL_SIZE
#define NGX_HTTP_MCP_UNIT_POOL_SIZE  16384
#endif


void ngx_http_mcp_unit_jwt(ngx_pool_t *p, ngx_uint_t *tests,
    ngx_uint_t *failed);


static ngx_pool_t  *pool;
static ngx_uint_t  *ntests, *nfailed;


static void
ok(int cond, const char *fmt, ...)
{
    va_list  args;

    (*ntests)++;

    if (!cond) {
        (*nfailed)++;
    }

    printf("%sok %u - ", cond ? "" : "not ", (unsigned) *ntests);

    va_start(args, fmt);
    vprintf(fmt, args);
    va_end(args);

    printf("\n");
}


static int
is(ngx_str_t *s, const char *lit)
{
    return s->len == ngx_strlen(lit)
           && ngx_memcmp(s->data, lit, s->len) == 0;
}


static int
has(ngx_str_t *s, const char *needle)
{
    size_t  n;

    n = ngx_strlen(needle);

    return s->len >= n
           && ngx_strlcasestrn(s->data, s->data + s->len, (u_char *) needle,
                               n - 1)
              != NULL;
}


static void
show(ngx_str_t *err)
{
    printf("#   err: %.*s\n", (int) err->len, err->data);
}


static ngx_int_t
keys(const char *text, ngx_http_mcp_jwks_t *set, ngx_str_t *err)
{
    return ngx_http_mcp_jwks_parse(pool, (u_char *) text, ngx_strlen(text),
                                   set, err);
}


static ngx_str_t
str(const char *s)
{
    ngx_str_t  v;

    v.data = (u_char *) s;
    v.len = ngx_strlen(s);

    return v;
}


/* header.payload.signature of texts, base64url-encoded here */

static char *
make(const char *header, const char *payload, const char *sig)
{
    u_char     *start, *p;
    ngx_str_t   src, dst;

    start = ngx_pnalloc(pool, 2 * ngx_strlen(header)
                              + 2 * ngx_strlen(payload)
                              + ngx_strlen(sig) + 16);
    if (start == NULL) {
        printf("Bail out! no memory\n");
        exit(2);
    }

    p = start;

    src = str(header);
    dst.data = p;
    ngx_encode_base64url(&dst, &src);
    p += dst.len;
    *p++ = '.';

    src = str(payload);
    dst.data = p;
    ngx_encode_base64url(&dst, &src);
    p += dst.len;
    *p++ = '.';

    p = ngx_cpymem(p, sig, ngx_strlen(sig));
    *p = '\0';

    return (char *) start;
}


static ngx_int_t
parse(const char *token, ngx_http_mcp_jwt_t *jwt, ngx_str_t *err)
{
    ngx_str_t  t;

    t = str(token);

    return ngx_http_mcp_jwt_parse(pool, &t, NULL, jwt, err);
}


static ngx_int_t
verify(ngx_http_mcp_jwks_t *set, const char *token, ngx_uint_t algs,
    ngx_str_t *err)
{
    ngx_int_t           rc;
    ngx_http_mcp_jwt_t  jwt;

    rc = parse(token, &jwt, err);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_mcp_jwt_verify(&jwt, set, algs, err);
}


static void
verifies(ngx_http_mcp_jwks_t *set, const char *token, ngx_uint_t algs,
    const char *name)
{
    ngx_int_t  rc;
    ngx_str_t  err;

    rc = verify(set, token, algs, &err);

    ok(rc == NGX_OK, "verifies: %s", name);

    if (rc != NGX_OK) {
        show(&err);
    }
}


static void
refused(ngx_http_mcp_jwks_t *set, const char *token, ngx_uint_t algs,
    const char *reason, const char *name)
{
    ngx_int_t  rc;
    ngx_str_t  err;

    rc = verify(set, token, algs, &err);

    ok(rc == NGX_DECLINED && is(&err, reason), "refused (%s): %s", reason,
       name);

    if (rc != NGX_DECLINED || !is(&err, reason)) {
        printf("#   rc %d\n", (int) rc);
        show(&err);
    }
}


static void
parse_refused(const char *token, const char *reason, const char *name)
{
    ngx_int_t           rc;
    ngx_str_t           err;
    ngx_http_mcp_jwt_t  jwt;

    rc = parse(token, &jwt, &err);

    ok(rc == NGX_DECLINED && has(&err, reason), "parse refused (%s): %s",
       reason, name);

    if (rc != NGX_DECLINED || !has(&err, reason)) {
        show(&err);
    }
}


static void
keys_refused(const char *text, const char *reason, const char *name)
{
    ngx_int_t            rc;
    ngx_str_t            err;
    ngx_http_mcp_jwks_t  set;

    rc = keys(text, &set, &err);

    ok(rc == NGX_DECLINED && has(&err, reason), "keys refused (%s): %s",
       reason, name);

    if (rc != NGX_DECLINED || !has(&err, reason)) {
        show(&err);
    }
}


/* a set of one good key and one that is skipped for `reason` */

static void
key_skipped(const char *jwk, const char *reason, const char *name)
{
    u_char               *p;
    ngx_int_t             rc;
    ngx_str_t             err;
    ngx_http_mcp_jwks_t   set;

    p = ngx_pnalloc(pool, ngx_strlen(jwk) + 256);
    if (p == NULL) {
        printf("Bail out! no memory\n");
        exit(2);
    }

    ngx_sprintf(p, "{\"keys\":[{\"kty\":\"oct\",\"k\":"
                "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"},%s]}%Z",
                jwk);

    rc = keys((char *) p, &set, &err);

    ok(rc == NGX_OK && set.keys.nelts == 1 && has(&err, "1 skipped, key 1")
       && has(&err, reason), "key skipped (%s): %s", reason, name);

    if (rc != NGX_OK || !has(&err, reason)) {
        show(&err);
    }

    /* alone, it leaves no usable key */

    rc = keys(jwk, &set, &err);

    ok(rc == NGX_DECLINED && has(&err, "no usable key") && has(&err, reason),
       "alone, no usable key: %s", name);

    if (rc != NGX_DECLINED) {
        show(&err);
    }
}


static void
test_alg_base64url(void)
{
    u_char      buf[64];
    ngx_str_t   src, dst;
    ngx_uint_t  i;

    static struct {
        const char  *in;
        const char  *out;          /* NULL: refused */
        size_t       len;
    } b64[] = {
        { "", "", 0 },
        { "QQ", "A", 1 },
        { "QUI", "AB", 2 },
        { "QUJD", "ABC", 3 },
        { "QUJDRA", "ABCD", 4 },
        { "-w", "\xfb", 1 },
        { "__8", "\xff\xff", 2 },
        { "Q", NULL, 0 },
        { "QUJDR", NULL, 0 },
        { "QQ==", NULL, 0 },
        { "QQ=", NULL, 0 },
        { "QR", NULL, 0 },             /* bits left over */
        { "QUJ", NULL, 0 },
        { "a+b/", NULL, 0 },
        { "QU I", NULL, 0 },
        { "QU.I", NULL, 0 },
    };

    ok(ngx_http_mcp_jwt_alg((u_char *) "RS256", 5) == NGX_HTTP_MCP_JWT_RS256,
       "alg RS256");
    ok(ngx_http_mcp_jwt_alg((u_char *) "EdDSA", 5) == NGX_HTTP_MCP_JWT_EDDSA,
       "alg EdDSA");
    ok(ngx_http_mcp_jwt_alg((u_char *) "HS512", 5) == NGX_HTTP_MCP_JWT_HS512,
       "alg HS512");
    ok(ngx_http_mcp_jwt_alg((u_char *) "none", 4) == 0, "alg none unknown");
    ok(ngx_http_mcp_jwt_alg((u_char *) "rs256", 5) == 0,
       "alg names are case-sensitive");
    ok(ngx_http_mcp_jwt_alg((u_char *) "RS2560", 6) == 0, "alg RS2560");
    ok(ngx_http_mcp_jwt_alg((u_char *) "ES512", 5) == 0, "alg ES512");

    for (i = 0; i < sizeof(b64) / sizeof(b64[0]); i++) {
        src = str(b64[i].in);
        dst.data = buf;

        if (b64[i].out) {
            ok(ngx_http_mcp_base64url_decode(&dst, &src) == NGX_OK
               && dst.len == b64[i].len
               && ngx_memcmp(buf, b64[i].out, dst.len) == 0,
               "base64url \"%s\"", b64[i].in);

        } else {
            ok(ngx_http_mcp_base64url_decode(&dst, &src) == NGX_ERROR,
               "base64url \"%s\" refused", b64[i].in);
        }
    }

    src.data = (u_char *) "QU\0I";
    src.len = 4;
    dst.data = buf;

    ok(ngx_http_mcp_base64url_decode(&dst, &src) == NGX_ERROR,
       "base64url with NUL refused");
}


static void
test_keys(void)
{
    ngx_int_t             rc;
    ngx_str_t             err;
    ngx_http_mcp_jwk_t   *k;
    ngx_http_mcp_jwks_t   set, pem;

    rc = keys(JWT_V_JWKS, &set, &err);
    k = set.keys.elts;

    ok(rc == NGX_OK && set.keys.nelts == 6 && err.len == 0,
       "JWK set: 6 keys");

    if (rc != NGX_OK) {
        show(&err);
        return;
    }

    ok(k[0].type == NGX_HTTP_MCP_JWK_RSA && is(&k[0].kid, "rsa-1")
       && k[0].algs == (NGX_HTTP_MCP_JWT_RS256|NGX_HTTP_MCP_JWT_RS384
                        |NGX_HTTP_MCP_JWT_RS512|NGX_HTTP_MCP_JWT_PS256
                        |NGX_HTTP_MCP_JWT_PS384|NGX_HTTP_MCP_JWT_PS512)
       && k[0].pkey != NULL,
       "RSA key: RS* and PS*");
    ok(k[1].type == NGX_HTTP_MCP_JWK_RSA && is(&k[1].kid, "rsa-1"),
       "a second key of the same kid is kept");
    ok(k[2].type == NGX_HTTP_MCP_JWK_EC
       && k[2].algs == NGX_HTTP_MCP_JWT_ES256, "EC P-256 key: ES256");
    ok(k[3].type == NGX_HTTP_MCP_JWK_EC
       && k[3].algs == NGX_HTTP_MCP_JWT_ES384, "EC P-384 key: ES384");
    ok(k[4].type == NGX_HTTP_MCP_JWK_OKP
       && k[4].algs == NGX_HTTP_MCP_JWT_EDDSA, "OKP key: EdDSA");
    ok(k[5].type == NGX_HTTP_MCP_JWK_OCT && k[5].pkey == NULL
       && k[5].secret.len == JWT_V_SECRET_LEN
       && k[5].algs == NGX_HTTP_MCP_JWT_HS256,
       "oct key of 32 bytes: HS256 only");

    rc = keys(JWT_V_PEM_TWO, &pem, &err);
    k = pem.keys.elts;

    ok(rc == NGX_OK && pem.keys.nelts == 2
       && k[0].type == NGX_HTTP_MCP_JWK_RSA && k[0].kid.len == 0
       && k[1].type == NGX_HTTP_MCP_JWK_EC
       && k[1].algs == NGX_HTTP_MCP_JWT_ES256,
       "PEM with two keys: RSA and EC");

    rc = keys("\n  " JWT_V_ED_PEM "trailing words\n", &pem, &err);
    k = pem.keys.elts;

    ok(rc == NGX_OK && pem.keys.nelts == 1
       && k[0].type == NGX_HTTP_MCP_JWK_OKP, "PEM Ed25519 key");

    rc = keys("{\"kty\":\"oct\",\"kid\":\"one\",\"k\":"
              "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
              "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}", &set, &err);
    k = set.keys.elts;

    ok(rc == NGX_OK && set.keys.nelts == 1 && is(&k[0].kid, "one")
       && k[0].algs == NGX_HTTP_MCP_JWT_HMAC,
       "a single JWK; oct of 74 bytes: HS256, HS384, HS512");

    rc = keys("{\"keys\":[{\"kty\":\"oct\",\"alg\":\"HS384\",\"k\":"
              "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
              "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}]}", &set, &err);
    k = set.keys.elts;

    ok(rc == NGX_OK && set.keys.nelts == 1
       && k[0].algs == NGX_HTTP_MCP_JWT_HS384, "\"alg\" restricts a key");

    /* refused sets: the reason names index and member, never a value */

    keys_refused(JWT_V_JWK_RSA1024, "under 2048 bits", "RSA 1024");
    keys_refused(JWT_V_JWK_RSA1024, "no usable key", "RSA 1024");
    keys_refused(JWT_V_JWK_EC_ALG_RS256, "does not fit",
                 "\"alg\":\"RS256\" on an EC key");
    keys_refused("{\"keys\":[]}", "no usable key", "empty set");
    keys_refused("{\"keys\":{}}", "\"keys\" is not an array", "keys {}");
    keys_refused("{\"keys\":[1]}", "key 0: is not an object", "keys [1]");
    keys_refused("{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAAAAAAAAAAAAAAAAAAAAAA"
                 "AAAAAAAAAAAAAAAAAAAA\"},{\"kty\":\"RSA\",\"n\":\"a+b\","
                 "\"e\":\"AQAB\"}]}", "key 1: \"n\" is not base64url",
                 "bad base64url");
    keys_refused("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"secretvalue=\","
                 "\"e\":\"AQAB\"}]}", "\"n\" is not base64url", "padding");
    keys_refused("{\"kty\":\"RSA\",\"e\":\"AQAB\"}", "\"n\" is missing",
                 "no n");
    keys_refused("{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":3}",
                 "\"e\" is not a string", "e a number");
    keys_refused("{\"kty\":1}", "key 0: \"kty\" is not a string",
                 "kty a number");
    keys_refused("{\"kid\":\"x\"}", "\"kty\" is missing", "no kty");
    keys_refused("{\"kty\":\"oct\",\"kid\":[],\"k\":\"AA\"}",
                 "\"kid\" is not a string", "kid an array");
    keys_refused("{\"kty\":\"oct\",\"use\":null,\"k\":\"AA\"}",
                 "\"use\" is not a string", "use null");
    keys_refused("{\"kty\":\"oct\",\"key_ops\":\"verify\",\"k\":\"AA\"}",
                 "\"key_ops\" is not an array", "key_ops a string");
    keys_refused("{\"kty\":\"oct\",\"key_ops\":[1],\"k\":\"AA\"}",
                 "\"key_ops\" has a non-string", "key_ops [1]");
    keys_refused("{\"kty\":\"oct\",\"alg\":true,\"k\":\"AA\"}",
                 "\"alg\" is not a string", "alg true");
    keys_refused("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\"}",
                 "\"y\" is missing", "EC without y");
    keys_refused("{\"kty\":\"oct\",\"k\":\"\"}", "\"k\" is empty",
                 "empty k");
    keys_refused("{\"keys\":[] ", "invalid JSON", "truncated JSON");
    keys_refused("{\"a\":1,\"a\":2}", "invalid JSON", "duplicate member");
    keys_refused("", "neither", "empty text");
    keys_refused("[{\"kty\":\"oct\"}]", "neither", "an array");
    keys_refused("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
                 "bad PEM", "bad PEM");
    keys_refused("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"
                 "\n", "bad PEM", "a private key");
    keys_refused(JWT_V_ED_PEM "-----BEGIN CERTIFICATE-----\nAAAA\n"
                 "-----END CERTIFICATE-----\n", "bad PEM",
                 "a public key and a certificate");

    rc = keys("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"secretvalue=\","
              "\"e\":\"AQAB\"}]}", &set, &err);

    ok(rc == NGX_DECLINED && !has(&err, "secretvalue"),
       "reasons never quote a value");

    /* keys skipped, each with a good oct key beside it */

    key_skipped("{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\",\"use\":"
                "\"enc\"}", "\"use\" is not \"sig\"", "use enc");
    key_skipped("{\"kty\":\"oct\",\"k\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                "AAAAAAAAAAA\",\"key_ops\":[\"sign\"]}", "lacks \"verify\"",
                "key_ops sign");
    key_skipped("{\"kty\":\"XYZ\",\"n\":5}", "unknown kty", "kty XYZ");
    key_skipped("{\"kty\":\"oct\",\"k\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                "AAAAAAAAAAA\"}", "under 32 bytes", "oct of 31 bytes");
    key_skipped("{\"kty\":\"oct\",\"alg\":\"HS512\",\"k\":\"AAAAAAAAAAAA"
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
                "shorter than its \"alg\"", "oct of 48 bytes for HS512");
    key_skipped("{\"kty\":\"oct\",\"alg\":\"RS256\",\"k\":\"AAAAAAAAAAAA"
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}", "does not fit",
                "oct key for RS256");
    key_skipped("{\"kty\":\"oct\",\"alg\":\"none\",\"k\":\"AAAAAAAAAAAA"
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}", "\"alg\" not supported",
                "alg none");
    key_skipped("{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\"AA\",\"y\":"
                "\"AA\"}", "curve not supported", "P-521");
    key_skipped("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":"
                "\"AA\"}", "wrong length", "short EC coordinates");
    key_skipped("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAAAAAAAAAAAA"
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"y\":\"AAAAAAAAAAAAAAAAAA"
                "AAAAAAAAAAAAAAAAAAAAAAAAQ\"}", "not on the curve",
                "EC point off the curve");
    key_skipped("{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AA\"}",
                "OKP curve not supported", "X25519");
    key_skipped("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AA\"}",
                "wrong length", "short Ed25519 key");
    key_skipped(JWT_V_JWK_RSA_E_EVEN, "not valid", "RSA, e even");
    key_skipped(JWT_V_JWK_RSA_E_ONE, "not valid", "RSA, e = 1");
    key_skipped(JWT_V_JWK_RSA1024, "under 2048 bits", "RSA 1024");
}


static void
test_verify(void)
{
    char                 *t;
    ngx_int_t             rc;
    ngx_str_t             err;
    ngx_http_mcp_jwk_t   *k, fake;
    ngx_http_mcp_jwks_t   set, pem, rsa, two, evil;

    if (keys(JWT_V_JWKS, &set, &err) != NGX_OK
        || keys(JWT_V_PEM_TWO, &pem, &err) != NGX_OK
        || keys(JWT_V_RSA_PEM, &rsa, &err) != NGX_OK)
    {
        ok(0, "key sets");
        show(&err);
        return;
    }

    verifies(&set, JWT_V_T_RS256, ASY, "RS256");
    verifies(&set, JWT_V_T_RS384, ASY, "RS384");
    verifies(&set, JWT_V_T_RS512, ASY, "RS512");
    verifies(&set, JWT_V_T_PS256, ASY, "PS256");
    verifies(&set, JWT_V_T_PS384, ASY, "PS384");
    verifies(&set, JWT_V_T_PS512, ASY, "PS512");
    verifies(&set, JWT_V_T_ES256, ASY, "ES256");
    verifies(&set, JWT_V_T_ES384, ASY, "ES384");
    verifies(&set, JWT_V_T_EDDSA, ASY, "EdDSA (Ed25519)");
    verifies(&set, JWT_V_T_RS256_NOKID, ASY, "RS256 without a kid");
    verifies(&set, JWT_V_T_RS256_ROTATED, ASY,
             "RS256 by the second key of a kid");
    verifies(&set, JWT_V_T_RS256, NGX_HTTP_MCP_JWT_RS256, "RS256 alone");

    refused(&set, JWT_V_T_RS256, NGX_HTTP_MCP_JWT_PS256, "alg not allowed",
            "RS256 when only PS256 is");
    refused(&set, JWT_V_T_ES256, ASY & ~NGX_HTTP_MCP_JWT_ES256,
            "alg not allowed", "ES256 not allowed");

    /* HMAC only when listed, and only with an oct key */

    refused(&set, JWT_V_T_HS256, ASY, "alg not allowed", "HS256 by default");
    verifies(&set, JWT_V_T_HS256, ASY | NGX_HTTP_MCP_JWT_HS256,
             "HS256 when allowed");
    refused(&set, JWT_V_T_HS256, NGX_HTTP_MCP_JWT_HS384, "alg not allowed",
            "HS256 when HS384 is");

    refused(&set, JWT_V_T_HS256_CONFUSED, ALL, "no key for alg",
            "HS256 signed with the RSA key's PEM, kid of the RSA key");
    refused(&set, JWT_V_T_HS256_CONFUSED_NOKID, ALL, "bad signature",
            "HS256 signed with the RSA key's PEM, no kid");
    refused(&rsa, JWT_V_T_HS256_CONFUSED_NOKID, ALL, "no key for alg",
            "HS256 signed with the PEM, against that PEM key");
    refused(&rsa, JWT_V_T_HS256_CONFUSED, ALL, NGX_HTTP_MCP_JWT_KID_UNKNOWN,
            "HS256 signed with the PEM, with a kid, against that PEM key");

    /* even a key whose algs were widened by mistake is not used for HMAC */

    k = rsa.keys.elts;
    fake = k[0];
    fake.algs = ALL;
    fake.secret = str(JWT_V_RSA_PEM);

    evil.keys.elts = &fake;
    evil.keys.nelts = 1;

    refused(&evil, JWT_V_T_HS256_CONFUSED_NOKID, ALL, "no key for alg",
            "HS256 never meets an RSA key, whatever its algs");

    fake.pkey = NULL;
    fake.type = NGX_HTTP_MCP_JWK_OCT;
    fake.algs = NGX_HTTP_MCP_JWT_RS256;

    refused(&evil, JWT_V_T_RS256_NOKID, ALL, "no key for alg",
            "RS256 never meets an oct key");

    refused(&set, JWT_V_T_RS256_TAMPERED, ASY, "bad signature",
            "payload changed after signing");
    refused(&set, JWT_V_T_RS256_UNKNOWN_KID, ASY,
            NGX_HTTP_MCP_JWT_KID_UNKNOWN, "unknown kid");
    refused(&set, JWT_V_T_RS256_WEAK, ASY, "bad signature",
            "signed by the 1024-bit key");

    /* ES256: r||s of 64 bytes, nothing else */

    t = ngx_pnalloc(pool, sizeof(JWT_V_T_ES256) + 4);
    ngx_sprintf((u_char *) t, "%sAA%Z", JWT_V_T_ES256);
    refused(&set, t, ASY, "bad signature length",
            "ES256 signature + 1 byte");

    t = ngx_pnalloc(pool, sizeof(JWT_V_T_ES256));
    ngx_sprintf((u_char *) t, "%s%Z", JWT_V_T_ES256);
    t[sizeof(JWT_V_T_ES256) - 1 - 2] = '\0';
    refused(&set, t, ASY, "bad signature length",
            "ES256 signature - 1 byte");

    t = make("{\"alg\":\"ES256\",\"kid\":\"ec-256\"}", "{}",
             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
             "AA");
    refused(&set, t, ASY, "bad signature length",
            "ES256 with 96 bytes (ES384's length)");

    t = make("{\"alg\":\"ES256\",\"kid\":\"ec-256\"}", "{}",
             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
             "AAAAAAAAAAAAAAAAAAAAAAA");
    refused(&set, t, ASY, "bad signature", "ES256 r = s = 0");

    t = make("{\"alg\":\"ES384\",\"kid\":\"ec-256\"}", "{}",
             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
             "AA");
    refused(&set, t, ASY, "no key for alg", "ES384 token, P-256 key's kid");

    t = make("{\"alg\":\"RS256\",\"kid\":\"ec-256\"}", "{}", "AAAA");
    refused(&set, t, ASY, "no key for alg", "RS256 token, EC key's kid");

    t = make("{\"alg\":\"RS256\"}", "{}", "AAAA");
    refused(&set, t, ASY, "bad signature", "RS256, short signature");

    t = make("{\"alg\":\"EdDSA\"}", "{}", "AAAA");
    refused(&set, t, ASY, "bad signature", "EdDSA, short signature");

    /* PEM keys have no kid: tried for any token */

    verifies(&pem, JWT_V_T_RS256_NOKID, ASY, "PEM: RS256");
    verifies(&pem, JWT_V_T_ES256_NOKID, ASY, "PEM: ES256");
    verifies(&pem, JWT_V_T_RS256, ASY, "PEM: RS256 with a kid");
    verifies(&pem, JWT_V_T_PS512, ASY, "PEM: PS512 with a kid");
    refused(&pem, JWT_V_T_EDDSA, ASY, NGX_HTTP_MCP_JWT_KID_UNKNOWN,
            "PEM: EdDSA, no such key");
    refused(&pem, JWT_V_T_EDDSA_NOKID, ASY, "no key for alg",
            "PEM: EdDSA without a kid, no such key");
    refused(&pem, JWT_V_T_RS256_TAMPERED, ASY, NGX_HTTP_MCP_JWT_KID_UNKNOWN,
            "PEM: tampered, with a kid");

    rc = keys(JWT_V_RSA_PKCS1_PEM, &two, &err);

    ok(rc == NGX_OK, "PEM: PKCS #1 RSA key");

    if (rc == NGX_OK) {
        verifies(&two, JWT_V_T_PS256, ASY, "PEM PKCS #1: PS256");
    }

    rc = keys(JWT_V_ED_PEM, &two, &err);

    ok(rc == NGX_OK, "PEM: Ed25519 key");

    if (rc == NGX_OK) {
        verifies(&two, JWT_V_T_EDDSA_NOKID, ASY, "PEM: EdDSA");
    }

    /* merged sets */

    rc = keys(JWT_V_PEM_TWO, &two, &err);

    ok(rc == NGX_OK && ngx_http_mcp_jwks_merge(&two, &set) == NGX_OK
       && two.keys.nelts == 8, "merge: 2 + 6 keys");

    verifies(&two, JWT_V_T_EDDSA, ASY, "merged: EdDSA");
    verifies(&two, JWT_V_T_ES384, ASY, "merged: ES384");
    verifies(&two, JWT_V_T_HS256, ALL, "merged: HS256");
    verifies(&two, JWT_V_T_RS256_ROTATED, ALL, "merged: rotated RS256");
}


static void
test_parse(void)
{
    ngx_int_t                   rc;
    ngx_str_t                   err, t;
    ngx_http_mcp_jwt_t          jwt;
    ngx_http_mcp_json_limits_t  lim;

    rc = parse(JWT_V_T_ES256, &jwt, &err);

    ok(rc == NGX_OK && jwt.alg == NGX_HTTP_MCP_JWT_ES256
       && is(&jwt.kid, "ec-256") && jwt.signature.len == 64
       && jwt.header->type == NGX_HTTP_MCP_JSON_OBJECT
       && jwt.claims->type == NGX_HTTP_MCP_JSON_OBJECT
       && jwt.signed_part.len == (size_t) (strrchr(JWT_V_T_ES256, '.')
                                           - JWT_V_T_ES256),
       "parse: ES256 token");

    parse_refused(make("{\"alg\":\"none\"}", "{}", "AAAA"), "alg not supp",
                  "alg none");
    parse_refused(make("{\"alg\":\"None\"}", "{}", "AAAA"), "alg not supp",
                  "alg None");
    parse_refused(make("{\"alg\":\"none\"}", "{}", ""), "empty",
                  "alg none, empty signature");
    parse_refused(make("{\"alg\":\"RS256\"}", "{}", ""), "empty",
                  "empty signature");
    parse_refused(make("{\"alg\":\"XS256\"}", "{}", "AAAA"), "alg not supp",
                  "unknown alg");
    parse_refused(make("{\"alg\":256}", "{}", "AAAA"), "bad alg",
                  "alg a number");
    parse_refused(make("{\"typ\":\"JWT\"}", "{}", "AAAA"), "no alg",
                  "no alg");
    parse_refused(make("{\"alg\":\"RS256\",\"crit\":[\"exp\"],\"exp\":1}",
                       "{}", "AAAA"), "crit not understood", "crit");
    parse_refused(make("{\"alg\":\"RS256\",\"crit\":[]}", "{}", "AAAA"),
                  "crit not understood", "crit []");
    parse_refused(make("{\"alg\":\"RS256\",\"b64\":false}", "{}", "AAAA"),
                  "b64", "b64");
    parse_refused(make("{\"alg\":\"RS256\",\"typ\":\"JOSE\"}", "{}", "AAAA"),
                  "bad typ", "typ JOSE");
    parse_refused(make("{\"alg\":\"RS256\",\"typ\":1}", "{}", "AAAA"),
                  "bad typ", "typ 1");
    parse_refused(make("{\"alg\":\"RS256\",\"kid\":1}", "{}", "AAAA"),
                  "bad kid", "kid 1");
    parse_refused(make("[\"alg\",\"RS256\"]", "{}", "AAAA"), "header",
                  "header an array");
    parse_refused(make("\"RS256\"", "{}", "AAAA"), "header",
                  "header a string");
    parse_refused(make("{\"alg\":\"RS256\"", "{}", "AAAA"), "header",
                  "header not JSON");
    parse_refused(make("{\"alg\":\"RS256\",\"alg\":\"HS256\"}", "{}",
                       "AAAA"), "header", "duplicate alg");
    parse_refused(make("{\"alg\":\"RS256\"}", "[]", "AAAA"), "payload",
                  "payload an array");
    parse_refused(make("{\"alg\":\"RS256\"}", "", "AAAA"), "empty part",
                  "empty payload");
    parse_refused(make("{\"alg\":\"RS256\"}", "{}", "AA+A"), "signature",
                  "signature not base64url");
    parse_refused(make("{\"alg\":\"RS256\"}", "{}", "AA=="), "signature",
                  "padded signature");
    parse_refused(make("{\"alg\":\"RS256\"}", "{}", "AAAAA"), "signature",
                  "signature of 4n + 1");
    parse_refused("eyJhbGciOiJSUzI1NiJ9.e30=.AAAA", "payload",
                  "padded payload");
    parse_refused("eyJhbGciOiJSUzI1NiJ9.e3 0.AAAA", "payload",
                  "space in payload");
    parse_refused("eyJhbGciOiJSUzI1NiJ9+.e30.AAAA", "header",
                  "+ in header");
    parse_refused("eyJhbGciOiJSUzI1NiJ9.e30", "three parts", "two parts");
    parse_refused("eyJhbGciOiJSUzI1NiJ9.e30.AAAA.AAAA", "three parts",
                  "four parts");
    parse_refused("eyJhbGciOiJSUzI1NiJ9.e30.AAAA.", "three parts",
                  "a trailing dot");
    parse_refused(".e30.AAAA", "empty part", "empty header");
    parse_refused("..", "empty part", "two dots");
    parse_refused("", "three parts", "empty token");

    ok(parse(make("{\"alg\":\"RS256\",\"typ\":\"at+JWT\"}", "{}", "AAAA"),
             &jwt, &err) == NGX_OK, "typ at+JWT");
    ok(parse(make("{\"alg\":\"PS384\",\"typ\":\"Application/AT+jwt\"}", "{}",
                  "AAAA"), &jwt, &err) == NGX_OK
       && jwt.alg == NGX_HTTP_MCP_JWT_PS384 && jwt.kid.len == 0,
       "typ application/at+jwt");

    /* the caller's limits */

    ngx_memzero(&lim, sizeof(ngx_http_mcp_json_limits_t));
    lim.max_depth = 2;

    t = str(make("{\"alg\":\"RS256\"}", "{\"a\":{\"b\":{}}}", "AAAA"));

    ok(ngx_http_mcp_jwt_parse(pool, &t, &lim, &jwt, &err) == NGX_DECLINED,
       "limits: payload too deep");

    lim.max_depth = 3;

    ok(ngx_http_mcp_jwt_parse(pool, &t, &lim, &jwt, &err) == NGX_OK,
       "limits: depth 3");
}


/* claims of an unsigned token, checked */

static ngx_int_t
claims(const char *payload, ngx_str_t *issuer, ngx_array_t *audiences,
    time_t leeway, time_t now, time_t *expires, ngx_str_t *err)
{
    ngx_int_t           rc;
    ngx_http_mcp_jwt_t  jwt;

    rc = parse(make("{\"alg\":\"RS256\"}", payload, "AAAA"), &jwt, err);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_mcp_jwt_claims(&jwt, issuer, audiences, leeway, now,
                                   expires, err);
}


static void
claims_ok(const char *payload, ngx_str_t *issuer, ngx_array_t *audiences,
    time_t leeway, time_t now, const char *name)
{
    time_t     expires;
    ngx_int_t  rc;
    ngx_str_t  err;

    rc = claims(payload, issuer, audiences, leeway, now, &expires, &err);

    ok(rc == NGX_OK, "claims: %s", name);

    if (rc != NGX_OK) {
        show(&err);
    }
}


static void
claims_refused(const char *payload, ngx_str_t *issuer,
    ngx_array_t *audiences, time_t leeway, time_t now, const char *reason,
    const char *name)
{
    time_t     expires;
    ngx_int_t  rc;
    ngx_str_t  err;

    rc = claims(payload, issuer, audiences, leeway, now, &expires, &err);

    ok(rc == NGX_DECLINED && is(&err, reason), "claims refused (%s): %s",
       reason, name);

    if (rc != NGX_DECLINED || !is(&err, reason)) {
        show(&err);
    }
}


static void
test_claims(void)
{
    time_t        expires;
    ngx_str_t     iss, slash, none, err, *a;
    ngx_array_t   auds, empty;

    iss = str("https://issuer.example");
    slash = str("https://issuer.example/");
    ngx_str_null(&none);

    if (ngx_array_init(&auds, pool, 2, sizeof(ngx_str_t)) != NGX_OK
        || ngx_array_init(&empty, pool, 1, sizeof(ngx_str_t)) != NGX_OK)
    {
        printf("Bail out! no memory\n");
        exit(2);
    }

    a = ngx_array_push_n(&auds, 2);
    a[0] = str("https://other.example/");
    a[1] = str("https://mcp.example.com/mcp");

#define BASE  "\"iss\":\"https://issuer.example\",\"sub\":\"u\","             \
              "\"aud\":\"https://mcp.example.com/mcp\""

    ok(claims("{\"exp\":2000,\"nbf\":1000,\"iat\":1000," BASE "}", &iss,
              &auds, 0, 1500, &expires, &err) == NGX_OK && expires == 2000,
       "claims: all good, expires at exp");
    ok(claims("{\"exp\":2000," BASE "}", &iss, &auds, 60, 1500, &expires,
              &err) == NGX_OK && expires == 2060,
       "claims: expires at exp + leeway");
    ok(claims("{\"exp\":2000.9}", NULL, NULL, 0, 1500, &expires, &err)
       == NGX_OK && expires == 2000, "claims: exp 2000.9 rounds down");
    ok(claims("{\"exp\":9007199254740992}", NULL, NULL, 1000000, 1500,
              &expires, &err) == NGX_OK
       && expires == (time_t) (9007199254740992LL + 1000000),
       "claims: exp 2^53");

    claims_ok("{\"exp\":2000}", &none, NULL, 0, 2000, "now == exp");
    claims_refused("{\"exp\":2000}", NULL, NULL, 0, 2001, "expired",
                   "now > exp");
    claims_ok("{\"exp\":2000}", NULL, NULL, 60, 2060, "now == exp + leeway");
    claims_refused("{\"exp\":2000}", NULL, NULL, 60, 2061, "expired",
                   "now > exp + leeway");
    claims_refused("{\"exp\":2000.5}", NULL, NULL, 0, 2001, "expired",
                   "now > exp 2000.5");
    claims_refused("{\"exp\":-5}", NULL, NULL, 0, 0, "expired", "exp -5");
    claims_refused("{\"exp\":2000}", NULL, NULL, -100, 2001, "expired",
                   "negative leeway counts as 0");

    claims_refused("{}", NULL, NULL, 0, 1500, "no exp", "no exp");
    claims_refused("{\"exp\":\"2000\"}", NULL, NULL, 0, 1500, "bad exp",
                   "exp a string");
    claims_refused("{\"exp\":null}", NULL, NULL, 0, 1500, "bad exp",
                   "exp null");
    claims_refused("{\"exp\":true}", NULL, NULL, 0, 1500, "bad exp",
                   "exp true");
    claims_refused("{\"exp\":[2000]}", NULL, NULL, 0, 1500, "bad exp",
                   "exp an array");
    claims_refused("{\"exp\":1e300}", NULL, NULL, 0, 1500, "bad exp",
                   "exp 1e300");
    claims_refused("{\"exp\":9007199254740993}", NULL, NULL, 0, 1500,
                   "bad exp", "exp 2^53 + 1");
    claims_refused("{\"exp\":99999999999999999999999}", NULL, NULL, 0, 1500,
                   "bad exp", "exp beyond int64");
    claims_refused("{\"exp\":-1e17}", NULL, NULL, 0, 1500, "bad exp",
                   "exp -1e17");

    claims_refused("{\"exp\":2000,\"nbf\":1000}", NULL, NULL, 0, 999,
                   "not yet valid", "now < nbf");
    claims_ok("{\"exp\":2000,\"nbf\":1000}", NULL, NULL, 0, 1000,
              "now == nbf");
    claims_ok("{\"exp\":2000,\"nbf\":1000}", NULL, NULL, 1, 999,
              "now + leeway == nbf");
    claims_refused("{\"exp\":2000,\"nbf\":999.5}", NULL, NULL, 0, 999,
                   "not yet valid", "now < nbf 999.5");
    claims_refused("{\"exp\":2000,\"nbf\":\"1000\"}", NULL, NULL, 0, 1500,
                   "bad nbf", "nbf a string");

    claims_refused("{\"exp\":5000,\"iat\":1600}", NULL, NULL, 0, 1500,
                   "issued in the future", "iat > now");
    claims_ok("{\"exp\":5000,\"iat\":1600}", NULL, NULL, 100, 1500,
              "iat == now + leeway");
    claims_refused("{\"exp\":5000,\"iat\":1600.5}", NULL, NULL, 100, 1500,
                   "issued in the future", "iat 1600.5 > now + leeway");
    claims_refused("{\"exp\":5000,\"iat\":{}}", NULL, NULL, 0, 1500,
                   "bad iat", "iat an object");

    claims_refused("{\"exp\":2000," BASE "}", &slash, NULL, 0, 1500,
                   "wrong issuer", "iss compared exactly: a slash");
    claims_refused("{\"exp\":2000,\"iss\":\"https://ISSUER.example\"}", &iss,
                   NULL, 0, 1500, "wrong issuer", "iss compared exactly");
    claims_refused("{\"exp\":2000,\"iss\":1}", &iss, NULL, 0, 1500,
                   "wrong issuer", "iss a number");
    claims_refused("{\"exp\":2000}", &iss, NULL, 0, 1500, "no iss",
                   "no iss");
    claims_ok("{\"exp\":2000,\"iss\":\"x\"}", &none, NULL, 0, 1500,
              "any iss without an issuer");

    claims_ok("{\"exp\":2000,\"aud\":[\"a\","
              "\"https://mcp.example.com/mcp\"]}",
              NULL, &auds, 0, 1500, "aud array with the audience");
    claims_ok("{\"exp\":2000,\"aud\":\"HTTPS://MCP.Example.COM/mcp/\"}",
              NULL, &auds, 0, 1500, "aud: scheme and host case, a slash");
    claims_ok("{\"exp\":2000,\"aud\":\"https://other.example\"}",
              NULL, &auds, 0, 1500, "aud: the other audience, no slash");
    claims_refused("{\"exp\":2000,\"aud\":\"https://mcp.example.com/MCP\"}",
                   NULL, &auds, 0, 1500, "wrong audience",
                   "aud: the path is case-sensitive");
    claims_refused("{\"exp\":2000,"
                   "\"aud\":\"https://mcp.example.com/mcp//\"}",
                   NULL, &auds, 0, 1500, "wrong audience",
                   "aud: one slash only");
    claims_refused("{\"exp\":2000,\"aud\":\"https://mcp.example.com/mc\"}",
                   NULL, &auds, 0, 1500, "wrong audience", "aud: a prefix");
    claims_refused("{\"exp\":2000,\"aud\":\"https://mcp.example.com\"}",
                   NULL, &auds, 0, 1500, "wrong audience", "aud: the host");
    claims_refused("{\"exp\":2000,\"aud\":\"https://other.example.\"}",
                   NULL, &auds, 0, 1500, "wrong audience",
                   "aud: a dot more");
    claims_refused("{\"exp\":2000,\"aud\":\"mcp\"}", NULL, &auds, 0, 1500,
                   "wrong audience", "aud: another string");
    claims_refused("{\"exp\":2000,\"aud\":[]}", NULL, &auds, 0, 1500,
                   "wrong audience", "aud: empty array");
    claims_refused("{\"exp\":2000,\"aud\":[\"https://mcp.example.com/mcp\","
                   "1]}", NULL, &auds, 0, 1500, "bad aud",
                   "aud: array with a number");
    claims_refused("{\"exp\":2000,\"aud\":5}", NULL, &auds, 0, 1500,
                   "bad aud", "aud a number");
    claims_refused("{\"exp\":2000,\"aud\":{}}", NULL, NULL, 0, 1500,
                   "bad aud", "aud an object, no audiences");
    claims_refused("{\"exp\":2000}", NULL, &auds, 0, 1500, "no aud",
                   "no aud");
    claims_refused("{\"exp\":2000,\"aud\":\"x\"}", NULL, &empty, 0, 1500,
                   "wrong audience", "no audience matches an empty list");
    claims_ok("{\"exp\":2000,\"aud\":\"x\"}", NULL, NULL, 0, 1500,
              "any aud without audiences");

    claims_refused("{\"exp\":2000,\"sub\":5}", NULL, NULL, 0, 1500,
                   "bad sub", "sub a number");
    claims_ok("{\"exp\":2000,\"sub\":\"\"}", NULL, NULL, 0, 1500,
              "sub a string");

#undef BASE
}


void
ngx_http_mcp_unit_jwt(ngx_pool_t *p, ngx_uint_t *tests, ngx_uint_t *failed)
{
    ngx_pool_t  *own;

    ntests = tests;
    nfailed = failed;

    /* a pool of its own: its cleanups free the keys */

    own = ngx_create_pool(NGX_HTTP_MCP_UNIT_POOL_SIZE, p->log);
    if (own == NULL) {
        printf("Bail out! no pool\n");
        exit(2);
    }

    pool = own;

    test_alg_base64url();
    test_keys();
    test_verify();
    test_parse();
    test_claims();

    ngx_destroy_pool(own);
}
