
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/sha.h>

#include "ngx_http_mcp_module.h"
#include "observe/ngx_http_mcp_observe.h"
#include "observe/ngx_http_mcp_metrics.h"
#include "observe/ngx_http_mcp_metrics_int.h"
#include "observe/ngx_http_mcp_audit.h"
#include "json/ngx_http_mcp_json.h"


/*
 * The request's record and the $mcp_* variables of what it did, for
 * access_log and the like:
 *
 *   $mcp_method            the JSON-RPC method (of a batch: its last)
 *   $mcp_entry             the tool or prompt name, the resource's uri
 *   $mcp_request_id        the JSON-RPC id as JSON (7, "abc")
 *   $mcp_session           the first 16 hex digits of the SHA-256 of the
 *                          session id: the id itself is a secret, never
 *                          written anywhere
 *   $mcp_protocol_version  2025-03-26 ... 2026-07-28
 *   $mcp_outcome           ok, tool_error, or the JSON-RPC error code
 *   $mcp_client_name       clientInfo.name (the session's, or _meta's)
 *   $mcp_trace_id          W3C trace context: 32 hex digits
 *   $mcp_span_id           this request's span: 16 hex digits
 *
 * Each is empty (not found) where it does not apply.  Values from the
 * client (the id, the client's name) are at most 128 bytes of printable
 * ASCII, other bytes as "?", so that no log line can be forged or made
 * huge through them.
 */


#define NGX_HTTP_MCP_OBS_MAX  128


typedef ngx_int_t (*ngx_http_mcp_obs_var_pt)(ngx_http_request_t *r,
    ngx_http_mcp_obs_t *o, ngx_str_t *v);


static ngx_int_t ngx_http_mcp_observe_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_mcp_observe_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_mcp_observe_log(ngx_http_request_t *r);
static void *ngx_http_mcp_observe_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_mcp_metrics_location(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);


