
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "protocol/ngx_http_mcp_results.h"
#include "json/ngx_http_mcp_media.h"


/*
 * What a backend answered (a neutral result: text or bytes with a type,
 * JSON, an error), as the result of the MCP method that called it, for the
 * client's revision: a CallToolResult, a ReadResourceResult's contents, a
 * GetPromptResult's messages (docs/BACKENDS.md).
 */


#define NGX_HTTP_MCP_RESULTS_ERRLEN  256


static ngx_int_t ngx_http_mcp_results_tool_json(ngx_http_mcp_result_t *res,
    ngx_pool_t *pool, ngx_uint_t object_only, ngx_http_mcp_jw_t *jw,
    ngx_http_mcp_json_t **meta, ngx_str_t *err);
static ngx_int_t ngx_http_mcp_results_json(ngx_http_mcp_result_t *res,
    char *what, ngx_pool_t *pool, ngx_http_mcp_json_t **v, ngx_str_t *err);
static ngx_uint_t ngx_http_mcp_results_input_type(ngx_http_mcp_json_t *v);
static ngx_uint_t ngx_http_mcp_results_is_json(ngx_str_t *type);
static ngx_uint_t ngx_http_mcp_results_is_media(ngx_str_t *type);
static void ngx_http_mcp_results_media(ngx_http_mcp_result_t *res,
    ngx_http_mcp_jw_t *jw);
static ngx_int_t ngx_http_mcp_results_shape(ngx_http_mcp_json_t *v,
    ngx_uint_t input_required, ngx_uint_t object_only, char *what,
    ngx_pool_t *pool, ngx_str_t *err);
static const char *ngx_http_mcp_results_item(ngx_http_mcp_json_t *item);
static ngx_uint_t ngx_http_mcp_results_typed(ngx_http_mcp_json_t *obj,
    char *name, ngx_http_mcp_json_type_e type, ngx_uint_t required);
static ngx_uint_t ngx_http_mcp_results_is(ngx_str_t *s, char *lit);


ngx_int_t
ngx_http_mcp_results_tool(ngx_http_mcp_result_t *res, ngx_pool_t *pool,
    ngx_uint_t object_only, ngx_http_mcp_jw_t *jw,
    ngx_http_mcp_json_t **meta)
{
    ngx_int_t   rc;
    ngx_str_t  *type, err;

    *meta = NULL;

    switch (res->kind) {

    case NGX_HTTP_MCP_RESULT_PREBUILT:
        ngx_http_mcp_jw_raw(jw, res->data.data, res->data.len);
        return NGX_OK;

    case NGX_HTTP_MCP_RESULT_ERROR:
        err = res->reason;
        goto failed;

    default:
        break;
    }

    type = &res->type;

    if (res->kind == NGX_HTTP_MCP_RESULT_JSON
        || ngx_http_mcp_results_is_json(type))
    {
        rc = ngx_http_mcp_results_tool_json(res, pool, object_only, jw,
                                            meta, &err);

        if (rc != NGX_DECLINED) {
            return rc;
        }

        goto failed;
    }

    /* image/... and audio/...: one item of that kind, named as the type */

    if (ngx_http_mcp_results_is_media(type)) {
        ngx_http_mcp_jw_literal(jw, "\"content\":[");
        ngx_http_mcp_results_media(res, jw);
        ngx_http_mcp_jw_literal(jw, "]");
        return NGX_OK;
    }

    if (res->kind == NGX_HTTP_MCP_RESULT_TEXT) {
        ngx_http_mcp_jw_literal(jw, "\"content\":[{\"type\":\"text\","
                                    "\"text\":");
        ngx_http_mcp_jw_string(jw, res->data.data, res->data.len);
        ngx_http_mcp_jw_literal(jw, "}]");
        return NGX_OK;
    }

    /* anything else travels as an embedded binary resource */

    ngx_http_mcp_jw_literal(jw, "\"content\":[{\"type\":\"resource\","
                                "\"resource\":{\"uri\":");
    ngx_http_mcp_jw_str(jw, &res->origin);
    ngx_http_mcp_jw_literal(jw, ",\"mimeType\":");
    ngx_http_mcp_jw_str(jw, type);
    ngx_http_mcp_jw_literal(jw, ",\"blob\":");
    ngx_http_mcp_jw_base64(jw, res->data.data, res->data.len);
    ngx_http_mcp_jw_literal(jw, "}}]");

    return NGX_OK;

failed:

    /* HTTP errors, timeouts, refused upstreams: a tool error the model sees */

    ngx_http_mcp_jw_literal(jw, "\"content\":[{\"type\":\"text\",\"text\":");
    ngx_http_mcp_jw_str(jw, &err);
    ngx_http_mcp_jw_literal(jw, "}],\"isError\":true");

    return NGX_OK;
}


