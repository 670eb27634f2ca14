
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "transport/ngx_http_mcp_stream.h"
#include "state/ngx_http_mcp_mailbox.h"
#include "state/ngx_http_mcp_session.h"
#include "catalog/ngx_http_mcp_registry.h"


/*
 * This worker's long-lived streams (2025 GET streams, 2026 listen streams)
 * and what reaches them.  Each worker keeps its own: a queue of all, and
 * the GET streams by session digest.  What they hear travels as NOTIFY
 * letters of the mailbox (every worker of every replica, once):
 *
 *   id "s", session D, body: the 16 subscriptions of session D, each 16
 *       hex digits: resources/(un)subscribe changed them (the store has
 *       them too, for streams opened later);
 *   id "pK NAME", no session, body: a URI or nothing: mcp_publish says
 *       that the list K (0 tools, 1 resources, 2 prompts) of mcp_server
 *       NAME changed, or (K 3) that the resource of that URI did.
 *
 * A reload: each mcp_server's lists have a digest (CRC32 of their items),
 * written by the master into a small shared zone (mcp_catalogs) that
 * reloads keep.  An old worker that shuts down ends its streams; before
 * that, it tells each the lists whose digest in the zone (the new
 * configuration's) differs from its own.
 */


#define NGX_HTTP_MCP_CATALOG_MAX   256
#define NGX_HTTP_MCP_STREAMS_WATCH 250      /* ms */

#if defined(__GNUC__)
#define ngx_http_mcp_prefetch(p)   __builtin_prefetch(p)
#else
#define ngx_http_mcp_prefetch(p)   (void) (p)
#endif


typedef struct {
    uint32_t                    name;         /* CRC32 of the NAME */
    uint32_t                    lists[NGX_HTTP_MCP_NOTE_LISTS];
} ngx_http_mcp_catalog_sum_t;


typedef struct {
    ngx_uint_t                  n;
    ngx_http_mcp_catalog_sum_t  sums[NGX_HTTP_MCP_CATALOG_MAX];
} ngx_http_mcp_catalog_sh_t;


typedef struct {
    ngx_http_mcp_catalog_sh_t  *sh;
    ngx_slab_pool_t            *shpool;
    ngx_array_t                 own;          /* ngx_http_mcp_catalog_sum_t:
                                                 this configuration's */
    ngx_array_t                 servers;      /* ngx_http_mcp_server_t *,
                                                 in the order of own */
} ngx_http_mcp_catalog_ctx_t;


static ngx_int_t ngx_http_mcp_catalog_init_zone(ngx_shm_zone_t *zone,
    void *data);
static void ngx_http_mcp_catalog_sum(ngx_http_mcp_server_t *srv,
    ngx_http_mcp_catalog_sum_t *sum);
static void ngx_http_mcp_catalog_crc(uint32_t *crc, ngx_array_t *items,
    size_t json);
static void ngx_http_mcp_streams_remove(void *data);
static void ngx_http_mcp_streams_letter(ngx_http_mcp_letter_t *l);
static void ngx_http_mcp_streams_subs(ngx_http_mcp_letter_t *l);
static void ngx_http_mcp_streams_deliver(ngx_http_mcp_letter_t *l);
static ngx_inline void ngx_http_mcp_streams_ahead(ngx_queue_t *q);
static void ngx_http_mcp_streams_watch(ngx_event_t *ev);
static ngx_uint_t ngx_http_mcp_streams_wants(ngx_http_mcp_stream_t *st,
    ngx_http_mcp_note_e note, uint64_t key);


static ngx_queue_t      ngx_http_mcp_streams;
static ngx_uint_t       ngx_http_mcp_streams_h2;    /* of them, HTTP/2 */
static ngx_event_t      ngx_http_mcp_streams_watcher;
static ngx_rbtree_t     ngx_http_mcp_streams_tree;
static ngx_rbtree_node_t  ngx_http_mcp_streams_sentinel;


