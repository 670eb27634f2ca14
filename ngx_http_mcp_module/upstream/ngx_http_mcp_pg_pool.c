
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "upstream/ngx_http_mcp_pg_int.h"


/*
 * Each worker's pool of connections to an upstream, in the spirit of
 * nginx's upstream keepalive module, with a cap and a wait list:
 *
 *   idle      connected, clean, no transaction; given out first
 *   busy      connecting, or a user's
 *   waiters   calls waiting for a connection, each with the queue timeout
 *
 * A call takes an idle connection, else a new one is connected for it
 * while the upstream has fewer than max_connections, else it waits.  A
 * connection that comes back is handed to the first waiter, kept idle (up
 * to mcp_postgres_keepalive) or closed.  Servers that fail are skipped as
 * nginx's round robin does (max_fails within fail_timeout, then one trial).
 */


static void ngx_http_mcp_pg_ready(ngx_http_mcp_pg_upstream_t *u);
static void ngx_http_mcp_pg_dispatch(ngx_http_mcp_pg_upstream_t *u);
static ngx_int_t ngx_http_mcp_pg_new(ngx_http_mcp_pg_upstream_t *u,
    ngx_uint_t probe);
static ngx_http_mcp_pg_server_t *ngx_http_mcp_pg_pick(
    ngx_http_mcp_pg_upstream_t *u, ngx_uint_t probe);
static void ngx_http_mcp_pg_give(ngx_http_mcp_pg_upstream_t *u,
    ngx_http_mcp_pg_conn_t *pc);
static void ngx_http_mcp_pg_refuse(ngx_http_mcp_pg_wait_t *w,
    ngx_uint_t why, char *reason);
static void ngx_http_mcp_pg_wait_timeout(ngx_event_t *ev);
static void ngx_http_mcp_pg_down(ngx_http_mcp_pg_upstream_t *u, char *why);
static char *ngx_http_mcp_pg_why(ngx_http_mcp_pg_upstream_t *u);


static void
ngx_http_mcp_pg_ready(ngx_http_mcp_pg_upstream_t *u)
{
    if (u->ready) {
        return;
    }

    ngx_queue_init(&u->idle);
    ngx_queue_init(&u->busy);
    ngx_queue_init(&u->waiters);
    u->ready = 1;
}


ngx_int_t
ngx_http_mcp_pg_get(ngx_http_mcp_pg_upstream_t *u, ngx_http_mcp_pg_wait_t *w,
    ngx_http_mcp_pg_conn_t **pcp)
{
    ngx_queue_t             *q;
    ngx_http_mcp_pg_conn_t  *pc;

    ngx_http_mcp_pg_ready(u);

    w->upstream = u;
    w->waiting = 0;
    *pcp = NULL;

    if (!ngx_queue_empty(&u->idle)) {
        q = ngx_queue_head(&u->idle);
        ngx_queue_remove(q);
        u->nidle--;

        pc = ngx_queue_data(q, ngx_http_mcp_pg_conn_t, queue);
        ngx_queue_insert_tail(&u->busy, q);
        ngx_http_mcp_pg_set_state(pc, NGX_HTTP_MCP_PG_BUSY);
        pc->c->idle = 0;

        *pcp = pc;
        return NGX_OK;
    }

    if (u->nconns < u->max_connections
        && u->nconnecting <= u->nwaiting)
    {
        switch (ngx_http_mcp_pg_new(u, 0)) {

        case NGX_OK:
            break;

        case NGX_DECLINED:
            if (u->nconnecting) {
                break;
            }

            /* fall through */

        default:
            w->reason.data = (u_char *) ngx_http_mcp_pg_why(u);
            w->reason.len = ngx_strlen(w->reason.data);
            return NGX_DECLINED;
        }
    }

    ngx_queue_insert_tail(&u->waiters, &w->queue);
    u->nwaiting++;
    w->waiting = 1;

    w->timer.handler = ngx_http_mcp_pg_wait_timeout;
    w->timer.data = w;
    w->timer.log = w->log;
    ngx_add_timer(&w->timer, u->queue_timeout);

    return NGX_AGAIN;
}


