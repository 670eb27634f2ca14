
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_INPUT_H_INCLUDED_
#define _NGX_HTTP_MCP_INPUT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "json/ngx_http_mcp_json.h"
#include "protocol/ngx_http_mcp_dispatch.h"


/*
 * Server-to-client requests on the 2025 wire: a backend's input_required
 * answer to a tools/call of a session becomes real JSON-RPC requests
 * (elicitation/create, sampling/createMessage, roots/list) that transport
 * sends on the call's event stream; the client's responses become the
 * inputResponses of the backend's next call, as a 2026 retry brings them.
 *
 * The ids of one round are "s2c-" 32 random hex digits "-" and the index
 * of the request in the round: unguessable, short, free of what a backend
 * chose as keys, and new each round, so that an answer to an earlier
 * round matches nothing.
 */

#define NGX_HTTP_MCP_INPUT_PREFIX_LEN  (sizeof("s2c-") - 1 + 32 + 1)


typedef struct {
    ngx_str_t                   key;        /* the backend's */
    ngx_str_t                   method;
    ngx_http_mcp_json_t        *params;     /* or NULL */
    ngx_http_mcp_json_t        *answer;     /* the client's result, once in */
} ngx_http_mcp_input_request_t;


typedef struct {
    ngx_array_t                *requests;   /* ngx_http_mcp_input_request_t */
    ngx_http_mcp_json_t        *state;      /* requestState, or NULL */
    ngx_str_t                   missing;    /* what the client lacks, said
                                               for people; empty: none */
    u_char                      prefix[NGX_HTTP_MCP_INPUT_PREFIX_LEN];
} ngx_http_mcp_input_round_t;


/*
 * The pending call's answer (x->bcall->result) in a 2025 session: NGX_OK,
 * a well-formed input_required result of a tool, its requests in *round
 * (from pool, new random ids), or round->missing when the client declared
 * no capability for one of them; NGX_DECLINED: not such an answer;
 * NGX_ERROR.
 */
ngx_int_t ngx_http_mcp_input_read(ngx_http_mcp_exchange_t *x, ngx_pool_t *pool,
    ngx_http_mcp_input_round_t *round);

/* request i of the round as a JSON-RPC request, from pool */
ngx_int_t ngx_http_mcp_input_message(ngx_http_mcp_input_round_t *round,
    ngx_uint_t i, ngx_pool_t *pool, ngx_str_t *out);

/* whether an id has the form of the ids above */
ngx_uint_t ngx_http_mcp_input_id_valid(ngx_str_t *id);

/* the index of the round's request of that id, or NGX_DECLINED */
ngx_int_t ngx_http_mcp_input_match(ngx_http_mcp_input_round_t *round,
    ngx_str_t *id);

/*
 * The client's response (a JSON-RPC response, as text) to request i:
 * NGX_OK, its result is kept (->answer, in pool); NGX_DECLINED, an error
 * response or no result object, said in *err (from pool); NGX_ERROR.
 */
ngx_int_t ngx_http_mcp_input_answer(ngx_http_mcp_input_round_t *round,
    ngx_uint_t i, ngx_str_t *text, ngx_http_mcp_json_limits_t *limits,
    ngx_pool_t *pool, ngx_str_t *err);

/* {"KEY":<result>,...} of an answered round, or NULL (no memory) */
ngx_http_mcp_json_t *ngx_http_mcp_input_responses(
    ngx_http_mcp_input_round_t *round, ngx_pool_t *pool);


#endif /* _NGX_HTTP_MCP_INPUT_H_INCLUDED_ */
