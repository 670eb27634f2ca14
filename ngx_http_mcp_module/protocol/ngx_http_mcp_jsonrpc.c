
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_mcp_module.h"
#include "protocol/ngx_http_mcp_jsonrpc.h"


static void ngx_http_mcp_jsonrpc_head(ngx_http_mcp_jw_t *jw,
    ngx_http_mcp_json_t *id);


void
ngx_http_mcp_jsonrpc_read(ngx_http_mcp_json_t *v, ngx_http_mcp_msg_t *m)
{
    ngx_http_mcp_json_t  *version, *id, *method, *params, *result, *error;

    ngx_memzero(m, sizeof(ngx_http_mcp_msg_t));

    m->kind = NGX_HTTP_MCP_MSG_INVALID;

    if (v->type != NGX_HTTP_MCP_JSON_OBJECT) {
        m->invalid = "a JSON-RPC message must be an object";
        return;
    }

    id = ngx_http_mcp_json_member(v, "id");

    if (id != NULL
        && (id->type == NGX_HTTP_MCP_JSON_STRING
            || id->type == NGX_HTTP_MCP_JSON_INTEGER))
    {
        /* echoed in the error even when the rest is invalid */
        m->id = id;
    }

    version = ngx_http_mcp_json_member(v, "jsonrpc");

    if (version == NULL
        || version->type != NGX_HTTP_MCP_JSON_STRING
        || version->str.len != 3
        || ngx_strncmp(version->str.data, "2.0", 3) != 0)
    {
        m->invalid = "\"jsonrpc\" must be \"2.0\"";
        return;
    }

    if (id != NULL && m->id == NULL) {
        m->invalid = (id->type == NGX_HTTP_MCP_JSON_NULL)
                     ? "\"id\" must not be null"
                     : "\"id\" must be a string or an integer";
        return;
    }

    method = ngx_http_mcp_json_member(v, "method");
    result = ngx_http_mcp_json_member(v, "result");
    error = ngx_http_mcp_json_member(v, "error");

    if (method == NULL) {

        if (id != NULL && (result != NULL) != (error != NULL)) {
            m->kind = NGX_HTTP_MCP_MSG_RESPONSE;
            return;
        }

        m->invalid = "\"method\" is missing";
        return;
    }

    if (method->type != NGX_HTTP_MCP_JSON_STRING) {
        m->invalid = "\"method\" must be a string";
        return;
    }

    if (result != NULL || error != NULL) {
        m->invalid = "a request cannot carry \"result\" or \"error\"";
        return;
    }

    params = ngx_http_mcp_json_member(v, "params");

    if (params != NULL) {

        if (params->type != NGX_HTTP_MCP_JSON_OBJECT) {
            m->invalid = "\"params\" must be an object";
            return;
        }

        m->params = params;
        m->meta = ngx_http_mcp_json_member(params, "_meta");

        if (m->meta != NULL && m->meta->type != NGX_HTTP_MCP_JSON_OBJECT) {
            m->invalid = "\"params._meta\" must be an object";
            return;
        }
    }

    m->method = method->str;
    m->kind = (id == NULL) ? NGX_HTTP_MCP_MSG_NOTIFICATION
                           : NGX_HTTP_MCP_MSG_REQUEST;
}


static void
ngx_http_mcp_jsonrpc_head(ngx_http_mcp_jw_t *jw, ngx_http_mcp_json_t *id)
{
    ngx_http_mcp_jw_literal(jw, "{\"jsonrpc\":\"2.0\",\"id\":");

    if (id) {
        ngx_http_mcp_jw_value(jw, id);

    } else {
        ngx_http_mcp_jw_literal(jw, "null");
    }
}


void
ngx_http_mcp_jsonrpc_result_start(ngx_http_mcp_jw_t *jw,
    ngx_http_mcp_json_t *id)
{
    ngx_http_mcp_jsonrpc_head(jw, id);
    ngx_http_mcp_jw_literal(jw, ",\"result\":");
}


void
ngx_http_mcp_jsonrpc_error(ngx_http_mcp_jw_t *jw, ngx_http_mcp_json_t *id,
    ngx_int_t code, ngx_str_t *message, ngx_str_t *data)
{
    ngx_http_mcp_jsonrpc_head(jw, id);
    ngx_http_mcp_jw_literal(jw, ",\"error\":{\"code\":");
    ngx_http_mcp_jw_int(jw, code);
    ngx_http_mcp_jw_literal(jw, ",\"message\":");
    ngx_http_mcp_jw_str(jw, message);

    if (data && data->len) {
        ngx_http_mcp_jw_literal(jw, ",\"data\":");
        ngx_http_mcp_jw_raw(jw, data->data, data->len);
    }

    ngx_http_mcp_jw_literal(jw, "}}");
}
