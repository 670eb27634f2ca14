
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


#endif /* _NGX_HTTP_MCP_SESSION_SHM_H_INCLUDED_ */
