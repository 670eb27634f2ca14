
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_mcp_module.h"
#include "backend/ngx_http_mcp_static.h"


ngx_int_t
ngx_http_mcp_static_call(ngx_http_mcp_tool_t *tool, ngx_http_mcp_json_t *args,
    ngx_http_mcp_jw_t *jw)
{
    ngx_http_mcp_jw_raw(jw, tool->result.data, tool->result.len);

    return jw->failed ? NGX_ERROR : NGX_OK;
}
