
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_mcp_module.h"
#include "protocol/ngx_http_mcp_methods.h"
#include "protocol/ngx_http_mcp_results.h"
#include "protocol/ngx_http_mcp_input.h"
#include "protocol/ngx_http_mcp_subscribe.h"


typedef struct {
    ngx_str_t                   name;
    ngx_http_mcp_method_pt      handler;
    ngx_uint_t                  flags;
} ngx_http_mcp_method_t;


static ngx_int_t ngx_http_mcp_dispatch_one(ngx_http_mcp_exchange_t *x,
    ngx_http_mcp_json_t *v, ngx_http_mcp_jw_t *jw);
static ngx_http_mcp_method_t *ngx_http_mcp_method_find(ngx_str_t *name);
static void ngx_http_mcp_write_error(ngx_http_mcp_call_t *c);
static void ngx_http_mcp_result_end(ngx_http_mcp_call_t *c,
    ngx_str_t *result_type, ngx_http_mcp_json_t *meta);
static void ngx_http_mcp_invalid(ngx_http_mcp_exchange_t *x,
    ngx_http_mcp_jw_t *jw, ngx_http_mcp_json_t *id, ngx_int_t code,
    const char *message);
static ngx_int_t ngx_http_mcp_dispatch_session(ngx_http_mcp_call_t *c,
    ngx_http_mcp_method_t *m);
static ngx_int_t ngx_http_mcp_dispatch_call(ngx_http_mcp_call_t *c,
    ngx_http_mcp_method_t *m);
static ngx_int_t ngx_http_mcp_batch_too_big(ngx_http_mcp_exchange_t *x,
    ngx_http_mcp_jw_t *jw);
static ngx_int_t ngx_http_mcp_dispatch_refused(ngx_http_mcp_call_t *c);
static void ngx_http_mcp_dispatch_observe(ngx_http_mcp_call_t *c,
    ngx_uint_t failed);
static ngx_int_t ngx_http_mcp_dispatch_record(ngx_http_mcp_exchange_t *x,
    ngx_http_mcp_msg_t *msg);
static ngx_int_t ngx_http_mcp_admit_add(ngx_http_mcp_exchange_t *x,
    ngx_http_mcp_json_t *v);
static ngx_uint_t ngx_http_mcp_result_ok(ngx_http_mcp_result_t *res);
static ngx_http_mcp_entry_t *ngx_http_mcp_dispatch_entry(
    ngx_http_mcp_exchange_t *x, ngx_http_mcp_msg_t *msg);
static ngx_int_t ngx_http_mcp_dispatch_answer(ngx_http_mcp_exchange_t *x,
    ngx_http_mcp_jw_t *jw, ngx_http_mcp_json_t *v, ngx_http_mcp_msg_t *msg);
static ngx_int_t ngx_http_mcp_dispatch_resume_fail(
    ngx_http_mcp_exchange_t *x);
static ngx_int_t ngx_http_mcp_dispatch_resume_error(
    ngx_http_mcp_exchange_t *x, ngx_uint_t status, ngx_str_t *text);


static ngx_str_t  ngx_http_mcp_versions[] = {
    ngx_null_string,
    ngx_string("2025-03-26"),
    ngx_string("2025-06-18"),
    ngx_string("2025-11-25"),
    ngx_string("2026-07-28")
};


static ngx_http_mcp_method_t  ngx_http_mcp_methods[] = {

    { ngx_string("initialize"),
      ngx_http_mcp_method_initialize, 0 },

    { ngx_string("ping"),
      ngx_http_mcp_method_empty, NGX_HTTP_MCP_M_LEGACY },

    { ngx_string("server/discover"),
      ngx_http_mcp_method_discover,
      NGX_HTTP_MCP_M_MODERN|NGX_HTTP_MCP_M_CACHE },

    { ngx_string("tools/list"),
      ngx_http_mcp_method_list, NGX_HTTP_MCP_M_BOTH|NGX_HTTP_MCP_M_CACHE },

    { ngx_string("tools/call"),
      ngx_http_mcp_method_tools_call,
      NGX_HTTP_MCP_M_BOTH|NGX_HTTP_MCP_M_NAME|NGX_HTTP_MCP_M_PARAMS },

    { ngx_string("resources/list"),
      ngx_http_mcp_method_list, NGX_HTTP_MCP_M_BOTH|NGX_HTTP_MCP_M_CACHE },

    { ngx_string("resources/templates/list"),
      ngx_http_mcp_method_list, NGX_HTTP_MCP_M_BOTH|NGX_HTTP_MCP_M_CACHE },

    { ngx_string("resources/read"),
      ngx_http_mcp_method_resources_read,
      NGX_HTTP_MCP_M_BOTH|NGX_HTTP_MCP_M_CACHE|NGX_HTTP_MCP_M_URI },

    { ngx_string("resources/subscribe"),
      ngx_http_mcp_method_subscribe, NGX_HTTP_MCP_M_LEGACY },

    { ngx_string("resources/unsubscribe"),
      ngx_http_mcp_method_subscribe, NGX_HTTP_MCP_M_LEGACY },

    { ngx_string("prompts/list"),
      ngx_http_mcp_method_list, NGX_HTTP_MCP_M_BOTH|NGX_HTTP_MCP_M_CACHE },

    { ngx_string("prompts/get"),
      ngx_http_mcp_method_prompts_get,
      NGX_HTTP_MCP_M_BOTH|NGX_HTTP_MCP_M_NAME },

    { ngx_string("completion/complete"),
      ngx_http_mcp_method_complete, NGX_HTTP_MCP_M_BOTH },

    { ngx_string("subscriptions/listen"),
      ngx_http_mcp_method_listen, NGX_HTTP_MCP_M_MODERN },

    { ngx_string("logging/setLevel"),
      ngx_http_mcp_method_set_level, NGX_HTTP_MCP_M_LEGACY },

    { ngx_null_string, NULL, 0 }
};


