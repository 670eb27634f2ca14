
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_CALL_H_INCLUDED_
#define _NGX_HTTP_MCP_CALL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "transport/ngx_http_mcp_http.h"
#include "backend/ngx_http_mcp_backend.h"
#include "state/ngx_http_mcp_mailbox.h"


/*
 * A method answered by a backend, while it runs: the call, its deadline,
 * and its place in the worker's list of calls that a
 * notifications/cancelled of their session can stop.
 */

struct ngx_http_mcp_flight_s {
    ngx_queue_t                 queue;
    ngx_http_request_t         *request;
    ngx_http_mcp_bcall_t       *bc;
    ngx_str_t                   id;         /* the request id, as JSON */
    ngx_event_t                 timer;      /* the deadline, or a retry */
    ngx_str_t                   session;    /* 2025 sessions only */
    ngx_uint_t                  abort;      /* an abort to retry */
    void                       *ask;        /* its questions to the client
                                               (ngx_http_mcp_ask.c) */
    ngx_event_t                 own;        /* the module's own answer
                                               (confirm), as a backend's */
    unsigned                    listed:1;
    unsigned                    warned:1;
    unsigned                    timed_out:1;
};


/*
 * Starts the backend call that dispatch left pending (ctx->x.bcall);
 * NGX_DONE: the answer follows when it is done.
 */
ngx_int_t ngx_http_mcp_call_start(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx);

/*
 * The backend again, for the same call, after the client answered what it
 * asked (bc->input_responses, bc->request_state); the call goes on as
 * after ngx_http_mcp_call_start()
 */
void ngx_http_mcp_call_again(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx);

/*
 * notifications/cancelled: stops the call of that session with that
 * request id, in this worker or, through the mailbox, in another one.
 */
void ngx_http_mcp_call_cancel(ngx_str_t *session, ngx_http_mcp_json_t *id,
    ngx_pool_t *pool);

/*
 * the same for this worker's calls only: the session by its digest
 * (ngx_http_mcp_session_digest()), the request id as JSON text
 */
void ngx_http_mcp_call_cancel_local(ngx_http_mcp_letter_t *letter);


#endif /* _NGX_HTTP_MCP_CALL_H_INCLUDED_ */
