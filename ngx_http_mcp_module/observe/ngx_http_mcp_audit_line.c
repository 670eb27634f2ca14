
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


static void ngx_http_mcp_audit_str(ngx_http_mcp_jw_t *jw, ngx_str_t *s,
    size_t max);
static void ngx_http_mcp_audit_id(ngx_http_mcp_jw_t *jw,
    ngx_http_mcp_json_t *id);
static void ngx_http_mcp_audit_variable(ngx_http_request_t *r,
    ngx_http_mcp_jw_t *jw, ngx_int_t index);
static void ngx_http_mcp_audit_client(ngx_http_request_t *r,
    ngx_http_mcp_obs_t *o, ngx_http_mcp_jw_t *jw);
static void ngx_http_mcp_audit_arguments(ngx_http_request_t *r,
    ngx_http_mcp_obs_t *o, ngx_http_mcp_jw_t *jw);
static void ngx_http_mcp_audit_outcome(ngx_http_mcp_jw_t *jw,
    ngx_int_t outcome);


static ngx_str_t  ngx_http_mcp_audit_events[] = {
    ngx_null_string,
    ngx_string("call"),
    ngx_string("session_start"),
    ngx_string("session_end"),
    ngx_string("auth_failure"),
    ngx_string("limit_refusal"),
    ngx_string("chain_start")
};


