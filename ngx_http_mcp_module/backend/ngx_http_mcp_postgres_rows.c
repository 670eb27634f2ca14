
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "backend/ngx_http_mcp_postgres.h"
#include "backend/ngx_http_mcp_pg_value.h"
#include "json/ngx_http_mcp_media.h"


/*
 * What comes back of a call's round trip (ngx_http_mcp_postgres_call.c):
 * the results of BEGIN, the settings, the Parse, the statement and
 * COMMIT, each ended by a NULL, then the Sync; rows become JSON as they
 * arrive, and the end makes the neutral result.
 */


static void ngx_http_mcp_postgres_sql_error(ngx_http_mcp_pg_call_t *ctx,
    PGresult *res);
static void ngx_http_mcp_postgres_rows(ngx_http_mcp_pg_call_t *ctx,
    PGresult *res);
static ngx_int_t ngx_http_mcp_postgres_columns(ngx_http_mcp_pg_call_t *ctx,
    PGresult *res);
static void ngx_http_mcp_postgres_answer(ngx_http_mcp_pg_call_t *ctx);
static ngx_uint_t ngx_http_mcp_postgres_plain(ngx_str_t *mime);


static ngx_str_t  ngx_http_mcp_pg_json = ngx_string("application/json");


/* each result of the round trip, in order */

