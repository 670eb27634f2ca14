
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


/*
 * What nginx's main() and ngx_os_init() set before anything runs, for
 * the fuzz targets: they link nginx's own objects (without core/nginx.o),
 * so ngx_palloc(), ngx_regex_compile() and the logs are the real ones.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <stdio.h>
#include <stdlib.h>

#include "fuzz_common.h"


static ngx_open_file_t  ngx_http_mcp_fuzz_log_file;
static ngx_log_t        ngx_http_mcp_fuzz_log;
static ngx_cycle_t      ngx_http_mcp_fuzz_cycle;


ngx_log_t *
ngx_http_mcp_fuzz_init(void)
{
    ngx_uint_t   n;
    ngx_log_t   *log;

    log = &ngx_http_mcp_fuzz_log;

    if (ngx_cycle != NULL) {
        return log;
    }

    /* configuration errors (target "message") still show: EMERG only */

    ngx_http_mcp_fuzz_log_file.fd = ngx_stderr;
    log->file = &ngx_http_mcp_fuzz_log_file;
    log->log_level = NGX_LOG_EMERG;

    if (ngx_strerror_init() != NGX_OK) {
        abort();
    }

    ngx_time_init();
    ngx_regex_init();

    ngx_pagesize = getpagesize();
    ngx_pagesize_shift = 0;

    for (n = ngx_pagesize; n >>= 1; ngx_pagesize_shift++) {
        /* void */
    }

    ngx_cacheline_size = NGX_CPU_CACHE_LINE;
    ngx_ncpu = 1;

    ngx_http_mcp_fuzz_cycle.log = log;
    ngx_http_mcp_fuzz_cycle.pool = ngx_create_pool(NGX_CYCLE_POOL_SIZE, log);

    if (ngx_http_mcp_fuzz_cycle.pool == NULL) {
        abort();
    }

    ngx_cycle = &ngx_http_mcp_fuzz_cycle;

    /* it may allocate, with ngx_cycle->log */

    if (ngx_crc32_table_init() != NGX_OK) {
        abort();
    }

    return log;
}


void
ngx_http_mcp_fuzz_fail(const char *what, ngx_str_t *a, ngx_str_t *b)
{
    fprintf(stderr, "\nFUZZ INVARIANT: %s\n", what);

    if (a) {
        fprintf(stderr, "  first:  %.*s\n", (int) ngx_min(a->len, 2000),
                a->data);
    }

    if (b) {
        fprintf(stderr, "  second: %.*s\n", (int) ngx_min(b->len, 2000),
                b->data);
    }

    abort();
}
