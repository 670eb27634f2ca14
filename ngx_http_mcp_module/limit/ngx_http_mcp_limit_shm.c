
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/rand.h>

#include "ngx_http_mcp_module.h"
#include "limit/ngx_http_mcp_limit_int.h"


/*
 * The zones in shared memory: a red-black tree of keys (a hash of the key's
 * value and the entry, ngx_http_mcp_limit_hash.c, so a node has one size
 * however long the key is) and a queue, least recently used last. Each lookup
 * frees up to two idle nodes from the tail; when memory runs out the tail goes
 * whether idle or not, and the error log says so (at most once a minute per
 * zone): a full zone forgets its oldest keys, it never refuses a caller. Rates
 * run on nginx's monotonic milliseconds, so a step of the wall clock changes
 * nothing; quota windows follow the wall clock, and one that steps back never
 * reopens a window already counted.
 */


static ngx_http_mcp_limit_node_t *ngx_http_mcp_limit_node(
    ngx_http_mcp_limit_zone_t *z, u_char *key);
static void ngx_http_mcp_limit_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static void ngx_http_mcp_limit_expire(ngx_http_mcp_limit_zone_t *z,
    ngx_uint_t n);
static ngx_int_t ngx_http_mcp_limit_excess(ngx_http_mcp_limit_zone_t *z,
    ngx_http_mcp_limit_node_t *ln, ngx_msec_t now);


ngx_int_t
ngx_http_mcp_limit_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_mcp_limit_zone_t  *oz = data;

    size_t                      len;
    ngx_http_mcp_limit_zone_t  *z;

    z = shm_zone->data;

    if (oz) {

        /* a reload: the counts go on, unless the key means another thing */

        if (z->key.value.len != oz->key.value.len
            || ngx_strncmp(z->key.value.data, oz->key.value.data,
                           z->key.value.len)
               != 0
            || z->type != oz->type)
        {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "zone \"%V\" uses the key \"%V\" while it used "
                          "\"%V\" before (or changed its kind): rename it",
                          &shm_zone->shm.name, &z->key.value,
                          &oz->key.value);
            return NGX_ERROR;
        }

        z->sh = oz->sh;
        z->shpool = oz->shpool;

        return NGX_OK;
    }

    z->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        z->sh = z->shpool->data;
        return NGX_OK;
    }

    z->sh = ngx_slab_alloc(z->shpool, sizeof(ngx_http_mcp_limit_shctx_t));
    if (z->sh == NULL) {
        return NGX_ERROR;
    }

    z->shpool->data = z->sh;

    if (RAND_bytes(z->sh->secret, sizeof(z->sh->secret)) != 1) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "RAND_bytes() failed for zone \"%V\"",
                      &shm_zone->shm.name);
        return NGX_ERROR;
    }

    ngx_rbtree_init(&z->sh->rbtree, &z->sh->sentinel,
                    ngx_http_mcp_limit_rbtree_insert_value);
    ngx_queue_init(&z->sh->queue);

    len = sizeof(" in mcp limit zone \"\"") + shm_zone->shm.name.len;

    z->shpool->log_ctx = ngx_slab_alloc(z->shpool, len);
    if (z->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(z->shpool->log_ctx, " in mcp limit zone \"%V\"%Z",
                &shm_zone->shm.name);

    z->shpool->log_nomem = 0;

    return NGX_OK;
}