ngx_int_t
ngx_http_mcp_postgres_result(ngx_http_mcp_pg_conn_t *pc, PGresult *res,
    ngx_uint_t lost)
{
    ngx_http_mcp_pg_call_t *ctx = pc->data;

    ngx_uint_t  step;

    if (lost) {
        ctx->pc = NULL;
        ngx_http_mcp_postgres_fail(ctx, "The connection to PostgreSQL "
                                   "upstream \"%V\" was lost during the call",
                                   ngx_http_mcp_pg_upstream_name(
                                                     ctx->pg->upstream),
                                   NULL);
        ngx_http_mcp_postgres_finish(ctx);
        return NGX_DONE;
    }

    step = (ctx->step < ctx->nsteps) ? ctx->steps[ctx->step]
                                     : NGX_HTTP_MCP_PG_ROLLBACK;

    if (res == NULL) {

        /* the end of one query's results */

        if (step == NGX_HTTP_MCP_PG_SYNC) {
            return NGX_OK;
        }

        if (step == NGX_HTTP_MCP_PG_ROLLBACK) {
            goto done;
        }

        ctx->step++;

        if (ctx->step < ctx->nsteps
            && ctx->steps[ctx->step] == NGX_HTTP_MCP_PG_STATEMENT)
        {
            (void) PQsetSingleRowMode(pc->conn);
        }

        return NGX_OK;
    }

    switch (PQresultStatus(res)) {

    case PGRES_PIPELINE_SYNC:
        PQclear(res);

        ctx->step++;

        if (ctx->step < ctx->nsteps) {

            /* the connection's defaults are set; the call follows */

            if (ctx->steps[ctx->step] == NGX_HTTP_MCP_PG_STATEMENT) {
                (void) PQsetSingleRowMode(pc->conn);
            }

            return NGX_OK;
        }

        (void) PQexitPipelineMode(pc->conn);

        if (PQtransactionStatus(pc->conn) != PQTRANS_IDLE) {

            /* an error left the transaction aborted */

            ctx->step = ctx->nsteps;

            if (!PQsendQueryParams(pc->conn, "ROLLBACK", 0, NULL, NULL, NULL,
                                   NULL, 0)
                || ngx_http_mcp_pg_send(pc, ngx_http_mcp_postgres_result, ctx)
                   != NGX_OK)
            {
                ctx->pc = NULL;
                ngx_http_mcp_postgres_fail(ctx, "The connection to "
                                           "PostgreSQL upstream \"%V\" was "
                                           "lost during the call",
                                           ngx_http_mcp_pg_upstream_name(
                                                     ctx->pg->upstream),
                                           NULL);
                ngx_http_mcp_postgres_finish(ctx);
                return NGX_ERROR;
            }

            return NGX_OK;
        }

        goto done;

    case PGRES_FATAL_ERROR:

        if (step == NGX_HTTP_MCP_PG_SESSION) {
            /* the explicit transaction that follows still has the call's
               own settings; later calls set the defaults again */
            pc->session_timeout = -1;
            pc->session_read_only = -1;
            break;
        }

        ngx_http_mcp_postgres_sql_error(ctx, res);
        break;

    case PGRES_COMMAND_OK:
        if (step == NGX_HTTP_MCP_PG_PREPARE) {
            pc->prepared[ctx->pg->statement] = 1;

        } else if (step == NGX_HTTP_MCP_PG_STATEMENT && !ctx->failed) {
            ctx->dml = 1;
            ctx->affected.len = ngx_strlen(PQcmdTuples(res));

            if (ctx->affected.len == 0) {
                /* CALL, TRUNCATE, NOTIFY, ...: no count of rows */
                ngx_str_set(&ctx->affected, "0");

            } else {
                ctx->affected.data = ngx_pnalloc(ctx->bc->pool,
                                                 ctx->affected.len);
                if (ctx->affected.data == NULL) {
                    PQclear(res);
                    goto nomem;
                }

                ngx_memcpy(ctx->affected.data, PQcmdTuples(res),
                           ctx->affected.len);
            }
        }

        break;

    case PGRES_SINGLE_TUPLE:
    case PGRES_TUPLES_OK:
        if (step == NGX_HTTP_MCP_PG_STATEMENT && !ctx->failed) {
            ngx_http_mcp_postgres_rows(ctx, res);

            if (ctx->truncated && ctx->bc->entry->read_only) {

                /*
                 * a read has all it may answer: the rest of the rows
                 * would only be read to be dropped, so the connection
                 * goes with them (closing it ends the statement)
                 */

                PQclear(res);
                ctx->pc = NULL;
                ngx_http_mcp_postgres_answer(ctx);
                ngx_http_mcp_postgres_finish(ctx);
                return NGX_ERROR;
            }
        }

        break;

    case PGRES_COPY_OUT:
    case PGRES_COPY_IN:
    case PGRES_COPY_BOTH:
        PQclear(res);

        /* no call can answer a COPY: the connection goes */

        ctx->pc = NULL;
        ctx->failed = 0;
        ngx_http_mcp_postgres_fail(ctx, "The statement of \"%V\" started a "
                                   "COPY, which a call cannot answer",
                                   &ctx->bc->entry->name, NULL);
        ngx_http_mcp_postgres_finish(ctx);
        return NGX_ERROR;

    default:
        break;
    }

    PQclear(res);

    return NGX_OK;

nomem:

    ctx->pc = NULL;
    ngx_http_mcp_postgres_fail(ctx, "The answer of PostgreSQL upstream \"%V\""
                               " could not be kept (out of memory)",
                               ngx_http_mcp_pg_upstream_name(
                                                     ctx->pg->upstream),
                               NULL);
    ngx_http_mcp_postgres_finish(ctx);
    return NGX_ERROR;

done:

    ctx->pc = NULL;

    /* a connection whose prepared statement went stale is not reused */

    ngx_http_mcp_pg_free(pc, !ctx->stale);

    if (!ctx->failed) {
        ngx_http_mcp_postgres_answer(ctx);
    }

    ngx_http_mcp_postgres_finish(ctx);

    return NGX_DONE;
}


/* the first error of the round trip: SQLSTATE and the server's message */

