
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "json/ngx_http_mcp_json.h"
#include "backend/ngx_http_mcp_pg_value.h"


/*
 * One cell of a text-format libpq result as JSON, by its column type.
 * The text comes from a database and is treated as hostile: every
 * conversion checks the exact form it expects and otherwise declines,
 * and a declined value is written as its text in a JSON string (escaped,
 * invalid UTF-8 replaced), so the output is valid JSON for any bytes.
 */


/* the type OIDs, from PostgreSQL's catalog (pg_type.dat); stable */

#define NGX_HTTP_MCP_PG_BOOL           16
#define NGX_HTTP_MCP_PG_BYTEA          17
#define NGX_HTTP_MCP_PG_INT8           20
#define NGX_HTTP_MCP_PG_INT2           21
#define NGX_HTTP_MCP_PG_INT4           23
#define NGX_HTTP_MCP_PG_TEXT           25
#define NGX_HTTP_MCP_PG_OID            26
#define NGX_HTTP_MCP_PG_JSON           114
#define NGX_HTTP_MCP_PG_FLOAT4         700
#define NGX_HTTP_MCP_PG_FLOAT8         701
#define NGX_HTTP_MCP_PG_BPCHAR         1042
#define NGX_HTTP_MCP_PG_VARCHAR        1043
#define NGX_HTTP_MCP_PG_DATE           1082
#define NGX_HTTP_MCP_PG_TIME           1083
#define NGX_HTTP_MCP_PG_TIMESTAMP      1114
#define NGX_HTTP_MCP_PG_TIMESTAMPTZ    1184
#define NGX_HTTP_MCP_PG_TIMETZ         1266
#define NGX_HTTP_MCP_PG_NUMERIC        1700
#define NGX_HTTP_MCP_PG_UUID           2950
#define NGX_HTTP_MCP_PG_JSONB          3802

/* PostgreSQL's MAXDIM: no array nests deeper */
#define NGX_HTTP_MCP_PG_MAXDIM         6

/* 2^53: integers up to it in magnitude are exact in an IEEE double */
#define NGX_HTTP_MCP_PG_MAX_EXACT      9007199254740992ULL


typedef struct {
    ngx_uint_t                  array;
    ngx_uint_t                  element;
} ngx_http_mcp_pg_array_t;


static ngx_int_t ngx_http_mcp_pg_integer(ngx_http_mcp_jw_t *jw, u_char *p,
    size_t len);
static ngx_int_t ngx_http_mcp_pg_float(ngx_http_mcp_jw_t *jw, u_char *p,
    size_t len);
static ngx_int_t ngx_http_mcp_pg_json(ngx_http_mcp_jw_t *jw, u_char *p,
    size_t len);
static ngx_int_t ngx_http_mcp_pg_bytea(ngx_http_mcp_jw_t *jw, u_char *p,
    size_t len);
static ngx_int_t ngx_http_mcp_pg_datetime(ngx_http_mcp_jw_t *jw,
    ngx_uint_t oid, u_char *p, size_t len);
static u_char *ngx_http_mcp_pg_digits(u_char *p, u_char *last, size_t n);
static u_char *ngx_http_mcp_pg_time(u_char *p, u_char *last);
static ngx_int_t ngx_http_mcp_pg_array(ngx_http_mcp_jw_t *jw,
    ngx_uint_t element, u_char *p, size_t len);
static u_char *ngx_http_mcp_pg_quoted(ngx_http_mcp_jw_t *jw,
    ngx_uint_t element, u_char *p, u_char *last, u_char **buf, size_t size);


/* the array types converted element by element, and their element types */

