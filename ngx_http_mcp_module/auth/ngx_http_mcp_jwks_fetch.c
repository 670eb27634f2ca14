
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "auth/ngx_http_mcp_auth_int.h"


/*
 * Key sets fetched by subrequests (`mcp_auth_jwt_key_request URI`): the
 * operator's location reaches the identity provider with nginx's own
 * proxy_pass, TLS, resolver and proxy_cache; this file never opens a
 * connection.
 *
 * The text of each key set lives in one shared memory zone, so that one
 * fetch serves every worker; each worker parses it once per version into
 * its own key objects.  A request that finds no fresh set starts the
 * fetch as an in-memory subrequest and waits for it in the access phase;
 * requests arriving meanwhile use the stale set, or, with none, look
 * again every NGX_HTTP_MCP_AUTH_POLL ms until the fetch is done or
 * NGX_HTTP_MCP_AUTH_FETCH_WAIT has passed.  A failed fetch is not tried
 * again for NGX_HTTP_MCP_AUTH_REFRESH seconds, nor is a fetch for a kid
 * the set lacks, so tokens naming made-up kids cannot drive the identity
 * provider.
 */


#define NGX_HTTP_MCP_KEY_SLOTS      32
#define NGX_HTTP_MCP_KEY_ERROR_MAX  128
#define NGX_HTTP_MCP_KEY_TEXT_MAX   (1024 * 1024)


struct ngx_http_mcp_key_slot_s {
    ngx_atomic_t                generation;   /* +1 per text stored */
    time_t                      fetched;      /* the text's age */
    time_t                      fetching;     /* a fetch started then */
    time_t                      failed;       /* the last failure */
    u_char                     *text;         /* slab memory */
    size_t                      len;
    ngx_uint_t                  nkeys;
    u_char                      error[NGX_HTTP_MCP_KEY_ERROR_MAX];
    size_t                      error_len;
};


typedef struct {
    ngx_http_mcp_key_slot_t     slot[NGX_HTTP_MCP_KEY_SLOTS];
} ngx_http_mcp_key_shctx_t;


/* one fetch: the answer, taken by the body filter below */

typedef struct {
    ngx_http_mcp_key_request_t *kr;
    time_t                      started;      /* slot->fetching of it */
    u_char                     *data;
    size_t                      len;
    size_t                      size;
    unsigned                    too_big:1;
    unsigned                    complete:1;
} ngx_http_mcp_key_fetch_t;


typedef struct {
    ngx_http_mcp_key_shctx_t   *sh;
    ngx_slab_pool_t            *shpool;
    ngx_http_mcp_auth_main_conf_t  *amcf;
} ngx_http_mcp_key_zone_t;


static ngx_int_t ngx_http_mcp_key_zone_init(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_mcp_key_start(ngx_http_request_t *r,
    ngx_http_mcp_auth_ctx_t *ctx, ngx_http_mcp_key_request_t *kr,
    time_t started);
static ngx_int_t ngx_http_mcp_key_fetched(ngx_http_request_t *sr,
    void *data, ngx_int_t rc);
static void ngx_http_mcp_key_store(ngx_http_request_t *sr,
    ngx_http_mcp_key_fetch_t *f, u_char *text, size_t len,
    ngx_uint_t nkeys, char *fmt, ...);
static ngx_int_t ngx_http_mcp_key_load(ngx_http_mcp_key_request_t *kr,
    ngx_log_t *log);
static void ngx_http_mcp_key_wake(ngx_event_t *ev);
static void ngx_http_mcp_key_error(ngx_http_mcp_auth_ctx_t *ctx);
static ngx_int_t ngx_http_mcp_key_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);


static ngx_http_output_body_filter_pt  ngx_http_mcp_key_next_body_filter;




