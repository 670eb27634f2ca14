
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "limit/ngx_http_mcp_limit_int.h"


/*
 * Zones with redis=: the budget of a key is shared by every replica. One
 * script decides atomically on the server, on the server's clock (TIME), so
 * replicas whose clocks disagree count alike. A rate decision may take a lease
 * of tokens that would pass at once: as many as this replica's requests for
 * the key in the last 20 ms, at most zone->lease (20 ms of the rate); the
 * replica keeps them in its zone and spends them without a round trip for
 * 40 ms. Sized by the demand, a lease is spent rather than left to expire
 * (an expired token is lost to every replica). One request of a replica asks
 * for a lease at a time; those that find none meanwhile ask for their own
 * token only. Keys: PREFIX "limit:" ZONE ":" hex(SHA-1, 16 bytes),
 * a hash of the excess and its time; PREFIX "quota:" ZONE ":" hex ":" WINDOW,
 * a count.
 */


#define NGX_HTTP_MCP_LIMIT_TIMEOUT  1000


static void ngx_http_mcp_limit_redis_reply(ngx_http_mcp_redis_cmd_t *cmd,
    redisReply *reply, ngx_str_t *error);
static void ngx_http_mcp_limit_redis_rate(ngx_http_mcp_limit_op_t *op,
    long long granted, long long excess);
static u_char *ngx_http_mcp_limit_redis_key(u_char *p,
    ngx_http_mcp_limit_zone_t *z, u_char *key);
static void ngx_http_mcp_limit_redis_dropped(ngx_http_mcp_redis_cmd_t *cmd,
    redisReply *reply, ngx_str_t *error);


/*
 * ARGV: rate, burst, tokens wanted, the excess up to which a request
 * passes at once; the tokens of a lease beyond the first stay in the lower
 * half of that, so that a lease leaves room for the other replicas
 */

static const char  ngx_http_mcp_limit_rate_lua[] =
    "local t = redis.call('TIME') "
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) "
    "local rate = tonumber(ARGV[1]) "
    "local v = redis.call('HMGET', KEYS[1], 'e', 't') "
    "local e = 0 "
    "if v[1] then "
    "  local ms = now - tonumber(v[2]) "
    "  if ms < 0 then ms = 0 end "
    "  e = tonumber(v[1]) - math.floor(rate * ms / 1000) + 1000 "
    "  if e < 0 then e = 0 end "
    "end "
    "if e > tonumber(ARGV[2]) then return {0, e} end "
    "local first = e "
    "local n = 1 "
    "while n < tonumber(ARGV[3]) and e + 1000 <= tonumber(ARGV[4]) / 2 do "
    "  e = e + 1000 "
    "  n = n + 1 "
    "end "
    "redis.call('HSET', KEYS[1], 'e', e, 't', now) "
    "redis.call('PEXPIRE', KEYS[1], math.floor(e * 1000 / rate) + 1000) "
    "return {n, first}";


/* ARGV: the window's length, the calls it allows */

static const char  ngx_http_mcp_limit_quota_lua[] =
    "local now = tonumber(redis.call('TIME')[1]) "
    "local p = tonumber(ARGV[1]) "
    "local w = math.floor(now / p) "
    "local k = KEYS[1] .. ':' .. w "
    "local n = tonumber(redis.call('GET', k) or '0') "
    "if n >= tonumber(ARGV[2]) then return {0, w, (w + 1) * p - now} end "
    "redis.call('INCR', k) "
    "redis.call('EXPIRE', k, p + 60) "
    "return {1, w, (w + 1) * p - now}";


static const char  ngx_http_mcp_limit_unquota_lua[] =
    "local n = tonumber(redis.call('GET', KEYS[1]) or '0') "
    "if n > 0 then return redis.call('DECR', KEYS[1]) end "
    "return 0";


