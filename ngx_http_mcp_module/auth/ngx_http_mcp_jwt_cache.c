
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "auth/ngx_http_mcp_auth_int.h"


/*
 * Verified tokens of this worker, so that a repeated token costs a lookup
 * instead of a signature check.  The tree's key is a hash of the token's
 * last bytes (its signature, which no one can choose for a token someone
 * else holds); an entry matches when the whole token is equal, compared
 * in constant time, and was verified for the same location (issuer,
 * audience, keys): a token verified for one location is not taken as
 * verified for another.  One token checked in two locations is cached
 * once, for the one that checked it last.  The token's copy lives in the
 * worker's memory only.  An entry lasts until the token's exp
 * (with leeway) and only for the version of the fetched key set it was
 * checked with; at most NGX_HTTP_MCP_AUTH_CACHE_MAX entries, the least
 * recently used going first.  Requests hold the entry they use (their
 * identity points into it): one evicted while held is freed by the last
 * request that lets it go.
 */


#define NGX_HTTP_MCP_AUTH_CACHE_MAX  4096


typedef struct {
    ngx_rbtree_t                rbtree;
    ngx_rbtree_node_t           sentinel;
    ngx_queue_t                 queue;        /* most recent first */
    ngx_uint_t                  n;
} ngx_http_mcp_jwt_cache_t;


static ngx_http_mcp_token_t *ngx_http_mcp_jwt_cache_lookup(
    ngx_http_mcp_jwt_cache_t *cache, ngx_str_t *token);
static ngx_rbtree_key_t ngx_http_mcp_jwt_cache_key(ngx_str_t *token);
static ngx_uint_t ngx_http_mcp_jwt_cache_equal(u_char *a, u_char *b,
    size_t len);
static void ngx_http_mcp_jwt_cache_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static void ngx_http_mcp_jwt_cache_remove(ngx_http_mcp_token_t *t);
static void ngx_http_mcp_jwt_cache_release(void *data);


static ngx_http_mcp_jwt_cache_t  *ngx_http_mcp_jwt_cache;


static ngx_http_mcp_jwt_cache_t *
ngx_http_mcp_jwt_cache_get(void)
{
    ngx_http_mcp_jwt_cache_t  *cache;

    if (ngx_http_mcp_jwt_cache) {
        return ngx_http_mcp_jwt_cache;
    }

    /* the worker's, for its lifetime */

    cache = ngx_pcalloc(ngx_cycle->pool, sizeof(ngx_http_mcp_jwt_cache_t));
    if (cache == NULL) {
        return NULL;
    }

    ngx_rbtree_init(&cache->rbtree, &cache->sentinel,
                    ngx_http_mcp_jwt_cache_insert);
    ngx_queue_init(&cache->queue);

    ngx_http_mcp_jwt_cache = cache;

    return cache;
}


ngx_http_mcp_token_t *
ngx_http_mcp_jwt_cache_find(ngx_http_request_t *r, void *conf,
    ngx_str_t *token, ngx_uint_t generation)
{
    ngx_http_mcp_token_t      *t;
    ngx_http_mcp_jwt_cache_t  *cache;

    cache = ngx_http_mcp_jwt_cache_get();
    if (cache == NULL) {
        return NULL;
    }

    t = ngx_http_mcp_jwt_cache_lookup(cache, token);

    if (t == NULL || t->conf != conf) {
        return NULL;
    }

    if (t->expires < ngx_time() || t->generation != generation) {
        ngx_http_mcp_jwt_cache_remove(t);
        return NULL;
    }

    ngx_queue_remove(&t->queue);
    ngx_queue_insert_head(&cache->queue, &t->queue);

    return t;
}


/*
 * Equality of two tokens in time that depends on their length only, a
 * word at a time (CRYPTO_memcmp() goes byte by byte: 5 times slower on a
 * token of a few hundred bytes, and this runs on every request).
 */

static ngx_uint_t
ngx_http_mcp_jwt_cache_equal(u_char *a, u_char *b, size_t len)
{
    size_t    i;
    uint64_t  x, y, d;

    d = 0;

    for (i = 0; i + 8 <= len; i += 8) {
        ngx_memcpy(&x, a + i, 8);
        ngx_memcpy(&y, b + i, 8);
        d |= x ^ y;
    }

    for ( /* void */ ; i < len; i++) {
        d |= a[i] ^ b[i];
    }

    return d == 0;
}


static ngx_rbtree_key_t
ngx_http_mcp_jwt_cache_key(ngx_str_t *token)
{
    size_t  n;

    n = ngx_min(token->len, 32);

    return ngx_murmur_hash2(token->data + token->len - n, n);
}


