
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/sha.h>

#include "ngx_http_mcp_module.h"
#include "backend/ngx_http_mcp_backend.h"


/*
 * `confirm MESSAGE;` in a tool block: the module itself asks the user
 * before the tool's backend runs, in the way of any backend that answers
 * input_required.  The first call answers an input request of its own (an
 * elicitation with MESSAGE, {name} replaced by that argument) and a state
 * "confirm:" and the SHA-256 of the call's arguments; the client's user
 * accepts, and the call comes again with inputResponses and that state:
 * on the 2025 wire from the module itself (transport asks and calls
 * again, the state never leaves the server), on the 2026 wire from the
 * client, its requestState sealed by the module and opened before the
 * backend sees it (protocol/).  Only an accept of a state made for these
 * very arguments runs the backend, which sees a plain call; a decline or
 * a cancel is a tool error.
 */


#define NGX_HTTP_MCP_CONFIRM_KEY    "confirm"
#define NGX_HTTP_MCP_CONFIRM_STATE  "confirm:"
#define NGX_HTTP_MCP_CONFIRM_VALUE  1024      /* bytes of one argument */


static ngx_int_t ngx_http_mcp_confirm_state(ngx_http_mcp_bcall_t *bc,
    ngx_str_t *state);
static ngx_int_t ngx_http_mcp_confirm_ask(ngx_http_mcp_bcall_t *bc,
    ngx_str_t *state);
static void ngx_http_mcp_confirm_message(ngx_http_mcp_bcall_t *bc,
    ngx_http_mcp_jw_t *jw);


ngx_int_t
ngx_http_mcp_confirm(ngx_http_mcp_bcall_t *bc)
{
    ngx_str_t             state;
    ngx_http_mcp_json_t  *answer, *action;

    if (bc->entry->confirm.len == 0) {
        return NGX_DECLINED;
    }

    if (ngx_http_mcp_confirm_state(bc, &state) != NGX_OK) {
        return NGX_ERROR;
    }

    answer = bc->input_responses
             ? ngx_http_mcp_json_member(bc->input_responses,
                                        NGX_HTTP_MCP_CONFIRM_KEY)
             : NULL;

    /* no answer to our question for these arguments: it is asked */

    if (answer == NULL
        || bc->request_state == NULL
        || bc->request_state->type != NGX_HTTP_MCP_JSON_STRING
        || bc->request_state->str.len != state.len
        || ngx_memcmp(bc->request_state->str.data, state.data, state.len)
           != 0)
    {
        return ngx_http_mcp_confirm_ask(bc, &state);
    }

    action = ngx_http_mcp_json_member(answer, "action");

    if (action && action->type == NGX_HTTP_MCP_JSON_STRING
        && action->str.len == sizeof("accept") - 1
        && ngx_strncmp(action->str.data, "accept", action->str.len) == 0)
    {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, bc->log, 0,
                       "mcp confirm: \"%V\" accepted", &bc->entry->name);

        /* the backend sees a plain call: the question was the module's */

        bc->input_responses = NULL;
        bc->request_state = NULL;

        return NGX_DECLINED;
    }

    ngx_memzero(&bc->result, sizeof(ngx_http_mcp_result_t));
    bc->result.kind = NGX_HTTP_MCP_RESULT_ERROR;
    ngx_str_set(&bc->result.reason,
                "The user did not confirm the call: it was not run");

    return NGX_OK;
}


/* "confirm:" and the SHA-256 of the arguments as the call has them */

