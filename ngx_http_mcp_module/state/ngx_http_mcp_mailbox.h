
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
 * call).  Letters are dropped, with a log line, when a pipe is full.  With
 * a remote bus (the Redis session store's channel), letters also go to
 * the workers of every replica.
 *
 * A small bus: the mailbox knows nothing of calls.  It hands each letter
 * it reads to the one handler subscribed in this worker (transport's, from
 * its init_process hook); with none, letters are read and dropped.
 */

/* what a worker does with a letter: the session id, the request id (JSON) */
typedef void (*ngx_http_mcp_bus_handler_pt)(ngx_str_t *session,
    ngx_str_t *id);

/* the subsystem's hooks (ngx_http_mcp_module.c calls them) */
ngx_int_t ngx_http_mcp_mailbox_init_module(ngx_cycle_t *cycle);
ngx_int_t ngx_http_mcp_mailbox_init_process(ngx_cycle_t *cycle);
void ngx_http_mcp_mailbox_exit_process(ngx_cycle_t *cycle);

/* this worker's handler of the letters it receives; one, the last given */
void ngx_http_mcp_mailbox_subscribe(ngx_http_mcp_bus_handler_pt handler);

/*
 * to all other workers, and through the remote bus to every replica:
 * cancel the call with this id (JSON) of the session whose digest
 * (ngx_http_mcp_session_digest()) is session
 */
void ngx_http_mcp_mailbox_post(ngx_str_t *session, ngx_str_t *id);

/* the remote bus (Redis) that letters are also sent through, or NULL */
void ngx_http_mcp_mailbox_remote(ngx_http_mcp_bus_handler_pt post);
/* a letter the remote bus brought: to this worker's handler */
void ngx_http_mcp_mailbox_deliver(ngx_str_t *session, ngx_str_t *id);


#endif /* _NGX_HTTP_MCP_MAILBOX_H_INCLUDED_ */
