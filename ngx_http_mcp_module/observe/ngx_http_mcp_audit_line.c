
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/sha.h>

#include "ngx_http_mcp_module.h"
#include "observe/ngx_http_mcp_observe.h"
#include "observe/ngx_http_mcp_audit.h"
#include "observe/ngx_http_mcp_audit_int.h"


/*
 * The record of a request as one JSON line, its members always in this
 * order (docs/directives.md, "Audit"):
 *
 *   time event request_id session subject tenant client method entry
 *   [arguments [arguments_truncated arguments_sha256]] outcome error
 *   status duration_ms target trace_id
 *
 * null where a member does not apply.  What the client chose (the id, the
 * client's name and version, the method, the entry, the caller's names)
 * is cut to 128 bytes, an error to 256, the arguments of `full` to 4 KB;
 * strings are JSON-escaped.  The session shows as its digest only; no
 * header, token or key is ever read here.
 */


#define NGX_HTTP_MCP_AUDIT_STR_MAX    128
#define NGX_HTTP_MCP_AUDIT_ERR_MAX    256
#define NGX_HTTP_MCP_AUDIT_ARGS_MAX   4096

/*
 * The line is written in one pass into room sized beforehand: the fixed
 * text (member names, the time, numbers, ids in hex, the arguments' hash)
 * takes less than this, each string at most 6 bytes for each of its own
 * ("\u00XX")
 */
#define NGX_HTTP_MCP_AUDIT_FIXED      1024

/*
 * A worker's room for a line, and for its arguments' text, reused by each
 * line (a line is written before the next is begun): no allocation for
 * any line that fits, which is every line but one with long strings or
 * arguments
 */
#define NGX_HTTP_MCP_AUDIT_ROOM       16384
#define NGX_HTTP_MCP_AUDIT_ARGS_ROOM  (NGX_HTTP_MCP_AUDIT_ARGS_MAX + 256)

#define ngx_http_mcp_audit_lit(p, lit)                                        \
    ngx_cpymem(p, lit, sizeof(lit) - 1)


typedef struct {
    ngx_str_t                  subject;
    ngx_str_t                  tenant;
    ngx_http_mcp_json_t       *client;       /* clientInfo, or NULL */
    ngx_str_t                  name;         /* its name and version */
    ngx_str_t                  version;
    ngx_str_t                  error;
    ngx_str_t                  args;         /* their text, or empty */
    size_t                     cut;          /* of `full`: what fits */
} ngx_http_mcp_audit_parts_t;


static size_t ngx_http_mcp_audit_room(ngx_str_t *s, size_t max);
static u_char *ngx_http_mcp_audit_str(ngx_http_mcp_jw_t *jw, u_char *p,
    ngx_str_t *s, size_t max);
static u_char *ngx_http_mcp_audit_quoted(ngx_http_mcp_jw_t *jw, u_char *p,
    u_char *data, size_t n);
static void ngx_http_mcp_audit_member(ngx_http_mcp_jw_t *jw,
    ngx_http_mcp_json_t *m, ngx_uint_t comma);
static u_char *ngx_http_mcp_audit_hex(u_char *p, u_char *src, size_t n);
static u_char *ngx_http_mcp_audit_number(u_char *p, ngx_uint_t n);
static u_char *ngx_http_mcp_audit_id(ngx_http_mcp_jw_t *jw, u_char *p,
    ngx_http_mcp_json_t *id);
static void ngx_http_mcp_audit_variable(ngx_http_request_t *r,
    ngx_int_t index, ngx_str_t *s);
static void ngx_http_mcp_audit_client(ngx_http_request_t *r,
    ngx_http_mcp_obs_t *o, ngx_http_mcp_audit_parts_t *parts);
static ngx_int_t ngx_http_mcp_audit_args_text(ngx_http_request_t *r,
    ngx_http_mcp_obs_t *o, ngx_http_mcp_audit_parts_t *parts);
static u_char *ngx_http_mcp_audit_arguments(ngx_http_mcp_obs_t *o,
    ngx_http_mcp_audit_parts_t *parts, u_char *p);
static u_char *ngx_http_mcp_audit_outcome(u_char *p, ngx_int_t outcome);


