
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_SESSION_REDIS_H_INCLUDED_
#define _NGX_HTTP_MCP_SESSION_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_mcp_module.h"
#include "state/ngx_http_mcp_store.h"


/*
 * Sessions in Redis, so that any worker of any replica serves them:
 *
 *   mcp_session_store redis=UPSTREAM [prefix=mcp:] [fail=closed|open]
 *                     [near=2s] [timeout=1s];
 *   mcp_session_store shm;
 *
 * The location's shm zone keeps near copies for `near`, so that a
 * session's every request does not cost a round trip; a deletion or an
 * update on one replica drops the copies of every other through a Redis
 * channel, the same channel that carries cancellations between replicas.
 */

typedef struct ngx_http_mcp_session_redis_conf_s
    ngx_http_mcp_session_redis_conf_t;


/* the directive's words: NGX_CONF_OK or an error (*conf NULL for shm) */
char *ngx_http_mcp_session_store_conf(ngx_conf_t *cf, ngx_str_t *value,
    ngx_uint_t n, ngx_http_mcp_session_redis_conf_t **conf);

/* the store of a location: that configuration, with zone as near cache */
ngx_http_mcp_store_ref_t *ngx_http_mcp_session_redis_store(ngx_conf_t *cf,
    ngx_http_mcp_session_redis_conf_t *conf, ngx_shm_zone_t *zone);

/*
 * this worker listens to the channels of the stores in use (refs, the
 * main configuration's stores) and sends cancellations through them
 */
ngx_int_t ngx_http_mcp_session_redis_init_process(ngx_array_t *refs);

/*
 * where a Redis store keeps things: its upstream (an
 * ngx_http_mcp_redis_upstream_t), key prefix and command timeout; NULL if
 * ref is not a Redis store
 */
void *ngx_http_mcp_session_redis_where(ngx_http_mcp_store_ref_t *ref,
    ngx_str_t *prefix, ngx_msec_t *timeout);


#endif /* _NGX_HTTP_MCP_SESSION_REDIS_H_INCLUDED_ */