static ngx_http_mcp_pg_array_t  ngx_http_mcp_pg_arrays[] = {
    { 1000, NGX_HTTP_MCP_PG_BOOL },
    { 1005, NGX_HTTP_MCP_PG_INT2 },
    { 1007, NGX_HTTP_MCP_PG_INT4 },
    { 1016, NGX_HTTP_MCP_PG_INT8 },
    { 1021, NGX_HTTP_MCP_PG_FLOAT4 },
    { 1022, NGX_HTTP_MCP_PG_FLOAT8 },
    { 1231, NGX_HTTP_MCP_PG_NUMERIC },
    { 1009, NGX_HTTP_MCP_PG_TEXT },
    { 1015, NGX_HTTP_MCP_PG_VARCHAR },
    { 1014, NGX_HTTP_MCP_PG_BPCHAR },
    { 199, NGX_HTTP_MCP_PG_JSON },
    { 3807, NGX_HTTP_MCP_PG_JSONB },
    { 1001, NGX_HTTP_MCP_PG_BYTEA },
    { 1115, NGX_HTTP_MCP_PG_TIMESTAMP },
    { 1185, NGX_HTTP_MCP_PG_TIMESTAMPTZ },
    { 1182, NGX_HTTP_MCP_PG_DATE },
    { 1183, NGX_HTTP_MCP_PG_TIME },
    { 1270, NGX_HTTP_MCP_PG_TIMETZ },
    { 2951, NGX_HTTP_MCP_PG_UUID },
    { 1028, NGX_HTTP_MCP_PG_OID },
    { 0, 0 }
};


void
ngx_http_mcp_pg_value(ngx_http_mcp_jw_t *jw, ngx_uint_t oid, u_char *p,
    size_t len)
{
    size_t                    mark;
    ngx_int_t                 rc;
    ngx_http_mcp_pg_array_t  *a;

    mark = ngx_http_mcp_jw_mark(jw);

    switch (oid) {

    case NGX_HTTP_MCP_PG_INT2:
    case NGX_HTTP_MCP_PG_INT4:
    case NGX_HTTP_MCP_PG_INT8:
    case NGX_HTTP_MCP_PG_OID:
        rc = ngx_http_mcp_pg_integer(jw, p, len);
        break;

    case NGX_HTTP_MCP_PG_FLOAT4:
    case NGX_HTTP_MCP_PG_FLOAT8:
        rc = ngx_http_mcp_pg_float(jw, p, len);
        break;

    case NGX_HTTP_MCP_PG_BOOL:

        rc = NGX_DECLINED;

        if (len == 1 && p[0] == 't') {
            ngx_http_mcp_jw_literal(jw, "true");
            rc = NGX_OK;

        } else if (len == 1 && p[0] == 'f') {
            ngx_http_mcp_jw_literal(jw, "false");
            rc = NGX_OK;
        }

        break;

    case NGX_HTTP_MCP_PG_JSON:
    case NGX_HTTP_MCP_PG_JSONB:
        rc = ngx_http_mcp_pg_json(jw, p, len);
        break;

    case NGX_HTTP_MCP_PG_BYTEA:
        rc = ngx_http_mcp_pg_bytea(jw, p, len);
        break;

    case NGX_HTTP_MCP_PG_TIMESTAMP:
    case NGX_HTTP_MCP_PG_TIMESTAMPTZ:
    case NGX_HTTP_MCP_PG_TIMETZ:
        rc = ngx_http_mcp_pg_datetime(jw, oid, p, len);
        break;

    default:

        /* numeric (never exact as a double), date, time, text, ... */

        rc = NGX_DECLINED;

        for (a = ngx_http_mcp_pg_arrays; a->array; a++) {
            if (a->array == oid) {
                rc = ngx_http_mcp_pg_array(jw, a->element, p, len);
                break;
            }
        }
    }

    if (rc == NGX_DECLINED) {

        /* whatever a failed conversion wrote goes: the text instead */

        ngx_http_mcp_jw_rewind(jw, mark);
        ngx_http_mcp_jw_string(jw, p, len);
    }
}


/*
 * int2, int4, oid and int8: a number when the text is a plain integer
 * whose magnitude is at most 2^53 (written as the server wrote it),
 * declined otherwise (a larger int8, or a text that is no integer)
 */

static ngx_int_t
ngx_http_mcp_pg_integer(ngx_http_mcp_jw_t *jw, u_char *p, size_t len)
{
    size_t    i, neg;
    uint64_t  n;

    neg = (len && p[0] == '-');

    /* at most 16 digits: 10^16 > 2^53; no leading zero, as in JSON */

    if (len == neg || len - neg > 16 || (p[neg] == '0' && len - neg > 1)) {
        return NGX_DECLINED;
    }

    n = 0;

    for (i = neg; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return NGX_DECLINED;
        }

        n = n * 10 + (p[i] - '0');
    }

    if (n > NGX_HTTP_MCP_PG_MAX_EXACT) {
        return NGX_DECLINED;
    }

    ngx_http_mcp_jw_raw(jw, p, len);

    return NGX_OK;
}


