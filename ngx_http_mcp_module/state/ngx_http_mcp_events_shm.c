
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "state/ngx_http_mcp_events.h"
#include "state/ngx_http_mcp_session.h"


#define NGX_HTTP_MCP_EVENTS_ZONE_SIZE  (8 * 1024 * 1024)
#define NGX_HTTP_MCP_EVENTS_MAX        64
#define NGX_HTTP_MCP_EVENTS_BYTES      (256 * 1024)
#define NGX_HTTP_MCP_EVENTS_EVICT      32   /* sessions, for one allocation */


/* the events of one session, in the zone */

typedef struct {
    ngx_str_node_t              sn;         /* str: the digest below */
    ngx_queue_t                 lru;        /* most recent first */
    ngx_queue_t                 events;     /* oldest first */
    ngx_uint_t                  count;
    size_t                      bytes;
    time_t                      used;       /* its place in lru: to the
                                               second */
    uint64_t                    incarnation;  /* 0 once freed */
    u_char                      key[NGX_HTTP_MCP_SESSION_ID_LEN];
} ngx_http_mcp_ev_session_t;


/* a message kept once for the events of many sessions (a publication) */

typedef struct {
    ngx_uint_t                  refs;       /* its events, and the sharer */
    u_char                      data[1];
} ngx_http_mcp_ev_blob_t;


typedef struct {
    ngx_queue_t                 queue;
    u_char                      stream[NGX_HTTP_MCP_STREAM_NAME_LEN];
    u_char                      last;
    ngx_uint_t                  seq;
    size_t                      len;
    ngx_http_mcp_ev_blob_t     *blob;       /* the message, or NULL: data */
    u_char                      data[1];
} ngx_http_mcp_ev_t;


typedef struct {
    ngx_rbtree_t                rbtree;
    ngx_rbtree_node_t           sentinel;
    ngx_queue_t                 lru;
} ngx_http_mcp_ev_shctx_t;


/* the zone of one configuration, and its limits */

typedef struct {
    ngx_shm_zone_t             *zone;
    ngx_slab_pool_t            *shpool;
    ngx_http_mcp_ev_shctx_t    *sh;
    ngx_uint_t                  max;
    size_t                      bytes;
} ngx_http_mcp_ev_zone_t;


static ngx_http_mcp_ev_zone_t *ngx_http_mcp_events_zone(ngx_conf_t *cf,
    size_t size);
static ngx_int_t ngx_http_mcp_events_init_zone(ngx_shm_zone_t *zone,
    void *data);
static ngx_http_mcp_ev_session_t *ngx_http_mcp_events_hinted(
    ngx_http_mcp_ev_zone_t *z, u_char *key, ngx_http_mcp_events_hint_t *hint);
static ngx_http_mcp_ev_session_t *ngx_http_mcp_events_find(
    ngx_http_mcp_ev_zone_t *z, u_char *key);
static void *ngx_http_mcp_events_alloc(ngx_http_mcp_ev_zone_t *z,
    ngx_http_mcp_ev_session_t *es, size_t size);
static void ngx_http_mcp_events_drop(ngx_http_mcp_ev_zone_t *z,
    ngx_http_mcp_ev_session_t *es);
static void ngx_http_mcp_events_free(ngx_http_mcp_ev_zone_t *z,
    ngx_http_mcp_ev_session_t *es);


static ngx_http_mcp_ev_zone_t  *ngx_http_mcp_ev_zone;


/* mcp_sse_buffer SIZE [events=N] [per_session=SIZE] */

