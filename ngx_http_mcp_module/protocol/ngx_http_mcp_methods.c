
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_mcp_module.h"
#include "protocol/ngx_http_mcp_methods.h"
#include "json/ngx_http_mcp_schema.h"


static ngx_int_t ngx_http_mcp_json_text(ngx_http_mcp_call_t *c,
    ngx_http_mcp_json_t *v, ngx_str_t *out);


static ngx_str_t  ngx_http_mcp_levels[] = {
    ngx_string("debug"),
    ngx_string("info"),
    ngx_string("notice"),
    ngx_string("warning"),
    ngx_string("error"),
    ngx_string("critical"),
    ngx_string("alert"),
    ngx_string("emergency")
};


static ngx_str_t  ngx_http_mcp_list_members[] = {
    ngx_string("tools/list"),
    ngx_string("resources/list"),
    ngx_string("resources/templates/list"),
    ngx_string("prompts/list")
};


/* the session copy to write back; changes in one batch accumulate */

ngx_http_mcp_session_t *
ngx_http_mcp_session_change(ngx_http_mcp_exchange_t *x)
{
    if (x->session_action != NGX_HTTP_MCP_SESSION_UPDATE) {
        x->new_session = *x->session;
        x->session_action = NGX_HTTP_MCP_SESSION_UPDATE;
    }

    return &x->new_session;
}


ngx_http_mcp_log_level_e
ngx_http_mcp_log_level(ngx_str_t *name)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_MCP_LOG_NONE; i++) {
        if (name->len == ngx_http_mcp_levels[i].len
            && ngx_strncmp(name->data, ngx_http_mcp_levels[i].data,
                           name->len) == 0)
        {
            return i;
        }
    }

    return NGX_HTTP_MCP_LOG_NONE;
}


/* "capabilities":{...},"serverInfo":{...} and "instructions" if any */

void
ngx_http_mcp_write_server(ngx_http_mcp_call_t *c)
{
    ngx_http_mcp_jw_t      *jw;
    ngx_http_mcp_server_t  *srv;

    jw = c->jw;
    srv = c->srv;

    ngx_http_mcp_jw_literal(jw, "\"capabilities\":{\"logging\":{}");

    /*
     * Lists change on a reload, and an operator's backend says so (and
     * that a resource changed) through an mcp_publish location: on a
     * session's GET stream (2025), on subscriptions/listen streams (2026)
     */

    if (srv->tools.nelts) {
        ngx_http_mcp_jw_literal(jw, ",\"tools\":{\"listChanged\":true}");
    }

    if (srv->resources.nelts || srv->templates.nelts) {
        ngx_http_mcp_jw_literal(jw, ",\"resources\":{\"subscribe\":true,"
                                    "\"listChanged\":true}");
    }

    if (srv->prompts.nelts) {
        ngx_http_mcp_jw_literal(jw, ",\"prompts\":{\"listChanged\":true}");
    }

    if (srv->prompts.nelts || srv->templates.nelts) {
        ngx_http_mcp_jw_literal(jw, ",\"completions\":{}");
    }

    ngx_http_mcp_jw_literal(jw, "},");
    ngx_http_mcp_jw_raw(jw, srv->server_info.data, srv->server_info.len);

    if (srv->instructions.len) {
        ngx_http_mcp_jw_literal(jw, ",\"instructions\":");
        ngx_http_mcp_jw_str(jw, &srv->instructions);
    }
}


