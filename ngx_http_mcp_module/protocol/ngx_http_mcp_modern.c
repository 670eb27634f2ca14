
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_mcp_module.h"
#include "protocol/ngx_http_mcp_methods.h"


static ngx_int_t ngx_http_mcp_check_routing(ngx_http_mcp_call_t *c,
    ngx_uint_t flags);
static ngx_int_t ngx_http_mcp_check_header(ngx_http_mcp_call_t *c,
    ngx_str_t *header, ngx_str_t *value, const char *what);
static ngx_int_t ngx_http_mcp_check_params(ngx_http_mcp_call_t *c);
static ngx_int_t ngx_http_mcp_header_value(ngx_pool_t *pool, ngx_str_t *h,
    ngx_str_t *out);
static ngx_uint_t ngx_http_mcp_param_equal(ngx_http_mcp_json_t *arg,
    ngx_str_t *v);


static ngx_str_t  ngx_http_mcp_meta_version =
    ngx_string("io.modelcontextprotocol/protocolVersion");
static ngx_str_t  ngx_http_mcp_meta_caps =
    ngx_string("io.modelcontextprotocol/clientCapabilities");
static ngx_str_t  ngx_http_mcp_meta_level =
    ngx_string("io.modelcontextprotocol/logLevel");


/*
 * 2026-07-28: the order of checks follows the specification digest:
 * MCP-Protocol-Version present, required _meta, header equals _meta,
 * version supported, Mcp-Method / Mcp-Name, method exists, capabilities.
 */

ngx_int_t
ngx_http_mcp_modern_check(ngx_http_mcp_call_t *c, ngx_uint_t flags)
{
    ngx_http_mcp_jw_t          jw;
    ngx_http_mcp_msg_t        *msg;
    ngx_http_mcp_json_t       *version, *caps, *level;
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

    version = ngx_http_mcp_json_member(msg->meta, NGX_HTTP_MCP_META_VERSION);
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

    return ngx_http_mcp_check_routing(c, flags);
}


/*
 * The headers that route a 2026 request, against the body (a header can
 * lie; the body is what runs): Mcp-Method, Mcp-Name, Mcp-Param-*; then
 * whether the method exists in this revision.
 */

static ngx_int_t
ngx_http_mcp_check_routing(ngx_http_mcp_call_t *c, ngx_uint_t flags)
{
    ngx_str_t                *name;
    ngx_http_mcp_msg_t       *msg;
    ngx_http_mcp_json_t      *value;
    ngx_http_mcp_exchange_t  *x;

    x = c->x;
    msg = c->msg;

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

    if (flags & (NGX_HTTP_MCP_M_NAME|NGX_HTTP_MCP_M_URI)) {

        value = (flags & NGX_HTTP_MCP_M_NAME)
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

    if (!(flags & NGX_HTTP_MCP_M_MODERN)) {
        c->http_status = NGX_HTTP_NOT_FOUND;
        return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_METHOD_NOT_FOUND,
                                       "Method not found: %V", &msg->method);
    }

    if (flags & NGX_HTTP_MCP_M_PARAMS) {
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
    ngx_str_t              decoded;
    ngx_uint_t             i, found;
    ngx_keyval_t          *kv;
    ngx_http_mcp_json_t   *name, *args, *props, *prop, *hdr, *arg;
    ngx_http_mcp_tool_t   *tool;

    name = ngx_http_mcp_json_member(c->msg->params, "name");

    if (name == NULL || name->type != NGX_HTTP_MCP_JSON_STRING) {
        return NGX_OK;
    }

    tool = ngx_http_mcp_registry_tool(c->srv, &name->str);

    /*
     * a tool the caller may not use: tools/call answers 403, and nothing
     * here may tell its arguments first
     */

    if (tool == NULL || tool->input_schema == NULL
        || !ngx_http_mcp_registry_allowed(&tool->entry, c->x->identity))
    {
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

            if (ngx_http_mcp_param_equal(arg, &decoded)) {
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


/*
 * An Mcp-Param-* value against its argument: strings exactly, integers by
 * value, booleans as true/false; x-mcp-header allows no other types.
 */

static ngx_uint_t
ngx_http_mcp_param_equal(ngx_http_mcp_json_t *arg, ngx_str_t *v)
{
    u_char      *p, *last;
    int64_t      n;
    ngx_uint_t   neg;

    switch (arg->type) {

    case NGX_HTTP_MCP_JSON_STRING:
        return v->len == arg->str.len
               && (v->len == 0
                   || ngx_memcmp(v->data, arg->str.data, v->len) == 0);

    case NGX_HTTP_MCP_JSON_TRUE:
        return v->len == 4 && ngx_strncmp(v->data, "true", 4) == 0;

    case NGX_HTTP_MCP_JSON_FALSE:
        return v->len == 5 && ngx_strncmp(v->data, "false", 5) == 0;

    case NGX_HTTP_MCP_JSON_INTEGER:
        p = v->data;
        last = v->data + v->len;
        neg = (p < last && *p == '-');
        p += neg;

        if (p == last || last - p > 18) {
            return 0;                    /* the JS safe range fits */
        }

        for (n = 0; p < last; p++) {
            if (*p < '0' || *p > '9') {
                return 0;
            }

            n = n * 10 + (*p - '0');
        }

        return (neg ? -n : n) == arg->integer;

    default:
        return 0;
    }
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
