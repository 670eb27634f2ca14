
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "backend/ngx_http_mcp_backend.h"


/*
 * The static backend: a tool whose result the catalog wrote at
 * configuration time (`text`, `image`, `structured`, ... in its block).
 * It has no line of its own; the catalog binds it to every tool without
 * another backend, with the result's text as the entry's conf.
 */


static ngx_int_t ngx_http_mcp_static_start(ngx_http_mcp_bcall_t *bc);


ngx_http_mcp_backend_t  ngx_http_mcp_static_backend = {
    ngx_string("static"),
    0, 0,
    NULL,
    NULL,
    ngx_http_mcp_static_start,
    NULL,
    1,
    ngx_null_string, 0, NULL
};


static ngx_int_t
ngx_http_mcp_static_start(ngx_http_mcp_bcall_t *bc)
{
    bc->result.kind = NGX_HTTP_MCP_RESULT_PREBUILT;
    bc->result.data = *(ngx_str_t *) bc->entry->conf;

    return NGX_OK;
}