ngx_int_t
ngx_http_mcp_method_initialize(ngx_http_mcp_call_t *c)
{
    ngx_str_t                 *name;
    ngx_http_mcp_jw_t         *jw;
    ngx_http_mcp_json_t       *version, *caps, *info;
    ngx_http_mcp_session_t    *s;
    ngx_http_mcp_version_e     v;

    version = ngx_http_mcp_param(c, "protocolVersion",
                                 NGX_HTTP_MCP_JSON_STRING, 1);
    if (version == NULL) {
        return NGX_DECLINED;
    }

    caps = ngx_http_mcp_param(c, "capabilities", NGX_HTTP_MCP_JSON_OBJECT, 0);
    if (caps == NULL && c->code) {
        return NGX_DECLINED;
    }

    info = ngx_http_mcp_param(c, "clientInfo", NGX_HTTP_MCP_JSON_OBJECT, 0);
    if (info == NULL && c->code) {
        return NGX_DECLINED;
    }

    /* echo a session revision we speak; otherwise offer the latest one */

    v = ngx_http_mcp_version_parse(&version->str);

    if (v == NGX_HTTP_MCP_V_UNKNOWN || v > NGX_HTTP_MCP_V_LATEST_LEGACY) {
        v = NGX_HTTP_MCP_V_LATEST_LEGACY;
    }

    name = ngx_http_mcp_version_name(v);

    /* the session to be stored by transport */

    s = &c->x->new_session;
    ngx_memzero(s, sizeof(ngx_http_mcp_session_t));

    s->version = v;
    s->log_level = NGX_HTTP_MCP_LOG_NONE;

    if (ngx_http_mcp_json_text(c, caps, &s->client_capabilities) != NGX_OK
        || ngx_http_mcp_json_text(c, info, &s->client_info) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* bound to its creator: another caller presenting the id is refused */

    ngx_memcpy(s->principal, c->x->identity->principal,
               NGX_HTTP_MCP_PRINCIPAL_LEN);

    c->x->session_action = NGX_HTTP_MCP_SESSION_CREATE;

    jw = c->jw;

    ngx_http_mcp_jw_literal(jw, "\"protocolVersion\":");
    ngx_http_mcp_jw_str(jw, name);
    ngx_http_mcp_jw_literal(jw, ",");
    ngx_http_mcp_write_server(c);

    return NGX_OK;
}


ngx_int_t
ngx_http_mcp_method_discover(ngx_http_mcp_call_t *c)
{
    ngx_http_mcp_jw_t  *jw;

    jw = c->jw;

    ngx_http_mcp_jw_literal(jw, "\"supportedVersions\":[\"2025-03-26\","
                                "\"2025-06-18\",\"2025-11-25\","
                                "\"2026-07-28\"],");
    ngx_http_mcp_write_server(c);

    return NGX_OK;
}


/* ping, and the legacy methods whose result is exactly {} */

ngx_int_t
ngx_http_mcp_method_empty(ngx_http_mcp_call_t *c)
{
    return NGX_OK;
}


ngx_int_t
ngx_http_mcp_method_list(ngx_http_mcp_call_t *c)
{
    ngx_int_t             rc;
    ngx_uint_t            kind;
    ngx_http_mcp_json_t  *cursor;

    for (kind = 0; kind < NGX_HTTP_MCP_LIST_MAX; kind++) {
        if (c->msg->method.len == ngx_http_mcp_list_members[kind].len
            && ngx_strncmp(c->msg->method.data,
                           ngx_http_mcp_list_members[kind].data,
                           c->msg->method.len) == 0)
        {
            break;
        }
    }

    if (!ngx_http_mcp_has_kind(c, kind)) {
        return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_METHOD_NOT_FOUND,
                                       "Method not found: %V",
                                       &c->msg->method);
    }

    cursor = ngx_http_mcp_param(c, "cursor", NGX_HTTP_MCP_JSON_STRING, 0);
    if (cursor == NULL && c->code) {
        return NGX_DECLINED;
    }

    rc = ngx_http_mcp_registry_list(c->srv, kind,
                                    cursor ? &cursor->str : NULL,
                                    c->x->conf->page_size, c->x->identity,
                                    c->jw);

    if (rc == NGX_DECLINED) {
        return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_INVALID_PARAMS,
                                       "Invalid cursor");
    }

    return rc;
}