ngx_http_mcp_version_e
ngx_http_mcp_version_parse(ngx_str_t *s)
{
    ngx_uint_t  v;

    for (v = NGX_HTTP_MCP_V_2025_03_26; v <= NGX_HTTP_MCP_V_LATEST; v++) {
        if (s->len == ngx_http_mcp_versions[v].len
            && ngx_strncmp(s->data, ngx_http_mcp_versions[v].data, s->len)
               == 0)
        {
            return v;
        }
    }

    return NGX_HTTP_MCP_V_UNKNOWN;
}


ngx_str_t *
ngx_http_mcp_version_name(ngx_http_mcp_version_e v)
{
    return &ngx_http_mcp_versions[v];
}


ngx_http_mcp_era_e
ngx_http_mcp_dispatch_era(ngx_http_mcp_exchange_t *x)
{
    ngx_http_mcp_json_t    *params, *meta;
    ngx_http_mcp_version_e  v;

    if (x->body && x->body->type == NGX_HTTP_MCP_JSON_OBJECT) {
        params = ngx_http_mcp_json_member(x->body, "params");
        meta = ngx_http_mcp_json_member(params, "_meta");

        if (ngx_http_mcp_json_member(meta, NGX_HTTP_MCP_META_VERSION))
        {
            return NGX_HTTP_MCP_ERA_MODERN;
        }
    }

    if (x->has_version) {

        /*
         * 2024-11-05 and the session revisions are legacy; an unknown
         * version with a session id is the session's to refuse
         */

        v = ngx_http_mcp_version_parse(&x->h_version);

        if (!(x->h_version.len == 10
              && ngx_strncmp(x->h_version.data, "2024-11-05", 10) == 0)
            && (v > NGX_HTTP_MCP_V_LATEST_LEGACY
                || (v == NGX_HTTP_MCP_V_UNKNOWN && !x->has_session)))
        {
            return NGX_HTTP_MCP_ERA_MODERN;
        }
    }

    return x->has_session ? NGX_HTTP_MCP_ERA_SESSION : NGX_HTTP_MCP_ERA_NONE;
}


