
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_MAILBOX_H_INCLUDED_
#define _NGX_HTTP_MCP_MAILBOX_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * Letters between the workers of one nginx: a pipe per worker, made by the
 * master before it forks, read in the worker's event loop.  A letter asks
 * every other worker to cancel the call of a session with a request id
 * (notifications/cancelled may reach a worker that does not run the
 * call).  Letters are dropped, with a log line, when a pipe is full.
 */

ngx_int_t ngx_http_mcp_mailbox_init_module(ngx_cycle_t *cycle);
ngx_int_t ngx_http_mcp_mailbox_init_process(ngx_cycle_t *cycle);
void ngx_http_mcp_mailbox_exit_process(ngx_cycle_t *cycle);

/* to all other workers: cancel this session's call with this id (JSON) */
void ngx_http_mcp_mailbox_post(ngx_str_t *session, ngx_str_t *id);


#endif /* _NGX_HTTP_MCP_MAILBOX_H_INCLUDED_ */
