
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_mcp_module.h"
#include "protocol/ngx_http_mcp_methods.h"
#include "json/ngx_http_mcp_schema.h"
#include "protocol/ngx_http_mcp_results.h"


/*
 * The methods that answer from one catalog item: tools/call,
 * resources/read and prompts/get, from
 * configuration-time content or from the item's backend: at once for one
 * that answers from memory, else through NGX_AGAIN and transport.
 */


static ngx_int_t ngx_http_mcp_missing_caps(ngx_http_mcp_call_t *c,
    ngx_http_mcp_tool_t *tool);
static ngx_http_mcp_bcall_t *ngx_http_mcp_bcall(ngx_http_mcp_call_t *c,
    ngx_http_mcp_entry_t *entry);
static void ngx_http_mcp_observe_arguments(ngx_http_mcp_call_t *c,
    ngx_http_mcp_json_t *args);


ngx_int_t
ngx_http_mcp_method_tools_call(ngx_http_mcp_call_t *c)
{
    ngx_int_t              rc;
    ngx_str_t              err;
    ngx_http_mcp_json_t   *name, *args, empty, *meta;
    ngx_http_mcp_tool_t   *tool;
    ngx_http_mcp_bcall_t   bc, *bp;

    if (!ngx_http_mcp_has_kind(c, NGX_HTTP_MCP_LIST_TOOLS)) {
        return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_METHOD_NOT_FOUND,
                                       "Method not found: tools/call");
    }

    name = ngx_http_mcp_param(c, "name", NGX_HTTP_MCP_JSON_STRING, 1);
    if (name == NULL) {
        return NGX_DECLINED;
    }

    c->x->tool = name->str;

    if (c->x->obs) {
        c->x->obs->entry = name->str;
    }

    tool = ngx_http_mcp_registry_tool(c->srv, &name->str);
    if (tool == NULL) {
        return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_INVALID_PARAMS,
                                       "Unknown tool: %V", &name->str);
    }

    if (!ngx_http_mcp_registry_allowed(&tool->entry, c->x->identity)) {
        return ngx_http_mcp_denied(c, &tool->entry);
    }

    args = ngx_http_mcp_param(c, "arguments", NGX_HTTP_MCP_JSON_OBJECT, 0);
    if (args == NULL) {

        if (c->code) {
            return NGX_DECLINED;
        }

        ngx_memzero(&empty, sizeof(ngx_http_mcp_json_t));
        empty.type = NGX_HTTP_MCP_JSON_OBJECT;
        args = &empty;
    }

    ngx_http_mcp_observe_arguments(c, args);

    rc = ngx_http_mcp_missing_caps(c, tool);
    if (rc != NGX_OK) {
        return rc;
    }

    if (tool->input_schema) {
        rc = ngx_http_mcp_schema_validate(c->x->pool, tool->input_schema,
                                          args, &err);
        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_DECLINED) {

            /* from 2025-11-25 on, a tool error the model can act on */

            if (c->version < NGX_HTTP_MCP_V_2025_11_25) {
                return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_INVALID_PARAMS,
                                               "Invalid arguments for tool "
                                               "%V: %V", &name->str, &err);
            }

            ngx_http_mcp_jw_literal(c->jw, "\"content\":[{\"type\":\"text\","
                                           "\"text\":\"Invalid arguments: ");
            ngx_http_mcp_jw_escaped(c->jw, err.data, err.len);
            ngx_http_mcp_jw_literal(c->jw, "\"}],\"isError\":true");
            c->failed = 1;

            return NGX_OK;
        }
    }

    if (tool->entry.backend->immediate && tool->entry.confirm.len == 0) {

        /* static content: answered here, at once */

        ngx_memzero(&bc, sizeof(ngx_http_mcp_bcall_t));
        bc.entry = &tool->entry;
        bc.arguments = args;
        bc.identity = c->x->identity;

        if (tool->entry.backend->start(&bc) != NGX_OK) {
            return NGX_ERROR;
        }

        c->failed = tool->is_error;

        return ngx_http_mcp_results_tool(&bc.result, c->x->pool, !c->modern,
                                         c->jw, &meta);
    }

    bp = ngx_http_mcp_bcall(c, &tool->entry);
    if (bp == NULL) {
        return NGX_ERROR;
    }

    bp->arguments = args;

    return c->modern ? ngx_http_mcp_mrtr_retry(c, bp) : NGX_AGAIN;
}


