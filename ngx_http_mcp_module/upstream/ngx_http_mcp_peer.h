
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_PEER_H_INCLUDED_
#define _NGX_HTTP_MCP_PEER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/*
 * The failure accounting of one server of an upstream, as nginx's round
 * robin keeps it without a zone (per worker): after max_fails failures
 * within fail_timeout the server is skipped for fail_timeout, then tried
 * once; an upstream's only server is always tried.  The first member of
 * the server structs of PostgreSQL and Redis upstreams.
 */

typedef struct {
    ngx_uint_t                   max_fails;
    time_t                       fail_timeout;
    ngx_uint_t                   fails;
    time_t                       checked;
} ngx_http_mcp_peer_t;


/*
 * a server line's trailing max_fails= and fail_timeout= words, *last (the
 * number of words) lowered past them; peer's defaults set first.  NGX_OK,
 * or NGX_ERROR with value[*last - 1] the invalid word.
 */
ngx_int_t ngx_http_mcp_peer_params(ngx_str_t *value, ngx_uint_t *last,
    ngx_http_mcp_peer_t *peer);

/*
 * the next of n servers (each `size` bytes from elts, a peer first) that
 * may be tried, from *next on in turn, or NULL; probe: any server
 */
void *ngx_http_mcp_peer_pick(void *elts, size_t size, ngx_uint_t n,
    ngx_uint_t *next, ngx_uint_t probe);

/* module's server configuration of the upstream{} named name, or NULL */
void *ngx_http_mcp_upstream_conf(ngx_conf_t *cf, ngx_str_t *name,
    ngx_module_t *module);

/* an attempt's outcome */
void ngx_http_mcp_peer_failed(ngx_http_mcp_peer_t *peer);
#define ngx_http_mcp_peer_ok(peer)  (peer)->fails = 0


#endif /* _NGX_HTTP_MCP_PEER_H_INCLUDED_ */
