
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "json/ngx_http_mcp_ndjson.h"


void
ngx_http_mcp_ndjson_init(ngx_http_mcp_ndjson_t *nd, u_char *data,
    size_t len, size_t scanned, ngx_uint_t done)
{
    nd->pos = data;
    nd->last = data + len;
    nd->done = done;

    /* the kept partial line was searched before: no LF in its first bytes */

    nd->from = data + ngx_min(scanned, len);
}


ngx_int_t
ngx_http_mcp_ndjson_next_line(ngx_http_mcp_ndjson_t *nd, ngx_str_t *line)
{
    u_char  *nl, *end;

    if (nd->pos == nd->last) {
        return NGX_DONE;
    }

    nl = memchr(nd->from, LF, nd->last - nd->from);

    if (nl == NULL) {

        if (!nd->done) {
            nd->from = nd->last;
            return NGX_DONE;
        }

        nl = nd->last;                   /* the last line, unterminated */
    }

    end = nl;

    while (end > nd->pos
           && (end[-1] == CR || end[-1] == ' ' || end[-1] == '\t'))
    {
        end--;
    }

    line->data = nd->pos;
    line->len = end - nd->pos;

    nd->pos = (nl == nd->last) ? nl : nl + 1;
    nd->from = nd->pos;

    return NGX_OK;
}


size_t
ngx_http_mcp_ndjson_keep(ngx_http_mcp_ndjson_t *nd, u_char *data)
{
    size_t  len;

    len = nd->last - nd->pos;

    if (len && nd->pos != data) {
        ngx_memmove(data, nd->pos, len);
    }

    return len;
}
