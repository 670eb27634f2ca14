
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "auth/ngx_http_mcp_auth_int.h"


/*
 * The caller as variables, for access_log, proxy_set_header, map, the
 * values of PostgreSQL statements and mcp_auth_jwt_require: $mcp_subject,
 * $mcp_tenant, $mcp_scopes, $mcp_auth_method, and $mcp_claim_NAME for a
 * top-level claim of a verified JWT (a string as it is, a number as
 * written, true and false as "true" and "false"; other claims and
 * unauthenticated callers: empty).  Subrequests see their main request's
 * caller.  Never cached: the values exist only once the access phase has
 * run.
 */


static ngx_int_t ngx_http_mcp_auth_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_mcp_auth_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_mcp_auth_vars[] = {

    { ngx_string("mcp_subject"), NULL, ngx_http_mcp_auth_variable,
      offsetof(ngx_http_mcp_identity_t, subject),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mcp_tenant"), NULL, ngx_http_mcp_auth_variable,
      offsetof(ngx_http_mcp_identity_t, tenant),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mcp_scopes"), NULL, ngx_http_mcp_auth_variable,
      offsetof(ngx_http_mcp_identity_t, scopes),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mcp_auth_method"), NULL, ngx_http_mcp_auth_variable,
      offsetof(ngx_http_mcp_identity_t, method),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mcp_claim_"), NULL, ngx_http_mcp_auth_claim_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_PREFIX, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_mcp_auth_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_mcp_auth_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


ngx_http_mcp_auth_ctx_t *
ngx_http_mcp_auth_ctx(ngx_http_request_t *r)
{
    return ngx_http_get_module_ctx(r->main, ngx_http_mcp_auth_module);
}


static ngx_int_t
ngx_http_mcp_auth_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                *s;
    ngx_http_mcp_auth_ctx_t  *ctx;

    ctx = ngx_http_mcp_auth_ctx(r);

    if (ctx == NULL || !ctx->done) {
        v->not_found = 1;
        return NGX_OK;
    }

    s = (ngx_str_t *) ((u_char *) &ctx->identity + data);

    v->data = s->data;
    v->len = s->len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_auth_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t *name = (ngx_str_t *) data;

    ngx_str_t                 claim;
    ngx_http_mcp_json_t      *c;
    ngx_http_mcp_auth_ctx_t  *ctx;

    v->not_found = 1;

    ctx = ngx_http_mcp_auth_ctx(r);

    if (ctx == NULL || !ctx->done || ctx->claims == NULL) {
        return NGX_OK;
    }

    claim.data = name->data + sizeof("mcp_claim_") - 1;
    claim.len = name->len - (sizeof("mcp_claim_") - 1);

    /*
     * variable names are lowercase: a claim of that exact name first,
     * else one that differs in case only
     */

    for (c = ctx->claims->first; c; c = c->next) {
        if (c->key.len == claim.len
            && ngx_strncmp(c->key.data, claim.data, claim.len) == 0)
        {
            break;
        }
    }

    for (c = c ? c : ctx->claims->first; c; c = c->next) {
        if (c->key.len == claim.len
            && ngx_strncasecmp(c->key.data, claim.data, claim.len) == 0)
        {
            break;
        }
    }

    if (c == NULL) {
        return NGX_OK;
    }

    switch (c->type) {

    case NGX_HTTP_MCP_JSON_STRING:

        /* a value for headers and logs: none with control characters */

        if (!ngx_http_mcp_auth_printable(&c->str)) {
            return NGX_OK;
        }

        /* fall through */

    case NGX_HTTP_MCP_JSON_INTEGER:
    case NGX_HTTP_MCP_JSON_NUMBER:
        v->data = c->str.data;
        v->len = c->str.len;
        break;

    case NGX_HTTP_MCP_JSON_TRUE:
        v->data = (u_char *) "true";
        v->len = sizeof("true") - 1;
        break;

    case NGX_HTTP_MCP_JSON_FALSE:
        v->data = (u_char *) "false";
        v->len = sizeof("false") - 1;
        break;

    default:
        return NGX_OK;
    }

    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}
