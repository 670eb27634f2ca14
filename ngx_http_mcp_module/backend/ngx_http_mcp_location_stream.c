
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "backend/ngx_http_mcp_location.h"
#include "json/ngx_http_mcp_ndjson.h"


/*
 * The answer of a `pass` subrequest, as it arrives: a body filter at the
 * top of the chain takes it instead of the client, collects it up to the
 * call's max_size, and reads application/x-ndjson line by line, handing
 * its events to the call as they come.  What transport writes to the
 * client while the subrequest runs (events, in buffers tagged with the
 * module) goes through this filter too, and passes.
 */


static ngx_int_t ngx_http_mcp_location_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static ngx_int_t ngx_http_mcp_location_append(ngx_http_request_t *r,
    ngx_http_mcp_location_op_t *op, ngx_buf_t *b);
static ngx_int_t ngx_http_mcp_location_lines(ngx_http_request_t *r,
    ngx_http_mcp_location_op_t *op);


static ngx_http_output_body_filter_pt  ngx_http_mcp_location_next_body_filter;


ngx_int_t
ngx_http_mcp_location_init(ngx_conf_t *cf)
{
    ngx_uint_t                  i, *index;
    ngx_http_variable_t        *v;
    ngx_http_core_main_conf_t  *cmcf;
    ngx_http_mcp_main_conf_t   *mmcf;

    ngx_http_mcp_location_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_mcp_location_body_filter;

    /*
     * A subrequest shares its parent's variable values: a $http_x_mcp_*
     * the client's request already evaluated would be the location's too,
     * and so would a $request_body of the client's or of an earlier call
     * of the same request (a call asked the client for input and runs
     * again).  The indexed ones (those the configuration uses) are flushed
     * when a call starts, see ngx_http_mcp_location_start().
     */

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_module);

    v = cmcf->variables.elts;

    for (i = 0; i < cmcf->variables.nelts; i++) {

        if (!(v[i].name.len == sizeof("request_body") - 1
              && ngx_strncasecmp(v[i].name.data, (u_char *) "request_body",
                                 sizeof("request_body") - 1)
                 == 0)
            && (v[i].name.len <= sizeof("http_x_mcp_") - 1
                || ngx_strncasecmp(v[i].name.data, (u_char *) "http_x_mcp_",
                                   sizeof("http_x_mcp_") - 1)
                   != 0))
        {
            continue;
        }

        index = ngx_array_push(&mmcf->header_vars);
        if (index == NULL) {
            return NGX_ERROR;
        }

        *index = i;
    }

    return NGX_OK;
}


/* the end of an NDJSON answer: its last line, then the result line */

void
ngx_http_mcp_location_ndjson(ngx_http_request_t *sr,
    ngx_http_mcp_location_op_t *op)
{
    if (op->len && ngx_http_mcp_location_lines(sr, op) != NGX_OK) {
        op->status = 0;
    }

    if (op->result.len == 0) {
        op->status = 0;                  /* the stream ended without one */
    }

    ngx_str_set(&op->type, "application/json");
    op->body = op->result;
}


/*
 * The subrequest's answer is taken here instead of going to the client,
 * and collected up to the call's max_size bytes.  An application/x-ndjson
 * answer is read line by line as it arrives: events are handed to the
 * call's event(), the other line is the result.  Only the line being read
 * is kept, so the cap bounds a line, not the stream.
 */