static ngx_int_t
ngx_http_mcp_confirm_state(ngx_http_mcp_bcall_t *bc, ngx_str_t *state)
{
    u_char             *p, md[SHA256_DIGEST_LENGTH];
    ngx_str_t           args;
    ngx_http_mcp_jw_t   jw;

    ngx_str_set(&args, "{}");

    if (bc->arguments) {
        if (ngx_http_mcp_jw_init(&jw, bc->pool, 256) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_http_mcp_jw_value(&jw, bc->arguments);

        if (ngx_http_mcp_jw_finish(&jw, &args) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    SHA256(args.data, args.len, md);

    p = ngx_pnalloc(bc->pool, sizeof(NGX_HTTP_MCP_CONFIRM_STATE) - 1
                              + 2 * SHA256_DIGEST_LENGTH);
    if (p == NULL) {
        return NGX_ERROR;
    }

    state->data = p;
    p = ngx_cpymem(p, NGX_HTTP_MCP_CONFIRM_STATE,
                   sizeof(NGX_HTTP_MCP_CONFIRM_STATE) - 1);
    p = ngx_hex_dump(p, md, SHA256_DIGEST_LENGTH);
    state->len = p - state->data;

    return NGX_OK;
}


/* the question, as an input_required answer of a backend */

static ngx_int_t
ngx_http_mcp_confirm_ask(ngx_http_mcp_bcall_t *bc, ngx_str_t *state)
{
    ngx_str_t           text, err;
    ngx_http_mcp_jw_t   jw;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, bc->log, 0,
                   "mcp confirm: \"%V\" asks", &bc->entry->name);

    if (ngx_http_mcp_jw_init(&jw, bc->pool, 512) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_mcp_jw_literal(&jw, "{\"resultType\":\"input_required\","
                                 "\"inputRequests\":{\""
                                 NGX_HTTP_MCP_CONFIRM_KEY "\":"
                                 "{\"method\":\"elicitation/create\","
                                 "\"params\":{\"message\":\"");
    ngx_http_mcp_confirm_message(bc, &jw);
    ngx_http_mcp_jw_literal(&jw, "\",\"requestedSchema\":{\"type\":"
                                 "\"object\",\"properties\":{}}}}},"
                                 "\"requestState\":");
    ngx_http_mcp_jw_str(&jw, state);
    ngx_http_mcp_jw_literal(&jw, "}");

    if (ngx_http_mcp_jw_finish(&jw, &text) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_memzero(&bc->result, sizeof(ngx_http_mcp_result_t));

    if (ngx_http_mcp_json_parse(bc->pool, text.data, text.len, NULL,
                                &bc->result.json, &err)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    bc->result.kind = NGX_HTTP_MCP_RESULT_JSON;
    bc->result.data = text;
    ngx_str_set(&bc->result.type, "application/json");

    return NGX_OK;
}


/* MESSAGE with each {name} replaced by that argument, escaped */

static void
ngx_http_mcp_confirm_message(ngx_http_mcp_bcall_t *bc, ngx_http_mcp_jw_t *jw)
{
    u_char               *p, *last, *open, *close;
    ngx_str_t             value, text;
    ngx_http_mcp_jw_t     vw;
    ngx_http_mcp_json_t  *arg;

    p = bc->entry->confirm.data;
    last = p + bc->entry->confirm.len;

    while (p < last) {
        open = ngx_strlchr(p, last, '{');
        close = open ? ngx_strlchr(open, last, '}') : NULL;

        if (close == NULL) {
            ngx_http_mcp_jw_escaped(jw, p, last - p);
            return;
        }

        ngx_http_mcp_jw_escaped(jw, p, open - p);

        arg = bc->arguments
              ? ngx_http_mcp_json_get(bc->arguments, open + 1,
                                      close - open - 1)
              : NULL;

        if (arg == NULL) {
            ngx_http_mcp_jw_escaped(jw, open, close + 1 - open);
            p = close + 1;
            continue;
        }

        if (arg->type == NGX_HTTP_MCP_JSON_STRING) {
            value = arg->str;

        } else {
            /* a number, a boolean, an object: as JSON */

            ngx_str_null(&value);

            if (ngx_http_mcp_jw_init(&vw, bc->pool, 64) == NGX_OK) {
                ngx_http_mcp_jw_value(&vw, arg);

                if (ngx_http_mcp_jw_finish(&vw, &text) == NGX_OK) {
                    value = text;
                }
            }
        }

        ngx_http_mcp_jw_escaped(jw, value.data,
                                ngx_min(value.len,
                                        NGX_HTTP_MCP_CONFIRM_VALUE));
        p = close + 1;
    }
}