ngx_int_t
ngx_http_mcp_streams_conf(ngx_conf_t *cf)
{
    ngx_str_t                     name;
    ngx_uint_t                    i;
    ngx_shm_zone_t               *zone;
    ngx_http_mcp_server_t       **srv, **p;
    ngx_http_mcp_main_conf_t     *mmcf;
    ngx_http_mcp_catalog_ctx_t   *ctx;
    ngx_http_mcp_catalog_sum_t   *sum;

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_module);

    if (mmcf->servers.nelts == 0) {
        return NGX_OK;
    }

    ctx = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_catalog_ctx_t));
    if (ctx == NULL
        || ngx_array_init(&ctx->own, cf->pool, mmcf->servers.nelts,
                          sizeof(ngx_http_mcp_catalog_sum_t))
           != NGX_OK
        || ngx_array_init(&ctx->servers, cf->pool, mmcf->servers.nelts,
                          sizeof(ngx_http_mcp_server_t *))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    srv = mmcf->servers.elts;

    for (i = 0; i < mmcf->servers.nelts && i < NGX_HTTP_MCP_CATALOG_MAX; i++)
    {
        sum = ngx_array_push(&ctx->own);
        p = ngx_array_push(&ctx->servers);

        if (sum == NULL || p == NULL) {
            return NGX_ERROR;
        }

        ngx_http_mcp_catalog_sum(srv[i], sum);
        *p = srv[i];
    }

    ngx_str_set(&name, "mcp_catalogs");

    zone = ngx_shared_memory_add(cf, &name, 8 * ngx_pagesize,
                                 &ngx_http_mcp_module);
    if (zone == NULL) {
        return NGX_ERROR;
    }

    zone->init = ngx_http_mcp_catalog_init_zone;
    zone->data = ctx;
    zone->noreuse = 0;

    mmcf->catalogs = zone;

    return NGX_OK;
}


/* the master, for a new configuration: its digests, where all can see */

static ngx_int_t
ngx_http_mcp_catalog_init_zone(ngx_shm_zone_t *zone, void *data)
{
    ngx_http_mcp_catalog_ctx_t  *octx = data;

    ngx_http_mcp_catalog_ctx_t  *ctx;

    ctx = zone->data;

    if (octx) {
        ctx->sh = octx->sh;
        ctx->shpool = octx->shpool;

    } else {
        ctx->shpool = (ngx_slab_pool_t *) zone->shm.addr;

        ctx->sh = ngx_slab_alloc(ctx->shpool,
                                 sizeof(ngx_http_mcp_catalog_sh_t));
        if (ctx->sh == NULL) {
            return NGX_ERROR;
        }
    }

    ngx_shmtx_lock(&ctx->shpool->mutex);

    ctx->sh->n = ctx->own.nelts;
    ngx_memcpy(ctx->sh->sums, ctx->own.elts,
               ctx->own.nelts * sizeof(ngx_http_mcp_catalog_sum_t));

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return NGX_OK;
}


static void
ngx_http_mcp_catalog_sum(ngx_http_mcp_server_t *srv,
    ngx_http_mcp_catalog_sum_t *sum)
{
    sum->name = ngx_crc32_long(srv->id.data, srv->id.len);

    ngx_crc32_init(sum->lists[NGX_HTTP_MCP_NOTE_TOOLS]);
    ngx_http_mcp_catalog_crc(&sum->lists[NGX_HTTP_MCP_NOTE_TOOLS],
                             &srv->tools,
                             offsetof(ngx_http_mcp_tool_t, json));
    ngx_crc32_final(sum->lists[NGX_HTTP_MCP_NOTE_TOOLS]);

    ngx_crc32_init(sum->lists[NGX_HTTP_MCP_NOTE_RESOURCES]);
    ngx_http_mcp_catalog_crc(&sum->lists[NGX_HTTP_MCP_NOTE_RESOURCES],
                             &srv->resources,
                             offsetof(ngx_http_mcp_resource_t, json));
    ngx_http_mcp_catalog_crc(&sum->lists[NGX_HTTP_MCP_NOTE_RESOURCES],
                             &srv->templates,
                             offsetof(ngx_http_mcp_resource_t, json));
    ngx_crc32_final(sum->lists[NGX_HTTP_MCP_NOTE_RESOURCES]);

    ngx_crc32_init(sum->lists[NGX_HTTP_MCP_NOTE_PROMPTS]);
    ngx_http_mcp_catalog_crc(&sum->lists[NGX_HTTP_MCP_NOTE_PROMPTS],
                             &srv->prompts,
                             offsetof(ngx_http_mcp_prompt_t, json));
    ngx_crc32_final(sum->lists[NGX_HTTP_MCP_NOTE_PROMPTS]);
}