char *
ngx_http_mcp_events_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_main_conf_t *mmcf = conf;

    ssize_t                  size, bytes;
    ngx_int_t                max;
    ngx_str_t               *value, s;
    ngx_uint_t               i;
    ngx_http_mcp_ev_zone_t  *z;

    if (mmcf->events) {
        return "is duplicate";
    }

    value = cf->args->elts;

    size = ngx_parse_size(&value[1]);

    if (size == NGX_ERROR || size < (ssize_t) (64 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "mcp_sse_buffer: \"%V\" is not a size of at "
                           "least %uzK", &value[1], 64 * ngx_pagesize / 1024);
        return NGX_CONF_ERROR;
    }

    max = NGX_HTTP_MCP_EVENTS_MAX;
    bytes = NGX_HTTP_MCP_EVENTS_BYTES;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "events=", 7) == 0) {
            max = ngx_atoi(value[i].data + 7, value[i].len - 7);

            if (max == NGX_ERROR || max < 1 || max > 100000) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "per_session=", 12) == 0) {
            s.data = value[i].data + 12;
            s.len = value[i].len - 12;

            bytes = ngx_parse_size(&s);

            if (bytes == NGX_ERROR || bytes < 1024 || bytes > size / 2) {
                goto invalid;
            }

            continue;
        }

        goto invalid;
    }

    z = ngx_http_mcp_events_zone(cf, size);
    if (z == NULL) {
        return NGX_CONF_ERROR;
    }

    z->max = max;
    z->bytes = bytes;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "mcp_sse_buffer: invalid parameter \"%V\"", &value[i]);
    return NGX_CONF_ERROR;
}


/* the default zone, unless mcp_sse_buffer made one */

ngx_int_t
ngx_http_mcp_events_init(ngx_conf_t *cf)
{
    ngx_http_mcp_main_conf_t  *mmcf;

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_module);

    if (mmcf->events) {
        return NGX_OK;
    }

    return ngx_http_mcp_events_zone(cf, NGX_HTTP_MCP_EVENTS_ZONE_SIZE)
           ? NGX_OK : NGX_ERROR;
}


static ngx_http_mcp_ev_zone_t *
ngx_http_mcp_events_zone(ngx_conf_t *cf, size_t size)
{
    ngx_shm_zone_t            *zone;
    ngx_http_mcp_ev_zone_t    *z;
    ngx_http_mcp_main_conf_t  *mmcf;

    static ngx_str_t  name = ngx_string("mcp_events");

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_module);

    z = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_ev_zone_t));
    if (z == NULL) {
        return NULL;
    }

    zone = ngx_shared_memory_add(cf, &name, size, &ngx_http_mcp_module);
    if (zone == NULL) {
        return NULL;
    }

    z->zone = zone;
    z->max = NGX_HTTP_MCP_EVENTS_MAX;
    z->bytes = NGX_HTTP_MCP_EVENTS_BYTES;

    zone->init = ngx_http_mcp_events_init_zone;
    zone->data = z;

    mmcf->events = z;

    return z;
}


/* this worker's zone: its configuration's */

ngx_int_t
ngx_http_mcp_events_init_process(ngx_cycle_t *cycle)
{
    ngx_http_mcp_main_conf_t  *mmcf;

    mmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_mcp_module);

    ngx_http_mcp_ev_zone = mmcf ? mmcf->events : NULL;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_events_init_zone(ngx_shm_zone_t *zone, void *data)
{
    ngx_http_mcp_ev_zone_t  *oz = data;

    ngx_http_mcp_ev_zone_t  *z;

    z = zone->data;
    z->shpool = (ngx_slab_pool_t *) zone->shm.addr;

    if (oz) {
        z->sh = oz->sh;
        return NGX_OK;
    }

    if (zone->shm.exists) {
        z->sh = z->shpool->data;
        return NGX_OK;
    }

    z->sh = ngx_slab_alloc(z->shpool, sizeof(ngx_http_mcp_ev_shctx_t));
    if (z->sh == NULL) {
        return NGX_ERROR;
    }

    z->shpool->data = z->sh;
    z->shpool->log_nomem = 0;

    ngx_rbtree_init(&z->sh->rbtree, &z->sh->sentinel,
                    ngx_str_rbtree_insert_value);
    ngx_queue_init(&z->sh->lru);

    return NGX_OK;
}


