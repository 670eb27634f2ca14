
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_mcp_module.h"
#include "protocol/ngx_http_mcp_methods.h"
#include "protocol/ngx_http_mcp_results.h"
#include "protocol/ngx_http_mcp_state.h"


/*
 * Multi round-trip requests (2026-07-28) of tools/call, prompts/get and
 * resources/read.  A backend's input_required answer reaches the client
 * with only the input requests this request's client capabilities allow
 * and with its requestState sealed (ngx_http_mcp_state.c); the retry's
 * requestState is opened before the backend runs, so that the backend
 * gets its own string back, or the client an error.
 */


typedef struct {
    ngx_str_t                   method;
    ngx_str_t                   capability;
} ngx_http_mcp_mrtr_need_t;


static void ngx_http_mcp_mrtr_bind(ngx_http_mcp_exchange_t *x,
    ngx_http_mcp_bcall_t *bc, ngx_http_mcp_state_bind_t *bind);
static ngx_int_t ngx_http_mcp_mrtr_filter(ngx_http_mcp_call_t *c,
    ngx_http_mcp_json_t *requests);
static ngx_int_t ngx_http_mcp_mrtr_missing(ngx_http_mcp_call_t *c,
    ngx_uint_t missing);


/* what each input request needs of the client */

static ngx_http_mcp_mrtr_need_t  ngx_http_mcp_mrtr_needs[] = {
    { ngx_string("elicitation/create"), ngx_string("elicitation") },
    { ngx_string("sampling/createMessage"), ngx_string("sampling") },
    { ngx_string("roots/list"), ngx_string("roots") }
};

#define NGX_HTTP_MCP_MRTR_NEEDS                                               \
    (sizeof(ngx_http_mcp_mrtr_needs) / sizeof(ngx_http_mcp_mrtr_need_t))


ngx_int_t
ngx_http_mcp_mrtr_retry(ngx_http_mcp_call_t *c, ngx_http_mcp_bcall_t *bc)
{
    ngx_int_t                   rc;
    ngx_str_t                   state;
    ngx_http_mcp_json_t        *responses, *sealed, *m;
    ngx_http_mcp_state_bind_t   bind;

    responses = ngx_http_mcp_param(c, "inputResponses",
                                   NGX_HTTP_MCP_JSON_OBJECT, 0);
    sealed = ngx_http_mcp_param(c, "requestState", NGX_HTTP_MCP_JSON_STRING,
                                0);
    if (c->code) {
        return NGX_DECLINED;
    }

    /* each answer is an ElicitResult, a CreateMessageResult, ... */

    for (m = responses ? responses->first : NULL; m; m = m->next) {
        if (m->type != NGX_HTTP_MCP_JSON_OBJECT) {
            return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_INVALID_PARAMS,
                                           "inputResponses[\"%V\"] is not "
                                           "an object", &m->key);
        }
    }

    bc->input_responses = responses;

    if (sealed == NULL) {
        return NGX_AGAIN;
    }

    ngx_http_mcp_mrtr_bind(c->x, bc, &bind);

    rc = ngx_http_mcp_state_open(c->x->conf->state_keys, &bind, &sealed->str,
                                 c->x->pool, &state);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_INFO, c->x->log, 0,
                      "mcp: the requestState of a %V for \"%V\" is invalid, "
                      "expired or not this caller's", &bind.method,
                      &bind.name);

        return ngx_http_mcp_call_error(c, NGX_HTTP_MCP_INVALID_PARAMS,
                                       "Invalid requestState");
    }

    m = ngx_pcalloc(c->x->pool, sizeof(ngx_http_mcp_json_t));
    if (m == NULL) {
        return NGX_ERROR;
    }

    m->type = NGX_HTTP_MCP_JSON_STRING;
    m->str = state;

    bc->request_state = m;

    return NGX_AGAIN;
}