ngx_int_t
ngx_http_mcp_limit_redis_ask(ngx_http_mcp_limit_op_t *op, ngx_pool_t *pool)
{
    u_char                     *p, *key;
    size_t                      argvlen[8];
    ngx_int_t                   rc;
    const char                 *argv[8];
    ngx_http_mcp_limit_use_t   *use;
    ngx_http_mcp_limit_zone_t  *z;

    z = op->zone;
    use = op->use;

    key = ngx_pnalloc(pool, z->prefix.len + z->name.len + 6 + 1
                            + 2 * NGX_HTTP_MCP_LIMIT_KEY_LEN
                            + 4 * NGX_INT_T_LEN);
    if (key == NULL) {
        return NGX_DECLINED;
    }

    p = ngx_http_mcp_limit_redis_key(key, z, op->key);

    argv[0] = "EVAL";
    argv[2] = "1";
    argv[3] = (char *) key;
    argvlen[0] = 4;
    argvlen[2] = 1;
    argvlen[3] = p - key;

    argv[4] = (char *) p;

    if (z->type == NGX_HTTP_MCP_LIMIT_RATE) {
        argv[1] = ngx_http_mcp_limit_rate_lua;
        argvlen[1] = sizeof(ngx_http_mcp_limit_rate_lua) - 1;

        p = ngx_sprintf(p, "%ui", z->rate);
        argvlen[4] = p - (u_char *) argv[4];
        argv[5] = (char *) p;
        p = ngx_sprintf(p, "%ui", use->burst);
        argvlen[5] = p - (u_char *) argv[5];
        argv[6] = (char *) p;
        p = ngx_sprintf(p, "%ui", op->want);
        argvlen[6] = p - (u_char *) argv[6];
        argv[7] = (char *) p;
        p = ngx_sprintf(p, "%ui", ngx_min(use->burst, use->delay));
        argvlen[7] = p - (u_char *) argv[7];

    } else {
        argv[1] = ngx_http_mcp_limit_quota_lua;
        argvlen[1] = sizeof(ngx_http_mcp_limit_quota_lua) - 1;

        p = ngx_sprintf(p, "%T", use->period);
        argvlen[4] = p - (u_char *) argv[4];
        argv[5] = (char *) p;
        p = ngx_sprintf(p, "%ui", use->quota);
        argvlen[5] = p - (u_char *) argv[5];
    }

    op->cmd.handler = ngx_http_mcp_limit_redis_reply;
    op->cmd.data = op;
    op->cmd.timeout = NGX_HTTP_MCP_LIMIT_TIMEOUT;

    rc = ngx_http_mcp_redis_send(z->redis, &op->cmd,
                                 (z->type == NGX_HTTP_MCP_LIMIT_RATE) ? 8 : 6,
                                 argv, argvlen);

    if (rc == NGX_AGAIN) {
        op->pending = 1;
        return NGX_AGAIN;
    }

    ngx_log_error(NGX_LOG_WARN, op->cmd.log, 0,
                  "mcp limit zone \"%V\": Redis cannot be asked: %V",
                  &z->name, &op->cmd.error);

    return NGX_DECLINED;
}


static void
ngx_http_mcp_limit_redis_reply(ngx_http_mcp_redis_cmd_t *cmd,
    redisReply *reply, ngx_str_t *error)
{
    ngx_http_mcp_limit_op_t *op = cmd->data;

    ngx_uint_t                    i;
    ngx_http_mcp_limit_answer_t  *a;

    op->pending = 0;
    a = &op->answer;
    a->rc = NGX_DECLINED;

    if (reply == NULL) {
        ngx_log_error(NGX_LOG_WARN, cmd->log, 0,
                      "mcp limit zone \"%V\": Redis did not answer: %V",
                      &op->zone->name, error);
        goto done;
    }

    if (reply->type != REDIS_REPLY_ARRAY
        || reply->elements != ((op->zone->type == NGX_HTTP_MCP_LIMIT_RATE)
                               ? 2 : 3))
    {
        goto invalid;
    }

    for (i = 0; i < reply->elements; i++) {
        if (reply->element[i]->type != REDIS_REPLY_INTEGER
            || reply->element[i]->integer < 0)
        {
            goto invalid;
        }
    }

    if (op->zone->type == NGX_HTTP_MCP_LIMIT_RATE) {
        ngx_http_mcp_limit_redis_rate(op, reply->element[0]->integer,
                                      reply->element[1]->integer);
        goto done;
    }

    a->rc = reply->element[0]->integer ? NGX_OK : NGX_BUSY;
    a->window = (time_t) reply->element[1]->integer;
    a->retry_after = (time_t) ngx_min(reply->element[2]->integer,
                                      op->use->period);

    goto done;

invalid:

    ngx_log_error(NGX_LOG_ERR, cmd->log, 0,
                  "mcp limit zone \"%V\": unexpected Redis reply (type %d)",
                  &op->zone->name, reply->type);

done:

    op->handler(op);
}


