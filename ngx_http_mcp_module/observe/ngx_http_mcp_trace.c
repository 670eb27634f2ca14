
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/rand.h>

#include "ngx_http_mcp_module.h"
#include "observe/ngx_http_mcp_observe.h"


/*
 * W3C trace context (https://www.w3.org/TR/trace-context/): a request
 * continues the trace of a valid `traceparent` (version 00, or a later
 * one that may carry more after a "-": 2 hex digits, "-", 32, "-", 16,
 * "-", 2, lowercase, neither id all zeros, version not ff), else it begins
 * one.  Its own span, and each call's, get new ids from a per-worker
 * xoshiro256** generator seeded by RAND_bytes: ids must not collide and
 * need not be secret, and a RAND_bytes call per id would cost more than
 * the rest of the trace.
 *
 * The `tracestate` that comes with a continued traceparent (its headers,
 * joined, or the 2026 _meta's) goes on to the calls as it came, when it
 * is valid: at most 32 members key=value of the specification's
 * characters, 512 bytes in all (what it asks every vendor to pass on);
 * anything else is dropped whole, and never reaches a header.
 */


#define NGX_HTTP_MCP_TRACEPARENT_LEN  55
#define NGX_HTTP_MCP_TRACESTATE_MAX   512
#define NGX_HTTP_MCP_TRACESTATE_KEYS  32


static ngx_table_elt_t *ngx_http_mcp_trace_header(ngx_http_request_t *r,
    ngx_str_t *name, ngx_uint_t *n);
static void ngx_http_mcp_trace_tracestate(ngx_http_request_t *r,
    ngx_http_mcp_obs_t *o);
static ngx_int_t ngx_http_mcp_trace_state_valid(ngx_str_t *ts);
static ngx_int_t ngx_http_mcp_trace_parse(ngx_str_t *tp,
    ngx_http_mcp_obs_t *o);
static ngx_int_t ngx_http_mcp_trace_hex(u_char *p, size_t n, u_char *out);
static void ngx_http_mcp_trace_random(u_char *p, size_t n);


static uint64_t    ngx_http_mcp_trace_state[4];
static ngx_uint_t  ngx_http_mcp_trace_seeded;


void
ngx_http_mcp_trace_begin(ngx_http_request_t *r, ngx_http_mcp_obs_t *o)
{
    ngx_uint_t        n;
    ngx_table_elt_t  *h;

    static ngx_str_t  traceparent = ngx_string("traceparent");

    o->traced = 1;

    ngx_http_mcp_trace_random(o->span_id, sizeof(o->span_id));

    h = ngx_http_mcp_trace_header(r, &traceparent, &n);

    if (h && ngx_http_mcp_trace_parse(&h->value, o) == NGX_OK) {
        o->continued = 1;
        ngx_http_mcp_trace_tracestate(r, o);
        return;
    }

    ngx_http_mcp_trace_random(o->trace_id, sizeof(o->trace_id));
    o->flags = 0;
}


void
ngx_http_mcp_trace_continue(ngx_http_mcp_obs_t *o, ngx_str_t *traceparent,
    ngx_str_t *tracestate)
{
    if (o->continued || ngx_http_mcp_trace_parse(traceparent, o) != NGX_OK) {
        return;
    }

    o->continued = 1;

    if (tracestate && ngx_http_mcp_trace_state_valid(tracestate) == NGX_OK) {
        o->tracestate = *tracestate;
    }
}


