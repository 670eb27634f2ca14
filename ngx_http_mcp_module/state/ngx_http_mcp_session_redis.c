
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "state/ngx_http_mcp_session_redis.h"
#include "state/ngx_http_mcp_session_shm.h"
#include "state/ngx_http_mcp_mailbox.h"
#include "upstream/ngx_http_mcp_redis.h"


/*
 * The Redis session store.  A session is one string under
 * PREFIX "session:" HEX(SHA-256(id)), with the session's idle timeout as
 * its time to live, refreshed by every read (GETEX): ids never appear in
 * Redis, in its channel or in a log.  The value (ngx_http_mcp_redis_rec_t
 * then the texts) is checked when read back, as any input is.
 *
 * Copies are kept in the location's shm zone under the same digest for
 * `near`: a lookup inside that time costs no round trip.  Updates and
 * deletions are scripts that also publish on PREFIX "bus", and every
 * worker of every replica drops its copy when it hears of them; a worker
 * whose channel was lost and made again trusts no copy older than that.
 *
 * Redis unreachable: fail=closed answers NGX_BUSY (503 with Retry-After);
 * fail=open serves from the near copies whatever their age, and keeps new
 * sessions in the shm zone alone, with a warning.
 */


/*
 * The value's format: 2 adds the creation time, for the session duration
 * metric, 3 the resource subscriptions; 1 and 2 are still read, so that
 * sessions written before an upgrade live on (their duration is not known,
 * they have no subscriptions)
 */
#define NGX_HTTP_MCP_REDIS_REC_VERSION  3
#define NGX_HTTP_MCP_REDIS_REC_V1_LEN   40
#define NGX_HTTP_MCP_REDIS_REC_V2_LEN   48
#define NGX_HTTP_MCP_REDIS_TEXT_MAX     8192


typedef struct {
    u_char                          format;
    u_char                          version;
    u_char                          log_level;
    u_char                          initialized;
    u_char                          principal[NGX_HTTP_MCP_PRINCIPAL_LEN];
    u_char                          caps_len[2];      /* big-endian */
    u_char                          info_len[2];
    u_char                          created[8];       /* big-endian ms
                                                         since the epoch;
                                                         format 2 */
    u_char                          subs[NGX_HTTP_MCP_SESSION_SUBS][8];
                                                      /* big-endian;
                                                         format 3 */
} ngx_http_mcp_redis_rec_t;


struct ngx_http_mcp_session_redis_conf_s {
    ngx_str_t                       upstream_name;
    ngx_str_t                       prefix;
    ngx_msec_t                      near;
    ngx_msec_t                      timeout;
    ngx_uint_t                      fail_open;
    u_char                         *file;
    ngx_uint_t                      line;
};


typedef struct {
    ngx_http_mcp_store_ref_t        ref;
    ngx_http_mcp_session_redis_conf_t  *conf;
    ngx_http_mcp_redis_upstream_t  *upstream;
    ngx_shm_zone_t                 *zone;
    ngx_str_t                       channel;
    ngx_msec_t                      heard;    /* this worker's channel was
                                                 (re)made then */
} ngx_http_mcp_redis_store_t;


/* one operation in flight */

typedef struct {
    ngx_http_mcp_redis_cmd_t        cmd;
    ngx_http_mcp_redis_store_t     *st;
    ngx_http_mcp_session_t         *s;
    ngx_pool_t                     *pool;
    ngx_http_mcp_store_done_pt      done;
    void                           *data;
    ngx_str_t                       id;       /* the caller's id */
    u_char                          key[NGX_HTTP_MCP_SESSION_ID_LEN];
    u_char                         *principal;
    ngx_uint_t                      op;
} ngx_http_mcp_redis_op_t;


#define NGX_HTTP_MCP_REDIS_LOOKUP  0
#define NGX_HTTP_MCP_REDIS_CREATE  1
#define NGX_HTTP_MCP_REDIS_UPDATE  2
#define NGX_HTTP_MCP_REDIS_DELETE  3


static ngx_int_t ngx_http_mcp_session_redis_lookup(
    ngx_http_mcp_store_ref_t *ref, ngx_str_t *id, ngx_msec_t timeout,
    ngx_pool_t *pool, ngx_http_mcp_session_t *s,
    ngx_http_mcp_store_done_pt done, void *data);
static ngx_int_t ngx_http_mcp_session_redis_create(
    ngx_http_mcp_store_ref_t *ref, ngx_http_mcp_session_t *s,
    ngx_pool_t *pool, ngx_http_mcp_store_done_pt done, void *data);
static ngx_int_t ngx_http_mcp_session_redis_update(
    ngx_http_mcp_store_ref_t *ref, ngx_http_mcp_session_t *s,
    ngx_pool_t *pool, ngx_http_mcp_store_done_pt done, void *data);
static ngx_int_t ngx_http_mcp_session_redis_delete(
    ngx_http_mcp_store_ref_t *ref, ngx_str_t *id, u_char *principal,
    ngx_pool_t *pool, ngx_http_mcp_store_done_pt done, void *data);
static ngx_int_t ngx_http_mcp_session_redis_check(
    ngx_http_mcp_store_ref_t *ref, ngx_pool_t *pool, ngx_str_t *name,
    ngx_str_t *detail);

static ngx_http_mcp_redis_op_t *ngx_http_mcp_session_redis_op(
    ngx_http_mcp_store_ref_t *ref, ngx_uint_t op, ngx_str_t *id,
    ngx_pool_t *pool, ngx_http_mcp_store_done_pt done, void *data);