static void
ngx_http_mcp_limit_redis_rate(ngx_http_mcp_limit_op_t *op,
    long long granted, long long excess)
{
    ngx_http_mcp_limit_use_t    *use;
    ngx_http_mcp_limit_zone_t   *z;
    ngx_http_mcp_limit_answer_t *a;

    z = op->zone;
    use = op->use;
    a = &op->answer;

    if (granted == 0) {
        a->rc = NGX_BUSY;
        a->retry_after = (time_t) ((excess - (long long) use->burst)
                                   / (long long) z->rate + 1);
        return;
    }

    if (op->want > 1) {
        ngx_http_mcp_limit_shm_lease_put(z, op->key, granted - 1);
    }

    if (excess > (long long) use->delay) {
        a->rc = NGX_AGAIN;
        a->delay = (ngx_msec_t) ((excess - use->delay) * 1000 / z->rate);
        return;
    }

    a->rc = NGX_OK;
}


/*
 * a call counted that did not succeed: given back, without waiting for
 * the answer (the request is over)
 */

void
ngx_http_mcp_limit_redis_unquota(ngx_http_mcp_limit_zone_t *z, u_char *key,
    time_t window, ngx_log_t *log)
{
    u_char                    *p, *k;
    size_t                     argvlen[4];
    const char                *argv[4];
    ngx_http_mcp_redis_cmd_t  *cmd;

    cmd = ngx_alloc(sizeof(ngx_http_mcp_redis_cmd_t) + z->prefix.len
                    + z->name.len + 7 + 2 * NGX_HTTP_MCP_LIMIT_KEY_LEN
                    + NGX_TIME_T_LEN, ngx_cycle->log);
    if (cmd == NULL) {
        return;
    }

    ngx_memzero(cmd, sizeof(ngx_http_mcp_redis_cmd_t));

    k = (u_char *) (cmd + 1);
    p = ngx_http_mcp_limit_redis_key(k, z, key);
    p = ngx_sprintf(p, ":%T", window);

    argv[0] = "EVAL";
    argv[1] = ngx_http_mcp_limit_unquota_lua;
    argv[2] = "1";
    argv[3] = (char *) k;
    argvlen[0] = 4;
    argvlen[1] = sizeof(ngx_http_mcp_limit_unquota_lua) - 1;
    argvlen[2] = 1;
    argvlen[3] = p - k;

    cmd->handler = ngx_http_mcp_limit_redis_dropped;
    cmd->log = ngx_cycle->log;
    cmd->timeout = NGX_HTTP_MCP_LIMIT_TIMEOUT;

    if (ngx_http_mcp_redis_send(z->redis, cmd, 4, argv, argvlen)
        != NGX_AGAIN)
    {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "mcp quota zone \"%V\": a call that failed could not "
                      "be given back: %V", &z->name, &cmd->error);
        ngx_free(cmd);
    }
}


static void
ngx_http_mcp_limit_redis_dropped(ngx_http_mcp_redis_cmd_t *cmd,
    redisReply *reply, ngx_str_t *error)
{
    ngx_free(cmd);
}


static u_char *
ngx_http_mcp_limit_redis_key(u_char *p, ngx_http_mcp_limit_zone_t *z,
    u_char *key)
{
    p = ngx_cpymem(p, z->prefix.data, z->prefix.len);

    if (z->type == NGX_HTTP_MCP_LIMIT_RATE) {
        p = ngx_cpymem(p, "limit:", 6);

    } else {
        p = ngx_cpymem(p, "quota:", 6);
    }

    p = ngx_cpymem(p, z->name.data, z->name.len);
    *p++ = ':';

    return ngx_hex_dump(p, key, NGX_HTTP_MCP_LIMIT_KEY_LEN);
}
