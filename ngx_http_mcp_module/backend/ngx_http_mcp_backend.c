
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "backend/ngx_http_mcp_backend.h"
#include "backend/ngx_http_mcp_location.h"
#include "backend/ngx_http_mcp_postgres.h"


/* the backends an item block can name, by the keyword of their line */

static ngx_http_mcp_backend_t  *ngx_http_mcp_backends[] = {
    &ngx_http_mcp_location_backend,
    &ngx_http_mcp_postgres_backend,
    NULL
};


ngx_http_mcp_backend_t *
ngx_http_mcp_backend_find(ngx_str_t *keyword)
{
    ngx_http_mcp_backend_t  **b;

    for (b = ngx_http_mcp_backends; *b; b++) {
        if ((*b)->name.len == keyword->len
            && ngx_strncmp((*b)->name.data, keyword->data, keyword->len) == 0)
        {
            return *b;
        }
    }

    return NULL;
}


ngx_http_mcp_backend_t *
ngx_http_mcp_backend_option(ngx_str_t *keyword)
{
    ngx_http_mcp_backend_t  **b;

    for (b = ngx_http_mcp_backends; *b; b++) {
        if ((*b)->option.len == keyword->len
            && ngx_strncmp((*b)->option.data, keyword->data, keyword->len)
               == 0)
        {
            return *b;
        }
    }

    return NULL;
}


ngx_int_t
ngx_http_mcp_backend_init(ngx_conf_t *cf)
{
    return ngx_http_mcp_location_init(cf);
}
