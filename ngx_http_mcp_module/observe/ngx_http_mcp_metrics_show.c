
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "observe/ngx_http_mcp_observe.h"
#include "observe/ngx_http_mcp_metrics.h"
#include "observe/ngx_http_mcp_metrics_int.h"


/*
 * `location = /metrics { mcp_metrics; }`: the zone in the Prometheus text
 * exposition format (0.0.4), the sums of all workers.  A series that
 * never counted is left out.  Label values are names from the
 * configuration (tools, prompts, resource uris, upstreams), escaped as
 * the format says; nothing a client sent becomes a label value.
 */


#define NGX_HTTP_MCP_OUT_SIZE  8192


typedef struct {
    ngx_http_request_t         *r;
    ngx_chain_t                *first;
    ngx_chain_t               **last;
    ngx_buf_t                  *b;
} ngx_http_mcp_out_t;


typedef struct {
    ngx_str_t                  *kind;
    ngx_str_t                  *target;
    ngx_atomic_uint_t           calls[4];
} ngx_http_mcp_target_t;


static u_char *ngx_http_mcp_out_room(ngx_http_mcp_out_t *o, size_t n);
static ngx_int_t ngx_http_mcp_out_label(ngx_http_mcp_out_t *o, char *name,
    ngx_str_t *value);
static ngx_int_t ngx_http_mcp_out_histograms(ngx_http_mcp_out_t *o,
    ngx_http_mcp_metrics_sh_t *sh);
static ngx_int_t ngx_http_mcp_out_series(ngx_http_mcp_out_t *o,
    ngx_http_mcp_series_t *s, ngx_uint_t err);
static ngx_int_t ngx_http_mcp_out_labels(ngx_http_mcp_out_t *o,
    ngx_http_mcp_series_t *s, ngx_uint_t err);
static ngx_int_t ngx_http_mcp_out_requests(ngx_http_mcp_out_t *o,
    ngx_http_mcp_metrics_sh_t *sh);
static ngx_int_t ngx_http_mcp_out_calls(ngx_http_mcp_out_t *o,
    ngx_http_mcp_metrics_sh_t *sh);
static ngx_int_t ngx_http_mcp_out_others(ngx_http_mcp_out_t *o,
    ngx_http_mcp_metrics_sh_t *sh);
static ngx_int_t ngx_http_mcp_out_sessions(ngx_http_mcp_out_t *o,
    ngx_http_mcp_metrics_sh_t *sh);
static ngx_int_t ngx_http_mcp_out_session_series(ngx_http_mcp_out_t *o,
    ngx_http_mcp_sessions_sh_t *s, char *version);
static ngx_int_t ngx_http_mcp_out_conns(ngx_http_mcp_out_t *o,
    ngx_http_mcp_metrics_sh_t *sh);
static ngx_int_t ngx_http_mcp_out_labeled(ngx_http_mcp_out_t *o,
    ngx_http_mcp_metrics_sh_t *sh, ngx_uint_t event, char *head,
    char *name);


static ngx_int_t ngx_http_mcp_out(ngx_http_mcp_out_t *o,
    const char *fmt, ...);


static char  *ngx_http_mcp_call_outcomes[] = {
    "ok", "error", "timeout", "cancelled"
};

/* the revision of a session, the label's value; "": not known */
static char  *ngx_http_mcp_session_versions[NGX_HTTP_MCP_NSV] = {
    "", "2025-03-26", "2025-06-18", "2025-11-25"
};

static char  *ngx_http_mcp_conn_kinds[] = { "postgres", "redis" };

static char  *ngx_http_mcp_conn_states[NGX_HTTP_MCP_CONN_NSTATES] = {
    "connecting", "idle", "busy", "subscribed"
};