static ngx_str_t  ngx_http_mcp_audit_events[] = {
    ngx_null_string,
    ngx_string("\"call\""),
    ngx_string("\"session_start\""),
    ngx_string("\"session_end\""),
    ngx_string("\"auth_failure\""),
    ngx_string("\"limit_refusal\""),
    ngx_string("\"chain_start\"")
};


ngx_int_t
ngx_http_mcp_audit_line(ngx_http_request_t *r, ngx_http_mcp_obs_t *o,
    ngx_http_mcp_audit_event_e event, ngx_uint_t status,
    ngx_http_mcp_jw_t *jw)
{
    u_char                          *p;
    size_t                           size;
    ngx_msec_int_t                   ms;
    ngx_time_t                      *tp;
    ngx_http_mcp_audit_parts_t       parts;
    ngx_http_mcp_audit_main_conf_t  *amcf;

    static u_char  room[NGX_HTTP_MCP_AUDIT_ROOM];

    amcf = ngx_http_get_module_main_conf(r, ngx_http_mcp_audit_module);

    /* first what is to be written, and the room it takes at most */

    ngx_memzero(&parts, sizeof(ngx_http_mcp_audit_parts_t));

    ngx_http_mcp_audit_variable(r, amcf->subject, &parts.subject);
    ngx_http_mcp_audit_variable(r, amcf->tenant, &parts.tenant);
    ngx_http_mcp_audit_client(r, o, &parts);

    /* an access phase refusal says why in its challenge */

    parts.error = o->error;

    if (parts.error.len == 0 && event == NGX_HTTP_MCP_AUDIT_AUTH_FAILURE
        && r->headers_out.www_authenticate)
    {
        parts.error = r->headers_out.www_authenticate->value;
    }

    if (ngx_http_mcp_audit_args_text(r, o, &parts) != NGX_OK) {
        return NGX_ERROR;
    }

    size = NGX_HTTP_MCP_AUDIT_FRONT + NGX_HTTP_MCP_AUDIT_FIXED
           + NGX_HTTP_MCP_AUDIT_TAIL
           + ngx_min(parts.args.len, NGX_HTTP_MCP_AUDIT_ARGS_MAX)
           + ngx_http_mcp_audit_room(&parts.subject,
                                     NGX_HTTP_MCP_AUDIT_STR_MAX)
           + ngx_http_mcp_audit_room(&parts.tenant,
                                     NGX_HTTP_MCP_AUDIT_STR_MAX)
           + ngx_http_mcp_audit_room(&parts.name, NGX_HTTP_MCP_AUDIT_STR_MAX)
           + ngx_http_mcp_audit_room(&parts.version,
                                     NGX_HTTP_MCP_AUDIT_STR_MAX)
           + ngx_http_mcp_audit_room(&o->method, NGX_HTTP_MCP_AUDIT_STR_MAX)
           + ngx_http_mcp_audit_room(&o->entry, NGX_HTTP_MCP_AUDIT_STR_MAX)
           + ngx_http_mcp_audit_room(&parts.error, NGX_HTTP_MCP_AUDIT_ERR_MAX)
           + ngx_http_mcp_audit_room(&o->target, NGX_HTTP_MCP_AUDIT_ERR_MAX)
           + 6 * NGX_HTTP_MCP_AUDIT_STR_MAX;                  /* the id */

    if (size <= NGX_HTTP_MCP_AUDIT_ROOM) {
        ngx_memzero(jw, sizeof(ngx_http_mcp_jw_t));
        jw->pool = r->pool;
        jw->start = room;
        jw->end = room + NGX_HTTP_MCP_AUDIT_ROOM;

    } else if (ngx_http_mcp_jw_init(jw, r->pool, size) != NGX_OK) {
        return NGX_ERROR;
    }

    /* then the line, in its members' order */

    p = jw->start + NGX_HTTP_MCP_AUDIT_FRONT;

    p = ngx_http_mcp_audit_lit(p, "{\"time\":\"");
    p = ngx_http_mcp_audit_time(p);
    p = ngx_http_mcp_audit_lit(p, "\",\"event\":");
    p = ngx_cpymem(p, ngx_http_mcp_audit_events[event].data,
                   ngx_http_mcp_audit_events[event].len);

    p = ngx_http_mcp_audit_lit(p, ",\"request_id\":");
    p = ngx_http_mcp_audit_id(jw, p, o->id);

    p = ngx_http_mcp_audit_lit(p, ",\"session\":");

    if (o->session.len) {
        *p++ = '"';
        p = ngx_http_mcp_observe_session(p, &o->session);
        *p++ = '"';

    } else {
        p = ngx_http_mcp_audit_lit(p, "null");
    }

    p = ngx_http_mcp_audit_lit(p, ",\"subject\":");
    p = ngx_http_mcp_audit_str(jw, p, &parts.subject,
                               NGX_HTTP_MCP_AUDIT_STR_MAX);
    p = ngx_http_mcp_audit_lit(p, ",\"tenant\":");
    p = ngx_http_mcp_audit_str(jw, p, &parts.tenant,
                               NGX_HTTP_MCP_AUDIT_STR_MAX);

    p = ngx_http_mcp_audit_lit(p, ",\"client\":");

    if (parts.client) {
        p = ngx_http_mcp_audit_lit(p, "{\"name\":");
        p = ngx_http_mcp_audit_str(jw, p, &parts.name,
                                   NGX_HTTP_MCP_AUDIT_STR_MAX);
        p = ngx_http_mcp_audit_lit(p, ",\"version\":");
        p = ngx_http_mcp_audit_str(jw, p, &parts.version,
                                   NGX_HTTP_MCP_AUDIT_STR_MAX);
        *p++ = '}';

    } else {
        p = ngx_http_mcp_audit_lit(p, "null");
    }

    p = ngx_http_mcp_audit_lit(p, ",\"method\":");
    p = ngx_http_mcp_audit_str(jw, p, &o->method, NGX_HTTP_MCP_AUDIT_STR_MAX);
    p = ngx_http_mcp_audit_lit(p, ",\"entry\":");
    p = ngx_http_mcp_audit_str(jw, p, &o->entry, NGX_HTTP_MCP_AUDIT_STR_MAX);

    p = ngx_http_mcp_audit_arguments(o, &parts, p);

    p = ngx_http_mcp_audit_lit(p, ",\"outcome\":");
    p = ngx_http_mcp_audit_outcome(p, o->outcome);

    p = ngx_http_mcp_audit_lit(p, ",\"error\":");
    p = ngx_http_mcp_audit_str(jw, p, &parts.error,
                               NGX_HTTP_MCP_AUDIT_ERR_MAX);

    tp = ngx_timeofday();
    ms = (ngx_msec_int_t) ((tp->sec - r->start_sec) * 1000
                           + (tp->msec - r->start_msec));

    p = ngx_http_mcp_audit_lit(p, ",\"status\":");
    p = ngx_http_mcp_audit_number(p, status);
    p = ngx_http_mcp_audit_lit(p, ",\"duration_ms\":");
    p = ngx_http_mcp_audit_number(p, (ngx_uint_t) ngx_max(ms, 0));

    p = ngx_http_mcp_audit_lit(p, ",\"target\":");
    p = ngx_http_mcp_audit_str(jw, p, &o->target, NGX_HTTP_MCP_AUDIT_ERR_MAX);

    p = ngx_http_mcp_audit_lit(p, ",\"trace_id\":");

    if (o->traced) {
        *p++ = '"';
        p = ngx_http_mcp_audit_hex(p, o->trace_id, sizeof(o->trace_id));
        *p++ = '"';

    } else {
        p = ngx_http_mcp_audit_lit(p, "null");
    }

    jw->pos = p;

    return jw->failed ? NGX_ERROR : NGX_OK;
}


