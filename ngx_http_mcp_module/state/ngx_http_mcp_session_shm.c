
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "ngx_http_mcp_module.h"
#include "state/ngx_http_mcp_session_shm.h"


#define NGX_HTTP_MCP_SESSION_TEXT_MAX  8192

/*
 * How far apart the workers' cached clocks (ngx_current_msec) may be: the
 * LRU is in the order of last use only up to that
 */
#define NGX_HTTP_MCP_SESSION_SKEW      1000


/* overlays ngx_rbtree_node_t from its color field, as limit_req does */

typedef struct {
    u_char                      color;
    u_char                      version;
    u_char                      log_level;
    u_char                      initialized;
    u_char                      own;          /* the zone's store's session,
                                                 not a near copy */
    u_short                     caps_len;
    u_short                     info_len;
    ngx_queue_t                 queue;
    ngx_msec_t                  last;
    ngx_msec_t                  timeout;
    uint64_t                    created;      /* ngx_http_mcp_session_now() */
    u_char                      id[NGX_HTTP_MCP_SESSION_ID_LEN];
    u_char                      principal[NGX_HTTP_MCP_PRINCIPAL_LEN];
    uint64_t                    subs[NGX_HTTP_MCP_SESSION_SUBS];
    u_char                      data[1];      /* capabilities, then info */
} ngx_http_mcp_session_node_t;


typedef struct {
    ngx_rbtree_t                rbtree;
    ngx_rbtree_node_t           sentinel;
    ngx_queue_t                 queue;        /* LRU: most recent first */
    ngx_uint_t                  active;       /* own sessions in the tree */
    ngx_msec_t                  min_timeout;  /* the least of any node's */
} ngx_http_mcp_session_shctx_t;


typedef struct {
    ngx_http_mcp_session_shctx_t  *sh;
    ngx_slab_pool_t               *shpool;
    ngx_http_mcp_store_ref_t       ref;       /* the zone as a store */
} ngx_http_mcp_session_zone_t;


static ngx_int_t ngx_http_mcp_session_shm_lookup(ngx_http_mcp_store_ref_t *ref,
    ngx_str_t *id, ngx_msec_t timeout, ngx_pool_t *pool,
    ngx_http_mcp_session_t *s, ngx_http_mcp_store_done_pt done, void *data);
static ngx_int_t ngx_http_mcp_session_shm_create(ngx_http_mcp_store_ref_t *ref,
    ngx_http_mcp_session_t *s, ngx_pool_t *pool,
    ngx_http_mcp_store_done_pt done, void *data);
static ngx_int_t ngx_http_mcp_session_shm_update(ngx_http_mcp_store_ref_t *ref,
    ngx_http_mcp_session_t *s, ngx_pool_t *pool,
    ngx_http_mcp_store_done_pt done, void *data);
static ngx_int_t ngx_http_mcp_session_shm_delete(ngx_http_mcp_store_ref_t *ref,
    ngx_str_t *id, u_char *principal, ngx_pool_t *pool,
    ngx_http_mcp_store_done_pt done, void *data);
static ngx_int_t ngx_http_mcp_session_shm_check(ngx_http_mcp_store_ref_t *ref,
    ngx_pool_t *pool, ngx_str_t *name, ngx_str_t *detail);
static ngx_int_t ngx_http_mcp_session_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_mcp_session_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_http_mcp_session_node_t *ngx_http_mcp_session_find(
    ngx_http_mcp_session_zone_t *z, ngx_str_t *id);
static ngx_int_t ngx_http_mcp_session_insert(ngx_shm_zone_t *zone,
    ngx_str_t *id, ngx_http_mcp_session_t *s, ngx_msec_t timeout,
    ngx_uint_t own, ngx_log_t *log);
static void ngx_http_mcp_session_free(ngx_http_mcp_session_zone_t *z,
    ngx_http_mcp_session_node_t *sn, ngx_uint_t why);
