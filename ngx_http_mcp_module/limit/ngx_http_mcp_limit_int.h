
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_LIMIT_INT_H_INCLUDED_
#define _NGX_HTTP_MCP_LIMIT_INT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "limit/ngx_http_mcp_limit.h"
#include "upstream/ngx_http_mcp_redis.h"
#include "backend/ngx_http_mcp_backend.h"


/*
 * Internal to limit/: the zones, the uses of a zone (mcp_limit, and the
 * limit and quota lines of entries), and the steps of a decision.
 *
 * A rate zone is nginx's limit_req, in the same units: a leaky bucket per
 * key whose "excess" is in thousandths of a request and drains at `rate`
 * thousandths a second; a request passes at once while the excess stays
 * at or below the use's delay, waits while it is at or below its burst,
 * and is refused above.  A quota zone counts calls per key in windows of
 * a minute, an hour or a day, aligned to the epoch.
 */


#define NGX_HTTP_MCP_LIMIT_RATE     0
#define NGX_HTTP_MCP_LIMIT_QUOTA    1

#define NGX_HTTP_MCP_LIMIT_KEY_LEN  16     /* the hash of key and entry */
#define NGX_HTTP_MCP_LIMIT_LEASE    20     /* ms: a Redis lease's period */


/* a key's state in a zone */

typedef struct {
    ngx_rbtree_node_t               node;
    ngx_queue_t                     queue;        /* least recently used
                                                     last */
    ngx_msec_t                      last;         /* rate: excess is as of */
    ngx_int_t                       excess;       /* rate: thousandths */
    ngx_uint_t                      tokens;       /* rate, Redis: leased */
    ngx_msec_t                      expires;      /* ... usable until */
    ngx_msec_t                      asking;       /* a lease is asked for
                                                     since, or 0 */
    ngx_msec_t                      slot;         /* Redis: this period */
    ngx_uint_t                      demand;       /* ... requests in it */
    ngx_uint_t                      demand_prev;  /* ... in the one before */
    time_t                          window;       /* quota: its number */
    time_t                          ends;         /* ... and its end */
    ngx_uint_t                      count;        /* quota: calls in it */
    u_char                          key[NGX_HTTP_MCP_LIMIT_KEY_LEN];
} ngx_http_mcp_limit_node_t;


typedef struct {
    ngx_rbtree_t                    rbtree;
    ngx_rbtree_node_t               sentinel;
    ngx_queue_t                     queue;
    ngx_atomic_t                    evicted;      /* since the last log */
    time_t                          logged;       /* when it was logged */
    u_char                          secret[16];   /* the hash's key */
} ngx_http_mcp_limit_shctx_t;


typedef struct {
    ngx_str_t                       name;
    ngx_uint_t                      type;         /* RATE, QUOTA */
    ngx_http_complex_value_t        key;
    ngx_int_t                       variable;     /* the key is this one
                                                     variable; NGX_ERROR:
                                                     more */
    ngx_uint_t                      rate;         /* thousandths a second */
    ngx_uint_t                      lease;        /* Redis: tokens asked */

    ngx_http_mcp_redis_upstream_t  *redis;        /* NULL: this host only */
    ngx_str_t                       prefix;       /* of its Redis keys */
    u_char                         *file;         /* where it is defined */
    ngx_uint_t                      line;
    unsigned                        fail_open:1;

    ngx_shm_zone_t                 *shm_zone;
    ngx_http_mcp_limit_shctx_t     *sh;
    ngx_slab_pool_t                *shpool;
} ngx_http_mcp_limit_zone_t;


/* one mcp_limit line, or the limit or quota line of an entry */

typedef struct {
    ngx_shm_zone_t                 *shm_zone;
    ngx_uint_t                      type;         /* what it must be */
    ngx_uint_t                      burst;        /* thousandths */
    ngx_uint_t                      delay;        /* thousandths */
    ngx_uint_t                      quota;        /* calls per window */
    time_t                          period;       /* seconds */
    u_char                         *file;
    ngx_uint_t                      line;
    unsigned                        dry_run:1;
} ngx_http_mcp_limit_use_t;


typedef struct {
    ngx_array_t                    *uses;         /* ngx_http_mcp_limit_use_t *:
                                                     mcp_limit, or NULL */
} ngx_http_mcp_limit_loc_conf_t;


