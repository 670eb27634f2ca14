
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "catalog/ngx_http_mcp_registry.h"
#include "catalog/ngx_http_mcp_registry_int.h"


/*
 * The catalog at request time: list pages and their cursors, lookups by
 * name or uri, template matching, prompt substitution, completion.  Only
 * reads what ngx_http_mcp_registry.c built.
 */


#define NGX_HTTP_MCP_COMPLETE_MAX  100


/* one list of the server: its key in the result, its items, their JSON */
typedef struct {
    ngx_str_t                       key;
    size_t                          items;  /* ngx_array_t in the server */
    size_t                          json;   /* ngx_str_t in an item */
    size_t                          entry;  /* ngx_http_mcp_entry_t in it */
} ngx_http_mcp_list_t;


static void ngx_http_mcp_registry_expand(ngx_http_mcp_jw_t *jw,
    ngx_array_t *segs, ngx_str_t *values);
static ngx_int_t ngx_http_mcp_registry_cursor(ngx_str_t *cursor,
    ngx_uint_t nelts, ngx_uint_t *start);
static ngx_int_t ngx_http_mcp_registry_match(ngx_http_mcp_resource_t *tpl,
    ngx_str_t *uri, ngx_str_t *values);
static ngx_int_t ngx_http_mcp_registry_arg_error(ngx_pool_t *pool,
    ngx_str_t *err, char *fmt, ngx_str_t *name);


/* by ngx_http_mcp_list_e */
static ngx_http_mcp_list_t  ngx_http_mcp_lists[] = {

    { ngx_string("\"tools\":["),
      offsetof(ngx_http_mcp_server_t, tools),
      offsetof(ngx_http_mcp_tool_t, json),
      offsetof(ngx_http_mcp_tool_t, entry) },

    { ngx_string("\"resources\":["),
      offsetof(ngx_http_mcp_server_t, resources),
      offsetof(ngx_http_mcp_resource_t, json),
      offsetof(ngx_http_mcp_resource_t, entry) },

    { ngx_string("\"resourceTemplates\":["),
      offsetof(ngx_http_mcp_server_t, templates),
      offsetof(ngx_http_mcp_resource_t, json),
      offsetof(ngx_http_mcp_resource_t, entry) },

    { ngx_string("\"prompts\":["),
      offsetof(ngx_http_mcp_server_t, prompts),
      offsetof(ngx_http_mcp_prompt_t, json),
      offsetof(ngx_http_mcp_prompt_t, entry) }
};


static void
ngx_http_mcp_registry_expand(ngx_http_mcp_jw_t *jw, ngx_array_t *segs,
    ngx_str_t *values)
{
    ngx_uint_t           i;
    ngx_http_mcp_seg_t  *seg;

    seg = segs->elts;

    for (i = 0; i < segs->nelts; i++) {

        if (seg[i].arg == NGX_HTTP_MCP_SEG_LITERAL) {
            ngx_http_mcp_jw_raw(jw, seg[i].text.data, seg[i].text.len);

        } else {
            ngx_http_mcp_jw_escaped(jw, values[seg[i].arg].data,
                                    values[seg[i].arg].len);
        }
    }
}


/* binary search of a table built by registry_index: the item or NULL */

void *
ngx_http_mcp_registry_search(ngx_http_mcp_registry_entry_t *index,
    ngx_uint_t n, ngx_str_t *key)
{
    ngx_int_t   rc;
    ngx_uint_t  lo, hi, mid;

    lo = 0;
    hi = n;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        rc = ngx_memn2cmp(key->data, index[mid].key->data, key->len,
                          index[mid].key->len);

        if (rc == 0) {
            return index[mid].item;
        }

        if (rc < 0) {
            hi = mid;

        } else {
            lo = mid + 1;
        }
    }

    return NULL;
}


