
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "catalog/ngx_http_mcp_catalog_conf.h"
#include "catalog/ngx_http_mcp_registry.h"
#include "json/ngx_http_mcp_schema.h"
#include "catalog/ngx_http_mcp_content.h"


static char *ngx_http_mcp_tool_argument(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_mcp_tool_schema(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_mcp_tool_annotations(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_mcp_tool_requires(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_mcp_tool_content(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_mcp_tool_structured(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b, ngx_str_t *value, ngx_uint_t n);
static ngx_int_t ngx_http_mcp_tool_result(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b);
static char *ngx_http_mcp_tool_done(ngx_conf_t *cf, ngx_http_mcp_block_t *b);


static ngx_http_mcp_keyword_t  ngx_http_mcp_tool_entries[] = {
    { ngx_string("title"), 1, 1, ngx_http_mcp_block_str(tc.title) },
    { ngx_string("description"), 1, 1,
      ngx_http_mcp_block_str(tc.description) },
    { ngx_string("argument"), 2, 4, ngx_http_mcp_tool_argument, 0 },
    { ngx_string("input_schema"), 1, 1, ngx_http_mcp_tool_schema, 0 },
    { ngx_string("input_schema_file"), 1, 1, ngx_http_mcp_tool_schema, 0 },
    { ngx_string("output_schema"), 1, 1, ngx_http_mcp_tool_schema, 0 },
    { ngx_string("output_schema_file"), 1, 1, ngx_http_mcp_tool_schema, 0 },
    { ngx_string("annotations"), 1, 4, ngx_http_mcp_tool_annotations, 0 },
    { ngx_string("confirm"), 1, 1, ngx_http_mcp_block_str(tc.confirm) },
    { ngx_string("requires_capability"), 1, 3, ngx_http_mcp_tool_requires,
      0 },
    { ngx_string("text"), 1, 1, ngx_http_mcp_tool_content, 0 },
    { ngx_string("text_file"), 1, 1, ngx_http_mcp_tool_content, 0 },
    { ngx_string("image"), 1, 2, ngx_http_mcp_tool_content, 0 },
    { ngx_string("audio"), 1, 2, ngx_http_mcp_tool_content, 0 },
    { ngx_string("resource"), 3, 3, ngx_http_mcp_tool_content, 0 },
    { ngx_string("resource_file"), 2, 3, ngx_http_mcp_tool_content, 0 },
    { ngx_string("resource_link"), 2, 3, ngx_http_mcp_tool_content, 0 },
    { ngx_string("error"), 1, 1, ngx_http_mcp_tool_content, 0 },
    { ngx_string("structured"), 1, 1, ngx_http_mcp_tool_structured, 0 },
    { ngx_null_string, 0, 0, NULL, 0 }
};


/* in the order of ngx_http_mcp_tool_conf_t.annotations */
static ngx_str_t  ngx_http_mcp_annotation_flags[] = {
    ngx_string("read_only"),
    ngx_string("destructive"),
    ngx_string("idempotent"),
    ngx_string("open_world"),
    ngx_null_string
};


static ngx_str_t  ngx_http_mcp_octet_stream =
    ngx_string("application/octet-stream");


static ngx_str_t  ngx_http_mcp_capabilities[] = {
    ngx_string("sampling"),
    ngx_string("elicitation"),
    ngx_string("roots"),
    ngx_null_string
};


char *
ngx_http_mcp_catalog_tool(ngx_conf_t *cf, ngx_http_mcp_catalog_t *cat,
    ngx_str_t *value)
{
    ngx_uint_t             i;
    ngx_http_mcp_block_t   b;

    b.tool = ngx_http_mcp_catalog_open(cf, cat, &b, NGX_HTTP_MCP_LIST_TOOLS,
                                       &value[1]);
    if (b.tool == NULL) {
        return NGX_CONF_ERROR;
    }

    b.tool->name = value[1];

    for (i = 0; i < 4; i++) {
        b.tc.annotations[i] = -1;
    }

    if (ngx_array_init(&b.tc.params, cf->pool, 4,
                       sizeof(ngx_http_mcp_param_t))
        != NGX_OK
        || ngx_array_init(&b.result, cf->pool, 1, sizeof(ngx_http_mcp_seg_t))
           != NGX_OK
        || ngx_http_mcp_sb_init(&b.sb, cf->pool, &b.result, NULL) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    ngx_http_mcp_sb_literal(&b.sb, "\"content\":[");

    return ngx_http_mcp_catalog_block(cf, &b, ngx_http_mcp_tool_entries,
                                      ngx_http_mcp_tool_done);
}


/* tool entries */

static char *
ngx_http_mcp_tool_argument(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_str_t *value, ngx_uint_t n)
{
    if (b->tool->input_schema) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"argument\" cannot be mixed with "
                           "\"input_schema\" in tool \"%V\"", &b->id);
        return NGX_CONF_ERROR;
    }

    return ngx_http_mcp_catalog_param(cf, b, &b->tc.params, value, n, 1);
}


static char *
ngx_http_mcp_tool_schema(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_int_t              rc;
    ngx_str_t              err;
    ngx_uint_t             input, is_file;
    ngx_http_mcp_json_t  **schema;

    input = (value[0].data[0] == 'i');
    is_file = (value[0].len > sizeof("_file") - 1
               && ngx_strcmp(value[0].data + value[0].len
                             - (sizeof("_file") - 1), "_file")
                  == 0);

    schema = input ? &b->tool->input_schema : &b->tool->output_schema;

    if (*schema) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate %s in tool \"%V\"",
                           input ? "input_schema" : "output_schema", &b->id);
        return NGX_CONF_ERROR;
    }

    if (input && b->tc.params.nelts) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" cannot be mixed with \"argument\" "
                           "in tool \"%V\"", &value[0], &b->id);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_mcp_catalog_json(cf, &value[1], is_file,
                                  (char *) value[0].data, schema)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    rc = ngx_http_mcp_schema_check(cf->pool, *schema, 1, &err);

    if (rc == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    if (rc != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid JSON Schema in %V of tool \"%V\": %V",
                           &value[0], &b->id, &err);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_tool_annotations(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_str_t *value, ngx_uint_t n)
{
    u_char      *eq;
    size_t       len;
    ngx_int_t    on;
    ngx_uint_t   i, k;

    for (i = 1; i <= n; i++) {

        len = value[i].len;
        on = 1;

        eq = ngx_strlchr(value[i].data, value[i].data + len, '=');

        if (eq) {
            len = eq - value[i].data;

            if (ngx_strcmp(eq + 1, "on") == 0) {
                on = 1;

            } else if (ngx_strcmp(eq + 1, "off") == 0) {
                on = 0;

            } else {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid annotation \"%V\": "
                                   "the value must be on or off", &value[i]);
                return NGX_CONF_ERROR;
            }
        }

        for (k = 0; ngx_http_mcp_annotation_flags[k].len; k++) {
            if (ngx_http_mcp_annotation_flags[k].len == len
                && ngx_strncmp(ngx_http_mcp_annotation_flags[k].data,
                               value[i].data, len)
                   == 0)
            {
                break;
            }
        }

        if (ngx_http_mcp_annotation_flags[k].len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown annotation \"%V\": use read_only, "
                               "destructive, idempotent or open_world",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        if (b->tc.annotations[k] != -1) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate annotation \"%V\" in tool \"%V\"",
                               &ngx_http_mcp_annotation_flags[k], &b->id);
            return NGX_CONF_ERROR;
        }

        b->tc.annotations[k] = on;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_tool_requires(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_uint_t  i, k;

    for (i = 1; i <= n; i++) {

        for (k = 0; ngx_http_mcp_capabilities[k].len; k++) {
            if (ngx_http_mcp_capabilities[k].len == value[i].len
                && ngx_strcmp(ngx_http_mcp_capabilities[k].data,
                              value[i].data)
                   == 0)
            {
                break;
            }
        }

        if (ngx_http_mcp_capabilities[k].len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown client capability \"%V\": use "
                               "sampling, elicitation or roots", &value[i]);
            return NGX_CONF_ERROR;
        }

        b->requires |= 1 << k;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_tool_content(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_str_t *value, ngx_uint_t n)
{
    u_char             *name;
    ngx_str_t           data, file, mime;
    ngx_http_mcp_sb_t  *sb;

    sb = &b->sb;
    name = value[0].data;

    /*
     * every entry here adds one content item, and a failed one fails the
     * whole configuration: the separator can be written first
     */

    if (b->nitems++) {
        ngx_http_mcp_sb_literal(sb, ",");
    }

    if (ngx_strcmp(name, "text") == 0 || ngx_strcmp(name, "error") == 0) {
        data = value[1];
        b->has_text = 1;

        if (name[0] == 'e') {
            b->tool->is_error = 1;
        }

        goto text;
    }

    if (ngx_strcmp(name, "text_file") == 0) {
        file = value[1];

        if (ngx_http_mcp_catalog_read(cf, &file, &data) != NGX_CONF_OK) {
            return NGX_CONF_ERROR;
        }

        b->has_text = 1;

        goto text;
    }

    if (ngx_strcmp(name, "resource_link") == 0) {
        if (ngx_http_mcp_catalog_uri(cf, "resource_link", &value[1])
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        if (n == 3) {
            mime = value[3];

        } else {
            ngx_str_null(&mime);
        }

        ngx_http_mcp_content_link(sb, &value[1], &value[2], &mime);

        return NGX_CONF_OK;
    }

    if (ngx_strcmp(name, "resource") == 0) {
        if (ngx_http_mcp_catalog_uri(cf, "resource", &value[1]) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        ngx_http_mcp_content_embedded(sb, &value[1], &value[2], &value[3], 0);

        return NGX_CONF_OK;
    }

    if (ngx_strcmp(name, "resource_file") == 0) {
        if (ngx_http_mcp_catalog_uri(cf, "resource_file", &value[1])
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        if (ngx_http_mcp_catalog_media(cf, &value[2],
                                       (n == 3) ? &value[3] : NULL,
                                       &ngx_http_mcp_octet_stream, &data,
                                       &mime)
            != NGX_CONF_OK)
        {
            return NGX_CONF_ERROR;
        }

        ngx_http_mcp_content_embedded(sb, &value[1], &mime, &data,
                                     !ngx_http_mcp_media_textual(&mime));

        return NGX_CONF_OK;
    }

    /* image, audio */

    if (ngx_http_mcp_catalog_media(cf, &value[1],
                                   (n == 2) ? &value[2] : NULL, NULL, &data,
                                   &mime)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    ngx_http_mcp_content_media(sb, name[0] == 'a', &data, &mime);

    return NGX_CONF_OK;

text:

    ngx_http_mcp_content_text(sb, &data);

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_tool_structured(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_str_t *value, ngx_uint_t n)
{
    if (b->structured) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate \"structured\" in tool \"%V\"", &b->id);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_mcp_catalog_json(cf, &value[1], 0, "structured",
                                  &b->structured)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (b->structured->type != NGX_HTTP_MCP_JSON_OBJECT) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"structured\" must be a JSON object");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* the static result: its content items, structuredContent, isError */

static ngx_int_t
ngx_http_mcp_tool_result(ngx_conf_t *cf, ngx_http_mcp_block_t *b)
{
    ngx_str_t             text;
    ngx_http_mcp_jw_t     jw;
    ngx_http_mcp_tool_t  *tool;

    tool = b->tool;

    if (b->structured) {
        if (!b->has_text) {
            if (ngx_http_mcp_jw_init(&jw, cf->pool, 256) != NGX_OK) {
                return NGX_ERROR;
            }

            ngx_http_mcp_jw_value(&jw, b->structured);

            if (ngx_http_mcp_jw_finish(&jw, &text) != NGX_OK) {
                return NGX_ERROR;
            }

            if (b->nitems++) {
                ngx_http_mcp_sb_literal(&b->sb, ",");
            }

            ngx_http_mcp_content_text(&b->sb, &text);
        }

        ngx_http_mcp_sb_literal(&b->sb, "],\"structuredContent\":");
        ngx_http_mcp_jw_value(&b->sb.jw, b->structured);

    } else {
        ngx_http_mcp_sb_literal(&b->sb, "]");
    }

    if (tool->is_error) {
        ngx_http_mcp_sb_literal(&b->sb, ",\"isError\":true");
    }

    if (ngx_http_mcp_sb_finish(&b->sb) != NGX_OK || b->result.nelts != 1) {
        return NGX_ERROR;
    }

    tool->result = ((ngx_http_mcp_seg_t *) b->result.elts)[0].text;

    return NGX_OK;
}


static char *
ngx_http_mcp_tool_done(ngx_conf_t *cf, ngx_http_mcp_block_t *b)
{
    ngx_int_t             rc;
    ngx_str_t             err;
    ngx_uint_t            k, n;
    ngx_http_mcp_jw_t     jw;
    ngx_http_mcp_tool_t  *tool;

    tool = b->tool;

    ngx_http_mcp_catalog_bind(b, &tool->entry, NGX_HTTP_MCP_ITEM_TOOL, tool);

    tool->entry.read_only = (b->tc.annotations[0] == 1);
    tool->entry.confirm = b->tc.confirm;

    if (b->tc.description.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "tool \"%V\" has no description", &b->id);
        return NGX_CONF_ERROR;
    }

    if (tool->entry.backend && (b->nitems || b->structured)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "tool \"%V\" has both \"%V\" and a static "
                           "result", &b->id, &tool->entry.backend->name);
        return NGX_CONF_ERROR;
    }

    if (tool->entry.backend == NULL) {

        tool->entry.backend = &ngx_http_mcp_static_backend;
        tool->entry.conf = &tool->result;

        if (b->nitems == 0 && b->structured == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "tool \"%V\" has no result: add text, "
                               "text_file, image, audio, resource, "
                               "resource_file, resource_link, structured "
                               "or error", &b->id);
            return NGX_CONF_ERROR;
        }

        if (tool->output_schema && b->structured == NULL && !tool->is_error) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "tool \"%V\" has an output_schema but no "
                               "\"structured\" result", &b->id);
            return NGX_CONF_ERROR;
        }
    }

    if (b->structured && tool->output_schema) {
        rc = ngx_http_mcp_schema_validate(cf->pool, tool->output_schema,
                                          b->structured, &err);

        if (rc == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }

        if (rc != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"structured\" of tool \"%V\" does not match "
                               "its output_schema: %V", &b->id, &err);
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_mcp_tool_result(cf, b) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* client capabilities it needs */

    if (b->requires) {
        if (ngx_http_mcp_jw_init(&jw, cf->pool, 64) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        for (k = 0, n = 0; ngx_http_mcp_capabilities[k].len; k++) {
            if (!(b->requires & (1 << k))) {
                continue;
            }

            if (n++) {
                ngx_http_mcp_jw_literal(&jw, ",");

            } else {
                ngx_http_mcp_jw_literal(&jw, "{");
            }

            ngx_http_mcp_jw_str(&jw, &ngx_http_mcp_capabilities[k]);
            ngx_http_mcp_jw_literal(&jw, ":{}");
        }

        ngx_http_mcp_jw_literal(&jw, "}");

        if (ngx_http_mcp_jw_finish(&jw, &tool->requires) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_mcp_registry_tool_json(cf, tool, &b->tc) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