static ngx_int_t ngx_http_mcp_session_random(u_char *p, ngx_log_t *log);
static ngx_rbtree_key_t ngx_http_mcp_session_key(u_char *id);
static ngx_msec_int_t ngx_http_mcp_session_idle(
    ngx_http_mcp_session_node_t *sn);
static ngx_uint_t ngx_http_mcp_session_expire(ngx_http_mcp_session_zone_t *z,
    ngx_uint_t n, ngx_uint_t force);


/* it answers at once, always: done and data are never used */

static ngx_http_mcp_store_t  ngx_http_mcp_session_shm = {
    ngx_string("shm"),
    ngx_http_mcp_session_shm_lookup,
    ngx_http_mcp_session_shm_create,
    ngx_http_mcp_session_shm_update,
    ngx_http_mcp_session_shm_delete,
    ngx_http_mcp_session_shm_check
};


ngx_shm_zone_t *
ngx_http_mcp_session_zone_add(ngx_conf_t *cf, ngx_str_t *name, size_t size)
{
    ngx_shm_zone_t               *shm_zone;
    ngx_http_mcp_session_zone_t  *z;

    shm_zone = ngx_shared_memory_add(cf, name, size, &ngx_http_mcp_module);
    if (shm_zone == NULL) {
        return NULL;
    }

    if (shm_zone->data) {
        /* the same zone named again, at another level */
        return shm_zone;
    }

    z = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_session_zone_t));
    if (z == NULL) {
        return NULL;
    }

    z->ref.store = &ngx_http_mcp_session_shm;
    z->ref.data = shm_zone;

    shm_zone->init = ngx_http_mcp_session_init_zone;
    shm_zone->data = z;

    return shm_zone;
}


ngx_http_mcp_store_ref_t *
ngx_http_mcp_session_shm_store(ngx_shm_zone_t *zone)
{
    ngx_http_mcp_session_zone_t  *z;

    z = zone->data;

    return &z->ref;
}


/*
 * Ready when the zone is attached and set up, and its lock can be taken
 * (a worker that died holding it would have it released by the master);
 * the detail tells how much of it is free.
 */

static ngx_int_t
ngx_http_mcp_session_shm_check(ngx_http_mcp_store_ref_t *ref,
    ngx_pool_t *pool, ngx_str_t *name, ngx_str_t *detail)
{
    ngx_uint_t                    free, pages;
    ngx_shm_zone_t               *zone;
    ngx_http_mcp_session_zone_t  *z;

    zone = ref->data;
    z = zone->data;

    name->data = ngx_pnalloc(pool, zone->shm.name.len + 32);
    detail->data = ngx_pnalloc(pool, 64);

    if (name->data == NULL || detail->data == NULL) {
        return NGX_ERROR;
    }

    name->len = ngx_sprintf(name->data, "session store \"%V\" (shm)",
                            &zone->shm.name)
                - name->data;

    if (z == NULL || z->shpool == NULL || z->sh == NULL) {
        detail->len = ngx_sprintf(detail->data, "not attached")
                      - detail->data;
        return NGX_DECLINED;
    }

    ngx_shmtx_lock(&z->shpool->mutex);

    free = z->shpool->pfree;
    pages = (z->shpool->end - (u_char *) z->shpool) >> ngx_pagesize_shift;

    ngx_shmtx_unlock(&z->shpool->mutex);

    detail->len = ngx_sprintf(detail->data, "%ui of %ui pages free",
                              free, pages)
                  - detail->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_session_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_mcp_session_zone_t  *oz = data;

    size_t                        len;
    ngx_http_mcp_session_zone_t  *z;

    z = shm_zone->data;

    if (oz) {
        z->sh = oz->sh;
        z->shpool = oz->shpool;
        return NGX_OK;
    }

    z->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        z->sh = z->shpool->data;
        return NGX_OK;
    }

    z->sh = ngx_slab_alloc(z->shpool, sizeof(ngx_http_mcp_session_shctx_t));
    if (z->sh == NULL) {
        return NGX_ERROR;
    }

    z->shpool->data = z->sh;

    ngx_rbtree_init(&z->sh->rbtree, &z->sh->sentinel,
                    ngx_http_mcp_session_rbtree_insert);
    ngx_queue_init(&z->sh->queue);
    z->sh->active = 0;
    z->sh->min_timeout = NGX_MAX_INT_T_VALUE;

    len = sizeof(" in MCP session zone \"\"") + shm_zone->shm.name.len;

    z->shpool->log_ctx = ngx_slab_alloc(z->shpool, len);
    if (z->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(z->shpool->log_ctx, " in MCP session zone \"%V\"%Z",
                &shm_zone->shm.name);

    z->shpool->log_nomem = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_session_shm_create(ngx_http_mcp_store_ref_t *ref,
    ngx_http_mcp_session_t *s, ngx_pool_t *pool,
    ngx_http_mcp_store_done_pt done, void *data)
{
    ngx_str_t  id;

    if (ngx_http_mcp_session_new_id(s->id, pool->log) != NGX_OK) {
        return NGX_ERROR;
    }

    /* an id is a secret: its first 8 hex digits at most in a log */

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, pool->log, 0,
                   "mcp shm store: create %*s...", (size_t) 8, s->id);

    id.data = s->id;
    id.len = NGX_HTTP_MCP_SESSION_ID_LEN;

    s->created = ngx_http_mcp_session_now();

    return ngx_http_mcp_session_insert(ref->data, &id, s, s->timeout, 1,
                                       pool->log);
}