/*
 * float4 and float8: the text when it is a JSON number (RFC 8259 grammar:
 * -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?), which every finite
 * value's output is; "NaN", "Infinity" and "-Infinity" are declined
 */

static ngx_int_t
ngx_http_mcp_pg_float(ngx_http_mcp_jw_t *jw, u_char *p, size_t len)
{
    u_char  *q, *last, *start;

    q = p;
    last = p + len;

    if (q < last && *q == '-') {
        q++;
    }

    if (q < last && *q == '0') {
        q++;

    } else {
        start = q;

        while (q < last && *q >= '0' && *q <= '9') {
            q++;
        }

        if (q == start) {
            return NGX_DECLINED;
        }
    }

    if (q < last && *q == '.') {
        start = ++q;

        while (q < last && *q >= '0' && *q <= '9') {
            q++;
        }

        if (q == start) {
            return NGX_DECLINED;
        }
    }

    if (q < last && (*q == 'e' || *q == 'E')) {
        q++;

        if (q < last && (*q == '+' || *q == '-')) {
            q++;
        }

        start = q;

        while (q < last && *q >= '0' && *q <= '9') {
            q++;
        }

        if (q == start) {
            return NGX_DECLINED;
        }
    }

    if (q != last) {
        return NGX_DECLINED;
    }

    ngx_http_mcp_jw_raw(jw, p, len);

    return NGX_OK;
}


/*
 * json and jsonb: embedded as they are when the module's own parser takes
 * them (strict UTF-8, paired surrogate escapes, no duplicate member names,
 * its default limits), so that whatever reads the answer with it takes it
 * too; the tree is built in a pool of its own, dropped at once
 */

static ngx_int_t
ngx_http_mcp_pg_json(ngx_http_mcp_jw_t *jw, u_char *p, size_t len)
{
    ngx_int_t             rc;
    ngx_str_t             err;
    ngx_pool_t           *pool;
    ngx_http_mcp_json_t  *root;

    if (jw->failed) {
        return NGX_OK;
    }

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, jw->pool->log);
    if (pool == NULL) {
        jw->failed = 1;
        return NGX_OK;
    }

    rc = ngx_http_mcp_json_parse(pool, p, len, NULL, &root, &err);

    ngx_destroy_pool(pool);

    if (rc == NGX_ERROR) {
        jw->failed = 1;
        return NGX_OK;
    }

    if (rc != NGX_OK) {
        return NGX_DECLINED;
    }

    ngx_http_mcp_jw_raw(jw, p, len);

    return NGX_OK;
}


/*
 * bytea in the hex output format, "\x" and two hex digits a byte: the
 * bytes in base64; the escape format, or anything else, is declined
 */

static ngx_int_t
ngx_http_mcp_pg_bytea(ngx_http_mcp_jw_t *jw, u_char *p, size_t len)
{
    u_char      c, *buf;
    size_t      i, n;
    ngx_uint_t  d, byte;

    if (len < 2 || p[0] != '\\' || p[1] != 'x' || len % 2) {
        return NGX_DECLINED;
    }

    if (jw->failed) {
        return NGX_OK;
    }

    n = (len - 2) / 2;

    buf = ngx_pnalloc(jw->pool, n + 1);
    if (buf == NULL) {
        jw->failed = 1;
        return NGX_OK;
    }

    byte = 0;

    for (i = 2; i < len; i++) {
        c = p[i] | 0x20;

        if (p[i] >= '0' && p[i] <= '9') {
            d = p[i] - '0';

        } else if (c >= 'a' && c <= 'f') {
            d = c - 'a' + 10;

        } else {
            ngx_pfree(jw->pool, buf);
            return NGX_DECLINED;
        }

        byte = byte * 16 + d;

        if (i % 2 == 1) {
            buf[(i - 2) / 2] = (u_char) byte;
            byte = 0;
        }
    }

    ngx_http_mcp_jw_base64(jw, buf, n);

    ngx_pfree(jw->pool, buf);

    return NGX_OK;
}


