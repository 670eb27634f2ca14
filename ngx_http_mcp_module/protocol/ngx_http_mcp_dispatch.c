
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_mcp_module.h"
#include "protocol/ngx_http_mcp_methods.h"


#define NGX_HTTP_MCP_M_LEGACY     0x01   /* in a session */
#define NGX_HTTP_MCP_M_MODERN     0x02   /* 2026-07-28 */
#define NGX_HTTP_MCP_M_BOTH       0x03
#define NGX_HTTP_MCP_M_CACHE      0x04   /* ttlMs/cacheScope in 2026 */
#define NGX_HTTP_MCP_M_NAME       0x08   /* Mcp-Name is params.name */
#define NGX_HTTP_MCP_M_URI        0x10   /* Mcp-Name is params.uri */


typedef struct {
    ngx_str_t                   name;
    ngx_http_mcp_method_pt      handler;
    ngx_uint_t                  flags;
} ngx_http_mcp_method_t;


static ngx_int_t ngx_http_mcp_dispatch_one(ngx_http_mcp_exchange_t *x,
    ngx_http_mcp_json_t *v, ngx_http_mcp_jw_t *jw);
static ngx_int_t ngx_http_mcp_check_modern(ngx_http_mcp_call_t *c,
    ngx_http_mcp_method_t *m);
static ngx_int_t ngx_http_mcp_check_header(ngx_http_mcp_call_t *c,
    ngx_str_t *header, ngx_str_t *value, const char *what);
static ngx_int_t ngx_http_mcp_check_params(ngx_http_mcp_call_t *c);
static ngx_int_t ngx_http_mcp_header_value(ngx_pool_t *pool, ngx_str_t *h,
    ngx_str_t *out);
static ngx_http_mcp_method_t *ngx_http_mcp_method_find(ngx_str_t *name);
static void ngx_http_mcp_write_error(ngx_http_mcp_call_t *c);
static void ngx_http_mcp_invalid(ngx_http_mcp_exchange_t *x,
    ngx_http_mcp_jw_t *jw, ngx_http_mcp_json_t *id, ngx_int_t code,
    const char *message);


static ngx_str_t  ngx_http_mcp_versions[] = {
    ngx_null_string,
    ngx_string("2025-03-26"),
    ngx_string("2025-06-18"),
    ngx_string("2025-11-25"),
    ngx_string("2026-07-28")
};


static ngx_http_mcp_method_t  ngx_http_mcp_methods[] = {

    { ngx_string("initialize"),
      ngx_http_mcp_method_initialize, 0 },

    { ngx_string("ping"),
      ngx_http_mcp_method_empty, NGX_HTTP_MCP_M_LEGACY },

    { ngx_string("server/discover"),
      ngx_http_mcp_method_discover,
      NGX_HTTP_MCP_M_MODERN|NGX_HTTP_MCP_M_CACHE },

    { ngx_string("tools/list"),
      ngx_http_mcp_method_list, NGX_HTTP_MCP_M_BOTH|NGX_HTTP_MCP_M_CACHE },

    { ngx_string("tools/call"),
      ngx_http_mcp_method_tools_call,
      NGX_HTTP_MCP_M_BOTH|NGX_HTTP_MCP_M_NAME },

    { ngx_string("resources/list"),
      ngx_http_mcp_method_list, NGX_HTTP_MCP_M_BOTH|NGX_HTTP_MCP_M_CACHE },

    { ngx_string("resources/templates/list"),
      ngx_http_mcp_method_list, NGX_HTTP_MCP_M_BOTH|NGX_HTTP_MCP_M_CACHE },

    { ngx_string("resources/read"),
      ngx_http_mcp_method_resources_read,
      NGX_HTTP_MCP_M_BOTH|NGX_HTTP_MCP_M_CACHE|NGX_HTTP_MCP_M_URI },

    { ngx_string("resources/subscribe"),
      ngx_http_mcp_method_subscribe, NGX_HTTP_MCP_M_LEGACY },

    { ngx_string("resources/unsubscribe"),
      ngx_http_mcp_method_subscribe, NGX_HTTP_MCP_M_LEGACY },

    { ngx_string("prompts/list"),
      ngx_http_mcp_method_list, NGX_HTTP_MCP_M_BOTH|NGX_HTTP_MCP_M_CACHE },

    { ngx_string("prompts/get"),
      ngx_http_mcp_method_prompts_get,
      NGX_HTTP_MCP_M_BOTH|NGX_HTTP_MCP_M_NAME },

    { ngx_string("completion/complete"),
      ngx_http_mcp_method_complete, NGX_HTTP_MCP_M_BOTH },

    { ngx_string("logging/setLevel"),
      ngx_http_mcp_method_set_level, NGX_HTTP_MCP_M_LEGACY },

    { ngx_null_string, NULL, 0 }
};


