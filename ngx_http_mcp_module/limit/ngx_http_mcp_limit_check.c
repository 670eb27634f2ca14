
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "limit/ngx_http_mcp_limit_int.h"
#include "backend/ngx_http_mcp_backend.h"


/*
 * The decision about each request of a body: the location's mcp_limit
 * lines, then the entry's limit lines (rates), then its quota lines.  A
 * shared-memory rate is counted as it passes (check and count under one
 * lock, as limit_req); when a later line refuses, what the earlier ones
 * counted for this request is taken back.  A Redis question suspends the
 * walk, which goes on where it stopped when the answer comes.  Quota calls
 * are held until the request ends and given back unless the call
 * succeeded.
 */


#define NGX_HTTP_MCP_LIMIT_PASSED            1
#define NGX_HTTP_MCP_LIMIT_DELAYED_DRY_RUN   2
#define NGX_HTTP_MCP_LIMIT_DELAYED           3
#define NGX_HTTP_MCP_LIMIT_REJECTED_DRY_RUN  4
#define NGX_HTTP_MCP_LIMIT_REJECTED          5


/* a count taken for the request being decided, or a quota call held */

typedef struct {
    ngx_http_mcp_limit_zone_t      *zone;
    ngx_http_mcp_admit_t           *admit;
    time_t                          window;      /* quota */
    u_char                          key[NGX_HTTP_MCP_LIMIT_KEY_LEN];
} ngx_http_mcp_limit_count_t;


typedef struct {
    ngx_http_request_t             *request;
    ngx_array_t                    *admits;
    ngx_uint_t                      i;            /* the admit */
    ngx_uint_t                      j;            /* its line */
    ngx_uint_t                      quotas;       /* 1: its quota lines */
    ngx_uint_t                      status;       /* the worst so far */
    ngx_msec_t                      delay;        /* before the body runs */
    ngx_msec_t                      admit_delay;  /* the admit's, so far */
    ngx_http_mcp_limit_done_pt      done;

    ngx_array_t                     rates;        /* counted for this
                                                     admit, in shm */
    ngx_array_t                     held;         /* quota calls */

    ngx_http_mcp_limit_op_t         op;           /* the Redis question */
    unsigned                        answered:1;
    unsigned                        cleanup:1;    /* registered */
} ngx_http_mcp_limit_ctx_t;


static ngx_int_t ngx_http_mcp_limit_run(ngx_http_mcp_limit_ctx_t *ctx);
static ngx_http_mcp_limit_use_t *ngx_http_mcp_limit_line(
    ngx_http_mcp_limit_ctx_t *ctx, ngx_http_mcp_admit_t *admit,
    ngx_uint_t *own);
static ngx_int_t ngx_http_mcp_limit_key(ngx_http_mcp_limit_ctx_t *ctx,
    ngx_http_mcp_limit_zone_t *z, ngx_http_mcp_admit_t *admit,
    ngx_uint_t own, u_char *key);
static ngx_int_t ngx_http_mcp_limit_decide(ngx_http_mcp_limit_ctx_t *ctx,
    ngx_http_mcp_admit_t *admit, ngx_http_mcp_limit_use_t *use,
    ngx_http_mcp_limit_answer_t *a);
static void ngx_http_mcp_limit_answered(ngx_http_mcp_limit_op_t *op);
static ngx_int_t ngx_http_mcp_limit_refuse(ngx_http_mcp_limit_ctx_t *ctx,
    ngx_http_mcp_admit_t *admit, ngx_http_mcp_limit_use_t *use,
    ngx_http_mcp_limit_answer_t *a);
static void ngx_http_mcp_limit_undo(ngx_http_mcp_limit_ctx_t *ctx,
    ngx_http_mcp_admit_t *admit);
static ngx_int_t ngx_http_mcp_limit_cleanup_add(
    ngx_http_mcp_limit_ctx_t *ctx);
static void ngx_http_mcp_limit_cleanup(void *data);
static void ngx_http_mcp_limit_note(ngx_http_mcp_limit_ctx_t *ctx,
    ngx_uint_t status);


static ngx_str_t  ngx_http_mcp_limit_statuses[] = {
    ngx_null_string,
    ngx_string("PASSED"),
    ngx_string("DELAYED_DRY_RUN"),
    ngx_string("DELAYED"),
    ngx_string("REJECTED_DRY_RUN"),
    ngx_string("REJECTED")
};


