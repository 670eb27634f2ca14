
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "observe/ngx_http_mcp_metrics.h"
#include "upstream/ngx_http_mcp_pg_int.h"
#include "upstream/ngx_http_mcp_pg_audit.h"


/*
 * The records of mcp_audit_postgres, inserted by each worker without
 * making a request wait.  A record is copied into the worker's pending
 * batch, the text of a JSON array, and a posted event sends the batch
 * once the current events are handled: all the records that wait go in
 * one INSERT ... SELECT FROM jsonb_array_elements($1), so that a busy
 * worker inserts many with one statement.  One batch is out at a time;
 * what comes meanwhile waits for the next.
 *
 * The queue is bounded (queue= records); a record that finds it full is
 * dropped, and so is a batch that cannot be inserted: no connection
 * (the server is down, or the pool's queue timeout passed), a lost
 * connection, an error, or no answer within timeout=.  Each dropped
 * record counts in mcp_audit_dropped_total, and the error log says so
 * at most once a minute per table.
 */


#define NGX_HTTP_MCP_PG_AUDIT_SETUP    1      /* the session made writable */
#define NGX_HTTP_MCP_PG_AUDIT_INSERT   2

#define NGX_HTTP_MCP_PG_AUDIT_MIN      16384  /* a batch buffer's first */
#define NGX_HTTP_MCP_PG_AUDIT_KEEP     1048576   /* larger ones are freed */


static ngx_int_t ngx_http_mcp_pg_audit_room(ngx_http_mcp_pg_audit_t *t,
    size_t len);
static void ngx_http_mcp_pg_audit_nul(u_char *p, u_char *last);
static void ngx_http_mcp_pg_audit_flush(ngx_event_t *ev);
static void ngx_http_mcp_pg_audit_ready(ngx_http_mcp_pg_wait_t *w,
    ngx_http_mcp_pg_conn_t *pc, ngx_uint_t why);
static void ngx_http_mcp_pg_audit_send(ngx_http_mcp_pg_audit_t *t,
    ngx_http_mcp_pg_conn_t *pc);
static ngx_int_t ngx_http_mcp_pg_audit_result(ngx_http_mcp_pg_conn_t *pc,
    PGresult *res, ngx_uint_t lost);
static void ngx_http_mcp_pg_audit_timeout(ngx_event_t *ev);
static void ngx_http_mcp_pg_audit_done(ngx_http_mcp_pg_audit_t *t,
    char *error);
static void ngx_http_mcp_pg_audit_drop(ngx_http_mcp_pg_audit_t *t,
    ngx_uint_t n, char *why);


void
ngx_http_mcp_pg_audit_init(ngx_conf_t *cf, ngx_http_mcp_pg_audit_t *t)
{
    t->flush.handler = ngx_http_mcp_pg_audit_flush;
    t->flush.data = t;
    t->flush.log = &cf->cycle->new_log;

    /*
     * not cancelable: a worker that exits gracefully waits for the batch
     * in flight, up to timeout=
     */

    t->timer.handler = ngx_http_mcp_pg_audit_timeout;
    t->timer.data = t;
    t->timer.log = &cf->cycle->new_log;

    t->wait.handler = ngx_http_mcp_pg_audit_ready;
    t->wait.data = t;
    t->wait.log = &cf->cycle->new_log;
}


void
ngx_http_mcp_pg_audit_put(ngx_http_mcp_pg_audit_t *t, u_char *record,
    size_t len)
{
    u_char  *p;

    if (t->npending >= t->size) {
        ngx_http_mcp_pg_audit_drop(t, 1, "the queue is full");
        return;
    }

    /* a separator before, and room for "]" and a NUL at the end */

    if (ngx_http_mcp_pg_audit_room(t, len + 3) != NGX_OK) {
        ngx_http_mcp_pg_audit_drop(t, 1, "no memory");
        return;
    }

    p = t->pending + t->plen;
    *p++ = t->npending ? ',' : '[';
    ngx_memcpy(p, record, len);
    ngx_http_mcp_pg_audit_nul(p, p + len);

    t->plen += len + 1;
    t->npending++;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "mcp audit: postgres \"%V\": %ui record(s) wait",
                   &t->table, t->npending);

    if (!t->busy && !t->flush.posted) {
        ngx_post_event(&t->flush, &ngx_posted_events);
    }
}


/*
 * the pending buffer grown, if need be, by doubling; records outlive the
 * request, and a pool cannot give back what an inserted batch held
 */

static ngx_int_t
ngx_http_mcp_pg_audit_room(ngx_http_mcp_pg_audit_t *t, size_t len)
{
    u_char  *p;
    size_t   cap;

    if (t->plen + len <= t->pcap) {
        return NGX_OK;
    }

    cap = ngx_max(t->pcap, NGX_HTTP_MCP_PG_AUDIT_MIN);

    while (cap < t->plen + len) {
        cap *= 2;
    }

    p = ngx_alloc(cap, ngx_cycle->log);
    if (p == NULL) {
        return NGX_ERROR;
    }

    if (t->pending) {
        ngx_memcpy(p, t->pending, t->plen);
        ngx_free(t->pending);
    }

    t->pending = p;
    t->pcap = cap;

    return NGX_OK;
}


