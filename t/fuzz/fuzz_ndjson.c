
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


/*
 * Target "ndjson": the line reader of application/x-ndjson answers
 * (json/ngx_http_mcp_ndjson.c), driven the way the body filter of
 * backend/ngx_http_mcp_location_stream.c drives it: the answer arrives in
 * several buffers, each appended to one growing buffer and read for its
 * complete lines, the partial line kept for the next; at the end of the
 * answer, the last (unterminated) line.  Each line is parsed as the
 * filter parses it.  The lines found must be those of a plain split of
 * the whole answer.
 *
 * Input: byte 0 says how many cuts (its low 3 bits) and bytes 1..n where
 * (each a fraction of the rest, in 256ths); the rest is the answer.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "json/ngx_http_mcp_json.h"
#include "json/ngx_http_mcp_ndjson.h"
#include "fuzz_common.h"


#define NGX_HTTP_MCP_FUZZ_MAX_CUTS  7


typedef struct {
    ngx_pool_t                 *pool;
    ngx_pool_t                 *scratch;

    /* as ngx_http_mcp_location_op_t keeps them */
    u_char                     *data;
    size_t                      len;
    size_t                      size;
    size_t                      scanned;

    ngx_array_t                 lines;     /* ngx_str_t: what was found */
} ngx_http_mcp_fuzz_op_t;


static ngx_log_t  *ngx_http_mcp_fuzz_log;


/* ngx_http_mcp_location_append(), for bytes in memory */

static void
ngx_http_mcp_fuzz_append(ngx_http_mcp_fuzz_op_t *op, u_char *p, size_t len)
{
    u_char  *n;
    size_t   size;

    if (len == 0) {
        return;
    }

    if (op->len + len > op->size) {
        size = ngx_max(op->size * 2, op->len + len);

        n = ngx_pnalloc(op->pool, size);
        if (n == NULL) {
            abort();
        }

        if (op->len) {
            ngx_memcpy(n, op->data, op->len);
        }

        op->data = n;
        op->size = size;
    }

    ngx_memcpy(op->data + op->len, p, len);
    op->len += len;
}


/* ngx_http_mcp_location_lines(), events and the result aside */

static void
ngx_http_mcp_fuzz_lines(ngx_http_mcp_fuzz_op_t *op, ngx_uint_t done)
{
    ngx_int_t               rc;
    ngx_str_t               line, err, *copy;
    ngx_http_mcp_json_t    *v;
    ngx_http_mcp_ndjson_t   nd;

    if (op->len == 0) {
        return;
    }

    ngx_http_mcp_ndjson_init(&nd, op->data, op->len, op->scanned, done);

    while (ngx_http_mcp_ndjson_next_line(&nd, &line) == NGX_OK) {

        if (line.data < op->data || line.data + line.len > op->data + op->len)
        {
            ngx_http_mcp_fuzz_fail("a line outside the buffer", &line, NULL);
        }

        if (line.len == 0) {
            continue;
        }

        copy = ngx_array_push(&op->lines);
        if (copy == NULL) {
            abort();
        }

        copy->len = line.len;
        copy->data = ngx_pnalloc(op->pool, line.len);
        if (copy->data == NULL) {
            abort();
        }

        ngx_memcpy(copy->data, line.data, line.len);

        ngx_reset_pool(op->scratch);

        rc = ngx_http_mcp_json_parse(op->scratch, line.data, line.len, NULL,
                                     &v, &err);

        if (rc == NGX_ERROR) {
            abort();
        }

        if (rc == NGX_OK && v->type == NGX_HTTP_MCP_JSON_OBJECT) {
            (void) ngx_http_mcp_json_member(v, "content");
            (void) ngx_http_mcp_json_member(v, "progress");
            (void) ngx_http_mcp_json_member(v, "log");
        }
    }

    op->len = ngx_http_mcp_ndjson_keep(&nd, op->data);
    op->scanned = op->len;

    if (done && op->len) {
        ngx_http_mcp_fuzz_fail("bytes left at the end", NULL, NULL);
    }

    /* what is kept has no LF: a complete line would have been taken */

    if (op->len && memchr(op->data, LF, op->len) != NULL) {
        ngx_http_mcp_fuzz_fail("a line was left behind", NULL, NULL);
    }
}


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    ngx_http_mcp_fuzz_log = ngx_http_mcp_fuzz_init();

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                  *p, *last, *start, *buf;
    size_t                   len, cuts[NGX_HTTP_MCP_FUZZ_MAX_CUTS + 1], c;
    ngx_str_t               *found, want;
    ngx_uint_t               i, j, n, k;
    ngx_http_mcp_fuzz_op_t   op;

    if (size == 0) {
        return 0;
    }

    n = data[0] & NGX_HTTP_MCP_FUZZ_MAX_CUTS;

    if (size < 1 + n) {
        return 0;
    }

    len = size - 1 - n;

    /* the answer in a buffer of its own size: ASan sees reads past it */

    buf = ngx_alloc(len ? len : 1, ngx_http_mcp_fuzz_log);
    if (buf == NULL) {
        abort();
    }

    ngx_memcpy(buf, data + 1 + n, len);

    /* the cuts, in order */

    for (i = 0; i < n; i++) {
        c = (size_t) data[1 + i] * len / 256;

        for (j = i; j > 0 && cuts[j - 1] > c; j--) {
            cuts[j] = cuts[j - 1];
        }

        cuts[j] = c;
    }

    cuts[n] = len;

    ngx_memzero(&op, sizeof(ngx_http_mcp_fuzz_op_t));

    op.pool = ngx_create_pool(NGX_HTTP_MCP_FUZZ_POOL_SIZE,
                              ngx_http_mcp_fuzz_log);
    op.scratch = ngx_create_pool(NGX_HTTP_MCP_FUZZ_POOL_SIZE,
                                 ngx_http_mcp_fuzz_log);

    if (op.pool == NULL || op.scratch == NULL
        || ngx_array_init(&op.lines, op.pool, 8, sizeof(ngx_str_t))
           != NGX_OK)
    {
        abort();
    }

    /* the buffers as the body filter gets them, then the end */

    start = buf;

    for (i = 0; i <= n; i++) {
        ngx_http_mcp_fuzz_append(&op, start, buf + cuts[i] - start);
        ngx_http_mcp_fuzz_lines(&op, 0);
        start = buf + cuts[i];
    }

    ngx_http_mcp_fuzz_lines(&op, 1);

    /* a plain split of the whole answer */

    found = op.lines.elts;
    k = 0;

    for (p = buf, last = buf + len; p < last; p = start + 1) {
        start = memchr(p, LF, last - p);

        if (start == NULL) {
            start = last;
        }

        want.data = p;
        want.len = start - p;

        while (want.len && (want.data[want.len - 1] == CR
                            || want.data[want.len - 1] == ' '
                            || want.data[want.len - 1] == '\t'))
        {
            want.len--;
        }

        if (want.len == 0) {
            continue;
        }

        if (k == op.lines.nelts) {
            ngx_http_mcp_fuzz_fail("a line was not found", &want, NULL);
        }

        if (found[k].len != want.len
            || ngx_memcmp(found[k].data, want.data, want.len) != 0)
        {
            ngx_http_mcp_fuzz_fail("another line was found", &want,
                                   &found[k]);
        }

        k++;
    }

    if (k != op.lines.nelts) {
        ngx_http_mcp_fuzz_fail("more lines were found than there are",
                               &found[k], NULL);
    }

    ngx_destroy_pool(op.scratch);
    ngx_destroy_pool(op.pool);
    ngx_free(buf);

    return 0;
}
