
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "transport/ngx_http_mcp_http.h"
#include "transport/ngx_http_mcp_sse.h"
#include "observe/ngx_http_mcp_metrics.h"


#define NGX_HTTP_MCP_SSE_EVENT  "event: message" CRLF
#define NGX_HTTP_MCP_SSE_ID     "id: "
#define NGX_HTTP_MCP_SSE_DATA   "data: "
#define NGX_HTTP_MCP_SSE_PING_COMMENT  ": keep-alive" CRLF CRLF


static ngx_int_t ngx_http_mcp_sse_write(ngx_http_mcp_sse_t *s,
    ngx_str_t *id, ngx_str_t *message, ngx_str_t *fields, ngx_uint_t last);
static void ngx_http_mcp_sse_ping(ngx_event_t *ev);
static void ngx_http_mcp_sse_cleanup(void *data);


ngx_int_t
ngx_http_mcp_sse_start(ngx_http_mcp_sse_t *s, ngx_http_request_t *r)
{
    ngx_int_t                 rc;
    ngx_pool_cleanup_t       *cln;
    ngx_http_mcp_loc_conf_t  *mlcf;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = -1;
    ngx_str_set(&r->headers_out.content_type, "text/event-stream");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    if (ngx_http_mcp_add_header(r, "Cache-Control", (u_char *) "no-cache",
                                sizeof("no-cache") - 1)
        != NGX_OK
        || ngx_http_mcp_add_header(r, "X-Accel-Buffering", (u_char *) "no",
                                   sizeof("no") - 1)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK) {
        return (rc > NGX_OK) ? rc : NGX_ERROR;
    }

    s->request = r;
    s->started = 1;

    cln->handler = ngx_http_mcp_sse_cleanup;
    cln->data = s;

    ngx_http_mcp_metrics_stream(1);

    s->ping.handler = ngx_http_mcp_sse_ping;
    s->ping.data = s;
    s->ping.log = r->connection->log;
    s->ping.cancelable = 1;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);
    s->keepalive = mlcf->sse_keepalive;

    ngx_add_timer(&s->ping, s->keepalive);

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mcp sse: stream started");

    return NGX_OK;
}


ngx_int_t
ngx_http_mcp_sse_send(ngx_http_mcp_sse_t *s, ngx_str_t *id,
    ngx_str_t *message, ngx_uint_t last)
{
    if (s->ended) {
        return NGX_OK;
    }

    if (s->ping.timer_set) {
        ngx_del_timer(&s->ping);
    }

    if (!last) {
        ngx_add_timer(&s->ping, s->keepalive);
    }

    return ngx_http_mcp_sse_write(s, id, message, NULL, last);
}


ngx_int_t
ngx_http_mcp_sse_fields(ngx_http_mcp_sse_t *s, ngx_str_t *fields,
    ngx_uint_t last)
{
    if (s->ended) {
        return NGX_OK;
    }

    if (last && s->ping.timer_set) {
        ngx_del_timer(&s->ping);
    }

    return ngx_http_mcp_sse_write(s, NULL, NULL, fields, last);
}


ngx_int_t
ngx_http_mcp_sse_end(ngx_http_mcp_sse_t *s)
{
    if (s->ended) {
        return NGX_OK;
    }

    if (s->ping.timer_set) {
        ngx_del_timer(&s->ping);
    }

    return ngx_http_mcp_sse_write(s, NULL, NULL, NULL, 1);
}


/*
 * Into a free buffer big enough, else a new one; through the request that
 * may write now (a subrequest while a backend runs as one).
 */