ngx_int_t
ngx_http_mcp_session_new_id(u_char *id, ngx_log_t *log)
{
    u_char  random[NGX_HTTP_MCP_SESSION_ID_LEN / 2];

    if (ngx_http_mcp_session_random(random, log) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_hex_dump(id, random, sizeof(random));
    ngx_explicit_memzero(random, sizeof(random));

    return NGX_OK;
}


/* a near copy of another store's session: not one of the zone's own */

ngx_int_t
ngx_http_mcp_session_shm_put(ngx_shm_zone_t *zone, ngx_str_t *id,
    ngx_http_mcp_session_t *s, ngx_msec_t timeout, ngx_log_t *log)
{
    return ngx_http_mcp_session_insert(zone, id, s, timeout, 0, log);
}


/*
 * s under the key id, replacing any; gone after timeout of idleness.  The
 * zone's own sessions (own) are counted while they are in it.
 */

static ngx_int_t
ngx_http_mcp_session_insert(ngx_shm_zone_t *zone, ngx_str_t *id,
    ngx_http_mcp_session_t *s, ngx_msec_t timeout, ngx_uint_t own,
    ngx_log_t *log)
{
    u_char                       *p;
    size_t                        size;
    ngx_str_t                     caps, info;
    ngx_uint_t                    evicted;
    ngx_rbtree_node_t            *node;
    ngx_http_mcp_session_zone_t  *z;
    ngx_http_mcp_session_node_t  *sn;

    caps = s->client_capabilities;
    info = s->client_info;

    if (caps.len > NGX_HTTP_MCP_SESSION_TEXT_MAX) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "mcp: client capabilities of %uz bytes not kept",
                      caps.len);
        ngx_str_set(&caps, "{}");
    }

    if (info.len > NGX_HTTP_MCP_SESSION_TEXT_MAX) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "mcp: client info of %uz bytes not kept", info.len);
        ngx_str_set(&info, "{}");
    }

    size = offsetof(ngx_rbtree_node_t, color)
           + offsetof(ngx_http_mcp_session_node_t, data)
           + caps.len + info.len;

    z = zone->data;

    ngx_shmtx_lock(&z->shpool->mutex);

    sn = ngx_http_mcp_session_find(z, id);
    if (sn) {
        ngx_http_mcp_session_free(z, sn, NGX_HTTP_MCP_SESSION_DELETED);
    }

    ngx_http_mcp_session_expire(z, 2, 0);

    evicted = 0;

    for ( ;; ) {
        node = ngx_slab_alloc_locked(z->shpool, size);
        if (node) {
            break;
        }

        if (ngx_http_mcp_session_expire(z, 1, 1) == 0) {
            ngx_shmtx_unlock(&z->shpool->mutex);
            ngx_log_error(NGX_LOG_ALERT, log, 0,
                          "mcp: session of %uz bytes does not fit in "
                          "MCP session zone \"%V\"", size, &zone->shm.name);
            return NGX_ERROR;
        }

        evicted++;
    }

    node->key = ngx_http_mcp_session_key(id->data);

    sn = (ngx_http_mcp_session_node_t *) &node->color;

    sn->version = (u_char) s->version;
    sn->log_level = (u_char) s->log_level;
    sn->initialized = s->initialized;
    sn->own = (u_char) own;
    sn->created = s->created;
    sn->caps_len = (u_short) caps.len;
    sn->info_len = (u_short) info.len;
    sn->last = ngx_current_msec;
    sn->timeout = timeout;
    ngx_memcpy(sn->id, id->data, NGX_HTTP_MCP_SESSION_ID_LEN);
    ngx_memcpy(sn->principal, s->principal, NGX_HTTP_MCP_PRINCIPAL_LEN);
    ngx_memcpy(sn->subs, s->subs, sizeof(s->subs));

    p = ngx_cpymem(sn->data, caps.data, caps.len);
    ngx_memcpy(p, info.data, info.len);

    ngx_rbtree_insert(&z->sh->rbtree, node);
    ngx_queue_insert_head(&z->sh->queue, &sn->queue);

    z->sh->active += own;

    if (timeout < z->sh->min_timeout) {
        z->sh->min_timeout = timeout;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    if (evicted) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "mcp: MCP session zone \"%V\" is full, evicted %ui "
                      "least recently used session(s)",
                      &zone->shm.name, evicted);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_session_shm_lookup(ngx_http_mcp_store_ref_t *ref, ngx_str_t *id,
    ngx_msec_t timeout, ngx_pool_t *pool, ngx_http_mcp_session_t *s,
    ngx_http_mcp_store_done_pt done, void *data)
{
    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, pool->log, 0,
                   "mcp shm store: lookup %*s...",
                   ngx_min(id->len, 8), id->data);

    return ngx_http_mcp_session_shm_get(ref->data, id, timeout, 1, pool, s);
}


