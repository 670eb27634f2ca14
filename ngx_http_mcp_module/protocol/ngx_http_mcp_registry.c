
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "protocol/ngx_http_mcp_registry.h"


#define NGX_HTTP_MCP_COMPLETE_MAX  100


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
} ngx_http_mcp_registry_ctx_t;


/* one list of the server: its key in the result, its items, their JSON */
typedef struct {
    ngx_str_t                       key;
    size_t                          items;  /* ngx_array_t in the server */
    size_t                          json;   /* ngx_str_t in an item */
} ngx_http_mcp_list_t;


static ngx_int_t ngx_http_mcp_sb_flush(ngx_http_mcp_sb_t *sb);
static void ngx_http_mcp_registry_expand(ngx_http_mcp_jw_t *jw,
    ngx_array_t *segs, ngx_str_t *values);
static ngx_int_t ngx_http_mcp_registry_cursor(ngx_str_t *cursor,
    ngx_uint_t nelts, ngx_uint_t *start);
static ngx_int_t ngx_http_mcp_registry_match(ngx_http_mcp_resource_t *tpl,
    ngx_str_t *uri, ngx_str_t *values);
static ngx_int_t ngx_http_mcp_registry_arg_error(ngx_pool_t *pool,
    ngx_str_t *err, char *fmt, ngx_str_t *name);
static ngx_int_t ngx_http_mcp_registry_index(ngx_conf_t *cf,
    ngx_array_t *items, size_t key, ngx_http_mcp_registry_entry_t **index);
static int ngx_libc_cdecl ngx_http_mcp_registry_cmp(const void *one,
    const void *two);
static void *ngx_http_mcp_registry_search(
    ngx_http_mcp_registry_entry_t *index, ngx_uint_t n, ngx_str_t *key);


/* by ngx_http_mcp_list_e */
static ngx_http_mcp_list_t  ngx_http_mcp_lists[] = {

    { ngx_string("\"tools\":["),
      offsetof(ngx_http_mcp_server_t, tools),
      offsetof(ngx_http_mcp_tool_t, json) },

    { ngx_string("\"resources\":["),
      offsetof(ngx_http_mcp_server_t, resources),
      offsetof(ngx_http_mcp_resource_t, json) },

    { ngx_string("\"resourceTemplates\":["),
      offsetof(ngx_http_mcp_server_t, templates),
      offsetof(ngx_http_mcp_resource_t, json) },

    { ngx_string("\"prompts\":["),
      offsetof(ngx_http_mcp_server_t, prompts),
      offsetof(ngx_http_mcp_prompt_t, json) }
};


static ngx_str_t  ngx_http_mcp_annotation_keys[] = {
    ngx_string("\"readOnlyHint\":"),
    ngx_string("\"destructiveHint\":"),
    ngx_string("\"idempotentHint\":"),
    ngx_string("\"openWorldHint\":")
};


/* segment builder */

ngx_int_t
ngx_http_mcp_sb_init(ngx_http_mcp_sb_t *sb, ngx_pool_t *pool,
    ngx_array_t *segs, ngx_array_t *params)
{
    sb->segs = segs;
    sb->params = params;

    return ngx_http_mcp_jw_init(&sb->jw, pool, 256);
}


void
ngx_http_mcp_sb_raw(ngx_http_mcp_sb_t *sb, u_char *p, size_t len)
{
    ngx_http_mcp_jw_raw(&sb->jw, p, len);
}


void
ngx_http_mcp_sb_text(ngx_http_mcp_sb_t *sb, u_char *p, size_t len)
{
    u_char                *last, *run, *open, *close;
    ngx_http_mcp_seg_t    *seg;
    ngx_http_mcp_param_t  *param;

    last = p + len;

    if (sb->params == NULL || sb->params->nelts == 0) {
        ngx_http_mcp_jw_escaped(&sb->jw, p, len);
        return;
    }

    run = p;

    while (p < last) {

        open = ngx_strlchr(p, last, '{');
        if (open == NULL) {
            break;
        }

        close = ngx_strlchr(open + 1, last, '}');
        if (close == NULL) {
            break;
        }

        param = ngx_http_mcp_registry_param(sb->params, open + 1,
                                            close - open - 1);

        if (param == NULL) {
            /* not a parameter: left as written */
            p = open + 1;
            continue;
        }

        ngx_http_mcp_jw_escaped(&sb->jw, run, open - run);

        if (ngx_http_mcp_sb_flush(sb) != NGX_OK) {
            return;
        }

        seg = ngx_array_push(sb->segs);
        if (seg == NULL) {
            sb->jw.failed = 1;
            return;
        }

        ngx_str_null(&seg->text);
        seg->arg = param - (ngx_http_mcp_param_t *) sb->params->elts;

        p = close + 1;
        run = p;
    }

    ngx_http_mcp_jw_escaped(&sb->jw, run, last - run);
}