static ngx_str_t  ngx_http_mcp_meta_version =
    ngx_string("io.modelcontextprotocol/protocolVersion");
static ngx_str_t  ngx_http_mcp_meta_caps =
    ngx_string("io.modelcontextprotocol/clientCapabilities");
static ngx_str_t  ngx_http_mcp_meta_level =
    ngx_string("io.modelcontextprotocol/logLevel");


ngx_http_mcp_version_e
ngx_http_mcp_version_parse(ngx_str_t *s)
{
    ngx_uint_t  v;

    for (v = NGX_HTTP_MCP_V_2025_03_26; v <= NGX_HTTP_MCP_V_LATEST; v++) {
        if (s->len == ngx_http_mcp_versions[v].len
            && ngx_strncmp(s->data, ngx_http_mcp_versions[v].data, s->len)
               == 0)
        {
            return v;
        }
    }

    return NGX_HTTP_MCP_V_UNKNOWN;
}


ngx_str_t *
ngx_http_mcp_version_name(ngx_http_mcp_version_e v)
{
    return &ngx_http_mcp_versions[v];
}


ngx_http_mcp_era_e
ngx_http_mcp_dispatch_era(ngx_http_mcp_exchange_t *x)
{
    ngx_http_mcp_json_t  *params, *meta;

    if (x->body && x->body->type == NGX_HTTP_MCP_JSON_OBJECT) {
        params = ngx_http_mcp_json_member(x->body, "params");
        meta = ngx_http_mcp_json_member(params, "_meta");

        if (ngx_http_mcp_json_get(meta, ngx_http_mcp_meta_version.data,
                                  ngx_http_mcp_meta_version.len))
        {
            return NGX_HTTP_MCP_ERA_MODERN;
        }
    }

    if (x->has_version) {

        /* 2024-11-05 and the session revisions are legacy */

        if (!(x->h_version.len == 10
              && ngx_strncmp(x->h_version.data, "2024-11-05", 10) == 0)
            && (ngx_http_mcp_version_parse(&x->h_version)
                    == NGX_HTTP_MCP_V_UNKNOWN
                || ngx_http_mcp_version_parse(&x->h_version)
                    > NGX_HTTP_MCP_V_LATEST_LEGACY))
        {
            return NGX_HTTP_MCP_ERA_MODERN;
        }
    }

    return x->has_session ? NGX_HTTP_MCP_ERA_SESSION : NGX_HTTP_MCP_ERA_NONE;
}


ngx_int_t
ngx_http_mcp_dispatch(ngx_http_mcp_exchange_t *x)
{
    u_char               *mark;
    ngx_uint_t            answered;
    ngx_http_mcp_jw_t     jw;
    ngx_http_mcp_json_t  *v;

    if (ngx_http_mcp_jw_init(&jw, x->pool, 1024) != NGX_OK) {
        return NGX_ERROR;
    }

    x->status = NGX_HTTP_OK;

    if (x->body->type != NGX_HTTP_MCP_JSON_ARRAY) {

        if (ngx_http_mcp_dispatch_one(x, x->body, &jw) != NGX_OK) {
            return NGX_ERROR;
        }

        return ngx_http_mcp_jw_finish(&jw, &x->out);
    }

    /* a batch: only in a 2025-03-26 session */

    if (x->era != NGX_HTTP_MCP_ERA_SESSION
        || x->session->version != NGX_HTTP_MCP_V_2025_03_26)
    {
        ngx_http_mcp_invalid(x, &jw, NULL, NGX_HTTP_MCP_INVALID_REQUEST,
                             "batches are not supported by this "
                             "protocol revision");
        return ngx_http_mcp_jw_finish(&jw, &x->out);
    }

    if (x->body->nelts == 0) {
        ngx_http_mcp_invalid(x, &jw, NULL, NGX_HTTP_MCP_INVALID_REQUEST,
                             "empty batch");
        return ngx_http_mcp_jw_finish(&jw, &x->out);
    }

    ngx_http_mcp_jw_literal(&jw, "[");
    answered = 0;

    for (v = x->body->first; v; v = v->next) {
        mark = jw.pos;

        if (answered) {
            ngx_http_mcp_jw_literal(&jw, ",");
        }

        x->status = NGX_HTTP_OK;

        if (ngx_http_mcp_dispatch_one(x, v, &jw) != NGX_OK) {
            return NGX_ERROR;
        }

        if (x->status == NGX_HTTP_ACCEPTED) {
            jw.pos = mark;                       /* nothing to answer */
            continue;
        }

        answered++;
    }

    if (answered == 0) {
        x->status = NGX_HTTP_ACCEPTED;
        ngx_str_null(&x->out);
        return NGX_OK;
    }

    x->status = NGX_HTTP_OK;
    ngx_http_mcp_jw_literal(&jw, "]");

    return ngx_http_mcp_jw_finish(&jw, &x->out);
}


