
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
#include "backend/ngx_http_mcp_redis_backend.h"


/* the backends an item block can name, by the keyword of their line */

static ngx_http_mcp_backend_t  *ngx_http_mcp_backends[] = {
    &ngx_http_mcp_location_backend,
    &ngx_http_mcp_postgres_backend,
    &ngx_http_mcp_redis_backend,
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


/*
 * `timeout=TIME` or `max_size=SIZE` of a backend line, set once: NGX_OK,
 * NGX_DECLINED if the word is neither, NGX_ERROR if its value is invalid
 */

ngx_int_t
ngx_http_mcp_backend_limit(ngx_http_mcp_entry_t *e, ngx_str_t *word)
{
    ngx_str_t  s;

    if (word->len > sizeof("timeout=") - 1
        && ngx_strncmp(word->data, "timeout=", 8) == 0
        && e->timeout == NGX_CONF_UNSET_MSEC)
    {
        s.data = word->data + 8;
        s.len = word->len - 8;

        e->timeout = ngx_parse_time(&s, 0);

        if (e->timeout == (ngx_msec_t) NGX_ERROR || e->timeout == 0) {
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    if (word->len > sizeof("max_size=") - 1
        && ngx_strncmp(word->data, "max_size=", 9) == 0
        && e->max_size == NGX_CONF_UNSET_SIZE)
    {
        s.data = word->data + 9;
        s.len = word->len - 9;

        e->max_size = ngx_parse_size(&s);

        if (e->max_size == (size_t) NGX_ERROR || e->max_size == 0) {
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_mcp_backend_value(ngx_http_mcp_bcall_t *bc, ngx_str_t *name,
    ngx_str_t *value)
{
    ngx_uint_t            i;
    ngx_keyval_t         *kv;
    ngx_http_mcp_jw_t     jw;
    ngx_http_mcp_json_t  *v;

    if (bc->variables) {
        kv = bc->variables->elts;

        for (i = 0; i < bc->variables->nelts; i++) {
            if (kv[i].key.len == name->len
                && ngx_strncmp(kv[i].key.data, name->data, name->len) == 0)
            {
                *value = kv[i].value;
                return NGX_OK;
            }
        }
    }

    if (bc->arguments == NULL) {
        return NGX_DECLINED;
    }

    for (v = bc->arguments->first; v; v = v->next) {
        if (v->key.len == name->len
            && ngx_strncmp(v->key.data, name->data, name->len) == 0)
        {
            break;
        }
    }

    if (v == NULL) {
        return NGX_DECLINED;
    }

    switch (v->type) {

    case NGX_HTTP_MCP_JSON_NULL:
        return NGX_DECLINED;

    case NGX_HTTP_MCP_JSON_TRUE:
        ngx_str_set(value, "true");
        return NGX_OK;

    case NGX_HTTP_MCP_JSON_FALSE:
        ngx_str_set(value, "false");
        return NGX_OK;

    case NGX_HTTP_MCP_JSON_STRING:
    case NGX_HTTP_MCP_JSON_INTEGER:
    case NGX_HTTP_MCP_JSON_NUMBER:
        *value = v->str;
        return NGX_OK;

    default: /* an object or array: its JSON text */

        if (ngx_http_mcp_jw_init(&jw, bc->pool, 64) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_http_mcp_jw_value(&jw, v);

        return ngx_http_mcp_jw_finish(&jw, value);
    }
}


ngx_int_t
ngx_http_mcp_backend_init(ngx_conf_t *cf)
{
    return ngx_http_mcp_location_init(cf);
}