ngx_http_mcp_key_request_t *
ngx_http_mcp_key_request_add(ngx_conf_t *cf, ngx_str_t *uri)
{
    u_char                          *p;
    ngx_str_t                        name;
    ngx_uint_t                       i;
    ngx_http_mcp_key_zone_t         *z;
    ngx_http_core_srv_conf_t        *cscf;
    ngx_http_mcp_key_request_t      *kr, **krp;
    ngx_http_mcp_auth_main_conf_t   *amcf;

    static ngx_uint_t                generation;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_auth_module);
    cscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_core_module);

    krp = amcf->key_requests.elts;

    for (i = 0; i < amcf->key_requests.nelts; i++) {
        if (krp[i]->server == cscf
            && krp[i]->uri.len == uri->len
            && ngx_strncmp(krp[i]->uri.data, uri->data, uri->len) == 0)
        {
            return krp[i];
        }
    }

    if (amcf->key_requests.nelts == NGX_HTTP_MCP_KEY_SLOTS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "more than %d key requests (server and URI)",
                           NGX_HTTP_MCP_KEY_SLOTS);
        return NULL;
    }

    kr = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_key_request_t));
    krp = ngx_array_push(&amcf->key_requests);

    if (kr == NULL || krp == NULL) {
        return NULL;
    }

    kr->uri = *uri;
    kr->server = cscf;
    *krp = kr;

    if (amcf->zone) {
        return kr;
    }

    /*
     * One zone for the key sets of this configuration, with a name of its
     * own: a reload starts with new slots (each set fetched again once),
     * and never hands one server's keys to another while old workers
     * still run.
     */

    p = ngx_pnalloc(cf->pool, sizeof("mcp_auth_key_sets.") + NGX_INT_T_LEN);
    if (p == NULL) {
        return NULL;
    }

    name.data = p;
    name.len = ngx_sprintf(p, "mcp_auth_key_sets.%ui", generation++) - p;

    amcf->zone = ngx_shared_memory_add(cf, &name, 4 * 1024 * 1024,
                                       &ngx_http_mcp_auth_module);
    if (amcf->zone == NULL) {
        return NULL;
    }

    z = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_key_zone_t));
    if (z == NULL) {
        return NULL;
    }

    z->amcf = amcf;

    amcf->zone->init = ngx_http_mcp_key_zone_init;
    amcf->zone->data = z;

    return kr;
}


/* the key requests of this configuration, a slot each */

