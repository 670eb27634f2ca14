
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "transport/ngx_http_mcp_http.h"


/*
 * What the client's request headers allow: Host and Origin (DNS rebinding
 * protection), Accept, Content-Type, and the MCP headers that dispatch
 * reads.
 */


static ngx_uint_t ngx_http_mcp_loopback(u_char *host, size_t len);
static ngx_uint_t ngx_http_mcp_listed(ngx_array_t *list, u_char *p,
    size_t len);
static u_char *ngx_http_mcp_media_range(u_char *p, u_char *last,
    ngx_int_t *json, ngx_uint_t *json_ok, ngx_int_t *sse,
    ngx_uint_t *sse_ok);
static ngx_int_t ngx_http_mcp_media_match(u_char *p, u_char *last,
    char *type, char *subtype);
static ngx_uint_t ngx_http_mcp_qvalue(u_char *p, u_char *last);


/*
 * DNS rebinding protection: the Host must be a name this server answers
 * to, and a browser's Origin one that may call it.  Loopback names are
 * always allowed (they cannot be rebound); the directives add others.
 * NGX_OK, or NGX_DECLINED for 403.
 */

ngx_int_t
ngx_http_mcp_check_peer(ngx_http_request_t *r, ngx_http_mcp_loc_conf_t *mlcf)
{
    u_char           *p, *last, *host;
    ngx_str_t        *origin;
    ngx_table_elt_t  *h;

    if (r->headers_in.server.len
        && !ngx_http_mcp_loopback(r->headers_in.server.data,
                                  r->headers_in.server.len)
        && !(mlcf->allowed_hosts
             && ngx_http_mcp_listed(mlcf->allowed_hosts,
                                    r->headers_in.server.data,
                                    r->headers_in.server.len)))
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp: host \"%V\" is not allowed",
                      &r->headers_in.server);
        return NGX_DECLINED;
    }

    h = ngx_http_mcp_find_header(r, (u_char *) "origin",
                                 sizeof("origin") - 1);
    if (h == NULL) {
        return NGX_OK;
    }

    origin = &h->value;

    if (mlcf->allowed_origins
        && ngx_http_mcp_listed(mlcf->allowed_origins, origin->data,
                               origin->len))
    {
        return NGX_OK;
    }

    /* scheme://host[:port] with a loopback host */

    last = origin->data + origin->len;
    p = ngx_strlcasestrn(origin->data, last, (u_char *) "://", 3 - 1);

    if (p != NULL) {
        host = p + 3;

        if (host < last && *host == '[') {
            p = ngx_strlchr(host, last, ']');
            p = p ? p + 1 : last;

        } else {
            for (p = host; p < last && *p != ':' && *p != '/'; p++) {
                /* void */
            }
        }

        if (ngx_http_mcp_loopback(host, p - host)) {
            return NGX_OK;
        }
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mcp: origin \"%V\" is not allowed", origin);

    return NGX_DECLINED;
}


ngx_table_elt_t *
ngx_http_mcp_find_header(ngx_http_request_t *r, u_char *name, size_t len)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncmp(h[i].lowcase_key, name, len) == 0)
        {
            return &h[i];
        }
    }
}


static ngx_uint_t
ngx_http_mcp_loopback(u_char *host, size_t len)
{
    static ngx_str_t  names[] = {
        ngx_string("localhost"),
        ngx_string("127.0.0.1"),
        ngx_string("[::1]"),
        ngx_null_string
    };

    ngx_str_t  *n;

    for (n = names; n->len; n++) {
        if (len == n->len && ngx_strncasecmp(host, n->data, len) == 0) {
            return 1;
        }
    }

    return 0;
}


static ngx_uint_t
ngx_http_mcp_listed(ngx_array_t *list, u_char *p, size_t len)
{
    ngx_str_t   *s;
    ngx_uint_t   i;

    s = list->elts;

    for (i = 0; i < list->nelts; i++) {
        if ((s[i].len == 1 && s[i].data[0] == '*')
            || (s[i].len == len && ngx_strncasecmp(s[i].data, p, len) == 0))
        {
            return 1;
        }
    }

    return 0;
}


