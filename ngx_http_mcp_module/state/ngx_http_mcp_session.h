
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_SESSION_H_INCLUDED_
#define _NGX_HTTP_MCP_SESSION_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_mcp_module.h"


/* 32 random bytes from OpenSSL's CSPRNG, as 64 lowercase hex characters */
#define NGX_HTTP_MCP_SESSION_ID_LEN  64

/*
 * the resources a session subscribed to (resources/subscribe), at most
 * this many, each as ngx_http_mcp_session_uri_key() of its URI
 */
#define NGX_HTTP_MCP_SESSION_SUBS    16


/* a copy of one session, out of its store (state/ngx_http_mcp_store.h) */

typedef struct {
    u_char                      id[NGX_HTTP_MCP_SESSION_ID_LEN];
    ngx_http_mcp_version_e      version;
    ngx_http_mcp_log_level_e    log_level;
    unsigned                    initialized:1;
    ngx_msec_t                  timeout;    /* idle time before it goes */
    uint64_t                    created;    /* milliseconds since the
                                               epoch; 0: not known */
    ngx_str_t                   client_capabilities;  /* JSON text */
    ngx_str_t                   client_info;          /* JSON text */

    /* who created it (ngx_http_mcp_identity_t): no one else may use it */
    u_char                      principal[NGX_HTTP_MCP_PRINCIPAL_LEN];

    uint64_t                    subs[NGX_HTTP_MCP_SESSION_SUBS]; /* 0: free */
} ngx_http_mcp_session_t;


/* whether id has the form of an id (64 lowercase hex digits) */
ngx_uint_t ngx_http_mcp_session_id_valid(ngx_str_t *id);

/*
 * an id's stand-in where it must not appear (Redis, letters between
 * workers): SHA-256 of it, 64 lowercase hex digits into key
 */
void ngx_http_mcp_session_digest(ngx_str_t *id, u_char *key);

/*
 * a resource URI as a subscription: the first 8 bytes of its SHA-256,
 * never 0 (a second preimage is out of reach: no client subscribed to one
 * URI hears of another)
 */
uint64_t ngx_http_mcp_session_uri_key(ngx_str_t *uri);

/* the wall clock in milliseconds since the epoch, for s->created */
uint64_t ngx_http_mcp_session_now(void);


#endif /* _NGX_HTTP_MCP_SESSION_H_INCLUDED_ */
