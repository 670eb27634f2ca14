
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_REDIS_H_INCLUDED_
#define _NGX_HTTP_MCP_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <hiredis/hiredis.h>


/*
 * Redis servers in nginx upstream{} blocks, and the connections of each
 * worker to them: hiredis's asynchronous API driven by nginx events, never
 * blocking.
 *
 *   upstream cache {
 *       mcp_redis_server 127.0.0.1:6379 password=... db=2 max_fails=3;
 *       mcp_redis_server redis://:secret@cache-1:6379/2;
 *       mcp_redis_keepalive 8;
 *   }
 *
 * Each worker keeps up to `mcp_redis_keepalive` connections per upstream
 * and pipelines commands over them: a command goes to the connection with
 * the fewest replies pending.  A blocking command (BLPOP and the like)
 * asks for a connection of its own (exclusive), which no other command
 * shares until its reply.  AUTH and SELECT go first on every connection.
 *
 * A user fills an ngx_http_mcp_redis_cmd_t (which must stay in place until
 * its handler runs or it is cancelled) and sends argv: each element is
 * exactly one argument of the command, binary-safe.  The handler is called
 * once, from the event loop, with the reply or with reply NULL and the
 * reason (timed out, connection lost, unavailable).  A command that times
 * out closes its connection: Redis answers in order, so the replies behind
 * it would wait as long.
 */


/* with no reply, why (cmd->failure) */
#define NGX_HTTP_MCP_REDIS_UNAVAILABLE  1   /* no connection could be made */
#define NGX_HTTP_MCP_REDIS_LOST         2   /* the connection broke */
#define NGX_HTTP_MCP_REDIS_TIMED_OUT    3   /* cmd->timeout passed */


typedef struct ngx_http_mcp_redis_upstream_s  ngx_http_mcp_redis_upstream_t;
typedef struct ngx_http_mcp_redis_cmd_s       ngx_http_mcp_redis_cmd_t;


/*
 * the reply (valid during the call only: copy what is kept), or reply
 * NULL and *error a text for people, without secrets in it
 */
typedef void (*ngx_http_mcp_redis_reply_pt)(ngx_http_mcp_redis_cmd_t *cmd,
    redisReply *reply, ngx_str_t *error);

/*
 * a message on a subscribed channel; channel NULL: the subscription
 * (re)started, messages of the time before may have been missed
 */
typedef void (*ngx_http_mcp_redis_message_pt)(ngx_str_t *channel,
    ngx_str_t *message, void *data);


struct ngx_http_mcp_redis_cmd_s {
    ngx_http_mcp_redis_reply_pt     handler;
    void                           *data;
    ngx_log_t                      *log;
    ngx_msec_t                      timeout;    /* 0: none (not for users
                                                   that wait on it) */
    ngx_str_t                       error;      /* why, on NGX_DECLINED */
    ngx_uint_t                      failure;    /* with reply NULL: one of
                                                   the reasons above */
    unsigned                        exclusive:1;

    /* the upstream's own */
    void                           *slot;
    ngx_event_t                     timer;
};


/* the upstream{} of this name that has mcp_redis_server, or NULL */
ngx_http_mcp_redis_upstream_t *ngx_http_mcp_redis_upstream(ngx_conf_t *cf,
    ngx_str_t *name);
/* its name, for messages */
ngx_str_t *ngx_http_mcp_redis_upstream_name(ngx_http_mcp_redis_upstream_t *u);
/* notes that the configuration uses it: readiness checks it */
ngx_int_t ngx_http_mcp_redis_use(ngx_conf_t *cf,
    ngx_http_mcp_redis_upstream_t *u);
/* the upstreams in use, ngx_http_mcp_redis_upstream_t *; NULL if none */
ngx_array_t *ngx_http_mcp_redis_used(ngx_cycle_t *cycle);

/*
 * sends a command: NGX_AGAIN, the handler follows; NGX_DECLINED, it cannot
 * be sent now (no server can be reached, no free connection for an
 * exclusive command), cmd->error says why; NGX_ERROR
 */
ngx_int_t ngx_http_mcp_redis_send(ngx_http_mcp_redis_upstream_t *u,
    ngx_http_mcp_redis_cmd_t *cmd, int argc, const char **argv,
    const size_t *argvlen);
/* the user gives up: the handler will not be called */
void ngx_http_mcp_redis_cancel(ngx_http_mcp_redis_cmd_t *cmd);

/*
 * this worker listens to a channel of the upstream, on a connection of its
 * own, again after every reconnection; from an init_process hook
 */
ngx_int_t ngx_http_mcp_redis_subscribe(ngx_http_mcp_redis_upstream_t *u,
    ngx_str_t *channel, ngx_http_mcp_redis_message_pt handler, void *data);

/*
 * readiness of an upstream in this worker: NGX_OK or NGX_DECLINED with
 * *detail for people; a failing check starts a new connection
 */
ngx_int_t ngx_http_mcp_redis_check(ngx_http_mcp_redis_upstream_t *u,
    ngx_pool_t *pool, ngx_str_t *detail);

ngx_int_t ngx_http_mcp_redis_init_process(ngx_cycle_t *cycle);
void ngx_http_mcp_redis_exit_process(ngx_cycle_t *cycle);


extern ngx_module_t  ngx_http_mcp_redis_module;


#endif /* _NGX_HTTP_MCP_REDIS_H_INCLUDED_ */