ngx_int_t
ngx_http_mcp_method_resources_read(ngx_http_mcp_call_t *c)
{
    ngx_int_t                 rc;
    ngx_str_t                *vars;
    ngx_uint_t                i;
    ngx_keyval_t             *kv;
    ngx_http_mcp_json_t      *uri;
    ngx_http_mcp_bcall_t     *bp;
    ngx_http_mcp_param_t     *param;
    ngx_http_mcp_access_t     acc;
    ngx_http_mcp_resource_t  *res;

    if (!ngx_http_mcp_has_kind(c, NGX_HTTP_MCP_LIST_RESOURCES)) {
        return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_METHOD_NOT_FOUND,
                                       "Method not found: resources/read");
    }

    uri = ngx_http_mcp_param(c, "uri", NGX_HTTP_MCP_JSON_STRING, 1);
    if (uri == NULL) {
        return NGX_DECLINED;
    }

    if (c->x->obs) {
        c->x->obs->entry = uri->str;
    }

    if (!ngx_http_mcp_uri_printable(&uri->str)) {
        return ngx_http_mcp_not_found(c, &uri->str);
    }

    acc.who = c->x->identity;

    rc = ngx_http_mcp_registry_read(c->srv, &uri->str, &acc, c->jw, &res,
                                    &vars);

    if (rc == NGX_DECLINED) {
        return ngx_http_mcp_not_found(c, &uri->str);
    }

    if (rc == NGX_HTTP_MCP_DENIED) {
        return ngx_http_mcp_denied(c, acc.denied);
    }

    if (rc != NGX_AGAIN) {
        return rc;
    }

    bp = ngx_http_mcp_bcall(c, &res->entry);
    if (bp == NULL) {
        return NGX_ERROR;
    }

    bp->uri = uri->str;

    if (vars) {

        /* a template's variables, by name */

        bp->variables = ngx_array_create(c->x->pool, res->params.nelts,
                                         sizeof(ngx_keyval_t));
        if (bp->variables == NULL) {
            return NGX_ERROR;
        }

        param = res->params.elts;

        for (i = 0; i < res->params.nelts; i++) {
            kv = ngx_array_push(bp->variables);
            if (kv == NULL) {
                return NGX_ERROR;
            }

            kv->key = param[i].name;
            kv->value = vars[i];
        }
    }

    return c->modern ? ngx_http_mcp_mrtr_retry(c, bp) : NGX_AGAIN;
}


ngx_int_t
ngx_http_mcp_method_prompts_get(ngx_http_mcp_call_t *c)
{
    ngx_int_t                rc;
    ngx_str_t                err;
    ngx_http_mcp_json_t     *name, *args;
    ngx_http_mcp_bcall_t    *bp;
    ngx_http_mcp_access_t    acc;
    ngx_http_mcp_prompt_t   *prompt;

    if (!ngx_http_mcp_has_kind(c, NGX_HTTP_MCP_LIST_PROMPTS)) {
        return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_METHOD_NOT_FOUND,
                                       "Method not found: prompts/get");
    }

    name = ngx_http_mcp_param(c, "name", NGX_HTTP_MCP_JSON_STRING, 1);
    if (name == NULL) {
        return NGX_DECLINED;
    }

    if (c->x->obs) {
        c->x->obs->entry = name->str;
    }

    args = ngx_http_mcp_param(c, "arguments", NGX_HTTP_MCP_JSON_OBJECT, 0);
    if (args == NULL && c->code) {
        return NGX_DECLINED;
    }

    ngx_http_mcp_observe_arguments(c, args);

    ngx_str_null(&err);
    acc.who = c->x->identity;

    rc = ngx_http_mcp_registry_prompt(c->srv, &name->str, args, &acc, c->jw,
                                      &err, &prompt);

    if (rc == NGX_DECLINED) {
        return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_INVALID_PARAMS,
                                       "Unknown prompt: %V", &name->str);
    }

    if (rc == NGX_HTTP_MCP_DENIED) {
        return ngx_http_mcp_denied(c, acc.denied);
    }

    if (rc == NGX_ABORT) {
        return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_INVALID_PARAMS,
                                       "Invalid arguments for prompt %V: %V",
                                       &name->str, &err);
    }

    if (rc != NGX_AGAIN) {
        return rc;
    }

    /* the arguments checked */

    bp = ngx_http_mcp_bcall(c, &prompt->entry);
    if (bp == NULL) {
        return NGX_ERROR;
    }

    bp->arguments = args;

    return c->modern ? ngx_http_mcp_mrtr_retry(c, bp) : NGX_AGAIN;
}