/*
 * PostgreSQL's jsonb cannot hold U+0000: "\u0000" in a string becomes
 * "\ufffd", as long, rather than fail the whole batch
 */

static void
ngx_http_mcp_pg_audit_nul(u_char *p, u_char *last)
{
    for ( /* void */ ; p + 6 <= last; p++) {

        if (*p != '\\') {
            continue;
        }

        if (ngx_strncmp(p + 1, "u0000", 5) == 0) {
            ngx_memcpy(p + 2, "fffd", 4);
        }

        p++;        /* the escaped character is not a backslash */
    }
}


static void
ngx_http_mcp_pg_audit_flush(ngx_event_t *ev)
{
    ngx_http_mcp_pg_audit_t *t = ev->data;

    u_char                  *p;
    size_t                   cap;
    ngx_int_t                rc;
    ngx_http_mcp_pg_conn_t  *pc;

    if (t->busy || t->npending == 0) {
        return;
    }

    /* the pending records become the batch; the other buffer waits */

    t->pending[t->plen++] = ']';
    t->pending[t->plen] = '\0';

    p = t->sending;
    cap = t->scap;

    t->sending = t->pending;
    t->scap = t->pcap;
    t->nsending = t->npending;

    t->pending = p;
    t->pcap = cap;
    t->plen = 0;
    t->npending = 0;

    t->busy = 1;
    t->error[0] = '\0';
    ngx_str_null(&t->wait.reason);

    rc = ngx_http_mcp_pg_get(t->upstream, &t->wait, &pc);

    switch (rc) {

    case NGX_OK:
        ngx_http_mcp_pg_audit_send(t, pc);
        return;

    case NGX_AGAIN:
        return;

    default:
        ngx_http_mcp_pg_audit_done(t, t->wait.reason.len
                                      ? (char *) t->wait.reason.data
                                      : "no connection");
        return;
    }
}


static void
ngx_http_mcp_pg_audit_ready(ngx_http_mcp_pg_wait_t *w,
    ngx_http_mcp_pg_conn_t *pc, ngx_uint_t why)
{
    ngx_http_mcp_pg_audit_t *t = w->data;

    if (pc == NULL) {
        ngx_http_mcp_pg_audit_done(t, (char *) w->reason.data);
        return;
    }

    ngx_http_mcp_pg_audit_send(t, pc);
}


/*
 * the batch, one parameter; first, on a connection whose sessions a
 * read-only tool made read-only by default, the default put back (the
 * backend's note of it updated, so its next call sets its own again)
 */

static void
ngx_http_mcp_pg_audit_send(ngx_http_mcp_pg_audit_t *t,
    ngx_http_mcp_pg_conn_t *pc)
{
    int          ok;
    const char  *values[1];

    t->pc = pc;

    if (pc->session_read_only == 1) {
        ok = PQsendQueryParams(pc->conn, "SELECT set_config("
                               "'default_transaction_read_only','off',"
                               "false)", 0, NULL, NULL, NULL, NULL, 0);
        pc->session_read_only = 0;
        t->step = NGX_HTTP_MCP_PG_AUDIT_SETUP;

    } else {
        values[0] = (char *) t->sending;
        ok = PQsendQueryParams(pc->conn, t->sql, 1, NULL, values, NULL,
                               NULL, 0);
        t->step = NGX_HTTP_MCP_PG_AUDIT_INSERT;
    }

    if (!ok
        || ngx_http_mcp_pg_send(pc, ngx_http_mcp_pg_audit_result, t)
           != NGX_OK)
    {
        t->pc = NULL;
        ngx_http_mcp_pg_free(pc, 0);
        ngx_http_mcp_pg_audit_done(t, "cannot send");
        return;
    }

    if (!t->timer.timer_set) {
        ngx_add_timer(&t->timer, t->timeout);
    }
}