static ngx_int_t
ngx_http_mcp_location_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_int_t                    rc;
    ngx_str_t                   *type;
    ngx_chain_t                 *cl;
    ngx_http_mcp_location_op_t  *op;

    if (r == r->main || r->post_subrequest == NULL
        || r->post_subrequest->handler != ngx_http_mcp_location_done
        || (in && in->buf->tag == (ngx_buf_tag_t) &ngx_http_mcp_module))
    {
        return ngx_http_mcp_location_next_body_filter(r, in);
    }

    op = r->post_subrequest->data;

    if (!op->checked) {
        op->checked = 1;

        type = &r->headers_out.content_type;

        op->ndjson = (r->headers_out.status >= NGX_HTTP_OK
                      && r->headers_out.status < NGX_HTTP_SPECIAL_RESPONSE
                      && type->len >= sizeof("application/x-ndjson") - 1
                      && ngx_strncasecmp(type->data,
                                         (u_char *) "application/x-ndjson",
                                         sizeof("application/x-ndjson") - 1)
                         == 0);
    }

    for (cl = in; cl; cl = cl->next) {

        /*
         * A whole answer ends with the subrequest's last buffer; a cut one
         * (the upstream closed early, or failed a chunk) never sends it:
         * nginx logs "upstream prematurely closed connection" and ends the
         * subrequest without.
         */

        if (cl->buf->last_in_chain || cl->buf->last_buf) {
            op->complete = 1;
        }

        rc = ngx_http_mcp_location_append(r, op, cl->buf);
        if (rc != NGX_OK) {
            return rc;
        }

        if (op->ndjson) {
            rc = ngx_http_mcp_location_lines(r, op);
            if (rc != NGX_OK) {
                return rc;
            }
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_location_append(ngx_http_request_t *r,
    ngx_http_mcp_location_op_t *op, ngx_buf_t *b)
{
    u_char   *p;
    size_t    len, size;
    ssize_t   n;

    len = ngx_buf_in_memory(b) ? (size_t) (b->last - b->pos)
          : b->in_file ? (size_t) (b->file_last - b->file_pos) : 0;

    if (len == 0) {
        return NGX_OK;
    }

    if (op->too_big || op->len + len > op->bc->max_size) {
        op->too_big = 1;
        goto consumed;
    }

    if (op->len + len > op->size) {
        size = ngx_max(op->size * 2, op->len + len);
        size = ngx_min(size, op->bc->max_size);

        p = ngx_pnalloc(r->pool, size);
        if (p == NULL) {
            return NGX_ERROR;
        }

        if (op->len) {
            ngx_memcpy(p, op->data, op->len);
        }

        op->data = p;
        op->size = size;
    }

    if (ngx_buf_in_memory(b)) {
        ngx_memcpy(op->data + op->len, b->pos, len);

    } else {
        n = ngx_read_file(b->file, op->data + op->len, len, b->file_pos);

        if (n != (ssize_t) len) {
            return NGX_ERROR;
        }
    }

    op->len += len;

consumed:

    if (ngx_buf_in_memory(b)) {
        b->pos = b->last;
    }

    if (b->in_file) {
        b->file_pos = b->file_last;
    }

    return NGX_OK;
}


/*
 * The complete lines collected so far; the rest waits for more.  A line
 * is parsed in op->scratch, reset for each line: a long stream takes the
 * memory of its longest line (and transport's, of what the client has not
 * read yet).
 */

static ngx_int_t
ngx_http_mcp_location_lines(ngx_http_request_t *r,
    ngx_http_mcp_location_op_t *op)
{
    ngx_int_t               rc;
    ngx_str_t               err, line;
    ngx_http_mcp_json_t    *v;
    ngx_http_mcp_ndjson_t   nd;

    if (op->len == 0) {
        return NGX_OK;
    }

    if (op->scratch == NULL) {
        op->scratch = ngx_create_pool(NGX_DEFAULT_POOL_SIZE,
                                      r->connection->log);
        if (op->scratch == NULL) {
            return NGX_ERROR;
        }
    }

    ngx_http_mcp_ndjson_init(&nd, op->data, op->len, op->scanned, op->done);

    while (ngx_http_mcp_ndjson_next_line(&nd, &line) == NGX_OK) {

        if (line.len == 0) {
            continue;
        }

        ngx_reset_pool(op->scratch);

        rc = ngx_http_mcp_json_parse(op->scratch, line.data, line.len, NULL,
                                     &v, &err);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_OK && v->type == NGX_HTTP_MCP_JSON_OBJECT
            && ngx_http_mcp_json_member(v, "content") == NULL
            && (ngx_http_mcp_json_member(v, "progress")
                || ngx_http_mcp_json_member(v, "log")))
        {
            if (op->bc->event
                && op->bc->event(op->bc, v, op->scratch) != NGX_OK)
            {
                return NGX_ERROR;
            }

        } else {

            /* the result: kept, as it is, in one reused buffer */

            if (line.len > op->result_size) {
                op->result.data = ngx_pnalloc(r->pool, line.len);
                if (op->result.data == NULL) {
                    return NGX_ERROR;
                }

                op->result_size = line.len;
            }

            ngx_memcpy(op->result.data, line.data, line.len);
            op->result.len = line.len;
        }
    }

    /* keep the partial line at the start */

    op->len = ngx_http_mcp_ndjson_keep(&nd, op->data);
    op->scanned = op->len;

    return NGX_OK;
}
