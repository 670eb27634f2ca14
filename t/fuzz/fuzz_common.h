
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_FUZZ_COMMON_H_INCLUDED_
#define _NGX_HTTP_MCP_FUZZ_COMMON_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * Each input gets its own pool, destroyed after it, so that what the
 * module allocates outside pools shows as a leak.  The pool is made so
 * small that almost every allocation becomes a malloc()ed large block,
 * which AddressSanitizer watches on its own (as t/unit/run.sh does).
 */
#define NGX_HTTP_MCP_FUZZ_POOL_SIZE  (sizeof(ngx_pool_t) + 48)


/* nginx's globals, as main() and ngx_os_init() would set them */
ngx_log_t *ngx_http_mcp_fuzz_init(void);

/* prints what differs, then abort(): an invariant did not hold */
void ngx_http_mcp_fuzz_fail(const char *what, ngx_str_t *a, ngx_str_t *b);


#endif /* _NGX_HTTP_MCP_FUZZ_COMMON_H_INCLUDED_ */