/*
 * The session under the key id, if its idle time (refresh set) or its age
 * since put (refresh unset) is at most timeout: NGX_OK, NGX_DECLINED (an
 * idle session goes; an old one stays for a put to replace), NGX_ERROR.
 */

ngx_int_t
ngx_http_mcp_session_shm_get(ngx_shm_zone_t *zone, ngx_str_t *id,
    ngx_msec_t timeout, ngx_uint_t refresh, ngx_pool_t *pool,
    ngx_http_mcp_session_t *s)
{
    u_char                       *p;
    ngx_http_mcp_session_zone_t  *z;
    ngx_http_mcp_session_node_t  *sn;

    z = zone->data;

    ngx_shmtx_lock(&z->shpool->mutex);

    sn = ngx_http_mcp_session_find(z, id);

    if (sn == NULL) {
        ngx_shmtx_unlock(&z->shpool->mutex);
        return NGX_DECLINED;
    }

    if (ngx_http_mcp_session_idle(sn) > (ngx_msec_int_t) timeout) {
        if (refresh) {
            ngx_http_mcp_session_free(z, sn, NGX_HTTP_MCP_SESSION_EXPIRED);
        }

        ngx_shmtx_unlock(&z->shpool->mutex);
        return NGX_DECLINED;
    }

    if (refresh && ngx_http_mcp_session_idle(sn) > 0) {
        sn->last = ngx_current_msec;
    }

    ngx_queue_remove(&sn->queue);
    ngx_queue_insert_head(&z->sh->queue, &sn->queue);

    p = ngx_pnalloc(pool, sn->caps_len + sn->info_len);
    if (p == NULL) {
        ngx_shmtx_unlock(&z->shpool->mutex);
        return NGX_ERROR;
    }

    ngx_memcpy(p, sn->data, sn->caps_len + sn->info_len);

    ngx_memcpy(s->id, sn->id, NGX_HTTP_MCP_SESSION_ID_LEN);
    ngx_memcpy(s->principal, sn->principal, NGX_HTTP_MCP_PRINCIPAL_LEN);
    ngx_memcpy(s->subs, sn->subs, sizeof(s->subs));
    s->version = sn->version;
    s->log_level = sn->log_level;
    s->initialized = sn->initialized;
    s->timeout = sn->timeout;
    s->created = sn->created;

    s->client_capabilities.data = p;
    s->client_capabilities.len = sn->caps_len;
    s->client_info.data = p + sn->caps_len;
    s->client_info.len = sn->info_len;

    ngx_shmtx_unlock(&z->shpool->mutex);

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_session_shm_update(ngx_http_mcp_store_ref_t *ref,
    ngx_http_mcp_session_t *s, ngx_pool_t *pool,
    ngx_http_mcp_store_done_pt done, void *data)
{
    ngx_str_t                     id;
    ngx_shm_zone_t               *zone;
    ngx_http_mcp_session_zone_t  *z;
    ngx_http_mcp_session_node_t  *sn;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, pool->log, 0,
                   "mcp shm store: update %*s...", (size_t) 8, s->id);

    zone = ref->data;
    z = zone->data;

    id.data = s->id;
    id.len = NGX_HTTP_MCP_SESSION_ID_LEN;

    ngx_shmtx_lock(&z->shpool->mutex);

    sn = ngx_http_mcp_session_find(z, &id);

    if (sn) {
        sn->log_level = (u_char) s->log_level;
        sn->initialized = s->initialized;
        ngx_memcpy(sn->subs, s->subs, sizeof(s->subs));
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return sn ? NGX_OK : NGX_DECLINED;
}


static ngx_int_t
ngx_http_mcp_session_shm_delete(ngx_http_mcp_store_ref_t *ref, ngx_str_t *id,
    u_char *principal, ngx_pool_t *pool, ngx_http_mcp_store_done_pt done,
    void *data)
{
    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, pool->log, 0,
                   "mcp shm store: delete %*s...",
                   ngx_min(id->len, 8), id->data);

    return ngx_http_mcp_session_shm_remove(ref->data, id, principal);
}