/*
 * timestamp "2024-01-02 03:04:05[.frac]" becomes "2024-01-02T03:04:05...";
 * timestamptz has a zone after it, "+HH[:MM[:SS]]", and timetz
 * "03:04:05[.frac]+HH[:MM[:SS]]" has no date: a zone of hours alone gets
 * ":00" (ISO 8601 wants the minutes); one with seconds stays as it is.
 * Declined, so kept as text: "infinity", "-infinity", years " BC", and
 * any DateStyle but ISO.
 */

static ngx_int_t
ngx_http_mcp_pg_datetime(ngx_http_mcp_jw_t *jw, ngx_uint_t oid, u_char *p,
    size_t len)
{
    u_char  *q, *last, *space, *zone;

    q = p;
    last = p + len;
    space = NULL;

    if (oid != NGX_HTTP_MCP_PG_TIMETZ) {

        /* a year of 4 digits or more (PostgreSQL goes to 294276) */

        while (q < last && *q >= '0' && *q <= '9') {
            q++;
        }

        if (q - p < 4 || last - q < 7 || q[0] != '-' || q[3] != '-'
            || ngx_http_mcp_pg_digits(q + 1, last, 2) == NULL
            || ngx_http_mcp_pg_digits(q + 4, last, 2) == NULL
            || q[6] != ' ')
        {
            return NGX_DECLINED;
        }

        space = q + 6;
        q += 7;
    }

    q = ngx_http_mcp_pg_time(q, last);
    if (q == NULL) {
        return NGX_DECLINED;
    }

    zone = q;

    if (oid != NGX_HTTP_MCP_PG_TIMESTAMP) {

        if (q == last || (*q != '+' && *q != '-')) {
            return NGX_DECLINED;
        }

        q = ngx_http_mcp_pg_digits(q + 1, last, 2);

        while (q && q < last && *q == ':') {
            q = ngx_http_mcp_pg_digits(q + 1, last, 2);
        }

        if (q == NULL || q - zone > 9) {
            return NGX_DECLINED;
        }
    }

    if (q != last) {
        return NGX_DECLINED;
    }

    /* nothing but digits and "-+:. " was seen: no escaping needed */

    ngx_http_mcp_jw_literal(jw, "\"");

    if (space) {
        ngx_http_mcp_jw_raw(jw, p, space - p);
        ngx_http_mcp_jw_literal(jw, "T");
        ngx_http_mcp_jw_raw(jw, space + 1, last - space - 1);

    } else {
        ngx_http_mcp_jw_raw(jw, p, len);
    }

    if (oid != NGX_HTTP_MCP_PG_TIMESTAMP && last - zone == 3) {
        ngx_http_mcp_jw_literal(jw, ":00");
    }

    ngx_http_mcp_jw_literal(jw, "\"");

    return NGX_OK;
}


/* n digits at p: the end of them, or NULL */

static u_char *
ngx_http_mcp_pg_digits(u_char *p, u_char *last, size_t n)
{
    if ((size_t) (last - p) < n) {
        return NULL;
    }

    for ( /* void */ ; n; n--, p++) {
        if (*p < '0' || *p > '9') {
            return NULL;
        }
    }

    return p;
}


/* "HH:MM:SS[.frac]" at p: the end of it, or NULL */

static u_char *
ngx_http_mcp_pg_time(u_char *p, u_char *last)
{
    u_char  *start;

    if (last - p < 8 || p[2] != ':' || p[5] != ':'
        || ngx_http_mcp_pg_digits(p, last, 2) == NULL
        || ngx_http_mcp_pg_digits(p + 3, last, 2) == NULL
        || ngx_http_mcp_pg_digits(p + 6, last, 2) == NULL)
    {
        return NULL;
    }

    p += 8;

    if (p < last && *p == '.') {
        start = ++p;

        while (p < last && *p >= '0' && *p <= '9') {
            p++;
        }

        if (p == start) {
            return NULL;
        }
    }

    return p;
}


/*
 * An array in PostgreSQL's text form, "{1,2,NULL}", "{{\"a b\",c},{d,e}}",
 * "[0:1]={x,y}", as a JSON array, each element converted by the element
 * type.  Elements are double-quoted (backslash escapes inside) or bare;
 * a bare NULL, in any case, is null.  Declined when malformed: braces out
 * of balance, anything after the last one, deeper than MAXDIM.
 */

