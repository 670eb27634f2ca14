
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_REGISTRY_INT_H_INCLUDED_
#define _NGX_HTTP_MCP_REGISTRY_INT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "catalog/ngx_http_mcp_registry.h"


/*
 * Internal to protocol/ngx_http_mcp_registry{,_query}.c: the lookup tables
 * that ngx_http_mcp_registry_init() builds and the request-time lookups
 * search.
 */


/* one row of a lookup table: an item and the string it is sorted by */
typedef struct {
    ngx_str_t                      *key;
    void                           *item;
} ngx_http_mcp_registry_entry_t;


/* srv->ctx: lookup tables built once the block is parsed */
typedef struct {
    ngx_http_mcp_registry_entry_t  *tools;        /* sorted by name */
    ngx_http_mcp_registry_entry_t  *resources;    /* sorted by uri */
    ngx_http_mcp_registry_entry_t  *prompts;      /* sorted by name */

    /* by ngx_http_mcp_list_e: whether an item of the list has scopes */
    ngx_uint_t                      scoped[NGX_HTTP_MCP_LIST_MAX];
} ngx_http_mcp_registry_ctx_t;


void *ngx_http_mcp_registry_search(ngx_http_mcp_registry_entry_t *index,
    ngx_uint_t n, ngx_str_t *key);


#endif /* _NGX_HTTP_MCP_REGISTRY_INT_H_INCLUDED_ */
