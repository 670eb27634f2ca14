
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "observe/ngx_http_mcp_observe.h"
#include "observe/ngx_http_mcp_metrics.h"
#include "observe/ngx_http_mcp_metrics_int.h"


/*
 * The metrics zone ("mcp_metrics", sized by the configuration): one node
 * per series of operations, a method's ("tools/list") or an entry's
 * ("tools/call" of the tool "search"), found by name in a tree when the
 * zone is made, so that a reload keeps the counts of every series it
 * still has (a zone that must grow past its size starts again).  A
 * request adds to its node with atomic adds only: no lock, no lookup.
 * Names follow the OpenTelemetry semantic conventions for MCP
 * (mcp.server.operation.duration, mcp.method.name, gen_ai.tool.name,
 * error.type) in Prometheus form; docs/metrics.txt lists them.
 */


/* a series the configuration wants */

typedef struct {
    ngx_uint_t                  method;
    ngx_str_t                   name;
    ngx_str_t                   kind;
    ngx_str_t                   target;
    void                      **series;
} ngx_http_mcp_wanted_t;


static ngx_int_t ngx_http_mcp_metrics_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_http_mcp_series_t *ngx_http_mcp_series(
    ngx_http_mcp_metrics_ctx_t *ctx, ngx_http_mcp_wanted_t *w);
static ngx_str_t *ngx_http_mcp_metrics_copy(ngx_slab_pool_t *shpool,
    ngx_str_t *dst, ngx_str_t *src);
static ngx_uint_t ngx_http_mcp_method_index(ngx_str_t *method);
static ngx_uint_t ngx_http_mcp_outcome_index(ngx_int_t outcome);
static void ngx_http_mcp_metrics_generation(ngx_http_mcp_metrics_ctx_t *ctx,
    ngx_http_mcp_metrics_ctx_t *octx);


ngx_str_t  ngx_http_mcp_metric_methods[NGX_HTTP_MCP_NM] = {
    ngx_string("initialize"),
    ngx_string("ping"),
    ngx_string("server/discover"),
    ngx_string("tools/list"),
    ngx_string("tools/call"),
    ngx_string("resources/list"),
    ngx_string("resources/templates/list"),
    ngx_string("resources/read"),
    ngx_string("prompts/list"),
    ngx_string("prompts/get"),
    ngx_string("completion/complete"),
    ngx_string("logging/setLevel"),
    ngx_string("other")
};


ngx_str_t  ngx_http_mcp_metric_outcomes[NGX_HTTP_MCP_NOUT] = {
    ngx_string("ok"), ngx_string("tool_error"), ngx_string("-32700"),
    ngx_string("-32600"), ngx_string("-32601"), ngx_string("-32602"),
    ngx_string("-32603"), ngx_string("-32001"), ngx_string("-32002"),
    ngx_string("-32003"), ngx_string("-32020"), ngx_string("-32021"),
    ngx_string("-32022"), ngx_string("-32029"), ngx_string("other")
};

static ngx_int_t  ngx_http_mcp_metric_codes[NGX_HTTP_MCP_NOUT] = {
    0, 0, -32700, -32600, -32601, -32602, -32603, -32001, -32002, -32003,
    -32020, -32021, -32022, -32029, 0
};


/* bucket bounds, microseconds, and as Prometheus writes them */

static ngx_msec_t  ngx_http_mcp_bounds[NGX_HTTP_MCP_NB] = {
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000, 5000000, 10000000
};

char  *ngx_http_mcp_les[NGX_HTTP_MCP_NB] = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
    "0.25", "0.5", "1", "2.5", "5", "10"
};


/* sessions last seconds to hours: bounds in milliseconds */

static ngx_msec_t  ngx_http_mcp_session_bounds[NGX_HTTP_MCP_NSB] = {
    1000, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
    7200000, 14400000, 28800000, 43200000, 86400000
};

char  *ngx_http_mcp_session_les[NGX_HTTP_MCP_NSB] = {
    "1", "5", "10", "30", "60", "300", "600", "1800", "3600", "7200",
    "14400", "28800", "43200", "86400"
};




