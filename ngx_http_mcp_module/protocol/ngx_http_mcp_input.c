
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <openssl/rand.h>

#include "ngx_http_mcp_module.h"
#include "protocol/ngx_http_mcp_input.h"
#include "protocol/ngx_http_mcp_results.h"


/*
 * The messages of server-to-client requests on the 2025 wire (spec digest
 * section 20): what a backend's input_required answer asks, as JSON-RPC
 * requests with ids of this module's own, only those the client declared
 * a capability for; the client's responses, as inputResponses.
 */


static ngx_int_t ngx_http_mcp_input_capable(ngx_http_mcp_exchange_t *x,
    ngx_http_mcp_json_t *caps, ngx_http_mcp_input_request_t *req,
    ngx_pool_t *pool, ngx_str_t *missing);


ngx_int_t
ngx_http_mcp_input_read(ngx_http_mcp_exchange_t *x, ngx_pool_t *pool,
    ngx_http_mcp_input_round_t *round)
{
    u_char                      *p, rnd[16];
    ngx_int_t                    rc;
    ngx_str_t                    err, *text;
    ngx_http_mcp_json_t         *v, *m, *r, *method, *caps;
    ngx_http_mcp_bcall_t        *bc;
    ngx_http_mcp_input_request_t  *req;
    ngx_http_mcp_json_limits_t   limits;

    bc = x->bcall;

    if (x->era != NGX_HTTP_MCP_ERA_SESSION || x->session == NULL
        || bc == NULL || bc->entry->kind != NGX_HTTP_MCP_ITEM_TOOL)
    {
        return NGX_DECLINED;
    }

    rc = ngx_http_mcp_results_input(&bc->result, "tool", pool, &v, &err);

    if (rc == NGX_ABORT) {
        return NGX_DECLINED;        /* malformed: the usual path refuses */
    }

    if (rc != NGX_OK) {
        return rc;
    }

    ngx_memzero(round, sizeof(ngx_http_mcp_input_round_t));

    round->requests = ngx_array_create(pool, 2,
                                       sizeof(ngx_http_mcp_input_request_t));
    if (round->requests == NULL) {
        return NGX_ERROR;
    }

    round->state = ngx_http_mcp_json_member(v, "requestState");

    /* the capabilities the client declared at initialize */

    text = &x->session->client_capabilities;
    limits = (ngx_http_mcp_json_limits_t) { 32, 1024, 65536, 0, 0 };

    if (text->len == 0
        || ngx_http_mcp_json_parse(pool, text->data, text->len, &limits,
                                   &caps, &err)
           != NGX_OK)
    {
        caps = NULL;
    }

    m = ngx_http_mcp_json_member(v, "inputRequests");

    for (r = m ? m->first : NULL; r; r = r->next) {
        method = ngx_http_mcp_json_member(r, "method");

        req = ngx_array_push(round->requests);
        if (req == NULL) {
            return NGX_ERROR;
        }

        req->key = r->key;
        req->method = method->str;
        req->params = ngx_http_mcp_json_member(r, "params");
        req->answer = NULL;

        if (round->missing.len == 0
            && ngx_http_mcp_input_capable(x, caps, req, pool, &round->missing)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    /* ids: "s2c-", 32 random hex digits, "-", the request's index */

    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        ngx_log_error(NGX_LOG_ALERT, x->log, 0,
                      "mcp: RAND_bytes() failed, no request id");
        return NGX_ERROR;
    }

    p = ngx_cpymem(round->prefix, "s2c-", sizeof("s2c-") - 1);
    p = ngx_hex_dump(p, rnd, sizeof(rnd));
    *p = '-';

    return NGX_OK;
}


/*
 * NGX_OK; *missing says, for the client's and the model's eyes, what the
 * client would need to take the request, if it lacks it
 */

static ngx_int_t
ngx_http_mcp_input_capable(ngx_http_mcp_exchange_t *x,
    ngx_http_mcp_json_t *caps, ngx_http_mcp_input_request_t *req,
    ngx_pool_t *pool, ngx_str_t *missing)
{
    char                 *cap, *sub;
    u_char               *p;
    size_t                len;
    ngx_http_mcp_json_t  *c, *mode;

    sub = NULL;

    if (req->method.len == sizeof("elicitation/create") - 1
        && ngx_strncmp(req->method.data, "elicitation/create",
                       req->method.len) == 0)
    {
        cap = "elicitation";

        mode = ngx_http_mcp_json_member(req->params, "mode");

        if (mode && mode->type == NGX_HTTP_MCP_JSON_STRING
            && mode->str.len == 3 && ngx_strncmp(mode->str.data, "url", 3) == 0)
        {
            sub = "url";
        }

        if (x->session->version < NGX_HTTP_MCP_V_2025_06_18) {
            caps = NULL;          /* no elicitation before 2025-06-18 */
        }

    } else if (req->method.len == sizeof("roots/list") - 1
               && ngx_strncmp(req->method.data, "roots/list",
                              req->method.len) == 0)
    {
        cap = "roots";

    } else {
        cap = "sampling";

        if (ngx_http_mcp_json_member(req->params, "tools")) {
            sub = "tools";
        }
    }

    c = ngx_http_mcp_json_get(caps, (u_char *) cap, ngx_strlen(cap));

    if (c && c->type == NGX_HTTP_MCP_JSON_OBJECT
        && (sub == NULL
            || ngx_http_mcp_json_get(c, (u_char *) sub, ngx_strlen(sub))))
    {
        return NGX_OK;
    }

    len = sizeof("The tool needs to send  to the client, which did not "
                 "declare the capability \".\" at initialize") - 1
          + req->method.len + ngx_strlen(cap) + (sub ? ngx_strlen(sub) : 0);

    p = ngx_pnalloc(pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    missing->data = p;
    missing->len = ngx_sprintf(p, "The tool needs to send %V to the client, "
                               "which did not declare the capability "
                               "\"%s%s%s\" at initialize",
                               &req->method, cap, sub ? "." : "",
                               sub ? sub : "")
                   - p;

    return NGX_OK;
}


ngx_int_t
ngx_http_mcp_input_message(ngx_http_mcp_input_round_t *round, ngx_uint_t i,
    ngx_pool_t *pool, ngx_str_t *out)
{
    u_char                      *p, id[NGX_HTTP_MCP_INPUT_PREFIX_LEN
                                       + NGX_INT_T_LEN];
    ngx_http_mcp_jw_t            jw;
    ngx_http_mcp_input_request_t  *req;

    req = (ngx_http_mcp_input_request_t *) round->requests->elts + i;

    if (ngx_http_mcp_jw_init(&jw, pool, 256) != NGX_OK) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(id, round->prefix, NGX_HTTP_MCP_INPUT_PREFIX_LEN);
    p = ngx_sprintf(p, "%ui", i);

    ngx_http_mcp_jw_literal(&jw, "{\"jsonrpc\":\"2.0\",\"id\":");
    ngx_http_mcp_jw_string(&jw, id, p - id);
    ngx_http_mcp_jw_literal(&jw, ",\"method\":");
    ngx_http_mcp_jw_str(&jw, &req->method);

    if (req->params) {
        ngx_http_mcp_jw_literal(&jw, ",\"params\":");
        ngx_http_mcp_jw_value(&jw, req->params);
    }

    ngx_http_mcp_jw_literal(&jw, "}");

    return ngx_http_mcp_jw_finish(&jw, out);
}


ngx_uint_t
ngx_http_mcp_input_id_valid(ngx_str_t *id)
{
    size_t   i;
    u_char  *p;

    if (id->len <= NGX_HTTP_MCP_INPUT_PREFIX_LEN
        || id->len > NGX_HTTP_MCP_INPUT_PREFIX_LEN + 4
        || ngx_strncmp(id->data, "s2c-", sizeof("s2c-") - 1) != 0
        || id->data[NGX_HTTP_MCP_INPUT_PREFIX_LEN - 1] != '-')
    {
        return 0;
    }

    p = id->data;

    for (i = sizeof("s2c-") - 1; i < NGX_HTTP_MCP_INPUT_PREFIX_LEN - 1; i++) {
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) {
            return 0;
        }
    }

    for (i = NGX_HTTP_MCP_INPUT_PREFIX_LEN; i < id->len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return 0;
        }
    }

    return 1;
}