ngx_int_t
ngx_http_mcp_method_complete(ngx_http_mcp_call_t *c)
{
    ngx_int_t             rc;
    ngx_str_t               err;
    ngx_http_mcp_json_t    *ref, *type, *target, *arg, *name, *value;
    ngx_http_mcp_access_t   acc;

    if (!ngx_http_mcp_has_kind(c, NGX_HTTP_MCP_LIST_PROMPTS)
        && !ngx_http_mcp_has_kind(c, NGX_HTTP_MCP_LIST_TEMPLATES))
    {
        return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_METHOD_NOT_FOUND,
                                       "Method not found: "
                                       "completion/complete");
    }

    ref = ngx_http_mcp_param(c, "ref", NGX_HTTP_MCP_JSON_OBJECT, 1);
    if (ref == NULL) {
        return NGX_DECLINED;
    }

    arg = ngx_http_mcp_param(c, "argument", NGX_HTTP_MCP_JSON_OBJECT, 1);
    if (arg == NULL) {
        return NGX_DECLINED;
    }

    type = ngx_http_mcp_json_member(ref, "type");

    if (type == NULL || type->type != NGX_HTTP_MCP_JSON_STRING) {
        return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_INVALID_PARAMS,
                                       "params.ref.type must be a string");
    }

    target = ngx_http_mcp_json_member(ref, "name");

    if (type->str.len == sizeof("ref/resource") - 1
        && ngx_strncmp(type->str.data, "ref/resource", type->str.len) == 0)
    {
        target = ngx_http_mcp_json_member(ref, "uri");
    }

    if (target == NULL || target->type != NGX_HTTP_MCP_JSON_STRING) {
        return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_INVALID_PARAMS,
                                       "params.ref needs \"name\" (prompts) "
                                       "or \"uri\" (resource templates)");
    }

    name = ngx_http_mcp_json_member(arg, "name");
    value = ngx_http_mcp_json_member(arg, "value");

    if (name == NULL || name->type != NGX_HTTP_MCP_JSON_STRING
        || value == NULL || value->type != NGX_HTTP_MCP_JSON_STRING)
    {
        return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_INVALID_PARAMS,
                                       "params.argument needs string "
                                       "\"name\" and \"value\"");
    }

    ngx_str_null(&err);
    acc.who = c->x->identity;

    rc = ngx_http_mcp_registry_complete(c->srv, &type->str, &target->str,
                                        &name->str, &value->str, &acc, c->jw,
                                        &err);

    if (rc == NGX_DECLINED) {
        return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_INVALID_PARAMS,
                                       "%V", &err);
    }

    if (rc == NGX_HTTP_MCP_DENIED) {
        return ngx_http_mcp_denied(c, acc.denied);
    }

    return rc;
}


ngx_int_t
ngx_http_mcp_method_set_level(ngx_http_mcp_call_t *c)
{
    ngx_http_mcp_json_t       *level;
    ngx_http_mcp_log_level_e   lvl;

    level = ngx_http_mcp_param(c, "level", NGX_HTTP_MCP_JSON_STRING, 1);
    if (level == NULL) {
        return NGX_DECLINED;
    }

    lvl = ngx_http_mcp_log_level(&level->str);

    if (lvl == NGX_HTTP_MCP_LOG_NONE) {
        return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_INVALID_PARAMS,
                                       "Invalid log level: %V", &level->str);
    }

    ngx_http_mcp_session_change(c->x)->log_level = lvl;

    return NGX_OK;
}


/*
 * params.NAME of the given type.  NULL with c->code set when it is of
 * another type, or missing and required; NULL alone when simply absent.
 */

ngx_http_mcp_json_t *
ngx_http_mcp_param(ngx_http_mcp_call_t *c, const char *name,
    ngx_http_mcp_json_type_e type, ngx_uint_t required)
{
    static const char   *types[] = {
        "null", "a boolean", "a boolean", "an integer", "a number",
        "a string", "an array", "an object"
    };

    ngx_http_mcp_json_t  *v;

    v = ngx_http_mcp_json_get(c->msg->params, (u_char *) name,
                              ngx_strlen(name));

    if (v == NULL) {

        if (required) {
            ngx_http_mcp_call_error(c, NGX_HTTP_MCP_INVALID_PARAMS,
                                    "params.%s is required", name);
        }

        return NULL;
    }

    if (v->type != type) {
        ngx_http_mcp_call_error(c, NGX_HTTP_MCP_INVALID_PARAMS,
                                "params.%s must be %s", name, types[type]);
        return NULL;
    }

    return v;
}


ngx_uint_t
ngx_http_mcp_has_kind(ngx_http_mcp_call_t *c, ngx_http_mcp_list_e kind)
{
    switch (kind) {

    case NGX_HTTP_MCP_LIST_TOOLS:
        return c->srv->tools.nelts != 0;

    case NGX_HTTP_MCP_LIST_RESOURCES:
    case NGX_HTTP_MCP_LIST_TEMPLATES:
        return c->srv->resources.nelts != 0 || c->srv->templates.nelts != 0;

    case NGX_HTTP_MCP_LIST_PROMPTS:
        return c->srv->prompts.nelts != 0;

    default:
        return 0;
    }
}