/* the items' JSON (a ngx_str_t at offset json of each) into crc */

static void
ngx_http_mcp_catalog_crc(uint32_t *crc, ngx_array_t *items, size_t json)
{
    u_char      *item;
    ngx_str_t   *s;
    ngx_uint_t   i;

    item = items->elts;

    for (i = 0; i < items->nelts; i++) {
        s = (ngx_str_t *) (item + i * items->size + json);
        ngx_crc32_update(crc, s->data, s->len);
    }
}


ngx_int_t
ngx_http_mcp_streams_init_process(ngx_cycle_t *cycle)
{
    ngx_queue_init(&ngx_http_mcp_streams);
    ngx_http_mcp_streams_h2 = 0;

    ngx_http_mcp_streams_watcher.handler = ngx_http_mcp_streams_watch;
    ngx_http_mcp_streams_watcher.log = cycle->log;

    ngx_rbtree_init(&ngx_http_mcp_streams_tree,
                    &ngx_http_mcp_streams_sentinel,
                    ngx_str_rbtree_insert_value);

    ngx_http_mcp_mailbox_subscribe(NGX_HTTP_MCP_LETTER_NOTIFY,
                                   ngx_http_mcp_streams_letter);

    return NGX_OK;
}


ngx_http_mcp_stream_t *
ngx_http_mcp_streams_find(u_char *digest)
{
    ngx_str_t        key;
    ngx_str_node_t  *n;

    key.data = digest;
    key.len = NGX_HTTP_MCP_SESSION_ID_LEN;

    n = ngx_str_rbtree_lookup(&ngx_http_mcp_streams_tree, &key,
                              ngx_crc32_short(digest, key.len));

    return n ? (ngx_http_mcp_stream_t *)
                   ((u_char *) n - offsetof(ngx_http_mcp_stream_t, node))
             : NULL;
}


