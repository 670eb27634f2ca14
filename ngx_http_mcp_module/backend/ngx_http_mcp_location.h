
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_LOCATION_H_INCLUDED_
#define _NGX_HTTP_MCP_LOCATION_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "json/ngx_http_mcp_json.h"


/* `pass URI [timeout=TIME] [max_size=SIZE];`: a location answers the call */

typedef struct {
    ngx_str_t                   uri;
    ngx_msec_t                  timeout;     /* NGX_CONF_UNSET_MSEC: none */
    size_t                      max_size;    /* NGX_CONF_UNSET_SIZE: none */
} ngx_http_mcp_location_t;


#define NGX_HTTP_MCP_ABORT_TIMEOUT  1
#define NGX_HTTP_MCP_ABORT_CANCEL   2


/*
 * An event line of an application/x-ndjson answer ({"progress":..} or
 * {"log":{..}}): *out is what to send to the client now (empty: nothing),
 * allocated from pool, which is reset for the next line.
 */
typedef ngx_int_t (*ngx_http_mcp_location_event_pt)(void *data,
    ngx_http_mcp_json_t *event, ngx_pool_t *pool, ngx_str_t *out);


/* one call in flight: what the subrequest answered */

typedef struct {
    ngx_http_mcp_location_t    *loc;
    ngx_http_request_t         *sr;
    ngx_uint_t                  status;      /* 0: no answer */
    ngx_str_t                   type;        /* Content-Type, no parameters */
    ngx_str_t                   body;

    /* the answer, as the body filter takes it */
    ngx_http_mcp_location_event_pt  event;
    void                       *event_data;
    u_char                     *data;        /* unparsed or collected */
    size_t                      len;
    size_t                      size;
    size_t                      scanned;     /* of data: searched, no LF */
    ngx_str_t                   result;      /* the NDJSON result line */
    size_t                      result_size;
    ngx_pool_t                 *scratch;     /* one line's parse */
    ngx_chain_t                *free;        /* event buffers to reuse */
    ngx_chain_t                *busy;

    ngx_msec_t                  max_age;     /* Cache-Control, or 0 */
    ngx_str_t                   id;          /* X-MCP-Request-Id */
    ngx_msec_t                  timeout;     /* what it was given */
    size_t                      max_size;

    unsigned                    aborted:2;   /* NGX_HTTP_MCP_ABORT_* */
    unsigned                    done:1;
    unsigned                    checked:1;
    unsigned                    complete:1;  /* the last buffer came */
    unsigned                    ndjson:1;
    unsigned                    too_big:1;
    unsigned                    private:1;   /* Cache-Control: private */
} ngx_http_mcp_location_op_t;


/* the body filter that takes the answers (location_stream.c) */
ngx_int_t ngx_http_mcp_location_init(ngx_conf_t *cf);

/* `pass URI [timeout=TIME] [max_size=SIZE]` at configuration: value[1..n] */
char *ngx_http_mcp_location_conf(ngx_conf_t *cf, ngx_str_t *value,
    ngx_uint_t n, ngx_http_mcp_location_t **loc);

/* what the location is told about the call */

typedef struct {
    ngx_str_t                   body;        /* the JSON it receives */
    ngx_keyval_t                item;        /* X-MCP-Tool: NAME, ... */
    ngx_http_mcp_json_t        *id;          /* the JSON-RPC id */
    ngx_str_t                   session;     /* empty without one */
    size_t                      max_size;    /* the answer's cap */

    /* set when events may go to the client before the result */
    ngx_http_mcp_location_event_pt  event;
    void                       *event_data;
} ngx_http_mcp_location_call_t;


/*
 * Starts a POST subrequest to the location with call->body; the headers
 * are the client's (without its own body's) plus call->item,
 * X-MCP-Request-Id and X-MCP-Session-Id.  The answer is kept in memory, up
 * to call->max_size bytes; op->done is set when it is complete, and nginx
 * then posts the parent request.  NULL on failure.
 */
ngx_http_mcp_location_op_t *ngx_http_mcp_location_start(
    ngx_http_request_t *r, ngx_http_mcp_location_t *loc,
    ngx_http_mcp_location_call_t *call);

/* stops a call in flight (why: NGX_HTTP_MCP_ABORT_*); see the source */
ngx_int_t ngx_http_mcp_location_abort(ngx_http_mcp_location_op_t *op,
    ngx_uint_t why);

/* the answer is a 2xx one, and complete */
ngx_uint_t ngx_http_mcp_location_ok(ngx_http_mcp_location_op_t *op);

/*
 * Why a call failed, as a text for an isError result or a JSON-RPC error;
 * `what` is "tool", "resource" or "prompt".
 */
ngx_int_t ngx_http_mcp_location_fault(ngx_http_mcp_location_op_t *op,
    char *what, ngx_pool_t *pool, ngx_str_t *text);

/*
 * The CallToolResult members (no braces) for what the location answered:
 * a CallToolResult or any JSON, text, an image or audio, or a failure as
 * a result with isError.  `object_only` (the 2025 revisions):
 * structuredContent must be an object, and input_required results cannot
 * be delivered; otherwise *input_required tells of one.  A "_meta" object
 * of the backend's result is left out and returned in *meta.
 */
ngx_int_t ngx_http_mcp_location_result(ngx_http_mcp_location_op_t *op,
    ngx_pool_t *pool, ngx_uint_t object_only, ngx_http_mcp_jw_t *jw,
    ngx_uint_t *input_required, ngx_http_mcp_json_t **meta);

/*
 * `"contents":[{..}]` of a ReadResourceResult for resource `uri`, typed by
 * the answer's Content-Type, else `mime`.  NGX_DECLINED: the call failed.
 */
ngx_int_t ngx_http_mcp_location_contents(ngx_http_mcp_location_op_t *op,
    ngx_str_t *uri, ngx_str_t *mime, ngx_http_mcp_jw_t *jw);

/*
 * The GetPromptResult members; `description` (a JSON string) unless the
 * answer has its own.  NGX_DECLINED with the reason in *err.
 */
ngx_int_t ngx_http_mcp_location_messages(ngx_http_mcp_location_op_t *op,
    ngx_pool_t *pool, ngx_str_t *description, ngx_http_mcp_jw_t *jw,
    ngx_http_mcp_json_t **meta, ngx_str_t *err);


/*
 * Between location.c and location_stream.c: the subrequest's completion
 * handler (the body filter knows its calls by it), and the end of an NDJSON
 * answer (its last line, then its result line as the body).
 */
ngx_int_t ngx_http_mcp_location_done(ngx_http_request_t *sr, void *data,
    ngx_int_t rc);
void ngx_http_mcp_location_ndjson(ngx_http_request_t *sr,
    ngx_http_mcp_location_op_t *op);


#endif /* _NGX_HTTP_MCP_LOCATION_H_INCLUDED_ */