/* a value as JSON text in the request pool; absent is {} */

static ngx_int_t
ngx_http_mcp_json_text(ngx_http_mcp_call_t *c, ngx_http_mcp_json_t *v,
    ngx_str_t *out)
{
    ngx_http_mcp_jw_t  jw;

    if (v == NULL) {
        ngx_str_set(out, "{}");
        return NGX_OK;
    }

    if (ngx_http_mcp_jw_init(&jw, c->x->pool, 256) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_mcp_jw_value(&jw, v);

    return ngx_http_mcp_jw_finish(&jw, out);
}


ngx_int_t
ngx_http_mcp_dispatch_notification(ngx_http_mcp_exchange_t *x,
    ngx_http_mcp_json_t *event, ngx_pool_t *pool, ngx_str_t *out)
{
    ngx_http_mcp_jw_t          jw;
    ngx_http_mcp_json_t       *v, *log, *level, *m;
    ngx_http_mcp_log_level_e   lvl;

    if (ngx_http_mcp_jw_init(&jw, pool, 256) != NGX_OK) {
        return NGX_ERROR;
    }

    v = ngx_http_mcp_json_member(event, "progress");

    if (v) {
        if (x->progress_token == NULL
            || (v->type != NGX_HTTP_MCP_JSON_INTEGER
                && v->type != NGX_HTTP_MCP_JSON_NUMBER))
        {
            return NGX_DECLINED;
        }

        ngx_http_mcp_jw_literal(&jw, "{\"jsonrpc\":\"2.0\",\"method\":"
                                     "\"notifications/progress\",\"params\":"
                                     "{\"progressToken\":");
        ngx_http_mcp_jw_value(&jw, x->progress_token);
        ngx_http_mcp_jw_literal(&jw, ",\"progress\":");
        ngx_http_mcp_jw_value(&jw, v);

        m = ngx_http_mcp_json_member(event, "total");
        if (m && (m->type == NGX_HTTP_MCP_JSON_INTEGER
                  || m->type == NGX_HTTP_MCP_JSON_NUMBER))
        {
            ngx_http_mcp_jw_literal(&jw, ",\"total\":");
            ngx_http_mcp_jw_value(&jw, m);
        }

        m = ngx_http_mcp_json_member(event, "message");
        if (m && m->type == NGX_HTTP_MCP_JSON_STRING) {
            ngx_http_mcp_jw_literal(&jw, ",\"message\":");
            ngx_http_mcp_jw_value(&jw, m);
        }

        ngx_http_mcp_jw_literal(&jw, "}}");

        return ngx_http_mcp_jw_finish(&jw, out);
    }

    log = ngx_http_mcp_json_member(event, "log");

    if (log == NULL || log->type != NGX_HTTP_MCP_JSON_OBJECT
        || x->log_level == NGX_HTTP_MCP_LOG_NONE)
    {
        return NGX_DECLINED;
    }

    level = ngx_http_mcp_json_member(log, "level");
    lvl = NGX_HTTP_MCP_LOG_NONE;

    if (level && level->type == NGX_HTTP_MCP_JSON_STRING) {
        lvl = ngx_http_mcp_log_level(&level->str);
    }

    if (lvl == NGX_HTTP_MCP_LOG_NONE || lvl < x->log_level) {
        return NGX_DECLINED;
    }

    ngx_http_mcp_jw_literal(&jw, "{\"jsonrpc\":\"2.0\",\"method\":"
                                 "\"notifications/message\",\"params\":"
                                 "{\"level\":");
    ngx_http_mcp_jw_value(&jw, level);

    m = ngx_http_mcp_json_member(log, "logger");
    if (m && m->type == NGX_HTTP_MCP_JSON_STRING) {
        ngx_http_mcp_jw_literal(&jw, ",\"logger\":");
        ngx_http_mcp_jw_value(&jw, m);
    }

    ngx_http_mcp_jw_literal(&jw, ",\"data\":");

    m = ngx_http_mcp_json_member(log, "data");
    if (m) {
        ngx_http_mcp_jw_value(&jw, m);

    } else {
        ngx_http_mcp_jw_literal(&jw, "null");
    }

    ngx_http_mcp_jw_literal(&jw, "}}");

    return ngx_http_mcp_jw_finish(&jw, out);
}