/*
 * A JSON answer: a CallToolResult passes, member by member, once its
 * shape is checked; any other JSON becomes a text rendering and, when it
 * can be, structuredContent.  An input_required result is dispatch's in
 * 2026 (ngx_http_mcp_mrtr_result()), a failure before.  NGX_DECLINED: a
 * failure, said in *err.
 */

static ngx_int_t
ngx_http_mcp_results_tool_json(ngx_http_mcp_result_t *res, ngx_pool_t *pool,
    ngx_uint_t object_only, ngx_http_mcp_jw_t *jw,
    ngx_http_mcp_json_t **meta, ngx_str_t *err)
{
    ngx_int_t             rc;
    ngx_http_mcp_json_t  *v, *m;

    rc = ngx_http_mcp_results_json(res, "tool", pool, &v, err);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return NGX_DECLINED;
    }

    if (ngx_http_mcp_results_input_type(v)) {
        ngx_str_set(err, "The tool needs input from the client, "
                         "which takes protocol revision 2026-07-28");
        return NGX_DECLINED;
    }

    /* a CallToolResult: its members */

    m = ngx_http_mcp_json_member(v, "content");

    if (m == NULL || m->type != NGX_HTTP_MCP_JSON_ARRAY) {
        goto any;
    }

    rc = ngx_http_mcp_results_shape(v, 0, object_only, "tool", pool, err);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_http_mcp_results_members(v, jw, meta);

    return NGX_OK;

any:

    /* any other JSON: a text rendering, and structured when it can be */

    ngx_http_mcp_jw_literal(jw, "\"content\":[{\"type\":\"text\","
                                "\"text\":\"");
    ngx_http_mcp_jw_escaped(jw, res->data.data, res->data.len);

    ngx_http_mcp_jw_literal(jw, "\"}]");

    if (v->type == NGX_HTTP_MCP_JSON_OBJECT || !object_only) {
        ngx_http_mcp_jw_literal(jw, ",\"structuredContent\":");
        ngx_http_mcp_jw_value(jw, v);
    }

    return NGX_OK;
}


/*
 * resources/read: the answer is the one item of "contents", with the
 * answer's Content-Type (else `mime`, the resource's mime_type, if any):
 * text for textual types, a base64 blob for anything else.
 */

ngx_int_t
ngx_http_mcp_results_contents(ngx_http_mcp_result_t *res, ngx_str_t *uri,
    ngx_str_t *mime, ngx_http_mcp_jw_t *jw)
{
    ngx_str_t  *type;

    if (res->kind == NGX_HTTP_MCP_RESULT_ERROR) {
        return NGX_DECLINED;
    }

    type = res->type.len ? &res->type : mime;

    ngx_http_mcp_jw_literal(jw, "\"contents\":[{\"uri\":");
    ngx_http_mcp_jw_str(jw, uri);

    if (type->len) {
        ngx_http_mcp_jw_literal(jw, ",\"mimeType\":");
        ngx_http_mcp_jw_str(jw, type);
    }

    if (res->kind == NGX_HTTP_MCP_RESULT_JSON
        || type->len == 0 || ngx_http_mcp_media_textual(type))
    {
        ngx_http_mcp_jw_literal(jw, ",\"text\":");
        ngx_http_mcp_jw_string(jw, res->data.data, res->data.len);

    } else {
        ngx_http_mcp_jw_literal(jw, ",\"blob\":");
        ngx_http_mcp_jw_base64(jw, res->data.data, res->data.len);
    }

    ngx_http_mcp_jw_literal(jw, "}]");

    return NGX_OK;
}


