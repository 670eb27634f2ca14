
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


/*
 * Compact JWS tokens (RFC 7515): algorithm names, base64url, and the
 * split and decoded form of a token (parse).  The signature is checked in
 * ngx_http_mcp_jwt_verify.c, the claims in ngx_http_mcp_jwt_claims.c.
 * Nothing here logs or quotes a token or a key.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "auth/ngx_http_mcp_jwt.h"


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
