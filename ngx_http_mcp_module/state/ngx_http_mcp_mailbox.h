
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_MAILBOX_H_INCLUDED_
#define _NGX_HTTP_MCP_MAILBOX_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * Letters between the workers of one nginx, and with a remote bus (the
 * Redis session store's channel) between the workers of every replica.
 *
 * On one host a letter is written once into a shared memory zone and its
 * place goes down a pipe to each worker (made by the master before it
 * forks, read in the worker's event loop); the last reader frees it.  A
 * letter that finds no room, or a full pipe, is dropped with a log line:
 * the bus delivers at most once, and whoever needs more (a client's
 * answer) says so to its sender.
 *
 * A small bus: the mailbox knows nothing of calls or streams.  It hands
 * each letter to the one handler subscribed in this worker for its kind
 * (from init_process hooks); with none, letters are read and dropped.
 */

/* kinds of letter */
#define NGX_HTTP_MCP_LETTER_CANCEL   'c'    /* stop call id of session */
#define NGX_HTTP_MCP_LETTER_ANSWER   'a'    /* the client's answer (body)
                                               to the request id the
                                               server sent in session */
#define NGX_HTTP_MCP_LETTER_NOTIFY   'n'    /* a message (body) on topic
                                               id, for session or (no
                                               session) for everyone */
#define NGX_HTTP_MCP_LETTER_EVENT    'e'    /* an event (body) of stream
                                               id of session, for its
                                               client resuming it */

/* the largest letter: its id and body together */
#define NGX_HTTP_MCP_LETTER_MAX      (1024 * 1024)
#define NGX_HTTP_MCP_LETTER_ID_MAX   192


typedef struct {
    u_char                      kind;
    ngx_str_t                   session;    /* a session's digest
                                               (ngx_http_mcp_session_digest),
                                               or empty */
    ngx_str_t                   id;         /* no '\n' in it */
    ngx_str_t                   body;
} ngx_http_mcp_letter_t;


/* what a worker does with a letter; valid during the call only */
typedef void (*ngx_http_mcp_bus_handler_pt)(ngx_http_mcp_letter_t *letter);

/* a remote bus: NGX_OK sent (every worker, this one too, will hear it) */
typedef ngx_int_t (*ngx_http_mcp_bus_remote_pt)(
    ngx_http_mcp_letter_t *letter);


/* the subsystem's hooks (ngx_http_mcp_module.c calls them) */
ngx_int_t ngx_http_mcp_mailbox_conf(ngx_conf_t *cf);
ngx_int_t ngx_http_mcp_mailbox_init_module(ngx_cycle_t *cycle);
ngx_int_t ngx_http_mcp_mailbox_init_process(ngx_cycle_t *cycle);
void ngx_http_mcp_mailbox_exit_process(ngx_cycle_t *cycle);

/* this worker's handler of the letters of a kind; one, the last given */
void ngx_http_mcp_mailbox_subscribe(u_char kind,
    ngx_http_mcp_bus_handler_pt handler);

/*
 * to every worker of every replica, each once; self: this worker too
 * (later, from the event loop), else it has handled the letter itself
 * (a remote bus may bring it back: handlers of such letters must not
 * mind).  NGX_OK, or NGX_DECLINED: too large, or no worker could be
 * reached at all (logged)
 */
ngx_int_t ngx_http_mcp_mailbox_post(ngx_http_mcp_letter_t *letter,
    ngx_uint_t self);

/* the remote bus letters go through, or NULL */
void ngx_http_mcp_mailbox_remote(ngx_http_mcp_bus_remote_pt post);
/* a letter the remote bus brought: to this worker's handler */
void ngx_http_mcp_mailbox_deliver(ngx_http_mcp_letter_t *letter);


#endif /* _NGX_HTTP_MCP_MAILBOX_H_INCLUDED_ */