/*
 * prompts/get: a GetPromptResult object (its members), a JSON array of
 * messages, or text, an image or audio as one user message.
 * `description` is the prompt's own, a JSON string, used unless the
 * answer has one.  NGX_DECLINED: the call failed (see fault()), or the
 * answer is none of these, with the reason in *err.
 */

ngx_int_t
ngx_http_mcp_results_messages(ngx_http_mcp_result_t *res, ngx_pool_t *pool,
    ngx_str_t *description, ngx_http_mcp_jw_t *jw,
    ngx_http_mcp_json_t **meta, ngx_str_t *err)
{
    ngx_int_t             rc;
    ngx_str_t            *type;
    ngx_http_mcp_json_t  *v, *m;

    *meta = NULL;

    if (res->kind == NGX_HTTP_MCP_RESULT_ERROR) {
        *err = res->reason;
        return NGX_DECLINED;
    }

    type = &res->type;

    if (res->kind == NGX_HTTP_MCP_RESULT_JSON
        || ngx_http_mcp_results_is_json(type))
    {
        rc = ngx_http_mcp_results_json(res, "prompt", pool, &v, err);

        if (rc != NGX_OK) {
            return rc;
        }

        if (v->type == NGX_HTTP_MCP_JSON_ARRAY) {
            ngx_http_mcp_jw_literal(jw, "\"description\":");
            ngx_http_mcp_jw_raw(jw, description->data, description->len);
            ngx_http_mcp_jw_literal(jw, ",\"messages\":");
            ngx_http_mcp_jw_value(jw, v);
            return NGX_OK;
        }

        m = ngx_http_mcp_json_member(v, "messages");

        if (m == NULL || m->type != NGX_HTTP_MCP_JSON_ARRAY) {
            ngx_str_set(err, "The prompt's backend answered JSON without "
                             "a \"messages\" array");
            return NGX_DECLINED;
        }

        if (ngx_http_mcp_json_member(v, "description") == NULL) {
            ngx_http_mcp_jw_literal(jw, "\"description\":");
            ngx_http_mcp_jw_raw(jw, description->data, description->len);
            ngx_http_mcp_jw_literal(jw, ",");
        }

        ngx_http_mcp_results_members(v, jw, meta);

        return NGX_OK;
    }

    ngx_http_mcp_jw_literal(jw, "\"description\":");
    ngx_http_mcp_jw_raw(jw, description->data, description->len);
    ngx_http_mcp_jw_literal(jw, ",\"messages\":[{\"role\":\"user\","
                                "\"content\":");

    if (ngx_http_mcp_results_is_media(type)) {
        ngx_http_mcp_results_media(res, jw);

    } else if (res->kind == NGX_HTTP_MCP_RESULT_TEXT) {
        ngx_http_mcp_jw_literal(jw, "{\"type\":\"text\",\"text\":");
        ngx_http_mcp_jw_string(jw, res->data.data, res->data.len);
        ngx_http_mcp_jw_literal(jw, "}");

    } else {
        ngx_str_set(err, "The prompt's backend answered a type that is "
                         "not a message: use JSON, text, an image or "
                         "audio");
        return NGX_DECLINED;
    }

    ngx_http_mcp_jw_literal(jw, "}]");

    return NGX_OK;
}