void
ngx_http_mcp_limit_shm_rate(ngx_http_mcp_limit_zone_t *z,
    ngx_http_mcp_limit_use_t *use, u_char *key, ngx_uint_t commit,
    ngx_http_mcp_limit_answer_t *a)
{
    ngx_int_t                   excess;
    ngx_msec_t                  now;
    ngx_http_mcp_limit_node_t  *ln;

    now = ngx_current_msec;

    ngx_shmtx_lock(&z->shpool->mutex);

    ln = ngx_http_mcp_limit_node(z, key);

    if (ln == NULL) {
        ngx_shmtx_unlock(&z->shpool->mutex);
        a->rc = NGX_ERROR;
        return;
    }

    excess = ngx_http_mcp_limit_excess(z, ln, now);

    if ((ngx_uint_t) excess > use->burst) {
        ngx_shmtx_unlock(&z->shpool->mutex);

        a->rc = NGX_BUSY;
        a->retry_after = (excess - use->burst) / z->rate + 1;
        return;
    }

    if (commit) {
        ln->excess = excess;
        ln->last = now;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    if ((ngx_uint_t) excess > use->delay) {
        a->rc = NGX_AGAIN;
        a->delay = (excess - use->delay) * 1000 / z->rate;
        return;
    }

    a->rc = NGX_OK;
}


/* the excess a request now would make, as limit_req computes it */

static ngx_int_t
ngx_http_mcp_limit_excess(ngx_http_mcp_limit_zone_t *z,
    ngx_http_mcp_limit_node_t *ln, ngx_msec_t now)
{
    ngx_int_t       excess;
    ngx_msec_int_t  ms;

    if (ln->last == 0 && ln->excess == 0) {
        return 0;                           /* a new key */
    }

    ms = (ngx_msec_int_t) (now - ln->last);

    if (ms < -60000) {
        ms = 1;

    } else if (ms < 0) {
        ms = 0;
    }

    excess = ln->excess - (ngx_int_t) (z->rate * ms / 1000) + 1000;

    return (excess < 0) ? 0 : excess;
}


/* a request counted and then refused by another line: taken back */

void
ngx_http_mcp_limit_shm_unrate(ngx_http_mcp_limit_zone_t *z, u_char *key)
{
    ngx_http_mcp_limit_node_t  *ln;

    ngx_shmtx_lock(&z->shpool->mutex);

    ln = ngx_http_mcp_limit_node(z, key);

    if (ln && ln->excess >= 1000) {
        ln->excess -= 1000;

    } else if (ln) {

        /* the request took the free slot: the bucket drained earlier */

        ln->last -= (1000 - ln->excess) * 1000 / z->rate + 1;
        ln->excess = 0;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);
}


ngx_int_t
ngx_http_mcp_limit_shm_lease_take(ngx_http_mcp_limit_zone_t *z, u_char *key,
    ngx_uint_t *want)
{
    ngx_int_t                   rc;
    ngx_msec_t                  now;
    ngx_http_mcp_limit_node_t  *ln;

    now = ngx_current_msec;
    rc = NGX_DECLINED;
    *want = 1;

    ngx_shmtx_lock(&z->shpool->mutex);

    ln = ngx_http_mcp_limit_node(z, key);

    if (ln == NULL) {
        goto done;
    }

    /* this replica's demand for the key, per lease period */

    if (now - ln->slot >= NGX_HTTP_MCP_LIMIT_LEASE) {
        ln->demand_prev = (now - ln->slot < 2 * NGX_HTTP_MCP_LIMIT_LEASE)
                          ? ln->demand : 0;
        ln->demand = 0;
        ln->slot = now;
    }

    ln->demand++;

    if (ln->tokens && (ngx_msec_int_t) (ln->expires - now) > 0) {
        ln->tokens--;
        rc = NGX_OK;

    } else if (ln->demand_prev > 1
               && (ln->asking == 0 || now - ln->asking > 1000))
    {
        /*
         * a lease sized by the last period's demand, so that tokens taken
         * from the shared budget are spent, not left to expire; one asked
         * for at a time
         */

        ln->asking = now;
        *want = ngx_min(ln->demand_prev, z->lease);
    }

done:

    ngx_shmtx_unlock(&z->shpool->mutex);

    return rc;
}


void
ngx_http_mcp_limit_shm_lease_put(ngx_http_mcp_limit_zone_t *z, u_char *key,
    ngx_uint_t tokens)
{
    ngx_http_mcp_limit_node_t  *ln;

    ngx_shmtx_lock(&z->shpool->mutex);

    ln = ngx_http_mcp_limit_node(z, key);

    if (ln) {
        if ((ngx_msec_int_t) (ln->expires - ngx_current_msec) <= 0) {
            ln->tokens = 0;
        }

        ln->tokens += tokens;
        ln->expires = ngx_current_msec + 2 * NGX_HTTP_MCP_LIMIT_LEASE;
        ln->asking = 0;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);
}


void
ngx_http_mcp_limit_shm_quota(ngx_http_mcp_limit_zone_t *z,
    ngx_http_mcp_limit_use_t *use, u_char *key,
    ngx_http_mcp_limit_answer_t *a)
{
    time_t                      now, window;
    ngx_http_mcp_limit_node_t  *ln;

    now = ngx_time();
    window = now / use->period;

    ngx_shmtx_lock(&z->shpool->mutex);

    ln = ngx_http_mcp_limit_node(z, key);

    if (ln == NULL) {
        ngx_shmtx_unlock(&z->shpool->mutex);
        a->rc = NGX_ERROR;
        return;
    }

    if (window > ln->window) {
        ln->window = window;
        ln->ends = (window + 1) * use->period;
        ln->count = 0;
    }

    /* a clock stepped back counts in the window it had reached */

    window = ln->window;
    a->window = window;
    a->retry_after = (window + 1) * use->period - now;

    if (a->retry_after > use->period) {
        a->retry_after = use->period;
    }

    if (ln->count >= use->quota) {
        ngx_shmtx_unlock(&z->shpool->mutex);
        a->rc = NGX_BUSY;
        return;
    }

    ln->count++;

    ngx_shmtx_unlock(&z->shpool->mutex);

    a->rc = NGX_OK;
}


void
ngx_http_mcp_limit_shm_unquota(ngx_http_mcp_limit_zone_t *z, u_char *key,
    time_t window)
{
    ngx_http_mcp_limit_node_t  *ln;

    ngx_shmtx_lock(&z->shpool->mutex);

    ln = ngx_http_mcp_limit_node(z, key);

    if (ln && ln->window == window && ln->count) {
        ln->count--;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);
}


/* the node of key, made if need be, at the head of the queue; locked */

static ngx_http_mcp_limit_node_t *
ngx_http_mcp_limit_node(ngx_http_mcp_limit_zone_t *z, u_char *key)
{
    uint32_t                    hash;
    ngx_int_t                   rc;
    ngx_rbtree_node_t          *node, *sentinel;
    ngx_http_mcp_limit_node_t  *ln;

    ngx_memcpy(&hash, key, sizeof(uint32_t));

    node = z->sh->rbtree.root;
    sentinel = z->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash != node->key) {
            node = (hash < node->key) ? node->left : node->right;
            continue;
        }

        ln = (ngx_http_mcp_limit_node_t *) node;
        rc = ngx_memcmp(key, ln->key, NGX_HTTP_MCP_LIMIT_KEY_LEN);

        if (rc == 0) {
            ngx_queue_remove(&ln->queue);
            ngx_queue_insert_head(&z->sh->queue, &ln->queue);
            return ln;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    ngx_http_mcp_limit_expire(z, 1);

    ln = ngx_slab_alloc_locked(z->shpool, sizeof(ngx_http_mcp_limit_node_t));

    if (ln == NULL) {
        ngx_http_mcp_limit_expire(z, 0);

        ln = ngx_slab_alloc_locked(z->shpool,
                                   sizeof(ngx_http_mcp_limit_node_t));
        if (ln == NULL) {
            return NULL;
        }
    }

    ngx_memzero(ln, sizeof(ngx_http_mcp_limit_node_t));

    ln->node.key = hash;
    ngx_memcpy(ln->key, key, NGX_HTTP_MCP_LIMIT_KEY_LEN);

    ngx_rbtree_insert(&z->sh->rbtree, &ln->node);
    ngx_queue_insert_head(&z->sh->queue, &ln->queue);

    return ln;
}


static void
ngx_http_mcp_limit_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t          **p;
    ngx_http_mcp_limit_node_t   *ln, *lnt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            ln = (ngx_http_mcp_limit_node_t *) node;
            lnt = (ngx_http_mcp_limit_node_t *) temp;

            p = (ngx_memcmp(ln->key, lnt->key, NGX_HTTP_MCP_LIMIT_KEY_LEN)
                 < 0)
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


/*
 * n 1: frees up to two idle nodes from the tail (a bucket that a request
 * would find as a new key's, no lease at hand, a quota window over); n 0:
 * memory ran out, up to two nodes go whatever they hold, and that is
 * logged
 */

static void
ngx_http_mcp_limit_expire(ngx_http_mcp_limit_zone_t *z, ngx_uint_t n)
{
    time_t                      now;
    ngx_uint_t                  i, evicted;
    ngx_queue_t                *q;
    ngx_http_mcp_limit_node_t  *ln;

    now = ngx_time();
    evicted = 0;

    for (i = 0; i < 2; i++) {

        if (ngx_queue_empty(&z->sh->queue)) {
            break;
        }

        q = ngx_queue_last(&z->sh->queue);
        ln = ngx_queue_data(q, ngx_http_mcp_limit_node_t, queue);

        if (n) {
            if (z->type == NGX_HTTP_MCP_LIMIT_RATE) {
                /* a key is forgotten when it is as good as new */

                if (ngx_http_mcp_limit_excess(z, ln, ngx_current_msec) > 0
                    || (ln->tokens
                        && (ngx_msec_int_t) (ln->expires - ngx_current_msec)
                           > 0))
                {
                    break;
                }

            } else if (ln->count && now < ln->ends) {
                break;
            }

        } else {
            evicted++;
        }

        ngx_queue_remove(q);
        ngx_rbtree_delete(&z->sh->rbtree, &ln->node);
        ngx_slab_free_locked(z->shpool, ln);
    }

    if (evicted == 0) {
        return;
    }

    z->sh->evicted += evicted;

    if (now - z->sh->logged >= 60) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "mcp limit zone \"%V\" is full: %uA least recently "
                      "used keys forgotten", &z->name, z->sh->evicted);

        z->sh->logged = now;
        z->sh->evicted = 0;
    }
}
