
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "transport/ngx_http_mcp_http.h"


ngx_int_t
ngx_http_mcp_handler(ngx_http_request_t *r)
{
    return NGX_HTTP_NOT_IMPLEMENTED;
}