ngx_uint_t
ngx_http_mcp_limit_wanted(ngx_http_request_t *r)
{
    ngx_http_mcp_limit_loc_conf_t  *llcf;

    llcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_limit_module);

    return llcf->uses != NULL;
}


ngx_int_t
ngx_http_mcp_limit_check(ngx_http_request_t *r, ngx_array_t *admits,
    ngx_http_mcp_limit_done_pt done)
{
    ngx_int_t                  rc;
    ngx_http_mcp_limit_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_mcp_limit_ctx_t));
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     ctx->rates, ctx->held: made at their first element
     *     ctx->cleanup = 0;
     */

    ctx->request = r;
    ctx->admits = admits;
    ctx->done = done;
    ctx->op.handler = ngx_http_mcp_limit_answered;
    ctx->op.data = ctx;
    ctx->op.cmd.log = r->connection->log;

    ngx_http_set_ctx(r, ctx, ngx_http_mcp_limit_module);

    rc = ngx_http_mcp_limit_run(ctx);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mcp limit: %i, delay %M", rc, ctx->delay);

    return rc;
}


ngx_msec_t
ngx_http_mcp_limit_delay(ngx_http_request_t *r)
{
    ngx_http_mcp_limit_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_limit_module);

    return ctx ? ctx->delay : 0;
}


ngx_str_t *
ngx_http_mcp_limit_status(ngx_http_request_t *r)
{
    ngx_http_mcp_limit_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_limit_module);

    if (ctx == NULL || ctx->status == 0) {
        return NULL;
    }

    return &ngx_http_mcp_limit_statuses[ctx->status];
}


/* the walk: NGX_OK when every admit is decided, NGX_AGAIN, NGX_ERROR */

static ngx_int_t
ngx_http_mcp_limit_run(ngx_http_mcp_limit_ctx_t *ctx)
{
    ngx_int_t                     rc;
    ngx_uint_t                    own;
    ngx_http_mcp_admit_t         *admit;
    ngx_http_mcp_limit_op_t      *op;
    ngx_http_mcp_limit_use_t     *use;
    ngx_http_mcp_limit_zone_t    *z;
    ngx_http_mcp_limit_answer_t   a;

    op = &ctx->op;

    for ( /* void */ ; ctx->i < ctx->admits->nelts; ctx->i++) {

        admit = (ngx_http_mcp_admit_t *) ctx->admits->elts + ctx->i;

        for ( ;; ) {
            use = ngx_http_mcp_limit_line(ctx, admit, &own);

            if (use == NULL) {

                if (ctx->quotas) {
                    break;                 /* this admit is decided */
                }

                ctx->quotas = 1;
                ctx->j = 0;
                continue;
            }

            z = use->shm_zone->data;

            if (ctx->answered) {
                ctx->answered = 0;
                a = op->answer;

            } else {
                rc = ngx_http_mcp_limit_key(ctx, z, admit, own, op->key);

                if (rc == NGX_ERROR) {
                    return NGX_ERROR;
                }

                if (rc == NGX_DECLINED) {    /* an empty key */
                    ctx->j++;
                    continue;
                }

                a.rc = NGX_DECLINED;

                if (z->redis == NULL) {
                    /* shared memory: below */

                } else if (z->type == NGX_HTTP_MCP_LIMIT_RATE
                           && ngx_http_mcp_limit_shm_lease_take(z, op->key,
                                                                &op->want)
                              == NGX_OK)
                {
                    a.rc = NGX_OK;

                } else {
                    op->zone = z;
                    op->use = use;

                    if (ngx_http_mcp_limit_cleanup_add(ctx) != NGX_OK) {
                        return NGX_ERROR;
                    }

                    if (ngx_http_mcp_limit_redis_ask(op, ctx->request->pool)
                        == NGX_AGAIN)
                    {
                        return NGX_AGAIN;
                    }

                    a.rc = NGX_HTTP_SERVICE_UNAVAILABLE;
                }
            }

            rc = ngx_http_mcp_limit_decide(ctx, admit, use, &a);

            if (rc == NGX_ERROR) {
                return NGX_ERROR;
            }

            if (rc == NGX_DONE) {
                ctx->admit_delay = 0;      /* refused: answered at once */
                break;
            }

            ctx->j++;
        }

        ctx->delay = ngx_max(ctx->delay, ctx->admit_delay);
        ctx->admit_delay = 0;
        ctx->j = 0;
        ctx->quotas = 0;
        ctx->rates.nelts = 0;
    }

    return NGX_OK;
}