/* the session under the key id goes, if principal is NULL or its own */

ngx_int_t
ngx_http_mcp_session_shm_remove(ngx_shm_zone_t *zone, ngx_str_t *id,
    u_char *principal)
{
    ngx_http_mcp_session_zone_t  *z;
    ngx_http_mcp_session_node_t  *sn;

    z = zone->data;

    ngx_shmtx_lock(&z->shpool->mutex);

    sn = ngx_http_mcp_session_find(z, id);

    if (sn && principal
        && CRYPTO_memcmp(sn->principal, principal, NGX_HTTP_MCP_PRINCIPAL_LEN)
           != 0)
    {
        sn = NULL;                 /* as unknown: another caller's */
    }

    if (sn) {
        ngx_http_mcp_session_free(z, sn, NGX_HTTP_MCP_SESSION_DELETED);
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return sn ? NGX_OK : NGX_DECLINED;
}


ngx_uint_t
ngx_http_mcp_session_shm_active(ngx_shm_zone_t *zone)
{
    ngx_uint_t                    n;
    ngx_queue_t                  *q, *prev;
    ngx_msec_int_t                idle;
    ngx_http_mcp_session_zone_t  *z;
    ngx_http_mcp_session_node_t  *sn;

    z = zone->data;

    if (z == NULL || z->sh == NULL) {
        return 0;
    }

    ngx_shmtx_lock(&z->shpool->mutex);

    /*
     * From the least recently used on, while a node may be idle past the
     * least timeout in the zone: further on, all were used since
     */

    for (q = ngx_queue_last(&z->sh->queue);
         q != ngx_queue_sentinel(&z->sh->queue);
         q = prev)
    {
        prev = ngx_queue_prev(q);
        sn = ngx_queue_data(q, ngx_http_mcp_session_node_t, queue);

        idle = ngx_http_mcp_session_idle(sn);

        if (idle + NGX_HTTP_MCP_SESSION_SKEW
            <= (ngx_msec_int_t) z->sh->min_timeout)
        {
            break;
        }

        if (idle > (ngx_msec_int_t) sn->timeout) {
            ngx_http_mcp_session_free(z, sn, NGX_HTTP_MCP_SESSION_EXPIRED);
        }
    }

    n = z->sh->active;

    ngx_shmtx_unlock(&z->shpool->mutex);

    return n;
}


uint64_t
ngx_http_mcp_session_now(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (uint64_t) tp->sec * 1000 + tp->msec;
}


/*
 * 32 bytes from OpenSSL's CSPRNG for one id.  RAND_bytes() is costly per
 * call, so each worker takes a block at a time; the block is filled in the
 * worker, after fork, never shared.
 */

static ngx_int_t
ngx_http_mcp_session_random(u_char *p, ngx_log_t *log)
{
    static u_char      block[64 * NGX_HTTP_MCP_SESSION_ID_LEN / 2];
    static ngx_uint_t  used = sizeof(block);
    static ngx_pid_t   owner;

    if (used == sizeof(block) || owner != ngx_pid) {

        if (RAND_bytes(block, sizeof(block)) != 1) {
            ngx_log_error(NGX_LOG_CRIT, log, 0,
                          "mcp: RAND_bytes() failed, no session id");
            return NGX_ERROR;
        }

        used = 0;
        owner = ngx_pid;
    }

    ngx_memcpy(p, block + used, NGX_HTTP_MCP_SESSION_ID_LEN / 2);
    ngx_explicit_memzero(block + used, NGX_HTTP_MCP_SESSION_ID_LEN / 2);
    used += NGX_HTTP_MCP_SESSION_ID_LEN / 2;

    return NGX_OK;
}


/* the id is random already: its first hex digits are the tree key */

static ngx_rbtree_key_t
ngx_http_mcp_session_key(u_char *id)
{
    u_char            c;
    ngx_uint_t        i;
    ngx_rbtree_key_t  key;

    key = 0;

    for (i = 0; i < 2 * sizeof(ngx_rbtree_key_t); i++) {
        c = id[i];
        key = (key << 4) | (ngx_rbtree_key_t) ((c <= '9') ? c - '0'
                                                          : c - 'a' + 10);
    }

    return key;
}


ngx_uint_t
ngx_http_mcp_session_id_valid(ngx_str_t *id)
{
    ngx_uint_t  i;

    if (id->len != NGX_HTTP_MCP_SESSION_ID_LEN) {
        return 0;
    }

    for (i = 0; i < id->len; i++) {
        if (!((id->data[i] >= '0' && id->data[i] <= '9')
              || (id->data[i] >= 'a' && id->data[i] <= 'f')))
        {
            return 0;
        }
    }

    return 1;
}


void
ngx_http_mcp_session_digest(ngx_str_t *id, u_char *key)
{
    u_char  md[SHA256_DIGEST_LENGTH];

    ngx_http_mcp_sha256(id->data, id->len, md);
    ngx_hex_dump(key, md, sizeof(md));
}


uint64_t
ngx_http_mcp_session_uri_key(ngx_str_t *uri)
{
    u_char      md[SHA256_DIGEST_LENGTH];
    uint64_t    k;
    ngx_uint_t  i;

    ngx_http_mcp_sha256(uri->data, uri->len, md);

    k = 0;

    for (i = 0; i < 8; i++) {
        k = (k << 8) | md[i];
    }

    return k ? k : 1;
}


/* under the zone's mutex; ids are secrets: compared in constant time */

static ngx_http_mcp_session_node_t *
ngx_http_mcp_session_find(ngx_http_mcp_session_zone_t *z, ngx_str_t *id)
{
    ngx_rbtree_key_t              key;
    ngx_rbtree_node_t            *node, *sentinel;
    ngx_http_mcp_session_node_t  *sn;

    if (!ngx_http_mcp_session_id_valid(id)) {
        return NULL;
    }

    key = ngx_http_mcp_session_key(id->data);

    node = z->sh->rbtree.root;
    sentinel = z->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (key < node->key) {
            node = node->left;
            continue;
        }

        if (key > node->key) {
            node = node->right;
            continue;
        }

        sn = (ngx_http_mcp_session_node_t *) &node->color;

        if (CRYPTO_memcmp(id->data, sn->id, NGX_HTTP_MCP_SESSION_ID_LEN)
            == 0)
        {
            return sn;
        }

        node = (ngx_memcmp(id->data, sn->id, NGX_HTTP_MCP_SESSION_ID_LEN) < 0)
               ? node->left : node->right;
    }

    return NULL;
}