static ngx_int_t
ngx_http_mcp_dispatch_one(ngx_http_mcp_exchange_t *x, ngx_http_mcp_json_t *v,
    ngx_http_mcp_jw_t *jw)
{
    u_char                 *mark, *members;
    ngx_int_t               rc;
    ngx_str_t               info;
    ngx_http_mcp_msg_t      msg;
    ngx_http_mcp_call_t     c;
    ngx_http_mcp_method_t  *m;

    ngx_http_mcp_jsonrpc_read(v, &msg);

    if (msg.kind == NGX_HTTP_MCP_MSG_INVALID) {
        ngx_http_mcp_invalid(x, jw, msg.id, NGX_HTTP_MCP_INVALID_REQUEST,
                             msg.invalid);
        return NGX_OK;
    }

    ngx_memzero(&c, sizeof(ngx_http_mcp_call_t));

    c.x = x;
    c.msg = &msg;
    c.srv = x->conf->server;
    c.jw = jw;
    c.modern = (x->era == NGX_HTTP_MCP_ERA_MODERN);

    x->method = msg.method;

    if (msg.kind == NGX_HTTP_MCP_MSG_RESPONSE) {

        if (c.modern) {
            ngx_http_mcp_invalid(x, jw, msg.id, NGX_HTTP_MCP_INVALID_REQUEST,
                                 "clients must not send responses in this "
                                 "protocol revision");
            return NGX_OK;
        }

        if (x->era == NGX_HTTP_MCP_ERA_NONE) {
            ngx_http_mcp_invalid(x, jw, NULL, NGX_HTTP_MCP_INVALID_REQUEST,
                                 "Mcp-Session-Id header is required");
            return NGX_OK;
        }

        /* no server-to-client request is ever pending yet: nothing to do */
        x->status = NGX_HTTP_ACCEPTED;
        return NGX_OK;
    }

    m = ngx_http_mcp_method_find(&msg.method);

    /* the era decides which methods exist */

    if (x->era == NGX_HTTP_MCP_ERA_NONE) {

        if (msg.kind == NGX_HTTP_MCP_MSG_REQUEST
            && m != NULL && m->handler == ngx_http_mcp_method_initialize)
        {
            goto call;
        }

        ngx_http_mcp_invalid(x, jw, msg.id, NGX_HTTP_MCP_INVALID_REQUEST,
                             "Mcp-Session-Id header is required");
        return NGX_OK;
    }

    if (c.modern) {
        rc = ngx_http_mcp_check_modern(&c, m);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_DECLINED) {
            ngx_http_mcp_write_error(&c);
            return NGX_OK;
        }

        if (msg.kind == NGX_HTTP_MCP_MSG_NOTIFICATION) {
            x->status = NGX_HTTP_ACCEPTED;
            return NGX_OK;
        }

    } else {
        c.version = x->session->version;

        if (x->has_version
            && ngx_http_mcp_version_parse(&x->h_version) != c.version)
        {
            ngx_http_mcp_invalid(x, jw, msg.id, NGX_HTTP_MCP_INVALID_REQUEST,
                                 "MCP-Protocol-Version does not match the "
                                 "session's protocol version");
            return NGX_OK;
        }

        if (msg.kind == NGX_HTTP_MCP_MSG_NOTIFICATION) {

            if (msg.method.len == sizeof("notifications/initialized") - 1
                && ngx_strncmp(msg.method.data, "notifications/initialized",
                               msg.method.len) == 0
                && !x->session->initialized)
            {
                x->new_session = *x->session;
                x->new_session.initialized = 1;
                x->session_action = NGX_HTTP_MCP_SESSION_UPDATE;
            }

            /* cancellation of a request that already has its answer */

            x->status = NGX_HTTP_ACCEPTED;
            return NGX_OK;
        }

        if (m == NULL || !(m->flags & NGX_HTTP_MCP_M_LEGACY)) {

            if (m != NULL && m->handler == ngx_http_mcp_method_initialize) {
                ngx_http_mcp_invalid(x, jw, msg.id,
                                     NGX_HTTP_MCP_INVALID_REQUEST,
                                     "the session is already initialized");
                return NGX_OK;
            }

            ngx_http_mcp_call_error(&c, NGX_HTTP_MCP_METHOD_NOT_FOUND,
                                    "Method not found: %V", &msg.method);
            ngx_http_mcp_write_error(&c);
            return NGX_OK;
        }
    }