static ngx_int_t
ngx_http_mcp_key_zone_init(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_uint_t                    i;
    ngx_http_mcp_key_zone_t      *z;
    ngx_http_mcp_key_request_t  **krp;

    z = shm_zone->data;
    z->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        z->sh = z->shpool->data;

    } else {
        z->sh = ngx_slab_calloc(z->shpool, sizeof(ngx_http_mcp_key_shctx_t));
        if (z->sh == NULL) {
            return NGX_ERROR;
        }

        z->shpool->data = z->sh;
        z->shpool->log_nomem = 0;
    }

    krp = z->amcf->key_requests.elts;

    for (i = 0; i < z->amcf->key_requests.nelts; i++) {
        krp[i]->slot = &z->sh->slot[i];
        krp[i]->slot_pool = z->shpool;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_mcp_key_request_get(ngx_http_request_t *r,
    ngx_http_mcp_auth_ctx_t *ctx, ngx_http_mcp_key_request_t *kr,
    time_t max_age, ngx_uint_t refresh, ngx_http_mcp_jwks_t **set,
    ngx_uint_t *generation)
{
    time_t                    now;
    ngx_uint_t                start;
    ngx_http_mcp_key_slot_t  *slot;

    slot = kr->slot;
    now = ngx_time();

    if (slot->generation != kr->generation
        && ngx_http_mcp_key_load(kr, r->connection->log) == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    *set = kr->set;
    *generation = kr->generation;

    if (kr->set && !refresh && now - slot->fetched < max_age) {
        return NGX_OK;                          /* fresh */
    }

    if (ctx->fetched
        || (kr->set && refresh
            && now - slot->fetched < NGX_HTTP_MCP_AUTH_REFRESH))
    {
        /* fetched for this very request, or just now: what there is */
        goto have;
    }

    start = 0;

    ngx_shmtx_lock(&kr->slot_pool->mutex);

    if (now - slot->fetching >= NGX_HTTP_MCP_AUTH_FETCH_WAIT
        && now - slot->failed >= NGX_HTTP_MCP_AUTH_REFRESH)
    {
        slot->fetching = now;
        start = 1;
    }

    ngx_shmtx_unlock(&kr->slot_pool->mutex);

    if (start) {
        return ngx_http_mcp_key_start(r, ctx, kr, now);
    }

    if (kr->set || now - slot->fetching >= NGX_HTTP_MCP_AUTH_FETCH_WAIT) {
        /* stale keys while another request fetches; or a recent failure */
        goto have;
    }

    /* no keys yet and a fetch under way elsewhere: look again soon */

    if (ctx->wait_until == 0) {
        ctx->wait_until = now + NGX_HTTP_MCP_AUTH_FETCH_WAIT;
    }

    if (now >= ctx->wait_until) {
        goto have;
    }

    ctx->wait.handler = ngx_http_mcp_key_wake;
    ctx->wait.data = r;
    ctx->wait.log = r->connection->log;

    ngx_add_timer(&ctx->wait, NGX_HTTP_MCP_AUTH_POLL);

    return NGX_AGAIN;

have:

    if (kr->set) {
        return NGX_OK;
    }

    ngx_http_mcp_key_error(ctx);

    return NGX_DECLINED;
}


/* no key set: the reason the client gets */

static void
ngx_http_mcp_key_error(ngx_http_mcp_auth_ctx_t *ctx)
{
    /*
     * The client learns only that there are no keys; why (the identity
     * provider's status, a parse error) is in the error log, written when
     * the fetch failed, and in readiness.
     */

    ngx_str_set(&ctx->error, "no keys to verify with");
}


static void
ngx_http_mcp_key_wake(ngx_event_t *ev)
{
    ngx_http_request_t  *r;
    ngx_connection_t    *c;

    r = ev->data;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "mcp auth: looking for a key set again");

    r->write_event_handler(r);

    ngx_http_run_posted_requests(c);
}


/*
 * A GET of the key set's location, answered into memory: none of the
 * client's headers but Host go with it (its Authorization least of all),
 * and nothing of the client's body.
 */

static ngx_int_t
ngx_http_mcp_key_start(ngx_http_request_t *r, ngx_http_mcp_auth_ctx_t *ctx,
    ngx_http_mcp_key_request_t *kr, time_t started)
{
    ngx_str_t                     server;
    ngx_table_elt_t              *h, *host;
    ngx_http_request_t           *sr;
    ngx_http_mcp_key_fetch_t     *f;
    ngx_http_post_subrequest_t   *ps;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mcp auth: fetching the key set \"%V\"", &kr->uri);

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    f = ngx_pcalloc(r->pool, sizeof(ngx_http_mcp_key_fetch_t));

    if (ps == NULL || f == NULL) {
        ngx_http_mcp_key_request_abandon(kr, started);
        return NGX_ERROR;
    }

    f->kr = kr;
    f->started = started;

    ps->handler = ngx_http_mcp_key_fetched;
    ps->data = f;

    /*
     * Not nginx's in-memory subrequest: an answer over its buffer would
     * end the client's request with it; the body filter below takes the
     * answer, up to 1m, files and cached answers included.
     */

    if (ngx_http_subrequest(r, &kr->uri, NULL, &sr, ps,
                            NGX_HTTP_SUBREQUEST_WAITED)
        != NGX_OK)
    {
        ngx_http_mcp_key_request_abandon(kr, started);
        return NGX_ERROR;
    }


    sr->method = NGX_HTTP_GET;
    ngx_str_set(&sr->method_name, "GET");
    sr->header_only = 0;
    sr->request_body = NULL;

    /* nothing of the client's request but its Host */

    host = r->headers_in.host;
    server = r->headers_in.server;

    ngx_memzero(&sr->headers_in, sizeof(ngx_http_headers_in_t));

    sr->headers_in.server = server;
    sr->headers_in.content_length_n = -1;
    sr->headers_in.keep_alive_n = -1;

    if (ngx_list_init(&sr->headers_in.headers, r->pool, 2,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        ngx_http_mcp_key_request_abandon(kr, started);
        return NGX_ERROR;
    }

    if (host) {
        h = ngx_list_push(&sr->headers_in.headers);
        if (h == NULL) {
            ngx_http_mcp_key_request_abandon(kr, started);
            return NGX_ERROR;
        }

        *h = *host;
        sr->headers_in.host = h;
    }

    ctx->fetch = sr;
    ctx->fetched = 1;
    ctx->kr = kr;
    ctx->fetch_started = started;

    return NGX_AGAIN;
}


/*
 * The subrequest's answer is taken here instead of going to the client:
 * up to NGX_HTTP_MCP_KEY_TEXT_MAX bytes, the rest dropped (and the answer
 * then refused).
 */

static ngx_int_t
ngx_http_mcp_key_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    u_char                    *p;
    size_t                     len, size;
    ssize_t                    n;
    ngx_buf_t                 *b;
    ngx_chain_t               *cl;
    ngx_http_mcp_key_fetch_t  *f;

    if (r == r->main || r->post_subrequest == NULL
        || r->post_subrequest->handler != ngx_http_mcp_key_fetched)
    {
        return ngx_http_mcp_key_next_body_filter(r, in);
    }

    f = r->post_subrequest->data;

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;

        if (b->last_buf || b->last_in_chain) {
            f->complete = 1;
        }

        /*
         * This filter runs above the copy filter (the module is loaded
         * after nginx's own): a static file or a cached answer arrives as
         * file buffers, read here, as the copy filter would.
         */

        if (ngx_buf_in_memory(b)) {
            len = b->last - b->pos;

        } else if (b->in_file) {
            len = b->file_last - b->file_pos;

        } else {
            continue;
        }

        if (f->too_big || f->len + len > NGX_HTTP_MCP_KEY_TEXT_MAX) {
            f->too_big = 1;
            goto consumed;
        }

        if (f->len + len > f->size) {
            size = ngx_max(f->size * 2, f->len + len);
            size = ngx_max(size, 4096);

            p = ngx_pnalloc(r->pool, size);
            if (p == NULL) {
                return NGX_ERROR;
            }

            if (f->len) {
                ngx_memcpy(p, f->data, f->len);
            }

            f->data = p;
            f->size = size;
        }

        if (ngx_buf_in_memory(b)) {
            ngx_memcpy(f->data + f->len, b->pos, len);

        } else {
            n = ngx_read_file(b->file, f->data + f->len, len, b->file_pos);

            if (n != (ssize_t) len) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "mcp auth: cannot read the key set from "
                              "\"%V\"", &b->file->name);
                f->too_big = 1;
                goto consumed;
            }
        }

        f->len += len;

    consumed:

        if (ngx_buf_in_memory(b)) {
            b->pos = b->last;
        }

        if (b->in_file) {
            b->file_pos = b->file_last;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_mcp_key_filter_init(ngx_conf_t *cf)
{
    ngx_http_mcp_auth_main_conf_t  *amcf;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_auth_module);

    /*
     * Without mcp_auth_jwt_key_request (the locations are merged by now)
     * no key set is fetched: no filter, and no response pays for one.
     * Where there is one, other responses pay its first test only.
     */

    if (amcf->key_requests.nelts == 0) {
        return NGX_OK;
    }

    ngx_http_mcp_key_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_mcp_key_body_filter;

    return NGX_OK;
}