ngx_int_t
ngx_http_mcp_streams_add(ngx_http_mcp_stream_t *st)
{
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(st->request->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_mcp_streams_remove;
    cln->data = st;

    ngx_http_mcp_streams_add_lite(st);

#if (NGX_HTTP_V2)
    if (st->request->stream) {
        ngx_http_mcp_streams_h2_join(st);
    }
#endif

    return NGX_OK;
}


/* an HTTP/2 stream: the watch looks for the worker's shutdown (below) */

void
ngx_http_mcp_streams_h2_join(ngx_http_mcp_stream_t *st)
{
    st->h2 = 1;
    ngx_http_mcp_streams_h2++;

    if (!ngx_http_mcp_streams_watcher.timer_set) {
        ngx_add_timer(&ngx_http_mcp_streams_watcher,
                      NGX_HTTP_MCP_STREAMS_WATCH);
    }
}


void
ngx_http_mcp_streams_h2_leave(ngx_http_mcp_stream_t *st)
{
    if (st->h2) {
        st->h2 = 0;
        ngx_http_mcp_streams_h2--;
    }
}


/* without a request: its end takes it out (ngx_http_mcp_streams_drop) */

void
ngx_http_mcp_streams_add_lite(ngx_http_mcp_stream_t *st)
{
    ngx_queue_insert_tail(&ngx_http_mcp_streams, &st->queue);

    if (st->listen == NULL) {
        st->node.str.data = st->digest;
        st->node.str.len = NGX_HTTP_MCP_SESSION_ID_LEN;
        st->node.node.key = ngx_crc32_short(st->digest,
                                            NGX_HTTP_MCP_SESSION_ID_LEN);
        ngx_rbtree_insert(&ngx_http_mcp_streams_tree, &st->node.node);
    }

    st->registered = 1;
}


static void
ngx_http_mcp_streams_remove(void *data)
{
    ngx_http_mcp_streams_drop(data);
}


void
ngx_http_mcp_streams_drop(ngx_http_mcp_stream_t *st)
{
    if (!st->registered) {
        return;
    }

    st->registered = 0;
    ngx_queue_remove(&st->queue);

    ngx_http_mcp_streams_h2_leave(st);

    if (st->listen == NULL) {
        ngx_rbtree_delete(&ngx_http_mcp_streams_tree, &st->node.node);
    }
}


ngx_int_t
ngx_http_mcp_streams_reloaded(ngx_http_mcp_stream_t *st)
{
    uint32_t                     lists[NGX_HTTP_MCP_NOTE_LISTS];
    ngx_str_t                    msg;
    ngx_uint_t                   i, found;
    ngx_http_mcp_server_t      **srv;
    ngx_http_mcp_main_conf_t    *mmcf;
    ngx_http_mcp_catalog_ctx_t  *ctx;
    ngx_http_mcp_catalog_sum_t  *own;

    /* this worker's configuration's zone (and digests) */

    mmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle, ngx_http_mcp_module);

    if (mmcf == NULL || mmcf->catalogs == NULL) {
        return NGX_OK;
    }

    ctx = mmcf->catalogs->data;

    if (ctx->sh == NULL) {
        return NGX_OK;
    }

    own = ctx->own.elts;
    srv = ctx->servers.elts;

    for (i = 0; i < ctx->servers.nelts; i++) {
        if (srv[i] == st->server) {
            break;
        }
    }

    if (i == ctx->servers.nelts) {
        return NGX_OK;
    }

    own = &own[i];
    found = 0;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    for (i = 0; i < ctx->sh->n; i++) {
        if (ctx->sh->sums[i].name == own->name) {
            ngx_memcpy(lists, ctx->sh->sums[i].lists, sizeof(lists));
            found = 1;
            break;
        }
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    if (!found) {
        return NGX_OK;                  /* the server went: its clients
                                           hear 404 when they come back */
    }

    for (i = 0; i < NGX_HTTP_MCP_NOTE_LISTS; i++) {

        if (lists[i] == own->lists[i]
            || !ngx_http_mcp_streams_wants(st, i, 0))
        {
            continue;
        }

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_http_mcp_stream_log(st), 0,
                       "mcp stream: list %ui changed by a reload", i);

        if (ngx_http_mcp_notification(ngx_http_mcp_stream_pool(st), i, NULL,
                                      st->listen, &msg)
            != NGX_OK
            || ngx_http_mcp_stream_send(st, &msg, NULL) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * Whether a stream hears of that: a listen stream what it asked for, a
 * GET stream the lists of its server (those it advertised) and the
 * resources its session subscribed to
 */

static ngx_uint_t
ngx_http_mcp_streams_wants(ngx_http_mcp_stream_t *st, ngx_http_mcp_note_e note,
    uint64_t key)
{
    ngx_uint_t              i, n;
    uint64_t               *subs;
    ngx_http_mcp_server_t  *srv;

    if (note == NGX_HTTP_MCP_NOTE_UPDATED) {

        if (st->listen) {
            subs = st->listen->subs;
            n = st->listen->nsubs;

        } else {
            subs = st->session.subs;
            n = NGX_HTTP_MCP_SESSION_SUBS;
        }

        for (i = 0; i < n; i++) {
            if (subs[i] == key) {
                return 1;
            }
        }

        return 0;
    }

    if (st->listen) {
        return (st->listen->kinds & (1 << note)) != 0;
    }

    srv = st->server;

    switch (note) {

    case NGX_HTTP_MCP_NOTE_TOOLS:
        return srv->tools.nelts != 0;

    case NGX_HTTP_MCP_NOTE_RESOURCES:
        return srv->resources.nelts + srv->templates.nelts != 0;

    default: /* NGX_HTTP_MCP_NOTE_PROMPTS */
        return srv->prompts.nelts != 0;
    }
}


void
ngx_http_mcp_streams_subs_changed(ngx_http_mcp_session_t *s, ngx_log_t *log)
{
    u_char                 digest[NGX_HTTP_MCP_SESSION_ID_LEN];
    u_char                 body[NGX_HTTP_MCP_SESSION_SUBS * 16], *p;
    ngx_str_t              id;
    ngx_uint_t             i;
    ngx_http_mcp_letter_t  l;

    id.data = s->id;
    id.len = NGX_HTTP_MCP_SESSION_ID_LEN;

    ngx_http_mcp_session_digest(&id, digest);

    p = body;

    for (i = 0; i < NGX_HTTP_MCP_SESSION_SUBS; i++) {
        p = ngx_sprintf(p, "%016xL", s->subs[i]);
    }

    l.kind = NGX_HTTP_MCP_LETTER_NOTIFY;
    l.session.data = digest;
    l.session.len = sizeof(digest);
    ngx_str_set(&l.id, "s");
    l.body.data = body;
    l.body.len = p - body;

    if (ngx_http_mcp_mailbox_post(&l, 1) != NGX_OK) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "mcp: the session's streams may not hear of its "
                      "new subscriptions until they reopen");
    }
}


ngx_int_t
ngx_http_mcp_streams_publish(ngx_http_mcp_server_t *srv,
    ngx_http_mcp_note_e note, ngx_str_t *uri)
{
    u_char                 id[NGX_HTTP_MCP_LETTER_ID_MAX];
    ngx_http_mcp_letter_t  l;

    if (srv->id.len + 3 > NGX_HTTP_MCP_LETTER_ID_MAX) {
        return NGX_DECLINED;
    }

    /* empty, not NULL: the mailbox copies them with memcpy() */

    l.kind = NGX_HTTP_MCP_LETTER_NOTIFY;
    l.session.data = id;
    l.session.len = 0;
    l.id.data = id;
    l.id.len = ngx_sprintf(id, "p%ui %V", (ngx_uint_t) note, &srv->id) - id;

    if (uri) {
        l.body = *uri;

    } else {
        l.body.data = id;
        l.body.len = 0;
    }

    return ngx_http_mcp_mailbox_post(&l, 1);
}


static void
ngx_http_mcp_streams_letter(ngx_http_mcp_letter_t *l)
{
    if (l->id.len == 1 && l->id.data[0] == 's') {
        ngx_http_mcp_streams_subs(l);

    } else if (l->id.len > 3 && l->id.data[0] == 'p') {
        ngx_http_mcp_streams_deliver(l);
    }
}


/* a session's subscriptions changed: its GET stream here takes them */

static void
ngx_http_mcp_streams_subs(ngx_http_mcp_letter_t *l)
{
    u_char                 *p, c;
    uint64_t                subs[NGX_HTTP_MCP_SESSION_SUBS];
    ngx_uint_t              i, j;
    ngx_http_mcp_stream_t  *st;

    if (l->session.len != NGX_HTTP_MCP_SESSION_ID_LEN
        || l->body.len != sizeof(subs) * 2)
    {
        return;
    }

    st = ngx_http_mcp_streams_find(l->session.data);
    if (st == NULL) {
        return;
    }

    p = l->body.data;

    for (i = 0; i < NGX_HTTP_MCP_SESSION_SUBS; i++) {
        subs[i] = 0;

        for (j = 0; j < 16; j++) {
            c = *p++;

            if (c >= '0' && c <= '9') {
                c -= '0';

            } else if (c >= 'a' && c <= 'f') {
                c = c - 'a' + 10;

            } else {
                return;
            }

            subs[i] = (subs[i] << 4) | c;
        }
    }

    ngx_memcpy(st->session.subs, subs, sizeof(subs));

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ngx_http_mcp_stream_log(st), 0,
                   "mcp stream: the session's subscriptions changed");
}


