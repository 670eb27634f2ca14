
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


/*
 * The registered claims of a token (RFC 7519 section 4.1): its times
 * against now with leeway, its issuer, and its audience, compared as
 * RFC 8707 resource URIs.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "auth/ngx_http_mcp_jwt.h"


/* the claims' times: JSON numbers within +-2^53 */
#define NGX_HTTP_MCP_JWT_MAX_TIME    9007199254740992LL

/* leeway beyond this is a configuration error; clamped */
#define NGX_HTTP_MCP_JWT_MAX_LEEWAY  (1LL << 40)


static ngx_int_t ngx_http_mcp_jwt_time(ngx_http_mcp_json_t *v, ngx_uint_t up,
    int64_t *t);
static ngx_uint_t ngx_http_mcp_jwt_audience(ngx_str_t *aud,
    ngx_array_t *audiences);
static ngx_uint_t ngx_http_mcp_jwt_uri_equal(ngx_str_t *a, ngx_str_t *b);


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