u_char *
ngx_http_mcp_audit_time(u_char *p)
{
    ngx_tm_t     tm;
    ngx_time_t  *tp;

    /* the second's text is made once a second, in each worker */

    static time_t  sec = -1;
    static u_char  text[sizeof("2026-01-01T00:00:00") - 1];

    tp = ngx_timeofday();

    if (tp->sec != sec) {
        ngx_gmtime(tp->sec, &tm);

        (void) ngx_sprintf(text, "%4d-%02d-%02dT%02d:%02d:%02d",
                           tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                           tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec);
        sec = tp->sec;
    }

    p = ngx_cpymem(p, text, sizeof(text));
    *p++ = '.';
    *p++ = (u_char) ('0' + tp->msec / 100);
    *p++ = (u_char) ('0' + tp->msec / 10 % 10);
    *p++ = (u_char) ('0' + tp->msec % 10);
    *p++ = 'Z';

    return p;
}


/* a string's room at most: escaped and quoted, or null */

static size_t
ngx_http_mcp_audit_room(ngx_str_t *s, size_t max)
{
    return 6 * ngx_min(s->len, max) + sizeof("null") - 1;
}


/*
 * A JSON string of at most max bytes, cut before a UTF-8 sequence; null.
 * The writer escapes it in the room the line has at p.
 */