call:

    if (m->flags & NGX_HTTP_MCP_M_CACHE) {
        c.cacheable = 1;
    }

    mark = jw->pos;

    ngx_http_mcp_jsonrpc_result_start(jw, msg.id);
    ngx_http_mcp_jw_literal(jw, "{");

    members = jw->pos;

    rc = m->handler(&c);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        jw->pos = mark;
        ngx_http_mcp_write_error(&c);
        return NGX_OK;
    }

    if (c.modern) {

        if (jw->pos != members) {
            ngx_http_mcp_jw_literal(jw, ",");
        }

        ngx_http_mcp_jw_literal(jw, "\"resultType\":\"complete\"");

        if (c.cacheable) {
            ngx_http_mcp_jw_literal(jw, ",\"ttlMs\":");
            ngx_http_mcp_jw_int(jw, c.srv->cache_ttl);
            ngx_http_mcp_jw_literal(jw, ",\"cacheScope\":");

            if (c.srv->cache_private) {
                ngx_http_mcp_jw_literal(jw, "\"private\"");

            } else {
                ngx_http_mcp_jw_literal(jw, "\"public\"");
            }
        }

        /* "serverInfo":{...} -> "_meta":{"io.../serverInfo":{...}} */

        info = c.srv->server_info;
        info.data += sizeof("\"serverInfo\":") - 1;
        info.len -= sizeof("\"serverInfo\":") - 1;

        ngx_http_mcp_jw_literal(jw, ",\"_meta\":{\"io.modelcontextprotocol/"
                                    "serverInfo\":");
        ngx_http_mcp_jw_raw(jw, info.data, info.len);
        ngx_http_mcp_jw_literal(jw, "}");
    }

    ngx_http_mcp_jw_literal(jw, "}}");

    return NGX_OK;
}


/*
 * 2026-07-28: the order of checks follows the specification digest:
 * MCP-Protocol-Version present, required _meta, header equals _meta,
 * version supported, Mcp-Method / Mcp-Name, method exists, capabilities.
 */

