
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


/*
 * Target "json": one JSON text through ngx_http_mcp_json_parse() with
 * small limits.  A parsed text is written back (ngx_http_mcp_jw_value())
 * and parsed again: that must succeed, give an equal value and the same
 * text.  Any parsed value is also checked as a schema, as a tool's
 * inputSchema (an object root) and as a plain one; when it is well formed,
 * a few fixed values and the text itself are validated against it.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "json/ngx_http_mcp_json.h"
#include "json/ngx_http_mcp_schema.h"
#include "fuzz_common.h"


static ngx_str_t  ngx_http_mcp_fuzz_values[] = {
    ngx_string("{}"),
    ngx_string("{\"id\":42,\"name\":\"x\",\"tags\":[\"a\",\"b\",\"a\"],"
               "\"nested\":{\"n\":1.5,\"ok\":true,\"none\":null}}"),
    ngx_string("[1,\"two\",3.0,[4],{\"five\":5},false]"),
    ngx_string("\"caf\\u00e9 \\ud83d\\ude00\""),
    ngx_string("-12345678901234567890"),
    ngx_string("null"),
    ngx_null_string
};


static ngx_log_t            *ngx_http_mcp_fuzz_log;
static ngx_http_mcp_json_t  *ngx_http_mcp_fuzz_parsed[8];


static ngx_str_t
ngx_http_mcp_fuzz_write(ngx_pool_t *pool, ngx_http_mcp_json_t *v)
{
    ngx_str_t          out;
    ngx_http_mcp_jw_t  jw;

    if (ngx_http_mcp_jw_init(&jw, pool, 16) != NGX_OK) {
        abort();
    }

    ngx_http_mcp_jw_value(&jw, v);

    if (ngx_http_mcp_jw_finish(&jw, &out) != NGX_OK) {
        abort();
    }

    return out;
}


static void
ngx_http_mcp_fuzz_schema(ngx_pool_t *pool, ngx_http_mcp_json_t *schema,
    ngx_uint_t object_root, ngx_http_mcp_json_t *self)
{
    ngx_int_t   rc;
    ngx_str_t   err;
    ngx_uint_t  i;

    rc = ngx_http_mcp_schema_check(pool, schema, object_root, &err);

    if (rc == NGX_DECLINED) {
        if (err.len == 0) {
            ngx_http_mcp_fuzz_fail("schema refused without a reason", NULL,
                                   NULL);
        }

        return;
    }

    if (rc != NGX_OK) {
        ngx_http_mcp_fuzz_fail("schema check failed", NULL, NULL);
    }

    for (i = 0; ngx_http_mcp_fuzz_parsed[i]; i++) {
        rc = ngx_http_mcp_schema_validate(pool, schema,
                                          ngx_http_mcp_fuzz_parsed[i], &err);
        if (rc == NGX_ERROR) {
            ngx_http_mcp_fuzz_fail("validation failed", NULL, NULL);
        }
    }

    /* absent arguments, and the schema as its own instance */

    (void) ngx_http_mcp_schema_validate(pool, schema, NULL, &err);
    (void) ngx_http_mcp_schema_validate(pool, schema, self, &err);
}


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    ngx_str_t    err;
    ngx_uint_t   i;
    ngx_pool_t  *pool;

    ngx_http_mcp_fuzz_log = ngx_http_mcp_fuzz_init();

    pool = ngx_cycle->pool;

    for (i = 0; ngx_http_mcp_fuzz_values[i].len; i++) {
        if (ngx_http_mcp_json_parse(pool, ngx_http_mcp_fuzz_values[i].data,
                                    ngx_http_mcp_fuzz_values[i].len, NULL,
                                    &ngx_http_mcp_fuzz_parsed[i], &err)
            != NGX_OK)
        {
            ngx_http_mcp_fuzz_fail("a fixed value does not parse",
                                   &ngx_http_mcp_fuzz_values[i], &err);
        }
    }

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                      *buf;
    ngx_int_t                    rc;
    ngx_str_t                    err, text, text2, in;
    ngx_pool_t                  *pool;
    ngx_http_mcp_json_t         *v, *v2;
    ngx_http_mcp_json_limits_t   limits;

    pool = ngx_create_pool(NGX_HTTP_MCP_FUZZ_POOL_SIZE,
                           ngx_http_mcp_fuzz_log);
    if (pool == NULL) {
        abort();
    }

    /* a copy of its own, exactly as long: ASan sees any read past it */

    buf = ngx_alloc(size ? size : 1, ngx_http_mcp_fuzz_log);
    if (buf == NULL) {
        abort();
    }

    ngx_memcpy(buf, data, size);

    in.data = buf;
    in.len = size;

    limits.max_depth = 16;
    limits.max_members = 64;
    limits.max_string = 1024;
    limits.max_values = 1024;
    limits.in_place = size & 1;      /* both ways, as the module uses both */

    rc = ngx_http_mcp_json_parse(pool, buf, size, &limits, &v, &err);

    if (rc == NGX_ERROR) {
        ngx_http_mcp_fuzz_fail("parse: out of memory", &in, NULL);
    }

    if (rc == NGX_DECLINED) {
        if (err.len == 0 || v != NULL) {
            ngx_http_mcp_fuzz_fail("parse refused without a reason", &in,
                                   NULL);
        }

        goto done;
    }

    /* written back and parsed again: the same value, the same text */

    text = ngx_http_mcp_fuzz_write(pool, v);

    limits.in_place = 0;

    if (ngx_http_mcp_json_parse(pool, text.data, text.len, &limits, &v2,
                                &err)
        != NGX_OK)
    {
        ngx_http_mcp_fuzz_fail("the writer's text does not parse", &text,
                               &err);
    }

    if (!ngx_http_mcp_json_equal(v, v2) || !ngx_http_mcp_json_equal(v2, v)) {
        ngx_http_mcp_fuzz_fail("the writer's text is another value", &in,
                               &text);
    }

    text2 = ngx_http_mcp_fuzz_write(pool, v2);

    if (text.len != text2.len
        || ngx_memcmp(text.data, text2.data, text.len) != 0)
    {
        ngx_http_mcp_fuzz_fail("writing twice gives two texts", &text,
                               &text2);
    }

    ngx_http_mcp_fuzz_schema(pool, v, 0, v2);

    if (v->type == NGX_HTTP_MCP_JSON_OBJECT) {
        ngx_http_mcp_fuzz_schema(pool, v, 1, v2);
    }

done:

    ngx_free(buf);
    ngx_destroy_pool(pool);

    return 0;
}