ngx_int_t
ngx_http_mcp_metrics_entry(ngx_conf_t *cf, ngx_str_t *method,
    ngx_str_t *name, ngx_str_t *kind, ngx_str_t *target, void **series)
{
    ngx_http_mcp_wanted_t       *w;
    ngx_http_mcp_metrics_ctx_t  *ctx;

    ctx = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_observe_module);

    if (ctx->wanted.nalloc == 0
        && ngx_array_init(&ctx->wanted, cf->pool, 64,
                          sizeof(ngx_http_mcp_wanted_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    w = ngx_array_push(&ctx->wanted);
    if (w == NULL) {
        return NGX_ERROR;
    }

    w->method = ngx_http_mcp_method_index(method);
    w->name = *name;
    w->kind = *kind;
    w->target = *target;
    w->series = series;

    return NGX_OK;
}


/*
 * A configuration without an mcp_metrics location counts nothing: no
 * zone, and the log phase returns at once.
 */

ngx_uint_t
ngx_http_mcp_metrics_on(ngx_conf_t *cf)
{
    ngx_http_mcp_metrics_ctx_t  *ctx;

    ctx = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_observe_module);

    return ctx->shown;
}


ngx_int_t
ngx_http_mcp_metrics_init(ngx_conf_t *cf)
{
    size_t                       size;
    ngx_str_t                    name, none;
    ngx_uint_t                   i, n;
    ngx_http_mcp_metrics_ctx_t  *ctx;

    ctx = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_observe_module);

    ngx_str_null(&none);

    /* the methods' own series, then the zone for all */

    for (i = 0; i < NGX_HTTP_MCP_NM; i++) {
        if (ngx_http_mcp_metrics_entry(cf, &ngx_http_mcp_metric_methods[i],
                                       &none, &none, &none,
                                       (void **) &ctx->method[i])
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    /* room for twice the series, in whole megabytes: small changes keep it */

    n = ctx->wanted.nelts * 2;
    size = n * (sizeof(ngx_http_mcp_series_t) + 128)
           + sizeof(ngx_http_mcp_metrics_sh_t) + 64 * 1024;
    size = ngx_align(size, 1024 * 1024);

    ngx_str_set(&name, "mcp_metrics");

    ctx->zone = ngx_shared_memory_add(cf, &name, size,
                                      &ngx_http_mcp_observe_module);
    if (ctx->zone == NULL) {
        return NGX_ERROR;
    }

    ctx->zone->init = ngx_http_mcp_metrics_init_zone;
    ctx->zone->data = ctx;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_metrics_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_mcp_metrics_ctx_t  *octx = data;

    ngx_uint_t                   i;
    ngx_http_mcp_wanted_t       *w;
    ngx_http_mcp_series_t       *s;
    ngx_http_mcp_metrics_ctx_t  *ctx;

    ctx = shm_zone->data;

    if (octx) {
        ctx->sh = octx->sh;
        ctx->shpool = octx->shpool;

    } else {
        ctx->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

        if (shm_zone->shm.exists) {
            ctx->sh = ctx->shpool->data;

        } else {
            ctx->sh = ngx_slab_calloc(ctx->shpool,
                                      sizeof(ngx_http_mcp_metrics_sh_t));
            if (ctx->sh == NULL) {
                return NGX_ERROR;
            }

            ctx->shpool->data = ctx->sh;

            ngx_rbtree_init(&ctx->sh->rbtree, &ctx->sh->sentinel,
                            ngx_rbtree_insert_value);
            ngx_queue_init(&ctx->sh->queue);
        }
    }

    ngx_http_mcp_metrics_generation(ctx, octx);

    /* every series the configuration names: found, or made */

    w = ctx->wanted.elts;

    for (i = 0; i < ctx->wanted.nelts; i++) {
        s = ngx_http_mcp_series(ctx, &w[i]);

        if (s == NULL) {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "no room for the series of \"%V\" in the "
                          "metrics zone", &w[i].name);
            return NGX_ERROR;
        }

        *w[i].series = s;
    }

    return NGX_OK;
}


static ngx_http_mcp_series_t *
ngx_http_mcp_series(ngx_http_mcp_metrics_ctx_t *ctx, ngx_http_mcp_wanted_t *w)
{
    uint32_t                hash;
    ngx_rbtree_node_t      *node, *sentinel;
    ngx_http_mcp_series_t  *s;

    hash = ngx_crc32_short(w->name.data, w->name.len) ^ (uint32_t) w->method;

    node = ctx->sh->rbtree.root;
    sentinel = ctx->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash != node->key) {
            node = (hash < node->key) ? node->left : node->right;
            continue;
        }

        s = (ngx_http_mcp_series_t *) node;

        if (s->method == w->method
            && s->name.len == w->name.len
            && (w->name.len == 0
                || ngx_memcmp(s->name.data, w->name.data, w->name.len) == 0))
        {
            return s;
        }

        /* equal hashes: ngx_rbtree_insert_value() put later ones right */

        node = node->right;
    }

    s = ngx_slab_calloc(ctx->shpool, sizeof(ngx_http_mcp_series_t));
    if (s == NULL) {
        return NULL;
    }

    s->method = w->method;

    if (ngx_http_mcp_metrics_copy(ctx->shpool, &s->name, &w->name) == NULL
        || ngx_http_mcp_metrics_copy(ctx->shpool, &s->kind, &w->kind) == NULL
        || ngx_http_mcp_metrics_copy(ctx->shpool, &s->target, &w->target)
           == NULL)
    {
        return NULL;
    }

    s->node.key = hash;
    ngx_rbtree_insert(&ctx->sh->rbtree, &s->node);
    ngx_queue_insert_tail(&ctx->sh->queue, &s->queue);

    return s;
}


