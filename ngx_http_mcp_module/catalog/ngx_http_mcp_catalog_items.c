
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


#define NGX_HTTP_MCP_MSG_TEXT      0
#define NGX_HTTP_MCP_MSG_IMAGE     1
#define NGX_HTTP_MCP_MSG_RESOURCE  2


typedef struct {
    ngx_uint_t                  kind;      /* NGX_HTTP_MCP_MSG_* */
    ngx_str_t                   role;
    ngx_str_t                   uri;
    ngx_str_t                   mime;
    ngx_str_t                   data;      /* text, or the image bytes */
} ngx_http_mcp_message_t;


static char *ngx_http_mcp_resource_data(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_mcp_resource_done(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b);
static char *ngx_http_mcp_template_done(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b);
static char *ngx_http_mcp_resource_end(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b, ngx_uint_t is_template);
static ngx_int_t ngx_http_mcp_resource_pass(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b, ngx_uint_t is_template);
static char *ngx_http_mcp_entry_complete(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_mcp_prompt_argument(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_mcp_prompt_message(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_mcp_prompt_done(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b);


static ngx_http_mcp_keyword_t  ngx_http_mcp_resource_entries[] = {
    { ngx_string("name"), 1, 1, ngx_http_mcp_block_str(name) },
    { ngx_string("title"), 1, 1, ngx_http_mcp_block_str(title) },
    { ngx_string("description"), 1, 1, ngx_http_mcp_block_str(description) },
    { ngx_string("mime_type"), 1, 1, ngx_http_mcp_block_str(mime) },
    { ngx_string("text"), 1, 1, ngx_http_mcp_resource_data, 0 },
    { ngx_string("file"), 1, 1, ngx_http_mcp_resource_data, 0 },
    { ngx_null_string, 0, 0, NULL, 0 }
};


static ngx_http_mcp_keyword_t  ngx_http_mcp_template_entries[] = {
    { ngx_string("name"), 1, 1, ngx_http_mcp_block_str(name) },
    { ngx_string("title"), 1, 1, ngx_http_mcp_block_str(title) },
    { ngx_string("description"), 1, 1, ngx_http_mcp_block_str(description) },
    { ngx_string("mime_type"), 1, 1, ngx_http_mcp_block_str(mime) },
    { ngx_string("text"), 1, 1, ngx_http_mcp_resource_data, 0 },
    { ngx_string("complete"), 2, NGX_HTTP_MCP_ANY,
      ngx_http_mcp_entry_complete, 0 },
    { ngx_null_string, 0, 0, NULL, 0 }
};


static ngx_http_mcp_keyword_t  ngx_http_mcp_prompt_entries[] = {
    { ngx_string("title"), 1, 1, ngx_http_mcp_block_str(title) },
    { ngx_string("description"), 1, 1, ngx_http_mcp_block_str(description) },
    { ngx_string("argument"), 1, 3, ngx_http_mcp_prompt_argument, 0 },
    { ngx_string("message"), 2, 2, ngx_http_mcp_prompt_message, 0 },
    { ngx_string("message_image"), 2, 3, ngx_http_mcp_prompt_message, 0 },
    { ngx_string("message_resource"), 4, 4, ngx_http_mcp_prompt_message, 0 },
    { ngx_string("complete"), 2, NGX_HTTP_MCP_ANY,
      ngx_http_mcp_entry_complete, 0 },
    { ngx_null_string, 0, 0, NULL, 0 }
};


char *
ngx_http_mcp_catalog_resource(ngx_conf_t *cf, ngx_http_mcp_catalog_t *cat,
    ngx_str_t *value)
{
    ngx_http_mcp_block_t   b;

    b.res = ngx_http_mcp_catalog_open(cf, cat, &b,
                                      NGX_HTTP_MCP_LIST_RESOURCES, &value[1]);
    if (b.res == NULL) {
        return NGX_CONF_ERROR;
    }

    b.res->uri = value[1];

    return ngx_http_mcp_catalog_block(cf, &b, ngx_http_mcp_resource_entries,
                                      ngx_http_mcp_resource_done);
}


char *
ngx_http_mcp_catalog_template(ngx_conf_t *cf, ngx_http_mcp_catalog_t *cat,
    ngx_str_t *value)
{
    ngx_int_t              rc;
    ngx_str_t              err;
    ngx_http_mcp_block_t   b;

    b.res = ngx_http_mcp_catalog_open(cf, cat, &b,
                                      NGX_HTTP_MCP_LIST_TEMPLATES, &value[1]);
    if (b.res == NULL) {
        return NGX_CONF_ERROR;
    }

    b.res->uri = value[1];

    rc = ngx_http_mcp_registry_template_parse(cf, b.res, &err);

    if (rc == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    if (rc != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid resource_template \"%V\": %V",
                           &value[1], &err);
        return NGX_CONF_ERROR;
    }

    return ngx_http_mcp_catalog_block(cf, &b, ngx_http_mcp_template_entries,
                                      ngx_http_mcp_template_done);
}


char *
ngx_http_mcp_catalog_prompt(ngx_conf_t *cf, ngx_http_mcp_catalog_t *cat,
    ngx_str_t *value)
{
    ngx_http_mcp_block_t   b;

    b.prompt = ngx_http_mcp_catalog_open(cf, cat, &b,
                                         NGX_HTTP_MCP_LIST_PROMPTS, &value[1]);
    if (b.prompt == NULL) {
        return NGX_CONF_ERROR;
    }

    b.prompt->name = value[1];

    if (ngx_array_init(&b.prompt->params, cf->pool, 4,
                       sizeof(ngx_http_mcp_param_t))
        != NGX_OK
        || ngx_array_init(&b.prompt->messages, cf->pool, 4,
                          sizeof(ngx_http_mcp_seg_t))
           != NGX_OK
        || ngx_array_init(&b.messages, cf->temp_pool, 4,
                          sizeof(ngx_http_mcp_message_t))
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return ngx_http_mcp_catalog_block(cf, &b, ngx_http_mcp_prompt_entries,
                                      ngx_http_mcp_prompt_done);
}


/* resource and resource_template entries */

static char *
ngx_http_mcp_resource_data(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_str_t *value, ngx_uint_t n)
{
    if (b->has_data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%s \"%V\" already has its content "
                           "(one \"text\" or \"file\")", b->what, &b->id);
        return NGX_CONF_ERROR;
    }

    b->has_data = 1;

    if (value[0].data[0] == 't') {
        b->data = value[1];
        return NGX_CONF_OK;
    }

    b->file = value[1];

    return ngx_http_mcp_catalog_read(cf, &b->file, &b->data);
}


static char *
ngx_http_mcp_resource_done(ngx_conf_t *cf, ngx_http_mcp_block_t *b)
{
    return ngx_http_mcp_resource_end(cf, b, 0);
}


static char *
ngx_http_mcp_template_done(ngx_conf_t *cf, ngx_http_mcp_block_t *b)
{
    return ngx_http_mcp_resource_end(cf, b, 1);
}


/*
 * The end of a resource or resource_template block: a backend answers it,
 * or its content is written now (a resource's whole read entry; a
 * template's, after `{"uri":<the uri read>`, with {variable} segments).
 */

static char *
ngx_http_mcp_resource_end(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_uint_t is_template)
{
    off_t                     size;
    ngx_int_t                 rc;
    ngx_array_t               one, *segs;
    ngx_http_mcp_sb_t         sb;
    ngx_http_mcp_resource_t  *res;

    res = b->res;

    rc = ngx_http_mcp_resource_pass(cf, b, is_template);

    if (rc != NGX_DECLINED) {
        return (rc == NGX_OK) ? NGX_CONF_OK : NGX_CONF_ERROR;
    }

    if (!b->has_data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           is_template
                           ? "resource_template \"%V\" has no \"text\" or "
                             "\"pass\""
                           : "resource \"%V\" has no content: add \"text\", "
                             "\"file\" or \"pass\"", &b->id);
        return NGX_CONF_ERROR;
    }

    if (b->mime.len == 0
        && (b->file.len == 0
            || ngx_http_mcp_media_of(&b->file, &b->mime) != NGX_OK))
    {
        if (b->file.len) {
            ngx_str_set(&b->mime, "application/octet-stream");

        } else {
            ngx_str_set(&b->mime, "text/plain");
        }
    }

    segs = is_template ? &res->body : &one;

    if (ngx_array_init(segs, cf->pool, 4, sizeof(ngx_http_mcp_seg_t))
        != NGX_OK
        || ngx_http_mcp_sb_init(&sb, cf->pool, segs,
                                is_template ? &res->params : NULL)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (is_template) {
        ngx_http_mcp_sb_literal(&sb, ",\"mimeType\":");
        ngx_http_mcp_jw_str(&sb.jw, &b->mime);
        ngx_http_mcp_sb_literal(&sb, ",\"text\":");
        ngx_http_mcp_sb_string(&sb, b->data.data, b->data.len);
        ngx_http_mcp_sb_literal(&sb, "}");

    } else {
        ngx_http_mcp_content_read(&sb, &res->uri, &b->mime, &b->data,
                                  b->file.len
                                  && !ngx_http_mcp_media_textual(&b->mime));
    }

    if (ngx_http_mcp_sb_finish(&sb) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (!is_template) {

        if (one.nelts != 1) {
            return NGX_CONF_ERROR;
        }

        res->contents = ((ngx_http_mcp_seg_t *) one.elts)[0].text;
    }

    size = is_template ? -1 : (off_t) b->data.len;    /* a template: none */

    if (ngx_http_mcp_registry_resource_json(cf, res, is_template, &b->name,
                                            &b->title, &b->description,
                                            &b->mime, size)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * A resource or resource_template answered by a backend (`pass`): its list
 * entry (no size; mimeType only when given).  NGX_DECLINED: the block has
 * no backend line.
 */

static ngx_int_t
ngx_http_mcp_resource_pass(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_uint_t is_template)
{
    ngx_http_mcp_catalog_bind(b, &b->res->entry, NGX_HTTP_MCP_ITEM_RESOURCE,
                              b->res);

    if (b->entry.backend == NULL) {
        return NGX_DECLINED;
    }

    if (b->has_data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%s \"%V\" has both \"%V\" and its content",
                           b->what, &b->id, &b->entry.backend->name);
        return NGX_ERROR;
    }

    b->res->mime = b->mime;

    return ngx_http_mcp_registry_resource_json(cf, b->res, is_template,
                                               &b->name, &b->title,
                                               &b->description, &b->mime, -1);
}


/* `complete NAME VALUE ...` in a prompt or a resource_template */

static char *
ngx_http_mcp_entry_complete(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_str_t             *v;
    ngx_uint_t             i;
    ngx_array_t           *params;
    ngx_http_mcp_param_t  *param;

    params = b->prompt ? &b->prompt->params : &b->res->params;

    param = ngx_http_mcp_registry_param(params, value[1].data, value[1].len);

    if (param == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"complete\" for \"%V\", which %s \"%V\" does "
                           "not declare%s", &value[1], b->what, &b->id,
                           b->prompt ? " (declare the argument first)" : "");
        return NGX_CONF_ERROR;
    }

    if (param->complete == NULL) {
        param->complete = ngx_array_create(cf->pool, n - 1,
                                           sizeof(ngx_str_t));
        if (param->complete == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    for (i = 2; i <= n; i++) {
        v = ngx_array_push(param->complete);
        if (v == NULL) {
            return NGX_CONF_ERROR;
        }

        *v = value[i];
    }

    return NGX_CONF_OK;
}


/* prompt entries */

static char *
ngx_http_mcp_prompt_argument(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_str_t *value, ngx_uint_t n)
{
    return ngx_http_mcp_catalog_param(cf, b, &b->prompt->params, value, n, 0);
}


static char *
ngx_http_mcp_prompt_message(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_http_mcp_message_t  *msg;

    if (ngx_strcmp(value[1].data, "user") != 0
        && ngx_strcmp(value[1].data, "assistant") != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid role \"%V\": use user or assistant",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    msg = ngx_array_push(&b->messages);
    if (msg == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(msg, sizeof(ngx_http_mcp_message_t));
    msg->role = value[1];

    if (value[0].len == sizeof("message") - 1) {
        msg->kind = NGX_HTTP_MCP_MSG_TEXT;
        msg->data = value[2];
        return NGX_CONF_OK;
    }

    if (value[0].data[sizeof("message_") - 1] == 'r') {
        msg->kind = NGX_HTTP_MCP_MSG_RESOURCE;
        msg->uri = value[2];
        msg->mime = value[3];
        msg->data = value[4];

        /* a {placeholder} may stand for the scheme: check only the form */

        if (value[2].len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "empty resource URI");
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    msg->kind = NGX_HTTP_MCP_MSG_IMAGE;

    return ngx_http_mcp_catalog_media(cf, &value[2],
                                      (n == 3) ? &value[3] : NULL, NULL,
                                      &msg->data, &msg->mime);
}


static char *
ngx_http_mcp_prompt_done(ngx_conf_t *cf, ngx_http_mcp_block_t *b)
{
    ngx_uint_t               i;
    ngx_http_mcp_jw_t        jw;
    ngx_http_mcp_sb_t        sb;
    ngx_http_mcp_prompt_t   *prompt;
    ngx_http_mcp_message_t  *msg;

    prompt = b->prompt;

    if (b->description.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "prompt \"%V\" has no description", &b->id);
        return NGX_CONF_ERROR;
    }

    if (b->entry.backend && b->messages.nelts) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "prompt \"%V\" has both \"%V\" and messages",
                           &b->id, &b->entry.backend->name);
        return NGX_CONF_ERROR;
    }

    if (b->messages.nelts == 0 && b->entry.backend == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "prompt \"%V\" has no messages: add \"message\", "
                           "\"message_image\", \"message_resource\" or "
                           "\"pass\"", &b->id);
        return NGX_CONF_ERROR;
    }

    ngx_http_mcp_catalog_bind(b, &prompt->entry, NGX_HTTP_MCP_ITEM_PROMPT,
                              prompt);

    if (ngx_http_mcp_jw_init(&jw, cf->pool, 64) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    ngx_http_mcp_jw_str(&jw, &b->description);

    if (ngx_http_mcp_jw_finish(&jw, &prompt->description) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (prompt->entry.backend) {
        goto done;
    }

    /* the messages, with {argument} segments */

    if (ngx_http_mcp_sb_init(&sb, cf->pool, &prompt->messages,
                             &prompt->params)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    msg = b->messages.elts;

    for (i = 0; i < b->messages.nelts; i++) {

        if (i) {
            ngx_http_mcp_sb_literal(&sb, ",");
        }

        ngx_http_mcp_sb_literal(&sb, "{\"role\":");
        ngx_http_mcp_jw_str(&sb.jw, &msg[i].role);
        ngx_http_mcp_sb_literal(&sb, ",\"content\":");

        switch (msg[i].kind) {

        case NGX_HTTP_MCP_MSG_TEXT:
            ngx_http_mcp_content_text(&sb, &msg[i].data);
            break;

        case NGX_HTTP_MCP_MSG_IMAGE:
            ngx_http_mcp_content_media(&sb, 0, &msg[i].data, &msg[i].mime);
            break;

        default: /* NGX_HTTP_MCP_MSG_RESOURCE */
            ngx_http_mcp_content_embedded(&sb, &msg[i].uri, &msg[i].mime,
                                         &msg[i].data, 0);
            break;
        }

        ngx_http_mcp_sb_literal(&sb, "}");
    }

    if (ngx_http_mcp_sb_finish(&sb) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

done:

    if (ngx_http_mcp_registry_prompt_json(cf, prompt, &b->title) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