static ngx_int_t
ngx_http_mcp_pg_audit_result(ngx_http_mcp_pg_conn_t *pc, PGresult *res,
    ngx_uint_t lost)
{
    ngx_http_mcp_pg_audit_t *t = pc->data;

    char        *msg;
    const char  *values[1];

    if (lost) {
        /* the pool closes the connection */
        t->pc = NULL;
        ngx_http_mcp_pg_audit_done(t, "the connection was lost");
        return NGX_DONE;
    }

    if (res) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK
            && PQresultStatus(res) != PGRES_TUPLES_OK
            && t->error[0] == '\0')
        {
            /* the primary message only: a detail may quote a record */

            msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

            ngx_cpystrn(t->error, (u_char *) (msg ? msg : "an error"),
                        sizeof(t->error));
        }

        PQclear(res);
        return NGX_OK;
    }

    /* the statement's end */

    if (t->step == NGX_HTTP_MCP_PG_AUDIT_SETUP && t->error[0] == '\0') {
        values[0] = (char *) t->sending;
        t->step = NGX_HTTP_MCP_PG_AUDIT_INSERT;

        if (PQsendQueryParams(pc->conn, t->sql, 1, NULL, values, NULL,
                              NULL, 0)
            && ngx_http_mcp_pg_send(pc, ngx_http_mcp_pg_audit_result, t)
               == NGX_OK)
        {
            return NGX_OK;
        }

        t->pc = NULL;
        ngx_http_mcp_pg_free(pc, 0);
        ngx_http_mcp_pg_audit_done(t, "cannot send");
        return NGX_DONE;
    }

    t->pc = NULL;
    ngx_http_mcp_pg_free(pc, 1);

    ngx_http_mcp_pg_audit_done(t, t->error[0] ? (char *) t->error : NULL);

    return NGX_DONE;
}


static void
ngx_http_mcp_pg_audit_timeout(ngx_event_t *ev)
{
    ngx_http_mcp_pg_audit_t *t = ev->data;

    ngx_http_mcp_pg_conn_t  *pc;

    pc = t->pc;

    if (pc == NULL) {
        return;
    }

    /* the statement may still run: the connection goes with it */

    t->pc = NULL;
    ngx_http_mcp_pg_free(pc, 0);

    ngx_http_mcp_pg_audit_done(t, "no answer within timeout= (the records "
                                  "may be in the table)");
}


/* the batch is over: inserted (error NULL) or dropped; the next goes */

static void
ngx_http_mcp_pg_audit_done(ngx_http_mcp_pg_audit_t *t, char *error)
{
    if (t->timer.timer_set) {
        ngx_del_timer(&t->timer);
    }

    ngx_http_mcp_pg_cancel(&t->wait);

    if (error) {
        ngx_http_mcp_pg_audit_drop(t, t->nsending, error);

    } else {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "mcp audit: postgres \"%V\": %ui record(s) inserted",
                       &t->table, t->nsending);
    }

    t->nsending = 0;
    t->busy = 0;

    if (t->scap > NGX_HTTP_MCP_PG_AUDIT_KEEP) {
        ngx_free(t->sending);
        t->sending = NULL;
        t->scap = 0;
    }

    if (t->npending && !t->flush.posted) {
        ngx_post_event(&t->flush, &ngx_posted_events);
    }
}


static void
ngx_http_mcp_pg_audit_drop(ngx_http_mcp_pg_audit_t *t, ngx_uint_t n,
    char *why)
{
    ngx_uint_t  i;

    for (i = 0; i < n; i++) {
        ngx_http_mcp_metrics_audit_dropped();
    }

    t->dropped += n;

    if (ngx_time() < t->error_time + 60) {
        return;
    }

    t->error_time = ngx_time();

    ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                  "mcp audit: %ui record(s) for mcp_audit_postgres \"%V\" "
                  "\"%V\" dropped: %s", t->dropped, &t->upstream_name,
                  &t->table, why);

    t->dropped = 0;
}


void
ngx_http_mcp_pg_audit_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                 i;
    ngx_array_t               *targets;
    ngx_queue_t               *q;
    ngx_http_mcp_pg_conn_t    *pc;
    ngx_http_mcp_pg_audit_t  **tp, *t;

    targets = ngx_http_mcp_pg_audit_targets(cycle);

    if (targets == NULL) {
        return;
    }

    tp = targets->elts;

    for (i = 0; i < targets->nelts; i++) {
        t = tp[i];

        if (t->flush.posted) {
            ngx_delete_posted_event(&t->flush);
        }

        if (t->timer.timer_set) {
            ngx_del_timer(&t->timer);
        }

        ngx_http_mcp_pg_cancel(&t->wait);

        if (t->pc) {
            pc = t->pc;
            t->pc = NULL;
            ngx_http_mcp_pg_free(pc, 0);
        }

        if (t->nsending + t->npending) {
            t->error_time = 0;
            ngx_http_mcp_pg_audit_drop(t, t->nsending + t->npending,
                                       "the worker exits");
        }

        t->nsending = 0;
        t->npending = 0;

        if (t->pending) {
            ngx_free(t->pending);
            t->pending = NULL;
        }

        if (t->sending) {
            ngx_free(t->sending);
            t->sending = NULL;
        }

        /* the pool closes the connections of upstreams that calls use */

        if (t->upstream->used || !t->upstream->ready) {
            continue;
        }

        while (!ngx_queue_empty(&t->upstream->idle)) {
            q = ngx_queue_head(&t->upstream->idle);
            pc = ngx_queue_data(q, ngx_http_mcp_pg_conn_t, queue);
            ngx_http_mcp_pg_retire(pc);
        }
    }
}