static void
ngx_http_mcp_postgres_sql_error(ngx_http_mcp_pg_call_t *ctx, PGresult *res)
{
    u_char     *p;
    size_t      len;
    const char *state, *msg;

    if (ctx->failed) {
        return;
    }

    state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

    if (state == NULL) {
        state = "XX000";
    }

    /*
     * the prepared statement is gone (26000: a pooler between, DISCARD)
     * or its plan no longer fits the tables (0A000: "cached plan must not
     * change result type"): this connection is not used again
     */

    if (ngx_strcmp(state, "26000") == 0 || ngx_strcmp(state, "0A000") == 0) {
        ctx->stale = 1;
    }

    if (msg == NULL) {
        msg = "unknown error";
    }

    ngx_log_error(NGX_LOG_INFO, ctx->bc->log, 0,
                  "postgres: \"%V\" failed with SQLSTATE %s",
                  &ctx->bc->entry->name, state);

    len = sizeof("PostgreSQL error : ") + ngx_strlen(state) + ngx_strlen(msg);

    p = ngx_pnalloc(ctx->bc->pool, len);
    if (p == NULL) {
        ngx_str_set(&ctx->error, "PostgreSQL error");

    } else {
        ctx->error.data = p;
        ctx->error.len = ngx_sprintf(p, "PostgreSQL error %s: %s", state, msg)
                         - p;
    }

    ctx->failed = 1;
    ctx->bc->result.kind = NGX_HTTP_MCP_RESULT_ERROR;
    ctx->bc->result.reason = ctx->error;
}


/* rows as JSON objects; whole rows only, within max_rows and max_size */

static void
ngx_http_mcp_postgres_rows(ngx_http_mcp_pg_call_t *ctx, PGresult *res)
{
    int                 row, col, nrows;
    size_t              mark;
    ngx_http_mcp_jw_t  *jw;

    nrows = PQntuples(res);

    if (nrows == 0 || ctx->truncated) {
        return;
    }

    if (ctx->columns == NULL
        && ngx_http_mcp_postgres_columns(ctx, res) != NGX_OK)
    {
        ctx->jw.failed = 1;
        return;
    }

    jw = &ctx->jw;

    for (row = 0; row < nrows; row++) {

        if (ctx->rows >= ctx->max_rows) {
            ctx->truncated = 1;
            return;
        }

        mark = ngx_http_mcp_jw_mark(jw);

        if (ctx->rows) {
            ngx_http_mcp_jw_literal(jw, ",");
        }

        for (col = 0; col < (int) ctx->ncolumns; col++) {
            ngx_http_mcp_jw_raw(jw, (u_char *) (col ? "," : "{"), 1);
            ngx_http_mcp_jw_raw(jw, ctx->columns[col].data,
                                ctx->columns[col].len);

            if (PQgetisnull(res, row, col)) {
                ngx_http_mcp_jw_literal(jw, "null");
                continue;
            }

            ngx_http_mcp_pg_value(jw, PQftype(res, col),
                                  (u_char *) PQgetvalue(res, row, col),
                                  PQgetlength(res, row, col));
        }

        if (ctx->ncolumns) {
            ngx_http_mcp_jw_literal(jw, "}");

        } else {
            ngx_http_mcp_jw_literal(jw, "{}");
        }

        /* room for the closing members */

        if (ngx_http_mcp_jw_mark(jw) + 64 > ctx->bc->max_size) {
            ngx_http_mcp_jw_rewind(jw, mark);
            ctx->truncated = 1;
            return;
        }

        if (ctx->rows == 0 && ctx->ncolumns == 1
            && !PQgetisnull(res, row, 0))
        {
            ctx->single.len = PQgetlength(res, row, 0);
            ctx->single.data = ngx_pnalloc(ctx->bc->pool, ctx->single.len);
            if (ctx->single.data == NULL) {
                jw->failed = 1;
                return;
            }

            ngx_memcpy(ctx->single.data, PQgetvalue(res, row, 0),
                       ctx->single.len);
        }

        ctx->rows++;
    }
}


/* `"name":` of each column, escaped once */