static ngx_int_t
ngx_http_mcp_sse_write(ngx_http_mcp_sse_t *s, ngx_str_t *id,
    ngx_str_t *message, ngx_str_t *fields, ngx_uint_t last)
{
    size_t               size;
    ngx_int_t            rc;
    ngx_buf_t           *b;
    ngx_chain_t         *cl;
    ngx_http_request_t  *r, *w;

    r = s->request;

    cl = ngx_chain_get_free_buf(r->pool, &s->free);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    b = cl->buf;

    size = message ? ngx_http_mcp_sse_size(id, message)
                   : fields ? fields->len
                            : sizeof(NGX_HTTP_MCP_SSE_PING_COMMENT) - 1;

    if ((size_t) (b->end - b->start) < size) {
        b->start = ngx_palloc(r->pool, ngx_max(size, 512));
        if (b->start == NULL) {
            return NGX_ERROR;
        }

        b->end = b->start + ngx_max(size, 512);
    }

    b->pos = b->start;

    if (message) {
        b->last = ngx_http_mcp_sse_frame(b->start, id, message);

    } else if (fields) {
        b->last = ngx_cpymem(b->start, fields->data, fields->len);

    } else if (last) {
        b->last = b->start;              /* the end, nothing more */

    } else {
        b->last = ngx_cpymem(b->start, NGX_HTTP_MCP_SSE_PING_COMMENT,
                             sizeof(NGX_HTTP_MCP_SSE_PING_COMMENT) - 1);
    }

    b->temporary = (b->last != b->pos);
    b->flush = 1;
    b->last_buf = last;
    b->last_in_chain = 1;
    b->tag = (ngx_buf_tag_t) &ngx_http_mcp_module;

    if (last) {
        s->ended = 1;
    }

    w = r->connection->data;

    if (w == NULL || w->main != r) {
        w = r;
    }

    rc = ngx_http_output_filter(w, cl);

    ngx_chain_update_chains(r->pool, &s->free, &s->busy, &cl,
                            (ngx_buf_tag_t) &ngx_http_mcp_module);

    return rc;
}


ngx_int_t
ngx_http_mcp_sse_reply(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *message)
{
    u_char       *p;
    size_t        size;
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    size = ngx_http_mcp_sse_size(NULL, message);

    p = ngx_pnalloc(r->pool, size);
    b = ngx_calloc_buf(r->pool);

    if (p == NULL || b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = p;
    b->last = ngx_http_mcp_sse_frame(p, NULL, message);
    b->memory = 1;
    b->flush = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    if (ngx_http_mcp_add_header(r, "Cache-Control", (u_char *) "no-cache",
                                sizeof("no-cache") - 1)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = status;
    r->headers_out.content_length_n = size;
    ngx_str_set(&r->headers_out.content_type, "text/event-stream");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, &out);
}


size_t
ngx_http_mcp_sse_size(ngx_str_t *id, ngx_str_t *message)
{
    return sizeof(NGX_HTTP_MCP_SSE_EVENT) - 1
           + (id ? sizeof(NGX_HTTP_MCP_SSE_ID) - 1 + id->len + 2 : 0)
           + sizeof(NGX_HTTP_MCP_SSE_DATA) - 1 + message->len
           + sizeof(CRLF CRLF) - 1;
}


/* "event: message\r\n[id: ID\r\n]data: MESSAGE\r\n\r\n" (one line of JSON) */

u_char *
ngx_http_mcp_sse_frame(u_char *p, ngx_str_t *id, ngx_str_t *message)
{
    p = ngx_cpymem(p, NGX_HTTP_MCP_SSE_EVENT,
                   sizeof(NGX_HTTP_MCP_SSE_EVENT) - 1);

    if (id) {
        p = ngx_cpymem(p, NGX_HTTP_MCP_SSE_ID, sizeof(NGX_HTTP_MCP_SSE_ID) - 1);
        p = ngx_cpymem(p, id->data, id->len);
        *p++ = CR; *p++ = LF;
    }

    p = ngx_cpymem(p, NGX_HTTP_MCP_SSE_DATA,
                   sizeof(NGX_HTTP_MCP_SSE_DATA) - 1);
    p = ngx_cpymem(p, message->data, message->len);

    return ngx_cpymem(p, CRLF CRLF, sizeof(CRLF CRLF) - 1);
}


/* a quiet stream: a comment keeps proxies and clients from timing out */

static void
ngx_http_mcp_sse_ping(ngx_event_t *ev)
{
    ngx_http_mcp_sse_t *s = ev->data;

    ngx_connection_t  *c;

    c = s->request->connection;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0, "mcp sse: keep-alive");

    if (ngx_http_mcp_sse_write(s, NULL, NULL, NULL, 0) != NGX_ERROR) {
        ngx_add_timer(&s->ping, s->keepalive);
    }

    ngx_http_run_posted_requests(c);
}


static void
ngx_http_mcp_sse_cleanup(void *data)
{
    ngx_http_mcp_sse_t *s = data;

    ngx_http_mcp_metrics_stream(-1);

    if (s->ping.timer_set) {
        ngx_del_timer(&s->ping);
    }
}