ngx_int_t
ngx_http_mcp_input_match(ngx_http_mcp_input_round_t *round, ngx_str_t *id)
{
    ngx_int_t  n;

    if (!ngx_http_mcp_input_id_valid(id)
        || ngx_memcmp(id->data, round->prefix, NGX_HTTP_MCP_INPUT_PREFIX_LEN)
           != 0)
    {
        return NGX_DECLINED;
    }

    n = ngx_atoi(id->data + NGX_HTTP_MCP_INPUT_PREFIX_LEN,
                 id->len - NGX_HTTP_MCP_INPUT_PREFIX_LEN);

    if (n == NGX_ERROR || (ngx_uint_t) n >= round->requests->nelts) {
        return NGX_DECLINED;
    }

    return n;
}


ngx_int_t
ngx_http_mcp_input_answer(ngx_http_mcp_input_round_t *round, ngx_uint_t i,
    ngx_str_t *text, ngx_http_mcp_json_limits_t *limits, ngx_pool_t *pool,
    ngx_str_t *err)
{
    u_char                      *p;
    ngx_int_t                    rc;
    ngx_str_t                    why, none;
    ngx_http_mcp_json_t         *v, *res, *e, *msg;
    ngx_http_mcp_input_request_t  *req;

    req = (ngx_http_mcp_input_request_t *) round->requests->elts + i;

    rc = ngx_http_mcp_json_parse(pool, text->data, text->len, limits, &v,
                                 &why);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    res = (rc == NGX_OK) ? ngx_http_mcp_json_member(v, "result") : NULL;

    if (res && res->type == NGX_HTTP_MCP_JSON_OBJECT) {
        req->answer = res;
        return NGX_OK;
    }

    /* an error response: its message, for the model */

    e = (rc == NGX_OK) ? ngx_http_mcp_json_member(v, "error") : NULL;
    msg = ngx_http_mcp_json_member(e, "message");

    ngx_str_set(&none, "no result object");

    if (msg && msg->type == NGX_HTTP_MCP_JSON_STRING) {
        why = msg->str;

    } else if (rc == NGX_OK) {
        why = none;
    }

    why.len = ngx_min(why.len, 512);

    p = ngx_pnalloc(pool, sizeof("The client answered  with an error: ") - 1
                          + req->method.len + why.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    err->data = p;
    err->len = ngx_sprintf(p, "The client answered %V with an error: %V",
                           &req->method, &why)
               - p;

    return NGX_DECLINED;
}


ngx_http_mcp_json_t *
ngx_http_mcp_input_responses(ngx_http_mcp_input_round_t *round,
    ngx_pool_t *pool)
{
    ngx_uint_t                   i;
    ngx_http_mcp_json_t         *o, **last, *a;
    ngx_http_mcp_input_request_t  *req;

    o = ngx_pcalloc(pool, sizeof(ngx_http_mcp_json_t));
    if (o == NULL) {
        return NULL;
    }

    o->type = NGX_HTTP_MCP_JSON_OBJECT;
    last = &o->first;
    req = round->requests->elts;

    for (i = 0; i < round->requests->nelts; i++) {
        a = req[i].answer;

        a->key = req[i].key;
        a->parent = o;
        a->next = NULL;

        *last = a;
        last = &a->next;
        o->nelts++;
    }

    return o;
}