/* the subrequest is done: its answer becomes the slot's text, or why not */

static ngx_int_t
ngx_http_mcp_key_fetched(ngx_http_request_t *sr, void *data, ngx_int_t rc)
{
    ngx_http_mcp_key_fetch_t *f = data;

    ngx_str_t                    err;
    ngx_uint_t                   status;
    ngx_pool_t                  *pool;
    ngx_http_mcp_jwks_t          set;
    ngx_http_mcp_auth_ctx_t     *ctx;
    ngx_http_mcp_key_request_t  *kr;

    kr = f->kr;
    ctx = ngx_http_get_module_ctx(sr->parent, ngx_http_mcp_auth_module);

    if (ctx == NULL || ctx->fetch != sr) {
        return rc;              /* the last of several finalizations */
    }

    ctx->fetch = NULL;

    /* the client went away: not the identity provider's failure */

    if (rc == NGX_HTTP_CLIENT_CLOSED_REQUEST || sr->connection->error) {
        ngx_http_mcp_key_request_abandon(kr, f->started);
        return rc;
    }

    status = sr->headers_out.status;

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE && status < NGX_HTTP_SPECIAL_RESPONSE)
    {
        status = rc;
    }

    if (rc == NGX_ERROR || status == 0) {
        ngx_http_mcp_key_store(sr, f, NULL, 0, 0,
                               "the subrequest failed");
        return rc;
    }

    if (status != NGX_HTTP_OK) {
        ngx_http_mcp_key_store(sr, f, NULL, 0, 0, "HTTP status %ui",
                               status);
        return rc;
    }

    if (f->too_big) {
        ngx_http_mcp_key_store(sr, f, NULL, 0, 0,
                               "an answer over %uz bytes",
                               (size_t) NGX_HTTP_MCP_KEY_TEXT_MAX);
        return rc;
    }

    if (!f->complete) {
        ngx_http_mcp_key_store(sr, f, NULL, 0, 0, "an answer cut short");
        return rc;
    }

    if (f->len == 0) {
        ngx_http_mcp_key_store(sr, f, NULL, 0, 0, "an empty answer");
        return rc;
    }

    /* parsed here once to refuse a bad set before any worker takes it */

    pool = ngx_create_pool(4096, sr->connection->log);
    if (pool == NULL) {
        ngx_http_mcp_key_request_abandon(kr, f->started);
        return rc;
    }

    if (ngx_http_mcp_jwks_parse(pool, f->data, f->len, &set, &err) != NGX_OK)
    {
        ngx_http_mcp_key_store(sr, f, NULL, 0, 0, "an invalid key set: %V",
                               &err);
        ngx_destroy_pool(pool);
        return rc;
    }

    ngx_http_mcp_key_store(sr, f, f->data, f->len, set.keys.nelts, NULL);

    ngx_destroy_pool(pool);

    return rc;
}