ngx_int_t
ngx_http_mcp_trace_child(ngx_http_mcp_obs_t *o, ngx_pool_t *pool,
    ngx_str_t *traceparent)
{
    u_char  *p, span[8];

    p = ngx_pnalloc(pool, NGX_HTTP_MCP_TRACEPARENT_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_http_mcp_trace_random(span, sizeof(span));

    traceparent->data = p;

    p = ngx_cpymem(p, "00-", 3);
    p = ngx_hex_dump(p, o->trace_id, sizeof(o->trace_id));
    *p++ = '-';
    p = ngx_hex_dump(p, span, sizeof(span));
    *p++ = '-';
    p = ngx_hex_dump(p, &o->flags, 1);

    traceparent->len = p - traceparent->data;

    return NGX_OK;
}


/* the first header of this name, and how many there are in *n */

static ngx_table_elt_t *
ngx_http_mcp_trace_header(ngx_http_request_t *r, ngx_str_t *name,
    ngx_uint_t *n)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *first;

    part = &r->headers_in.headers.part;
    h = part->elts;
    first = NULL;
    *n = 0;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return first;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == name->len
            && ngx_strncasecmp(h[i].key.data, name->data, name->len) == 0)
        {
            if (first == NULL) {
                first = &h[i];
            }

            (*n)++;
        }
    }
}


/*
 * The tracestate headers of a continued trace: several are one list, as
 * if joined by commas (the specification allows splitting it)
 */

static void
ngx_http_mcp_trace_tracestate(ngx_http_request_t *r, ngx_http_mcp_obs_t *o)
{
    u_char           *p, *last;
    ngx_str_t         ts;
    ngx_uint_t        i, n;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    static ngx_str_t  tracestate = ngx_string("tracestate");

    h = ngx_http_mcp_trace_header(r, &tracestate, &n);

    if (h == NULL) {
        return;
    }

    ts = h->value;

    if (n > 1) {

        /* the list joined: at most 512 bytes are wanted */

        ts.data = ngx_pnalloc(r->pool, NGX_HTTP_MCP_TRACESTATE_MAX);
        if (ts.data == NULL) {
            return;
        }

        p = ts.data;
        last = p + NGX_HTTP_MCP_TRACESTATE_MAX;
        part = &r->headers_in.headers.part;

        for ( ;; ) {
            h = part->elts;

            for (i = 0; i < part->nelts; i++) {
                if (h[i].key.len != tracestate.len
                    || ngx_strncasecmp(h[i].key.data, tracestate.data,
                                       tracestate.len)
                       != 0)
                {
                    continue;
                }

                if ((size_t) (last - p) < h[i].value.len + 1) {
                    return;
                }

                if (p != ts.data) {
                    *p++ = ',';
                }

                p = ngx_cpymem(p, h[i].value.data, h[i].value.len);
            }

            if (part->next == NULL) {
                break;
            }

            part = part->next;
        }

        ts.len = p - ts.data;
    }

    if (ngx_http_mcp_trace_state_valid(&ts) == NGX_OK) {
        o->tracestate = ts;
    }
}


/*
 * The specification's list: members separated by commas and optional
 * blanks, empty ones allowed; a member is key=value, the key 1 to 256
 * lowercase letters, digits, underscores, dashes, asterisks and slashes
 * with at most one @ (tenant@system), the value 1 to 256 printable bytes
 * but comma and equals, not ending in a space
 */

