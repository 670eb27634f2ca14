
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


/*
 * Target "pgvalue": one cell of a PostgreSQL result, as hostile as a row
 * of a database may be, through ngx_http_mcp_pg_value().  The first byte
 * picks the column's type among those the mapping knows (and one it does
 * not); the rest is the cell's text.  Whatever the bytes, the output must
 * be one valid JSON value that the module's own parser takes.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "json/ngx_http_mcp_json.h"
#include "backend/ngx_http_mcp_pg_value.h"
#include "fuzz_common.h"


static ngx_uint_t  ngx_http_mcp_fuzz_oids[] = {
    16, 17, 20, 21, 23, 25, 26, 114, 700, 701, 1082, 1083, 1114, 1184, 1266,
    1700, 3802, 1000, 1005, 1007, 1016, 1021, 1022, 1231, 1009, 1015, 1014,
    199, 3807, 1001, 1115, 1185, 1182, 1183, 1270, 2951, 1028, 600
};


static ngx_log_t  *ngx_http_mcp_fuzz_log;


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    ngx_http_mcp_fuzz_log = ngx_http_mcp_fuzz_init();

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char               *buf;
    ngx_str_t             out, err;
    ngx_uint_t            oid;
    ngx_pool_t           *pool;
    ngx_http_mcp_jw_t     jw;
    ngx_http_mcp_json_t  *v;

    if (size == 0) {
        return 0;
    }

    oid = ngx_http_mcp_fuzz_oids[data[0] % (sizeof(ngx_http_mcp_fuzz_oids)
                                            / sizeof(ngx_uint_t))];

    pool = ngx_create_pool(NGX_HTTP_MCP_FUZZ_POOL_SIZE,
                           ngx_http_mcp_fuzz_log);
    if (pool == NULL) {
        abort();
    }

    /* a copy of exactly the cell, so that a read past it is seen */

    buf = ngx_pnalloc(pool, size - 1 ? size - 1 : 1);
    if (buf == NULL) {
        abort();
    }

    ngx_memcpy(buf, data + 1, size - 1);

    if (ngx_http_mcp_jw_init(&jw, pool, 16) != NGX_OK) {
        abort();
    }

    ngx_http_mcp_pg_value(&jw, oid, buf, size - 1);

    if (ngx_http_mcp_jw_finish(&jw, &out) != NGX_OK) {
        abort();
    }

    if (out.len == 0) {
        ngx_http_mcp_fuzz_fail("no JSON for a cell", NULL, NULL);
    }

    if (ngx_http_mcp_json_parse(pool, out.data, out.len, NULL, &v, &err)
        != NGX_OK)
    {
        ngx_http_mcp_fuzz_fail("a cell's JSON does not parse", &out, &err);
    }

    ngx_destroy_pool(pool);

    return 0;
}
