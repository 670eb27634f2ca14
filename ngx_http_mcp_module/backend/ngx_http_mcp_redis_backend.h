
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_REDIS_BACKEND_H_INCLUDED_
#define _NGX_HTTP_MCP_REDIS_BACKEND_H_INCLUDED_


#include "backend/ngx_http_mcp_backend.h"
#include "upstream/ngx_http_mcp_redis.h"


/* what a piece of an argument is, when not an nginx variable's index */
#define NGX_HTTP_MCP_REDIS_TEXT   -1        /* literal text */
#define NGX_HTTP_MCP_REDIS_NAME   -2        /* {name}: declared by the item */

#define NGX_HTTP_MCP_REDIS_GRACE  1000      /* a blocking command's wait and
                                               the module's deadline, past
                                               the command's own time */


/* literal text, {name} or $variable */
typedef struct {
    ngx_str_t                        text;    /* the text, or the name */
    ngx_int_t                        index;   /* a variable's, or above */
} ngx_http_mcp_redis_part_t;


/* one argument of the command, whatever its pieces hold */
typedef struct {
    ngx_http_mcp_redis_part_t       *parts;
    ngx_uint_t                       nparts;  /* 0: the empty string */
} ngx_http_mcp_redis_arg_t;


/* an entry's `redis UPSTREAM COMMAND ARG... [timeout=] [max_size=]` */
typedef struct {
    ngx_str_t                        upstream_name;
    ngx_http_mcp_redis_upstream_t   *upstream;
    ngx_http_mcp_redis_arg_t        *args;    /* [0]: the command */
    ngx_uint_t                       nargs;
    ngx_msec_t                       block;   /* a blocking command's time
                                                 in Redis; 0: it does not
                                                 block */
    unsigned                         hash:1;  /* HGETALL: an object */
} ngx_http_mcp_redis_t;


/* a call in flight */
typedef struct {
    ngx_http_mcp_bcall_t            *bc;
    ngx_http_mcp_redis_t            *rd;
    ngx_http_mcp_redis_cmd_t         cmd;
    ngx_msec_t                       timeout; /* the command's; 0: none */
    unsigned                         finished:1;
} ngx_http_mcp_redis_call_t;


extern ngx_http_mcp_backend_t  ngx_http_mcp_redis_backend;


/* ngx_http_mcp_redis_call.c */
ngx_int_t ngx_http_mcp_redis_start(ngx_http_mcp_bcall_t *bc);
ngx_int_t ngx_http_mcp_redis_abort(ngx_http_mcp_bcall_t *bc,
    ngx_uint_t why);
/* the call's error: fmt has up to two %V */
void ngx_http_mcp_redis_fail(ngx_http_mcp_redis_call_t *ctx,
    const char *fmt, ngx_str_t *arg, ngx_str_t *arg2);

/* ngx_http_mcp_redis_result.c: a reply as the neutral result */
void ngx_http_mcp_redis_result(ngx_http_mcp_redis_call_t *ctx,
    redisReply *reply);


#endif /* _NGX_HTTP_MCP_REDIS_BACKEND_H_INCLUDED_ */