ngx_int_t
ngx_http_mcp_results_input(ngx_http_mcp_result_t *res, char *what,
    ngx_pool_t *pool, ngx_http_mcp_json_t **v, ngx_str_t *err)
{
    ngx_int_t  rc;

    if (res->kind != NGX_HTTP_MCP_RESULT_JSON
        && !((res->kind == NGX_HTTP_MCP_RESULT_TEXT
              || res->kind == NGX_HTTP_MCP_RESULT_BYTES)
             && ngx_http_mcp_results_is_json(&res->type)))
    {
        return NGX_DECLINED;
    }

    rc = ngx_http_mcp_results_json(res, what, pool, v, err);

    if (rc != NGX_OK) {
        return rc;          /* invalid JSON: the item's own path says so */
    }

    /* parsed once: what follows reads the tree */

    res->kind = NGX_HTTP_MCP_RESULT_JSON;
    res->json = *v;

    if (!ngx_http_mcp_results_input_type(*v)) {
        return NGX_DECLINED;
    }

    rc = ngx_http_mcp_results_shape(*v, 1, 0, what, pool, err);

    return (rc == NGX_DECLINED) ? NGX_ABORT : rc;
}


/* "resultType":"input_required" */

static ngx_uint_t
ngx_http_mcp_results_input_type(ngx_http_mcp_json_t *v)
{
    ngx_http_mcp_json_t  *rt;

    rt = ngx_http_mcp_json_member(v, "resultType");

    return rt && rt->type == NGX_HTTP_MCP_JSON_STRING
           && ngx_http_mcp_results_is(&rt->str, "input_required");
}


/* the answer's JSON; NGX_DECLINED with a text for the client when invalid */

static ngx_int_t
ngx_http_mcp_results_json(ngx_http_mcp_result_t *res, char *what,
    ngx_pool_t *pool, ngx_http_mcp_json_t **v, ngx_str_t *err)
{
    ngx_int_t  rc;
    ngx_str_t  why;

    if (res->kind == NGX_HTTP_MCP_RESULT_JSON) {
        *v = res->json;
        return NGX_OK;
    }

    rc = ngx_http_mcp_json_parse(pool, res->data.data, res->data.len, NULL, v,
                                 &why);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    err->data = ngx_pnalloc(pool, 64 + why.len);
    if (err->data == NULL) {
        return NGX_ERROR;
    }

    err->len = ngx_sprintf(err->data, "The %s's backend answered invalid "
                           "JSON: %V", what, &why)
               - err->data;

    return NGX_DECLINED;
}


static ngx_uint_t
ngx_http_mcp_results_is_json(ngx_str_t *type)
{
    return (type->len == sizeof("application/json") - 1
            && ngx_strncasecmp(type->data, (u_char *) "application/json",
                               type->len) == 0)
           || (type->len > sizeof("+json") - 1
               && ngx_strncasecmp(type->data + type->len - 5,
                                  (u_char *) "+json", 5) == 0);
}


static ngx_uint_t
ngx_http_mcp_results_is_media(ngx_str_t *type)
{
    return type->len > sizeof("image/") - 1
           && (ngx_strncasecmp(type->data, (u_char *) "image/", 6) == 0
               || ngx_strncasecmp(type->data, (u_char *) "audio/", 6) == 0);
}


/* an image or audio content item of the answer (is_media() holds) */

static void
ngx_http_mcp_results_media(ngx_http_mcp_result_t *res, ngx_http_mcp_jw_t *jw)
{
    if (ngx_strncasecmp(res->type.data, (u_char *) "audio/", 6) == 0) {
        ngx_http_mcp_jw_literal(jw, "{\"type\":\"audio\",\"data\":");

    } else {
        ngx_http_mcp_jw_literal(jw, "{\"type\":\"image\",\"data\":");
    }

    ngx_http_mcp_jw_base64(jw, res->data.data, res->data.len);
    ngx_http_mcp_jw_literal(jw, ",\"mimeType\":");
    ngx_http_mcp_jw_str(jw, &res->type);
    ngx_http_mcp_jw_literal(jw, "}");
}


/*
 * The members of a result object the backend wrote, but "resultType" and
 * "_meta", which dispatch writes (an object "_meta" goes to *meta, to be
 * merged with its own).
 */