ngx_int_t
ngx_http_mcp_audit_line(ngx_http_request_t *r, ngx_http_mcp_obs_t *o,
    ngx_http_mcp_audit_event_e event, ngx_uint_t status,
    ngx_http_mcp_jw_t *jw)
{
    u_char                          *p, buf[NGX_INT_T_LEN * 2 + 64];
    ngx_str_t                        s;
    ngx_msec_int_t                   ms;
    ngx_time_t                      *tp;
    ngx_http_mcp_audit_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_mcp_audit_module);

    if (ngx_http_mcp_jw_init(jw, r->pool, NGX_HTTP_MCP_AUDIT_FRONT + 2048)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    jw->pos += NGX_HTTP_MCP_AUDIT_FRONT;

    p = ngx_cpymem(buf, "{\"time\":\"", sizeof("{\"time\":\"") - 1);
    p = ngx_http_mcp_audit_time(p);
    p = ngx_cpymem(p, "\",\"event\":", sizeof("\",\"event\":") - 1);
    ngx_http_mcp_jw_raw(jw, buf, p - buf);
    ngx_http_mcp_jw_str(jw, &ngx_http_mcp_audit_events[event]);

    ngx_http_mcp_jw_literal(jw, ",\"request_id\":");
    ngx_http_mcp_audit_id(jw, o->id);

    ngx_http_mcp_jw_literal(jw, ",\"session\":");

    if (o->session.len) {
        p = ngx_cpymem(buf, "\"", 1);
        p = ngx_http_mcp_observe_session(p, &o->session);
        *p++ = '"';
        ngx_http_mcp_jw_raw(jw, buf, p - buf);

    } else {
        ngx_http_mcp_jw_literal(jw, "null");
    }

    ngx_http_mcp_jw_literal(jw, ",\"subject\":");
    ngx_http_mcp_audit_variable(r, jw, amcf->subject);
    ngx_http_mcp_jw_literal(jw, ",\"tenant\":");
    ngx_http_mcp_audit_variable(r, jw, amcf->tenant);

    ngx_http_mcp_jw_literal(jw, ",\"client\":");
    ngx_http_mcp_audit_client(r, o, jw);

    ngx_http_mcp_jw_literal(jw, ",\"method\":");
    ngx_http_mcp_audit_str(jw, &o->method, NGX_HTTP_MCP_AUDIT_STR_MAX);
    ngx_http_mcp_jw_literal(jw, ",\"entry\":");
    ngx_http_mcp_audit_str(jw, &o->entry, NGX_HTTP_MCP_AUDIT_STR_MAX);

    ngx_http_mcp_audit_arguments(r, o, jw);

    ngx_http_mcp_jw_literal(jw, ",\"outcome\":");
    ngx_http_mcp_audit_outcome(jw, o->outcome);

    /* an access phase refusal says why in its challenge */

    s = o->error;

    if (s.len == 0 && event == NGX_HTTP_MCP_AUDIT_AUTH_FAILURE
        && r->headers_out.www_authenticate)
    {
        s = r->headers_out.www_authenticate->value;
    }

    ngx_http_mcp_jw_literal(jw, ",\"error\":");
    ngx_http_mcp_audit_str(jw, &s, NGX_HTTP_MCP_AUDIT_ERR_MAX);

    tp = ngx_timeofday();
    ms = (ngx_msec_int_t) ((tp->sec - r->start_sec) * 1000
                           + (tp->msec - r->start_msec));

    p = ngx_sprintf(buf, ",\"status\":%ui,\"duration_ms\":%M", status,
                    (ngx_msec_t) ngx_max(ms, 0));
    ngx_http_mcp_jw_raw(jw, buf, p - buf);

    ngx_http_mcp_jw_literal(jw, ",\"target\":");
    ngx_http_mcp_audit_str(jw, &o->target, NGX_HTTP_MCP_AUDIT_ERR_MAX);

    ngx_http_mcp_jw_literal(jw, ",\"trace_id\":");

    if (o->traced) {
        p = ngx_cpymem(buf, "\"", 1);
        p = ngx_hex_dump(p, o->trace_id, sizeof(o->trace_id));
        *p++ = '"';
        ngx_http_mcp_jw_raw(jw, buf, p - buf);

    } else {
        ngx_http_mcp_jw_literal(jw, "null");
    }

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


/* a JSON string of at most max bytes, cut before a UTF-8 sequence; null */

static void
ngx_http_mcp_audit_str(ngx_http_mcp_jw_t *jw, ngx_str_t *s, size_t max)
{
    size_t  n;

    if (s->len == 0) {
        ngx_http_mcp_jw_literal(jw, "null");
        return;
    }

    n = s->len;

    if (n > max) {
        for (n = max; n && (s->data[n] & 0xc0) == 0x80; n--) {
            /* void */
        }
    }

    ngx_http_mcp_jw_string(jw, s->data, n);
}


/* a number as written (if short), a string cut; other ids are invalid */

static void
ngx_http_mcp_audit_id(ngx_http_mcp_jw_t *jw, ngx_http_mcp_json_t *id)
{
    if (id != NULL && id->type == NGX_HTTP_MCP_JSON_STRING) {

        if (id->str.len == 0) {
            ngx_http_mcp_jw_literal(jw, "\"\"");
            return;
        }

        ngx_http_mcp_audit_str(jw, &id->str, NGX_HTTP_MCP_AUDIT_STR_MAX);
        return;
    }

    if (id != NULL
        && (id->type == NGX_HTTP_MCP_JSON_INTEGER
            || id->type == NGX_HTTP_MCP_JSON_NUMBER)
        && id->str.len <= NGX_HTTP_MCP_AUDIT_STR_MAX)
    {
        ngx_http_mcp_jw_value(jw, id);
        return;
    }

    ngx_http_mcp_jw_literal(jw, "null");
}


/* one of the caller's variables (auth/), by name: none is null */

static void
ngx_http_mcp_audit_variable(ngx_http_request_t *r, ngx_http_mcp_jw_t *jw,
    ngx_int_t index)
{
    ngx_str_t                   s;
    ngx_http_variable_value_t  *vv;

    vv = ngx_http_get_flushed_variable(r, index);

    if (vv == NULL || vv->not_found) {
        ngx_http_mcp_jw_literal(jw, "null");
        return;
    }

    s.data = vv->data;
    s.len = vv->len;

    ngx_http_mcp_audit_str(jw, &s, NGX_HTTP_MCP_AUDIT_STR_MAX);
}


/* {"name":..,"version":..} of clientInfo, or null */

static void
ngx_http_mcp_audit_client(ngx_http_request_t *r, ngx_http_mcp_obs_t *o,
    ngx_http_mcp_jw_t *jw)
{
    ngx_str_t             none;
    ngx_uint_t            i;
    ngx_http_mcp_json_t  *info, *v;

    static char  *names[] = { "name", "version" };

    if (ngx_http_mcp_observe_client(r, o, &info) != NGX_OK
        || info == NULL || info->type != NGX_HTTP_MCP_JSON_OBJECT)
    {
        ngx_http_mcp_jw_literal(jw, "null");
        return;
    }

    ngx_str_null(&none);

    for (i = 0; i < 2; i++) {
        ngx_http_mcp_jw_raw(jw, (u_char *) (i ? ",\"" : "{\""), 2);
        ngx_http_mcp_jw_raw(jw, (u_char *) names[i], ngx_strlen(names[i]));
        ngx_http_mcp_jw_literal(jw, "\":");

        v = ngx_http_mcp_json_get(info, (u_char *) names[i],
                                  ngx_strlen(names[i]));

        ngx_http_mcp_audit_str(jw, (v && v->type == NGX_HTTP_MCP_JSON_STRING)
                                   ? &v->str : &none,
                               NGX_HTTP_MCP_AUDIT_STR_MAX);
    }

    ngx_http_mcp_jw_literal(jw, "}");
}


/*
 * The arguments as the entry's audit_arguments says: their SHA-256 (hash,
 * the default), themselves (full: whole members up to 4 KB, then the
 * hash too), or nothing (off).  Hashed is their canonical text: written
 * compactly as received, members in their order.
 */

static void
ngx_http_mcp_audit_arguments(ngx_http_request_t *r, ngx_http_mcp_obs_t *o,
    ngx_http_mcp_jw_t *jw)
{
    u_char                md[SHA256_DIGEST_LENGTH];
    u_char                hex[2 * SHA256_DIGEST_LENGTH];
    size_t                cut;
    ngx_str_t             text;
    ngx_http_mcp_jw_t     aw;
    ngx_http_mcp_json_t  *m;

    if (o->arguments == NULL || o->audit == NGX_HTTP_MCP_AUDIT_OFF) {
        return;
    }

    if (ngx_http_mcp_jw_init(&aw, r->pool, 256) != NGX_OK) {
        jw->failed = 1;
        return;
    }

    /* the text, and where the last member that fits the bound ends */

    ngx_http_mcp_jw_literal(&aw, "{");
    cut = 1;

    for (m = o->arguments->first; m; m = m->next) {

        if (m != o->arguments->first) {
            ngx_http_mcp_jw_literal(&aw, ",");
        }

        ngx_http_mcp_jw_str(&aw, &m->key);
        ngx_http_mcp_jw_literal(&aw, ":");
        ngx_http_mcp_jw_value(&aw, m);

        if (ngx_http_mcp_jw_mark(&aw) < NGX_HTTP_MCP_AUDIT_ARGS_MAX) {
            cut = ngx_http_mcp_jw_mark(&aw);
        }
    }

    ngx_http_mcp_jw_literal(&aw, "}");

    if (ngx_http_mcp_jw_finish(&aw, &text) != NGX_OK) {
        jw->failed = 1;
        return;
    }

    ngx_http_mcp_sha256(text.data, text.len, md);
    ngx_hex_dump(hex, md, SHA256_DIGEST_LENGTH);

    if (o->audit != NGX_HTTP_MCP_AUDIT_FULL) {
        ngx_http_mcp_jw_literal(jw, ",\"arguments\":{\"sha256\":\"");
        ngx_http_mcp_jw_raw(jw, hex, sizeof(hex));
        ngx_http_mcp_jw_literal(jw, "\"}");
        return;
    }

    ngx_http_mcp_jw_literal(jw, ",\"arguments\":");

    if (text.len <= NGX_HTTP_MCP_AUDIT_ARGS_MAX) {
        ngx_http_mcp_jw_raw(jw, text.data, text.len);
        return;
    }

    ngx_http_mcp_jw_raw(jw, text.data, cut);
    ngx_http_mcp_jw_literal(jw, "},\"arguments_truncated\":true,"
                                "\"arguments_sha256\":\"");
    ngx_http_mcp_jw_raw(jw, hex, sizeof(hex));
    ngx_http_mcp_jw_literal(jw, "\"");
}


/* as $mcp_outcome: "ok", "tool_error", a JSON-RPC code; none is null */

static void
ngx_http_mcp_audit_outcome(ngx_http_mcp_jw_t *jw, ngx_int_t outcome)
{
    u_char  *p, buf[NGX_INT_T_LEN + 2];

    switch (outcome) {

    case NGX_HTTP_MCP_OUTCOME_NONE:
        ngx_http_mcp_jw_literal(jw, "null");
        return;

    case NGX_HTTP_MCP_OUTCOME_OK:
        ngx_http_mcp_jw_literal(jw, "\"ok\"");
        return;

    case NGX_HTTP_MCP_OUTCOME_TOOL_ERROR:
        ngx_http_mcp_jw_literal(jw, "\"tool_error\"");
        return;
    }

    p = ngx_sprintf(buf, "\"%i\"", outcome);
    ngx_http_mcp_jw_raw(jw, buf, p - buf);
}
