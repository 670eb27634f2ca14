
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "transport/ngx_http_mcp_ask.h"
#include "transport/ngx_http_mcp_call.h"
#include "transport/ngx_http_mcp_sse.h"
#include "protocol/ngx_http_mcp_input.h"
#include "state/ngx_http_mcp_session.h"


/*
 * Calls that wait for the client: the backend of a tools/call in a 2025
 * session answered input_required, its requests went to the client on the
 * call's event stream, and the call waits, in this worker's list, until
 * each is answered.  The client answers in POSTs of their own, to any
 * worker of any replica: that worker posts each response as a letter
 * (NGX_HTTP_MCP_LETTER_ANSWER: the session's digest, the request's id,
 * the response) to every worker, and the one whose call waits for that id
 * in that session takes it.  Once all are in, the backend is called again
 * with them as inputResponses and the requestState of its answer, which
 * never left the call.  A round that is not answered in time
 * (mcp_input_timeout), an error response, a client that goes away or
 * cancels the call ends it; the request's cleanup takes the call out of
 * the list, whatever ends it.
 */


typedef struct {
    ngx_queue_t                 queue;
    ngx_http_request_t         *request;
    ngx_http_mcp_input_round_t  round;
    u_char                      digest[NGX_HTTP_MCP_SESSION_ID_LEN];
    ngx_uint_t                  rounds;
    ngx_uint_t                  waiting;    /* answers not yet in */
    ngx_event_t                 timer;      /* mcp_input_timeout */
    ngx_event_t                 again;      /* a round without requests */
    unsigned                    listed:1;
} ngx_http_mcp_asking_t;


static ngx_http_mcp_asking_t *ngx_http_mcp_ask_create(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx);
static ngx_int_t ngx_http_mcp_ask_send(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx, ngx_http_mcp_asking_t *a);
static void ngx_http_mcp_ask_take(ngx_http_mcp_asking_t *a, ngx_uint_t i,
    ngx_str_t *body);
static void ngx_http_mcp_ask_again(ngx_http_mcp_asking_t *a);
static void ngx_http_mcp_ask_posted(ngx_event_t *ev);
static void ngx_http_mcp_ask_timeout(ngx_event_t *ev);
static void ngx_http_mcp_ask_end(ngx_http_mcp_asking_t *a, ngx_str_t *why);
static void ngx_http_mcp_ask_fail(ngx_http_mcp_bcall_t *bc, ngx_str_t *why);
static void ngx_http_mcp_ask_stop(ngx_http_mcp_asking_t *a);
static void ngx_http_mcp_ask_cleanup(void *data);


/* this worker's calls that wait for answers */
static ngx_queue_t  ngx_http_mcp_asking;


