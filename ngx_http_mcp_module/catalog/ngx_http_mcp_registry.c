
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "catalog/ngx_http_mcp_registry.h"
#include "catalog/ngx_http_mcp_registry_int.h"


static ngx_int_t ngx_http_mcp_registry_input_schema(ngx_conf_t *cf,
    ngx_http_mcp_tool_t *tool, ngx_http_mcp_tool_conf_t *tc);
static ngx_int_t ngx_http_mcp_sb_flush(ngx_http_mcp_sb_t *sb);
static ngx_uint_t ngx_http_mcp_registry_any(ngx_array_t *items,
    size_t entry, size_t field);
static ngx_int_t ngx_http_mcp_registry_index(ngx_conf_t *cf,
    ngx_array_t *items, size_t key, ngx_http_mcp_registry_entry_t **index);
static int ngx_libc_cdecl ngx_http_mcp_registry_cmp(const void *one,
    const void *two);


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


/* the inputSchema of a tool's `argument` lines, generated and parsed */

static ngx_int_t
ngx_http_mcp_registry_input_schema(ngx_conf_t *cf, ngx_http_mcp_tool_t *tool,
    ngx_http_mcp_tool_conf_t *tc)
{
    ngx_str_t              text, err;
    ngx_uint_t             i, n;
    ngx_http_mcp_jw_t      jw;
    ngx_http_mcp_param_t  *param;


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

    return NGX_OK;
}


/* configuration time: serialisation */

ngx_int_t
ngx_http_mcp_registry_tool_json(ngx_conf_t *cf, ngx_http_mcp_tool_t *tool,
    ngx_http_mcp_tool_conf_t *tc)
{
    ngx_uint_t          i, n;
    ngx_http_mcp_jw_t   jw;

    if (tool->input_schema == NULL
        && ngx_http_mcp_registry_input_schema(cf, tool, tc) != NGX_OK)
    {
        return NGX_ERROR;
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
    size_t                        field;
    ngx_uint_t                    i, f, any[NGX_HTTP_MCP_LIST_MAX];
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

    for (f = 0; f < 2; f++) {
        field = f ? offsetof(ngx_http_mcp_entry_t, limits)
                  : offsetof(ngx_http_mcp_entry_t, scopes);

        any[NGX_HTTP_MCP_LIST_TOOLS] = ngx_http_mcp_registry_any(
            &srv->tools, offsetof(ngx_http_mcp_tool_t, entry), field);
        any[NGX_HTTP_MCP_LIST_RESOURCES] = ngx_http_mcp_registry_any(
            &srv->resources, offsetof(ngx_http_mcp_resource_t, entry), field);
        any[NGX_HTTP_MCP_LIST_TEMPLATES] = ngx_http_mcp_registry_any(
            &srv->templates, offsetof(ngx_http_mcp_resource_t, entry), field);
        any[NGX_HTTP_MCP_LIST_PROMPTS] = ngx_http_mcp_registry_any(
            &srv->prompts, offsetof(ngx_http_mcp_prompt_t, entry), field);

        for (i = 0; i < NGX_HTTP_MCP_LIST_MAX; i++) {
            if (f) {
                srv->limited |= any[i];

            } else {
                ctx->scoped[i] = any[i];
            }
        }
    }

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

/*
 * whether an item of the list has the entry's array at "field": scopes
 * (its pages then differ by caller), limits
 */

static ngx_uint_t
ngx_http_mcp_registry_any(ngx_array_t *items, size_t entry, size_t field)
{
    u_char      *item;
    ngx_uint_t   i;

    for (i = 0; i < items->nelts; i++) {
        item = (u_char *) items->elts + i * items->size;

        if (*(ngx_array_t **) (item + entry + field)) {
            return 1;
        }
    }

    return 0;
}


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