static ngx_int_t
ngx_http_mcp_check_modern(ngx_http_mcp_call_t *c, ngx_http_mcp_method_t *m)
{
    ngx_str_t                 *name;
    ngx_http_mcp_jw_t          jw;
    ngx_http_mcp_msg_t        *msg;
    ngx_http_mcp_json_t       *version, *caps, *level, *value;
    ngx_http_mcp_exchange_t   *x;
    ngx_http_mcp_log_level_e   lvl;

    x = c->x;
    msg = c->msg;

    c->http_status = NGX_HTTP_BAD_REQUEST;

    if (!x->has_version) {
        return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_HEADER_MISMATCH,
                                       "MCP-Protocol-Version header is "
                                       "required");
    }

    version = ngx_http_mcp_json_get(msg->meta, ngx_http_mcp_meta_version.data,
                                    ngx_http_mcp_meta_version.len);
    caps = ngx_http_mcp_json_get(msg->meta, ngx_http_mcp_meta_caps.data,
                                 ngx_http_mcp_meta_caps.len);

    if (msg->kind == NGX_HTTP_MCP_MSG_REQUEST) {

        if (msg->meta == NULL) {
            return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_INVALID_PARAMS,
                                           "params._meta is required");
        }

        if (version == NULL || version->type != NGX_HTTP_MCP_JSON_STRING) {
            return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_INVALID_PARAMS,
                                           "params._meta[\"%V\"] is required "
                                           "and must be a string",
                                           &ngx_http_mcp_meta_version);
        }

        if (caps == NULL || caps->type != NGX_HTTP_MCP_JSON_OBJECT) {
            return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_INVALID_PARAMS,
                                           "params._meta[\"%V\"] is required "
                                           "and must be an object",
                                           &ngx_http_mcp_meta_caps);
        }

        c->client_caps = caps;

        if (version->str.len != x->h_version.len
            || ngx_strncmp(version->str.data, x->h_version.data,
                           x->h_version.len) != 0)
        {
            return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_HEADER_MISMATCH,
                                           "MCP-Protocol-Version header "
                                           "\"%V\" does not match "
                                           "params._meta protocol version "
                                           "\"%V\"",
                                           &x->h_version, &version->str);
        }
    }

    c->version = ngx_http_mcp_version_parse(&x->h_version);

    if (c->version != NGX_HTTP_MCP_V_2026_07_28) {
        ngx_http_mcp_call_error(c, NGX_HTTP_MCP_UNSUPPORTED_VERSION,
                                "Unsupported protocol version: %V",
                                &x->h_version);

        if (ngx_http_mcp_jw_init(&jw, x->pool, 128) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_http_mcp_jw_literal(&jw, "{\"supported\":[\"2026-07-28\"],"
                                     "\"requested\":");
        ngx_http_mcp_jw_str(&jw, version ? &version->str : &x->h_version);
        ngx_http_mcp_jw_literal(&jw, "}");

        if (ngx_http_mcp_jw_finish(&jw, &c->data) != NGX_OK) {
            return NGX_ERROR;
        }

        return NGX_DECLINED;
    }

    if (msg->kind == NGX_HTTP_MCP_MSG_NOTIFICATION) {
        return NGX_OK;
    }

    level = ngx_http_mcp_json_get(msg->meta, ngx_http_mcp_meta_level.data,
                                  ngx_http_mcp_meta_level.len);
    if (level) {
        lvl = NGX_HTTP_MCP_LOG_NONE;

        if (level->type == NGX_HTTP_MCP_JSON_STRING) {
            lvl = ngx_http_mcp_log_level(&level->str);
        }

        if (lvl == NGX_HTTP_MCP_LOG_NONE) {
            return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_INVALID_PARAMS,
                                           "params._meta[\"%V\"] is not a "
                                           "log level",
                                           &ngx_http_mcp_meta_level);
        }
    }

    /* Mcp-Method: exactly the body's method */

    if (!x->has_method) {
        return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_HEADER_MISMATCH,
                                       "Mcp-Method header is required");
    }

    if (ngx_http_mcp_check_header(c, &x->h_method, &msg->method,
                                  "Mcp-Method")
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    if (m != NULL && (m->flags & (NGX_HTTP_MCP_M_NAME|NGX_HTTP_MCP_M_URI))) {

        value = (m->flags & NGX_HTTP_MCP_M_NAME)
                ? ngx_http_mcp_json_member(msg->params, "name")
                : ngx_http_mcp_json_member(msg->params, "uri");

        if (value && value->type == NGX_HTTP_MCP_JSON_STRING) {

            if (!x->has_name) {
                return ngx_http_mcp_call_error(c,
                                               NGX_HTTP_MCP_HEADER_MISMATCH,
                                               "Mcp-Name header is required");
            }

            name = &value->str;

            if (ngx_http_mcp_check_header(c, &x->h_name, name, "Mcp-Name")
                != NGX_OK)
            {
                return NGX_DECLINED;
            }
        }
    }

    if (m == NULL || !(m->flags & NGX_HTTP_MCP_M_MODERN)) {
        c->http_status = NGX_HTTP_NOT_FOUND;
        return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_METHOD_NOT_FOUND,
                                       "Method not found: %V", &msg->method);
    }

    if (m->handler == ngx_http_mcp_method_tools_call) {
        if (ngx_http_mcp_check_params(c) != NGX_OK) {
            return NGX_DECLINED;
        }
    }

    c->http_status = 0;

    return NGX_OK;
}


