
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_SESSION_SHM_H_INCLUDED_
#define _NGX_HTTP_MCP_SESSION_SHM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_mcp_module.h"
#include "state/ngx_http_mcp_session.h"


#define NGX_HTTP_MCP_DEFAULT_ZONE      "mcp_sessions"
#define NGX_HTTP_MCP_DEFAULT_ZONE_SIZE (4 * 1024 * 1024)


/* `mcp_session_zone NAME:SIZE` and the implicit default zone */
ngx_shm_zone_t *ngx_http_mcp_session_zone_add(ngx_conf_t *cf,
    ngx_str_t *name, size_t size);

/*
 * Stores a new session: fills s->id with a fresh id.  When the zone is full
 * the least recently used sessions go, with a log line.  NGX_OK or
 * NGX_ERROR (no randomness, or the session alone does not fit).
 */
ngx_int_t ngx_http_mcp_session_create(ngx_shm_zone_t *zone,
    ngx_http_mcp_session_t *s, ngx_log_t *log);

/*
 * Finds a live session by id and refreshes its idle time.  Sessions idle
 * for longer than `timeout` are gone.  NGX_OK with *s filled (strings
 * copied into pool), NGX_DECLINED when unknown, expired or deleted,
 * NGX_ERROR on allocation failure.
 */
ngx_int_t ngx_http_mcp_session_lookup(ngx_shm_zone_t *zone, ngx_str_t *id,
    ngx_msec_t timeout, ngx_pool_t *pool, ngx_http_mcp_session_t *s);

/* sets log_level and initialized from *s; NGX_OK or NGX_DECLINED (gone) */
ngx_int_t ngx_http_mcp_session_update(ngx_shm_zone_t *zone,
    ngx_http_mcp_session_t *s);

/* ends a session; NGX_OK, or NGX_DECLINED when unknown */
ngx_int_t ngx_http_mcp_session_delete(ngx_shm_zone_t *zone, ngx_str_t *id);


#endif /* _NGX_HTTP_MCP_SESSION_SHM_H_INCLUDED_ */