/*
 * The arguments as received, for the audit (observe/); none, or no
 * member, is a static empty object: the record outlives this stack
 */

static void
ngx_http_mcp_observe_arguments(ngx_http_mcp_call_t *c,
    ngx_http_mcp_json_t *args)
{
    static ngx_http_mcp_json_t  none;

    if (c->x->obs == NULL) {
        return;
    }

    none.type = NGX_HTTP_MCP_JSON_OBJECT;

    c->x->obs->arguments = (args && args->nelts) ? args : &none;
}


/* the client capabilities a tool needs, from this request or the session */

static ngx_int_t
ngx_http_mcp_missing_caps(ngx_http_mcp_call_t *c, ngx_http_mcp_tool_t *tool)
{
    ngx_str_t                    err, *text;
    ngx_http_mcp_json_t         *need, *caps, *cap;
    ngx_http_mcp_json_limits_t   limits;

    if (tool->requires.len == 0) {
        return NGX_OK;
    }

    limits = (ngx_http_mcp_json_limits_t) { 8, 64, 4096, 0, 0 };

    if (ngx_http_mcp_json_parse(c->x->pool, tool->requires.data,
                                tool->requires.len, &limits, &need, &err)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    caps = c->client_caps;

    if (!c->modern && c->x->session) {
        text = &c->x->session->client_capabilities;
        limits = (ngx_http_mcp_json_limits_t) { 32, 1024, 65536, 0, 0 };

        if (ngx_http_mcp_json_parse(c->x->pool, text->data, text->len,
                                    &limits, &caps, &err)
            != NGX_OK)
        {
            caps = NULL;
        }
    }

    for (cap = need->first; cap; cap = cap->next) {
        if (ngx_http_mcp_json_get(caps, cap->key.data, cap->key.len)
            == NULL)
        {
            break;
        }
    }

    if (cap == NULL) {
        return NGX_OK;
    }

    if (!c->modern) {
        return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_INVALID_PARAMS,
                                       "Tool %V requires the client "
                                       "capability \"%V\"",
                                       &tool->name, &cap->key);
    }

    c->http_status = NGX_HTTP_BAD_REQUEST;
    c->data.len = sizeof("{\"requiredCapabilities\":}") - 1
                  + tool->requires.len;
    c->data.data = ngx_pnalloc(c->x->pool, c->data.len);
    if (c->data.data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(c->data.data, "{\"requiredCapabilities\":%V}",
                &tool->requires);

    return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_MISSING_CAPABILITY,
                                   "Tool %V requires the client capability "
                                   "\"%V\"", &tool->name, &cap->key);
}


/*
 * The item's backend answers later: the call it gets, which transport
 * starts, then dispatch_resume().  What the call may send before its
 * result: progress, if the client gave a token, and log messages at the
 * session's level or (2026) this request's.
 */