static u_char *
ngx_http_mcp_audit_str(ngx_http_mcp_jw_t *jw, u_char *p, ngx_str_t *s,
    size_t max)
{
    size_t  n;

    if (s->len == 0) {
        return ngx_http_mcp_audit_lit(p, "null");
    }

    n = s->len;

    if (n > max) {
        for (n = max; n && (s->data[n] & 0xc0) == 0x80; n--) {
            /* void */
        }
    }

    return ngx_http_mcp_audit_quoted(jw, p, s->data, n);
}


/*
 * A JSON string, in room the caller made sure of (6 bytes a byte): most
 * need no escaping and are copied as they are
 */

static u_char *
ngx_http_mcp_audit_quoted(ngx_http_mcp_jw_t *jw, u_char *p, u_char *data,
    size_t n)
{
    u_char   c, *q;
    size_t   i;

    /* escaped: control characters, '"', '\\', and all but ASCII */

    static uint32_t  escape[] = {
        0xffffffff,  /* 1111 1111 1111 1111  1111 1111 1111 1111 */

                     /* ?>=< ;:98 7654 3210  /.-, +*)( '&%$ #"!  */
        0x00000004,  /* 0000 0000 0000 0000  0000 0000 0000 0100 */

                     /* _^]\ [ZYX WVUT SRQP  ONML KJIH GFED CBA@ */
        0x10000000,  /* 0001 0000 0000 0000  0000 0000 0000 0000 */

                     /*  ~}| {zyx wvut srqp  onml kjih gfed cba` */
        0x00000000,  /* 0000 0000 0000 0000  0000 0000 0000 0000 */

        0xffffffff,  /* 1111 1111 1111 1111  1111 1111 1111 1111 */
        0xffffffff,  /* 1111 1111 1111 1111  1111 1111 1111 1111 */
        0xffffffff,  /* 1111 1111 1111 1111  1111 1111 1111 1111 */
        0xffffffff   /* 1111 1111 1111 1111  1111 1111 1111 1111 */
    };

    /* copied while looked at: the writer only for what needs escaping */

    q = p;
    *q++ = '"';

    for (i = 0; i < n; i++) {
        c = data[i];

        if (escape[c >> 5] & (1U << (c & 0x1f))) {
            jw->pos = p;
            ngx_http_mcp_jw_string(jw, data, n);

            return jw->pos;
        }

        *q++ = c;
    }

    *q++ = '"';

    return q;
}


/* bytes in lowercase hex, two digits at a time */

static u_char *
ngx_http_mcp_audit_hex(u_char *p, u_char *src, size_t n)
{
    static u_char  pairs[] =
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
        "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
        "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
        "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
        "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
        "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
        "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
        "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

    while (n--) {
        ngx_memcpy(p, &pairs[2 * *src++], 2);
        p += 2;
    }

    return p;
}


/* an unsigned number in decimal: ngx_sprintf()'s cost is in its format */

static u_char *
ngx_http_mcp_audit_number(u_char *p, ngx_uint_t n)
{
    u_char  *q, buf[NGX_INT_T_LEN];

    q = buf + NGX_INT_T_LEN;

    do {
        *--q = (u_char) ('0' + n % 10);
        n /= 10;
    } while (n);

    return ngx_cpymem(p, q, buf + NGX_INT_T_LEN - q);
}


/* a number as written (if short), a string cut; other ids are invalid */