void
ngx_http_mcp_pg_cancel(ngx_http_mcp_pg_wait_t *w)
{
    if (!w->waiting) {
        return;
    }

    ngx_queue_remove(&w->queue);
    w->upstream->nwaiting--;
    w->waiting = 0;

    if (w->timer.timer_set) {
        ngx_del_timer(&w->timer);
    }
}


static void
ngx_http_mcp_pg_wait_timeout(ngx_event_t *ev)
{
    ngx_http_mcp_pg_wait_t *w = ev->data;

    ngx_log_error(NGX_LOG_WARN, w->log, 0,
                  "postgres: no connection of upstream \"%V\" became free "
                  "within %M ms", &w->upstream->name,
                  w->upstream->queue_timeout);

    ngx_http_mcp_pg_refuse(w, NGX_HTTP_MCP_PG_QUEUE_TIMEOUT, "queue timeout");
}


static void
ngx_http_mcp_pg_refuse(ngx_http_mcp_pg_wait_t *w, ngx_uint_t why,
    char *reason)
{
    ngx_http_mcp_pg_cancel(w);

    w->reason.data = (u_char *) reason;
    w->reason.len = ngx_strlen(reason);

    w->handler(w, NULL, why);
}


void
ngx_http_mcp_pg_free(ngx_http_mcp_pg_conn_t *pc, ngx_uint_t keep)
{
    ngx_http_mcp_pg_upstream_t  *u;

    u = pc->upstream;

    ngx_queue_remove(&pc->queue);

    if (!keep
        || PQstatus(pc->conn) != CONNECTION_OK
        || PQtransactionStatus(pc->conn) != PQTRANS_IDLE
        || PQpipelineStatus(pc->conn) != PQ_PIPELINE_OFF
        || PQisBusy(pc->conn))
    {
        u->nconns--;
        ngx_http_mcp_pg_close(pc);
        ngx_http_mcp_pg_dispatch(u);
        return;
    }

    ngx_http_mcp_pg_keep(pc);
    ngx_http_mcp_pg_give(u, pc);
}


/* a connection ready for use: the first waiter's, else idle or closed */

static void
ngx_http_mcp_pg_give(ngx_http_mcp_pg_upstream_t *u, ngx_http_mcp_pg_conn_t *pc)
{
    ngx_queue_t             *q;
    ngx_http_mcp_pg_wait_t  *w;

    if (!ngx_queue_empty(&u->waiters)) {
        q = ngx_queue_head(&u->waiters);
        w = ngx_queue_data(q, ngx_http_mcp_pg_wait_t, queue);

        ngx_http_mcp_pg_cancel(w);

        ngx_queue_insert_tail(&u->busy, &pc->queue);
        ngx_http_mcp_pg_set_state(pc, NGX_HTTP_MCP_PG_BUSY);
        pc->c->idle = 0;

        w->handler(w, pc, 0);
        return;
    }

    if (u->nidle >= u->keepalive || ngx_exiting || ngx_terminate) {
        u->nconns--;
        ngx_http_mcp_pg_close(pc);
        return;
    }

    ngx_queue_insert_head(&u->idle, &pc->queue);
    u->nidle++;
}


/*
 * waiters and connections rebalanced: a connection being made for each
 * waiter while the cap allows, and waiters refused when no server is left
 */

static void
ngx_http_mcp_pg_dispatch(ngx_http_mcp_pg_upstream_t *u)
{
    ngx_int_t                rc;
    ngx_queue_t             *q;
    ngx_http_mcp_pg_wait_t  *w;

    while (u->nwaiting > u->nconnecting && u->nconns < u->max_connections) {

        rc = ngx_http_mcp_pg_new(u, 0);

        if (rc == NGX_OK) {
            continue;
        }

        if (u->nconns > u->nconnecting) {
            /* a busy connection will come back for them */
            break;
        }

        /* no server can be tried now: waiters beyond the connections
           being made are refused */

        q = ngx_queue_last(&u->waiters);
        w = ngx_queue_data(q, ngx_http_mcp_pg_wait_t, queue);

        ngx_http_mcp_pg_refuse(w, NGX_HTTP_MCP_PG_UNAVAILABLE,
                               ngx_http_mcp_pg_why(u));
    }
}


