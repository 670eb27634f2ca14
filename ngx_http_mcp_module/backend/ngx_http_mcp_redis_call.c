
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "backend/ngx_http_mcp_redis_backend.h"


/*
 * A call of a `redis` entry: the arguments are made for the call, each
 * from its pieces, and go as one command (an array of arguments, binary
 * safe) on a connection of the worker's pool for the upstream.  The
 * command has the call's timeout; the module's own deadline is a second
 * later.  A blocking command holds a connection of its own, and its
 * timeout in Redis plus a second bounds it at least.  The reply becomes
 * the neutral result (ngx_http_mcp_redis_result.c).
 */


static ngx_int_t ngx_http_mcp_redis_argv(ngx_http_mcp_redis_call_t *ctx,
    const char **argv, size_t *argvlen);
static void ngx_http_mcp_redis_reply(ngx_http_mcp_redis_cmd_t *cmd,
    redisReply *reply, ngx_str_t *error);
static void ngx_http_mcp_redis_no_reply(ngx_http_mcp_redis_call_t *ctx,
    ngx_str_t *error);
static void ngx_http_mcp_redis_cleanup(void *data);


ngx_int_t
ngx_http_mcp_redis_start(ngx_http_mcp_bcall_t *bc)
{
    size_t                     *argvlen;
    ngx_int_t                   rc;
    const char                **argv;
    ngx_pool_cleanup_t         *cln;
    ngx_http_mcp_redis_t       *rd;
    ngx_http_mcp_redis_call_t  *ctx;

    rd = bc->entry->conf;

    ctx = ngx_pcalloc(bc->pool, sizeof(ngx_http_mcp_redis_call_t));
    argv = ngx_palloc(bc->pool, rd->nargs * sizeof(char *));
    argvlen = ngx_palloc(bc->pool, rd->nargs * sizeof(size_t));
    cln = ngx_pool_cleanup_add(bc->pool, 0);

    if (ctx == NULL || argv == NULL || argvlen == NULL || cln == NULL) {
        return NGX_ERROR;
    }

    ctx->bc = bc;
    ctx->rd = rd;
    bc->ctx = ctx;

    cln->handler = ngx_http_mcp_redis_cleanup;
    cln->data = ctx;

    if (ngx_http_mcp_redis_argv(ctx, argv, argvlen) != NGX_OK) {
        return NGX_ERROR;
    }

    /*
     * the command's timeout is the call's; a blocking command may wait in
     * Redis as long as it says, and its reply a little longer
     */

    ctx->timeout = bc->timeout;

    if (rd->block
        && (ctx->timeout == 0
            || ctx->timeout < rd->block + NGX_HTTP_MCP_REDIS_GRACE))
    {
        ctx->timeout = rd->block + NGX_HTTP_MCP_REDIS_GRACE;
    }

    if (ctx->timeout) {
        bc->timeout = ctx->timeout + NGX_HTTP_MCP_REDIS_GRACE;
    }

    ctx->cmd.handler = ngx_http_mcp_redis_reply;
    ctx->cmd.data = ctx;
    ctx->cmd.log = bc->log;
    ctx->cmd.timeout = ctx->timeout;
    ctx->cmd.exclusive = rd->block ? 1 : 0;

    rc = ngx_http_mcp_redis_send(rd->upstream, &ctx->cmd, (int) rd->nargs,
                                 argv, argvlen);

    switch (rc) {

    case NGX_AGAIN:
        return NGX_AGAIN;

    case NGX_DECLINED:
        ngx_http_mcp_redis_fail(ctx, "Redis upstream \"%V\" is unavailable: "
                                "%V", ngx_http_mcp_redis_upstream_name(
                                                              rd->upstream),
                                &ctx->cmd.error);
        ctx->finished = 1;
        return NGX_OK;

    default:
        return NGX_ERROR;
    }
}


/* each argument, its pieces put together: one argument whatever they hold */

static ngx_int_t
ngx_http_mcp_redis_argv(ngx_http_mcp_redis_call_t *ctx, const char **argv,
    size_t *argvlen)
{
    u_char                     *p;
    size_t                      len;
    ngx_int_t                   rc;
    ngx_str_t                  *values, empty;
    ngx_uint_t                  i, j;
    ngx_http_mcp_bcall_t       *bc;
    ngx_http_mcp_redis_arg_t   *arg;
    ngx_http_mcp_redis_part_t  *part;
    ngx_http_variable_value_t  *vv;

    bc = ctx->bc;
    ngx_str_null(&empty);

    for (i = 0; i < ctx->rd->nargs; i++) {
        arg = &ctx->rd->args[i];
        part = arg->parts;

        if (arg->nparts == 0) {
            argv[i] = "";
            argvlen[i] = 0;
            continue;
        }

        if (arg->nparts == 1 && part[0].index == NGX_HTTP_MCP_REDIS_TEXT) {
            argv[i] = (char *) part[0].text.data;
            argvlen[i] = part[0].text.len;
            continue;
        }

        values = ngx_palloc(bc->pool, arg->nparts * sizeof(ngx_str_t));
        if (values == NULL) {
            return NGX_ERROR;
        }

        len = 0;

        for (j = 0; j < arg->nparts; j++) {

            switch (part[j].index) {

            case NGX_HTTP_MCP_REDIS_TEXT:
                values[j] = part[j].text;
                break;

            case NGX_HTTP_MCP_REDIS_NAME:

                /* absent or null: empty */

                rc = ngx_http_mcp_backend_value(bc, &part[j].text,
                                                &values[j]);
                if (rc == NGX_ERROR) {
                    return NGX_ERROR;
                }

                if (rc == NGX_DECLINED) {
                    values[j] = empty;
                }

                break;

            default:
                vv = ngx_http_get_flushed_variable(bc->request,
                                                   part[j].index);

                if (vv == NULL || vv->not_found) {
                    values[j] = empty;

                } else {
                    values[j].data = vv->data;
                    values[j].len = vv->len;
                }
            }

            len += values[j].len;
        }

        p = ngx_pnalloc(bc->pool, len + 1);
        if (p == NULL) {
            return NGX_ERROR;
        }

        argv[i] = (char *) p;
        argvlen[i] = len;

        for (j = 0; j < arg->nparts; j++) {
            if (values[j].len) {
                p = ngx_cpymem(p, values[j].data, values[j].len);
            }
        }
    }

    return NGX_OK;
}