static ngx_http_mcp_token_t *
ngx_http_mcp_jwt_cache_lookup(ngx_http_mcp_jwt_cache_t *cache,
    ngx_str_t *token)
{
    ngx_int_t              rc;
    ngx_rbtree_key_t       key;
    ngx_rbtree_node_t     *node, *sentinel;
    ngx_http_mcp_token_t  *t;

    key = ngx_http_mcp_jwt_cache_key(token);

    node = cache->rbtree.root;
    sentinel = cache->rbtree.sentinel;

    while (node != sentinel) {

        if (key != node->key) {
            node = (key < node->key) ? node->left : node->right;
            continue;
        }

        t = (ngx_http_mcp_token_t *) node;

        /* the equality that decides, in constant time */

        if (t->token.len == token->len
            && ngx_http_mcp_jwt_cache_equal(t->token.data, token->data,
                                            token->len))
        {
            return t;
        }

        rc = ngx_memn2cmp(token->data, t->token.data, token->len,
                          t->token.len);

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/* a new entry; the caller fills ->pool, ->claims, ->identity */

ngx_http_mcp_token_t *
ngx_http_mcp_jwt_cache_add(ngx_http_request_t *r, void *conf,
    ngx_str_t *token, time_t expires, ngx_uint_t generation)
{
    ngx_queue_t               *q;
    ngx_http_mcp_token_t      *t, *old;
    ngx_http_mcp_jwt_cache_t  *cache;

    cache = ngx_http_mcp_jwt_cache_get();
    if (cache == NULL) {
        return NULL;
    }

    t = ngx_alloc(sizeof(ngx_http_mcp_token_t) + token->len,
                  r->connection->log);
    if (t == NULL) {
        return NULL;
    }

    ngx_memzero(t, sizeof(ngx_http_mcp_token_t));

    t->token.data = (u_char *) t + sizeof(ngx_http_mcp_token_t);
    t->token.len = token->len;
    ngx_memcpy(t->token.data, token->data, token->len);

    t->conf = conf;
    t->expires = expires;
    t->generation = generation;

    /* the same token for another location: this one replaces it */

    old = ngx_http_mcp_jwt_cache_lookup(cache, token);

    if (old) {
        ngx_http_mcp_jwt_cache_remove(old);
    }

    while (cache->n >= NGX_HTTP_MCP_AUTH_CACHE_MAX) {
        q = ngx_queue_last(&cache->queue);
        old = ngx_queue_data(q, ngx_http_mcp_token_t, queue);
        ngx_http_mcp_jwt_cache_remove(old);
    }

    t->node.key = ngx_http_mcp_jwt_cache_key(token);

    ngx_rbtree_insert(&cache->rbtree, &t->node);
    ngx_queue_insert_head(&cache->queue, &t->queue);
    cache->n++;

    return t;
}


/* the request holds the entry until its pool goes */

void
ngx_http_mcp_jwt_cache_hold(ngx_http_request_t *r, ngx_http_mcp_token_t *t)
{
    t->refs++;
}


/* a request lets its entry go; or a new entry is given up */

void
ngx_http_mcp_jwt_cache_discard(ngx_http_mcp_token_t *t)
{
    if (t->refs) {
        t->refs--;
    }

    if (t->refs == 0 && t->dead) {
        ngx_http_mcp_jwt_cache_release(t);
    }
}


/* out of the tree; freed now, or by the last request holding it */

static void
ngx_http_mcp_jwt_cache_remove(ngx_http_mcp_token_t *t)
{
    ngx_http_mcp_jwt_cache_t  *cache;

    if (t->dead) {
        return;
    }

    cache = ngx_http_mcp_jwt_cache;

    ngx_rbtree_delete(&cache->rbtree, &t->node);
    ngx_queue_remove(&t->queue);
    cache->n--;

    t->dead = 1;

    if (t->refs == 0) {
        ngx_http_mcp_jwt_cache_release(t);
    }
}


static void
ngx_http_mcp_jwt_cache_release(void *data)
{
    ngx_http_mcp_token_t *t = data;

    if (t->pool) {
        ngx_destroy_pool(t->pool);
    }

    ngx_free(t);
}


static void
ngx_http_mcp_jwt_cache_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t     **p;
    ngx_http_mcp_token_t   *t, *tt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            t = (ngx_http_mcp_token_t *) node;
            tt = (ngx_http_mcp_token_t *) temp;

            p = (ngx_memn2cmp(t->token.data, tt->token.data, t->token.len,
                              tt->token.len)
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