static u_char *
ngx_http_mcp_audit_id(ngx_http_mcp_jw_t *jw, u_char *p,
    ngx_http_mcp_json_t *id)
{
    if (id != NULL && id->type == NGX_HTTP_MCP_JSON_STRING) {

        if (id->str.len == 0) {
            return ngx_http_mcp_audit_lit(p, "\"\"");
        }

        return ngx_http_mcp_audit_str(jw, p, &id->str,
                                      NGX_HTTP_MCP_AUDIT_STR_MAX);
    }

    if (id != NULL
        && (id->type == NGX_HTTP_MCP_JSON_INTEGER
            || id->type == NGX_HTTP_MCP_JSON_NUMBER)
        && id->str.len <= NGX_HTTP_MCP_AUDIT_STR_MAX)
    {
        jw->pos = p;
        ngx_http_mcp_jw_value(jw, id);
        return jw->pos;
    }

    return ngx_http_mcp_audit_lit(p, "null");
}


/* one of the caller's variables (auth/), by index: none is empty (null) */

static void
ngx_http_mcp_audit_variable(ngx_http_request_t *r, ngx_int_t index,
    ngx_str_t *s)
{
    ngx_http_variable_value_t  *vv;

    vv = ngx_http_get_flushed_variable(r, index);

    if (vv == NULL || vv->not_found) {
        return;
    }

    s->data = vv->data;
    s->len = vv->len;
}


/* clientInfo's name and version; no clientInfo object leaves client NULL */

static void
ngx_http_mcp_audit_client(ngx_http_request_t *r, ngx_http_mcp_obs_t *o,
    ngx_http_mcp_audit_parts_t *parts)
{
    ngx_http_mcp_json_t  *info, *v;

    if (ngx_http_mcp_observe_client(r, o, &info) != NGX_OK
        || info == NULL || info->type != NGX_HTTP_MCP_JSON_OBJECT)
    {
        return;
    }

    parts->client = info;

    v = ngx_http_mcp_json_member(info, "name");

    if (v && v->type == NGX_HTTP_MCP_JSON_STRING) {
        parts->name = v->str;
    }

    v = ngx_http_mcp_json_member(info, "version");

    if (v && v->type == NGX_HTTP_MCP_JSON_STRING) {
        parts->version = v->str;
    }
}


/*
 * The arguments' canonical text, for the entry's audit_arguments: written
 * compactly as received, members in their order; for `full`, where the
 * last member that fits 4 KB ends.  Nothing for `off`, and none for empty
 * arguments, whose hash is known.
 */

static ngx_int_t
ngx_http_mcp_audit_args_text(ngx_http_request_t *r, ngx_http_mcp_obs_t *o,
    ngx_http_mcp_audit_parts_t *parts)
{
    ngx_http_mcp_jw_t     aw;
    ngx_http_mcp_json_t  *m;

    static u_char  room[NGX_HTTP_MCP_AUDIT_ARGS_ROOM];

    if (o->arguments == NULL || o->audit == NGX_HTTP_MCP_AUDIT_OFF
        || o->arguments->first == NULL)
    {
        return NGX_OK;
    }

    /* the writer moves to the request's pool if the text outgrows room */

    ngx_memzero(&aw, sizeof(ngx_http_mcp_jw_t));
    aw.pool = r->pool;
    aw.start = room;
    aw.pos = room;
    aw.end = room + NGX_HTTP_MCP_AUDIT_ARGS_ROOM;

    *aw.pos++ = '{';
    parts->cut = 1;

    for (m = o->arguments->first; m; m = m->next) {
        ngx_http_mcp_audit_member(&aw, m, m != o->arguments->first);

        if (ngx_http_mcp_jw_mark(&aw) < NGX_HTTP_MCP_AUDIT_ARGS_MAX) {
            parts->cut = ngx_http_mcp_jw_mark(&aw);
        }
    }

    ngx_http_mcp_jw_literal(&aw, "}");

    return ngx_http_mcp_jw_finish(&aw, &parts->args);
}


/*
 * [,]"key":value of an object's member; one whose value is not an object or
 * an array, and that fits where the writer is, written here, the writer's
 * calls for each part costing more than the text
 */