/* a publication: to every stream here that wants it */

static void
ngx_http_mcp_streams_deliver(ngx_http_mcp_letter_t *l)
{
    uint64_t                     key;
    ngx_str_t                    name, msg, shared, *uri;
    ngx_uint_t                   n;
    ngx_pool_t                  *pool;
    ngx_queue_t                 *q, *next;
    ngx_http_mcp_note_e          note;
    ngx_http_mcp_stream_t       *st;
    ngx_http_mcp_events_share_t  share;

    if (l->id.data[1] < '0' || l->id.data[1] > '3' || l->id.data[2] != ' ') {
        return;
    }

    note = l->id.data[1] - '0';
    name.data = l->id.data + 3;
    name.len = l->id.len - 3;

    uri = NULL;
    key = 0;

    if (note == NGX_HTTP_MCP_NOTE_UPDATED) {
        if (l->body.len == 0) {
            return;
        }

        uri = &l->body;
        key = ngx_http_mcp_session_uri_key(uri);
    }

    pool = NULL;
    ngx_str_null(&shared);
    share.blob = NULL;
    n = 0;

    for (q = ngx_queue_head(&ngx_http_mcp_streams);
         q != ngx_queue_sentinel(&ngx_http_mcp_streams);
         q = next)
    {
        next = ngx_queue_next(q);
        st = ngx_queue_data(q, ngx_http_mcp_stream_t, queue);

        ngx_http_mcp_streams_ahead(next);

        if (st->server->id.len != name.len
            || ngx_strncmp(st->server->id.data, name.data, name.len) != 0
            || !ngx_http_mcp_streams_wants(st, note, key))
        {
            continue;
        }

        if (pool == NULL) {
            pool = ngx_create_pool(1024, ngx_cycle->log);
            if (pool == NULL) {
                return;
            }
        }

        /* a GET stream's message is every GET stream's */

        if (st->listen || shared.len == 0) {
            if (ngx_http_mcp_notification(pool, note, uri, st->listen, &msg)
                != NGX_OK)
            {
                break;
            }

            if (st->listen == NULL) {
                shared = msg;
            }

        } else {
            msg = shared;
        }

        /* dropped or not, the next stays in the queue */

        (void) ngx_http_mcp_stream_send(st, &msg, st->listen ? NULL : &share);
        n++;
    }

    ngx_http_mcp_events_unshare(&share);

    if (pool) {
        ngx_destroy_pool(pool);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "mcp streams: publication %V to %ui stream(s)",
                   &l->id, n);
}