/* the admit's line ctx->j of the current kind, or NULL: no more */

static ngx_http_mcp_limit_use_t *
ngx_http_mcp_limit_line(ngx_http_mcp_limit_ctx_t *ctx,
    ngx_http_mcp_admit_t *admit, ngx_uint_t *own)
{
    ngx_uint_t                      n;
    ngx_http_mcp_entry_t           *e;
    ngx_http_mcp_limit_use_t      **use;
    ngx_http_mcp_limit_loc_conf_t  *llcf;

    llcf = ngx_http_get_module_loc_conf(ctx->request,
                                        ngx_http_mcp_limit_module);
    e = admit->entry;

    for ( ;; ) {
        n = llcf->uses ? llcf->uses->nelts : 0;

        if (ctx->j < n) {
            if (ctx->quotas) {
                ctx->j = n;               /* mcp_limit has rates only */
                continue;
            }

            use = llcf->uses->elts;
            *own = 0;
            return use[ctx->j];
        }

        if (e == NULL || e->limits == NULL
            || ctx->j >= n + e->limits->nelts)
        {
            return NULL;
        }

        use = e->limits->elts;

        if ((use[ctx->j - n]->type == NGX_HTTP_MCP_LIMIT_QUOTA)
            == ctx->quotas)
        {
            *own = 1;
            return use[ctx->j - n];
        }

        ctx->j++;
    }
}


/*
 * the key's name in the zone (with the entry's kind and name for an
 * entry's own line): NGX_OK, NGX_DECLINED for an empty key, NGX_ERROR
 */

