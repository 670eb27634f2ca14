
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_STATE_H_INCLUDED_
#define _NGX_HTTP_MCP_STATE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_mcp_module.h"


/* the largest requestState a backend may write, in bytes */
#define NGX_HTTP_MCP_STATE_MAX      16384

#define NGX_HTTP_MCP_STATE_KEY_LEN  32


/* one mcp_state_key line: the AES-256 key derived from its file */

typedef struct {
    u_char                      key[NGX_HTTP_MCP_STATE_KEY_LEN];
    time_t                      valid;        /* seconds a state it seals
                                                 may be used */
} ngx_http_mcp_state_key_t;


/* what a sealed state is bound to: who, which method, which item */

typedef struct {
    ngx_http_mcp_identity_t    *identity;
    ngx_str_t                   method;
    ngx_str_t                   name;         /* a tool or prompt; a URI */
} ngx_http_mcp_state_bind_t;


/*
 * mcp_state_key FILE [valid=TIME]: the directive's handler, for an
 * ngx_array_t * (of ngx_http_mcp_state_key_t) at cmd->offset of conf
 */
char *ngx_http_mcp_state_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/*
 * Without any mcp_state_key: one random key for the whole configuration
 * (every worker of this nginx shares it; a reload makes a new one)
 */
ngx_array_t *ngx_http_mcp_state_key_random(ngx_conf_t *cf);

/*
 * A backend's state (at most NGX_HTTP_MCP_STATE_MAX bytes) sealed with the
 * first key into *sealed, from pool: NGX_OK or NGX_ERROR.
 */
ngx_int_t ngx_http_mcp_state_seal(ngx_array_t *keys,
    ngx_http_mcp_state_bind_t *bind, ngx_str_t *state, ngx_pool_t *pool,
    ngx_str_t *sealed);

/*
 * A sealed state opened with any of the keys into *state, from pool:
 * NGX_OK; NGX_DECLINED when it is malformed, altered, expired or sealed
 * for another binding (which of these is not told); NGX_ERROR.
 */
ngx_int_t ngx_http_mcp_state_open(ngx_array_t *keys,
    ngx_http_mcp_state_bind_t *bind, ngx_str_t *sealed, ngx_pool_t *pool,
    ngx_str_t *state);


#endif /* _NGX_HTTP_MCP_STATE_H_INCLUDED_ */