void
ngx_http_mcp_events_add(ngx_http_mcp_store_ref_t *ref, u_char *key,
    ngx_http_mcp_event_t *ev, ngx_http_mcp_events_share_t *share,
    ngx_http_mcp_events_hint_t *hint, ngx_log_t *log)
{
    size_t                      size;
    time_t                      now;
    ngx_http_mcp_ev_t          *e;
    ngx_http_mcp_ev_zone_t     *z;
    ngx_http_mcp_ev_blob_t     *blob;
    ngx_http_mcp_ev_session_t  *es;

    z = ngx_http_mcp_ev_zone;

    if (ngx_http_mcp_events_redis_add(ref, key, ev, z ? z->max : 64, log)
        == NGX_OK)
    {
        return;
    }

    if (z == NULL || z->sh == NULL || ev->data.len > z->bytes) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "mcp: an event of %uz bytes was not kept for "
                      "resumption", ev->data.len);
        return;
    }

    now = ngx_time();

    ngx_shmtx_lock(&z->shpool->mutex);

    es = ngx_http_mcp_events_hinted(z, key, hint);

    if (es == NULL) {
        es = ngx_http_mcp_events_find(z, key);
    }

    if (es == NULL) {
        es = ngx_http_mcp_events_alloc(z, NULL,
                                       sizeof(ngx_http_mcp_ev_session_t));
        if (es == NULL) {
            goto nomem;
        }

        es->incarnation = ((uint64_t) ngx_random() << 32
                           ^ (uint64_t) ngx_random() << 1
                           ^ (uint64_t) (uintptr_t) es) | 1;
        ngx_memcpy(es->key, key, NGX_HTTP_MCP_SESSION_ID_LEN);
        es->sn.str.data = es->key;
        es->sn.str.len = NGX_HTTP_MCP_SESSION_ID_LEN;
        es->sn.node.key = ngx_crc32_short(key, NGX_HTTP_MCP_SESSION_ID_LEN);
        ngx_queue_init(&es->events);
        es->count = 0;
        es->bytes = 0;

        ngx_rbtree_insert(&z->sh->rbtree, &es->sn.node);
        ngx_queue_insert_head(&z->sh->lru, &es->lru);

    } else if (es->used != now) {

        /*
         * to the second: a publication to every session does not move
         * them all about the list each time
         */

        ngx_queue_remove(&es->lru);
        ngx_queue_insert_head(&z->sh->lru, &es->lru);
    }

    es->used = now;

    /* the session's oldest events make room */

    while (!ngx_queue_empty(&es->events)
           && (es->count >= z->max || es->bytes + ev->data.len > z->bytes))
    {
        ngx_http_mcp_events_drop(z, es);
    }

    /* a shared message is kept with the first event that has it */

    if (share && share->blob == NULL) {
        /*
         * as big as a session at least: what a session that gives way
         * frees makes room for it (one more size would need whole pages)
         */

        size = ngx_max(offsetof(ngx_http_mcp_ev_blob_t, data) + ev->data.len,
                       sizeof(ngx_http_mcp_ev_session_t));

        blob = ngx_http_mcp_events_alloc(z, es, size);
        if (blob == NULL) {
            goto nomem;
        }

        blob->refs = 1;
        ngx_memcpy(blob->data, ev->data.data, ev->data.len);

        share->blob = blob;
    }

    size = offsetof(ngx_http_mcp_ev_t, data) + (share ? 0 : ev->data.len);

    e = ngx_http_mcp_events_alloc(z, es, size);
    if (e == NULL) {
        goto nomem;
    }

    ngx_memcpy(e->stream, ev->stream, NGX_HTTP_MCP_STREAM_NAME_LEN);
    e->last = (u_char) ev->last;
    e->seq = ev->seq;
    e->len = ev->data.len;

    if (share) {
        e->blob = share->blob;
        e->blob->refs++;

    } else {
        e->blob = NULL;
        ngx_memcpy(e->data, ev->data.data, ev->data.len);
    }

    ngx_queue_insert_tail(&es->events, &e->queue);
    es->count++;
    es->bytes += e->len;

    if (hint) {
        hint->node = es;
        hint->incarnation = es->incarnation;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return;

nomem:

    ngx_shmtx_unlock(&z->shpool->mutex);

    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "mcp: no room in mcp_sse_buffer, an event was not kept "
                  "for resumption");
}


