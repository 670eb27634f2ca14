
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_NDJSON_H_INCLUDED_
#define _NGX_HTTP_MCP_NDJSON_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * NDJSON (one JSON text a line) read as it arrives, in one buffer: the
 * complete lines of the bytes collected so far, then the partial last
 * line moved to the start of the buffer to wait for more.  No request,
 * no parsing: backend/ngx_http_mcp_location_stream.c and t/fuzz/ use it.
 *
 *     ngx_http_mcp_ndjson_init(&nd, data, len, scanned, done);
 *
 *     while (ngx_http_mcp_ndjson_next_line(&nd, &line) == NGX_OK) {
 *         ...                          (line.len may be 0: a blank line)
 *     }
 *
 *     len = ngx_http_mcp_ndjson_keep(&nd, data);
 *     scanned = len;
 */

typedef struct {
    u_char                     *pos;       /* the next line starts here */
    u_char                     *from;      /* its LF is searched from here */
    u_char                     *last;
    ngx_uint_t                  done;      /* no more bytes will come */
} ngx_http_mcp_ndjson_t;


/*
 * `scanned`: how many of the first bytes were searched for LF by an
 * earlier call and had none (the kept partial line); `done`: the input is
 * complete, so an unterminated last line is a line too
 */
void ngx_http_mcp_ndjson_init(ngx_http_mcp_ndjson_t *nd, u_char *data,
    size_t len, size_t scanned, ngx_uint_t done);

/*
 * NGX_OK and the next line in *line, without its LF and the CR, spaces
 * and tabs before it (it points into the buffer); NGX_DONE when no
 * complete line is left
 */
ngx_int_t ngx_http_mcp_ndjson_next_line(ngx_http_mcp_ndjson_t *nd,
    ngx_str_t *line);

/*
 * moves what is left (the partial last line) to `data`, the start of the
 * buffer, and returns its length: the buffer's new length, and the
 * `scanned` of the next call
 */
size_t ngx_http_mcp_ndjson_keep(ngx_http_mcp_ndjson_t *nd, u_char *data);


#endif /* _NGX_HTTP_MCP_NDJSON_H_INCLUDED_ */