static ngx_int_t
ngx_http_mcp_postgres_columns(ngx_http_mcp_pg_call_t *ctx, PGresult *res)
{
    int                 i;
    char               *name;
    ngx_http_mcp_jw_t   jw;

    ctx->ncolumns = PQnfields(res);
    ctx->columns = ngx_pcalloc(ctx->bc->pool,
                               (ctx->ncolumns + 1) * sizeof(ngx_str_t));
    if (ctx->columns == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < (int) ctx->ncolumns; i++) {
        name = PQfname(res, i);

        if (ngx_http_mcp_jw_init(&jw, ctx->bc->pool, 32) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_http_mcp_jw_string(&jw, (u_char *) name, ngx_strlen(name));
        ngx_http_mcp_jw_literal(&jw, ":");

        if (ngx_http_mcp_jw_finish(&jw, &ctx->columns[i]) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* the neutral result: JSON of the rows, or one value as text */

static void
ngx_http_mcp_postgres_answer(ngx_http_mcp_pg_call_t *ctx)
{
    u_char                 *p;
    ngx_str_t               rows, *mime;
    ngx_http_mcp_bcall_t   *bc;
    ngx_http_mcp_result_t  *res;

    bc = ctx->bc;
    res = &bc->result;

    if (ngx_http_mcp_jw_finish(&ctx->jw, &rows) != NGX_OK) {
        ngx_http_mcp_postgres_fail(ctx, "The answer of PostgreSQL upstream "
                                   "\"%V\" could not be kept (out of memory)",
                                   ngx_http_mcp_pg_upstream_name(
                                                     ctx->pg->upstream),
                                   NULL);
        return;
    }

    mime = &bc->entry->mime;

    if (bc->entry->kind == NGX_HTTP_MCP_ITEM_RESOURCE && !ctx->dml) {

        if (ctx->rows == 0 && !ctx->truncated) {
            res->kind = NGX_HTTP_MCP_RESULT_ERROR;
            res->status = NGX_HTTP_NOT_FOUND;
            ngx_str_set(&res->reason, "No row for this resource");
            return;
        }

        if (ctx->rows == 1 && ctx->ncolumns == 1 && ctx->single.data
            && ngx_http_mcp_postgres_plain(mime))
        {
            res->kind = NGX_HTTP_MCP_RESULT_TEXT;
            res->type = *mime;
            res->data = ctx->single;
            return;
        }
    }

    p = ngx_pnalloc(bc->pool, sizeof("{\"rows\":[],\"rowCount\":,"
                                     "\"truncated\":false}")
                              + rows.len + NGX_INT_T_LEN
                              + ctx->affected.len);
    if (p == NULL) {
        ngx_str_set(&res->reason, "out of memory");
        res->kind = NGX_HTTP_MCP_RESULT_ERROR;
        return;
    }

    res->data.data = p;

    if (ctx->dml) {
        p = ngx_sprintf(p, "{\"rowCount\":%V}", &ctx->affected);

    } else {
        p = ngx_sprintf(p, "{\"rows\":[%V],\"rowCount\":%ui,"
                        "\"truncated\":%s}", &rows, ctx->rows,
                        ctx->truncated ? "true" : "false");
    }

    res->data.len = p - res->data.data;
    res->kind = NGX_HTTP_MCP_RESULT_TEXT;

    if (bc->entry->kind != NGX_HTTP_MCP_ITEM_PROMPT) {
        res->type = ngx_http_mcp_pg_json;
    }
}


/* a textual type other than JSON: one value may be the text itself */

static ngx_uint_t
ngx_http_mcp_postgres_plain(ngx_str_t *mime)
{
    if (mime->len == 0 || !ngx_http_mcp_media_textual(mime)) {
        return 0;
    }

    if (ngx_strlcasestrn(mime->data, mime->data + mime->len,
                         (u_char *) "json", 4 - 1))
    {
        return 0;
    }

    return 1;
}