ngx_int_t
ngx_http_mcp_ask(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx)
{
    ngx_int_t                    rc;
    ngx_str_t                    why;
    ngx_http_mcp_bcall_t        *bc;
    ngx_http_mcp_asking_t       *a;
    ngx_http_mcp_input_round_t   round;

    bc = ctx->x.bcall;

    if (bc->session.len == 0) {
        return NGX_DECLINED;
    }

    rc = ngx_http_mcp_input_read(&ctx->x, bc->pool, &round);

    if (rc == NGX_DECLINED) {
        return NGX_DECLINED;
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    a = ctx->flight->ask;

    if (a == NULL) {
        a = ngx_http_mcp_ask_create(r, ctx);
        if (a == NULL) {
            return NGX_ERROR;
        }
    }

    if (++a->rounds > NGX_HTTP_MCP_ASK_ROUNDS) {
        ngx_str_set(&why, "The tool asked the client for input more than "
                          "8 times: the call is ended");
        ngx_http_mcp_ask_fail(bc, &why);
        return NGX_DECLINED;
    }

    if (round.missing.len) {
        ngx_http_mcp_ask_fail(bc, &round.missing);
        return NGX_DECLINED;
    }

    if (!(ctx->accept & NGX_HTTP_MCP_ACCEPT_SSE)) {
        return ngx_http_mcp_fail(r, NGX_HTTP_MCP_NOT_ACCEPTABLE, ctx->id,
                                 NGX_HTTP_MCP_INVALID_REQUEST,
                                 "Not Acceptable: the tool asks the client "
                                 "for input, which travels on an event "
                                 "stream: accept text/event-stream", NULL);
    }

    a->round = round;

    return ngx_http_mcp_ask_send(r, ctx, a);
}


static ngx_http_mcp_asking_t *
ngx_http_mcp_ask_create(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx)
{
    ngx_pool_cleanup_t     *cln;
    ngx_http_mcp_asking_t  *a;

    a = ngx_pcalloc(r->pool, sizeof(ngx_http_mcp_asking_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (a == NULL || cln == NULL) {
        return NULL;
    }

    a->request = r;

    /* letters name the session by its digest */

    ngx_http_mcp_session_digest(&ctx->x.bcall->session, a->digest);

    a->timer.handler = ngx_http_mcp_ask_timeout;
    a->timer.data = a;
    a->timer.log = r->connection->log;

    a->again.handler = ngx_http_mcp_ask_posted;
    a->again.data = a;
    a->again.log = r->connection->log;

    cln->handler = ngx_http_mcp_ask_cleanup;
    cln->data = a;

    ctx->flight->ask = a;

    if (ngx_http_mcp_asking.next == NULL) {
        ngx_queue_init(&ngx_http_mcp_asking);
    }

    return a;
}


/* the round's requests on the call's stream, then the wait */

static ngx_int_t
ngx_http_mcp_ask_send(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx,
    ngx_http_mcp_asking_t *a)
{
    ngx_int_t                 rc;
    ngx_str_t                 message;
    ngx_uint_t                i, n;
    ngx_http_mcp_flight_t    *f;
    ngx_http_mcp_loc_conf_t  *mlcf;

    f = ctx->flight;

    rc = ngx_http_mcp_post_stream(r, ctx);

    if (rc != NGX_OK) {
        return rc;
    }

    n = a->round.requests->nelts;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mcp ask: round %ui of \"%V\", %ui requests",
                   a->rounds, &ctx->x.bcall->entry->name, n);

    for (i = 0; i < n; i++) {
        if (ngx_http_mcp_input_message(&a->round, i, r->pool, &message)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (ngx_http_mcp_post_event(r, ctx, &message, 0) == NGX_ERROR) {
            return NGX_ERROR;
        }
    }

    /* the backend's deadline is over; the client's starts */

    if (f->timer.timer_set) {
        ngx_del_timer(&f->timer);
    }

    /* a client that goes away ends the wait (the request's cleanup) */

    r->read_event_handler = ngx_http_test_reading;

    a->waiting = n;
    ngx_queue_insert_tail(&ngx_http_mcp_asking, &a->queue);
    a->listed = 1;

    if (n == 0) {
        /* only a requestState: the backend is called again at once */
        ngx_post_event(&a->again, &ngx_posted_events);
        return NGX_DONE;
    }

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);
    ngx_add_timer(&a->timer, mlcf->input_timeout);

    return NGX_DONE;
}


void
ngx_http_mcp_ask_post(ngx_str_t *session, ngx_array_t *answers,
    ngx_pool_t *pool, ngx_log_t *log)
{
    u_char                  digest[NGX_HTTP_MCP_SESSION_ID_LEN];
    ngx_uint_t              i;
    ngx_http_mcp_jw_t       jw;
    ngx_http_mcp_json_t   **v, *id;
    ngx_http_mcp_letter_t   letter;

    ngx_http_mcp_session_digest(session, digest);

    v = answers->elts;

    for (i = 0; i < answers->nelts; i++) {

        /* dispatch saw to it: a string id of the form of ours */

        id = ngx_http_mcp_json_member(v[i], "id");

        if (ngx_http_mcp_jw_init(&jw, pool, 256) != NGX_OK) {
            return;
        }

        ngx_memzero(&letter, sizeof(ngx_http_mcp_letter_t));

        ngx_http_mcp_jw_value(&jw, v[i]);

        if (ngx_http_mcp_jw_finish(&jw, &letter.body) != NGX_OK) {
            return;
        }

        letter.kind = NGX_HTTP_MCP_LETTER_ANSWER;
        letter.session.data = digest;
        letter.session.len = NGX_HTTP_MCP_SESSION_ID_LEN;
        letter.id = id->str;

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0,
                       "mcp ask: the answer to \"%V\" goes to the workers",
                       &letter.id);

        if (ngx_http_mcp_mailbox_post(&letter, 1) != NGX_OK) {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "mcp: a client's answer could not be handed on "
                          "to the call that waits for it");
        }
    }
}


