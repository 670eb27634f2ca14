
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_SSE_H_INCLUDED_
#define _NGX_HTTP_MCP_SSE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/*
 * The one SSE writer: every event the module sends goes through it, framed
 * as "event: message", with an "id:" line when the caller gives one, and
 * flushed.  A stream (ngx_http_mcp_sse_start()) reuses its buffers once the
 * client has them, so a long stream takes the memory of what the client
 * has not read yet; while it is open and quiet a keep-alive comment goes
 * out every mcp_sse_keepalive, on a timer that does not hold a worker
 * that shuts down.  Events written while a subrequest of the
 * request runs (a backend's) go through that subrequest, the one nginx
 * lets write, in buffers tagged with the module.
 */

typedef struct {
    ngx_http_request_t         *request;
    ngx_chain_t                *free;
    ngx_chain_t                *busy;
    ngx_event_t                 ping;
    ngx_msec_t                  keepalive;
    unsigned                    started:1;
    unsigned                    ended:1;
} ngx_http_mcp_sse_t;


/*
 * The response becomes an event stream of unknown length, not buffered by
 * proxies in front: NGX_OK, or what ngx_http_send_header() failed with.
 */
ngx_int_t ngx_http_mcp_sse_start(ngx_http_mcp_sse_t *s, ngx_http_request_t *r);

/* one event; `last` ends the stream; id may be NULL */
ngx_int_t ngx_http_mcp_sse_send(ngx_http_mcp_sse_t *s, ngx_str_t *id,
    ngx_str_t *message, ngx_uint_t last);

/*
 * Lines of SSE fields as they are (a priming event, a retry: hint), with
 * their blank line; `last` ends the stream
 */
ngx_int_t ngx_http_mcp_sse_fields(ngx_http_mcp_sse_t *s, ngx_str_t *fields,
    ngx_uint_t last);

/* ends the stream without an event */
ngx_int_t ngx_http_mcp_sse_end(ngx_http_mcp_sse_t *s);

/*
 * One event as the whole response, with its length: for a client that
 * accepts only text/event-stream.
 */
ngx_int_t ngx_http_mcp_sse_reply(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *message);


/* an event's bytes: how many, and written at p (returns the end) */
size_t ngx_http_mcp_sse_size(ngx_str_t *id, ngx_str_t *message);
u_char *ngx_http_mcp_sse_frame(u_char *p, ngx_str_t *id, ngx_str_t *message);


#endif /* _NGX_HTTP_MCP_SSE_H_INCLUDED_ */
