
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_mcp_module.h"
#include "state/ngx_http_mcp_events.h"
#include "state/ngx_http_mcp_session.h"
#include "state/ngx_http_mcp_session_redis.h"
#include "upstream/ngx_http_mcp_redis.h"


/*
 * A session's events in Redis: a list PREFIX "ev:" DIGEST of entries
 * "STREAM SEQ LAST\nDATA", the newest `events` of them, gone an hour after
 * the last one came.
 */

#define NGX_HTTP_MCP_EVENTS_TTL  "3600000"


/* KEYS: the list; ARGV: the entry, how many are kept, the ttl */
static char  ngx_http_mcp_events_add_lua[] =
    "redis.call('RPUSH',KEYS[1],ARGV[1]) "
    "redis.call('LTRIM',KEYS[1],-tonumber(ARGV[2]),-1) "
    "redis.call('PEXPIRE',KEYS[1],ARGV[3]) return 1";


typedef struct {
    ngx_http_mcp_redis_cmd_t        cmd;
    ngx_pool_t                     *pool;
    ngx_array_t                   **out;
    ngx_http_mcp_store_done_pt      done;
    void                           *data;
    ngx_uint_t                      after;
    u_char                          stream[NGX_HTTP_MCP_STREAM_NAME_LEN];
    unsigned                        waiting:1;
} ngx_http_mcp_events_op_t;


static ngx_int_t ngx_http_mcp_events_redis_key(ngx_http_mcp_store_ref_t *ref,
    u_char *key, u_char *buf, ngx_str_t *out, ngx_msec_t *timeout,
    void **u);
static ngx_http_mcp_redis_cmd_t *ngx_http_mcp_events_redis_cmd(size_t extra,
    ngx_msec_t timeout, ngx_log_t *log);
static void ngx_http_mcp_events_redis_sent(ngx_http_mcp_redis_cmd_t *cmd,
    redisReply *reply, ngx_str_t *error);
static void ngx_http_mcp_events_redis_got(ngx_http_mcp_redis_cmd_t *cmd,
    redisReply *reply, ngx_str_t *error);
static ngx_int_t ngx_http_mcp_events_redis_pick(ngx_http_mcp_events_op_t *o,
    redisReply *reply);
static void ngx_http_mcp_events_redis_cleanup(void *data);


