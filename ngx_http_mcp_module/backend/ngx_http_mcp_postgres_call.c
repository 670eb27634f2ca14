
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "backend/ngx_http_mcp_postgres.h"


/*
 * A call of a `postgres` entry.  Once a connection is had, one round trip
 * (libpq pipeline mode) carries
 *
 *   [SELECT set_config('statement_timeout', T, false),
 *           set_config('default_transaction_read_only', RO, false); Sync]
 *   [BEGIN READ ONLY | READ WRITE;
 *    SELECT set_config('statement_timeout', T, true), set_config(...)...]
 *   [Parse of the entry's statement, the first time on this connection]
 *   the statement, its values bound as parameters (single-row mode)
 *   [COMMIT]
 *   Sync
 *
 * The first part sets the connection's defaults when they are not the
 * call's already; the transaction is explicit when they were not, or when
 * postgres_set lines apply (transaction-local, so that no setting outlives
 * the call).  Most calls of a pool are the statement alone, in its own
 * implicit transaction, with the connection's defaults: what pgbench -M
 * prepared sends.  Results come back in order, each query's ended by a
 * NULL.  After an error the server skips to the Sync; an explicit
 * transaction is then left aborted, and a ROLLBACK follows before the
 * connection is pooled again.  Rows become JSON as they arrive; past
 * max_rows or max_size whole rows are dropped, never cut.
 */


static ngx_int_t ngx_http_mcp_postgres_values(ngx_http_mcp_pg_call_t *ctx);
static ngx_int_t ngx_http_mcp_postgres_settings(ngx_http_mcp_pg_call_t *ctx,
    ngx_array_t *loc);
static void ngx_http_mcp_postgres_ready(ngx_http_mcp_pg_wait_t *w,
    ngx_http_mcp_pg_conn_t *pc, ngx_uint_t why);
static ngx_int_t ngx_http_mcp_postgres_send(ngx_http_mcp_pg_call_t *ctx,
    ngx_http_mcp_pg_conn_t *pc);
static void ngx_http_mcp_postgres_cleanup(void *data);


ngx_int_t
ngx_http_mcp_postgres_start(ngx_http_mcp_bcall_t *bc)
{
    ngx_int_t                 rc;
    ngx_pool_cleanup_t       *cln;
    ngx_http_mcp_pg_conn_t   *pc;
    ngx_http_mcp_pg_call_t   *ctx;
    ngx_http_mcp_loc_conf_t  *mlcf;

    ctx = ngx_pcalloc(bc->pool, sizeof(ngx_http_mcp_pg_call_t));
    cln = ngx_pool_cleanup_add(bc->pool, 0);

    if (ctx == NULL || cln == NULL) {
        return NGX_ERROR;
    }

    mlcf = ngx_http_get_module_loc_conf(bc->request, ngx_http_mcp_module);

    ctx->bc = bc;
    ctx->pg = bc->entry->conf;
    ctx->timeout = bc->timeout;
    ctx->max_rows = (ctx->pg->max_rows != NGX_CONF_UNSET_UINT)
                    ? ctx->pg->max_rows : mlcf->pg_max_rows;
    bc->ctx = ctx;

    cln->handler = ngx_http_mcp_postgres_cleanup;
    cln->data = ctx;

    if (ngx_http_mcp_jw_init(&ctx->jw, bc->pool, 256) != NGX_OK) {
        return NGX_ERROR;
    }

    rc = ngx_http_mcp_postgres_values(ctx);

    if (rc == NGX_OK) {
        rc = ngx_http_mcp_postgres_settings(ctx, mlcf->pg_settings);
    }

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        /* a value PostgreSQL cannot take: answered now */
        ctx->finished = 1;
        return NGX_OK;
    }

    /* the server stops the statement; the module waits a little longer */

    if (bc->timeout) {
        bc->timeout += NGX_HTTP_MCP_PG_GRACE;
    }

    ctx->wait.handler = ngx_http_mcp_postgres_ready;
    ctx->wait.data = ctx;
    ctx->wait.log = bc->log;

    rc = ngx_http_mcp_pg_get(ctx->pg->upstream, &ctx->wait, &pc);

    switch (rc) {

    case NGX_OK:
        if (ngx_http_mcp_postgres_send(ctx, pc) != NGX_OK) {
            ctx->finished = 1;
            return NGX_OK;
        }

        return NGX_AGAIN;

    case NGX_AGAIN:
        return NGX_AGAIN;

    case NGX_DECLINED:
        ngx_http_mcp_postgres_fail(ctx, "PostgreSQL upstream \"%V\" is "
                                   "unavailable: %V",
                                   ngx_http_mcp_pg_upstream_name(
                                                          ctx->pg->upstream),
                                   &ctx->wait.reason);
        ctx->finished = 1;
        return NGX_OK;

    default:
        return NGX_ERROR;
    }
}