void
ngx_http_mcp_results_members(ngx_http_mcp_json_t *v, ngx_http_mcp_jw_t *jw,
    ngx_http_mcp_json_t **meta)
{
    ngx_uint_t            n;
    ngx_http_mcp_json_t  *m;

    n = 0;

    for (m = v->first; m; m = m->next) {

        if (m->key.len == sizeof("resultType") - 1
            && ngx_strncmp(m->key.data, "resultType", m->key.len) == 0)
        {
            continue;
        }

        if (m->key.len == sizeof("_meta") - 1
            && ngx_strncmp(m->key.data, "_meta", m->key.len) == 0
            && m->type == NGX_HTTP_MCP_JSON_OBJECT)
        {
            *meta = m;
            continue;
        }

        if (n++) {
            ngx_http_mcp_jw_literal(jw, ",");
        }

        ngx_http_mcp_jw_str(jw, &m->key);
        ngx_http_mcp_jw_literal(jw, ":");
        ngx_http_mcp_jw_value(jw, m);
    }
}


/*
 * A CallToolResult or an input_required result the backend wrote is
 * passed on member by member, so its shape is checked first: a client
 * must not get `"isError":"yes"` or a content item `7` from the module.
 * NGX_DECLINED with the reason in *err.
 */

static ngx_int_t
ngx_http_mcp_results_shape(ngx_http_mcp_json_t *v, ngx_uint_t input_required,
    ngx_uint_t object_only, char *what, ngx_pool_t *pool, ngx_str_t *err)
{
    u_char               *p, *last;
    ngx_uint_t            i, item;
    const char           *why;
    ngx_http_mcp_json_t  *m, *r, *method;

    why = NULL;
    i = 0;
    item = 0;

    m = ngx_http_mcp_json_member(v, "_meta");

    if (m && m->type != NGX_HTTP_MCP_JSON_OBJECT) {
        why = "\"_meta\" is not an object";
        goto malformed;
    }

    if (input_required) {
        m = ngx_http_mcp_json_member(v, "inputRequests");
        r = ngx_http_mcp_json_member(v, "requestState");

        if (m == NULL && r == NULL) {
            why = "it has neither \"inputRequests\" nor \"requestState\"";
            goto malformed;
        }

        if (r && r->type != NGX_HTTP_MCP_JSON_STRING) {
            why = "\"requestState\" is not a string";
            goto malformed;
        }

        if (m == NULL) {
            return NGX_OK;
        }

        if (m->type != NGX_HTTP_MCP_JSON_OBJECT) {
            why = "\"inputRequests\" is not an object";
            goto malformed;
        }

        for (r = m->first; r; r = r->next) {
            method = ngx_http_mcp_json_member(r, "method");

            if (method == NULL || method->type != NGX_HTTP_MCP_JSON_STRING
                || !ngx_http_mcp_results_typed(r, "params",
                                                NGX_HTTP_MCP_JSON_OBJECT, 0)
                || !(ngx_http_mcp_results_is(&method->str,
                                              "elicitation/create")
                     || ngx_http_mcp_results_is(&method->str,
                                                 "sampling/createMessage")
                     || ngx_http_mcp_results_is(&method->str,
                                                 "roots/list")))
            {
                why = "an \"inputRequests\" entry is not an elicitation, "
                      "sampling or roots request";
                goto malformed;
            }
        }

        return NGX_OK;
    }

    if (!ngx_http_mcp_results_typed(v, "isError", NGX_HTTP_MCP_JSON_TRUE, 0)
        && !ngx_http_mcp_results_typed(v, "isError",
                                        NGX_HTTP_MCP_JSON_FALSE, 0))
    {
        why = "\"isError\" is not a boolean";
        goto malformed;
    }

    m = ngx_http_mcp_json_member(v, "structuredContent");

    if (m && object_only && m->type != NGX_HTTP_MCP_JSON_OBJECT) {
        why = "\"structuredContent\" is not an object";
        goto malformed;
    }

    m = ngx_http_mcp_json_member(v, "content");

    for (r = m->first; r; r = r->next, i++) {
        why = ngx_http_mcp_results_item(r);

        if (why) {
            item = 1;
            goto malformed;
        }
    }

    return NGX_OK;

malformed:

    p = ngx_pnalloc(pool, NGX_HTTP_MCP_RESULTS_ERRLEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    err->data = p;
    last = p + NGX_HTTP_MCP_RESULTS_ERRLEN;

    p = ngx_slprintf(p, last, "The %s's backend answered a malformed "
                     "result: ", what);

    if (item) {
        p = ngx_slprintf(p, last, "content[%ui] ", i);
    }

    err->len = ngx_slprintf(p, last, "%s", why) - err->data;

    return NGX_DECLINED;
}


/* what is wrong with a content item, or NULL */

static const char *
ngx_http_mcp_results_item(ngx_http_mcp_json_t *item)
{
    ngx_str_t            *type;
    ngx_http_mcp_json_t  *t, *res;

    if (item->type != NGX_HTTP_MCP_JSON_OBJECT) {
        return "is not an object";
    }

    t = ngx_http_mcp_json_member(item, "type");

    if (t == NULL || t->type != NGX_HTTP_MCP_JSON_STRING) {
        return "has no \"type\" string";
    }

    if (!ngx_http_mcp_results_typed(item, "annotations",
                                     NGX_HTTP_MCP_JSON_OBJECT, 0)
        || !ngx_http_mcp_results_typed(item, "_meta",
                                        NGX_HTTP_MCP_JSON_OBJECT, 0))
    {
        return "has \"annotations\" or \"_meta\" that is not an object";
    }

    type = &t->str;

    if (ngx_http_mcp_results_is(type, "text")) {
        return ngx_http_mcp_results_typed(item, "text",
                                           NGX_HTTP_MCP_JSON_STRING, 1)
               ? NULL : "(text) has no \"text\" string";
    }

    if (ngx_http_mcp_results_is(type, "image")
        || ngx_http_mcp_results_is(type, "audio"))
    {
        return ngx_http_mcp_results_typed(item, "data",
                                           NGX_HTTP_MCP_JSON_STRING, 1)
               && ngx_http_mcp_results_typed(item, "mimeType",
                                              NGX_HTTP_MCP_JSON_STRING, 1)
               ? NULL : "(image or audio) needs \"data\" and \"mimeType\" "
                        "strings";
    }

    if (ngx_http_mcp_results_is(type, "resource_link")) {
        return ngx_http_mcp_results_typed(item, "uri",
                                           NGX_HTTP_MCP_JSON_STRING, 1)
               && ngx_http_mcp_results_typed(item, "name",
                                              NGX_HTTP_MCP_JSON_STRING, 1)
               ? NULL : "(resource_link) needs \"uri\" and \"name\" "
                        "strings";
    }

    if (ngx_http_mcp_results_is(type, "resource")) {
        res = ngx_http_mcp_json_member(item, "resource");

        return res && res->type == NGX_HTTP_MCP_JSON_OBJECT
               && ngx_http_mcp_results_typed(res, "uri",
                                              NGX_HTTP_MCP_JSON_STRING, 1)
               && (ngx_http_mcp_results_typed(res, "text",
                                                NGX_HTTP_MCP_JSON_STRING, 1)
                   || ngx_http_mcp_results_typed(res, "blob",
                                                  NGX_HTTP_MCP_JSON_STRING,
                                                  1))
               ? NULL : "(resource) needs a \"resource\" object with a "
                        "\"uri\" and a \"text\" or \"blob\" string";
    }

    return "has an unknown \"type\"";
}


/* a string equals a literal */

static ngx_uint_t
ngx_http_mcp_results_is(ngx_str_t *s, char *lit)
{
    size_t  len;

    len = ngx_strlen(lit);

    return s->len == len && ngx_strncmp(s->data, lit, len) == 0;
}


/* the member is of that type; or absent, unless required */

static ngx_uint_t
ngx_http_mcp_results_typed(ngx_http_mcp_json_t *obj, char *name,
    ngx_http_mcp_json_type_e type, ngx_uint_t required)
{
    ngx_http_mcp_json_t  *m;

    m = ngx_http_mcp_json_get(obj, (u_char *) name, ngx_strlen(name));

    return m ? m->type == type : !required;
}