/* the upstream's answer: the reply, or none and why */

static void
ngx_http_mcp_redis_reply(ngx_http_mcp_redis_cmd_t *cmd, redisReply *reply,
    ngx_str_t *error)
{
    ngx_http_mcp_redis_call_t *ctx = cmd->data;

    ngx_connection_t      *c;
    ngx_http_mcp_bcall_t  *bc;

    if (ctx->finished) {
        return;
    }

    if (reply) {
        ngx_http_mcp_redis_result(ctx, reply);

    } else {
        ngx_http_mcp_redis_no_reply(ctx, error);
    }

    ctx->finished = 1;

    bc = ctx->bc;
    c = bc->request->connection;

    bc->done(bc);

    /* bc and ctx may be gone */

    ngx_http_run_posted_requests(c);
}


static void
ngx_http_mcp_redis_no_reply(ngx_http_mcp_redis_call_t *ctx, ngx_str_t *error)
{
    u_char      buf[NGX_INT_T_LEN];
    ngx_str_t  *name, ms;

    name = ngx_http_mcp_redis_upstream_name(ctx->rd->upstream);

    if (error->len == sizeof("timed out") - 1
        && ngx_strncmp(error->data, "timed out", error->len) == 0)
    {
        ms.data = buf;
        ms.len = ngx_sprintf(buf, "%M", ctx->timeout) - buf;

        ngx_http_mcp_redis_fail(ctx, "Redis upstream \"%V\" did not answer "
                                "within %V ms", name, &ms);

    } else if (error->len == sizeof("connection lost") - 1
               && ngx_strncmp(error->data, "connection lost", error->len)
                  == 0)
    {
        ngx_http_mcp_redis_fail(ctx, "The connection to Redis upstream "
                                "\"%V\" was lost during the call", name,
                                NULL);

    } else {
        ngx_http_mcp_redis_fail(ctx, "Redis upstream \"%V\" is unavailable: "
                                "%V", name, error);
    }
}


void
ngx_http_mcp_redis_fail(ngx_http_mcp_redis_call_t *ctx, const char *fmt,
    ngx_str_t *arg, ngx_str_t *arg2)
{
    u_char                 *p;
    size_t                  len;
    ngx_http_mcp_result_t  *res;

    res = &ctx->bc->result;
    res->kind = NGX_HTTP_MCP_RESULT_ERROR;

    len = ngx_strlen(fmt) + arg->len + (arg2 ? arg2->len : 0);

    p = ngx_pnalloc(ctx->bc->pool, len);
    if (p == NULL) {
        ngx_str_set(&res->reason, "Redis call failed");
        return;
    }

    res->reason.data = p;
    res->reason.len = ngx_snprintf(p, len, fmt, arg, arg2) - p;
}


ngx_int_t
ngx_http_mcp_redis_abort(ngx_http_mcp_bcall_t *bc, ngx_uint_t why)
{
    u_char                      buf[NGX_INT_T_LEN];
    ngx_str_t                   ms;
    ngx_http_mcp_redis_call_t  *ctx;

    ctx = bc->ctx;

    if (ctx->finished) {
        return NGX_OK;
    }

    ngx_http_mcp_redis_cancel(&ctx->cmd);

    if (why == NGX_HTTP_MCP_ABORT_CANCEL) {
        bc->result.kind = NGX_HTTP_MCP_RESULT_ERROR;
        bc->result.cancelled = 1;
        ngx_str_set(&bc->result.reason, "cancelled");

    } else {
        ms.data = buf;
        ms.len = ngx_sprintf(buf, "%M", bc->timeout) - buf;

        ngx_http_mcp_redis_fail(ctx, "Redis upstream \"%V\" did not answer "
                                "within %V ms",
                                ngx_http_mcp_redis_upstream_name(
                                                         ctx->rd->upstream),
                                &ms);
    }

    ctx->finished = 1;
    bc->done(bc);

    return NGX_OK;
}


/* the call's memory goes: nothing may come back to it */

static void
ngx_http_mcp_redis_cleanup(void *data)
{
    ngx_http_mcp_redis_call_t *ctx = data;

    ngx_http_mcp_redis_cancel(&ctx->cmd);

    ctx->finished = 1;
}