void
ngx_http_mcp_ask_letter(ngx_http_mcp_letter_t *letter)
{
    ngx_int_t               i;
    ngx_queue_t            *q;
    ngx_http_mcp_asking_t  *a;

    if (ngx_http_mcp_asking.next == NULL
        || letter->session.len != NGX_HTTP_MCP_SESSION_ID_LEN)
    {
        return;
    }

    for (q = ngx_queue_head(&ngx_http_mcp_asking);
         q != ngx_queue_sentinel(&ngx_http_mcp_asking);
         q = ngx_queue_next(q))
    {
        a = ngx_queue_data(q, ngx_http_mcp_asking_t, queue);

        if (ngx_memcmp(a->digest, letter->session.data,
                       NGX_HTTP_MCP_SESSION_ID_LEN)
            != 0)
        {
            continue;
        }

        i = ngx_http_mcp_input_match(&a->round, &letter->id);

        if (i == NGX_DECLINED) {
            continue;
        }

        ngx_http_mcp_ask_take(a, i, &letter->body);
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "mcp ask: no call of this worker waits for \"%V\", "
                   "the answer is ignored", &letter->id);
}


/* the answer to request i of the round */

static void
ngx_http_mcp_ask_take(ngx_http_mcp_asking_t *a, ngx_uint_t i,
    ngx_str_t *body)
{
    ngx_int_t                    rc;
    ngx_str_t                    err;
    ngx_connection_t            *c;
    ngx_http_request_t          *r;
    ngx_http_mcp_ctx_t          *ctx;
    ngx_http_mcp_loc_conf_t     *mlcf;
    ngx_http_mcp_json_limits_t      limits;
    ngx_http_mcp_input_request_t   *req;

    r = a->request;
    c = r->connection;
    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_module);

    req = (ngx_http_mcp_input_request_t *) a->round.requests->elts + i;

    if (req->answer) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                       "mcp ask: request %ui was answered before, the "
                       "duplicate is ignored", i);
        return;
    }

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    limits.max_depth = mlcf->max_depth;
    limits.max_members = mlcf->max_members;
    limits.max_string = mlcf->max_string;
    limits.max_values = mlcf->max_values;
    limits.in_place = 0;             /* the letter goes when this returns */

    rc = ngx_http_mcp_input_answer(&a->round, i, body, &limits,
                                   ctx->x.bcall->pool, &err);

    if (rc == NGX_ERROR) {
        ngx_http_mcp_ask_stop(a);
        ngx_http_finalize_request(r, NGX_ERROR);
        ngx_http_run_posted_requests(c);
        return;
    }

    if (rc == NGX_DECLINED) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                       "mcp ask: request %ui answered with an error", i);
        ngx_http_mcp_ask_end(a, &err);
        return;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "mcp ask: request %ui answered, %ui to go",
                   i, a->waiting - 1);

    if (--a->waiting == 0) {
        ngx_http_mcp_ask_again(a);
    }
}


/* all answered: the backend again, with inputResponses and requestState */

static void
ngx_http_mcp_ask_again(ngx_http_mcp_asking_t *a)
{
    ngx_connection_t      *c;
    ngx_http_request_t    *r;
    ngx_http_mcp_ctx_t    *ctx;
    ngx_http_mcp_bcall_t  *bc;

    r = a->request;
    c = r->connection;
    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_module);
    bc = ctx->x.bcall;

    ngx_http_mcp_ask_stop(a);

    bc->input_responses = ngx_http_mcp_input_responses(&a->round, bc->pool);
    bc->request_state = a->round.state;

    if (bc->input_responses == NULL) {
        ngx_http_finalize_request(r, NGX_ERROR);
        ngx_http_run_posted_requests(c);
        return;
    }

    r->read_event_handler = ngx_http_block_reading;

    ngx_http_mcp_call_again(r, ctx);

    ngx_http_run_posted_requests(c);
}


