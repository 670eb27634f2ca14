
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_LOCATION_H_INCLUDED_
#define _NGX_HTTP_MCP_LOCATION_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "protocol/ngx_http_mcp_json.h"


/* `pass URI;` of a tool: any nginx location answers the call */

typedef struct {
    ngx_str_t                   uri;
} ngx_http_mcp_location_t;


/*
 * An event line of an application/x-ndjson answer ({"progress":..} or
 * {"log":{..}}): *out is what to send to the client now, or NULL.
 */
typedef ngx_int_t (*ngx_http_mcp_location_event_pt)(void *data,
    ngx_http_mcp_json_t *event, ngx_chain_t **out);


/* one call in flight: what the subrequest answered */

typedef struct {
    ngx_http_mcp_location_t    *loc;
    ngx_http_request_t         *sr;
    ngx_uint_t                  status;      /* 0: no answer */
    ngx_str_t                   type;        /* Content-Type, no parameters */
    ngx_str_t                   body;

    /* streamed calls: the answer passes through a body filter */
    ngx_http_mcp_location_event_pt  event;
    void                       *event_data;
    u_char                     *data;        /* unparsed or collected */
    size_t                      len;
    size_t                      size;
    ngx_str_t                   result;      /* the NDJSON result line */

    unsigned                    done:1;
    unsigned                    checked:1;
    unsigned                    ndjson:1;
    unsigned                    too_big:1;
} ngx_http_mcp_location_op_t;


/* the body filter that streams application/x-ndjson answers */
ngx_int_t ngx_http_mcp_location_init(ngx_conf_t *cf);

/* `pass URI` at configuration time */
char *ngx_http_mcp_location_conf(ngx_conf_t *cf, ngx_str_t *uri,
    ngx_http_mcp_location_t **loc);

/* what the location is told about the call */

typedef struct {
    ngx_str_t                   name;
    ngx_http_mcp_json_t        *arguments;   /* validated; NULL: {} */
    ngx_http_mcp_json_t        *id;          /* the JSON-RPC id */
    ngx_str_t                   session;     /* empty without one */

    /* set when events may go to the client before the result */
    ngx_http_mcp_location_event_pt  event;
    void                       *event_data;
} ngx_http_mcp_location_call_t;


/*
 * Starts a POST subrequest to the location: the body is
 * {"name":..,"arguments":{..}}, the headers are the client's (without its
 * own body's) plus X-MCP-Tool, X-MCP-Request-Id and X-MCP-Session-Id.
 * The answer is kept in memory; op->done is set when it is complete, and
 * nginx then posts the parent request.  NULL on failure.
 */
ngx_http_mcp_location_op_t *ngx_http_mcp_location_start(
    ngx_http_request_t *r, ngx_http_mcp_location_t *loc,
    ngx_http_mcp_location_call_t *call);

/*
 * The CallToolResult members (no braces) for what the location answered:
 * a CallToolResult or any JSON, text, an image or audio, or an HTTP error
 * as a result with isError.  `object_only` (the 2025 revisions):
 * structuredContent must be an object, and input_required results cannot
 * be delivered; otherwise *input_required tells of one.  A "_meta" object
 * of the backend's result is left out and returned in *meta.
 */
ngx_int_t ngx_http_mcp_location_result(ngx_http_mcp_location_op_t *op,
    ngx_pool_t *pool, ngx_uint_t object_only, ngx_http_mcp_jw_t *jw,
    ngx_uint_t *input_required, ngx_http_mcp_json_t **meta);


#endif /* _NGX_HTTP_MCP_LOCATION_H_INCLUDED_ */
