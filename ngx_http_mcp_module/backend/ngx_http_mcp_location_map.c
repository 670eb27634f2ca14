
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "backend/ngx_http_mcp_location.h"
#include "json/ngx_http_mcp_media.h"


/*
 * What a location answered, as the call's neutral result: its body with
 * its Content-Type (text or bytes: protocol/ decides what they become),
 * the caching its Cache-Control allows, or, when the answer is a failure,
 * an error with the words that explain it (docs/BACKENDS.md).
 */


static ngx_int_t ngx_http_mcp_location_fault(ngx_http_mcp_location_op_t *op,
    ngx_str_t *text);


static char  *ngx_http_mcp_item_words[] = { "tool", "resource", "prompt" };


ngx_int_t
ngx_http_mcp_location_result(ngx_http_mcp_location_op_t *op)
{
    ngx_http_mcp_bcall_t   *bc;
    ngx_http_mcp_result_t  *res;

    bc = op->bc;
    res = &bc->result;

    res->status = op->status;
    res->max_age = op->max_age;
    res->private = op->private;

    if (!(op->status >= NGX_HTTP_OK
          && op->status < NGX_HTTP_SPECIAL_RESPONSE
          && op->complete && !op->aborted && !op->too_big))
    {
        res->kind = NGX_HTTP_MCP_RESULT_ERROR;
        return ngx_http_mcp_location_fault(op, &res->reason);
    }

    res->type = op->type;
    res->data = op->body;
    res->kind = (op->type.len == 0 || ngx_http_mcp_media_textual(&op->type))
                ? NGX_HTTP_MCP_RESULT_TEXT : NGX_HTTP_MCP_RESULT_BYTES;

    /* "nginx:/the/pass/uri" names bytes that travel as a resource */

    res->origin = op->loc->origin;

    return NGX_OK;
}


/* why a call failed, in words a model or an operator can act on */

static ngx_int_t
ngx_http_mcp_location_fault(ngx_http_mcp_location_op_t *op, ngx_str_t *text)
{
    u_char                *p, *last;
    size_t                 len;
    char                  *what;
    ngx_http_mcp_bcall_t  *bc;

    bc = op->bc;
    what = ngx_http_mcp_item_words[bc->entry->kind];
    len = 0;

    if (op->status >= NGX_HTTP_SPECIAL_RESPONSE && !op->too_big
        && op->body.len && ngx_http_mcp_media_textual(&op->type)
        && !(op->type.len == sizeof("text/html") - 1
             && ngx_strncasecmp(op->type.data, (u_char *) "text/html",
                                op->type.len) == 0))
    {
        /* a short text answer explains itself */
        len = ngx_min(op->body.len, 512);
    }

    p = ngx_pnalloc(bc->pool, 160 + len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    text->data = p;
    last = p + 160;

    if (op->aborted == NGX_HTTP_MCP_ABORT_TIMEOUT) {
        p = ngx_slprintf(p, last, "The %s's backend did not answer within "
                         "%M ms", what, bc->timeout);

    } else if (op->too_big) {
        p = ngx_slprintf(p, last, "The %s's backend answered more than %uz "
                         "bytes%s", what, bc->max_size,
                         op->ndjson ? " in a line" : "");

    } else if (op->status == 0) {
        p = ngx_slprintf(p, last, "The %s's backend failed to answer",
                         what);

    } else if (!op->complete) {
        p = ngx_slprintf(p, last, "The %s's backend's answer (HTTP %ui) "
                         "was cut off before its end", what, op->status);

    } else if (op->status == NGX_HTTP_GATEWAY_TIME_OUT) {
        p = ngx_slprintf(p, last, "The %s's backend timed out (HTTP 504)",
                         what);

    } else if (op->status == NGX_HTTP_BAD_GATEWAY) {
        p = ngx_slprintf(p, last, "The %s's backend is unreachable "
                         "(HTTP 502)", what);

    } else if (op->status == NGX_HTTP_SERVICE_UNAVAILABLE) {
        p = ngx_slprintf(p, last, "The %s's backend is unavailable "
                         "(HTTP 503)", what);

    } else {
        p = ngx_slprintf(p, last, "The %s's backend answered HTTP %ui",
                         what, op->status);

        if (len) {
            p = ngx_cpymem(p, ": ", 2);
            p = ngx_cpymem(p, op->body.data, len);
        }
    }

    text->len = p - text->data;

    return NGX_OK;
}