void
ngx_http_mcp_sb_string(ngx_http_mcp_sb_t *sb, u_char *p, size_t len)
{
    ngx_http_mcp_jw_literal(&sb->jw, "\"");
    ngx_http_mcp_sb_text(sb, p, len);
    ngx_http_mcp_jw_literal(&sb->jw, "\"");
}


ngx_int_t
ngx_http_mcp_sb_finish(ngx_http_mcp_sb_t *sb)
{
    return ngx_http_mcp_sb_flush(sb);
}


static ngx_int_t
ngx_http_mcp_sb_flush(ngx_http_mcp_sb_t *sb)
{
    ngx_str_t            text;
    ngx_pool_t          *pool;
    ngx_http_mcp_seg_t  *seg;

    if (ngx_http_mcp_jw_finish(&sb->jw, &text) != NGX_OK) {
        return NGX_ERROR;
    }

    if (text.len == 0) {
        return NGX_OK;
    }

    seg = ngx_array_push(sb->segs);
    if (seg == NULL) {
        sb->jw.failed = 1;
        return NGX_ERROR;
    }

    seg->text = text;
    seg->arg = NGX_HTTP_MCP_SEG_LITERAL;

    pool = sb->jw.pool;

    return ngx_http_mcp_jw_init(&sb->jw, pool, 256);
}


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


/* configuration time: serialisation */