typedef struct {
    ngx_array_t                     zones;        /* ngx_shm_zone_t * */
    ngx_array_t                     uses;         /* every use, for checks:
                                                     ngx_http_mcp_limit_use_t
                                                     * */
} ngx_http_mcp_limit_main_conf_t;


/* the answer of a zone about one key */

typedef struct {
    ngx_int_t                       rc;           /* NGX_OK, NGX_AGAIN
                                                     (delay), NGX_BUSY
                                                     (refused), NGX_ERROR */
    ngx_msec_t                      delay;        /* NGX_AGAIN */
    time_t                          retry_after;  /* NGX_BUSY */
    time_t                          window;       /* quota: its number */
} ngx_http_mcp_limit_answer_t;


/* a Redis question about one key (ngx_http_mcp_limit_redis.c) */

typedef struct ngx_http_mcp_limit_op_s  ngx_http_mcp_limit_op_t;

struct ngx_http_mcp_limit_op_s {
    ngx_http_mcp_redis_cmd_t        cmd;
    ngx_http_mcp_limit_answer_t     answer;       /* rc NGX_DECLINED: Redis
                                                     could not answer */
    ngx_http_mcp_limit_zone_t      *zone;
    ngx_http_mcp_limit_use_t       *use;
    ngx_uint_t                      want;         /* rate: tokens */
    u_char                          key[NGX_HTTP_MCP_LIMIT_KEY_LEN];
    void                          (*handler)(ngx_http_mcp_limit_op_t *op);
    void                           *data;
    unsigned                        pending:1;
};


/* a key's name in zone z (ngx_http_mcp_limit_hash.c); e: an entry's */
void ngx_http_mcp_limit_hash(ngx_http_mcp_limit_zone_t *z, ngx_str_t *value,
    ngx_http_mcp_entry_t *e, u_char *key);

/* the request's worst outcome for $mcp_limit_status, or NULL: none */
ngx_str_t *ngx_http_mcp_limit_status(ngx_http_request_t *r);


/* shared memory (ngx_http_mcp_limit_shm.c) */

ngx_int_t ngx_http_mcp_limit_init_zone(ngx_shm_zone_t *shm_zone, void *data);

/*
 * the bucket of key: what a request now would get; commit: it is counted
 * (and must have been allowed)
 */
void ngx_http_mcp_limit_shm_rate(ngx_http_mcp_limit_zone_t *z,
    ngx_http_mcp_limit_use_t *use, u_char *key, ngx_uint_t commit,
    ngx_http_mcp_limit_answer_t *a);

void ngx_http_mcp_limit_shm_unrate(ngx_http_mcp_limit_zone_t *z,
    u_char *key);

/*
 * a local Redis lease: NGX_OK and one token taken, or NGX_DECLINED and how
 * many tokens to ask Redis for (a lease, or only the one)
 */
ngx_int_t ngx_http_mcp_limit_shm_lease_take(ngx_http_mcp_limit_zone_t *z,
    u_char *key, ngx_uint_t *want);
void ngx_http_mcp_limit_shm_lease_put(ngx_http_mcp_limit_zone_t *z,
    u_char *key, ngx_uint_t tokens);

/* counts a call if the window has room (NGX_OK), or NGX_BUSY */
void ngx_http_mcp_limit_shm_quota(ngx_http_mcp_limit_zone_t *z,
    ngx_http_mcp_limit_use_t *use, u_char *key,
    ngx_http_mcp_limit_answer_t *a);
void ngx_http_mcp_limit_shm_unquota(ngx_http_mcp_limit_zone_t *z,
    u_char *key, time_t window);


/* Redis (ngx_http_mcp_limit_redis.c) */

/*
 * asks Redis about op->key for op->use: NGX_AGAIN and op->handler(op)
 * later, with op->answer; NGX_DECLINED: Redis cannot be asked now
 */
ngx_int_t ngx_http_mcp_limit_redis_ask(ngx_http_mcp_limit_op_t *op,
    ngx_pool_t *pool);
void ngx_http_mcp_limit_redis_unquota(ngx_http_mcp_limit_zone_t *z,
    u_char *key, time_t window, ngx_log_t *log);


extern ngx_module_t  ngx_http_mcp_limit_module;


#endif /* _NGX_HTTP_MCP_LIMIT_INT_H_INCLUDED_ */