ngx_int_t
ngx_http_mcp_dispatch_admits(ngx_http_mcp_exchange_t *x)
{
    ngx_http_mcp_json_t  *v;

    x->admits = ngx_array_create(x->pool, 1, sizeof(ngx_http_mcp_admit_t));
    if (x->admits == NULL) {
        return NGX_ERROR;
    }

    if (x->body->type != NGX_HTTP_MCP_JSON_ARRAY) {
        return ngx_http_mcp_admit_add(x, x->body);
    }

    for (v = x->body->first; v; v = v->next) {
        if (ngx_http_mcp_admit_add(x, v) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* a request (a message with an id and a method): what it would run */

static ngx_int_t
ngx_http_mcp_admit_add(ngx_http_mcp_exchange_t *x, ngx_http_mcp_json_t *v)
{
    ngx_http_mcp_msg_t     msg;
    ngx_http_mcp_admit_t  *a;

    ngx_http_mcp_jsonrpc_read(v, &msg);

    if (v == x->body) {
        x->read = v;             /* dispatch reads it once only */
        x->msg = msg;
    }

    if (msg.kind != NGX_HTTP_MCP_MSG_REQUEST) {
        return NGX_OK;
    }

    a = ngx_array_push(x->admits);
    if (a == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(a, sizeof(ngx_http_mcp_admit_t));
    a->method = msg.method;
    a->entry = ngx_http_mcp_dispatch_entry(x, &msg);

    return NGX_OK;
}


/* the entry a tools/call, resources/read or prompts/get names, or NULL */

static ngx_http_mcp_entry_t *
ngx_http_mcp_dispatch_entry(ngx_http_mcp_exchange_t *x,
    ngx_http_mcp_msg_t *msg)
{
    ngx_http_mcp_json_t  *p;
    ngx_http_mcp_item_e   kind;

    static ngx_str_t  methods[] = {
        ngx_string("tools/call"),
        ngx_string("resources/read"),
        ngx_string("prompts/get")
    };

    for (kind = NGX_HTTP_MCP_ITEM_TOOL; kind <= NGX_HTTP_MCP_ITEM_PROMPT;
         kind++)
    {
        if (msg->method.len == methods[kind].len
            && ngx_strncmp(msg->method.data, methods[kind].data,
                           msg->method.len)
               == 0)
        {
            p = (kind == NGX_HTTP_MCP_ITEM_RESOURCE)
                ? ngx_http_mcp_json_member(msg->params, "uri")
                : ngx_http_mcp_json_member(msg->params, "name");

            if (p == NULL || p->type != NGX_HTTP_MCP_JSON_STRING) {
                return NULL;
            }

            return ngx_http_mcp_registry_entry(x->conf->server, kind,
                                               &p->str, x->pool);
        }
    }

    return NULL;
}


ngx_int_t
ngx_http_mcp_dispatch(ngx_http_mcp_exchange_t *x)
{
    size_t                mark;
    ngx_int_t             rc;
    ngx_uint_t            answered;
    ngx_http_mcp_jw_t    *jw;
    ngx_http_mcp_json_t  *v;

    /* in the pool: a pending call finishes it later */

    jw = ngx_palloc(x->pool, sizeof(ngx_http_mcp_jw_t));
    if (jw == NULL || ngx_http_mcp_jw_init(jw, x->pool, 1024) != NGX_OK) {
        return NGX_ERROR;
    }

    x->status = NGX_HTTP_OK;

    if (x->body->type != NGX_HTTP_MCP_JSON_ARRAY) {

        rc = ngx_http_mcp_dispatch_one(x, x->body, jw);

        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_mcp_jw_finish(jw, &x->out);
    }

    /* a batch: only in a 2025-03-26 session */

    if (x->era != NGX_HTTP_MCP_ERA_SESSION
        || x->session->version != NGX_HTTP_MCP_V_2025_03_26)
    {
        ngx_http_mcp_invalid(x, jw, NULL, NGX_HTTP_MCP_INVALID_REQUEST,
                             "batches are not supported by this "
                             "protocol revision");
        return ngx_http_mcp_jw_finish(jw, &x->out);
    }

    if (x->body->nelts == 0) {
        ngx_http_mcp_invalid(x, jw, NULL, NGX_HTTP_MCP_INVALID_REQUEST,
                             "empty batch");
        return ngx_http_mcp_jw_finish(jw, &x->out);
    }

    ngx_http_mcp_jw_literal(jw, "[");
    answered = 0;
    x->refused = 0;

    for (v = x->body->first; v; v = v->next) {
        mark = ngx_http_mcp_jw_mark(jw);

        if (answered) {
            ngx_http_mcp_jw_literal(jw, ",");
        }

        x->status = NGX_HTTP_OK;

        if (ngx_http_mcp_dispatch_one(x, v, jw) != NGX_OK) {
            return NGX_ERROR;
        }

        if (x->status == NGX_HTTP_ACCEPTED) {
            ngx_http_mcp_jw_rewind(jw, mark);   /* nothing to answer */
            continue;
        }

        answered++;

        /*
         * What a batch costs is bounded by its answers: a small batch of
         * list or read requests must not build a huge answer in memory.
         */

        if (ngx_http_mcp_jw_mark(jw) > x->conf->batch_max_response_size) {
            ngx_http_mcp_jw_rewind(jw, 0);
            return ngx_http_mcp_batch_too_big(x, jw);
        }
    }

    if (x->scope_needed.len) {

        /* an item the caller may not use refuses the batch as a whole */

        ngx_http_mcp_jw_rewind(jw, 0);
        ngx_http_mcp_invalid(x, jw, NULL, NGX_HTTP_MCP_FORBIDDEN,
                             "Forbidden: insufficient scope");
        x->status = NGX_HTTP_FORBIDDEN;

        return ngx_http_mcp_jw_finish(jw, &x->out);
    }

    if (answered == 0) {
        x->status = NGX_HTTP_ACCEPTED;
        ngx_str_null(&x->out);
        return NGX_OK;
    }

    /* a batch whose every request a limit refused is refused as well */

    x->status = (x->refused == answered) ? x->admit->status : NGX_HTTP_OK;
    ngx_http_mcp_jw_literal(jw, "]");

    return ngx_http_mcp_jw_finish(jw, &x->out);
}


/*
 * A request of a session (the 2025 revisions): the header's version,
 * notifications, the methods of the session's revision.  NGX_DONE: it is
 * answered; NGX_OK: the method runs.
 */

static ngx_int_t
ngx_http_mcp_dispatch_session(ngx_http_mcp_call_t *c, ngx_http_mcp_method_t *m)
{
    ngx_http_mcp_jw_t        *jw;
    ngx_http_mcp_msg_t       *msg;
    ngx_http_mcp_exchange_t  *x;

    x = c->x;
    msg = c->msg;
    jw = c->jw;

    c->version = x->session->version;

    if (x->has_version
        && ngx_http_mcp_version_parse(&x->h_version) != c->version)
    {
        ngx_http_mcp_invalid(x, jw, msg->id, NGX_HTTP_MCP_INVALID_REQUEST,
                             ngx_http_mcp_version_parse(&x->h_version)
                             == NGX_HTTP_MCP_V_UNKNOWN
                             ? "unsupported MCP-Protocol-Version header: "
                               "send the session's protocol version"
                             : "MCP-Protocol-Version does not match the "
                               "session's protocol version");
        return NGX_DONE;
    }

    if (msg->kind == NGX_HTTP_MCP_MSG_NOTIFICATION) {

        if (msg->method.len == sizeof("notifications/initialized") - 1
            && ngx_strncmp(msg->method.data, "notifications/initialized",
                           msg->method.len) == 0
            && !x->session->initialized)
        {
            ngx_http_mcp_session_change(x)->initialized = 1;
        }

        /* transport aborts the request's backend if one runs */

        if (msg->method.len == sizeof("notifications/cancelled") - 1
            && ngx_strncmp(msg->method.data, "notifications/cancelled",
                           msg->method.len) == 0)
        {
            x->cancel_id = ngx_http_mcp_json_member(msg->params,
                                                    "requestId");
        }

        x->status = NGX_HTTP_ACCEPTED;
        return NGX_DONE;
    }

    if (m == NULL || !(m->flags & NGX_HTTP_MCP_M_LEGACY)) {

        if (m != NULL && m->handler == ngx_http_mcp_method_initialize) {
            ngx_http_mcp_invalid(x, jw, msg->id,
                                 NGX_HTTP_MCP_INVALID_REQUEST,
                                 "the session is already initialized");
            return NGX_DONE;
        }

        ngx_http_mcp_call_error(c, NGX_HTTP_MCP_METHOD_NOT_FOUND,
                                "Method not found: %V", &msg->method);
        ngx_http_mcp_write_error(c);
        return NGX_DONE;
    }

    return NGX_OK;
}


/* the method runs, and its result is written, or left to a backend */

static ngx_int_t
ngx_http_mcp_dispatch_call(ngx_http_mcp_call_t *c, ngx_http_mcp_method_t *m)
{
    size_t                    mark, members;
    ngx_int_t                 rc;
    ngx_http_mcp_jw_t        *jw;
    ngx_http_mcp_msg_t       *msg;
    ngx_http_mcp_call_t      *cp;
    ngx_http_mcp_exchange_t  *x;

    x = c->x;
    msg = c->msg;
    jw = c->jw;

    if (m->flags & NGX_HTTP_MCP_M_CACHE) {
        c->cacheable = 1;
    }

    mark = ngx_http_mcp_jw_mark(jw);

    ngx_http_mcp_jsonrpc_result_start(jw, msg->id);
    ngx_http_mcp_jw_literal(jw, "{");

    members = ngx_http_mcp_jw_mark(jw);

    rc = m->handler(c);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        ngx_http_mcp_jw_rewind(jw, mark);
        ngx_http_mcp_write_error(c);
        return NGX_OK;
    }

    if (rc == NGX_AGAIN) {

        /* the backend answers later: ngx_http_mcp_dispatch_resume() */

        if (x->body->type == NGX_HTTP_MCP_JSON_ARRAY) {
            ngx_http_mcp_jw_rewind(jw, mark);
            ngx_http_mcp_call_error(c, NGX_HTTP_MCP_INVALID_PARAMS,
                                    "%V of \"%V\" cannot be called in a "
                                    "batch: a location answers it",
                                    &msg->method,
                                    x->bcall->uri.len
                                    ? &x->bcall->uri
                                    : &x->bcall->entry->name);
            x->bcall = NULL;
            ngx_http_mcp_write_error(c);
            return NGX_OK;
        }

        cp = ngx_palloc(x->pool, sizeof(ngx_http_mcp_call_t));
        if (cp == NULL) {
            return NGX_ERROR;
        }

        *cp = *c;
        cp->msg = NULL;                  /* it lives on this stack */
        cp->start = mark;
        cp->members = members;
        x->call = cp;

        return NGX_AGAIN;
    }

    c->members = members;
    ngx_http_mcp_result_end(c, NULL, NULL);

    if (x->admit && msg->kind == NGX_HTTP_MCP_MSG_REQUEST && !c->failed) {
        x->admit->ok = 1;
    }

    ngx_http_mcp_dispatch_observe(c, c->failed);

    return NGX_OK;
}


/* what the request did, for observe/: its method, entry and outcome */

static void
ngx_http_mcp_dispatch_observe(ngx_http_mcp_call_t *c, ngx_uint_t failed)
{
    ngx_http_mcp_obs_t  *o;

    o = c->x->obs;

    if (o == NULL) {
        return;
    }

    o->outcome = failed ? NGX_HTTP_MCP_OUTCOME_TOOL_ERROR
                        : NGX_HTTP_MCP_OUTCOME_OK;

    if (c->x->session_action == NGX_HTTP_MCP_SESSION_CREATE) {
        o->version = c->x->new_session.version;
    }
}


/*
 * The record of what the request does (observe/): a batch's is its last
 * request's (a notification's alone), with the requests before it kept in
 * `batch` for the audit
 */

static ngx_int_t
ngx_http_mcp_dispatch_record(ngx_http_mcp_exchange_t *x,
    ngx_http_mcp_msg_t *msg)
{
    ngx_http_mcp_obs_t  *o, *prev;

    o = x->obs;

    if (o == NULL
        || (msg->kind != NGX_HTTP_MCP_MSG_REQUEST && o->id != NULL))
    {
        return NGX_OK;
    }

    if (o->id && x->body->type == NGX_HTTP_MCP_JSON_ARRAY) {

        if (o->batch == NULL) {
            o->batch = ngx_array_create(x->pool, 4,
                                        sizeof(ngx_http_mcp_obs_t));
            if (o->batch == NULL) {
                return NGX_ERROR;
            }
        }

        prev = ngx_array_push(o->batch);
        if (prev == NULL) {
            return NGX_ERROR;
        }

        *prev = *o;
        prev->batch = NULL;
    }

    o->method = msg->method;
    o->id = msg->id;
    o->entry.len = 0;
    o->series = NULL;
    o->arguments = NULL;
    o->target.len = 0;
    o->audit = NGX_HTTP_MCP_AUDIT_DEFAULT;
    o->error.len = 0;
    o->limited = 0;

    return NGX_OK;
}


/* a limit refused the request: its error, 429 or 503 with Retry-After */

static ngx_int_t
ngx_http_mcp_dispatch_refused(ngx_http_mcp_call_t *c)
{
    ngx_http_mcp_json_t      *p;
    ngx_http_mcp_admit_t     *a;
    ngx_http_mcp_entry_t     *e;
    ngx_http_mcp_exchange_t  *x;

    x = c->x;
    a = x->admit;

    c->code = a->code;
    c->message = a->message;
    c->data = a->data;
    c->http_status = a->status;

    if (x->obs) {
        x->obs->limited = 1;

        /* the entry, as the request named it: it does not run */

        e = a->entry;

        if (e) {
            p = (e->kind == NGX_HTTP_MCP_ITEM_RESOURCE)
                ? ngx_http_mcp_json_member(c->msg->params, "uri")
                : ngx_http_mcp_json_member(c->msg->params, "name");

            if (p && p->type == NGX_HTTP_MCP_JSON_STRING) {
                x->obs->entry = p->str;
            }
        }
    }

    ngx_http_mcp_write_error(c);

    x->refused++;
    x->retry_after = ngx_max(x->retry_after, a->retry_after);

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_dispatch_one(ngx_http_mcp_exchange_t *x, ngx_http_mcp_json_t *v,
    ngx_http_mcp_jw_t *jw)
{
    ngx_int_t               rc;
    ngx_http_mcp_msg_t      msg;
    ngx_http_mcp_call_t     c;
    ngx_http_mcp_entry_t   *e;
    ngx_http_mcp_method_t  *m;

    if (v == x->read) {
        msg = x->msg;

    } else {
        ngx_http_mcp_jsonrpc_read(v, &msg);
    }

    if (msg.kind == NGX_HTTP_MCP_MSG_INVALID) {
        ngx_http_mcp_invalid(x, jw, msg.id, NGX_HTTP_MCP_INVALID_REQUEST,
                             msg.invalid);
        return NGX_OK;
    }

    ngx_memzero(&c, sizeof(ngx_http_mcp_call_t));

    c.x = x;
    c.msg = &msg;
    c.srv = x->conf->server;
    c.jw = jw;
    c.modern = (x->era == NGX_HTTP_MCP_ERA_MODERN);

    x->method = msg.method;

    if (ngx_http_mcp_dispatch_record(x, &msg) != NGX_OK) {
        return NGX_ERROR;
    }

    if (x->admits && msg.kind == NGX_HTTP_MCP_MSG_REQUEST) {
        x->admit = (ngx_http_mcp_admit_t *) x->admits->elts + x->admitted++;
        e = x->admit->entry;

    } else {
        e = (x->obs && x->obs->detail
             && msg.kind == NGX_HTTP_MCP_MSG_REQUEST)
            ? ngx_http_mcp_dispatch_entry(x, &msg) : NULL;
    }

    if (x->obs && e) {
        x->obs->series = e->metric;
        x->obs->target = e->target;
        x->obs->audit = e->head.audit_arguments;
    }

    if (x->admit && x->admit->status && msg.kind == NGX_HTTP_MCP_MSG_REQUEST)
    {
        return ngx_http_mcp_dispatch_refused(&c);
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, x->log, 0,
                   "mcp dispatch: \"%V\", kind %ui, era %ui",
                   &msg.method, (ngx_uint_t) msg.kind, (ngx_uint_t) x->era);

    if (msg.kind == NGX_HTTP_MCP_MSG_RESPONSE) {

        if (c.modern) {
            ngx_http_mcp_invalid(x, jw, msg.id, NGX_HTTP_MCP_INVALID_REQUEST,
                                 "clients must not send responses in this "
                                 "protocol revision");
            return NGX_OK;
        }

        if (x->era == NGX_HTTP_MCP_ERA_NONE) {
            ngx_http_mcp_invalid(x, jw, NULL, NGX_HTTP_MCP_INVALID_REQUEST,
                                 "Mcp-Session-Id header is required");
            return NGX_OK;
        }

        return ngx_http_mcp_dispatch_answer(x, jw, v, &msg);
    }

    m = ngx_http_mcp_method_find(&msg.method);

    /* the era decides which methods exist */

    if (x->era == NGX_HTTP_MCP_ERA_NONE) {

        if (msg.kind == NGX_HTTP_MCP_MSG_REQUEST
            && m != NULL && m->handler == ngx_http_mcp_method_initialize)
        {
            goto call;
        }

        ngx_http_mcp_invalid(x, jw, msg.id, NGX_HTTP_MCP_INVALID_REQUEST,
                             "Mcp-Session-Id header is required");
        return NGX_OK;
    }

    if (c.modern) {
        rc = ngx_http_mcp_modern_check(&c, m ? m->flags : 0);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_DECLINED) {
            ngx_http_mcp_write_error(&c);
            return NGX_OK;
        }

        if (msg.kind == NGX_HTTP_MCP_MSG_NOTIFICATION) {
            x->status = NGX_HTTP_ACCEPTED;
            return NGX_OK;
        }

        if (m == NULL) {
            /* cannot happen: ngx_http_mcp_modern_check() answered -32601 */
            return NGX_ERROR;
        }

    } else {
        rc = ngx_http_mcp_dispatch_session(&c, m);

        if (rc != NGX_OK) {
            return (rc == NGX_DONE) ? NGX_OK : rc;
        }
    }

call:

    if (x->obs) {
        x->obs->version = c.version;
    }

    return ngx_http_mcp_dispatch_call(&c, m);
}


/*
 * A response of the client in a session: to a request of this server (an
 * id of its form) it is accepted (202) and left to transport, which finds
 * the call that waits for it, if one does; any other id answers nothing
 * this server sent (400).
 */

static ngx_int_t
ngx_http_mcp_dispatch_answer(ngx_http_mcp_exchange_t *x, ngx_http_mcp_jw_t *jw,
    ngx_http_mcp_json_t *v, ngx_http_mcp_msg_t *msg)
{
    ngx_http_mcp_json_t  **a;

    if (msg->id->type != NGX_HTTP_MCP_JSON_STRING
        || !ngx_http_mcp_input_id_valid(&msg->id->str))
    {
        ngx_http_mcp_invalid(x, jw, NULL, NGX_HTTP_MCP_INVALID_REQUEST,
                             "Invalid Request: the response's id names no "
                             "request of this server");
        return NGX_OK;
    }

    if (x->answers == NULL) {
        x->answers = ngx_array_create(x->pool, 1,
                                      sizeof(ngx_http_mcp_json_t *));
        if (x->answers == NULL) {
            return NGX_ERROR;
        }
    }

    a = ngx_array_push(x->answers);
    if (a == NULL) {
        return NGX_ERROR;
    }

    *a = v;
    x->status = NGX_HTTP_ACCEPTED;

    return NGX_OK;
}


ngx_int_t
ngx_http_mcp_dispatch_resume(ngx_http_mcp_exchange_t *x)
{
    ngx_int_t                 rc;
    ngx_str_t                 err, *type;
    ngx_http_mcp_call_t      *c;
    ngx_http_mcp_json_t      *meta;
    ngx_http_mcp_bcall_t     *bc;
    ngx_http_mcp_prompt_t    *prompt;
    ngx_http_mcp_resource_t  *res;

    static ngx_str_t  input = ngx_string("input_required");

    c = x->call;
    bc = x->bcall;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, x->log, 0,
                   "mcp dispatch: resume \"%V\", result %ui",
                   &bc->entry->name, (ngx_uint_t) bc->result.kind);

    meta = NULL;
    type = NULL;
    ngx_str_null(&err);

    if (c->modern) {
        rc = ngx_http_mcp_mrtr_result(c, bc, &meta);

        if (rc == NGX_OK) {
            type = &input;
            goto done;
        }

        if (rc == NGX_ABORT) {
            return ngx_http_mcp_dispatch_resume_fail(x);
        }

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }
    }

    switch (bc->entry->kind) {

    case NGX_HTTP_MCP_ITEM_TOOL:
        rc = ngx_http_mcp_results_tool(&bc->result, x->pool, !c->modern,
                                       c->jw, &meta);
        break;

    case NGX_HTTP_MCP_ITEM_PROMPT:
        prompt = bc->entry->item;
        rc = ngx_http_mcp_results_messages(&bc->result, x->pool,
                                           &prompt->description, c->jw,
                                           &meta, &err);
        break;

    default: /* NGX_HTTP_MCP_ITEM_RESOURCE */
        res = bc->entry->item;
        rc = ngx_http_mcp_results_contents(&bc->result, &bc->uri, &res->mime,
                                           c->jw);
        err = bc->result.reason;
        break;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_mcp_dispatch_resume_error(x, bc->result.status, &err);
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

done:

    ngx_http_mcp_result_end(c, type, meta);

    if (x->admit && type == NULL && ngx_http_mcp_result_ok(&bc->result)) {
        x->admit->ok = 1;
    }

    ngx_http_mcp_dispatch_observe(c, !ngx_http_mcp_result_ok(&bc->result));

    x->status = NGX_HTTP_OK;

    return ngx_http_mcp_jw_finish(c->jw, &x->out);
}


/* a result that counts as a success (quotas count those) */

static ngx_uint_t
ngx_http_mcp_result_ok(ngx_http_mcp_result_t *res)
{
    ngx_http_mcp_json_t  *e;

    if (res->kind == NGX_HTTP_MCP_RESULT_ERROR || res->cancelled) {
        return 0;
    }

    if (res->kind == NGX_HTTP_MCP_RESULT_JSON) {
        e = ngx_http_mcp_json_member(res->json, "isError");

        if (e && e->type == NGX_HTTP_MCP_JSON_TRUE) {
            return 0;
        }
    }

    return 1;
}


/*
 * A resources/read or prompts/get backend failed: the answer is a JSON-RPC
 * error.  `status` is the backend's (0: none): 404 and 410 are "resource
 * not found", other 4xx invalid params, the rest an internal error; `text`
 * says why.
 */

static ngx_int_t
ngx_http_mcp_dispatch_resume_error(ngx_http_mcp_exchange_t *x,
    ngx_uint_t status, ngx_str_t *text)
{
    ngx_http_mcp_call_t  *c;

    c = x->call;

    ngx_http_mcp_jw_rewind(c->jw, c->start);

    if (x->bcall->entry->kind == NGX_HTTP_MCP_ITEM_RESOURCE
        && (status == NGX_HTTP_NOT_FOUND || status == 410))
    {
        if (ngx_http_mcp_not_found(c, &x->bcall->uri) == NGX_ERROR) {
            return NGX_ERROR;
        }

    } else {
        ngx_http_mcp_call_error(c, (status >= NGX_HTTP_BAD_REQUEST
                                    && status < NGX_HTTP_INTERNAL_SERVER_ERROR)
                                   ? NGX_HTTP_MCP_INVALID_PARAMS
                                   : NGX_HTTP_MCP_INTERNAL_ERROR,
                                "%V", text);
    }

    return ngx_http_mcp_dispatch_resume_fail(x);
}


/* the pending call ends in the error of c->code, c->message and c->data */

static ngx_int_t
ngx_http_mcp_dispatch_resume_fail(ngx_http_mcp_exchange_t *x)
{
    ngx_http_mcp_call_t  *c;

    c = x->call;

    ngx_http_mcp_jw_rewind(c->jw, c->start);

    ngx_http_mcp_jsonrpc_error(c->jw, x->bcall->id, c->code, &c->message,
                               &c->data);

    if (x->obs) {
        x->obs->outcome = c->code;
        x->obs->error = c->message;
    }

    x->status = c->http_status ? c->http_status : NGX_HTTP_OK;

    return ngx_http_mcp_jw_finish(c->jw, &x->out);
}


/*
 * After the result's members: the 2026 decoration (resultType, caching
 * hints, serverInfo in _meta), then the closing braces.  result_type NULL
 * is "complete"; meta, the result's own _meta object, is merged.
 */

static void
ngx_http_mcp_result_end(ngx_http_mcp_call_t *c, ngx_str_t *result_type,
    ngx_http_mcp_json_t *meta)
{
    ngx_str_t             info;
    ngx_http_mcp_jw_t    *jw;
    ngx_http_mcp_json_t  *m;

    jw = c->jw;

    if (meta && !c->modern) {

        if (ngx_http_mcp_jw_mark(jw) != c->members) {
            ngx_http_mcp_jw_literal(jw, ",");
        }

        ngx_http_mcp_jw_literal(jw, "\"_meta\":");
        ngx_http_mcp_jw_value(jw, meta);
    }

    if (c->modern) {

        if (ngx_http_mcp_jw_mark(jw) != c->members) {
            ngx_http_mcp_jw_literal(jw, ",");
        }

        ngx_http_mcp_jw_literal(jw, "\"resultType\":");

        if (result_type) {
            ngx_http_mcp_jw_str(jw, result_type);

        } else {
            ngx_http_mcp_jw_literal(jw, "\"complete\"");
        }

        /* input_required results carry no caching hints */

        if (c->cacheable && result_type == NULL) {
            ngx_http_mcp_jw_literal(jw, ",\"ttlMs\":");
            ngx_http_mcp_jw_int(jw, c->x->bcall ? c->x->bcall->result.max_age
                                                : c->srv->cache_ttl);
            ngx_http_mcp_jw_literal(jw, ",\"cacheScope\":");

            /* what a verified caller sees may differ by its scopes */

            if (c->srv->cache_private
                || c->x->identity->method.len
                || (c->x->bcall && c->x->bcall->result.private))
            {
                ngx_http_mcp_jw_literal(jw, "\"private\"");

            } else {
                ngx_http_mcp_jw_literal(jw, "\"public\"");
            }
        }

        /* "serverInfo":{...} -> "_meta":{"io.../serverInfo":{...}} */

        info = c->srv->server_info;
        info.data += sizeof("\"serverInfo\":") - 1;
        info.len -= sizeof("\"serverInfo\":") - 1;

        ngx_http_mcp_jw_literal(jw, ",\"_meta\":{");

        for (m = meta ? meta->first : NULL; m; m = m->next) {
            ngx_http_mcp_jw_str(jw, &m->key);
            ngx_http_mcp_jw_literal(jw, ":");
            ngx_http_mcp_jw_value(jw, m);
            ngx_http_mcp_jw_literal(jw, ",");
        }

        ngx_http_mcp_jw_literal(jw, "\"io.modelcontextprotocol/serverInfo\":");
        ngx_http_mcp_jw_raw(jw, info.data, info.len);
        ngx_http_mcp_jw_literal(jw, "}");
    }

    ngx_http_mcp_jw_literal(jw, "}}");
}


static ngx_http_mcp_method_t *
ngx_http_mcp_method_find(ngx_str_t *name)
{
    ngx_http_mcp_method_t  *m;

    for (m = ngx_http_mcp_methods; m->handler; m++) {
        if (m->name.len == name->len
            && ngx_strncmp(m->name.data, name->data, name->len) == 0)
        {
            return m;
        }
    }

    return NULL;
}


ngx_int_t
ngx_http_mcp_call_error(ngx_http_mcp_call_t *c, ngx_int_t code,
    const char *fmt, ...)
{
    u_char   *p, buf[NGX_MAX_ERROR_STR];
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    c->code = code;
    c->message.len = p - buf;
    c->message.data = ngx_pnalloc(c->x->pool, c->message.len);

    if (c->message.data == NULL) {
        c->message.len = 0;

    } else {
        ngx_memcpy(c->message.data, buf, c->message.len);
    }

    return NGX_DECLINED;
}


static void
ngx_http_mcp_write_error(ngx_http_mcp_call_t *c)
{
    ngx_uint_t  status;

    if (c->x->obs) {
        c->x->obs->outcome = c->code;
        c->x->obs->error = c->message;
    }

    ngx_http_mcp_jsonrpc_error(c->jw, c->msg->id, c->code, &c->message,
                               &c->data);

    status = c->http_status;

    if (status == 0) {
        status = (c->modern && c->code == NGX_HTTP_MCP_METHOD_NOT_FOUND)
                 ? NGX_HTTP_NOT_FOUND : NGX_HTTP_OK;
    }

    c->x->status = status;        /* a batch answers 200 as a whole */
}


/*
 * One error for the whole batch, whose requests have run (only static
 * items and session settings can be in a batch): the client learns the
 * limit and sends fewer requests at a time.
 */

static ngx_int_t
ngx_http_mcp_batch_too_big(ngx_http_mcp_exchange_t *x, ngx_http_mcp_jw_t *jw)
{
    u_char     *p;
    ngx_str_t   msg;

    p = ngx_pnalloc(x->pool, 160);
    if (p == NULL) {
        return NGX_ERROR;
    }

    msg.data = p;
    msg.len = ngx_sprintf(p, "the answers to this batch exceed %uz bytes "
                          "(mcp_batch_max_response_size): send fewer "
                          "requests in one batch",
                          x->conf->batch_max_response_size)
              - p;

    ngx_http_mcp_jsonrpc_error(jw, NULL, NGX_HTTP_MCP_INVALID_REQUEST, &msg,
                               NULL);

    x->status = NGX_HTTP_BAD_REQUEST;

    return ngx_http_mcp_jw_finish(jw, &x->out);
}


static void
ngx_http_mcp_invalid(ngx_http_mcp_exchange_t *x, ngx_http_mcp_jw_t *jw,
    ngx_http_mcp_json_t *id, ngx_int_t code, const char *message)
{
    ngx_str_t  msg;

    msg.data = (u_char *) message;
    msg.len = ngx_strlen(message);

    if (x->obs) {
        x->obs->outcome = code;
        x->obs->error = msg;
    }

    ngx_http_mcp_jsonrpc_error(jw, id, code, &msg, NULL);

    x->status = NGX_HTTP_BAD_REQUEST;   /* a batch answers 200 as a whole */
}