/* NGX_OK: a connection is being made; NGX_DECLINED: no live server */

static ngx_int_t
ngx_http_mcp_pg_new(ngx_http_mcp_pg_upstream_t *u, ngx_uint_t probe)
{
    ngx_http_mcp_pg_conn_t    *pc;
    ngx_http_mcp_pg_server_t  *s;

    s = ngx_http_mcp_pg_pick(u, probe);

    if (s == NULL) {
        return NGX_DECLINED;
    }

    pc = ngx_http_mcp_pg_connect(u, s);

    if (pc == NULL) {
        ngx_http_mcp_peer_failed(&s->peer);
        ngx_http_mcp_pg_down(u, "cannot connect");
        u->failed = "cannot connect";
        return NGX_ERROR;
    }

    ngx_queue_insert_tail(&u->busy, &pc->queue);
    u->nconns++;
    u->nconnecting++;

    return NGX_OK;
}


/*
 * the next server in turn that may be tried: fewer than max_fails
 * failures, or fail_timeout has passed since the last (a trial); the only
 * server of an upstream, and a probe of readiness, try any
 */

static ngx_http_mcp_pg_server_t *
ngx_http_mcp_pg_pick(ngx_http_mcp_pg_upstream_t *u, ngx_uint_t probe)
{
    return ngx_http_mcp_peer_pick(u->servers.elts,
                                  sizeof(ngx_http_mcp_pg_server_t),
                                  u->servers.nelts, &u->next, probe);
}


void
ngx_http_mcp_pg_connected(ngx_http_mcp_pg_conn_t *pc)
{
    ngx_http_mcp_pg_upstream_t  *u;

    u = pc->upstream;

    u->nconnecting--;
    u->state = NGX_HTTP_MCP_PG_UP;
    u->failed = NULL;
    ngx_http_mcp_peer_ok(&pc->server->peer);

    ngx_queue_remove(&pc->queue);

    ngx_http_mcp_pg_keep(pc);
    ngx_http_mcp_pg_give(u, pc);
}


void
ngx_http_mcp_pg_failed(ngx_http_mcp_pg_conn_t *pc, ngx_uint_t auth)
{
    ngx_http_mcp_pg_server_t    *s;
    ngx_http_mcp_pg_upstream_t  *u;

    u = pc->upstream;
    s = pc->server;

    ngx_queue_remove(&pc->queue);
    u->nconnecting--;
    u->nconns--;

    ngx_http_mcp_peer_failed(&s->peer);

    u->failed = auth ? "authentication failed" : "cannot connect";
    ngx_http_mcp_pg_down(u, u->failed);

    ngx_http_mcp_pg_close(pc);

    /*
     * another server for the waiters; those left without a connection
     * being made learn why now, the oldest first (an upstream's only
     * server is not tried again for them, or a waiter would see attempt
     * after attempt fail until its queue timeout)
     */

    if (u->servers.nelts > 1) {
        ngx_http_mcp_pg_dispatch(u);
    }

    /* busy connections will come back: their waiters keep waiting */

    while (u->nwaiting > u->nconnecting && u->nconns == u->nconnecting) {
        ngx_http_mcp_pg_refuse(ngx_queue_data(ngx_queue_head(&u->waiters),
                                              ngx_http_mcp_pg_wait_t, queue),
                               NGX_HTTP_MCP_PG_UNAVAILABLE,
                               ngx_http_mcp_pg_why(u));
    }
}


void
ngx_http_mcp_pg_lost(ngx_http_mcp_pg_conn_t *pc)
{
    ngx_uint_t                   idle;
    ngx_http_mcp_pg_upstream_t  *u;

    u = pc->upstream;

    idle = (pc->state == NGX_HTTP_MCP_PG_IDLE);

    if (idle) {
        ngx_log_error(NGX_LOG_WARN, &pc->log, 0,
                      "postgres: upstream \"%V\" server %V closed an idle "
                      "connection", &u->name, &pc->server->name);
        u->nidle--;
    }

    ngx_queue_remove(&pc->queue);
    u->nconns--;

    ngx_http_mcp_pg_close(pc);

    if (idle) {

        /*
         * a server may close idle connections on purpose (its
         * idle_session_timeout, a pooler, a firewall): readiness changes
         * only if a new connection fails too
         */

        if (u->nconnecting == 0 && u->nconns < u->max_connections) {
            (void) ngx_http_mcp_pg_new(u, 1);
        }

    } else {
        ngx_http_mcp_pg_down(u, "connection lost");
    }

    ngx_http_mcp_pg_dispatch(u);
}