ngx_int_t
ngx_http_mcp_registry_tool_json(ngx_conf_t *cf, ngx_http_mcp_tool_t *tool,
    ngx_http_mcp_tool_conf_t *tc)
{
    ngx_str_t              text, err;
    ngx_uint_t             i, n;
    ngx_http_mcp_jw_t      jw;
    ngx_http_mcp_param_t  *param;

    if (tool->input_schema == NULL) {

        if (ngx_http_mcp_jw_init(&jw, cf->pool, 256) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_http_mcp_jw_literal(&jw, "{\"type\":\"object\"");

        param = tc->params.elts;

        if (tc->params.nelts) {
            ngx_http_mcp_jw_literal(&jw, ",\"properties\":{");

            for (i = 0; i < tc->params.nelts; i++) {
                if (i) {
                    ngx_http_mcp_jw_literal(&jw, ",");
                }

                ngx_http_mcp_jw_str(&jw, &param[i].name);
                ngx_http_mcp_jw_literal(&jw, ":{\"type\":");
                ngx_http_mcp_jw_str(&jw, &param[i].type);

                if (param[i].description.len) {
                    ngx_http_mcp_jw_literal(&jw, ",\"description\":");
                    ngx_http_mcp_jw_str(&jw, &param[i].description);
                }

                ngx_http_mcp_jw_literal(&jw, "}");
            }

            ngx_http_mcp_jw_literal(&jw, "}");

            for (i = 0, n = 0; i < tc->params.nelts; i++) {
                if (!param[i].required) {
                    continue;
                }

                if (n) {
                    ngx_http_mcp_jw_literal(&jw, ",");

                } else {
                    ngx_http_mcp_jw_literal(&jw, ",\"required\":[");
                }

                ngx_http_mcp_jw_str(&jw, &param[i].name);
                n++;
            }

            if (n) {
                ngx_http_mcp_jw_literal(&jw, "]");
            }
        }

        ngx_http_mcp_jw_literal(&jw, ",\"additionalProperties\":false}");

        if (ngx_http_mcp_jw_finish(&jw, &text) != NGX_OK) {
            return NGX_ERROR;
        }

        if (ngx_http_mcp_json_parse(cf->pool, text.data, text.len, NULL,
                                    &tool->input_schema, &err)
            != NGX_OK)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "tool \"%V\": generated inputSchema: %V",
                               &tool->name, &err);
            return NGX_ERROR;
        }
    }

    if (ngx_http_mcp_jw_init(&jw, cf->pool, 512) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_mcp_jw_literal(&jw, "{\"name\":");
    ngx_http_mcp_jw_str(&jw, &tool->name);

    if (tc->title.len) {
        ngx_http_mcp_jw_literal(&jw, ",\"title\":");
        ngx_http_mcp_jw_str(&jw, &tc->title);
    }

    ngx_http_mcp_jw_literal(&jw, ",\"description\":");
    ngx_http_mcp_jw_str(&jw, &tc->description);

    ngx_http_mcp_jw_literal(&jw, ",\"inputSchema\":");
    ngx_http_mcp_jw_value(&jw, tool->input_schema);

    if (tool->output_schema) {
        ngx_http_mcp_jw_literal(&jw, ",\"outputSchema\":");
        ngx_http_mcp_jw_value(&jw, tool->output_schema);
    }

    for (i = 0, n = 0; i < 4; i++) {
        if (tc->annotations[i] == -1) {
            continue;
        }

        if (n) {
            ngx_http_mcp_jw_literal(&jw, ",");

        } else {
            ngx_http_mcp_jw_literal(&jw, ",\"annotations\":{");
        }

        ngx_http_mcp_jw_raw(&jw, ngx_http_mcp_annotation_keys[i].data,
                            ngx_http_mcp_annotation_keys[i].len);

        if (tc->annotations[i]) {
            ngx_http_mcp_jw_literal(&jw, "true");

        } else {
            ngx_http_mcp_jw_literal(&jw, "false");
        }

        n++;
    }

    if (n) {
        ngx_http_mcp_jw_literal(&jw, "}");
    }

    ngx_http_mcp_jw_literal(&jw, "}");

    return ngx_http_mcp_jw_finish(&jw, &tool->json);
}


ngx_int_t
ngx_http_mcp_registry_resource_json(ngx_conf_t *cf,
    ngx_http_mcp_resource_t *res, ngx_uint_t is_template, ngx_str_t *name,
    ngx_str_t *title, ngx_str_t *description, ngx_str_t *mime, off_t size)
{
    ngx_http_mcp_jw_t  jw;

    if (ngx_http_mcp_jw_init(&jw, cf->pool, 256) != NGX_OK) {
        return NGX_ERROR;
    }

    if (is_template) {
        ngx_http_mcp_jw_literal(&jw, "{\"uriTemplate\":");

    } else {
        ngx_http_mcp_jw_literal(&jw, "{\"uri\":");
    }

    ngx_http_mcp_jw_str(&jw, &res->uri);

    ngx_http_mcp_jw_literal(&jw, ",\"name\":");
    ngx_http_mcp_jw_str(&jw, name->len ? name : &res->uri);

    if (title->len) {
        ngx_http_mcp_jw_literal(&jw, ",\"title\":");
        ngx_http_mcp_jw_str(&jw, title);
    }

    if (description->len) {
        ngx_http_mcp_jw_literal(&jw, ",\"description\":");
        ngx_http_mcp_jw_str(&jw, description);
    }

    if (mime->len) {
        ngx_http_mcp_jw_literal(&jw, ",\"mimeType\":");
        ngx_http_mcp_jw_str(&jw, mime);
    }

    if (size >= 0) {
        ngx_http_mcp_jw_literal(&jw, ",\"size\":");
        ngx_http_mcp_jw_int(&jw, size);
    }

    ngx_http_mcp_jw_literal(&jw, "}");

    return ngx_http_mcp_jw_finish(&jw, &res->json);
}


