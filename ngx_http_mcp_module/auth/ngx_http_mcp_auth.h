
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_AUTH_H_INCLUDED_
#define _NGX_HTTP_MCP_AUTH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"


/*
 * Authentication and authorization in the access phase, as location
 * directives of ngx_http_mcp_auth_module (docs/SECURITY.md): JWTs checked
 * against key files or a key set fetched by a subrequest, API keys from a
 * file of hashes, the RFC 9728 protected-resource metadata document, and
 * the caller's identity for every later layer.  The rest of the module
 * reaches it through these functions only.
 */


extern ngx_module_t  ngx_http_mcp_auth_module;


/*
 * The caller of r as the access phase found it; never NULL: a location
 * without authentication gives an identity with nothing verified.
 */
ngx_http_mcp_identity_t *ngx_http_mcp_auth_identity(ngx_http_request_t *r);

/*
 * A 403 for an item whose scopes the caller lacks: adds
 * `WWW-Authenticate: Bearer error="insufficient_scope", scope="..."` with
 * the realm and the resource metadata URL.  NGX_OK or NGX_ERROR.
 */
ngx_int_t ngx_http_mcp_auth_forbid(ngx_http_request_t *r, ngx_str_t *scope);

/*
 * Readiness of the key sets fetched by subrequests (`mcp_health ready`),
 * the i-th of them: *name "jwks:URI", *detail what was found (in pool).
 * NGX_OK: keys to verify with, or none asked for yet; NGX_DECLINED: the
 * fetch failed and there are no keys; NGX_DONE: there is no i-th;
 * NGX_ERROR.
 */
ngx_int_t ngx_http_mcp_auth_check(ngx_uint_t i, ngx_pool_t *pool,
    ngx_str_t *name, ngx_str_t *detail);


#endif /* _NGX_HTTP_MCP_AUTH_H_INCLUDED_ */