static ngx_int_t
ngx_http_mcp_pg_array(ngx_http_mcp_jw_t *jw, ngx_uint_t element, u_char *p,
    size_t len)
{
    u_char      *last, *start, *buf;
    ngx_int_t    rc;
    ngx_uint_t   depth;

    last = p + len;
    buf = NULL;                 /* for quoted elements, made when needed */
    rc = NGX_DECLINED;

    /* the dimension decoration, "[1:2][0:3]=", is skipped */

    if (p < last && *p == '[') {

        while (p < last && *p == '[') {
            for (p++; p < last && *p != ']'; p++) {
                if ((*p < '0' || *p > '9') && *p != ':' && *p != '-'
                    && *p != '+')
                {
                    return NGX_DECLINED;
                }
            }

            if (p == last) {
                return NGX_DECLINED;
            }

            p++;
        }

        if (p == last || *p != '=') {
            return NGX_DECLINED;
        }

        p++;
    }

    if (p == last || *p != '{') {
        return NGX_DECLINED;
    }

    depth = 0;

    for ( ;; ) {

        /* p: an element or an array expected */

        if (p == last) {
            goto done;
        }

        if (*p == '{') {

            if (++depth > NGX_HTTP_MCP_PG_MAXDIM) {
                goto done;
            }

            ngx_http_mcp_jw_literal(jw, "[");
            p++;

            if (p == last || *p != '}') {
                continue;                       /* its first element */
            }

            /* "{}": closed below */

        } else if (*p == '"') {

            p = ngx_http_mcp_pg_quoted(jw, element, p + 1, last, &buf, len);
            if (p == NULL) {
                goto done;
            }

        } else {

            for (start = p; p < last && *p != ',' && *p != '}'; p++) {
                if (*p == '{' || *p == '"' || *p == '\\') {
                    goto done;          /* the server quotes these */
                }
            }

            if (p == start) {
                goto done;              /* "{,", ",,", ",}" */
            }

            if (p - start == 4 && ngx_strncasecmp(start, (u_char *) "NULL", 4)
                                  == 0)
            {
                ngx_http_mcp_jw_literal(jw, "null");

            } else {
                ngx_http_mcp_pg_value(jw, element, start, p - start);
            }
        }

        /* after an element or an array: a comma, or closing braces */

        for ( ;; ) {

            if (p == last) {
                goto done;
            }

            if (*p == ',') {
                ngx_http_mcp_jw_literal(jw, ",");
                p++;
                break;
            }

            if (*p != '}') {
                goto done;
            }

            ngx_http_mcp_jw_literal(jw, "]");
            p++;

            if (--depth == 0) {
                rc = (p == last) ? NGX_OK : NGX_DECLINED;
                goto done;
            }
        }
    }

done:

    if (buf) {
        ngx_pfree(jw->pool, buf);
    }

    return rc;
}


/*
 * A quoted element, p just after its opening quote: converted, unescaped
 * into *buf (of `size` bytes, allocated on first use) when it has a
 * backslash.  Returns the position after the closing quote, or NULL.
 */

static u_char *
ngx_http_mcp_pg_quoted(ngx_http_mcp_jw_t *jw, ngx_uint_t element, u_char *p,
    u_char *last, u_char **buf, size_t size)
{
    u_char  *q, *start;

    start = p;

    while (p < last && *p != '"' && *p != '\\') {
        p++;
    }

    if (p == last) {
        return NULL;                            /* no closing quote */
    }

    if (*p == '"') {
        ngx_http_mcp_pg_value(jw, element, start, p - start);
        return p + 1;
    }

    /* backslashes: unescape into the buffer */

    if (*buf == NULL) {
        *buf = ngx_pnalloc(jw->pool, size);
        if (*buf == NULL) {
            jw->failed = 1;
            return NULL;
        }
    }

    q = ngx_cpymem(*buf, start, p - start);

    while (p < last && *p != '"') {

        if (*p == '\\') {
            if (++p == last) {
                return NULL;
            }
        }

        *q++ = *p++;
    }

    if (p == last) {
        return NULL;
    }

    ngx_http_mcp_pg_value(jw, element, *buf, q - *buf);

    return p + 1;
}