ngx_int_t
ngx_http_mcp_mrtr_result(ngx_http_mcp_call_t *c, ngx_http_mcp_bcall_t *bc,
    ngx_http_mcp_json_t **meta)
{
    char                       *what;
    ngx_int_t                   rc;
    ngx_str_t                   err, sealed;
    ngx_http_mcp_json_t        *v, *requests, *state;
    ngx_http_mcp_exchange_t    *x;
    ngx_http_mcp_state_bind_t   bind;

    x = c->x;

    what = (bc->entry->kind == NGX_HTTP_MCP_ITEM_TOOL) ? "tool"
           : (bc->entry->kind == NGX_HTTP_MCP_ITEM_PROMPT) ? "prompt"
           : "resource";

    rc = ngx_http_mcp_results_input(&bc->result, what, x->pool, &v, &err);

    if (rc == NGX_ABORT) {
        goto malformed;
    }

    if (rc != NGX_OK) {
        return rc;
    }

    requests = ngx_http_mcp_json_member(v, "inputRequests");

    if (requests && requests->nelts) {
        rc = ngx_http_mcp_mrtr_filter(c, requests);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    state = ngx_http_mcp_json_member(v, "requestState");

    if (state) {
        if (state->str.len > NGX_HTTP_MCP_STATE_MAX) {
            err.data = ngx_pnalloc(x->pool, 128);
            if (err.data == NULL) {
                return NGX_ERROR;
            }

            err.len = ngx_sprintf(err.data, "The %s's backend answered a "
                                  "malformed result: \"requestState\" is "
                                  "longer than %d bytes", what,
                                  NGX_HTTP_MCP_STATE_MAX)
                      - err.data;
            goto malformed;
        }

        ngx_http_mcp_mrtr_bind(x, bc, &bind);

        if (ngx_http_mcp_state_seal(x->conf->state_keys, &bind, &state->str,
                                    x->pool, &sealed)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ALERT, x->log, 0,
                          "mcp: sealing a requestState failed");
            return NGX_ERROR;
        }

        state->str = sealed;
    }

    ngx_http_mcp_results_members(v, c->jw, meta);

    return NGX_OK;

malformed:

    /* the failure the item's kind answers with (BACKENDS.md) */

    bc->result.kind = NGX_HTTP_MCP_RESULT_ERROR;
    bc->result.reason = err;
    bc->result.status = 0;

    return NGX_DECLINED;
}


/* a state belongs to a caller, a method and an item */

static void
ngx_http_mcp_mrtr_bind(ngx_http_mcp_exchange_t *x, ngx_http_mcp_bcall_t *bc,
    ngx_http_mcp_state_bind_t *bind)
{
    bind->identity = bc->identity ? bc->identity : x->identity;

    switch (bc->entry->kind) {

    case NGX_HTTP_MCP_ITEM_TOOL:
        ngx_str_set(&bind->method, "tools/call");
        bind->name = bc->entry->name;
        break;

    case NGX_HTTP_MCP_ITEM_PROMPT:
        ngx_str_set(&bind->method, "prompts/get");
        bind->name = bc->entry->name;
        break;

    default: /* NGX_HTTP_MCP_ITEM_RESOURCE */
        ngx_str_set(&bind->method, "resources/read");
        bind->name = bc->uri;
        break;
    }
}


/*
 * The input requests the client can answer: those whose capability it
 * declared in this request's _meta.  None left: -32021 (NGX_ABORT).
 */

static ngx_int_t
ngx_http_mcp_mrtr_filter(ngx_http_mcp_call_t *c, ngx_http_mcp_json_t *requests)
{
    ngx_str_t                  *cap;
    ngx_uint_t                  i, missing;
    ngx_http_mcp_json_t        *r, **link, *method;
    ngx_http_mcp_mrtr_need_t   *need;

    missing = 0;
    link = &requests->first;

    for ( ;; ) {
        r = *link;

        if (r == NULL) {
            break;
        }

        /* the shape is checked: one of the three methods */

        method = ngx_http_mcp_json_member(r, "method");
        need = ngx_http_mcp_mrtr_needs;

        for (i = 0; i < NGX_HTTP_MCP_MRTR_NEEDS - 1; i++) {
            if (method->str.len == need[i].method.len
                && ngx_strncmp(method->str.data, need[i].method.data,
                               method->str.len)
                   == 0)
            {
                break;
            }
        }

        cap = &need[i].capability;

        if (ngx_http_mcp_json_get(c->client_caps, cap->data, cap->len)
            == NULL)
        {
            missing |= 1 << i;
            *link = r->next;
            requests->nelts--;
            continue;
        }

        link = &r->next;
    }

    if (requests->nelts) {
        return NGX_OK;
    }

    return ngx_http_mcp_mrtr_missing(c, missing);
}


/* -32021 with data {"requiredCapabilities":{"sampling":{},..}}, HTTP 400 */

static ngx_int_t
ngx_http_mcp_mrtr_missing(ngx_http_mcp_call_t *c, ngx_uint_t missing)
{
    ngx_uint_t          i, n;
    ngx_http_mcp_jw_t   jw;

    if (ngx_http_mcp_jw_init(&jw, c->x->pool, 96) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_mcp_jw_literal(&jw, "{\"requiredCapabilities\":{");

    for (i = 0, n = 0; i < NGX_HTTP_MCP_MRTR_NEEDS; i++) {
        if (!(missing & (1 << i))) {
            continue;
        }

        if (n++) {
            ngx_http_mcp_jw_literal(&jw, ",");
        }

        ngx_http_mcp_jw_str(&jw, &ngx_http_mcp_mrtr_needs[i].capability);
        ngx_http_mcp_jw_literal(&jw, ":{}");
    }

    ngx_http_mcp_jw_literal(&jw, "}}");

    if (ngx_http_mcp_jw_finish(&jw, &c->data) != NGX_OK) {
        return NGX_ERROR;
    }

    c->http_status = NGX_HTTP_BAD_REQUEST;

    ngx_http_mcp_call_error(c, NGX_HTTP_MCP_MISSING_CAPABILITY,
                            "The backend needs input that this request's "
                            "client capabilities do not allow");

    return NGX_ABORT;
}
