
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_HTTP_H_INCLUDED_
#define _NGX_HTTP_MCP_HTTP_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "protocol/ngx_http_mcp_dispatch.h"
#include "state/ngx_http_mcp_session.h"
#include "state/ngx_http_mcp_mailbox.h"
#include "transport/ngx_http_mcp_sse.h"


#define NGX_HTTP_MCP_NOT_ACCEPTABLE  406      /* not in nginx 1.22 */

#define NGX_HTTP_MCP_ACCEPT_JSON  0x01
#define NGX_HTTP_MCP_ACCEPT_SSE   0x02


typedef struct ngx_http_mcp_flight_s  ngx_http_mcp_flight_t;
typedef struct ngx_http_mcp_stream_s  ngx_http_mcp_stream_t;
typedef struct ngx_http_mcp_resume_s  ngx_http_mcp_resume_t;


/* the state of one POST to an mcp_pass location */

typedef struct {
    ngx_uint_t                  accept;       /* NGX_HTTP_MCP_ACCEPT_* */
    ngx_http_mcp_exchange_t     x;            /* lives as long as a call */
    ngx_http_mcp_json_t        *id;           /* the request's, for errors */
    ngx_http_mcp_session_t      session;
    ngx_http_mcp_flight_t      *flight;       /* a backend call in flight */
    ngx_http_mcp_sse_t          stream;       /* once an event is sent */
    ngx_http_mcp_stream_t      *get;          /* a GET stream's state */
    ngx_http_mcp_resume_t      *resume;       /* a resumable stream's */
    unsigned                    sse:1;        /* an event stream started */
} ngx_http_mcp_ctx_t;


/*
 * Host and Origin against loopback names and mcp_allowed_hosts /
 * mcp_allowed_origins: NGX_OK, or NGX_DECLINED for 403
 */
ngx_int_t ngx_http_mcp_check_peer(ngx_http_request_t *r,
    ngx_http_mcp_loc_conf_t *mlcf);

/* the first request header of that lowercase name, or NULL */
ngx_table_elt_t *ngx_http_mcp_find_header(ngx_http_request_t *r,
    u_char *name, size_t len);

/* what Accept allows, NGX_HTTP_MCP_ACCEPT_*; 0: neither (406) */
ngx_uint_t ngx_http_mcp_accept(ngx_http_request_t *r);

/* Content-Type is application/json */
ngx_uint_t ngx_http_mcp_json_content(ngx_http_request_t *r);

/* MCP-Protocol-Version, Mcp-Method, Mcp-Name, Mcp-Session-Id, Mcp-Param-* */
void ngx_http_mcp_read_headers(ngx_http_request_t *r,
    ngx_http_mcp_exchange_t *x);
/* the same for one header (lowcase_key set); x->pool for Mcp-Param-* */
void ngx_http_mcp_read_header(ngx_table_elt_t *h, ngx_http_mcp_exchange_t *x);

/*
 * transport's init_process hook (ngx_http_mcp_module.c calls it): the
 * letters of the workers' mailbox cancel this worker's calls
 */
ngx_int_t ngx_http_mcp_transport_init_process(ngx_cycle_t *cycle);

/* the content handler of an `mcp_pass` location */
ngx_int_t ngx_http_mcp_handler(ngx_http_request_t *r);

/* a GET: the session's standalone stream (ngx_http_mcp_stream.c) */
ngx_int_t ngx_http_mcp_get(ngx_http_request_t *r,
    ngx_http_mcp_loc_conf_t *mlcf);

/* an EVENT letter: for a stream this worker's client resumes */
void ngx_http_mcp_stream_event(ngx_http_mcp_letter_t *letter);
/*
 * the request body read whole, as one piece of memory (in place when it
 * is one buffer): NGX_OK (empty without one) or an HTTP status
 */
ngx_int_t ngx_http_mcp_read_body(ngx_http_request_t *r, ngx_str_t *body);

/* a transport-level error with a JSON-RPC error body */
ngx_int_t ngx_http_mcp_fail(ngx_http_request_t *r, ngx_uint_t status,
    struct ngx_http_mcp_json_s *id, ngx_int_t code, char *message,
    ngx_str_t *why);

/* the session store cannot be reached now: 503, try again in a second */
ngx_int_t ngx_http_mcp_store_busy(ngx_http_request_t *r,
    struct ngx_http_mcp_json_s *id);

/* a store operation answered NGX_AGAIN: the request waits (NGX_DONE) */
ngx_int_t ngx_http_mcp_store_wait(ngx_http_request_t *r);

/* after a step a store's answer ran: the one finalize, posted requests */
void ngx_http_mcp_store_resume(ngx_http_request_t *r, ngx_int_t rc);

/*
 * One JSON-RPC message as the whole response: a JSON body, or one SSE
 * event for a client that accepts only text/event-stream.
 */
ngx_int_t ngx_http_mcp_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *body);

/* a whole response from memory of the request pool; no body: NULL */
ngx_int_t ngx_http_mcp_send_body(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, ngx_str_t *body);

ngx_int_t ngx_http_mcp_add_header(ngx_http_request_t *r, char *name,
    u_char *value, size_t len);

/*
 * The POST's event stream (ngx_http_mcp_resume.c): a call of a
 * 2025-11-25 session gets a resumable one; it starts once; each message
 * goes through post_event, last: the response (then the request ends with
 * what it returns)
 */
ngx_int_t ngx_http_mcp_post_resumable(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx);
ngx_int_t ngx_http_mcp_post_stream(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx);
ngx_int_t ngx_http_mcp_post_event(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx, ngx_str_t *message, ngx_uint_t last);
/* whether the stream was detached from the client: NGX_OK or 499 to end */
ngx_int_t ngx_http_mcp_post_detached(ngx_http_mcp_ctx_t *ctx);


#endif /* _NGX_HTTP_MCP_HTTP_H_INCLUDED_ */