/* a new text (fmt NULL), or a failure (the old text stays) */

static void
ngx_http_mcp_key_store(ngx_http_request_t *sr, ngx_http_mcp_key_fetch_t *f,
    u_char *text, size_t len, ngx_uint_t nkeys, char *fmt, ...)
{
    u_char                      *p, *last;
    va_list                      args;
    ngx_slab_pool_t             *shpool;
    ngx_http_mcp_key_slot_t     *slot;
    ngx_http_mcp_key_request_t  *kr;
    u_char                       error[NGX_HTTP_MCP_KEY_ERROR_MAX];

    kr = f->kr;
    slot = kr->slot;
    shpool = kr->slot_pool;
    last = error;

    if (fmt) {
        va_start(args, fmt);
        last = ngx_vslprintf(error, error + sizeof(error), fmt, args);
        va_end(args);

        ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                      "mcp auth: the key set \"%V\" could not be fetched: "
                      "%*s", &kr->uri, (size_t) (last - error), error);
    }

    ngx_shmtx_lock(&shpool->mutex);

    if (slot->fetching == f->started) {
        slot->fetching = 0;        /* not another request's, newer fetch */
    }

    if (fmt) {
        slot->failed = ngx_time();
        slot->error_len = last - error;
        ngx_memcpy(slot->error, error, slot->error_len);

        ngx_shmtx_unlock(&shpool->mutex);
        return;
    }

    p = ngx_slab_alloc_locked(shpool, len);

    if (p == NULL) {
        slot->failed = ngx_time();
        slot->error_len = ngx_sprintf(slot->error, "no room for the key set")
                          - slot->error;
        ngx_shmtx_unlock(&shpool->mutex);

        ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                      "mcp auth: no room in shared memory for the key set "
                      "\"%V\" of %uz bytes", &kr->uri, len);
        return;
    }

    if (slot->text) {
        ngx_slab_free_locked(shpool, slot->text);
    }

    ngx_memcpy(p, text, len);

    slot->text = p;
    slot->len = len;
    slot->nkeys = nkeys;
    slot->fetched = ngx_time();
    slot->failed = 0;
    slot->error_len = 0;
    slot->generation++;

    ngx_shmtx_unlock(&shpool->mutex);

    ngx_log_error(NGX_LOG_INFO, sr->connection->log, 0,
                  "mcp auth: key set \"%V\" fetched, %ui key(s)",
                  &kr->uri, nkeys);
}


/* this worker's copy of the slot's text, parsed */

