
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


/*
 * For tests only, never built into the module: a session store that
 * answers later.  In a location with
 *
 *     mcp_test_store_delay 20ms;
 *
 * every operation of the location's store (state/ngx_http_mcp_store.h)
 * runs on the real store at once, then answers NGX_AGAIN, and its answer
 * arrives from a timer, the way a remote store (Redis) would answer.  The
 * shared-memory store always answers at once, so transport's handlers of a
 * later answer run only here.  Loaded after ngx_http_mcp_module.so (nginx
 * loads modules RTLD_GLOBAL), so its merge runs after the module's and
 * finds the location's store set.  Built by t/store/build.sh.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "state/ngx_http_mcp_store.h"


typedef struct {
    ngx_msec_t                   delay;
} ngx_http_mcp_test_store_conf_t;


/* the wrapper: the location's store, answering later */

typedef struct {
    ngx_http_mcp_store_ref_t     ref;
    ngx_http_mcp_store_ref_t    *real;
    ngx_msec_t                   delay;
} ngx_http_mcp_test_store_t;


/* one answer on its way, in the caller's pool */

typedef struct {
    ngx_event_t                  ev;
    ngx_int_t                    rc;
    ngx_http_mcp_store_done_pt   done;
    void                        *data;
} ngx_http_mcp_test_store_op_t;


static ngx_int_t ngx_http_mcp_test_store_lookup(ngx_http_mcp_store_ref_t *ref,
    ngx_str_t *id, ngx_msec_t timeout, ngx_pool_t *pool,
    ngx_http_mcp_session_t *s, ngx_http_mcp_store_done_pt done, void *data);
static ngx_int_t ngx_http_mcp_test_store_create(ngx_http_mcp_store_ref_t *ref,
    ngx_http_mcp_session_t *s, ngx_pool_t *pool,
    ngx_http_mcp_store_done_pt done, void *data);
static ngx_int_t ngx_http_mcp_test_store_update(ngx_http_mcp_store_ref_t *ref,
    ngx_http_mcp_session_t *s, ngx_pool_t *pool,
    ngx_http_mcp_store_done_pt done, void *data);
static ngx_int_t ngx_http_mcp_test_store_delete(ngx_http_mcp_store_ref_t *ref,
    ngx_str_t *id, u_char *principal, ngx_pool_t *pool,
    ngx_http_mcp_store_done_pt done, void *data);
static ngx_int_t ngx_http_mcp_test_store_later(ngx_http_mcp_store_ref_t *ref,
    ngx_int_t rc, ngx_pool_t *pool, ngx_http_mcp_store_done_pt done,
    void *data);
static void ngx_http_mcp_test_store_answer(ngx_event_t *ev);
static void ngx_http_mcp_test_store_cleanup(void *data);
static void *ngx_http_mcp_test_store_create_conf(ngx_conf_t *cf);
static char *ngx_http_mcp_test_store_merge_conf(ngx_conf_t *cf, void *parent,
    void *child);


static ngx_http_mcp_store_t  ngx_http_mcp_test_store = {
    ngx_string("test-later"),
    ngx_http_mcp_test_store_lookup,
    ngx_http_mcp_test_store_create,
    ngx_http_mcp_test_store_update,
    ngx_http_mcp_test_store_delete,
    NULL                     /* readiness: the wrapped store's is checked */
};