void
ngx_http_mcp_events_unshare(ngx_http_mcp_events_share_t *share)
{
    ngx_http_mcp_ev_zone_t  *z;
    ngx_http_mcp_ev_blob_t  *blob;

    z = ngx_http_mcp_ev_zone;
    blob = share->blob;

    if (blob == NULL || z == NULL) {
        return;
    }

    share->blob = NULL;

    ngx_shmtx_lock(&z->shpool->mutex);

    if (--blob->refs == 0) {
        ngx_slab_free_locked(z->shpool, blob);
    }

    ngx_shmtx_unlock(&z->shpool->mutex);
}


/*
 * memory in the zone for the session es (locked; NULL: a new session):
 * when the zone is full, the sessions used least recently give way, then
 * es's own oldest events.  At most NGX_HTTP_MCP_EVENTS_EVICT sessions go
 * for one allocation: memory of another size may need whole pages free,
 * and the zone's lock is held meanwhile; the next event tries again.
 */

static void *
ngx_http_mcp_events_alloc(ngx_http_mcp_ev_zone_t *z,
    ngx_http_mcp_ev_session_t *es, size_t size)
{
    void                       *p;
    ngx_uint_t                  n;
    ngx_queue_t                *q;
    ngx_http_mcp_ev_session_t  *victim;

    n = 0;

    for ( ;; ) {
        p = ngx_slab_alloc_locked(z->shpool, size);

        if (p) {
            return p;
        }

        q = ngx_queue_last(&z->sh->lru);

        if (es && q == &es->lru) {
            q = ngx_queue_prev(q);        /* es is in use: not es first */
        }

        if (q != ngx_queue_sentinel(&z->sh->lru)) {

            if (n++ == NGX_HTTP_MCP_EVENTS_EVICT) {
                return NULL;
            }

            victim = ngx_queue_data(q, ngx_http_mcp_ev_session_t, lru);
            ngx_http_mcp_events_free(z, victim);
            continue;
        }

        if (es == NULL || ngx_queue_empty(&es->events)) {
            return NULL;
        }

        ngx_http_mcp_events_drop(z, es);
    }
}