static ngx_int_t
ngx_http_mcp_limit_key(ngx_http_mcp_limit_ctx_t *ctx,
    ngx_http_mcp_limit_zone_t *z, ngx_http_mcp_admit_t *admit,
    ngx_uint_t own, u_char *key)
{
    ngx_str_t                   value;
    ngx_http_variable_value_t  *vv;

    if (z->variable != NGX_ERROR) {
        vv = ngx_http_get_flushed_variable(ctx->request, z->variable);

        if (vv == NULL) {
            return NGX_ERROR;
        }

        if (vv->not_found || vv->len == 0) {
            return NGX_DECLINED;
        }

        value.data = vv->data;
        value.len = vv->len;

    } else if (ngx_http_complex_value(ctx->request, &z->key, &value)
               != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (value.len == 0) {
        return NGX_DECLINED;
    }

    ngx_http_mcp_limit_hash(z, &value, own ? admit->entry : NULL, key);

    return NGX_OK;
}


/*
 * One line's answer about the admit: NGX_OK (go on), NGX_DONE (refused),
 * NGX_ERROR.  a->rc NGX_DECLINED: shared memory decides (a zone without
 * Redis, or Redis failed and the zone fails open); 503: Redis could not
 * be asked.
 */

static ngx_int_t
ngx_http_mcp_limit_decide(ngx_http_mcp_limit_ctx_t *ctx,
    ngx_http_mcp_admit_t *admit, ngx_http_mcp_limit_use_t *use,
    ngx_http_mcp_limit_answer_t *a)
{
    ngx_uint_t                   shm;
    ngx_array_t                 *counts;
    ngx_http_mcp_limit_zone_t   *z;
    ngx_http_mcp_limit_count_t  *count;

    z = use->shm_zone->data;
    shm = 0;

    if ((a->rc == NGX_DECLINED || a->rc == NGX_HTTP_SERVICE_UNAVAILABLE)
        && z->redis)
    {
        if (!z->fail_open) {
            a->rc = NGX_HTTP_SERVICE_UNAVAILABLE;
            return ngx_http_mcp_limit_refuse(ctx, admit, use, a);
        }

        if (z->type == NGX_HTTP_MCP_LIMIT_QUOTA) {
            ngx_http_mcp_limit_note(ctx, NGX_HTTP_MCP_LIMIT_PASSED);
            return NGX_OK;                 /* admitted, not counted */
        }

        a->rc = NGX_DECLINED;
    }

    if (a->rc == NGX_DECLINED) {
        shm = 1;

        if (z->type == NGX_HTTP_MCP_LIMIT_RATE) {
            ngx_http_mcp_limit_shm_rate(z, use, ctx->op.key, 1, a);

        } else {
            ngx_http_mcp_limit_shm_quota(z, use, ctx->op.key, a);
        }
    }

    switch (a->rc) {

    case NGX_BUSY:

        if (use->dry_run) {
            ngx_http_mcp_limit_note(ctx, NGX_HTTP_MCP_LIMIT_REJECTED_DRY_RUN);
            ngx_log_error(NGX_LOG_WARN, ctx->request->connection->log, 0,
                          "mcp limit: \"%V\" would be refused by zone "
                          "\"%V\", dry run", &admit->method, &z->name);
            return NGX_OK;
        }

        return ngx_http_mcp_limit_refuse(ctx, admit, use, a);

    case NGX_AGAIN:

        if (use->dry_run) {
            ngx_http_mcp_limit_note(ctx, NGX_HTTP_MCP_LIMIT_DELAYED_DRY_RUN);

        } else {
            ngx_http_mcp_limit_note(ctx, NGX_HTTP_MCP_LIMIT_DELAYED);
            ctx->admit_delay = ngx_max(ctx->admit_delay, a->delay);
        }

        break;

    case NGX_OK:
        ngx_http_mcp_limit_note(ctx, NGX_HTTP_MCP_LIMIT_PASSED);
        break;

    default: /* NGX_ERROR: no memory even after eviction */

        ngx_log_error(NGX_LOG_ERR, ctx->request->connection->log, 0,
                      "mcp limit zone \"%V\" has no room for a key: "
                      "not counted", &z->name);
        ngx_http_mcp_limit_note(ctx, NGX_HTTP_MCP_LIMIT_PASSED);
        return NGX_OK;
    }

    /* counted: in shared memory, to take back; a quota, to give back */

    if (z->type == NGX_HTTP_MCP_LIMIT_RATE && !shm) {
        return NGX_OK;
    }

    counts = (z->type == NGX_HTTP_MCP_LIMIT_RATE) ? &ctx->rates : &ctx->held;

    if (counts->elts == NULL
        && (ngx_array_init(counts, ctx->request->pool, 2,
                           sizeof(ngx_http_mcp_limit_count_t))
            != NGX_OK
            || (counts == &ctx->held
                && ngx_http_mcp_limit_cleanup_add(ctx) != NGX_OK)))
    {
        return NGX_ERROR;
    }

    count = ngx_array_push(counts);
    if (count == NULL) {
        return NGX_ERROR;
    }

    count->zone = z;
    count->admit = admit;
    count->window = shm ? a->window : -1 - a->window;   /* < 0: Redis */
    ngx_memcpy(count->key, ctx->op.key, NGX_HTTP_MCP_LIMIT_KEY_LEN);

    return NGX_OK;
}


static void
ngx_http_mcp_limit_answered(ngx_http_mcp_limit_op_t *op)
{
    ngx_int_t                  rc;
    ngx_http_request_t        *r;
    ngx_http_mcp_limit_ctx_t  *ctx;

    ctx = op->data;
    r = ctx->request;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mcp limit: Redis answered %i", op->answer.rc);

    ctx->answered = 1;

    rc = ngx_http_mcp_limit_run(ctx);

    if (rc == NGX_AGAIN) {
        return;
    }

    ctx->done(r, rc);
}


/* the admit is refused: its error, and what it counted is taken back */

static ngx_int_t
ngx_http_mcp_limit_refuse(ngx_http_mcp_limit_ctx_t *ctx,
    ngx_http_mcp_admit_t *admit, ngx_http_mcp_limit_use_t *use,
    ngx_http_mcp_limit_answer_t *a)
{
    u_char                     *p;
    time_t                      retry;
    ngx_pool_t                 *pool;
    ngx_http_mcp_limit_zone_t  *z;

    static const char  *windows[] = { "minute", "hour", "day" };

    z = use->shm_zone->data;
    pool = ctx->request->pool;

    ngx_http_mcp_limit_undo(ctx, admit);
    ngx_http_mcp_limit_note(ctx, NGX_HTTP_MCP_LIMIT_REJECTED);
    ngx_http_mcp_event(NGX_HTTP_MCP_EVENT_LIMIT_REFUSAL, &z->name);

    p = ngx_pnalloc(pool, 160 + z->name.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    admit->data.data = p;

    if (a->rc == NGX_HTTP_SERVICE_UNAVAILABLE) {
        admit->status = NGX_HTTP_SERVICE_UNAVAILABLE;
        admit->code = -32603;
        ngx_str_set(&admit->message, "Rate limiter unavailable");
        retry = 1;

        ngx_log_error(NGX_LOG_WARN, ctx->request->connection->log, 0,
                      "mcp limit: \"%V\" refused: zone \"%V\" cannot reach "
                      "Redis (fail=closed)", &admit->method, &z->name);

    } else {
        admit->status = NGX_HTTP_TOO_MANY_REQUESTS;
        admit->code = NGX_HTTP_MCP_LIMITED;
        retry = ngx_max(a->retry_after, 1);

        if (z->type == NGX_HTTP_MCP_LIMIT_RATE) {
            ngx_str_set(&admit->message, "Rate limit exceeded");

        } else {
            ngx_str_set(&admit->message, "Quota exceeded");
        }

        ngx_log_error(NGX_LOG_WARN, ctx->request->connection->log, 0,
                      "mcp limit: \"%V\" refused by zone \"%V\"",
                      &admit->method, &z->name);
    }

    admit->retry_after = retry;

    p = ngx_sprintf(p, "{\"retryAfterSeconds\":%T,\"zone\":\"%V\"",
                    retry, &z->name);

    if (z->type == NGX_HTTP_MCP_LIMIT_QUOTA
        && a->rc != NGX_HTTP_SERVICE_UNAVAILABLE)
    {
        p = ngx_sprintf(p, ",\"limit\":%ui,\"remaining\":0,"
                        "\"window\":\"%s\"", use->quota,
                        windows[use->period == 60 ? 0
                                : use->period == 3600 ? 1 : 2]);
    }

    *p++ = '}';

    admit->data.len = p - admit->data.data;

    return NGX_DONE;
}


/* what the refused admit counted is taken back */

static void
ngx_http_mcp_limit_undo(ngx_http_mcp_limit_ctx_t *ctx,
    ngx_http_mcp_admit_t *admit)
{
    ngx_uint_t                   i;
    ngx_http_mcp_limit_count_t  *count;

    count = ctx->rates.elts;

    for (i = 0; i < ctx->rates.nelts; i++) {
        ngx_http_mcp_limit_shm_unrate(count[i].zone, count[i].key);
    }

    ctx->rates.nelts = 0;

    count = ctx->held.elts;

    for (i = 0; i < ctx->held.nelts; i++) {
        if (count[i].admit == admit) {
            count[i].admit = NULL;     /* given back now */

            if (count[i].window < 0) {
                ngx_http_mcp_limit_redis_unquota(count[i].zone,
                                                 count[i].key,
                                                 -1 - count[i].window,
                                                 ctx->request->connection
                                                 ->log);
            } else {
                ngx_http_mcp_limit_shm_unquota(count[i].zone, count[i].key,
                                               count[i].window);
            }
        }
    }
}


/* once the request holds something: the cleanup below */

static ngx_int_t
ngx_http_mcp_limit_cleanup_add(ngx_http_mcp_limit_ctx_t *ctx)
{
    ngx_pool_cleanup_t  *cln;

    if (ctx->cleanup) {
        return NGX_OK;
    }

    cln = ngx_pool_cleanup_add(ctx->request->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_mcp_limit_cleanup;
    cln->data = ctx;
    ctx->cleanup = 1;

    return NGX_OK;
}


/* the request ends: quota calls that did not succeed are given back */

static void
ngx_http_mcp_limit_cleanup(void *data)
{
    ngx_http_mcp_limit_ctx_t *ctx = data;

    ngx_uint_t                   i;
    ngx_http_mcp_limit_count_t  *count;

    if (ctx->op.pending) {
        ngx_http_mcp_redis_cancel(&ctx->op.cmd);
        ctx->op.pending = 0;
    }

    count = ctx->held.elts;

    for (i = 0; i < ctx->held.nelts; i++) {

        if (count[i].admit == NULL || count[i].admit->ok) {
            continue;
        }

        if (count[i].window < 0) {
            ngx_http_mcp_limit_redis_unquota(count[i].zone, count[i].key,
                                             -1 - count[i].window,
                                             ngx_cycle->log);
        } else {
            ngx_http_mcp_limit_shm_unquota(count[i].zone, count[i].key,
                                           count[i].window);
        }
    }
}


static void
ngx_http_mcp_limit_note(ngx_http_mcp_limit_ctx_t *ctx, ngx_uint_t status)
{
    if (status > ctx->status) {
        ctx->status = status;
    }
}