ngx_int_t
ngx_http_mcp_events_redis_add(ngx_http_mcp_store_ref_t *ref, u_char *key,
    ngx_http_mcp_event_t *ev, ngx_uint_t max, ngx_log_t *log)
{
    u_char                    *p, buf[256], num[NGX_INT_T_LEN];
    void                      *u;
    ngx_str_t                  list;
    ngx_msec_t                 timeout;
    const char                *argv[7];
    size_t                     argvlen[7];
    ngx_http_mcp_redis_cmd_t  *cmd;

    if (ngx_http_mcp_events_redis_key(ref, key, buf, &list, &timeout, &u)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    cmd = ngx_http_mcp_events_redis_cmd(NGX_HTTP_MCP_STREAM_NAME_LEN
                                        + 2 * NGX_INT_T_LEN + 4
                                        + ev->data.len, timeout, log);
    if (cmd == NULL) {
        return NGX_OK;
    }

    p = (u_char *) (cmd + 1);
    argv[4] = (char *) p;
    p = ngx_sprintf(p, "%*s %ui %ui\n", (size_t) NGX_HTTP_MCP_STREAM_NAME_LEN,
                    ev->stream, ev->seq, ev->last ? 1 : 0);
    p = ngx_cpymem(p, ev->data.data, ev->data.len);
    argvlen[4] = p - (u_char *) argv[4];

    argv[0] = "EVAL";
    argvlen[0] = 4;
    argv[1] = ngx_http_mcp_events_add_lua;
    argvlen[1] = sizeof(ngx_http_mcp_events_add_lua) - 1;
    argv[2] = "1";
    argvlen[2] = 1;
    argv[3] = (char *) list.data;
    argvlen[3] = list.len;
    argv[5] = (char *) num;
    argvlen[5] = ngx_sprintf(num, "%ui", max) - num;
    argv[6] = NGX_HTTP_MCP_EVENTS_TTL;
    argvlen[6] = sizeof(NGX_HTTP_MCP_EVENTS_TTL) - 1;

    if (ngx_http_mcp_redis_send(u, cmd, 7, argv, argvlen) != NGX_AGAIN) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "mcp: an event was not kept for resumption: %V",
                      &cmd->error);
        ngx_free(cmd);
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_mcp_events_redis_get(ngx_http_mcp_store_ref_t *ref, u_char *key,
    u_char *stream, ngx_uint_t after, ngx_pool_t *pool, ngx_array_t **out,
    ngx_http_mcp_store_done_pt done, void *data)
{
    u_char                     buf[256];
    void                      *u;
    ngx_int_t                  rc;
    ngx_str_t                  list;
    ngx_msec_t                 timeout;
    const char                *argv[4];
    size_t                     argvlen[4];
    ngx_pool_cleanup_t        *cln;
    ngx_http_mcp_events_op_t  *o;

    if (ngx_http_mcp_events_redis_key(ref, key, buf, &list, &timeout, &u)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    o = ngx_pcalloc(pool, sizeof(ngx_http_mcp_events_op_t));
    cln = ngx_pool_cleanup_add(pool, 0);

    if (o == NULL || cln == NULL) {
        return NGX_ERROR;
    }

    o->pool = pool;
    o->out = out;
    o->done = done;
    o->data = data;
    o->after = after;
    ngx_memcpy(o->stream, stream, NGX_HTTP_MCP_STREAM_NAME_LEN);

    o->cmd.handler = ngx_http_mcp_events_redis_got;
    o->cmd.data = o;
    o->cmd.log = pool->log;
    o->cmd.timeout = timeout;

    argv[0] = "LRANGE";
    argvlen[0] = 6;
    argv[1] = (char *) list.data;
    argvlen[1] = list.len;
    argv[2] = "0";
    argvlen[2] = 1;
    argv[3] = "-1";
    argvlen[3] = 2;

    rc = ngx_http_mcp_redis_send(u, &o->cmd, 4, argv, argvlen);

    if (rc != NGX_AGAIN) {
        ngx_log_error(NGX_LOG_ERR, pool->log, 0,
                      "mcp: the events of a stream cannot be read: %V",
                      &o->cmd.error);
        return NGX_ERROR;
    }

    o->waiting = 1;
    cln->handler = ngx_http_mcp_events_redis_cleanup;
    cln->data = o;

    return NGX_AGAIN;
}


ngx_int_t
ngx_http_mcp_events_redis_forget(ngx_http_mcp_store_ref_t *ref, u_char *key,
    ngx_log_t *log)
{
    u_char                     buf[256];
    void                      *u;
    ngx_str_t                  list;
    ngx_msec_t                 timeout;
    const char                *argv[2];
    size_t                     argvlen[2];
    ngx_http_mcp_redis_cmd_t  *cmd;

    if (ngx_http_mcp_events_redis_key(ref, key, buf, &list, &timeout, &u)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    cmd = ngx_http_mcp_events_redis_cmd(0, timeout, log);
    if (cmd == NULL) {
        return NGX_OK;
    }

    argv[0] = "DEL";
    argvlen[0] = 3;
    argv[1] = (char *) list.data;
    argvlen[1] = list.len;

    if (ngx_http_mcp_redis_send(u, cmd, 2, argv, argvlen) != NGX_AGAIN) {
        ngx_free(cmd);
    }

    return NGX_OK;
}


/* the list's name into buf (256 bytes); NGX_DECLINED: not a Redis store */

static ngx_int_t
ngx_http_mcp_events_redis_key(ngx_http_mcp_store_ref_t *ref, u_char *key,
    u_char *buf, ngx_str_t *out, ngx_msec_t *timeout, void **u)
{
    ngx_str_t  prefix;

    *u = ngx_http_mcp_session_redis_where(ref, &prefix, timeout);

    if (*u == NULL
        || prefix.len > 256 - sizeof("ev:") - NGX_HTTP_MCP_SESSION_ID_LEN)
    {
        return NGX_DECLINED;
    }

    out->data = buf;
    out->len = ngx_sprintf(buf, "%Vev:%*s", &prefix,
                           (size_t) NGX_HTTP_MCP_SESSION_ID_LEN, key)
               - buf;

    return NGX_OK;
}


/*
 * a command nobody waits for, with extra bytes after it for its arguments:
 * it frees itself when its reply comes (ngx_http_mcp_events_redis_sent)
 */

static ngx_http_mcp_redis_cmd_t *
ngx_http_mcp_events_redis_cmd(size_t extra, ngx_msec_t timeout,
    ngx_log_t *log)
{
    ngx_http_mcp_redis_cmd_t  *cmd;

    cmd = ngx_alloc(sizeof(ngx_http_mcp_redis_cmd_t) + extra, log);
    if (cmd == NULL) {
        return NULL;
    }

    ngx_memzero(cmd, sizeof(ngx_http_mcp_redis_cmd_t));
    cmd->handler = ngx_http_mcp_events_redis_sent;
    cmd->log = ngx_cycle->log;
    cmd->timeout = timeout;

    return cmd;
}


static void
ngx_http_mcp_events_redis_sent(ngx_http_mcp_redis_cmd_t *cmd,
    redisReply *reply, ngx_str_t *error)
{
    if (reply == NULL) {
        ngx_log_error(NGX_LOG_WARN, cmd->log, 0,
                      "mcp: an event was not kept for resumption: %V", error);
    }

    ngx_free(cmd);
}


static void
ngx_http_mcp_events_redis_got(ngx_http_mcp_redis_cmd_t *cmd,
    redisReply *reply, ngx_str_t *error)
{
    ngx_http_mcp_events_op_t *o = cmd->data;

    ngx_int_t  rc;

    o->waiting = 0;

    if (reply == NULL) {
        ngx_log_error(NGX_LOG_ERR, o->pool->log, 0,
                      "mcp: the events of a stream cannot be read: %V",
                      error);
        rc = NGX_ERROR;

    } else {
        rc = ngx_http_mcp_events_redis_pick(o, reply);
    }

    o->done(o->data, rc);
}


/* the stream's entries after o->after: the same rules as the zone's */

static ngx_int_t
ngx_http_mcp_events_redis_pick(ngx_http_mcp_events_op_t *o,
    redisReply *reply)
{
    u_char                *p, *last, *nl;
    size_t                 i;
    ngx_int_t              seq, rc;
    ngx_uint_t             first;
    ngx_array_t           *a;
    ngx_http_mcp_event_t  *ev;

    a = ngx_array_create(o->pool, 4, sizeof(ngx_http_mcp_event_t));
    if (a == NULL) {
        return NGX_ERROR;
    }

    *o->out = a;

    if (reply->type != REDIS_REPLY_ARRAY) {
        return NGX_ERROR;
    }

    rc = NGX_DECLINED;
    first = 1;

    for (i = 0; i < reply->elements; i++) {

        if (reply->element[i]->type != REDIS_REPLY_STRING) {
            continue;
        }

        p = (u_char *) reply->element[i]->str;
        last = p + reply->element[i]->len;

        /* "STREAM SEQ LAST\n": anything else is not ours */

        nl = ngx_strlchr(p, last, '\n');

        if (nl == NULL || nl - p < NGX_HTTP_MCP_STREAM_NAME_LEN + 4
            || p[NGX_HTTP_MCP_STREAM_NAME_LEN] != ' '
            || ngx_memcmp(p, o->stream, NGX_HTTP_MCP_STREAM_NAME_LEN) != 0)
        {
            continue;
        }

        seq = ngx_atoi(p + NGX_HTTP_MCP_STREAM_NAME_LEN + 1,
                       nl - 2 - (p + NGX_HTTP_MCP_STREAM_NAME_LEN + 1));

        if (seq == NGX_ERROR || nl[-2] != ' ') {
            continue;
        }

        if (first) {
            first = 0;

            if ((ngx_uint_t) seq > o->after + 1) {
                break;
            }

            rc = NGX_OK;
        }

        /* seen already: only that it ended, as an event without data */

        if ((ngx_uint_t) seq <= o->after && nl[-1] != '1') {
            continue;
        }

        ev = ngx_array_push(a);
        if (ev == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(ev->stream, p, NGX_HTTP_MCP_STREAM_NAME_LEN);
        ev->seq = seq;
        ev->last = (nl[-1] == '1');
        ev->data.len = ((ngx_uint_t) seq <= o->after) ? 0 : last - nl - 1;
        ev->data.data = ngx_pnalloc(o->pool, ev->data.len + 1);

        if (ev->data.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(ev->data.data, nl + 1, ev->data.len);
    }

    return rc;
}


static void
ngx_http_mcp_events_redis_cleanup(void *data)
{
    ngx_http_mcp_events_op_t *o = data;

    if (o->waiting) {
        ngx_http_mcp_redis_cancel(&o->cmd);
        o->waiting = 0;
    }
}