ngx_int_t
ngx_http_mcp_events_get(ngx_http_mcp_store_ref_t *ref, u_char *key,
    u_char *stream, ngx_uint_t after, ngx_pool_t *pool, ngx_array_t **out,
    ngx_http_mcp_store_done_pt done, void *data)
{
    u_char                     *p;
    size_t                      len;
    ngx_int_t                   rc;
    ngx_uint_t                  first;
    ngx_queue_t                *q;
    ngx_array_t                *a;
    ngx_http_mcp_ev_t          *e;
    ngx_http_mcp_event_t       *ev;
    ngx_http_mcp_ev_zone_t     *z;
    ngx_http_mcp_ev_session_t  *es;

    rc = ngx_http_mcp_events_redis_get(ref, key, stream, after, pool, out,
                                       done, data);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    z = ngx_http_mcp_ev_zone;

    if (z == NULL || z->sh == NULL) {
        return NGX_DECLINED;
    }

    a = ngx_array_create(pool, 4, sizeof(ngx_http_mcp_event_t));
    if (a == NULL) {
        return NGX_ERROR;
    }

    *out = a;
    rc = NGX_DECLINED;
    first = 1;

    ngx_shmtx_lock(&z->shpool->mutex);

    es = ngx_http_mcp_events_find(z, key);

    for (q = es ? ngx_queue_head(&es->events) : NULL;
         q && q != ngx_queue_sentinel(&es->events);
         q = ngx_queue_next(q))
    {
        e = ngx_queue_data(q, ngx_http_mcp_ev_t, queue);

        if (ngx_memcmp(e->stream, stream, NGX_HTTP_MCP_STREAM_NAME_LEN) != 0)
        {
            continue;
        }

        /* the stream's oldest kept event must follow the one seen, or be it */

        if (first) {
            first = 0;

            if (e->seq > after + 1) {
                break;
            }

            rc = NGX_OK;
        }

        /* seen already: only that it ended, as an event without data */

        len = (e->seq <= after) ? 0 : e->len;

        if (len == 0 && !e->last && e->seq <= after) {
            continue;
        }

        ev = ngx_array_push(a);
        p = ngx_pnalloc(pool, len + 1);

        if (ev == NULL || p == NULL) {
            rc = NGX_ERROR;
            break;
        }

        ngx_memcpy(ev->stream, e->stream, NGX_HTTP_MCP_STREAM_NAME_LEN);
        ev->seq = e->seq;
        ev->last = e->last;
        ev->data.data = p;
        ev->data.len = len;
        ngx_memcpy(p, e->blob ? e->blob->data : e->data, len);
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return rc;
}


void
ngx_http_mcp_events_forget(ngx_http_mcp_store_ref_t *ref, u_char *key,
    ngx_log_t *log)
{
    ngx_http_mcp_ev_zone_t     *z;
    ngx_http_mcp_ev_session_t  *es;

    if (ngx_http_mcp_events_redis_forget(ref, key, log) == NGX_OK) {
        return;
    }

    z = ngx_http_mcp_ev_zone;

    if (z == NULL || z->sh == NULL) {
        return;
    }

    ngx_shmtx_lock(&z->shpool->mutex);

    es = ngx_http_mcp_events_find(z, key);

    if (es) {
        ngx_http_mcp_events_free(z, es);
    }

    ngx_shmtx_unlock(&z->shpool->mutex);
}


/*
 * the session where the hint says, if it is still there: a place in the
 * zone, that session's key, the incarnation it had (a freed node has 0; a
 * place reused for anything else holds those 64 bits by chance only)
 */

static ngx_http_mcp_ev_session_t *
ngx_http_mcp_events_hinted(ngx_http_mcp_ev_zone_t *z, u_char *key,
    ngx_http_mcp_events_hint_t *hint)
{
    u_char                     *p;
    ngx_http_mcp_ev_session_t  *es;

    if (hint == NULL || hint->node == NULL) {
        return NULL;
    }

    p = hint->node;

    if (p < (u_char *) z->shpool
        || p + sizeof(ngx_http_mcp_ev_session_t) > z->shpool->end)
    {
        return NULL;
    }

    es = hint->node;

    if (es->incarnation != hint->incarnation
        || ngx_memcmp(es->key, key, NGX_HTTP_MCP_SESSION_ID_LEN) != 0)
    {
        return NULL;
    }

    return es;
}


static ngx_http_mcp_ev_session_t *
ngx_http_mcp_events_find(ngx_http_mcp_ev_zone_t *z, u_char *key)
{
    ngx_str_t        s;
    ngx_str_node_t  *sn;

    s.data = key;
    s.len = NGX_HTTP_MCP_SESSION_ID_LEN;

    sn = ngx_str_rbtree_lookup(&z->sh->rbtree, &s,
                               ngx_crc32_short(key, s.len));

    return (ngx_http_mcp_ev_session_t *) sn;
}


/* the session's oldest event goes */

static void
ngx_http_mcp_events_drop(ngx_http_mcp_ev_zone_t *z,
    ngx_http_mcp_ev_session_t *es)
{
    ngx_queue_t        *q;
    ngx_http_mcp_ev_t  *e;

    q = ngx_queue_head(&es->events);
    ngx_queue_remove(q);

    e = ngx_queue_data(q, ngx_http_mcp_ev_t, queue);

    es->count--;
    es->bytes -= e->len;

    if (e->blob && --e->blob->refs == 0) {
        ngx_slab_free_locked(z->shpool, e->blob);
    }

    ngx_slab_free_locked(z->shpool, e);
}


/* all of the session's events go, and the session */

static void
ngx_http_mcp_events_free(ngx_http_mcp_ev_zone_t *z,
    ngx_http_mcp_ev_session_t *es)
{
    while (!ngx_queue_empty(&es->events)) {
        ngx_http_mcp_events_drop(z, es);
    }

    ngx_queue_remove(&es->lru);
    ngx_rbtree_delete(&z->sh->rbtree, &es->sn.node);
    es->incarnation = 0;
    ngx_slab_free_locked(z->shpool, es);
}