ngx_int_t
ngx_http_mcp_registry_prompt_json(ngx_conf_t *cf,
    ngx_http_mcp_prompt_t *prompt, ngx_str_t *title)
{
    ngx_uint_t             i;
    ngx_http_mcp_jw_t      jw;
    ngx_http_mcp_param_t  *param;

    if (ngx_http_mcp_jw_init(&jw, cf->pool, 256) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_mcp_jw_literal(&jw, "{\"name\":");
    ngx_http_mcp_jw_str(&jw, &prompt->name);

    if (title->len) {
        ngx_http_mcp_jw_literal(&jw, ",\"title\":");
        ngx_http_mcp_jw_str(&jw, title);
    }

    ngx_http_mcp_jw_literal(&jw, ",\"description\":");
    ngx_http_mcp_jw_raw(&jw, prompt->description.data,
                        prompt->description.len);

    param = prompt->params.elts;

    if (prompt->params.nelts) {
        ngx_http_mcp_jw_literal(&jw, ",\"arguments\":[");

        for (i = 0; i < prompt->params.nelts; i++) {
            if (i) {
                ngx_http_mcp_jw_literal(&jw, ",");
            }

            ngx_http_mcp_jw_literal(&jw, "{\"name\":");
            ngx_http_mcp_jw_str(&jw, &param[i].name);

            if (param[i].description.len) {
                ngx_http_mcp_jw_literal(&jw, ",\"description\":");
                ngx_http_mcp_jw_str(&jw, &param[i].description);
            }

            if (param[i].required) {
                ngx_http_mcp_jw_literal(&jw, ",\"required\":true");
            }

            ngx_http_mcp_jw_literal(&jw, "}");
        }

        ngx_http_mcp_jw_literal(&jw, "]");
    }

    ngx_http_mcp_jw_literal(&jw, "}");

    return ngx_http_mcp_jw_finish(&jw, &prompt->json);
}


ngx_int_t
ngx_http_mcp_registry_template_parse(ngx_conf_t *cf,
    ngx_http_mcp_resource_t *tpl, ngx_str_t *err)
{
    u_char                *p, *last, *open, *close, *c;
    ngx_http_mcp_seg_t    *seg;
    ngx_http_mcp_param_t  *param;

    if (ngx_array_init(&tpl->parts, cf->pool, 4, sizeof(ngx_http_mcp_seg_t))
        != NGX_OK
        || ngx_array_init(&tpl->params, cf->pool, 2,
                          sizeof(ngx_http_mcp_param_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    p = tpl->uri.data;
    last = p + tpl->uri.len;

    while (p < last) {

        open = ngx_strlchr(p, last, '{');

        if (open == NULL) {
            open = last;
        }

        c = ngx_strlchr(p, open, '}');
        if (c) {
            ngx_str_set(err, "unbalanced \"}\"");
            return NGX_DECLINED;
        }

        if (open > p) {
            seg = ngx_array_push(&tpl->parts);
            if (seg == NULL) {
                return NGX_ERROR;
            }

            seg->text.data = p;
            seg->text.len = open - p;
            seg->arg = NGX_HTTP_MCP_SEG_LITERAL;
        }

        if (open == last) {
            break;
        }

        close = ngx_strlchr(open + 1, last, '}');
        if (close == NULL) {
            ngx_str_set(err, "unterminated \"{\"");
            return NGX_DECLINED;
        }

        if (close == open + 1) {
            ngx_str_set(err, "empty \"{}\"");
            return NGX_DECLINED;
        }

        for (c = open + 1; c < close; c++) {
            if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')
                || (*c >= '0' && *c <= '9') || *c == '_' || *c == '.')
            {
                continue;
            }

            ngx_str_set(err, "only simple {name} expressions of "
                        "[A-Za-z0-9_.] are supported (RFC 6570 level 1)");
            return NGX_DECLINED;
        }

        if (tpl->parts.nelts) {
            seg = tpl->parts.elts;
            if (seg[tpl->parts.nelts - 1].arg != NGX_HTTP_MCP_SEG_LITERAL) {
                ngx_str_set(err, "two variables must be separated by "
                            "literal text");
                return NGX_DECLINED;
            }
        }

        if (ngx_http_mcp_registry_param(&tpl->params, open + 1,
                                        close - open - 1))
        {
            ngx_str_set(err, "a variable is used twice");
            return NGX_DECLINED;
        }

        param = ngx_array_push(&tpl->params);
        if (param == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(param, sizeof(ngx_http_mcp_param_t));
        param->name.data = open + 1;
        param->name.len = close - open - 1;
        param->required = 1;

        seg = ngx_array_push(&tpl->parts);
        if (seg == NULL) {
            return NGX_ERROR;
        }

        ngx_str_null(&seg->text);
        seg->arg = tpl->params.nelts - 1;

        p = close + 1;
    }

    if (tpl->params.nelts == 0) {
        ngx_str_set(err, "no {variable}: declare it as a resource");
        return NGX_DECLINED;
    }

    return NGX_OK;
}


ngx_http_mcp_param_t *
ngx_http_mcp_registry_param(ngx_array_t *params, u_char *name, size_t len)
{
    ngx_uint_t             i;
    ngx_http_mcp_param_t  *param;

    param = params->elts;

    for (i = 0; i < params->nelts; i++) {
        if (param[i].name.len == len
            && ngx_strncmp(param[i].name.data, name, len) == 0)
        {
            return &param[i];
        }
    }

    return NULL;
}


ngx_int_t
ngx_http_mcp_registry_init(ngx_conf_t *cf, ngx_http_mcp_server_t *srv)
{
    ngx_http_mcp_jw_t             jw;
    ngx_http_mcp_registry_ctx_t  *ctx;

    if (srv->name.len == 0) {
        srv->name = srv->id;
    }

    if (srv->version.len == 0) {
        ngx_str_set(&srv->version, "1.0.0");
    }

    if (ngx_http_mcp_jw_init(&jw, cf->pool, 256) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_mcp_jw_literal(&jw, "\"serverInfo\":{\"name\":");
    ngx_http_mcp_jw_str(&jw, &srv->name);
    ngx_http_mcp_jw_literal(&jw, ",\"version\":");
    ngx_http_mcp_jw_str(&jw, &srv->version);

    if (srv->title.len) {
        ngx_http_mcp_jw_literal(&jw, ",\"title\":");
        ngx_http_mcp_jw_str(&jw, &srv->title);
    }

    if (srv->description.len) {
        ngx_http_mcp_jw_literal(&jw, ",\"description\":");
        ngx_http_mcp_jw_str(&jw, &srv->description);
    }

    ngx_http_mcp_jw_literal(&jw, "}");

    if (ngx_http_mcp_jw_finish(&jw, &srv->server_info) != NGX_OK) {
        return NGX_ERROR;
    }

    /*
     * tools and prompts by name, resources by uri: sorted, for binary
     * search (ngx_hash_t folds case, and names are case-sensitive)
     */

    ctx = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_registry_ctx_t));
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    srv->ctx = ctx;

    if (ngx_http_mcp_registry_index(cf, &srv->tools,
                                    offsetof(ngx_http_mcp_tool_t, name),
                                    &ctx->tools)
        != NGX_OK
        || ngx_http_mcp_registry_index(cf, &srv->resources,
                                       offsetof(ngx_http_mcp_resource_t, uri),
                                       &ctx->resources)
           != NGX_OK
        || ngx_http_mcp_registry_index(cf, &srv->prompts,
                                       offsetof(ngx_http_mcp_prompt_t, name),
                                       &ctx->prompts)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a table of the items' pointers, sorted by the ngx_str_t at "key" */

static ngx_int_t
ngx_http_mcp_registry_index(ngx_conf_t *cf, ngx_array_t *items, size_t key,
    ngx_http_mcp_registry_entry_t **index)
{
    u_char                         *p;
    ngx_uint_t                      i;
    ngx_http_mcp_registry_entry_t  *e;

    if (items->nelts == 0) {
        return NGX_OK;
    }

    e = ngx_palloc(cf->pool,
                   items->nelts * sizeof(ngx_http_mcp_registry_entry_t));
    if (e == NULL) {
        return NGX_ERROR;
    }

    p = items->elts;

    for (i = 0; i < items->nelts; i++) {
        e[i].item = p + i * items->size;
        e[i].key = (ngx_str_t *) (p + i * items->size + key);
    }

    ngx_qsort(e, items->nelts, sizeof(ngx_http_mcp_registry_entry_t),
              ngx_http_mcp_registry_cmp);

    *index = e;

    return NGX_OK;
}


static int ngx_libc_cdecl
ngx_http_mcp_registry_cmp(const void *one, const void *two)
{
    ngx_http_mcp_registry_entry_t  *a, *b;

    a = (ngx_http_mcp_registry_entry_t *) one;
    b = (ngx_http_mcp_registry_entry_t *) two;

    return (int) ngx_memn2cmp(a->key->data, b->key->data, a->key->len,
                              b->key->len);
}


/* binary search of a table built by registry_index: the item or NULL */

static void *
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


/* request time */

ngx_int_t
ngx_http_mcp_registry_list(ngx_http_mcp_server_t *srv,
    ngx_http_mcp_list_e kind, ngx_str_t *cursor, ngx_uint_t page_size,
    ngx_http_mcp_jw_t *jw)
{
    u_char                buf[NGX_INT_T_LEN + 1], *p, *item;
    size_t                len;
    ngx_str_t            *json;
    ngx_uint_t            i, start, end, nelts;
    ngx_array_t          *items;
    ngx_http_mcp_list_t  *list;

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

    if (page_size == 0 || page_size > nelts - start) {
        end = nelts;

    } else {
        end = start + page_size;
    }

    /* one buffer for the page, the envelope's tail included */

    len = list->key.len + 512;

    for (i = start; i < end; i++) {
        item = (u_char *) items->elts + i * items->size;
        len += ((ngx_str_t *) (item + list->json))->len + 1;
    }

    ngx_http_mcp_jw_reserve(jw, len);

    ngx_http_mcp_jw_raw(jw, list->key.data, list->key.len);

    for (i = start; i < end; i++) {
        if (i > start) {
            ngx_http_mcp_jw_literal(jw, ",");
        }

        item = (u_char *) items->elts + i * items->size;
        json = (ngx_str_t *) (item + list->json);
        ngx_http_mcp_jw_raw(jw, json->data, json->len);
    }

    ngx_http_mcp_jw_literal(jw, "]");

    if (end < nelts) {
        p = ngx_sprintf(buf, "c%ui", end);
        ngx_http_mcp_jw_literal(jw, ",\"nextCursor\":");
        ngx_http_mcp_jw_string(jw, buf, p - buf);
    }

    return NGX_OK;
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


ngx_int_t
ngx_http_mcp_registry_read(ngx_http_mcp_server_t *srv, ngx_str_t *uri,
    ngx_http_mcp_jw_t *jw, ngx_http_mcp_resource_t **backed,
    ngx_str_t **vars)
{
    ngx_str_t                    *values;
    ngx_uint_t                    i;
    ngx_http_mcp_resource_t      *res, *tpl;
    ngx_http_mcp_registry_ctx_t  *ctx;

    ctx = srv->ctx;

    res = ngx_http_mcp_registry_search(ctx->resources, srv->resources.nelts,
                                       uri);

    if (res && res->backend) {
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

        if (tpl[i].backend) {
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
    ngx_http_mcp_json_t *args, ngx_http_mcp_jw_t *jw, ngx_str_t *err,
    ngx_http_mcp_prompt_t **backed)
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

    if (prompt->backend) {
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
    ngx_http_mcp_jw_t *jw, ngx_str_t *err)
{
    ngx_str_t                    *v;
    ngx_uint_t                    i, total;
    ngx_array_t                  *params;
    ngx_http_mcp_param_t         *param;
    ngx_http_mcp_prompt_t        *prompt;
    ngx_http_mcp_resource_t      *tpl;
    ngx_http_mcp_registry_ctx_t  *ctx;

    ctx = srv->ctx;
    params = NULL;

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


ngx_http_mcp_server_t *
ngx_http_mcp_registry_find(ngx_http_mcp_main_conf_t *mmcf, ngx_str_t *name)
{
    ngx_uint_t               i;
    ngx_http_mcp_server_t  **srv;

    srv = mmcf->servers.elts;

    for (i = 0; i < mmcf->servers.nelts; i++) {
        if (srv[i]->id.len == name->len
            && ngx_strncmp(srv[i]->id.data, name->data, name->len) == 0)
        {
            return srv[i];
        }
    }

    return NULL;
}