static ngx_str_t *
ngx_http_mcp_metrics_copy(ngx_slab_pool_t *shpool, ngx_str_t *dst,
    ngx_str_t *src)
{
    dst->len = src->len;

    if (src->len == 0) {
        dst->data = NULL;
        return dst;
    }

    dst->data = ngx_slab_alloc(shpool, src->len);
    if (dst->data == NULL) {
        return NULL;
    }

    ngx_memcpy(dst->data, src->data, src->len);

    return dst;
}


/* the log phase: what a request of an mcp_pass location did */

void
ngx_http_mcp_metrics_record(ngx_http_request_t *r, ngx_http_mcp_obs_t *o)
{
    ngx_uint_t                   i, err, m;
    ngx_msec_int_t               ms;
    ngx_msec_t                   us;
    ngx_time_t                  *tp;
    ngx_http_mcp_series_t       *s;
    ngx_http_mcp_metrics_ctx_t  *ctx;

    ctx = ngx_http_mcp_metrics_ctx();

    if (ctx->sh == NULL) {
        return;
    }

    if (r->headers_out.status < 600) {
        (void) ngx_atomic_fetch_add(&ctx->sh->http[r->headers_out.status], 1);
    }

    if (o->method.len == 0) {
        return;                       /* not a request that was dispatched */
    }

    m = ngx_http_mcp_method_index(&o->method);
    s = o->series ? o->series : ctx->method[m];

    if (s == NULL) {
        return;
    }

    tp = ngx_timeofday();
    ms = (ngx_msec_int_t) ((tp->sec - r->start_sec) * 1000
                           + (tp->msec - r->start_msec));
    us = (ngx_msec_t) ngx_max(ms, 0) * 1000;

    err = (o->outcome != NGX_HTTP_MCP_OUTCOME_OK);

    (void) ngx_atomic_fetch_add(&s->c.count[err], 1);
    (void) ngx_atomic_fetch_add(&s->c.sum_us[err], us);

    for (i = 0; i < NGX_HTTP_MCP_NB; i++) {
        if (us <= ngx_http_mcp_bounds[i]) {
            (void) ngx_atomic_fetch_add(&s->c.bucket[err][i], 1);
            break;
        }
    }

    (void) ngx_atomic_fetch_add(
                      &s->c.outcome[ngx_http_mcp_outcome_index(o->outcome)], 1);
}


/*
 * An event by its label: the label's slot is found by a scan of those in
 * use (a few: reasons, zone names), and made under the zone's lock the
 * first time; past NGX_HTTP_MCP_NLABELS labels, "other".
 */