/* the values of the placeholders, as text (NULL: SQL NULL) */

static ngx_int_t
ngx_http_mcp_postgres_values(ngx_http_mcp_pg_call_t *ctx)
{
    ngx_int_t                   rc;
    ngx_str_t                   s;
    ngx_uint_t                  i;
    ngx_http_mcp_bcall_t       *bc;
    ngx_http_mcp_pg_bind_t     *b;
    ngx_http_variable_value_t  *vv;

    bc = ctx->bc;
    b = ctx->pg->binds.elts;

    ctx->nvalues = ctx->pg->binds.nelts;
    ctx->values = ngx_pcalloc(bc->pool, (ctx->nvalues + 1) * sizeof(char *));
    if (ctx->values == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < ctx->nvalues; i++) {

        if (b[i].index != -1) {
            vv = ngx_http_get_flushed_variable(bc->request, b[i].index);

            if (vv == NULL || vv->not_found) {
                continue;
            }

            s.data = vv->data;
            s.len = vv->len;

        } else {
            /* a template variable or an argument; absent is NULL */

            rc = ngx_http_mcp_backend_value(bc, &b[i].name, &s);

            if (rc == NGX_DECLINED) {
                continue;
            }

            if (rc != NGX_OK) {
                return NGX_ERROR;
            }
        }

        if (ngx_strlchr(s.data, s.data + s.len, '\0')) {
            ngx_http_mcp_postgres_fail(ctx, "The value of \"%V\" contains a "
                                       "NUL character, which PostgreSQL "
                                       "cannot take", &b[i].name, NULL);
            return NGX_DECLINED;
        }

        ctx->values[i] = (char *) ngx_pnalloc(bc->pool, s.len + 1);
        if (ctx->values[i] == NULL) {
            return NGX_ERROR;
        }

        *ngx_cpymem((u_char *) ctx->values[i], s.data, s.len) = '\0';
    }

    return NGX_OK;
}


/*
 * statement_timeout, then the location's postgres_set, then the entry's:
 * pairs of parameters of one SELECT set_config($1, $2, true), ...
 */

