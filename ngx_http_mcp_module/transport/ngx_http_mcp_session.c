
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "transport/ngx_http_mcp_session.h"


ngx_shm_zone_t *
ngx_http_mcp_session_zone_add(ngx_conf_t *cf, ngx_str_t *name, size_t size)
{
    return NULL;
}


ngx_int_t
ngx_http_mcp_session_create(ngx_shm_zone_t *zone, ngx_http_mcp_session_t *s,
    ngx_log_t *log)
{
    return NGX_ERROR;
}


ngx_int_t
ngx_http_mcp_session_lookup(ngx_shm_zone_t *zone, ngx_str_t *id,
    ngx_msec_t timeout, ngx_pool_t *pool, ngx_http_mcp_session_t *s)
{
    return NGX_DECLINED;
}


ngx_int_t
ngx_http_mcp_session_update(ngx_shm_zone_t *zone, ngx_http_mcp_session_t *s)
{
    return NGX_DECLINED;
}


ngx_int_t
ngx_http_mcp_session_delete(ngx_shm_zone_t *zone, ngx_str_t *id)
{
    return NGX_DECLINED;
}


size_t
ngx_http_mcp_session_size(ngx_http_mcp_session_t *s)
{
    return 0;
}