/*
 * What the client accepts, by RFC 9110 media ranges: for JSON and for
 * event streams, the most specific range that matches decides (a type
 * over type/ over any), and q=0 refuses.  No Accept header means
 * anything.
 */

ngx_uint_t
ngx_http_mcp_accept(ngx_http_request_t *r)
{
    u_char      *p, *last;
    ngx_int_t    json, sse;     /* how specific the match, or -1 */
    ngx_uint_t   accept, json_ok, sse_ok;

    if (r->headers_in.accept == NULL) {
        return NGX_HTTP_MCP_ACCEPT_JSON|NGX_HTTP_MCP_ACCEPT_SSE;
    }

    p = r->headers_in.accept->value.data;
    last = p + r->headers_in.accept->value.len;

    /* what the SDKs send */

    if (last - p == sizeof("application/json, text/event-stream") - 1
        && ngx_strncmp(p, "application/json, text/event-stream",
                       last - p) == 0)
    {
        return NGX_HTTP_MCP_ACCEPT_JSON|NGX_HTTP_MCP_ACCEPT_SSE;
    }

    json = -1;
    sse = -1;
    json_ok = 0;
    sse_ok = 0;

    while (p < last) {
        p = ngx_http_mcp_media_range(p, last, &json, &json_ok, &sse, &sse_ok);
    }

    accept = 0;

    if (json_ok) {
        accept |= NGX_HTTP_MCP_ACCEPT_JSON;
    }

    if (sse_ok) {
        accept |= NGX_HTTP_MCP_ACCEPT_SSE;
    }

    return accept;
}


/*
 * One media range of an Accept list, up to the next comma: where it
 * matches application/json or text/event-stream more specifically than
 * any range before, its q decides.  Returns where the next one starts.
 */

static u_char *
ngx_http_mcp_media_range(u_char *p, u_char *last, ngx_int_t *json,
    ngx_uint_t *json_ok, ngx_int_t *sse, ngx_uint_t *sse_ok)
{
    u_char      *type, *end, *q;
    size_t       len;
    ngx_int_t    spec_json, spec_sse;
    ngx_uint_t   accepted;

    while (p < last && (*p == ' ' || *p == '\t' || *p == ',')) {
        p++;
    }

    type = p;

    while (p < last && *p != ',' && *p != ';' && *p != ' ' && *p != '\t') {
        p++;
    }

    len = p - type;

    /* parameters: only q matters; a quoted string may hold a comma */

    accepted = 1;

    while (p < last && *p != ',') {

        if (*p == '"') {
            for (p++; p < last && *p != '"'; p++) {
                if (*p == '\\' && p + 1 < last) {
                    p++;
                }
            }
        }

        if (p < last && *p == ';') {
            for (q = p + 1; q < last && (*q == ' ' || *q == '\t'); q++) {
                /* void */
            }

            if (last - q >= 2 && (q[0] | 0x20) == 'q' && q[1] == '=') {
                accepted = ngx_http_mcp_qvalue(q + 2, last);
            }
        }

        if (p < last) {
            p++;
        }
    }

    end = type + len;

    spec_json = ngx_http_mcp_media_match(type, end, "application", "json");
    spec_sse = ngx_http_mcp_media_match(type, end, "text", "event-stream");

    if (spec_json > *json) {
        *json = spec_json;
        *json_ok = accepted;
    }

    if (spec_sse > *sse) {
        *sse = spec_sse;
        *sse_ok = accepted;
    }

    return p;
}


/* how a range matches type/subtype: 2 exactly, 1 type/ *, 0 * / *, -1 not */

static ngx_int_t
ngx_http_mcp_media_match(u_char *p, u_char *last, char *type, char *subtype)
{
    u_char  *slash;
    size_t   tlen, slen;

    slash = ngx_strlchr(p, last, '/');
    if (slash == NULL) {
        return -1;
    }

    tlen = ngx_strlen(type);
    slen = ngx_strlen(subtype);

    if (slash - p == 1 && *p == '*') {
        return (last - slash == 2 && slash[1] == '*') ? 0 : -1;
    }

    if ((size_t) (slash - p) != tlen
        || ngx_strncasecmp(p, (u_char *) type, tlen) != 0)
    {
        return -1;
    }

    slash++;

    if (last - slash == 1 && *slash == '*') {
        return 1;
    }

    return ((size_t) (last - slash) == slen
            && ngx_strncasecmp(slash, (u_char *) subtype, slen) == 0)
           ? 2 : -1;
}