/* a 2026 header against the body's value: decoded, trimmed, exact */

static ngx_int_t
ngx_http_mcp_check_header(ngx_http_mcp_call_t *c, ngx_str_t *header,
    ngx_str_t *value, const char *what)
{
    ngx_str_t  decoded;

    if (ngx_http_mcp_header_value(c->x->pool, header, &decoded) != NGX_OK) {
        ngx_http_mcp_call_error(c, NGX_HTTP_MCP_HEADER_MISMATCH,
                                "%s header is not valid base64", what);
        return NGX_DECLINED;
    }

    if (decoded.len != value->len
        || ngx_memcmp(decoded.data, value->data, value->len) != 0)
    {
        ngx_http_mcp_call_error(c, NGX_HTTP_MCP_HEADER_MISMATCH,
                                "%s header does not match the request body",
                                what);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * Mcp-Param-{Name}: each tool argument whose schema property carries
 * "x-mcp-header" travels in a header too; they must agree.
 */

static ngx_int_t
ngx_http_mcp_check_params(ngx_http_mcp_call_t *c)
{
    u_char                *p;
    ngx_int_t              n;
    ngx_str_t              decoded, text;
    ngx_uint_t             i, found;
    ngx_keyval_t          *kv;
    ngx_http_mcp_json_t   *name, *args, *props, *prop, *hdr, *arg;
    ngx_http_mcp_tool_t   *tool;

    name = ngx_http_mcp_json_member(c->msg->params, "name");

    if (name == NULL || name->type != NGX_HTTP_MCP_JSON_STRING) {
        return NGX_OK;
    }

    tool = ngx_http_mcp_registry_tool(c->srv, &name->str);

    if (tool == NULL || tool->input_schema == NULL) {
        return NGX_OK;
    }

    props = ngx_http_mcp_json_member(tool->input_schema, "properties");
    args = ngx_http_mcp_json_member(c->msg->params, "arguments");

    if (props == NULL || props->type != NGX_HTTP_MCP_JSON_OBJECT) {
        return NGX_OK;
    }

    for (prop = props->first; prop; prop = prop->next) {

        hdr = ngx_http_mcp_json_member(prop, "x-mcp-header");

        if (hdr == NULL || hdr->type != NGX_HTTP_MCP_JSON_STRING) {
            continue;
        }

        arg = ngx_http_mcp_json_get(args, prop->key.data, prop->key.len);

        if (arg == NULL || arg->type == NGX_HTTP_MCP_JSON_NULL) {
            continue;
        }

        found = 0;
        kv = c->x->h_params ? c->x->h_params->elts : NULL;

        for (i = 0; c->x->h_params && i < c->x->h_params->nelts; i++) {

            if (kv[i].key.len != hdr->str.len
                || ngx_strncasecmp(kv[i].key.data, hdr->str.data,
                                   hdr->str.len) != 0)
            {
                continue;
            }

            found = 1;

            if (ngx_http_mcp_header_value(c->x->pool, &kv[i].value, &decoded)
                != NGX_OK)
            {
                ngx_http_mcp_call_error(c, NGX_HTTP_MCP_HEADER_MISMATCH,
                                        "Mcp-Param-%V header is not valid "
                                        "base64", &hdr->str);
                return NGX_DECLINED;
            }

            switch (arg->type) {

            case NGX_HTTP_MCP_JSON_STRING:
            case NGX_HTTP_MCP_JSON_INTEGER:
            case NGX_HTTP_MCP_JSON_NUMBER:
                text = arg->str;
                break;

            case NGX_HTTP_MCP_JSON_TRUE:
                ngx_str_set(&text, "true");
                break;

            case NGX_HTTP_MCP_JSON_FALSE:
                ngx_str_set(&text, "false");
                break;

            default:
                ngx_str_null(&text);
            }

            if (arg->type == NGX_HTTP_MCP_JSON_INTEGER) {
                p = decoded.data;
                n = 1;

                if (decoded.len && *p == '-') {
                    p++;
                    n = -1;
                }

                if (p < decoded.data + decoded.len
                    && n * ngx_atoi(p, decoded.data + decoded.len - p)
                       == arg->integer
                    && ngx_atoi(p, decoded.data + decoded.len - p)
                       != NGX_ERROR)
                {
                    continue;
                }

            } else if (decoded.len == text.len
                       && ngx_memcmp(decoded.data, text.data, text.len) == 0)
            {
                continue;
            }

            ngx_http_mcp_call_error(c, NGX_HTTP_MCP_HEADER_MISMATCH,
                                    "Mcp-Param-%V header does not match "
                                    "argument \"%V\"", &hdr->str, &prop->key);
            return NGX_DECLINED;
        }

        if (!found) {
            ngx_http_mcp_call_error(c, NGX_HTTP_MCP_HEADER_MISMATCH,
                                    "Mcp-Param-%V header is required for "
                                    "argument \"%V\"", &hdr->str, &prop->key);
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/* "=?base64?...?=" is decoded; anything else is the literal value */

static ngx_int_t
ngx_http_mcp_header_value(ngx_pool_t *pool, ngx_str_t *h, ngx_str_t *out)
{
    u_char     *p, *last;
    ngx_str_t   src;

    if (h->len < sizeof("=?base64?" "?=") - 1
        || ngx_strncmp(h->data, "=?base64?", sizeof("=?base64?") - 1) != 0
        || ngx_strncmp(h->data + h->len - 2, "?=", 2) != 0)
    {
        *out = *h;
        return NGX_OK;
    }

    src.data = h->data + sizeof("=?base64?") - 1;
    src.len = h->len - (sizeof("=?base64?" "?=") - 1);

    /* strict: the alphabet, padding only at the end, whole quanta */

    if (src.len % 4) {
        return NGX_DECLINED;
    }

    last = src.data + src.len;

    for (p = src.data; p < last; p++) {

        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')
            || (*p >= '0' && *p <= '9') || *p == '+' || *p == '/')
        {
            continue;
        }

        if (*p == '=' && (p == last - 1 || (p == last - 2 && p[1] == '='))) {
            break;
        }

        return NGX_DECLINED;
    }

    out->data = ngx_pnalloc(pool, ngx_base64_decoded_length(src.len));
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_decode_base64(out, &src) != NGX_OK) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_http_mcp_method_t *
ngx_http_mcp_method_find(ngx_str_t *name)
{
    ngx_http_mcp_method_t  *m;

    for (m = ngx_http_mcp_methods; m->handler; m++) {
        if (m->name.len == name->len
            && ngx_strncmp(m->name.data, name->data, name->len) == 0)
        {
            return m;
        }
    }

    return NULL;
}


ngx_int_t
ngx_http_mcp_call_error(ngx_http_mcp_call_t *c, ngx_int_t code,
    const char *fmt, ...)
{
    u_char   *p, buf[NGX_MAX_ERROR_STR];
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    c->code = code;
    c->message.len = p - buf;
    c->message.data = ngx_pnalloc(c->x->pool, c->message.len);

    if (c->message.data == NULL) {
        c->message.len = 0;

    } else {
        ngx_memcpy(c->message.data, buf, c->message.len);
    }

    return NGX_DECLINED;
}


static void
ngx_http_mcp_write_error(ngx_http_mcp_call_t *c)
{
    ngx_uint_t  status;

    ngx_http_mcp_jsonrpc_error(c->jw, c->msg->id, c->code, &c->message,
                               &c->data);

    status = c->http_status;

    if (status == 0) {
        status = (c->modern && c->code == NGX_HTTP_MCP_METHOD_NOT_FOUND)
                 ? NGX_HTTP_NOT_FOUND : NGX_HTTP_OK;
    }

    c->x->status = status;        /* a batch answers 200 as a whole */
}


static void
ngx_http_mcp_invalid(ngx_http_mcp_exchange_t *x, ngx_http_mcp_jw_t *jw,
    ngx_http_mcp_json_t *id, ngx_int_t code, const char *message)
{
    ngx_str_t  msg;

    msg.data = (u_char *) message;
    msg.len = ngx_strlen(message);

    ngx_http_mcp_jsonrpc_error(jw, id, code, &msg, NULL);

    x->status = NGX_HTTP_BAD_REQUEST;   /* a batch answers 200 as a whole */
}