/*
 * A worker that shuts down (a reload) tells its HTTP/1 connections, and a
 * stream on one ends with a retry: hint (stream.c); nginx tells an HTTP/2
 * connection only (GOAWAY), not its streams, and a worker that exits with
 * one open cuts it and logs "open socket left".  So while HTTP/2 streams
 * are open (GET and listen streams here, streams resuming a POST's in
 * stream.c), a look every NGX_HTTP_MCP_STREAMS_WATCH ms: once the worker
 * shuts down they end as HTTP/1 streams do.  The timer is not cancelable:
 * the worker waits for it.
 */

static void
ngx_http_mcp_streams_watch(ngx_event_t *ev)
{
    ngx_queue_t            *q, *next;
    ngx_http_mcp_stream_t  *st;

    if (!ngx_exiting) {
        if (ngx_http_mcp_streams_h2) {
            ngx_add_timer(ev, NGX_HTTP_MCP_STREAMS_WATCH);
        }

        return;
    }

    for (q = ngx_queue_head(&ngx_http_mcp_streams);
         q != ngx_queue_sentinel(&ngx_http_mcp_streams);
         q = next)
    {
        next = ngx_queue_next(q);
        st = ngx_queue_data(q, ngx_http_mcp_stream_t, queue);

        /* its request may stay a while (its end unsent): once is enough */

        if (st->h2 && !st->sse.ended) {
            ngx_http_mcp_stream_shutdown(st);
        }
    }

    ngx_http_mcp_stream_resumers_shutdown();
}


/*
 * A publication reads, of each stream, memory no other stream shares: the
 * stream, its connection, its session's events in the zone.  A stream's
 * turn takes microseconds of socket calls; meanwhile what the next ones
 * read is on its way to the cache (else 10,000 streams wait on memory for
 * milliseconds).
 */

static ngx_inline void
ngx_http_mcp_streams_ahead(ngx_queue_t *q)
{
    u_char                 *p;
    ngx_queue_t            *after;
    ngx_http_mcp_stream_t  *st;

    if (q == ngx_queue_sentinel(&ngx_http_mcp_streams)) {
        return;
    }

    /* the stream after the next: its first lines, all a publication reads */

    after = ngx_queue_next(q);

    if (after != ngx_queue_sentinel(&ngx_http_mcp_streams)) {
        p = (u_char *) ngx_queue_data(after, ngx_http_mcp_stream_t, queue);

        ngx_http_mcp_prefetch(p);
        ngx_http_mcp_prefetch(p + NGX_CPU_CACHE_LINE);
        ngx_http_mcp_prefetch(p + 2 * NGX_CPU_CACHE_LINE);
    }

    /* the next stream (its lines came a turn ago): what it points to */

    st = ngx_queue_data(q, ngx_http_mcp_stream_t, queue);

    if (st->lite) {
        ngx_http_mcp_prefetch(st->conn);
    }

    p = st->hint.node;

    if (p) {
        ngx_http_mcp_prefetch(p);
        ngx_http_mcp_prefetch(p + NGX_CPU_CACHE_LINE);
        ngx_http_mcp_prefetch(p + 2 * NGX_CPU_CACHE_LINE);
    }
}