ngx_int_t
ngx_http_mcp_registry_list(ngx_http_mcp_server_t *srv,
    ngx_http_mcp_list_e kind, ngx_str_t *cursor, ngx_uint_t page_size,
    ngx_http_mcp_identity_t *who, ngx_http_mcp_jw_t *jw)
{
    u_char                        buf[NGX_INT_T_LEN + 1], *p, *item;
    size_t                        len;
    ngx_str_t                    *json;
    ngx_uint_t                    i, start, end, nelts, n, shown;
    ngx_array_t                  *items;
    ngx_http_mcp_list_t          *list;
    ngx_http_mcp_registry_ctx_t  *ctx;

    if ((ngx_uint_t) kind >= NGX_HTTP_MCP_LIST_MAX) {
        return NGX_ERROR;
    }

    list = &ngx_http_mcp_lists[kind];
    items = (ngx_array_t *) ((u_char *) srv + list->items);
    nelts = items->nelts;

    start = 0;

    if (cursor
        && ngx_http_mcp_registry_cursor(cursor, nelts, &start) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    /*
     * A page is page_size items the caller may see.  In a list where some
     * items name scopes, the cursor counts the items this caller was
     * shown, so that it tells nothing of the others; elsewhere it is the
     * index of the next item, the same number.
     */

    ctx = srv->ctx;
    shown = start;

    if (ctx->scoped[kind]) {

        for (i = 0; i < nelts && start; i++) {
            item = (u_char *) items->elts + i * items->size;

            if (ngx_http_mcp_registry_allowed(
                    (ngx_http_mcp_entry_t *) (item + list->entry), who))
            {
                start--;
            }
        }

        if (start) {
            return NGX_DECLINED;        /* past this caller's items */
        }

        start = i;
    }

    len = list->key.len + 512;
    n = 0;

    for (end = start; end < nelts; end++) {
        item = (u_char *) items->elts + end * items->size;

        if (!ngx_http_mcp_registry_allowed(
                 (ngx_http_mcp_entry_t *) (item + list->entry), who))
        {
            continue;
        }

        if (page_size && n == page_size) {
            break;
        }

        len += ((ngx_str_t *) (item + list->json))->len + 1;
        n++;
    }

    ngx_http_mcp_jw_reserve(jw, len);

    ngx_http_mcp_jw_raw(jw, list->key.data, list->key.len);

    n = 0;

    for (i = start; i < end; i++) {
        item = (u_char *) items->elts + i * items->size;

        if (!ngx_http_mcp_registry_allowed(
                 (ngx_http_mcp_entry_t *) (item + list->entry), who))
        {
            continue;
        }

        if (n++) {
            ngx_http_mcp_jw_literal(jw, ",");
        }

        json = (ngx_str_t *) (item + list->json);
        ngx_http_mcp_jw_raw(jw, json->data, json->len);
    }

    ngx_http_mcp_jw_literal(jw, "]");

    if (end < nelts) {
        p = ngx_sprintf(buf, "c%ui", ctx->scoped[kind] ? shown + n : end);
        ngx_http_mcp_jw_literal(jw, ",\"nextCursor\":");
        ngx_http_mcp_jw_string(jw, buf, p - buf);
    }

    return NGX_OK;
}


ngx_uint_t
ngx_http_mcp_registry_allowed(ngx_http_mcp_entry_t *e,
    ngx_http_mcp_identity_t *who)
{
    ngx_str_t   *need, *have;
    ngx_uint_t   i, j, n;

    if (e->scopes == NULL) {
        return 1;
    }

    if (who == NULL || who->scope_list == NULL) {
        return 0;
    }

    need = e->scopes->elts;
    have = who->scope_list->elts;
    n = who->scope_list->nelts;

    for (i = 0; i < e->scopes->nelts; i++) {

        for (j = 0; j < n; j++) {
            if (have[j].len == need[i].len
                && ngx_memcmp(have[j].data, need[i].data, need[i].len) == 0)
            {
                break;
            }
        }

        if (j == n) {
            return 0;
        }
    }

    return 1;
}


static ngx_int_t
ngx_http_mcp_registry_cursor(ngx_str_t *cursor, ngx_uint_t nelts,
    ngx_uint_t *start)
{
    ngx_int_t  n;

    /* only what registry_list produced: "c" and an index in (0, nelts) */

    if (cursor->len < 2 || cursor->len > NGX_INT_T_LEN
        || cursor->data[0] != 'c' || cursor->data[1] == '0')
    {
        return NGX_DECLINED;
    }

    n = ngx_atoi(cursor->data + 1, cursor->len - 1);

    if (n == NGX_ERROR || (ngx_uint_t) n >= nelts) {
        return NGX_DECLINED;
    }

    *start = n;

    return NGX_OK;
}


ngx_http_mcp_tool_t *
ngx_http_mcp_registry_tool(ngx_http_mcp_server_t *srv, ngx_str_t *name)
{
    ngx_http_mcp_registry_ctx_t  *ctx;

    ctx = srv->ctx;

    return ngx_http_mcp_registry_search(ctx->tools, srv->tools.nelts, name);
}


/*
 * the entry a tools/call, prompts/get (a name) or resources/read (a uri)
 * would run, whatever the caller may do, or NULL: none
 */

ngx_http_mcp_entry_t *
ngx_http_mcp_registry_entry(ngx_http_mcp_server_t *srv,
    ngx_http_mcp_item_e kind, ngx_str_t *name, ngx_pool_t *pool)
{
    ngx_str_t                    *values;
    ngx_uint_t                    i;
    ngx_http_mcp_tool_t          *tool;
    ngx_http_mcp_prompt_t        *prompt;
    ngx_http_mcp_resource_t      *res, *tpl;
    ngx_http_mcp_registry_ctx_t  *ctx;

    ctx = srv->ctx;

    switch (kind) {

    case NGX_HTTP_MCP_ITEM_TOOL:
        tool = ngx_http_mcp_registry_search(ctx->tools, srv->tools.nelts,
                                            name);
        return tool ? &tool->entry : NULL;

    case NGX_HTTP_MCP_ITEM_PROMPT:
        prompt = ngx_http_mcp_registry_search(ctx->prompts,
                                              srv->prompts.nelts, name);
        return prompt ? &prompt->entry : NULL;

    default: /* NGX_HTTP_MCP_ITEM_RESOURCE */
        break;
    }

    res = ngx_http_mcp_registry_search(ctx->resources, srv->resources.nelts,
                                       name);
    if (res) {
        return &res->entry;
    }

    tpl = srv->templates.elts;

    for (i = 0; i < srv->templates.nelts; i++) {

        values = ngx_palloc(pool, tpl[i].params.nelts * sizeof(ngx_str_t));
        if (values == NULL) {
            return NULL;
        }

        if (ngx_http_mcp_registry_match(&tpl[i], name, values) == NGX_OK) {
            return &tpl[i].entry;
        }
    }

    return NULL;
}


ngx_int_t
ngx_http_mcp_registry_read(ngx_http_mcp_server_t *srv, ngx_str_t *uri,
    ngx_http_mcp_access_t *acc, ngx_http_mcp_jw_t *jw,
    ngx_http_mcp_resource_t **backed, ngx_str_t **vars)
{
    ngx_str_t                    *values;
    ngx_uint_t                    i;
    ngx_http_mcp_resource_t      *res, *tpl;
    ngx_http_mcp_registry_ctx_t  *ctx;

    ctx = srv->ctx;

    res = ngx_http_mcp_registry_search(ctx->resources, srv->resources.nelts,
                                       uri);

    if (res && !ngx_http_mcp_registry_allowed(&res->entry, acc->who)) {
        acc->denied = &res->entry;
        return NGX_HTTP_MCP_DENIED;
    }

    if (res && res->entry.backend) {
        *backed = res;
        *vars = NULL;
        return NGX_AGAIN;
    }

    if (res) {
        ngx_http_mcp_jw_literal(jw, "\"contents\":[");
        ngx_http_mcp_jw_raw(jw, res->contents.data, res->contents.len);
        ngx_http_mcp_jw_literal(jw, "]");
        return NGX_OK;
    }

    tpl = srv->templates.elts;

    for (i = 0; i < srv->templates.nelts; i++) {

        values = ngx_palloc(jw->pool,
                            tpl[i].params.nelts * sizeof(ngx_str_t));
        if (values == NULL) {
            return NGX_ERROR;
        }

        if (ngx_http_mcp_registry_match(&tpl[i], uri, values) != NGX_OK) {
            continue;
        }

        if (!ngx_http_mcp_registry_allowed(&tpl[i].entry, acc->who)) {
            acc->denied = &tpl[i].entry;
            return NGX_HTTP_MCP_DENIED;
        }

        if (tpl[i].entry.backend) {
            *backed = &tpl[i];
            *vars = values;
            return NGX_AGAIN;
        }

        ngx_http_mcp_jw_literal(jw, "\"contents\":[{\"uri\":");
        ngx_http_mcp_jw_str(jw, uri);
        ngx_http_mcp_registry_expand(jw, &tpl[i].body, values);
        ngx_http_mcp_jw_literal(jw, "]");

        return NGX_OK;
    }

    return NGX_DECLINED;
}


/*
 * RFC 6570 level 1, matching: literal parts match exactly; a variable
 * takes a non-empty run without "/", ending where the next literal part
 * first occurs (or at the end of the uri when it is the last part).
 */

static ngx_int_t
ngx_http_mcp_registry_match(ngx_http_mcp_resource_t *tpl, ngx_str_t *uri,
    ngx_str_t *values)
{
    u_char              *p, *last, *slash, *end, *q;
    ngx_uint_t           i;
    ngx_http_mcp_seg_t  *part;

    p = uri->data;
    last = p + uri->len;
    part = tpl->parts.elts;

    for (i = 0; i < tpl->parts.nelts; i++) {

        if (part[i].arg == NGX_HTTP_MCP_SEG_LITERAL) {
            if ((size_t) (last - p) < part[i].text.len
                || ngx_memcmp(p, part[i].text.data, part[i].text.len) != 0)
            {
                return NGX_DECLINED;
            }

            p += part[i].text.len;
            continue;
        }

        slash = ngx_strlchr(p, last, '/');
        if (slash == NULL) {
            slash = last;
        }

        if (i + 1 == tpl->parts.nelts) {
            end = slash;

            if (end != last) {
                return NGX_DECLINED;
            }

        } else {
            /* the next part is a literal: its first occurrence ends us */

            end = NULL;

            for (q = p + 1; q <= slash; q++) {
                if ((size_t) (last - q) >= part[i + 1].text.len
                    && ngx_memcmp(q, part[i + 1].text.data,
                                  part[i + 1].text.len)
                       == 0)
                {
                    end = q;
                    break;
                }
            }

            if (end == NULL) {
                return NGX_DECLINED;
            }
        }

        if (end == p) {
            return NGX_DECLINED;
        }

        values[part[i].arg].data = p;
        values[part[i].arg].len = end - p;

        p = end;
    }

    return (p == last) ? NGX_OK : NGX_DECLINED;
}


ngx_int_t
ngx_http_mcp_registry_prompt(ngx_http_mcp_server_t *srv, ngx_str_t *name,
    ngx_http_mcp_json_t *args, ngx_http_mcp_access_t *acc,
    ngx_http_mcp_jw_t *jw, ngx_str_t *err, ngx_http_mcp_prompt_t **backed)
{
    ngx_str_t                    *values;
    ngx_uint_t                    i;
    ngx_http_mcp_json_t          *v;
    ngx_http_mcp_prompt_t        *prompt;
    ngx_http_mcp_param_t         *param;
    ngx_http_mcp_registry_ctx_t  *ctx;

    ctx = srv->ctx;

    prompt = ngx_http_mcp_registry_search(ctx->prompts, srv->prompts.nelts,
                                          name);

    if (prompt == NULL) {
        return NGX_DECLINED;
    }

    if (!ngx_http_mcp_registry_allowed(&prompt->entry, acc->who)) {
        acc->denied = &prompt->entry;
        return NGX_HTTP_MCP_DENIED;
    }

    if (args && args->type != NGX_HTTP_MCP_JSON_OBJECT
        && args->type != NGX_HTTP_MCP_JSON_NULL)
    {
        ngx_str_set(err, "arguments must be an object");
        return NGX_ABORT;
    }

    values = ngx_pcalloc(jw->pool,
                         (prompt->params.nelts + 1) * sizeof(ngx_str_t));
    if (values == NULL) {
        return NGX_ERROR;
    }

    param = prompt->params.elts;

    for (i = 0; i < prompt->params.nelts; i++) {

        v = ngx_http_mcp_json_get(args, param[i].name.data,
                                  param[i].name.len);

        if (v == NULL || v->type == NGX_HTTP_MCP_JSON_NULL) {

            if (!param[i].required) {
                continue;
            }

            return ngx_http_mcp_registry_arg_error(jw->pool, err,
                                      "missing required argument \"%V\"",
                                      &param[i].name);
        }

        if (v->type != NGX_HTTP_MCP_JSON_STRING) {
            return ngx_http_mcp_registry_arg_error(jw->pool, err,
                                      "argument \"%V\" must be a string",
                                      &param[i].name);
        }

        values[i] = v->str;
    }

    if (prompt->entry.backend) {
        *backed = prompt;
        return NGX_AGAIN;
    }

    ngx_http_mcp_jw_literal(jw, "\"description\":");
    ngx_http_mcp_jw_raw(jw, prompt->description.data,
                        prompt->description.len);
    ngx_http_mcp_jw_literal(jw, ",\"messages\":[");
    ngx_http_mcp_registry_expand(jw, &prompt->messages, values);
    ngx_http_mcp_jw_literal(jw, "]");

    return NGX_OK;
}


/* *err: fmt, which holds one "%V", with the name; NGX_ABORT */

static ngx_int_t
ngx_http_mcp_registry_arg_error(ngx_pool_t *pool, ngx_str_t *err,
    char *fmt, ngx_str_t *name)
{
    u_char  *p;

    err->len = ngx_strlen(fmt) - (sizeof("%V") - 1) + name->len;

    p = ngx_pnalloc(pool, err->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    err->data = p;
    ngx_sprintf(p, fmt, name);

    return NGX_ABORT;
}


ngx_int_t
ngx_http_mcp_registry_complete(ngx_http_mcp_server_t *srv,
    ngx_str_t *ref_type, ngx_str_t *ref, ngx_str_t *arg, ngx_str_t *value,
    ngx_http_mcp_access_t *acc, ngx_http_mcp_jw_t *jw, ngx_str_t *err)
{
    ngx_str_t                    *v;
    ngx_uint_t                    i, total;
    ngx_array_t                  *params;
    ngx_http_mcp_entry_t         *entry;
    ngx_http_mcp_param_t         *param;
    ngx_http_mcp_prompt_t        *prompt;
    ngx_http_mcp_resource_t      *tpl;
    ngx_http_mcp_registry_ctx_t  *ctx;

    ctx = srv->ctx;
    params = NULL;
    entry = NULL;

    if (ref_type->len == sizeof("ref/prompt") - 1
        && ngx_strncmp(ref_type->data, "ref/prompt", ref_type->len) == 0)
    {
        prompt = ngx_http_mcp_registry_search(ctx->prompts,
                                              srv->prompts.nelts, ref);
        if (prompt == NULL) {
            ngx_str_set(err, "unknown prompt");
            return NGX_DECLINED;
        }

        params = &prompt->params;
        entry = &prompt->entry;

    } else if (ref_type->len == sizeof("ref/resource") - 1
               && ngx_strncmp(ref_type->data, "ref/resource", ref_type->len)
                  == 0)
    {
        tpl = srv->templates.elts;

        for (i = 0; i < srv->templates.nelts; i++) {
            if (tpl[i].uri.len == ref->len
                && ngx_strncmp(tpl[i].uri.data, ref->data, ref->len) == 0)
            {
                params = &tpl[i].params;
                entry = &tpl[i].entry;
                break;
            }
        }

        if (params == NULL) {
            ngx_str_set(err, "unknown resource template");
            return NGX_DECLINED;
        }

    } else {
        ngx_str_set(err, "unknown reference type");
        return NGX_DECLINED;
    }

    if (!ngx_http_mcp_registry_allowed(entry, acc->who)) {
        acc->denied = entry;
        return NGX_HTTP_MCP_DENIED;
    }

    param = ngx_http_mcp_registry_param(params, arg->data, arg->len);

    if (param == NULL) {
        ngx_str_set(err, "unknown argument");
        return NGX_DECLINED;
    }

    ngx_http_mcp_jw_literal(jw, "\"completion\":{\"values\":[");

    total = 0;

    if (param->complete) {
        v = param->complete->elts;

        for (i = 0; i < param->complete->nelts; i++) {
            if (v[i].len < value->len
                || ngx_strncmp(v[i].data, value->data, value->len) != 0)
            {
                continue;
            }

            if (total < NGX_HTTP_MCP_COMPLETE_MAX) {
                if (total) {
                    ngx_http_mcp_jw_literal(jw, ",");
                }

                ngx_http_mcp_jw_str(jw, &v[i]);
            }

            total++;
        }
    }

    ngx_http_mcp_jw_literal(jw, "],\"total\":");
    ngx_http_mcp_jw_int(jw, total);

    if (total > NGX_HTTP_MCP_COMPLETE_MAX) {
        ngx_http_mcp_jw_literal(jw, ",\"hasMore\":true}");

    } else {
        ngx_http_mcp_jw_literal(jw, ",\"hasMore\":false}");
    }

    return NGX_OK;
}