static void
ngx_http_mcp_ask_posted(ngx_event_t *ev)
{
    ngx_http_mcp_ask_again(ev->data);
}


static void
ngx_http_mcp_ask_timeout(ngx_event_t *ev)
{
    ngx_http_mcp_asking_t *a = ev->data;

    u_char                   *p;
    ngx_str_t                 why;
    ngx_http_mcp_ctx_t       *ctx;
    ngx_http_mcp_loc_conf_t  *mlcf;

    ctx = ngx_http_get_module_ctx(a->request, ngx_http_mcp_module);
    mlcf = ngx_http_get_module_loc_conf(a->request, ngx_http_mcp_module);

    ngx_log_error(NGX_LOG_INFO, a->request->connection->log, 0,
                  "mcp: the client did not answer the requests of the call "
                  "of \"%V\" in time", &ctx->x.bcall->entry->name);

    p = ngx_pnalloc(a->request->pool, 128);
    if (p == NULL) {
        ngx_str_set(&why, "The client did not answer in time");

    } else {
        why.data = p;
        why.len = ngx_sprintf(p, "The client did not answer the tool's "
                              "requests within %M ms (mcp_input_timeout)",
                              mlcf->input_timeout)
                  - p;
    }

    ctx->flight->timed_out = 1;

    ngx_http_mcp_ask_end(a, &why);
}


ngx_int_t
ngx_http_mcp_ask_cancel(void *ask)
{
    ngx_http_mcp_asking_t *a = ask;

    ngx_connection_t      *c;
    ngx_http_mcp_ctx_t    *ctx;
    ngx_http_mcp_bcall_t  *bc;

    if (a == NULL || !a->listed) {
        return NGX_DECLINED;
    }

    c = a->request->connection;
    ctx = ngx_http_get_module_ctx(a->request, ngx_http_mcp_module);
    bc = ctx->x.bcall;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "mcp ask: the call is cancelled while it waits");

    ngx_http_mcp_ask_stop(a);

    ngx_memzero(&bc->result, sizeof(ngx_http_mcp_result_t));
    bc->result.cancelled = 1;

    bc->done(bc);

    ngx_http_run_posted_requests(c);

    return NGX_OK;
}


/* the call ends with a tool error that says why */

static void
ngx_http_mcp_ask_end(ngx_http_mcp_asking_t *a, ngx_str_t *why)
{
    ngx_connection_t      *c;
    ngx_http_mcp_ctx_t    *ctx;
    ngx_http_mcp_bcall_t  *bc;

    c = a->request->connection;
    ctx = ngx_http_get_module_ctx(a->request, ngx_http_mcp_module);
    bc = ctx->x.bcall;

    ngx_http_mcp_ask_stop(a);
    ngx_http_mcp_ask_fail(bc, why);

    a->request->read_event_handler = ngx_http_block_reading;

    bc->done(bc);

    ngx_http_run_posted_requests(c);
}


static void
ngx_http_mcp_ask_fail(ngx_http_mcp_bcall_t *bc, ngx_str_t *why)
{
    ngx_memzero(&bc->result, sizeof(ngx_http_mcp_result_t));

    bc->result.kind = NGX_HTTP_MCP_RESULT_ERROR;
    bc->result.reason = *why;
}


/* out of the list: nothing of the wait is left */

static void
ngx_http_mcp_ask_stop(ngx_http_mcp_asking_t *a)
{
    if (a->listed) {
        ngx_queue_remove(&a->queue);
        a->listed = 0;
    }

    if (a->timer.timer_set) {
        ngx_del_timer(&a->timer);
    }

    if (a->again.posted) {
        ngx_delete_posted_event(&a->again);
    }
}


static void
ngx_http_mcp_ask_cleanup(void *data)
{
    ngx_http_mcp_ask_stop(data);
}