/* a qvalue ("0", "0.000", "0.5", "1"): 0 when it refuses, else 1 */

static ngx_uint_t
ngx_http_mcp_qvalue(u_char *p, u_char *last)
{
    if (p == last || *p != '0') {
        return 1;                    /* 1, 1.000, or not a qvalue */
    }

    for (p++; p < last && (*p == '.' || *p == '0'); p++) {
        /* void */
    }

    return p < last && *p >= '1' && *p <= '9';
}


ngx_uint_t
ngx_http_mcp_json_content(ngx_http_request_t *r)
{
    u_char  *p;
    size_t   len;

    if (r->headers_in.content_type == NULL) {
        return 0;
    }

    p = r->headers_in.content_type->value.data;
    len = r->headers_in.content_type->value.len;

    if (len < sizeof("application/json") - 1
        || ngx_strncasecmp(p, (u_char *) "application/json",
                           sizeof("application/json") - 1) != 0)
    {
        return 0;
    }

    p += sizeof("application/json") - 1;
    len -= sizeof("application/json") - 1;

    return len == 0 || *p == ';' || *p == ' ' || *p == '\t';
}


/* MCP-Protocol-Version, Mcp-Method, Mcp-Name, Mcp-Session-Id, Mcp-Param-* */

void
ngx_http_mcp_read_headers(ngx_http_request_t *r, ngx_http_mcp_exchange_t *x)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        ngx_http_mcp_read_header(&h[i], x);
    }
}


/* one header of the request: the first of each name, Mcp-Param-* all */

void
ngx_http_mcp_read_header(ngx_table_elt_t *h, ngx_http_mcp_exchange_t *x)
{
    u_char        *k;
    size_t         len;
    ngx_str_t     *dst, v;
    ngx_keyval_t  *kv;

    k = h->lowcase_key;
    len = h->key.len;

    if (len < 8 || ngx_strncmp(k, "mcp-", 4) != 0) {
        return;
    }

    /* RFC 9110 OWS around the value */

    v = h->value;

    while (v.len && (v.data[0] == ' ' || v.data[0] == '\t')) {
        v.data++;
        v.len--;
    }

    while (v.len && (v.data[v.len - 1] == ' ' || v.data[v.len - 1] == '\t')) {
        v.len--;
    }

    dst = NULL;

    if (len == sizeof("mcp-protocol-version") - 1
        && ngx_strncmp(k, "mcp-protocol-version", len) == 0)
    {
        if (!x->has_version) {
            x->has_version = 1;
            dst = &x->h_version;
        }

    } else if (len == sizeof("mcp-method") - 1
               && ngx_strncmp(k, "mcp-method", len) == 0)
    {
        if (!x->has_method) {
            x->has_method = 1;
            dst = &x->h_method;
        }

    } else if (len == sizeof("mcp-name") - 1
               && ngx_strncmp(k, "mcp-name", len) == 0)
    {
        if (!x->has_name) {
            x->has_name = 1;
            dst = &x->h_name;
        }

    } else if (len == sizeof("mcp-session-id") - 1
               && ngx_strncmp(k, "mcp-session-id", len) == 0)
    {
        if (!x->has_session) {
            x->has_session = 1;
            dst = &x->h_session;
        }

    } else if (len > sizeof("mcp-param-") - 1
               && ngx_strncmp(k, "mcp-param-", sizeof("mcp-param-") - 1) == 0)
    {
        if (x->h_params == NULL) {
            x->h_params = ngx_array_create(x->pool, 4, sizeof(ngx_keyval_t));
            if (x->h_params == NULL) {
                return;
            }
        }

        kv = ngx_array_push(x->h_params);
        if (kv == NULL) {
            return;
        }

        kv->key.data = h->key.data + sizeof("mcp-param-") - 1;
        kv->key.len = len - (sizeof("mcp-param-") - 1);
        kv->value = v;
    }

    if (dst) {
        *dst = v;
    }
}