static ngx_int_t
ngx_http_mcp_key_load(ngx_http_mcp_key_request_t *kr, ngx_log_t *log)
{
    u_char                   *copy;
    size_t                    len;
    ngx_str_t                 err;
    ngx_uint_t                generation;
    ngx_pool_t               *pool;
    ngx_slab_pool_t          *shpool;
    ngx_http_mcp_jwks_t      *set;
    ngx_http_mcp_key_slot_t  *slot;

    slot = kr->slot;
    shpool = kr->slot_pool;

    pool = ngx_create_pool(4096, log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    ngx_shmtx_lock(&shpool->mutex);

    generation = slot->generation;
    len = slot->len;
    copy = len ? ngx_pnalloc(pool, len) : NULL;

    if (copy) {
        ngx_memcpy(copy, slot->text, len);
    }

    ngx_shmtx_unlock(&shpool->mutex);

    set = ngx_palloc(pool, sizeof(ngx_http_mcp_jwks_t));

    if (copy == NULL || set == NULL
        || ngx_http_mcp_jwks_parse(pool, copy, len, set, &err) != NGX_OK)
    {
        /* checked when stored: memory only */
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                   "mcp auth: key set \"%V\" version %ui loaded",
                   &kr->uri, generation);

    if (kr->pool) {
        ngx_destroy_pool(kr->pool);
    }

    kr->pool = pool;
    kr->set = set;
    kr->generation = generation;

    return NGX_OK;
}


/* the fetching request went away: another may fetch at once */

void
ngx_http_mcp_key_request_abandon(ngx_http_mcp_key_request_t *kr,
    time_t started)
{
    ngx_slab_pool_t  *shpool;

    shpool = kr->slot_pool;

    ngx_shmtx_lock(&shpool->mutex);

    if (kr->slot->fetching == started) {
        kr->slot->fetching = 0;
    }

    ngx_shmtx_unlock(&shpool->mutex);
}


ngx_int_t
ngx_http_mcp_auth_check(ngx_uint_t i, ngx_pool_t *pool, ngx_str_t *name,
    ngx_str_t *detail)
{
    time_t                           now, age;
    ngx_int_t                        rc;
    ngx_slab_pool_t                 *shpool;
    ngx_http_mcp_key_slot_t         *slot;
    ngx_http_mcp_key_request_t     **krp;
    ngx_http_mcp_auth_main_conf_t   *amcf;
    u_char                           buf[NGX_HTTP_MCP_KEY_ERROR_MAX + 64];

    amcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_mcp_auth_module);

    if (amcf == NULL || i >= amcf->key_requests.nelts) {
        return NGX_DONE;
    }

    krp = amcf->key_requests.elts;
    slot = krp[i]->slot;
    shpool = krp[i]->slot_pool;
    now = ngx_time();

    name->len = sizeof("jwks:") - 1 + krp[i]->uri.len;
    name->data = ngx_pnalloc(pool, name->len);
    if (name->data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(name->data, "jwks:%V", &krp[i]->uri);

    ngx_shmtx_lock(&shpool->mutex);

    age = now - slot->fetched;

    if (slot->text == NULL && slot->failed == 0) {

        /* fetched by the first request that needs it */

        rc = NGX_OK;
        detail->len = ngx_snprintf(buf, sizeof(buf),
                                   "not fetched yet: fetched on first use")
                      - buf;

    } else if (slot->text == NULL) {
        rc = NGX_DECLINED;
        detail->len = ngx_snprintf(buf, sizeof(buf), "no keys: %*s",
                                   slot->error_len, slot->error)
                      - buf;

    } else if (slot->failed > slot->fetched) {

        /* the keys it has still verify tokens */

        rc = NGX_OK;
        detail->len = ngx_snprintf(buf, sizeof(buf),
                                   "%ui key(s) fetched %T s ago; the last "
                                   "fetch failed: %*s", slot->nkeys, age,
                                   slot->error_len, slot->error)
                      - buf;

    } else {
        rc = NGX_OK;
        detail->len = ngx_snprintf(buf, sizeof(buf),
                                   "%ui key(s) fetched %T s ago",
                                   slot->nkeys, age)
                      - buf;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    detail->data = ngx_pnalloc(pool, detail->len);
    if (detail->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(detail->data, buf, detail->len);

    return rc;
}