static ngx_command_t  ngx_http_mcp_test_store_commands[] = {

    { ngx_string("mcp_test_store_delay"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_test_store_conf_t, delay),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_mcp_test_store_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_mcp_test_store_create_conf,   /* create location configuration */
    ngx_http_mcp_test_store_merge_conf     /* merge location configuration */
};


ngx_module_t  ngx_http_mcp_test_store_module = {
    NGX_MODULE_V1,
    &ngx_http_mcp_test_store_module_ctx,   /* module context */
    ngx_http_mcp_test_store_commands,      /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


ngx_module_t *ngx_modules[] = {
    &ngx_http_mcp_test_store_module,
    NULL
};


char *ngx_module_names[] = {
    "ngx_http_mcp_test_store_module",
    NULL
};


char *ngx_module_order[] = {
    NULL
};


static ngx_int_t
ngx_http_mcp_test_store_lookup(ngx_http_mcp_store_ref_t *ref, ngx_str_t *id,
    ngx_msec_t timeout, ngx_pool_t *pool, ngx_http_mcp_session_t *s,
    ngx_http_mcp_store_done_pt done, void *data)
{
    ngx_int_t                   rc;
    ngx_http_mcp_test_store_t  *ts;

    ts = ref->data;

    rc = ts->real->store->lookup(ts->real, id, timeout, pool, s, NULL, NULL);

    return ngx_http_mcp_test_store_later(ref, rc, pool, done, data);
}


static ngx_int_t
ngx_http_mcp_test_store_create(ngx_http_mcp_store_ref_t *ref,
    ngx_http_mcp_session_t *s, ngx_pool_t *pool,
    ngx_http_mcp_store_done_pt done, void *data)
{
    ngx_int_t                   rc;
    ngx_http_mcp_test_store_t  *ts;

    ts = ref->data;

    rc = ts->real->store->create(ts->real, s, pool, NULL, NULL);

    return ngx_http_mcp_test_store_later(ref, rc, pool, done, data);
}


static ngx_int_t
ngx_http_mcp_test_store_update(ngx_http_mcp_store_ref_t *ref,
    ngx_http_mcp_session_t *s, ngx_pool_t *pool,
    ngx_http_mcp_store_done_pt done, void *data)
{
    ngx_int_t                   rc;
    ngx_http_mcp_test_store_t  *ts;

    ts = ref->data;

    rc = ts->real->store->update(ts->real, s, pool, NULL, NULL);

    return ngx_http_mcp_test_store_later(ref, rc, pool, done, data);
}


static ngx_int_t
ngx_http_mcp_test_store_delete(ngx_http_mcp_store_ref_t *ref, ngx_str_t *id,
    u_char *principal, ngx_pool_t *pool, ngx_http_mcp_store_done_pt done,
    void *data)
{
    ngx_int_t                   rc;
    ngx_http_mcp_test_store_t  *ts;

    ts = ref->data;

    rc = ts->real->store->delete(ts->real, id, principal, pool, NULL, NULL);

    return ngx_http_mcp_test_store_later(ref, rc, pool, done, data);
}


/*
 * The real store's answer, delivered by a timer.  The op lives in the
 * caller's pool, with a cleanup that stops the timer if the pool goes
 * first (the interface's rule: then done is never called).
 */

static ngx_int_t
ngx_http_mcp_test_store_later(ngx_http_mcp_store_ref_t *ref, ngx_int_t rc,
    ngx_pool_t *pool, ngx_http_mcp_store_done_pt done, void *data)
{
    ngx_pool_cleanup_t            *cln;
    ngx_http_mcp_test_store_t     *ts;
    ngx_http_mcp_test_store_op_t  *op;

    if (rc == NGX_AGAIN) {
        ngx_log_error(NGX_LOG_ALERT, pool->log, 0,
                      "mcp test store: the real store answered NGX_AGAIN");
        return NGX_ERROR;
    }

    ts = ref->data;

    cln = ngx_pool_cleanup_add(pool, sizeof(ngx_http_mcp_test_store_op_t));
    if (cln == NULL) {
        return NGX_ERROR;
    }

    op = cln->data;
    ngx_memzero(op, sizeof(ngx_http_mcp_test_store_op_t));

    op->rc = rc;
    op->done = done;
    op->data = data;

    op->ev.handler = ngx_http_mcp_test_store_answer;
    op->ev.data = op;
    op->ev.log = pool->log;

    cln->handler = ngx_http_mcp_test_store_cleanup;

    ngx_add_timer(&op->ev, ts->delay);

    return NGX_AGAIN;
}


static void
ngx_http_mcp_test_store_answer(ngx_event_t *ev)
{
    ngx_http_mcp_test_store_op_t *op = ev->data;

    /* the caller's pool, and op with it, may be gone after done() */

    op->done(op->data, op->rc);
}


static void
ngx_http_mcp_test_store_cleanup(void *data)
{
    ngx_http_mcp_test_store_op_t *op = data;

    if (op->ev.timer_set) {
        ngx_del_timer(&op->ev);
    }
}


static void *
ngx_http_mcp_test_store_create_conf(ngx_conf_t *cf)
{
    ngx_http_mcp_test_store_conf_t  *tscf;

    tscf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_test_store_conf_t));
    if (tscf == NULL) {
        return NULL;
    }

    tscf->delay = NGX_CONF_UNSET_MSEC;

    return tscf;
}


static char *
ngx_http_mcp_test_store_merge_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_mcp_test_store_conf_t *prev = parent;
    ngx_http_mcp_test_store_conf_t *conf = child;

    ngx_http_mcp_loc_conf_t    *mlcf;
    ngx_http_mcp_test_store_t  *ts;

    ngx_conf_merge_msec_value(conf->delay, prev->delay, NGX_CONF_UNSET_MSEC);

    if (conf->delay == NGX_CONF_UNSET_MSEC) {
        return NGX_CONF_OK;
    }

    /* this location's ngx_http_mcp_module configuration, merged already */

    mlcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_mcp_module);

    if (mlcf->session_store == NULL
        || mlcf->session_store->store == &ngx_http_mcp_test_store)
    {
        return NGX_CONF_OK;
    }

    ts = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_test_store_t));
    if (ts == NULL) {
        return NGX_CONF_ERROR;
    }

    ts->ref.store = &ngx_http_mcp_test_store;
    ts->ref.data = ts;
    ts->real = mlcf->session_store;
    ts->delay = conf->delay;

    mlcf->session_store = &ts->ref;

    return NGX_CONF_OK;
}
