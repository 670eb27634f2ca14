
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_LOCATION_H_INCLUDED_
#define _NGX_HTTP_MCP_LOCATION_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "backend/ngx_http_mcp_backend.h"


/*
 * The location backend, `pass URI [timeout=TIME] [max_size=SIZE];`: an
 * nginx location answers the call as a subrequest (docs/BACKENDS.md).
 * Internal to backend/ngx_http_mcp_location{,_stream,_map}.c; the rest of
 * the module sees only ngx_http_mcp_location_backend.
 */


extern ngx_http_mcp_backend_t  ngx_http_mcp_location_backend;


typedef struct {
    ngx_str_t                   uri;
    ngx_str_t                   origin;      /* "nginx:" URI, for results */
} ngx_http_mcp_location_t;


/* one call in flight: what the subrequest answered */

typedef struct {
    ngx_http_mcp_bcall_t       *bc;
    ngx_http_mcp_location_t    *loc;
    ngx_http_request_t         *sr;
    ngx_uint_t                  status;      /* 0: no answer */
    ngx_str_t                   type;        /* Content-Type, no parameters */
    ngx_str_t                   body;

    /* the answer, as the body filter takes it */
    u_char                     *data;        /* unparsed or collected */
    size_t                      len;
    size_t                      size;
    size_t                      scanned;     /* of data: searched, no LF */
    ngx_str_t                   result;      /* the NDJSON result line */
    size_t                      result_size;
    ngx_pool_t                 *scratch;     /* one line's parse */

    ngx_msec_t                  max_age;     /* Cache-Control, or 0 */

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

/*
 * The subrequest's completion handler (the body filter knows its calls by
 * it), and the end of an NDJSON answer (its last line, then its result
 * line as the body).
 */
ngx_int_t ngx_http_mcp_location_done(ngx_http_request_t *sr, void *data,
    ngx_int_t rc);
void ngx_http_mcp_location_ndjson(ngx_http_request_t *sr,
    ngx_http_mcp_location_op_t *op);

/* what the location answered, as the call's neutral result (location_map.c) */
ngx_int_t ngx_http_mcp_location_result(ngx_http_mcp_location_op_t *op);


#endif /* _NGX_HTTP_MCP_LOCATION_H_INCLUDED_ */