void
ngx_http_mcp_event(ngx_uint_t event, ngx_str_t *label)
{
    size_t                       len;
    ngx_uint_t                   i;
    ngx_http_mcp_labeled_t      *l;
    ngx_http_mcp_metrics_ctx_t  *ctx;

    ctx = ngx_http_mcp_metrics_ctx();

    if (ctx == NULL || ctx->sh == NULL) {
        return;
    }

    l = ctx->sh->labeled;
    len = ngx_min(label->len, NGX_HTTP_MCP_LABEL);

    for (i = 0; i < NGX_HTTP_MCP_NLABELS && l[i].len; i++) {
        if (l[i].event == event && l[i].len == len
            && ngx_memcmp(l[i].label, label->data, len) == 0)
        {
            (void) ngx_atomic_fetch_add(&l[i].count, 1);
            return;
        }
    }

    ngx_shmtx_lock(&ctx->shpool->mutex);

    for (i = 0; i < NGX_HTTP_MCP_NLABELS; i++) {

        if (l[i].len == 0) {
            ngx_memcpy(l[i].label, label->data, len);
            l[i].event = event;
            ngx_memory_barrier();
            l[i].len = len;
            break;
        }

        if (l[i].event == event && l[i].len == len
            && ngx_memcmp(l[i].label, label->data, len) == 0)
        {
            break;
        }
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    if (i == NGX_HTTP_MCP_NLABELS) {
        return;                    /* no room: not counted */
    }

    (void) ngx_atomic_fetch_add(&l[i].count, 1);
}


void
ngx_http_mcp_metrics_audit_dropped(void)
{
    ngx_http_mcp_metrics_ctx_t  *ctx;

    ctx = ngx_http_mcp_metrics_ctx();

    if (ctx->sh) {
        (void) ngx_atomic_fetch_add(&ctx->sh->audit_dropped, 1);
    }
}


void
ngx_http_mcp_metrics_stream(ngx_int_t n)
{
    ngx_http_mcp_metrics_ctx_t  *ctx;

    ctx = ngx_http_mcp_metrics_ctx();

    if (ctx->sh) {
        (void) ngx_atomic_fetch_add(&ctx->sh->streams, (ngx_atomic_int_t) n);
    }
}


void
ngx_http_mcp_metrics_call(void *series, ngx_uint_t outcome)
{
    ngx_http_mcp_series_t  *s = series;

    if (s && outcome < 4) {
        (void) ngx_atomic_fetch_add(&s->c.calls[outcome], 1);
    }
}


/*
 * A reload makes the next generation.  Its slots (those of the generation
 * NGX_HTTP_MCP_NGEN before, whose workers are long gone) start at zero,
 * and its upstreams' names are kept with them, so that the page names
 * the connections of workers still draining after a reload by their own
 * configuration's numbers.  The generation follows the running cycle's,
 * not the zone's last, so that a reload that failed leaves no gap.
 */

static void
ngx_http_mcp_metrics_generation(ngx_http_mcp_metrics_ctx_t *ctx,
    ngx_http_mcp_metrics_ctx_t *octx)
{
    ngx_uint_t                g;
    ngx_http_mcp_conns_sh_t  *conns;

    conns = &ctx->sh->conns;

    ctx->generation = (octx ? octx->generation : conns->generation) + 1;
    conns->generation = ctx->generation;

    g = ctx->generation % NGX_HTTP_MCP_NGEN;

    ngx_memzero((void *) conns->n[g], sizeof(conns->n[g]));
    ngx_memzero(conns->ups[g], sizeof(conns->ups[g]));

    if (ctx->upstreams.nelts) {
        ngx_memcpy(conns->ups[g], ctx->upstreams.elts,
                   ctx->upstreams.nelts * sizeof(ngx_http_mcp_ups_t));
    }
}


/* a worker (re)starts: what a worker of its number left goes */

ngx_int_t
ngx_http_mcp_metrics_init_process(ngx_cycle_t *cycle)
{
    ngx_http_mcp_metrics_ctx_t  *ctx;

    ctx = ngx_http_cycle_get_module_main_conf(cycle,
                                              ngx_http_mcp_observe_module);

    if (ctx == NULL || ctx->sh == NULL || ngx_worker >= NGX_HTTP_MCP_NWORKERS
        || (ngx_process != NGX_PROCESS_WORKER
            && ngx_process != NGX_PROCESS_SINGLE))
    {
        return NGX_OK;
    }

    ngx_memzero((void *) ctx->sh->conns.n[ctx->generation
                                          % NGX_HTTP_MCP_NGEN][ngx_worker],
                sizeof(ctx->sh->conns.n[0][0]));

    return NGX_OK;
}


/* an upstream whose pooled connections are counted: its number, 0: none */

ngx_uint_t
ngx_http_mcp_conn_upstream(ngx_conf_t *cf, ngx_uint_t kind, ngx_str_t *name)
{
    ngx_http_mcp_ups_t          *u;
    ngx_http_mcp_metrics_ctx_t  *ctx;

    ctx = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_observe_module);

    if (ctx->upstreams.nalloc == 0
        && ngx_array_init(&ctx->upstreams, cf->pool, 4,
                          sizeof(ngx_http_mcp_ups_t))
           != NGX_OK)
    {
        return 0;
    }

    if (ctx->upstreams.nelts == NGX_HTTP_MCP_NUPS) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "the connections of upstream \"%V\" are not "
                           "counted: metrics count those of %d upstreams",
                           name, NGX_HTTP_MCP_NUPS);
        return 0;
    }

    u = ngx_array_push(&ctx->upstreams);
    if (u == NULL) {
        return 0;
    }

    u->kind = kind;
    u->len = ngx_min(name->len, NGX_HTTP_MCP_UPS_NAME);
    ngx_memcpy(u->name, name->data, u->len);

    return ctx->upstreams.nelts;
}