static void
ngx_http_mcp_audit_member(ngx_http_mcp_jw_t *jw, ngx_http_mcp_json_t *m,
    ngx_uint_t comma)
{
    u_char  *p;

    if ((size_t) (jw->end - jw->pos)
        < 6 * (m->key.len + m->str.len) + sizeof(",\"\":false"))
    {
        if (comma) {
            ngx_http_mcp_jw_literal(jw, ",");
        }

        ngx_http_mcp_jw_str(jw, &m->key);
        ngx_http_mcp_jw_literal(jw, ":");
        ngx_http_mcp_jw_value(jw, m);
        return;
    }

    p = jw->pos;

    if (comma) {
        *p++ = ',';
    }

    p = ngx_http_mcp_audit_quoted(jw, p, m->key.data, m->key.len);
    *p++ = ':';

    switch (m->type) {

    case NGX_HTTP_MCP_JSON_STRING:
        p = ngx_http_mcp_audit_quoted(jw, p, m->str.data, m->str.len);
        break;

    case NGX_HTTP_MCP_JSON_INTEGER:
    case NGX_HTTP_MCP_JSON_NUMBER:

        if (m->str.len == 0) {
            goto writer;               /* a number made by code */
        }

        p = ngx_cpymem(p, m->str.data, m->str.len);
        break;

    case NGX_HTTP_MCP_JSON_TRUE:
        p = ngx_http_mcp_audit_lit(p, "true");
        break;

    case NGX_HTTP_MCP_JSON_FALSE:
        p = ngx_http_mcp_audit_lit(p, "false");
        break;

    case NGX_HTTP_MCP_JSON_NULL:
        p = ngx_http_mcp_audit_lit(p, "null");
        break;

    default:
        goto writer;
    }

    jw->pos = p;
    return;

writer:

    jw->pos = p;
    ngx_http_mcp_jw_value(jw, m);
}


/*
 * The arguments as the entry's audit_arguments says: their SHA-256 (hash,
 * the default), themselves (full: whole members up to 4 KB, then the
 * hash too), or nothing (off)
 */

static u_char *
ngx_http_mcp_audit_arguments(ngx_http_mcp_obs_t *o,
    ngx_http_mcp_audit_parts_t *parts, u_char *p)
{
    u_char      md[SHA256_DIGEST_LENGTH];
    ngx_str_t  *text;

    /* SHA-256 of "{}" */
    static ngx_str_t  empty = ngx_string(
        "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    static ngx_str_t  empty_text = ngx_string("{}");

    if (o->arguments == NULL || o->audit == NGX_HTTP_MCP_AUDIT_OFF) {
        return p;
    }

    text = parts->args.len ? &parts->args : &empty_text;

    if (o->audit == NGX_HTTP_MCP_AUDIT_FULL) {
        p = ngx_http_mcp_audit_lit(p, ",\"arguments\":");

        if (text->len <= NGX_HTTP_MCP_AUDIT_ARGS_MAX) {
            return ngx_cpymem(p, text->data, text->len);
        }

        p = ngx_cpymem(p, text->data, parts->cut);
        p = ngx_http_mcp_audit_lit(p, "},\"arguments_truncated\":true,"
                                      "\"arguments_sha256\":\"");

    } else {
        p = ngx_http_mcp_audit_lit(p, ",\"arguments\":{\"sha256\":\"");
    }

    if (parts->args.len) {
        ngx_http_mcp_sha256(text->data, text->len, md);
        p = ngx_http_mcp_audit_hex(p, md, SHA256_DIGEST_LENGTH);

    } else {
        p = ngx_cpymem(p, empty.data, empty.len);
    }

    *p++ = '"';

    if (o->audit != NGX_HTTP_MCP_AUDIT_FULL) {
        *p++ = '}';
    }

    return p;
}


/* as $mcp_outcome: "ok", "tool_error", a JSON-RPC code; none is null */

static u_char *
ngx_http_mcp_audit_outcome(u_char *p, ngx_int_t outcome)
{
    switch (outcome) {

    case NGX_HTTP_MCP_OUTCOME_NONE:
        return ngx_http_mcp_audit_lit(p, "null");

    case NGX_HTTP_MCP_OUTCOME_OK:
        return ngx_http_mcp_audit_lit(p, "\"ok\"");

    case NGX_HTTP_MCP_OUTCOME_TOOL_ERROR:
        return ngx_http_mcp_audit_lit(p, "\"tool_error\"");
    }

    return ngx_sprintf(p, "\"%i\"", outcome);
}