static ngx_int_t
ngx_http_mcp_postgres_settings(ngx_http_mcp_pg_call_t *ctx, ngx_array_t *loc)
{
    u_char                     *p;
    ngx_str_t                   v;
    ngx_uint_t                  i, k, n, l;
    ngx_array_t                *lists[2];
    ngx_http_mcp_bcall_t       *bc;
    ngx_http_mcp_pg_setting_t  *s;

    bc = ctx->bc;

    lists[0] = loc;
    lists[1] = bc->entry->options;

    n = 1;

    for (l = 0; l < 2; l++) {
        n += lists[l] ? lists[l]->nelts : 0;
    }

    ctx->nsettings = n;
    ctx->settings = ngx_pcalloc(bc->pool, 2 * n * sizeof(char *));
    ctx->set_sql.data = ngx_pnalloc(bc->pool,
                                    sizeof("SELECT ") + n * 40);

    if (ctx->settings == NULL || ctx->set_sql.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(ctx->set_sql.data, "SELECT ");

    for (i = 0; i < n; i++) {
        p = ngx_sprintf(p, "%sset_config($%ui,$%ui,true)",
                        i ? "," : "", 2 * i + 1, 2 * i + 2);
    }

    *p = '\0';
    ctx->set_sql.len = p - ctx->set_sql.data;

    /* the server's own limit: the call's timeout (0: none) */

    ctx->settings[0] = "statement_timeout";
    ctx->settings[1] = (char *) ngx_pnalloc(bc->pool, NGX_INT_T_LEN + 1);
    if (ctx->settings[1] == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf((u_char *) ctx->settings[1], "%M%Z", ctx->timeout);

    k = 2;

    for (l = 0; l < 2; l++) {
        if (lists[l] == NULL) {
            continue;
        }

        s = lists[l]->elts;

        for (i = 0; i < lists[l]->nelts; i++) {
            if (ngx_http_complex_value(bc->request, &s[i].value, &v)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            if (ngx_strlchr(v.data, v.data + v.len, '\0')) {
                ngx_http_mcp_postgres_fail(ctx, "The value of the setting "
                                           "\"%V\" contains a NUL character,"
                                           " which PostgreSQL cannot take",
                                           &s[i].name, NULL);
                return NGX_DECLINED;
            }

            ctx->settings[k++] = (char *) s[i].name.data;

            ctx->settings[k] = (char *) ngx_pnalloc(bc->pool, v.len + 1);
            if (ctx->settings[k] == NULL) {
                return NGX_ERROR;
            }

            *ngx_cpymem((u_char *) ctx->settings[k++], v.data, v.len) = '\0';
        }
    }

    return NGX_OK;
}


/* the pool's answer to a call that waited */

static void
ngx_http_mcp_postgres_ready(ngx_http_mcp_pg_wait_t *w,
    ngx_http_mcp_pg_conn_t *pc, ngx_uint_t why)
{
    ngx_http_mcp_pg_call_t *ctx = w->data;

    u_char      buf[NGX_INT_T_LEN];
    ngx_str_t  *name, ms;

    if (pc) {
        if (ngx_http_mcp_postgres_send(ctx, pc) == NGX_OK) {
            return;
        }

    } else if (why == NGX_HTTP_MCP_PG_QUEUE_TIMEOUT) {
        name = ngx_http_mcp_pg_upstream_name(ctx->pg->upstream);
        ms.data = buf;
        ms.len = ngx_sprintf(buf, "%M",
                             ngx_http_mcp_pg_queue_timeout(ctx->pg->upstream))
                 - buf;
        ngx_http_mcp_postgres_fail(ctx, "No PostgreSQL connection of "
                                   "upstream \"%V\" became free within "
                                   "%V ms", name, &ms);

    } else {
        ngx_http_mcp_postgres_fail(ctx, "PostgreSQL upstream \"%V\" is "
                                   "unavailable: %V",
                                   ngx_http_mcp_pg_upstream_name(
                                                          ctx->pg->upstream),
                                   &w->reason);
    }

    ngx_http_mcp_postgres_finish(ctx);
}


static ngx_int_t
ngx_http_mcp_postgres_send(ngx_http_mcp_pg_call_t *ctx,
    ngx_http_mcp_pg_conn_t *pc)
{
    int                       ok;
    u_char                   *sql;
    PGconn                   *conn;
    ngx_uint_t                ro, n;
    const char               *session[2];
    ngx_http_mcp_postgres_t  *pg;

    pg = ctx->pg;
    conn = pc->conn;
    ctx->pc = pc;
    ctx->step = 0;
    ctx->prepare = !pc->prepared[pg->statement];

    /*
     * mcp_postgres_trace_comment: the statement carries the call's span
     * ("/ * traceparent='00-...' * /" first, as sqlcommenter writes it),
     * so pg_stat_activity and the server's log show it; a text that
     * differs each time is sent as it is, not prepared
     */

    sql = NULL;

    if (ngx_http_mcp_pg_trace_comment(pg->upstream)
        && ctx->bc->traceparent.len)
    {
        sql = ngx_pnalloc(ctx->bc->pool, sizeof("/* traceparent='' */ ") - 1
                          + ctx->bc->traceparent.len + pg->sql.len + 1);
        if (sql == NULL) {
            return NGX_ERROR;
        }

        *ngx_sprintf(sql, "/* traceparent='%V' */ %V", &ctx->bc->traceparent,
                     &pg->sql) = '\0';

        ctx->prepare = 0;
    }

    ro = ctx->bc->entry->read_only;
    n = 0;

    ok = PQenterPipelineMode(conn);

    if (pc->session_timeout == (ngx_int_t) ctx->timeout
        && pc->session_read_only == (ngx_int_t) ro
        && ctx->nsettings == 1)
    {
        /*
         * the connection's defaults are the call's and nothing else is
         * set: the statement alone, in its own implicit transaction
         */

        goto statement;
    }

    if (pc->session_timeout != (ngx_int_t) ctx->timeout
        || pc->session_read_only != (ngx_int_t) ro)
    {
        /* the defaults for this and later calls, committed at the Sync */

        session[0] = ctx->settings[1];
        session[1] = ro ? "on" : "off";

        ok = ok && PQsendQueryParams(conn, "SELECT set_config("
                                     "'statement_timeout',$1,false),"
                                     "set_config("
                                     "'default_transaction_read_only',"
                                     "$2,false)",
                                     2, NULL, session, NULL, NULL, 0)
                && PQpipelineSync(conn);

        ctx->steps[n++] = NGX_HTTP_MCP_PG_SESSION;
        ctx->steps[n++] = NGX_HTTP_MCP_PG_SYNC;

        pc->session_timeout = ctx->timeout;
        pc->session_read_only = ro;
    }

    /* a transaction of its own: its settings end with it */

    ok = ok && PQsendQueryParams(conn, ro ? "BEGIN READ ONLY"
                                          : "BEGIN READ WRITE",
                                 0, NULL, NULL, NULL, NULL, 0)
            && PQsendQueryParams(conn, (char *) ctx->set_sql.data,
                                 2 * ctx->nsettings, NULL, ctx->settings,
                                 NULL, NULL, 0);

    ctx->steps[n++] = NGX_HTTP_MCP_PG_BEGIN;
    ctx->steps[n++] = NGX_HTTP_MCP_PG_SETTINGS;

statement:

    if (ctx->prepare) {
        ok = ok && PQsendPrepare(conn, (char *) pg->stmt_name,
                                 (char *) pg->sql.data, ctx->nvalues, NULL);
        ctx->steps[n++] = NGX_HTTP_MCP_PG_PREPARE;
    }

    if (sql) {
        ok = ok && PQsendQueryParams(conn, (char *) sql, ctx->nvalues, NULL,
                                     ctx->values, NULL, NULL, 0);

    } else {
        ok = ok && PQsendQueryPrepared(conn, (char *) pg->stmt_name,
                                       ctx->nvalues, ctx->values, NULL, NULL,
                                       0);
    }
    ctx->steps[n++] = NGX_HTTP_MCP_PG_STATEMENT;

    if (ctx->steps[0] != NGX_HTTP_MCP_PG_STATEMENT
        && ctx->steps[0] != NGX_HTTP_MCP_PG_PREPARE)
    {
        ok = ok && PQsendQueryParams(conn, "COMMIT", 0, NULL, NULL, NULL,
                                     NULL, 0);
        ctx->steps[n++] = NGX_HTTP_MCP_PG_COMMIT;
    }

    ok = ok && PQpipelineSync(conn);
    ctx->steps[n++] = NGX_HTTP_MCP_PG_SYNC;
    ctx->nsteps = n;

    if (ctx->steps[0] == NGX_HTTP_MCP_PG_STATEMENT) {
        (void) PQsetSingleRowMode(conn);
    }

    if (!ok
        || ngx_http_mcp_pg_send(pc, ngx_http_mcp_postgres_result, ctx)
           != NGX_OK)
    {
        ctx->pc = NULL;
        ngx_http_mcp_pg_free(pc, 0);
        ngx_http_mcp_postgres_fail(ctx, "The connection to PostgreSQL "
                                   "upstream \"%V\" was lost during the call",
                                   ngx_http_mcp_pg_upstream_name(
                                                          pg->upstream),
                                   NULL);
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_http_mcp_postgres_fail(ngx_http_mcp_pg_call_t *ctx, const char *fmt,
    ngx_str_t *arg, ngx_str_t *arg2)
{
    u_char                 *p;
    size_t                  len;
    ngx_http_mcp_result_t  *res;

    res = &ctx->bc->result;

    if (ctx->failed) {
        return;
    }

    ctx->failed = 1;
    res->kind = NGX_HTTP_MCP_RESULT_ERROR;

    len = ngx_strlen(fmt) + arg->len + (arg2 ? arg2->len : 0);

    p = ngx_pnalloc(ctx->bc->pool, len);
    if (p == NULL) {
        ngx_str_set(&res->reason, "PostgreSQL call failed");
        return;
    }

    res->reason.data = p;
    res->reason.len = ngx_snprintf(p, len, fmt, arg, arg2) - p;
}


/* the call is over: the result goes up, once */

void
ngx_http_mcp_postgres_finish(ngx_http_mcp_pg_call_t *ctx)
{
    ngx_connection_t      *c;
    ngx_http_mcp_bcall_t  *bc;

    if (ctx->finished) {
        return;
    }

    ctx->finished = 1;

    bc = ctx->bc;
    c = bc->request->connection;

    bc->done(bc);

    /* bc and ctx may be gone */

    ngx_http_run_posted_requests(c);
}


ngx_int_t
ngx_http_mcp_postgres_abort(ngx_http_mcp_bcall_t *bc, ngx_uint_t why)
{
    u_char                   buf[NGX_INT_T_LEN];
    ngx_str_t                s;
    ngx_http_mcp_pg_call_t  *ctx;

    ctx = bc->ctx;

    if (ctx->finished) {
        return NGX_OK;
    }

    ngx_http_mcp_pg_cancel(&ctx->wait);

    if (ctx->pc) {
        /* a statement may be running: the connection goes with it */
        ngx_http_mcp_pg_free(ctx->pc, 0);
        ctx->pc = NULL;
    }

    if (why == NGX_HTTP_MCP_ABORT_CANCEL) {
        bc->result.kind = NGX_HTTP_MCP_RESULT_ERROR;
        bc->result.cancelled = 1;
        ngx_str_set(&bc->result.reason, "cancelled");
        ctx->failed = 1;

    } else {
        s.data = buf;
        s.len = ngx_sprintf(buf, "%M", bc->timeout) - buf;

        ctx->failed = 0;
        ngx_http_mcp_postgres_fail(ctx, "PostgreSQL did not answer within "
                                   "%V ms", &s, NULL);
    }

    ctx->finished = 1;
    bc->done(bc);

    return NGX_OK;
}


/* the request went away first (the client closed, or a reload) */

static void
ngx_http_mcp_postgres_cleanup(void *data)
{
    ngx_http_mcp_pg_call_t *ctx = data;

    ngx_http_mcp_pg_cancel(&ctx->wait);

    if (ctx->pc) {
        ngx_http_mcp_pg_free(ctx->pc, 0);
        ctx->pc = NULL;
    }

    ctx->finished = 1;
}