/* a pooled connection changed state: this worker's slots, atomic adds */

void
ngx_http_mcp_conn_state(ngx_uint_t upstream, ngx_uint_t from, ngx_uint_t to)
{
    ngx_atomic_t                *n;
    ngx_http_mcp_metrics_ctx_t  *ctx;

    if (from == to || upstream == 0 || ngx_worker >= NGX_HTTP_MCP_NWORKERS) {
        return;
    }

    ctx = ngx_http_mcp_metrics_ctx();

    if (ctx == NULL || ctx->sh == NULL) {
        return;
    }

    n = ctx->sh->conns.n[ctx->generation % NGX_HTTP_MCP_NGEN][ngx_worker]
                        [upstream - 1];

    if (from != NGX_HTTP_MCP_CONN_NONE) {
        (void) ngx_atomic_fetch_add(&n[from - 1], -1);
    }

    if (to != NGX_HTTP_MCP_CONN_NONE) {
        (void) ngx_atomic_fetch_add(&n[to - 1], 1);
    }
}


/* a session ended: its duration in the histogram */

void
ngx_http_mcp_session_ended(ngx_uint_t why, ngx_uint_t version,
    ngx_msec_t duration)
{
    ngx_uint_t                   i;
    ngx_http_mcp_sessions_sh_t  *s;
    ngx_http_mcp_metrics_ctx_t  *ctx;

    ctx = ngx_http_mcp_metrics_ctx();

    if (ctx == NULL || ctx->sh == NULL) {
        return;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "mcp metrics: a session (%ui) ended (%ui) after %M ms",
                   version, why, duration);

    if (version >= NGX_HTTP_MCP_NSV) {
        version = NGX_HTTP_MCP_V_UNKNOWN;
    }

    s = &ctx->sh->sessions[version];

    (void) ngx_atomic_fetch_add(&s->count, 1);
    (void) ngx_atomic_fetch_add(&s->sum_ms, duration);

    for (i = 0; i < NGX_HTTP_MCP_NSB; i++) {
        if (duration <= ngx_http_mcp_session_bounds[i]) {
            (void) ngx_atomic_fetch_add(&s->bucket[i], 1);
            break;
        }
    }
}


static ngx_uint_t
ngx_http_mcp_method_index(ngx_str_t *method)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_MCP_NM - 1; i++) {
        if (method->len == ngx_http_mcp_metric_methods[i].len
            && ngx_memcmp(method->data, ngx_http_mcp_metric_methods[i].data,
                          method->len)
               == 0)
        {
            return i;
        }
    }

    return NGX_HTTP_MCP_NM - 1;
}


static ngx_uint_t
ngx_http_mcp_outcome_index(ngx_int_t outcome)
{
    ngx_uint_t  i;

    if (outcome == NGX_HTTP_MCP_OUTCOME_OK) {
        return 0;
    }

    if (outcome == NGX_HTTP_MCP_OUTCOME_TOOL_ERROR) {
        return 1;
    }

    for (i = 2; i < NGX_HTTP_MCP_NOUT - 1; i++) {
        if (outcome == ngx_http_mcp_metric_codes[i]) {
            return i;
        }
    }

    return NGX_HTTP_MCP_NOUT - 1;
}