static ngx_http_mcp_bcall_t *
ngx_http_mcp_bcall(ngx_http_mcp_call_t *c, ngx_http_mcp_entry_t *entry)
{
    ngx_http_mcp_json_t      *token, *level;
    ngx_http_mcp_bcall_t     *bc;
    ngx_http_mcp_exchange_t  *x;

    x = c->x;

    bc = ngx_pcalloc(x->pool, sizeof(ngx_http_mcp_bcall_t));
    if (bc == NULL) {
        return NULL;
    }

    bc->entry = entry;
    bc->id = c->msg->id;
    bc->identity = x->identity;

    if (x->era == NGX_HTTP_MCP_ERA_SESSION) {
        bc->session = x->h_session;
    }

    x->bcall = bc;

    token = ngx_http_mcp_json_member(c->msg->meta, "progressToken");

    if (token && (token->type == NGX_HTTP_MCP_JSON_STRING
                  || token->type == NGX_HTTP_MCP_JSON_INTEGER))
    {
        x->progress_token = token;
    }

    x->log_level = NGX_HTTP_MCP_LOG_NONE;

    if (c->modern) {
        level = ngx_http_mcp_json_member(c->msg->meta,
                                         "io.modelcontextprotocol/logLevel");
        if (level && level->type == NGX_HTTP_MCP_JSON_STRING) {
            x->log_level = ngx_http_mcp_log_level(&level->str);
        }

    } else if (x->session) {
        x->log_level = x->session->log_level;
    }

    return bc;
}


/*
 * A URI with control characters names no resource: refused before any
 * template matches it (a variable would take CR LF to a backend's headers)
 */

ngx_uint_t
ngx_http_mcp_uri_printable(ngx_str_t *uri)
{
    u_char  *p, *last;

    last = uri->data + uri->len;

    for (p = uri->data; p < last; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return 0;
        }
    }

    return 1;
}


/* -32002 before 2026, -32602 since; data tells the uri */

ngx_int_t
ngx_http_mcp_not_found(ngx_http_mcp_call_t *c, ngx_str_t *uri)
{
    ngx_http_mcp_jw_t  jw;

    if (ngx_http_mcp_jw_init(&jw, c->x->pool, uri->len + 16) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_mcp_jw_literal(&jw, "{\"uri\":");
    ngx_http_mcp_jw_str(&jw, uri);
    ngx_http_mcp_jw_literal(&jw, "}");

    if (ngx_http_mcp_jw_finish(&jw, &c->data) != NGX_OK) {
        return NGX_ERROR;
    }

    /* 2026 replaced -32002 with -32602 */

    return ngx_http_mcp_call_error(c, c->modern ? NGX_HTTP_MCP_INVALID_PARAMS
                                            : NGX_HTTP_MCP_RESOURCE_NOT_FOUND,
                                   "Resource not found: %V", uri);
}


/*
 * The caller may not use the item: HTTP 403, and the scopes it needs for
 * the step-up challenge that transport writes (WWW-Authenticate).  The
 * answer is the same whichever method reached the item.
 */

ngx_int_t
ngx_http_mcp_denied(ngx_http_mcp_call_t *c, ngx_http_mcp_entry_t *entry)
{
    u_char      *p;
    size_t       len;
    ngx_str_t   *scope;
    ngx_uint_t   i;

    scope = entry->scopes->elts;
    len = 0;

    for (i = 0; i < entry->scopes->nelts; i++) {
        len += scope[i].len + 1;
    }

    p = ngx_pnalloc(c->x->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    c->x->scope_needed.data = p;

    for (i = 0; i < entry->scopes->nelts; i++) {
        if (i) {
            *p++ = ' ';
        }

        p = ngx_cpymem(p, scope[i].data, scope[i].len);
    }

    c->x->scope_needed.len = p - c->x->scope_needed.data;

    ngx_log_error(NGX_LOG_INFO, c->x->log, 0,
                  "mcp: \"%V\" needs scope \"%V\", which the caller lacks",
                  &entry->name, &c->x->scope_needed);

    c->http_status = NGX_HTTP_FORBIDDEN;

    return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_FORBIDDEN,
                                   "Forbidden: insufficient scope");
}