static ngx_int_t
ngx_http_mcp_trace_state_valid(ngx_str_t *ts)
{
    u_char      c, *p, *last, *start, *end;
    ngx_uint_t  members, at;

    if (ts->len > NGX_HTTP_MCP_TRACESTATE_MAX) {
        return NGX_DECLINED;
    }

    p = ts->data;
    last = p + ts->len;
    members = 0;

    while (p < last) {

        while (p < last && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (p == last) {
            break;
        }

        if (*p == ',') {
            p++;
            continue;
        }

        /* the key */

        c = *p;

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
            return NGX_DECLINED;
        }

        for (start = p, at = 0; p < last && *p != '='; p++) {
            c = *p;

            if (c == '@') {
                if (at++) {
                    return NGX_DECLINED;
                }

                continue;
            }

            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                  || c == '_' || c == '-' || c == '*' || c == '/'))
            {
                return NGX_DECLINED;
            }
        }

        if (p == last || p - start > 256 || p[-1] == '@') {
            return NGX_DECLINED;
        }

        /* the value, to the next comma, blanks after it not its own */

        for (start = ++p; p < last && *p != ','; p++) {
            c = *p;

            if ((c < 0x20 && c != '\t') || c > 0x7e || c == '=') {
                return NGX_DECLINED;
            }
        }

        for (end = p; end > start && (end[-1] == ' ' || end[-1] == '\t');
             end--)
        {
            /* void */
        }

        if (end == start || end - start > 256
            || ngx_strlchr(start, end, '\t') != NULL)
        {
            return NGX_DECLINED;
        }

        if (++members > NGX_HTTP_MCP_TRACESTATE_KEYS) {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_trace_parse(ngx_str_t *tp, ngx_http_mcp_obs_t *o)
{
    u_char   *p, version, trace[16], span[8], flags;
    ngx_uint_t  i, zero;

    p = tp->data;

    if (tp->len < NGX_HTTP_MCP_TRACEPARENT_LEN
        || p[2] != '-' || p[35] != '-' || p[52] != '-'
        || ngx_http_mcp_trace_hex(p, 1, &version) != NGX_OK
        || version == 0xff
        || (version == 0 && tp->len != NGX_HTTP_MCP_TRACEPARENT_LEN)
        || (version != 0 && tp->len > NGX_HTTP_MCP_TRACEPARENT_LEN
            && p[NGX_HTTP_MCP_TRACEPARENT_LEN] != '-')
        || ngx_http_mcp_trace_hex(p + 3, 16, trace) != NGX_OK
        || ngx_http_mcp_trace_hex(p + 36, 8, span) != NGX_OK
        || ngx_http_mcp_trace_hex(p + 53, 1, &flags) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    for (zero = 1, i = 0; i < 16; i++) {
        zero &= (trace[i] == 0);
    }

    if (zero) {
        return NGX_DECLINED;
    }

    for (zero = 1, i = 0; i < 8; i++) {
        zero &= (span[i] == 0);
    }

    if (zero) {
        return NGX_DECLINED;
    }

    ngx_memcpy(o->trace_id, trace, sizeof(trace));
    o->flags = flags & 0x01;               /* sampled: the one flag kept */

    return NGX_OK;
}


/* n bytes from 2n lowercase hex digits */

static ngx_int_t
ngx_http_mcp_trace_hex(u_char *p, size_t n, u_char *out)
{
    u_char      c, v;
    ngx_uint_t  i, k;

    for (i = 0; i < n; i++) {
        v = 0;

        for (k = 0; k < 2; k++) {
            c = *p++;

            if (c >= '0' && c <= '9') {
                v = (u_char) (v << 4 | (c - '0'));

            } else if (c >= 'a' && c <= 'f') {
                v = (u_char) (v << 4 | (c - 'a' + 10));

            } else {
                return NGX_DECLINED;
            }
        }

        out[i] = v;
    }

    return NGX_OK;
}


#define ngx_http_mcp_rotl64(x, k)  (((x) << (k)) | ((x) >> (64 - (k))))

static void
ngx_http_mcp_trace_random(u_char *p, size_t n)
{
    uint64_t  *s, r, t;
    size_t     k;

    s = ngx_http_mcp_trace_state;

    if (!ngx_http_mcp_trace_seeded) {
        if (RAND_bytes((u_char *) s, sizeof(ngx_http_mcp_trace_state))
            != 1)
        {
            s[0] = (uint64_t) ngx_random() << 32 | ngx_pid;
            s[1] = (uint64_t) ngx_time() << 20 | ngx_random();
            s[2] = 0x9e3779b97f4a7c15ULL;
            s[3] = (uint64_t) ngx_current_msec;
        }

        ngx_http_mcp_trace_seeded = 1;
    }

    while (n) {
        r = ngx_http_mcp_rotl64(s[1] * 5, 7) * 9;
        t = s[1] << 17;

        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = ngx_http_mcp_rotl64(s[3], 45);

        k = ngx_min(n, sizeof(uint64_t));
        ngx_memcpy(p, &r, k);
        p += k;
        n -= k;
    }
}