/*
 * The node goes; one of the zone's own sessions ends, and how long it
 * lived is told: one idle past its timeout ended when the timeout ran out,
 * whatever finds it (a DELETE too: it only removes what was dead)
 */

static void
ngx_http_mcp_session_free(ngx_http_mcp_session_zone_t *z,
    ngx_http_mcp_session_node_t *sn, ngx_uint_t why)
{
    uint64_t            now, end;
    ngx_msec_int_t      idle;
    ngx_rbtree_node_t  *node;

    node = (ngx_rbtree_node_t *)
               ((u_char *) sn - offsetof(ngx_rbtree_node_t, color));

    if (sn->own) {
        z->sh->active--;

        now = ngx_http_mcp_session_now();
        idle = ngx_http_mcp_session_idle(sn);
        end = now;

        if (idle > (ngx_msec_int_t) sn->timeout) {
            why = NGX_HTTP_MCP_SESSION_EXPIRED;
            end = now - (idle - sn->timeout);
        }

        ngx_http_mcp_session_ended(why, sn->version,
                                   (end > sn->created)
                                   ? (ngx_msec_t) (end - sn->created) : 0);
    }

    ngx_queue_remove(&sn->queue);
    ngx_rbtree_delete(&z->sh->rbtree, node);
    ngx_slab_free_locked(z->shpool, node);
}