static ngx_int_t ngx_http_mcp_session_redis_key(ngx_http_mcp_redis_op_t *o,
    size_t extra, const char **argv, size_t *argvlen);
static ngx_int_t ngx_http_mcp_session_redis_send(ngx_http_mcp_redis_op_t *o,
    int argc, const char **argv, const size_t *argvlen);
static void ngx_http_mcp_session_redis_reply(ngx_http_mcp_redis_cmd_t *cmd,
    redisReply *reply, ngx_str_t *error);
static ngx_int_t ngx_http_mcp_session_redis_answer(ngx_http_mcp_redis_op_t *o,
    redisReply *reply);
static ngx_int_t ngx_http_mcp_session_redis_unavailable(
    ngx_http_mcp_redis_op_t *o, ngx_str_t *why);
static ngx_int_t ngx_http_mcp_session_redis_encode(ngx_pool_t *pool,
    ngx_http_mcp_session_t *s, ngx_str_t *out);
static ngx_int_t ngx_http_mcp_session_redis_decode(ngx_http_mcp_redis_op_t *o,
    redisReply *reply);
static void ngx_http_mcp_session_redis_near(ngx_http_mcp_redis_op_t *o);
static void ngx_http_mcp_session_redis_ended(ngx_http_mcp_redis_op_t *o,
    u_char *p);
static void ngx_http_mcp_session_redis_cleanup(void *data);
static void ngx_http_mcp_session_redis_heard(ngx_str_t *channel,
    ngx_str_t *message, void *data);
static ngx_int_t ngx_http_mcp_session_redis_post(
    ngx_http_mcp_letter_t *letter);
static void ngx_http_mcp_session_redis_sent(ngx_http_mcp_redis_cmd_t *cmd,
    redisReply *reply, ngx_str_t *error);


static ngx_http_mcp_store_t  ngx_http_mcp_session_redis = {
    ngx_string("redis"),
    ngx_http_mcp_session_redis_lookup,
    ngx_http_mcp_session_redis_create,
    ngx_http_mcp_session_redis_update,
    ngx_http_mcp_session_redis_delete,
    ngx_http_mcp_session_redis_check
};


/* KEYS: the session, the channel; ARGV: value, ttl, message */
static char  ngx_http_mcp_redis_update_lua[] =
    "if redis.call('SET',KEYS[1],ARGV[1],'PX',ARGV[2],'XX') then "
    "redis.call('PUBLISH',KEYS[2],ARGV[3]) return 1 end return 0";

/*
 * KEYS: the session, the channel; ARGV: principal, message.  A session of
 * format 2 or 3 answers its revision and creation time (9 bytes), one of
 * format 1 answers 1.
 */
static char  ngx_http_mcp_redis_delete_lua[] =
    "local v=redis.call('GET',KEYS[1]) "
    "if not v or string.sub(v,5,36)~=ARGV[1] then return 0 end "
    "redis.call('DEL',KEYS[1]) redis.call('PUBLISH',KEYS[2],ARGV[2]) "
    "if string.byte(v,1)>=2 then "
    "return string.sub(v,2,2)..string.sub(v,41,48) end "
    "return 1";

/* this worker's stores that carry cancellations */
static ngx_array_t  *ngx_http_mcp_redis_buses;


