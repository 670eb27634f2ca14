
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_SESSION_SHM_H_INCLUDED_
#define _NGX_HTTP_MCP_SESSION_SHM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_mcp_module.h"
#include "state/ngx_http_mcp_session.h"
#include "state/ngx_http_mcp_store.h"


#define NGX_HTTP_MCP_DEFAULT_ZONE      "mcp_sessions"
#define NGX_HTTP_MCP_DEFAULT_ZONE_SIZE (4 * 1024 * 1024)


/* `mcp_session_zone NAME:SIZE` and the implicit default zone */
ngx_shm_zone_t *ngx_http_mcp_session_zone_add(ngx_conf_t *cf,
    ngx_str_t *name, size_t size);

/*
 * The store of the sessions in a zone of ngx_http_mcp_session_zone_add():
 * it answers every operation at once, under the zone's mutex.
 */
ngx_http_mcp_store_ref_t *ngx_http_mcp_session_shm_store(
    ngx_shm_zone_t *zone);


/* a fresh session id from the CSPRNG, NGX_HTTP_MCP_SESSION_ID_LEN bytes */
ngx_int_t ngx_http_mcp_session_new_id(u_char *id, ngx_log_t *log);

/*
 * The zone used directly, by key (64 lowercase hex digits), as the Redis
 * store's near cache does: put a copy of s, replacing any, gone after
 * timeout of idleness; get it if its idle time (refresh set: and refresh
 * it) or its age since put is at most timeout; remove it, if principal is
 * NULL or its own.  NGX_OK, NGX_DECLINED (not there), NGX_ERROR.
 */
ngx_int_t ngx_http_mcp_session_shm_put(ngx_shm_zone_t *zone, ngx_str_t *id,
    ngx_http_mcp_session_t *s, ngx_msec_t timeout, ngx_log_t *log);
ngx_int_t ngx_http_mcp_session_shm_get(ngx_shm_zone_t *zone, ngx_str_t *id,
    ngx_msec_t timeout, ngx_uint_t refresh, ngx_pool_t *pool,
    ngx_http_mcp_session_t *s);
ngx_int_t ngx_http_mcp_session_shm_remove(ngx_shm_zone_t *zone,
    ngx_str_t *id, u_char *principal);

/*
 * The sessions of the zone's own store alive now (near copies of another
 * store are not counted); those idle past their timeout go first, and
 * their ends are told (ngx_http_mcp_session_ended()).
 */
ngx_uint_t ngx_http_mcp_session_shm_active(ngx_shm_zone_t *zone);


#endif /* _NGX_HTTP_MCP_SESSION_SHM_H_INCLUDED_ */
