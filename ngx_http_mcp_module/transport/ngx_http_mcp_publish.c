
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "transport/ngx_http_mcp_http.h"
#include "transport/ngx_http_mcp_stream.h"
#include "protocol/ngx_http_mcp_jsonrpc.h"


/*
 * `mcp_publish SERVER;`: where an operator's backend says what changed, as
 * nchan's publisher locations take messages.  A POST of one notification
 * (notifications/resources/updated {uri}, or
 * notifications/{tools,resources,prompts}/list_changed) goes to every
 * worker of every replica (the mailbox, Redis between replicas), each
 * sending it on its streams of that server that want it; the answer is
 * 202 once it is posted, listeners or not.  A body that is not such a
 * notification is 400 with a JSON-RPC error saying why; another method
 * 405; a body over client_max_body_size 413 (nginx's).
 */


static void ngx_http_mcp_publish_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_mcp_publish(ngx_http_request_t *r);


ngx_int_t
ngx_http_mcp_publish_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    if (r->method != NGX_HTTP_POST) {

        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (ngx_http_mcp_add_header(r, "Allow", (u_char *) "POST", 4)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_mcp_fail(r, NGX_HTTP_NOT_ALLOWED, NULL,
                                 NGX_HTTP_MCP_INVALID_REQUEST,
                                 "Method not allowed: publish with POST",
                                 NULL);
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_mcp_publish_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_mcp_publish_body(ngx_http_request_t *r)
{
    ngx_http_finalize_request(r, ngx_http_mcp_publish(r));
}


static ngx_int_t
ngx_http_mcp_publish(ngx_http_request_t *r)
{
    char                        *why;
    u_char                      *p;
    size_t                       len;
    ngx_int_t                    rc;
    ngx_str_t                    uri, err, reason;
    ngx_buf_t                   *b;
    ngx_chain_t                 *cl;
    ngx_http_mcp_json_t         *body;
    ngx_http_mcp_note_e          note;
    ngx_http_mcp_loc_conf_t     *mlcf;
    ngx_http_mcp_json_limits_t   limits;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    /* the body, whole, in memory (client_body_buffer_size may write it) */

    len = 0;

    for (cl = r->request_body ? r->request_body->bufs : NULL; cl;
         cl = cl->next)
    {
        b = cl->buf;
        len += b->in_file ? (size_t) (b->file_last - b->file_pos)
                          : (size_t) (b->last - b->pos);
    }

    if (len == 0) {
        return ngx_http_mcp_fail(r, NGX_HTTP_BAD_REQUEST, NULL,
                                 NGX_HTTP_MCP_INVALID_REQUEST,
                                 "Bad Request: no notification in the body",
                                 NULL);
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (!b->in_file) {
            if (b->last != b->pos) {
                ngx_memcpy(p + len, b->pos, b->last - b->pos);
                len += b->last - b->pos;
            }

            continue;
        }

        if (ngx_read_file(b->file, p + len, b->file_last - b->file_pos,
                          b->file_pos)
            != b->file_last - b->file_pos)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        len += b->file_last - b->file_pos;
    }

    limits.max_depth = mlcf->max_depth;
    limits.max_members = mlcf->max_members;
    limits.max_string = mlcf->max_string;
    limits.max_values = mlcf->max_values;
    limits.in_place = 1;

    rc = ngx_http_mcp_json_parse(r->pool, p, len, &limits, &body, &err);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_mcp_fail(r, NGX_HTTP_BAD_REQUEST, NULL,
                                 NGX_HTTP_MCP_PARSE_ERROR, "Parse error: ",
                                 &err);
    }

    if (ngx_http_mcp_publish_parse(body, &note, &uri, &why) != NGX_OK) {
        reason.data = (u_char *) why;
        reason.len = ngx_strlen(why);

        return ngx_http_mcp_fail(r, NGX_HTTP_BAD_REQUEST, NULL,
                                 NGX_HTTP_MCP_INVALID_REQUEST,
                                 "Invalid notification: ", &reason);
    }

    rc = ngx_http_mcp_streams_publish(mlcf->server, note,
                                      uri.len ? &uri : NULL);

    if (rc != NGX_OK) {
        if (ngx_http_mcp_add_header(r, "Retry-After", (u_char *) "1", 1)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_mcp_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE, NULL,
                                 NGX_HTTP_MCP_INTERNAL_ERROR,
                                 "The notification could not be posted",
                                 NULL);
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mcp publish: posted, kind %ui", (ngx_uint_t) note);

    return ngx_http_mcp_send_body(r, NGX_HTTP_ACCEPTED, NULL, NULL);
}