char *
ngx_http_mcp_session_store_conf(ngx_conf_t *cf, ngx_str_t *value,
    ngx_uint_t n, ngx_http_mcp_session_redis_conf_t **conf)
{
    ngx_str_t                           s;
    ngx_uint_t                          i;
    ngx_http_mcp_session_redis_conf_t  *rc;

    if (n == 1 && value[0].len == 3
        && ngx_strncmp(value[0].data, "shm", 3) == 0)
    {
        *conf = NULL;
        return NGX_CONF_OK;
    }

    rc = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_session_redis_conf_t));
    if (rc == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_str_set(&rc->prefix, "mcp:");
    rc->near = 2000;
    rc->timeout = 1000;
    rc->file = cf->conf_file->file.name.data;
    rc->line = cf->conf_file->line;

    for (i = 0; i < n; i++) {
        s = value[i];

        if (ngx_strncmp(s.data, "redis=", 6) == 0 && s.len > 6) {
            rc->upstream_name.data = s.data + 6;
            rc->upstream_name.len = s.len - 6;

        } else if (ngx_strncmp(s.data, "prefix=", 7) == 0) {
            rc->prefix.data = s.data + 7;
            rc->prefix.len = s.len - 7;

        } else if (ngx_strcmp(s.data, "fail=open") == 0) {
            rc->fail_open = 1;

        } else if (ngx_strcmp(s.data, "fail=closed") == 0) {
            rc->fail_open = 0;

        } else if (ngx_strncmp(s.data, "near=", 5) == 0) {
            s.data += 5;
            s.len -= 5;
            rc->near = ngx_parse_time(&s, 0);
            if (rc->near == (ngx_msec_t) NGX_ERROR) {
                return "has an invalid \"near=\"";
            }

        } else if (ngx_strncmp(s.data, "timeout=", 8) == 0) {
            s.data += 8;
            s.len -= 8;
            rc->timeout = ngx_parse_time(&s, 0);
            if (rc->timeout == (ngx_msec_t) NGX_ERROR || rc->timeout == 0) {
                return "has an invalid \"timeout=\"";
            }

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\" of "
                               "\"mcp_session_store\"", &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    if (rc->upstream_name.len == 0) {
        return "needs \"shm\" or \"redis=UPSTREAM\"";
    }

    *conf = rc;

    return NGX_CONF_OK;
}


ngx_http_mcp_store_ref_t *
ngx_http_mcp_session_redis_store(ngx_conf_t *cf,
    ngx_http_mcp_session_redis_conf_t *conf, ngx_shm_zone_t *zone)
{
    ngx_uint_t                     i;
    ngx_http_mcp_main_conf_t      *mmcf;
    ngx_http_mcp_store_ref_t     **ref;
    ngx_http_mcp_redis_store_t    *st;
    ngx_http_mcp_redis_upstream_t *u;

    /* one store per configuration line and zone */

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_module);
    ref = mmcf->stores.elts;

    for (i = 0; i < mmcf->stores.nelts; i++) {
        st = (ngx_http_mcp_redis_store_t *) ref[i];

        if (ref[i]->store == &ngx_http_mcp_session_redis
            && st->conf == conf && st->zone == zone)
        {
            return ref[i];
        }
    }

    u = ngx_http_mcp_redis_upstream(cf, &conf->upstream_name);

    if (u == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "mcp_session_store: no upstream \"%V\" with "
                      "\"mcp_redis_server\" in %s:%ui",
                      &conf->upstream_name, conf->file, conf->line);
        return NULL;
    }

    st = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_redis_store_t));
    if (st == NULL) {
        return NULL;
    }

    st->ref.store = &ngx_http_mcp_session_redis;
    st->ref.data = st;
    st->conf = conf;
    st->upstream = u;
    st->zone = zone;

    st->channel.len = conf->prefix.len + sizeof("bus") - 1;
    st->channel.data = ngx_pnalloc(cf->pool, st->channel.len);
    if (st->channel.data == NULL) {
        return NULL;
    }

    ngx_memcpy(ngx_cpymem(st->channel.data, conf->prefix.data,
                          conf->prefix.len),
               "bus", 3);

    return &st->ref;
}


/* an operation, with the digest of its id */

static ngx_http_mcp_redis_op_t *
ngx_http_mcp_session_redis_op(ngx_http_mcp_store_ref_t *ref, ngx_uint_t op,
    ngx_str_t *id, ngx_pool_t *pool, ngx_http_mcp_store_done_pt done,
    void *data)
{
    ngx_pool_cleanup_t       *cln;
    ngx_http_mcp_redis_op_t  *o;

    o = ngx_pcalloc(pool, sizeof(ngx_http_mcp_redis_op_t));
    cln = ngx_pool_cleanup_add(pool, 0);

    if (o == NULL || cln == NULL) {
        return NULL;
    }

    o->st = ref->data;
    o->op = op;
    o->pool = pool;
    o->done = done;
    o->data = data;

    if (id) {
        o->id = *id;
        ngx_http_mcp_session_digest(id, o->key);
    }

    o->cmd.handler = ngx_http_mcp_session_redis_reply;
    o->cmd.data = o;
    o->cmd.log = pool->log;
    o->cmd.timeout = o->st->conf->timeout;

    cln->handler = ngx_http_mcp_session_redis_cleanup;
    cln->data = o;

    return o;
}