/* an idle connection closed on the worker's way out */

void
ngx_http_mcp_pg_retire(ngx_http_mcp_pg_conn_t *pc)
{
    ngx_queue_remove(&pc->queue);
    pc->upstream->nidle--;
    pc->upstream->nconns--;

    ngx_http_mcp_pg_close(pc);
}


static void
ngx_http_mcp_pg_down(ngx_http_mcp_pg_upstream_t *u, char *why)
{
    u->state = NGX_HTTP_MCP_PG_DOWN;
    u->why.data = (u_char *) why;
    u->why.len = ngx_strlen(why);
}


/* why no connection can be had: the last failure's reason */

static char *
ngx_http_mcp_pg_why(ngx_http_mcp_pg_upstream_t *u)
{
    return u->failed ? u->failed : "no live servers";
}


ngx_int_t
ngx_http_mcp_pg_check(ngx_http_mcp_pg_upstream_t *u, ngx_pool_t *pool,
    ngx_str_t *detail)
{
    u_char  *p;

    ngx_http_mcp_pg_ready(u);

    if (u->state == NGX_HTTP_MCP_PG_UP) {
        p = ngx_pnalloc(pool, 64);
        if (p == NULL) {
            return NGX_ERROR;
        }

        detail->data = p;
        detail->len = ngx_sprintf(p, "%ui connection(s), %ui idle",
                                  u->nconns, u->nidle)
                      - p;
        return NGX_OK;
    }

    if (u->state == NGX_HTTP_MCP_PG_UNKNOWN) {
        ngx_str_set(detail, "not connected yet");

    } else {
        *detail = u->why;
    }

    /* a new attempt, whose outcome the next check sees */

    if (u->nconnecting == 0 && u->nconns < u->max_connections) {
        (void) ngx_http_mcp_pg_new(u, 1);
    }

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_mcp_pg_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                    i;
    ngx_array_t                  *used;
    ngx_http_mcp_pg_upstream_t  **u;

    used = ngx_http_mcp_pg_used(cycle);

    /* the cache manager and loader run no calls */

    if (used == NULL
        || (ngx_process != NGX_PROCESS_WORKER
            && ngx_process != NGX_PROCESS_SINGLE))
    {
        return NGX_OK;
    }

    /* one connection each, so that the first call and readiness find it */

    u = used->elts;

    for (i = 0; i < used->nelts; i++) {
        ngx_http_mcp_pg_ready(u[i]);
        (void) ngx_http_mcp_pg_new(u[i], 1);
    }

    return NGX_OK;
}


void
ngx_http_mcp_pg_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                    i;
    ngx_array_t                  *used;
    ngx_queue_t                  *q;
    ngx_http_mcp_pg_conn_t       *pc;
    ngx_http_mcp_pg_upstream_t  **u;

    used = ngx_http_mcp_pg_used(cycle);

    if (used == NULL) {
        return;
    }

    u = used->elts;

    for (i = 0; i < used->nelts; i++) {

        if (!u[i]->ready) {
            continue;
        }

        while (!ngx_queue_empty(&u[i]->idle)) {
            q = ngx_queue_head(&u[i]->idle);
            ngx_queue_remove(q);
            pc = ngx_queue_data(q, ngx_http_mcp_pg_conn_t, queue);
            ngx_http_mcp_pg_close(pc);
        }

        while (!ngx_queue_empty(&u[i]->busy)) {
            q = ngx_queue_head(&u[i]->busy);
            ngx_queue_remove(q);
            pc = ngx_queue_data(q, ngx_http_mcp_pg_conn_t, queue);
            ngx_http_mcp_pg_close(pc);
        }
    }
}