static ngx_command_t  ngx_http_mcp_observe_commands[] = {

    { ngx_string("mcp_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_mcp_metrics_location,
      0,
      0,
      NULL },

      ngx_null_command
};
static ngx_int_t ngx_http_mcp_obs_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_mcp_obs_method(ngx_http_request_t *r,
    ngx_http_mcp_obs_t *o, ngx_str_t *v);
static ngx_int_t ngx_http_mcp_obs_entry(ngx_http_request_t *r,
    ngx_http_mcp_obs_t *o, ngx_str_t *v);
static ngx_int_t ngx_http_mcp_obs_request_id(ngx_http_request_t *r,
    ngx_http_mcp_obs_t *o, ngx_str_t *v);
static ngx_int_t ngx_http_mcp_obs_session(ngx_http_request_t *r,
    ngx_http_mcp_obs_t *o, ngx_str_t *v);
static ngx_int_t ngx_http_mcp_obs_version(ngx_http_request_t *r,
    ngx_http_mcp_obs_t *o, ngx_str_t *v);
static ngx_int_t ngx_http_mcp_obs_outcome(ngx_http_request_t *r,
    ngx_http_mcp_obs_t *o, ngx_str_t *v);
static ngx_int_t ngx_http_mcp_obs_client_name(ngx_http_request_t *r,
    ngx_http_mcp_obs_t *o, ngx_str_t *v);
static ngx_int_t ngx_http_mcp_obs_trace_id(ngx_http_request_t *r,
    ngx_http_mcp_obs_t *o, ngx_str_t *v);
static ngx_int_t ngx_http_mcp_obs_span_id(ngx_http_request_t *r,
    ngx_http_mcp_obs_t *o, ngx_str_t *v);
static ngx_int_t ngx_http_mcp_obs_hex(ngx_http_request_t *r,
    ngx_http_mcp_obs_t *o, u_char *id, size_t n, ngx_str_t *v);
static ngx_int_t ngx_http_mcp_obs_safe(ngx_pool_t *pool, ngx_str_t *in,
    ngx_str_t *v);


static ngx_http_module_t  ngx_http_mcp_observe_module_ctx = {
    ngx_http_mcp_observe_preconfiguration, /* preconfiguration */
    ngx_http_mcp_observe_postconfiguration, /* postconfiguration */

    ngx_http_mcp_observe_create_main_conf, /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_mcp_observe_module = {
    NGX_MODULE_V1,
    &ngx_http_mcp_observe_module_ctx,      /* module context */
    ngx_http_mcp_observe_commands,         /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_variable_t  ngx_http_mcp_obs_vars[] = {

    { ngx_string("mcp_method"), NULL, ngx_http_mcp_obs_variable,
      (uintptr_t) ngx_http_mcp_obs_method, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mcp_entry"), NULL, ngx_http_mcp_obs_variable,
      (uintptr_t) ngx_http_mcp_obs_entry, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mcp_request_id"), NULL, ngx_http_mcp_obs_variable,
      (uintptr_t) ngx_http_mcp_obs_request_id, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mcp_session"), NULL, ngx_http_mcp_obs_variable,
      (uintptr_t) ngx_http_mcp_obs_session, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mcp_protocol_version"), NULL, ngx_http_mcp_obs_variable,
      (uintptr_t) ngx_http_mcp_obs_version, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mcp_outcome"), NULL, ngx_http_mcp_obs_variable,
      (uintptr_t) ngx_http_mcp_obs_outcome, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mcp_client_name"), NULL, ngx_http_mcp_obs_variable,
      (uintptr_t) ngx_http_mcp_obs_client_name, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mcp_trace_id"), NULL, ngx_http_mcp_obs_variable,
      (uintptr_t) ngx_http_mcp_obs_trace_id, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mcp_span_id"), NULL, ngx_http_mcp_obs_variable,
      (uintptr_t) ngx_http_mcp_obs_span_id, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_str_t  ngx_http_mcp_obs_versions[] = {
    ngx_null_string,
    ngx_string("2025-03-26"),
    ngx_string("2025-06-18"),
    ngx_string("2025-11-25"),
    ngx_string("2026-07-28")
};


static ngx_int_t
ngx_http_mcp_observe_preconfiguration(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_mcp_obs_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static void *
ngx_http_mcp_observe_create_main_conf(ngx_conf_t *cf)
{
    return ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_metrics_ctx_t));
}


/* the log phase: the metrics and the audit of what an MCP request did */

static ngx_int_t
ngx_http_mcp_observe_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_mcp_observe_log;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_observe_log(ngx_http_request_t *r)
{
    ngx_http_mcp_obs_t  *o;

    o = ngx_http_get_module_ctx(r, ngx_http_mcp_observe_module);

    if (o && r == r->main) {
        ngx_http_mcp_metrics_record(r, o);
    }

    if (r == r->main) {
        ngx_http_mcp_audit_record(r, o);
    }

    return NGX_OK;
}


/* `mcp_metrics;`: the location answers the metrics */

static char *
ngx_http_mcp_metrics_location(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_metrics_ctx_t *ctx = conf;

    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_mcp_metrics_handler;

    ctx->shown = 1;

    return NGX_CONF_OK;
}


ngx_http_mcp_obs_t *
ngx_http_mcp_observe(ngx_http_request_t *r)
{
    ngx_http_mcp_obs_t  *o;

    o = ngx_http_get_module_ctx(r->main, ngx_http_mcp_observe_module);

    if (o == NULL) {
        o = ngx_pcalloc(r->main->pool, sizeof(ngx_http_mcp_obs_t));
        if (o == NULL) {
            return NULL;
        }

        ngx_http_set_ctx(r->main, o, ngx_http_mcp_observe_module);
    }

    return o;
}


/*
 * The entry's series (metrics), target and audit mode (the audit) cost a
 * registry search at each call: none is read without metrics or an audit
 * log.  $mcp_entry is the name the request gave, and needs no search.
 */

ngx_uint_t
ngx_http_mcp_observe_detail(ngx_http_request_t *r)
{
    return ngx_http_mcp_metrics_ctx()->sh != NULL
           || ngx_http_mcp_audit_on(r);
}


static ngx_int_t
ngx_http_mcp_obs_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_mcp_obs_var_pt handler = (ngx_http_mcp_obs_var_pt) data;

    ngx_str_t            s;
    ngx_http_mcp_obs_t  *o;

    o = ngx_http_get_module_ctx(r->main, ngx_http_mcp_observe_module);

    ngx_str_null(&s);

    if (o && handler(r, o, &s) == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (s.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->len = s.len;
    v->data = s.data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_obs_method(ngx_http_request_t *r, ngx_http_mcp_obs_t *o,
    ngx_str_t *v)
{
    return ngx_http_mcp_obs_safe(r->pool, &o->method, v);
}


static ngx_int_t
ngx_http_mcp_obs_entry(ngx_http_request_t *r, ngx_http_mcp_obs_t *o,
    ngx_str_t *v)
{
    return ngx_http_mcp_obs_safe(r->pool, &o->entry, v);
}


static ngx_int_t
ngx_http_mcp_obs_request_id(ngx_http_request_t *r, ngx_http_mcp_obs_t *o,
    ngx_str_t *v)
{
    ngx_str_t          text;
    ngx_http_mcp_jw_t  jw;

    if (o->id == NULL) {
        return NGX_OK;
    }

    if (ngx_http_mcp_jw_init(&jw, r->pool, 32) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_mcp_jw_value(&jw, o->id);

    if (ngx_http_mcp_jw_finish(&jw, &text) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_mcp_obs_safe(r->pool, &text, v);
}


static ngx_int_t
ngx_http_mcp_obs_session(ngx_http_request_t *r, ngx_http_mcp_obs_t *o,
    ngx_str_t *v)
{
    if (o->session.len == 0) {
        return NGX_OK;
    }

    v->data = ngx_pnalloc(r->pool, NGX_HTTP_MCP_OBS_SESSION_LEN);
    if (v->data == NULL) {
        return NGX_ERROR;
    }

    v->len = ngx_http_mcp_observe_session(v->data, &o->session) - v->data;

    return NGX_OK;
}


u_char *
ngx_http_mcp_observe_session(u_char *p, ngx_str_t *session)
{
    u_char  md[SHA256_DIGEST_LENGTH];

    ngx_http_mcp_sha256(session->data, session->len, md);

    return ngx_hex_dump(p, md, NGX_HTTP_MCP_OBS_SESSION_LEN / 2);
}


static ngx_int_t
ngx_http_mcp_obs_version(ngx_http_request_t *r, ngx_http_mcp_obs_t *o,
    ngx_str_t *v)
{
    if (o->version <= NGX_HTTP_MCP_V_LATEST) {
        *v = ngx_http_mcp_obs_versions[o->version];
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_obs_outcome(ngx_http_request_t *r, ngx_http_mcp_obs_t *o,
    ngx_str_t *v)
{
    switch (o->outcome) {

    case NGX_HTTP_MCP_OUTCOME_NONE:
        return NGX_OK;

    case NGX_HTTP_MCP_OUTCOME_OK:
        ngx_str_set(v, "ok");
        return NGX_OK;

    case NGX_HTTP_MCP_OUTCOME_TOOL_ERROR:
        ngx_str_set(v, "tool_error");
        return NGX_OK;
    }

    v->data = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (v->data == NULL) {
        return NGX_ERROR;
    }

    v->len = ngx_sprintf(v->data, "%i", o->outcome) - v->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_mcp_observe_client(ngx_http_request_t *r, ngx_http_mcp_obs_t *o,
    ngx_http_mcp_json_t **info)
{
    ngx_str_t                   err;
    ngx_http_mcp_json_limits_t  limits;

    *info = o->client;

    if (*info == NULL && o->client_info.len) {

        /* a session's clientInfo, kept as its JSON text */

        ngx_memzero(&limits, sizeof(ngx_http_mcp_json_limits_t));
        limits.max_depth = 8;
        limits.max_members = 64;
        limits.max_string = 4096;
        limits.max_values = 1024;

        if (ngx_http_mcp_json_parse(r->pool, o->client_info.data,
                                    o->client_info.len, &limits, info,
                                    &err)
            == NGX_ERROR)
        {
            return NGX_ERROR;
        }

        /* parsed once for the variable and the audit both */

        o->client = *info;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_obs_client_name(ngx_http_request_t *r, ngx_http_mcp_obs_t *o,
    ngx_str_t *v)
{
    ngx_http_mcp_json_t  *info, *name;

    if (ngx_http_mcp_observe_client(r, o, &info) != NGX_OK) {
        return NGX_ERROR;
    }

    name = ngx_http_mcp_json_member(info, "name");

    if (name == NULL || name->type != NGX_HTTP_MCP_JSON_STRING) {
        return NGX_OK;
    }

    return ngx_http_mcp_obs_safe(r->pool, &name->str, v);
}


static ngx_int_t
ngx_http_mcp_obs_trace_id(ngx_http_request_t *r, ngx_http_mcp_obs_t *o,
    ngx_str_t *v)
{
    return ngx_http_mcp_obs_hex(r, o, o->trace_id, sizeof(o->trace_id), v);
}


static ngx_int_t
ngx_http_mcp_obs_span_id(ngx_http_request_t *r, ngx_http_mcp_obs_t *o,
    ngx_str_t *v)
{
    return ngx_http_mcp_obs_hex(r, o, o->span_id, sizeof(o->span_id), v);
}


/* an id of the trace context in hex, once the request is traced */

static ngx_int_t
ngx_http_mcp_obs_hex(ngx_http_request_t *r, ngx_http_mcp_obs_t *o,
    u_char *id, size_t n, ngx_str_t *v)
{
    if (!o->traced) {
        return NGX_OK;
    }

    v->data = ngx_pnalloc(r->pool, 2 * n);
    if (v->data == NULL) {
        return NGX_ERROR;
    }

    v->len = ngx_hex_dump(v->data, id, n) - v->data;

    return NGX_OK;
}


/* at most 128 bytes, printable ASCII, others as "?" */

static ngx_int_t
ngx_http_mcp_obs_safe(ngx_pool_t *pool, ngx_str_t *in, ngx_str_t *v)
{
    u_char  *p;
    size_t   i, n;

    n = ngx_min(in->len, NGX_HTTP_MCP_OBS_MAX);

    for (i = 0; i < n; i++) {
        if (in->data[i] < 0x20 || in->data[i] > 0x7e) {
            break;
        }
    }

    if (i == in->len) {
        *v = *in;                  /* as it is: the common case */
        return NGX_OK;
    }

    p = ngx_pnalloc(pool, n);
    if (p == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        p[i] = (in->data[i] < 0x20 || in->data[i] > 0x7e) ? '?'
                                                          : in->data[i];
    }

    v->data = p;
    v->len = n;

    return NGX_OK;
}