ngx_int_t
ngx_http_mcp_metrics_handler(ngx_http_request_t *r)
{
    off_t                        len;
    ngx_int_t                    rc;
    ngx_chain_t                 *cl;
    ngx_http_mcp_out_t           o;
    ngx_http_mcp_metrics_ctx_t  *ctx;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    ctx = ngx_http_mcp_metrics_ctx();

    if (ctx->sh == NULL) {
        return NGX_HTTP_NOT_FOUND;
    }

    ngx_memzero(&o, sizeof(ngx_http_mcp_out_t));
    o.r = r;
    o.last = &o.first;

    if (ngx_http_mcp_out_histograms(&o, ctx->sh) != NGX_OK
        || ngx_http_mcp_out_requests(&o, ctx->sh) != NGX_OK
        || ngx_http_mcp_out_calls(&o, ctx->sh) != NGX_OK
        || ngx_http_mcp_out_others(&o, ctx->sh) != NGX_OK
        || ngx_http_mcp_out_room(&o, 0) == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = 0;

    for (cl = o.first; cl; cl = cl->next) {
        len += cl->buf->last - cl->buf->pos;

        if (cl->next == NULL) {
            cl->buf->last_buf = (r == r->main);
            cl->buf->last_in_chain = 1;
        }
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = len;
    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, o.first);
}


/* the operation durations, by method, entry and success */

static ngx_int_t
ngx_http_mcp_out_histograms(ngx_http_mcp_out_t *o,
    ngx_http_mcp_metrics_sh_t *sh)
{
    ngx_uint_t              err;
    ngx_queue_t            *q;
    ngx_http_mcp_series_t  *s;

    if (ngx_http_mcp_out(o,
            "# HELP mcp_server_operation_duration_seconds The duration of "
            "MCP requests, from the request line to the answer.\n"
            "# TYPE mcp_server_operation_duration_seconds histogram\n")
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (q = ngx_queue_head(&sh->queue);
         q != ngx_queue_sentinel(&sh->queue);
         q = ngx_queue_next(q))
    {
        s = ngx_queue_data(q, ngx_http_mcp_series_t, queue);

        for (err = 0; err < 2; err++) {
            if (s->c.count[err]
                && ngx_http_mcp_out_series(o, s, err) != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_out_labels(ngx_http_mcp_out_t *o, ngx_http_mcp_series_t *s,
    ngx_uint_t err)
{
    char       *entry;
    ngx_str_t   type;

    if (ngx_http_mcp_out_label(o, "{mcp_method_name",
                               &ngx_http_mcp_metric_methods[s->method])
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (s->name.len) {
        entry = (s->method == 4) ? ",gen_ai_tool_name"
                : (s->method == 9) ? ",gen_ai_prompt_name"
                : ",mcp_resource_uri";

        if (ngx_http_mcp_out_label(o, entry, &s->name) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (err) {
        ngx_str_set(&type, "error");

    } else {
        ngx_str_null(&type);
    }

    return ngx_http_mcp_out_label(o, ",error_type", &type);
}


static ngx_int_t
ngx_http_mcp_out_series(ngx_http_mcp_out_t *o, ngx_http_mcp_series_t *s,
    ngx_uint_t err)
{
    ngx_uint_t         i;
    ngx_atomic_uint_t  n, sum;

    n = 0;

    for (i = 0; i < NGX_HTTP_MCP_NB; i++) {
        n += s->c.bucket[err][i];

        if (ngx_http_mcp_out(o, "mcp_server_operation_duration_seconds"
                                "_bucket") != NGX_OK
            || ngx_http_mcp_out_labels(o, s, err) != NGX_OK
            || ngx_http_mcp_out(o, ",le=\"%s\"} %uA\n",
                                ngx_http_mcp_les[i], n)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    n = s->c.count[err];
    sum = s->c.sum_us[err];

    if (ngx_http_mcp_out(o, "mcp_server_operation_duration_seconds_bucket")
        != NGX_OK
        || ngx_http_mcp_out_labels(o, s, err) != NGX_OK
        || ngx_http_mcp_out(o, ",le=\"+Inf\"} %uA\n", n) != NGX_OK
        || ngx_http_mcp_out(o, "mcp_server_operation_duration_seconds_sum")
           != NGX_OK
        || ngx_http_mcp_out_labels(o, s, err) != NGX_OK
        || ngx_http_mcp_out(o, "} %uA.%06uA\n", sum / 1000000, sum % 1000000)
           != NGX_OK
        || ngx_http_mcp_out(o, "mcp_server_operation_duration_seconds_count")
           != NGX_OK
        || ngx_http_mcp_out_labels(o, s, err) != NGX_OK
        || ngx_http_mcp_out(o, "} %uA\n", n) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* requests by method and outcome: the series of a method summed */

static ngx_int_t
ngx_http_mcp_out_requests(ngx_http_mcp_out_t *o,
    ngx_http_mcp_metrics_sh_t *sh)
{
    ngx_uint_t              m, k;
    ngx_queue_t            *q;
    ngx_atomic_uint_t       n[NGX_HTTP_MCP_NM][NGX_HTTP_MCP_NOUT];
    ngx_http_mcp_series_t  *s;

    ngx_memzero(n, sizeof(n));

    for (q = ngx_queue_head(&sh->queue);
         q != ngx_queue_sentinel(&sh->queue);
         q = ngx_queue_next(q))
    {
        s = ngx_queue_data(q, ngx_http_mcp_series_t, queue);

        for (k = 0; k < NGX_HTTP_MCP_NOUT; k++) {
            n[s->method][k] += s->c.outcome[k];
        }
    }

    if (ngx_http_mcp_out(o,
            "# HELP mcp_server_requests_total MCP requests answered, by "
            "method and outcome (ok, tool_error, or the JSON-RPC error "
            "code).\n"
            "# TYPE mcp_server_requests_total counter\n")
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (m = 0; m < NGX_HTTP_MCP_NM; m++) {
        for (k = 0; k < NGX_HTTP_MCP_NOUT; k++) {

            if (n[m][k] == 0) {
                continue;
            }

            if (ngx_http_mcp_out(o, "mcp_server_requests_total"
                                    "{mcp_method_name=\"%V\",outcome=\"%V\"}"
                                    " %uA\n",
                                 &ngx_http_mcp_metric_methods[m],
                                 &ngx_http_mcp_metric_outcomes[k], n[m][k])
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


/* backend calls by kind, target and outcome: entries with one target summed */

static ngx_int_t
ngx_http_mcp_out_calls(ngx_http_mcp_out_t *o, ngx_http_mcp_metrics_sh_t *sh)
{
    ngx_uint_t              i, k;
    ngx_array_t             targets;
    ngx_queue_t            *q;
    ngx_http_mcp_target_t  *t;
    ngx_http_mcp_series_t  *s;

    if (ngx_array_init(&targets, o->r->pool, 8,
                       sizeof(ngx_http_mcp_target_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (q = ngx_queue_head(&sh->queue);
         q != ngx_queue_sentinel(&sh->queue);
         q = ngx_queue_next(q))
    {
        s = ngx_queue_data(q, ngx_http_mcp_series_t, queue);

        if (s->kind.len == 0) {
            continue;
        }

        t = targets.elts;

        for (i = 0; i < targets.nelts; i++) {
            if (t[i].kind->len == s->kind.len
                && t[i].target->len == s->target.len
                && ngx_memcmp(t[i].kind->data, s->kind.data, s->kind.len)
                   == 0
                && (s->target.len == 0
                    || ngx_memcmp(t[i].target->data, s->target.data,
                                  s->target.len)
                       == 0))
            {
                break;
            }
        }

        if (i == targets.nelts) {
            t = ngx_array_push(&targets);
            if (t == NULL) {
                return NGX_ERROR;
            }

            ngx_memzero(t, sizeof(ngx_http_mcp_target_t));
            t->kind = &s->kind;
            t->target = &s->target;

        } else {
            t = &t[i];
        }

        for (k = 0; k < 4; k++) {
            t->calls[k] += s->c.calls[k];
        }
    }

    if (ngx_http_mcp_out(o,
            "# HELP mcp_backend_calls_total Calls of backends, by kind "
            "(static, pass, postgres, redis), upstream and outcome.\n"
            "# TYPE mcp_backend_calls_total counter\n")
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    t = targets.elts;

    for (i = 0; i < targets.nelts; i++) {
        for (k = 0; k < 4; k++) {

            if (t[i].calls[k] == 0) {
                continue;
            }

            if (ngx_http_mcp_out_label(o, "mcp_backend_calls_total{kind",
                                       t[i].kind)
                != NGX_OK
                || ngx_http_mcp_out_label(o, ",upstream", t[i].target)
                   != NGX_OK
                || ngx_http_mcp_out(o, ",outcome=\"%s\"} %uA\n",
                                    ngx_http_mcp_call_outcomes[k],
                                    t[i].calls[k])
                   != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_out_others(ngx_http_mcp_out_t *o, ngx_http_mcp_metrics_sh_t *sh)
{
    ngx_uint_t  i;

    if (ngx_http_mcp_out(o,
            "# HELP mcp_http_responses_total Responses of MCP endpoints, "
            "by HTTP status.\n"
            "# TYPE mcp_http_responses_total counter\n")
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 100; i < 600; i++) {
        if (sh->http[i]
            && ngx_http_mcp_out(o, "mcp_http_responses_total{code=\"%ui\"} "
                                   "%uA\n", i, sh->http[i])
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (ngx_http_mcp_out(o,
        "# HELP mcp_server_streams_open SSE streams open now.\n"
        "# TYPE mcp_server_streams_open gauge\n"
        "mcp_server_streams_open %A\n"
        "# HELP mcp_audit_dropped_total Audit records (or buffered writes "
        "of them) lost.\n"
        "# TYPE mcp_audit_dropped_total counter\n"
        "mcp_audit_dropped_total %uA\n",
        (ngx_atomic_int_t) sh->streams, sh->audit_dropped)
        != NGX_OK
        || ngx_http_mcp_out_sessions(o, sh) != NGX_OK
        || ngx_http_mcp_out_conns(o, sh) != NGX_OK
        || ngx_http_mcp_out_labeled(o, sh, NGX_HTTP_MCP_EVENT_AUTH_FAILURE,
               "# HELP mcp_auth_failures_total Callers refused, by reason "
               "(missing_credentials, invalid_token, insufficient_scope).\n"
               "# TYPE mcp_auth_failures_total counter\n",
               "mcp_auth_failures_total{reason")
           != NGX_OK
        || ngx_http_mcp_out_labeled(o, sh, NGX_HTTP_MCP_EVENT_LIMIT_REFUSAL,
               "# HELP mcp_limit_refusals_total Requests refused by a rate "
               "limit or a quota, by zone.\n"
               "# TYPE mcp_limit_refusals_total counter\n",
               "mcp_limit_refusals_total{zone")
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The sessions alive in each shm store (the store counts them; Redis
 * sessions end by their time to live, unseen: not shown), and how long
 * the sessions that ended lasted
 */

static ngx_int_t
ngx_http_mcp_out_sessions(ngx_http_mcp_out_t *o,
    ngx_http_mcp_metrics_sh_t *sh)
{
    ngx_uint_t                   i, v;
    ngx_array_t                 *a;
    ngx_http_mcp_sessions_t     *z;

    a = ngx_http_mcp_sessions_active(o->r->pool);
    if (a == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_mcp_out(o,
            "# HELP mcp_server_sessions_active Sessions alive now, in each "
            "shared memory session store.\n"
            "# TYPE mcp_server_sessions_active gauge\n")
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    z = a->elts;

    for (i = 0; i < a->nelts; i++) {
        if (ngx_http_mcp_out_label(o, "mcp_server_sessions_active"
                                      "{store=\"shm\",zone", &z[i].zone)
            != NGX_OK
            || ngx_http_mcp_out(o, "} %ui\n", z[i].active) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (ngx_http_mcp_out(o,
            "# HELP mcp_server_session_duration_seconds How long sessions "
            "lasted, from initialize to their DELETE, idle expiry or "
            "eviction.\n"
            "# TYPE mcp_server_session_duration_seconds histogram\n")
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (v = 0; v < NGX_HTTP_MCP_NSV; v++) {
        if (sh->sessions[v].count
            && ngx_http_mcp_out_session_series(o, &sh->sessions[v],
                                               ngx_http_mcp_session_versions[v])
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_out_session_series(ngx_http_mcp_out_t *o,
    ngx_http_mcp_sessions_sh_t *s, char *version)
{
    ngx_uint_t         i;
    ngx_atomic_uint_t  n;

    n = 0;

    for (i = 0; i < NGX_HTTP_MCP_NSB; i++) {
        n += s->bucket[i];

        if (ngx_http_mcp_out(o, "mcp_server_session_duration_seconds_bucket"
                                "{mcp_protocol_version=\"%s\",le=\"%s\"} "
                                "%uA\n",
                             version, ngx_http_mcp_session_les[i], n)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    n = s->count;

    return ngx_http_mcp_out(o,
               "mcp_server_session_duration_seconds_bucket"
               "{mcp_protocol_version=\"%s\",le=\"+Inf\"} %uA\n"
               "mcp_server_session_duration_seconds_sum"
               "{mcp_protocol_version=\"%s\"} %uA.%03uA\n"
               "mcp_server_session_duration_seconds_count"
               "{mcp_protocol_version=\"%s\"} %uA\n",
               version, n, version, s->sum_ms / 1000, s->sum_ms % 1000,
               version, n);
}


/*
 * Pooled connections by upstream, kind and state: the slots of every
 * worker of every generation summed by the names each generation gave
 * its upstreams (a reload may number them otherwise)
 */

static ngx_int_t
ngx_http_mcp_out_conns(ngx_http_mcp_out_t *o, ngx_http_mcp_metrics_sh_t *sh)
{
    ngx_str_t                 name;
    ngx_uint_t                g, w, u, k, i, nsum;
    ngx_atomic_int_t          v;
    ngx_http_mcp_ups_t       *ups, *sum[NGX_HTTP_MCP_NGEN * NGX_HTTP_MCP_NUPS];
    ngx_atomic_int_t          n[NGX_HTTP_MCP_NGEN * NGX_HTTP_MCP_NUPS]
                               [NGX_HTTP_MCP_CONN_NSTATES];
    ngx_http_mcp_conns_sh_t  *c;

    c = &sh->conns;
    nsum = 0;
    ngx_memzero(n, sizeof(n));

    for (g = 0; g < NGX_HTTP_MCP_NGEN; g++) {
        for (u = 0; u < NGX_HTTP_MCP_NUPS; u++) {

            ups = &c->ups[g][u];

            if (ups->len == 0) {
                continue;
            }

            for (i = 0; i < nsum; i++) {
                if (sum[i]->kind == ups->kind && sum[i]->len == ups->len
                    && ngx_memcmp(sum[i]->name, ups->name, ups->len) == 0)
                {
                    break;
                }
            }

            if (i == nsum) {
                sum[nsum++] = ups;
            }

            for (w = 0; w < NGX_HTTP_MCP_NWORKERS; w++) {
                for (k = 0; k < NGX_HTTP_MCP_CONN_NSTATES; k++) {
                    n[i][k] += (ngx_atomic_int_t) c->n[g][w][u][k];
                }
            }
        }
    }

    if (ngx_http_mcp_out(o,
            "# HELP mcp_upstream_connections Pooled connections of all "
            "workers, by upstream, kind and state.\n"
            "# TYPE mcp_upstream_connections gauge\n")
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < nsum; i++) {

        name.data = sum[i]->name;
        name.len = sum[i]->len;

        for (k = 0; k < NGX_HTTP_MCP_CONN_NSTATES; k++) {

            /* subscribed is Redis's alone */

            if (k == NGX_HTTP_MCP_CONN_SUBSCRIBED - 1
                && sum[i]->kind != NGX_HTTP_MCP_CONN_REDIS)
            {
                continue;
            }

            /* a worker that died mid-change may leave a slot below zero */

            v = ngx_max(n[i][k], 0);

            if (ngx_http_mcp_out_label(o, "mcp_upstream_connections"
                                          "{upstream", &name)
                != NGX_OK
                || ngx_http_mcp_out(o, ",kind=\"%s\",state=\"%s\"} %A\n",
                                    ngx_http_mcp_conn_kinds[sum[i]->kind],
                                    ngx_http_mcp_conn_states[k], v)
                   != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_out_labeled(ngx_http_mcp_out_t *o, ngx_http_mcp_metrics_sh_t *sh,
    ngx_uint_t event, char *head, char *name)
{
    ngx_str_t                label;
    ngx_uint_t               i;
    ngx_http_mcp_labeled_t  *l;

    if (ngx_http_mcp_out(o, "%s", head) != NGX_OK) {
        return NGX_ERROR;
    }

    l = sh->labeled;

    for (i = 0; i < NGX_HTTP_MCP_NLABELS && l[i].len; i++) {

        if (l[i].event != event) {
            continue;
        }

        label.data = l[i].label;
        label.len = l[i].len;

        if (ngx_http_mcp_out_label(o, name, &label) != NGX_OK
            || ngx_http_mcp_out(o, "} %uA\n", l[i].count) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* name="value", the value escaped: \ " and new lines */

static ngx_int_t
ngx_http_mcp_out_label(ngx_http_mcp_out_t *o, char *name, ngx_str_t *value)
{
    u_char  *p, c;
    size_t   i;

    p = ngx_http_mcp_out_room(o, ngx_strlen(name) + 3 + 2 * value->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(p, name, ngx_strlen(name));
    *p++ = '=';
    *p++ = '"';

    for (i = 0; i < value->len; i++) {
        c = value->data[i];

        if (c == '\\' || c == '"') {
            *p++ = '\\';
            *p++ = c;

        } else if (c == '\n') {
            *p++ = '\\';
            *p++ = 'n';

        } else {
            *p++ = c;
        }
    }

    *p++ = '"';
    o->b->last = p;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_out(ngx_http_mcp_out_t *o, const char *fmt, ...)
{
    u_char   *p, buf[2048];
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    if (ngx_http_mcp_out_room(o, p - buf) == NULL) {
        return NGX_ERROR;
    }

    o->b->last = ngx_cpymem(o->b->last, buf, p - buf);

    return NGX_OK;
}


/* n bytes at o->b->last (a new buffer when it has no room) */

static u_char *
ngx_http_mcp_out_room(ngx_http_mcp_out_t *o, size_t n)
{
    ngx_chain_t  *cl;

    if (o->b && (size_t) (o->b->end - o->b->last) >= n && o->first) {
        return o->b->last;
    }

    cl = ngx_alloc_chain_link(o->r->pool);
    if (cl == NULL) {
        return NULL;
    }

    cl->buf = ngx_create_temp_buf(o->r->pool,
                                  ngx_max(n, NGX_HTTP_MCP_OUT_SIZE));
    if (cl->buf == NULL) {
        return NULL;
    }

    cl->next = NULL;
    *o->last = cl;
    o->last = &cl->next;
    o->b = cl->buf;

    return o->b->last;
}