/*
 * Each worker caches its own ngx_current_msec, so another worker may have
 * touched the session "later" than now: signed, never negative.
 */

static ngx_msec_int_t
ngx_http_mcp_session_idle(ngx_http_mcp_session_node_t *sn)
{
    ngx_msec_int_t  idle;

    idle = (ngx_msec_int_t) (ngx_current_msec - sn->last);

    return idle > 0 ? idle : 0;
}


/*
 * Drops up to n sessions from the LRU tail: the idle ones, or with force
 * the least recently used whatever their age.  Returns how many went.
 */

static ngx_uint_t
ngx_http_mcp_session_expire(ngx_http_mcp_session_zone_t *z, ngx_uint_t n,
    ngx_uint_t force)
{
    ngx_uint_t                    freed;
    ngx_queue_t                  *q;
    ngx_http_mcp_session_node_t  *sn;

    for (freed = 0; freed < n; freed++) {

        if (ngx_queue_empty(&z->sh->queue)) {
            break;
        }

        q = ngx_queue_last(&z->sh->queue);
        sn = ngx_queue_data(q, ngx_http_mcp_session_node_t, queue);

        if (!force
            && ngx_http_mcp_session_idle(sn) <= (ngx_msec_int_t) sn->timeout)
        {
            break;
        }

        ngx_http_mcp_session_free(z, sn, NGX_HTTP_MCP_SESSION_EVICTED);
    }

    return freed;
}


static void
ngx_http_mcp_session_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t           **p;
    ngx_http_mcp_session_node_t  *sn, *snt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else { /* node->key == temp->key */

            sn = (ngx_http_mcp_session_node_t *) &node->color;
            snt = (ngx_http_mcp_session_node_t *) &temp->color;

            p = (ngx_memcmp(sn->id, snt->id, NGX_HTTP_MCP_SESSION_ID_LEN) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}
