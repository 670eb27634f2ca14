
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "health/ngx_http_mcp_health.h"


char *
ngx_http_mcp_health(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return "is not implemented yet";
}
