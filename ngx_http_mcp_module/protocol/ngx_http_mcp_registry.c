
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "protocol/ngx_http_mcp_registry.h"


ngx_http_mcp_server_t *
ngx_http_mcp_registry_find(ngx_http_mcp_main_conf_t *mmcf, ngx_str_t *name)
{
    return NULL;
}
