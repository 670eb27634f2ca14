
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
    ngx_int_t                    rc;
    ngx_str_t                    text, uri, err, reason;
    ngx_http_mcp_json_t         *body;
    ngx_http_mcp_note_e          note;
    ngx_http_mcp_loc_conf_t     *mlcf;
    ngx_http_mcp_json_limits_t   limits;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    rc = ngx_http_mcp_read_body(r, &text);
    if (rc != NGX_OK) {
        return rc;
    }

    if (text.len == 0) {
        return ngx_http_mcp_fail(r, NGX_HTTP_BAD_REQUEST, NULL,
                                 NGX_HTTP_MCP_INVALID_REQUEST,
                                 "Bad Request: no notification in the body",
                                 NULL);
    }

    limits.max_depth = mlcf->max_depth;
    limits.max_members = mlcf->max_members;
    limits.max_string = mlcf->max_string;
    limits.max_values = mlcf->max_values;
    limits.in_place = 1;

    rc = ngx_http_mcp_json_parse(r->pool, text.data, text.len, &limits, &body,
                                 &err);

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