static ngx_int_t
ngx_http_mcp_session_redis_lookup(ngx_http_mcp_store_ref_t *ref,
    ngx_str_t *id, ngx_msec_t timeout, ngx_pool_t *pool,
    ngx_http_mcp_session_t *s, ngx_http_mcp_store_done_pt done, void *data)
{
    u_char                       ttl[NGX_INT_T_LEN];
    ngx_str_t                    key;
    ngx_msec_t                   fresh;
    const char                  *argv[4];
    size_t                       argvlen[4];
    ngx_http_mcp_redis_op_t     *o;
    ngx_http_mcp_redis_store_t  *st;

    if (!ngx_http_mcp_session_id_valid(id)) {
        return NGX_DECLINED;
    }

    o = ngx_http_mcp_session_redis_op(ref, NGX_HTTP_MCP_REDIS_LOOKUP, id,
                                      pool, done, data);
    if (o == NULL) {
        return NGX_ERROR;
    }

    st = o->st;
    o->s = s;

    /* a near copy younger than `near` and than this worker's channel */

    fresh = ngx_min(st->conf->near, ngx_current_msec - st->heard);

    key.data = o->key;
    key.len = NGX_HTTP_MCP_SESSION_ID_LEN;

    if (fresh
        && ngx_http_mcp_session_shm_get(st->zone, &key, fresh, 0, pool, s)
           == NGX_OK)
    {
        ngx_memcpy(s->id, id->data, NGX_HTTP_MCP_SESSION_ID_LEN);
        s->timeout = timeout;
        return NGX_OK;
    }

    s->timeout = timeout;

    if (ngx_http_mcp_session_redis_key(o, 0, &argv[1], &argvlen[1])
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    argv[0] = "GETEX";
    argvlen[0] = 5;
    argv[2] = "PX";
    argvlen[2] = 2;
    argv[3] = (char *) ttl;
    argvlen[3] = ngx_sprintf(ttl, "%M", timeout) - ttl;

    return ngx_http_mcp_session_redis_send(o, 4, argv, argvlen);
}


static ngx_int_t
ngx_http_mcp_session_redis_create(ngx_http_mcp_store_ref_t *ref,
    ngx_http_mcp_session_t *s, ngx_pool_t *pool,
    ngx_http_mcp_store_done_pt done, void *data)
{
    u_char                       ttl[NGX_INT_T_LEN];
    ngx_str_t                    id, value;
    const char                  *argv[6];
    size_t                       argvlen[6];
    ngx_http_mcp_redis_op_t     *o;

    if (ngx_http_mcp_session_new_id(s->id, pool->log) != NGX_OK) {
        return NGX_ERROR;
    }

    id.data = s->id;
    id.len = NGX_HTTP_MCP_SESSION_ID_LEN;

    s->created = ngx_http_mcp_session_now();

    o = ngx_http_mcp_session_redis_op(ref, NGX_HTTP_MCP_REDIS_CREATE, &id,
                                      pool, done, data);
    if (o == NULL) {
        return NGX_ERROR;
    }

    o->s = s;

    if (ngx_http_mcp_session_redis_encode(pool, s, &value) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_mcp_session_redis_key(o, 0, &argv[1], &argvlen[1])
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    argv[0] = "SET";
    argvlen[0] = 3;
    argv[2] = (char *) value.data;
    argvlen[2] = value.len;
    argv[3] = "PX";
    argvlen[3] = 2;
    argv[4] = (char *) ttl;
    argvlen[4] = ngx_sprintf(ttl, "%M", s->timeout) - ttl;
    argv[5] = "NX";
    argvlen[5] = 2;

    return ngx_http_mcp_session_redis_send(o, 6, argv, argvlen);
}


static ngx_int_t
ngx_http_mcp_session_redis_update(ngx_http_mcp_store_ref_t *ref,
    ngx_http_mcp_session_t *s, ngx_pool_t *pool,
    ngx_http_mcp_store_done_pt done, void *data)
{
    u_char                      *p, ttl[NGX_INT_T_LEN];
    ngx_str_t                    id, value;
    const char                  *argv[8];
    size_t                       argvlen[8];
    ngx_http_mcp_redis_op_t     *o;
    ngx_http_mcp_redis_store_t  *st;

    id.data = s->id;
    id.len = NGX_HTTP_MCP_SESSION_ID_LEN;

    o = ngx_http_mcp_session_redis_op(ref, NGX_HTTP_MCP_REDIS_UPDATE, &id,
                                      pool, done, data);
    if (o == NULL) {
        return NGX_ERROR;
    }

    st = o->st;
    o->s = s;

    if (ngx_http_mcp_session_redis_encode(pool, s, &value) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_mcp_session_redis_key(o, 2 + NGX_HTTP_MCP_SESSION_ID_LEN,
                                       &argv[3], &argvlen[3])
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    p = (u_char *) argv[3] + argvlen[3];

    argv[0] = "EVAL";
    argvlen[0] = 4;
    argv[1] = ngx_http_mcp_redis_update_lua;
    argvlen[1] = sizeof(ngx_http_mcp_redis_update_lua) - 1;
    argv[2] = "2";
    argvlen[2] = 1;
    argv[4] = (char *) st->channel.data;
    argvlen[4] = st->channel.len;
    argv[5] = (char *) value.data;
    argvlen[5] = value.len;
    argv[6] = (char *) ttl;
    argvlen[6] = ngx_sprintf(ttl, "%M", s->timeout) - ttl;
    argv[7] = (char *) p;
    p = ngx_cpymem(p, "u ", 2);
    p = ngx_cpymem(p, o->key, NGX_HTTP_MCP_SESSION_ID_LEN);
    argvlen[7] = p - (u_char *) argv[7];

    return ngx_http_mcp_session_redis_send(o, 8, argv, argvlen);
}


static ngx_int_t
ngx_http_mcp_session_redis_delete(ngx_http_mcp_store_ref_t *ref,
    ngx_str_t *id, u_char *principal, ngx_pool_t *pool,
    ngx_http_mcp_store_done_pt done, void *data)
{
    u_char                      *p;
    const char                  *argv[7];
    size_t                       argvlen[7];
    ngx_http_mcp_redis_op_t     *o;
    ngx_http_mcp_redis_store_t  *st;

    if (!ngx_http_mcp_session_id_valid(id)) {
        return NGX_DECLINED;
    }

    o = ngx_http_mcp_session_redis_op(ref, NGX_HTTP_MCP_REDIS_DELETE, id,
                                      pool, done, data);
    if (o == NULL) {
        return NGX_ERROR;
    }

    st = o->st;
    o->principal = principal;

    if (ngx_http_mcp_session_redis_key(o, 2 + NGX_HTTP_MCP_SESSION_ID_LEN,
                                       &argv[3], &argvlen[3])
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    p = (u_char *) argv[3] + argvlen[3];

    argv[0] = "EVAL";
    argvlen[0] = 4;
    argv[1] = ngx_http_mcp_redis_delete_lua;
    argvlen[1] = sizeof(ngx_http_mcp_redis_delete_lua) - 1;
    argv[2] = "2";
    argvlen[2] = 1;
    argv[4] = (char *) st->channel.data;
    argvlen[4] = st->channel.len;
    argv[5] = (char *) principal;
    argvlen[5] = NGX_HTTP_MCP_PRINCIPAL_LEN;
    argv[6] = (char *) p;
    p = ngx_cpymem(p, "d ", 2);
    p = ngx_cpymem(p, o->key, NGX_HTTP_MCP_SESSION_ID_LEN);
    argvlen[6] = p - (u_char *) argv[6];

    return ngx_http_mcp_session_redis_send(o, 7, argv, argvlen);
}


/* PREFIX "session:" DIGEST, with room for extra bytes after it */

static ngx_int_t
ngx_http_mcp_session_redis_key(ngx_http_mcp_redis_op_t *o, size_t extra,
    const char **argv, size_t *argvlen)
{
    u_char     *p;
    ngx_str_t  *prefix;

    prefix = &o->st->conf->prefix;

    p = ngx_pnalloc(o->pool, prefix->len + sizeof("session:") - 1
                             + NGX_HTTP_MCP_SESSION_ID_LEN + extra);
    if (p == NULL) {
        return NGX_ERROR;
    }

    *argv = (char *) p;

    p = ngx_cpymem(p, prefix->data, prefix->len);
    p = ngx_cpymem(p, "session:", sizeof("session:") - 1);
    p = ngx_cpymem(p, o->key, NGX_HTTP_MCP_SESSION_ID_LEN);

    *argvlen = p - (u_char *) *argv;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_session_redis_send(ngx_http_mcp_redis_op_t *o, int argc,
    const char **argv, const size_t *argvlen)
{
    ngx_int_t  rc;

    rc = ngx_http_mcp_redis_send(o->st->upstream, &o->cmd, argc, argv,
                                 argvlen);

    if (rc == NGX_DECLINED) {
        return ngx_http_mcp_session_redis_unavailable(o, &o->cmd.error);
    }

    return rc;
}


static void
ngx_http_mcp_session_redis_reply(ngx_http_mcp_redis_cmd_t *cmd,
    redisReply *reply, ngx_str_t *error)
{
    ngx_int_t                 rc;
    ngx_http_mcp_redis_op_t  *o = cmd->data;

    if (reply == NULL) {
        rc = ngx_http_mcp_session_redis_unavailable(o, error);

    } else if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, o->cmd.log, 0,
                      "mcp: Redis session store \"%V\" answered: %*s",
                      &o->st->conf->upstream_name,
                      (size_t) ngx_min(reply->len, 200), reply->str);
        rc = ngx_http_mcp_session_redis_unavailable(o, NULL);

    } else {
        rc = ngx_http_mcp_session_redis_answer(o, reply);
    }

    o->done(o->data, rc);
}


/* the reply of each operation */

static ngx_int_t
ngx_http_mcp_session_redis_answer(ngx_http_mcp_redis_op_t *o,
    redisReply *reply)
{
    ngx_str_t  key;

    key.data = o->key;
    key.len = NGX_HTTP_MCP_SESSION_ID_LEN;

    switch (o->op) {

    case NGX_HTTP_MCP_REDIS_LOOKUP:

        if (reply->type == REDIS_REPLY_NIL) {
            (void) ngx_http_mcp_session_shm_remove(o->st->zone, &key, NULL);
            return NGX_DECLINED;
        }

        if (ngx_http_mcp_session_redis_decode(o, reply) != NGX_OK) {
            return NGX_DECLINED;
        }

        ngx_http_mcp_session_redis_near(o);
        ngx_memcpy(o->s->id, o->id.data, NGX_HTTP_MCP_SESSION_ID_LEN);

        return NGX_OK;

    case NGX_HTTP_MCP_REDIS_CREATE:

        if (reply->type != REDIS_REPLY_STATUS) {
            /* NX refused: an id drawn twice, which does not happen */
            return NGX_ERROR;
        }

        ngx_http_mcp_session_redis_near(o);

        return NGX_OK;

    case NGX_HTTP_MCP_REDIS_UPDATE:

        if (reply->type != REDIS_REPLY_INTEGER || reply->integer != 1) {
            (void) ngx_http_mcp_session_shm_remove(o->st->zone, &key, NULL);
            return NGX_DECLINED;
        }

        ngx_http_mcp_session_redis_near(o);

        return NGX_OK;

    default: /* NGX_HTTP_MCP_REDIS_DELETE */

        if (reply->type == REDIS_REPLY_STRING && reply->len == 9) {
            ngx_http_mcp_session_redis_ended(o, (u_char *) reply->str);

        } else if (reply->type != REDIS_REPLY_INTEGER
                   || reply->integer != 1)
        {
            return NGX_DECLINED;
        }

        (void) ngx_http_mcp_session_shm_remove(o->st->zone, &key, NULL);

        return NGX_OK;
    }
}


/*
 * a session deleted: its duration, from its creation time in Redis (p:
 * the revision's byte, then the time's 8)
 */

static void
ngx_http_mcp_session_redis_ended(ngx_http_mcp_redis_op_t *o, u_char *p)
{
    uint64_t    created, now;
    ngx_uint_t  i;

    created = 0;

    for (i = 1; i < 9; i++) {
        created = (created << 8) | p[i];
    }

    if (created == 0) {
        return;                  /* written before format 2: not known */
    }

    now = ngx_http_mcp_session_now();

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, o->cmd.log, 0,
                   "mcp Redis store: a session of %uL ms ended",
                   (now > created) ? now - created : 0);

    ngx_http_mcp_session_ended(NGX_HTTP_MCP_SESSION_DELETED, p[0],
                               (now > created)
                               ? (ngx_msec_t) (now - created) : 0);
}


/* Redis cannot answer: fail=closed says so, fail=open does without */

static ngx_int_t
ngx_http_mcp_session_redis_unavailable(ngx_http_mcp_redis_op_t *o,
    ngx_str_t *why)
{
    ngx_int_t                    rc;
    ngx_str_t                    key;
    ngx_http_mcp_redis_store_t  *st;

    st = o->st;

    ngx_log_error(NGX_LOG_WARN, o->cmd.log, 0,
                  "mcp: Redis session store \"%V\" is unavailable (%V), "
                  "%s", &st->conf->upstream_name,
                  why ? why : &st->conf->upstream_name,
                  st->conf->fail_open ? "serving from shared memory "
                                        "(fail=open)"
                                      : "refusing (fail=closed)");

    if (!st->conf->fail_open) {
        return NGX_BUSY;
    }

    key.data = o->key;
    key.len = NGX_HTTP_MCP_SESSION_ID_LEN;

    switch (o->op) {

    case NGX_HTTP_MCP_REDIS_LOOKUP:
        rc = ngx_http_mcp_session_shm_get(st->zone, &key, o->s->timeout, 1,
                                          o->pool, o->s);
        if (rc == NGX_OK) {
            ngx_memcpy(o->s->id, o->id.data, NGX_HTTP_MCP_SESSION_ID_LEN);
        }

        return rc;

    case NGX_HTTP_MCP_REDIS_CREATE:
    case NGX_HTTP_MCP_REDIS_UPDATE:
        return ngx_http_mcp_session_shm_put(st->zone, &key, o->s,
                                            o->s->timeout, o->cmd.log);

    default: /* NGX_HTTP_MCP_REDIS_DELETE */
        return ngx_http_mcp_session_shm_remove(st->zone, &key, o->principal);
    }
}


/* the near copy of o->s, under the digest, its age counted from now */

static void
ngx_http_mcp_session_redis_near(ngx_http_mcp_redis_op_t *o)
{
    ngx_str_t  key;

    if (o->st->conf->near == 0 && !o->st->conf->fail_open) {
        return;
    }

    key.data = o->key;
    key.len = NGX_HTTP_MCP_SESSION_ID_LEN;

    (void) ngx_http_mcp_session_shm_put(o->st->zone, &key, o->s,
                                        o->s->timeout, o->cmd.log);
}


static ngx_int_t
ngx_http_mcp_session_redis_encode(ngx_pool_t *pool, ngx_http_mcp_session_t *s,
    ngx_str_t *out)
{
    u_char                    *p;
    ngx_str_t                  caps, info;
    ngx_uint_t                 i, j;
    ngx_http_mcp_redis_rec_t  *rec;

    caps = s->client_capabilities;
    info = s->client_info;

    if (caps.len > NGX_HTTP_MCP_REDIS_TEXT_MAX) {
        ngx_str_set(&caps, "{}");
    }

    if (info.len > NGX_HTTP_MCP_REDIS_TEXT_MAX) {
        ngx_str_set(&info, "{}");
    }

    out->len = sizeof(ngx_http_mcp_redis_rec_t) + caps.len + info.len;
    out->data = ngx_pnalloc(pool, out->len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    rec = (ngx_http_mcp_redis_rec_t *) out->data;

    rec->format = NGX_HTTP_MCP_REDIS_REC_VERSION;
    rec->version = (u_char) s->version;
    rec->log_level = (u_char) s->log_level;
    rec->initialized = s->initialized;
    ngx_memcpy(rec->principal, s->principal, NGX_HTTP_MCP_PRINCIPAL_LEN);
    rec->caps_len[0] = (u_char) (caps.len >> 8);
    rec->caps_len[1] = (u_char) caps.len;
    rec->info_len[0] = (u_char) (info.len >> 8);
    rec->info_len[1] = (u_char) info.len;

    for (i = 0; i < 8; i++) {
        rec->created[i] = (u_char) (s->created >> (56 - 8 * i));
    }

    for (j = 0; j < NGX_HTTP_MCP_SESSION_SUBS; j++) {
        for (i = 0; i < 8; i++) {
            rec->subs[j][i] = (u_char) (s->subs[j] >> (56 - 8 * i));
        }
    }

    p = out->data + sizeof(ngx_http_mcp_redis_rec_t);
    p = ngx_cpymem(p, caps.data, caps.len);
    ngx_memcpy(p, info.data, info.len);

    return NGX_OK;
}


/* a value read back is input like any other: checked whole */

static ngx_int_t
ngx_http_mcp_session_redis_decode(ngx_http_mcp_redis_op_t *o,
    redisReply *reply)
{
    u_char                    *p;
    size_t                     caps, info, head;
    uint64_t                   created;
    ngx_uint_t                 i, j;
    ngx_http_mcp_session_t    *s;
    ngx_http_mcp_redis_rec_t  *rec;

    s = o->s;
    rec = (ngx_http_mcp_redis_rec_t *) reply->str;

    if (reply->type != REDIS_REPLY_STRING
        || reply->len < NGX_HTTP_MCP_REDIS_REC_V1_LEN)
    {
        goto invalid;
    }

    /* format 1 ends before the creation time */

    head = (rec->format == 1) ? NGX_HTTP_MCP_REDIS_REC_V1_LEN
           : (rec->format == 2) ? NGX_HTTP_MCP_REDIS_REC_V2_LEN
           : sizeof(ngx_http_mcp_redis_rec_t);

    caps = (rec->caps_len[0] << 8) | rec->caps_len[1];
    info = (rec->info_len[0] << 8) | rec->info_len[1];

    if (rec->format < 1 || rec->format > NGX_HTTP_MCP_REDIS_REC_VERSION
        || rec->version > NGX_HTTP_MCP_V_LATEST_LEGACY
        || rec->log_level > NGX_HTTP_MCP_LOG_NONE
        || rec->initialized > 1
        || caps > NGX_HTTP_MCP_REDIS_TEXT_MAX
        || info > NGX_HTTP_MCP_REDIS_TEXT_MAX
        || reply->len != head + caps + info)
    {
        goto invalid;
    }

    created = 0;

    if (rec->format >= 2) {
        for (i = 0; i < 8; i++) {
            created = (created << 8) | rec->created[i];
        }
    }

    ngx_memzero(s->subs, sizeof(s->subs));

    if (rec->format >= 3) {
        for (j = 0; j < NGX_HTTP_MCP_SESSION_SUBS; j++) {
            for (i = 0; i < 8; i++) {
                s->subs[j] = (s->subs[j] << 8) | rec->subs[j][i];
            }
        }
    }

    p = ngx_pnalloc(o->pool, caps + info);
    if (p == NULL && caps + info) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, reply->str + head, caps + info);

    s->version = rec->version;
    s->log_level = rec->log_level;
    s->initialized = rec->initialized;
    s->created = created;
    ngx_memcpy(s->principal, rec->principal, NGX_HTTP_MCP_PRINCIPAL_LEN);
    s->client_capabilities.data = p;
    s->client_capabilities.len = caps;
    s->client_info.data = p + caps;
    s->client_info.len = info;

    return NGX_OK;

invalid:

    ngx_log_error(NGX_LOG_ERR, o->cmd.log, 0,
                  "mcp: Redis session store \"%V\" holds a session value "
                  "this module did not write, taken as unknown",
                  &o->st->conf->upstream_name);

    return NGX_DECLINED;
}


/* the caller's pool goes: an answer still due is dropped */

static void
ngx_http_mcp_session_redis_cleanup(void *data)
{
    ngx_http_mcp_redis_op_t  *o = data;

    ngx_http_mcp_redis_cancel(&o->cmd);
}


static ngx_int_t
ngx_http_mcp_session_redis_check(ngx_http_mcp_store_ref_t *ref,
    ngx_pool_t *pool, ngx_str_t *name, ngx_str_t *detail)
{
    u_char                      *p;
    ngx_int_t                    rc;
    ngx_http_mcp_redis_store_t  *st = ref->data;

    name->data = ngx_pnalloc(pool, st->conf->upstream_name.len + 64);
    if (name->data == NULL) {
        return NGX_ERROR;
    }

    name->len = ngx_sprintf(name->data, "session store \"%V\" (redis, %s)",
                            &st->conf->upstream_name,
                            st->conf->fail_open ? "fail=open"
                                                : "fail=closed")
                - name->data;

    rc = ngx_http_mcp_redis_check(st->upstream, pool, detail);

    if (rc != NGX_DECLINED || !st->conf->fail_open) {
        return rc;
    }

    /* it serves without Redis: ready, and says how */

    p = ngx_pnalloc(pool, detail->len + 64);
    if (p == NULL) {
        return NGX_ERROR;
    }

    detail->len = ngx_sprintf(p, "%V; serving from shared memory", detail)
                  - p;
    detail->data = p;

    return NGX_OK;
}


void *
ngx_http_mcp_session_redis_where(ngx_http_mcp_store_ref_t *ref,
    ngx_str_t *prefix, ngx_msec_t *timeout)
{
    ngx_http_mcp_redis_store_t  *st;

    if (ref == NULL || ref->store != &ngx_http_mcp_session_redis) {
        return NULL;
    }

    st = ref->data;

    *prefix = st->conf->prefix;
    *timeout = st->conf->timeout;

    return st->upstream;
}


ngx_int_t
ngx_http_mcp_session_redis_init_process(ngx_array_t *refs)
{
    ngx_uint_t                    i, j;
    ngx_http_mcp_store_ref_t    **ref;
    ngx_http_mcp_redis_store_t   *st, **bus;

    ref = refs->elts;

    for (i = 0; i < refs->nelts; i++) {

        if (ref[i]->store != &ngx_http_mcp_session_redis) {
            continue;
        }

        st = ref[i]->data;

        /* one listener per upstream and channel */

        bus = ngx_http_mcp_redis_buses ? ngx_http_mcp_redis_buses->elts
                                       : NULL;

        for (j = 0; bus && j < ngx_http_mcp_redis_buses->nelts; j++) {
            if (bus[j]->upstream == st->upstream
                && bus[j]->channel.len == st->channel.len
                && ngx_memcmp(bus[j]->channel.data, st->channel.data,
                              st->channel.len)
                   == 0)
            {
                break;
            }
        }

        if (ngx_http_mcp_redis_subscribe(st->upstream, &st->channel,
                                         ngx_http_mcp_session_redis_heard,
                                         st)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (bus && j < ngx_http_mcp_redis_buses->nelts) {
            continue;
        }

        if (ngx_http_mcp_redis_buses == NULL) {
            ngx_http_mcp_redis_buses = ngx_array_create(ngx_cycle->pool, 2,
                                       sizeof(ngx_http_mcp_redis_store_t *));
            if (ngx_http_mcp_redis_buses == NULL) {
                return NGX_ERROR;
            }
        }

        bus = ngx_array_push(ngx_http_mcp_redis_buses);
        if (bus == NULL) {
            return NGX_ERROR;
        }

        *bus = st;
    }

    if (ngx_http_mcp_redis_buses) {
        ngx_http_mcp_mailbox_remote(ngx_http_mcp_session_redis_post);
    }

    return NGX_OK;
}


/*
 * what the channel says: "d KEY" deleted, "u KEY" updated (the near copy
 * goes); letters of the workers' mailbox: "c KEY ID" cancel the call ID of
 * that session, "a KEY ID\nBODY" and "n KEY ID\nBODY" (KEY "-": no
 * session); channel NULL: the channel was (re)made, and nothing heard
 * before can be trusted
 */

static void
ngx_http_mcp_session_redis_heard(ngx_str_t *channel, ngx_str_t *message,
    void *data)
{
    u_char                      *p, *last, *nl;
    ngx_str_t                    key;
    ngx_http_mcp_letter_t        letter;
    ngx_http_mcp_redis_store_t  *st = data;

    if (channel == NULL) {
        st->heard = ngx_current_msec;
        return;
    }

    p = message->data;
    last = p + message->len;

    if (message->len < 3 || p[1] != ' ') {
        return;
    }

    ngx_memzero(&letter, sizeof(ngx_http_mcp_letter_t));
    letter.kind = p[0];

    if (p[0] != 'd' && p[0] != 'u' && p[2] == '-') {
        p += 3;

    } else {
        if (message->len < 2 + NGX_HTTP_MCP_SESSION_ID_LEN) {
            return;
        }

        key.data = p + 2;
        key.len = NGX_HTTP_MCP_SESSION_ID_LEN;

        if (!ngx_http_mcp_session_id_valid(&key)) {
            return;
        }

        if (p[0] == 'd' || p[0] == 'u') {
            (void) ngx_http_mcp_session_shm_remove(st->zone, &key, NULL);
            return;
        }

        letter.session = key;
        p += 2 + NGX_HTTP_MCP_SESSION_ID_LEN;
    }

    if (p == last || *p++ != ' ') {
        return;
    }

    letter.id.data = p;

    if (letter.kind == NGX_HTTP_MCP_LETTER_CANCEL) {
        letter.id.len = last - p;

    } else {
        nl = ngx_strlchr(p, last, '\n');
        if (nl == NULL) {
            return;
        }

        letter.id.len = nl - p;
        letter.body.data = nl + 1;
        letter.body.len = last - nl - 1;
    }

    ngx_http_mcp_mailbox_deliver(&letter);
}


/* a letter for the workers of every replica: "K KEY ID[\nBODY]" */

static ngx_int_t
ngx_http_mcp_session_redis_post(ngx_http_mcp_letter_t *letter)
{
    u_char                       *p;
    ngx_int_t                     rc;
    ngx_uint_t                    i;
    const char                   *argv[3];
    size_t                        argvlen[3];
    ngx_http_mcp_redis_cmd_t     *cmd;
    ngx_http_mcp_redis_store_t  **bus;

    bus = ngx_http_mcp_redis_buses->elts;
    rc = NGX_DECLINED;

    /*
     * a cancellation goes through every channel; other letters through the
     * first, which every worker of this configuration listens to: they
     * must be heard once
     */

    for (i = 0; i < ngx_http_mcp_redis_buses->nelts; i++) {

        if (i > 0 && letter->kind != NGX_HTTP_MCP_LETTER_CANCEL) {
            break;
        }

        /* nobody waits for the reply: the command frees itself */

        cmd = ngx_alloc(sizeof(ngx_http_mcp_redis_cmd_t) + 5
                        + NGX_HTTP_MCP_SESSION_ID_LEN + letter->id.len
                        + letter->body.len, ngx_cycle->log);
        if (cmd == NULL) {
            return NGX_DECLINED;
        }

        ngx_memzero(cmd, sizeof(ngx_http_mcp_redis_cmd_t));
        cmd->handler = ngx_http_mcp_session_redis_sent;
        cmd->log = ngx_cycle->log;
        cmd->timeout = bus[i]->conf->timeout;

        p = (u_char *) (cmd + 1);
        argv[2] = (char *) p;
        *p++ = letter->kind;
        *p++ = ' ';

        if (letter->session.len) {
            p = ngx_cpymem(p, letter->session.data, letter->session.len);

        } else {
            *p++ = '-';
        }

        *p++ = ' ';
        p = ngx_cpymem(p, letter->id.data, letter->id.len);

        if (letter->kind != NGX_HTTP_MCP_LETTER_CANCEL) {
            *p++ = '\n';
            p = ngx_cpymem(p, letter->body.data, letter->body.len);
        }

        argvlen[2] = p - (u_char *) argv[2];

        argv[0] = "PUBLISH";
        argvlen[0] = 7;
        argv[1] = (char *) bus[i]->channel.data;
        argvlen[1] = bus[i]->channel.len;

        if (ngx_http_mcp_redis_send(bus[i]->upstream, cmd, 3, argv, argvlen)
            != NGX_AGAIN)
        {
            ngx_free(cmd);
            continue;
        }

        rc = NGX_OK;
    }

    return rc;
}


static void
ngx_http_mcp_session_redis_sent(ngx_http_mcp_redis_cmd_t *cmd,
    redisReply *reply, ngx_str_t *error)
{
    ngx_free(cmd);
}
