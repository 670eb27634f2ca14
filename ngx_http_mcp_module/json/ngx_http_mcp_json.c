
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <yajl/yajl_parse.h>

#include "json/ngx_http_mcp_json.h"


/* limits used when the caller passes NULL or leaves a field at zero */
#define NGX_HTTP_MCP_JSON_MAX_DEPTH    64
#define NGX_HTTP_MCP_JSON_MAX_MEMBERS  10000
#define NGX_HTTP_MCP_JSON_MAX_STRING   (1024 * 1024)
#define NGX_HTTP_MCP_JSON_MAX_VALUES   100000

/* objects up to this size are checked for duplicates pairwise */
#define NGX_HTTP_MCP_JSON_SMALL        16

#define NGX_HTTP_MCP_JSON_ERRLEN       160


typedef struct {
    ngx_pool_t                   *pool;
    ngx_http_mcp_json_limits_t    limits;
    ngx_http_mcp_json_t          *root;
    ngx_http_mcp_json_t          *cur;       /* the open array or object */
    ngx_str_t                     key;       /* the pending member name */
    ngx_uint_t                    depth;
    ngx_uint_t                    values;    /* nodes made so far */
    ngx_str_t                    *err;
    const u_char                 *start;     /* the input, for in_place */
    const u_char                 *end;
    unsigned                      nomem:1;
    unsigned                      refused:1;
} ngx_http_mcp_json_ctx_t;


/* the size header yajl's blocks carry, so that realloc can copy */
typedef union {
    size_t                        size;
    double                        d;
    void                         *p;
} ngx_http_mcp_json_blk_t;


static ngx_int_t ngx_http_mcp_json_start(ngx_http_mcp_json_ctx_t *ctx,
    ngx_http_mcp_json_limits_t *limits, u_char *data, size_t len);
static void *ngx_http_mcp_json_malloc(void *data, size_t size);
static void *ngx_http_mcp_json_realloc(void *data, void *ptr, size_t size);
static void ngx_http_mcp_json_free(void *data, void *ptr);

static int ngx_http_mcp_json_null(void *data);
static int ngx_http_mcp_json_boolean(void *data, int val);
static int ngx_http_mcp_json_number(void *data, const char *s, size_t len);
static int ngx_http_mcp_json_string(void *data, const unsigned char *s,
    size_t len);
static int ngx_http_mcp_json_start_map(void *data);
static int ngx_http_mcp_json_map_key(void *data, const unsigned char *s,
    size_t len);
static int ngx_http_mcp_json_end_map(void *data);
static int ngx_http_mcp_json_start_array(void *data);
static int ngx_http_mcp_json_end_array(void *data);

static ngx_http_mcp_json_t *ngx_http_mcp_json_node(
    ngx_http_mcp_json_ctx_t *ctx, ngx_http_mcp_json_type_e type);
static int ngx_http_mcp_json_open(ngx_http_mcp_json_ctx_t *ctx,
    ngx_http_mcp_json_type_e type);
static void ngx_http_mcp_json_close(ngx_http_mcp_json_ctx_t *ctx);
static int ngx_http_mcp_json_valid(ngx_http_mcp_json_ctx_t *ctx,
    const u_char *s, size_t len, const char *what);
static ngx_http_mcp_json_t *ngx_http_mcp_json_text(
    ngx_http_mcp_json_ctx_t *ctx, ngx_http_mcp_json_type_e type,
    const u_char *s, size_t len, const char *what);
static int ngx_http_mcp_json_duplicates(ngx_http_mcp_json_ctx_t *ctx,
    ngx_http_mcp_json_t *obj);
static int ngx_http_mcp_json_cmp_keys(const void *one, const void *two);
static int ngx_http_mcp_json_dup_error(ngx_http_mcp_json_ctx_t *ctx,
    ngx_str_t *name);
static int ngx_http_mcp_json_refuse(ngx_http_mcp_json_ctx_t *ctx,
    const char *fmt, ...);
static u_char *ngx_http_mcp_json_copy(ngx_http_mcp_json_ctx_t *ctx,
    const u_char *s, size_t len, ngx_uint_t nul);
static void ngx_http_mcp_json_yajl_error(ngx_http_mcp_json_ctx_t *ctx,
    yajl_handle h, u_char *data, size_t len, ngx_uint_t at_end);


static const yajl_callbacks  ngx_http_mcp_json_callbacks = {
    ngx_http_mcp_json_null,
    ngx_http_mcp_json_boolean,
    NULL,                               /* integers come as numbers */
    NULL,                               /* doubles come as numbers */
    ngx_http_mcp_json_number,
    ngx_http_mcp_json_string,
    ngx_http_mcp_json_start_map,
    ngx_http_mcp_json_map_key,
    ngx_http_mcp_json_end_map,
    ngx_http_mcp_json_start_array,
    ngx_http_mcp_json_end_array
};


ngx_int_t
ngx_http_mcp_json_parse(ngx_pool_t *pool, u_char *data, size_t len,
    ngx_http_mcp_json_limits_t *limits, ngx_http_mcp_json_t **root,
    ngx_str_t *err)
{
    ngx_uint_t                at_end;
    yajl_handle               h;
    yajl_status               st;
    yajl_alloc_funcs          af;
    ngx_http_mcp_json_ctx_t   ctx;

    *root = NULL;
    ngx_str_null(err);

    ngx_memzero(&ctx, sizeof(ngx_http_mcp_json_ctx_t));

    ctx.pool = pool;

    if (limits && limits->in_place) {
        ctx.start = data;
        ctx.end = data + len;
    }
    ctx.err = err;

    if (ngx_http_mcp_json_start(&ctx, limits, data, len) != NGX_OK) {
        return NGX_DECLINED;
    }

    af.malloc = ngx_http_mcp_json_malloc;
    af.realloc = ngx_http_mcp_json_realloc;
    af.free = ngx_http_mcp_json_free;
    af.ctx = &ctx;

    h = yajl_alloc(&ngx_http_mcp_json_callbacks, &af, &ctx);
    if (h == NULL) {
        return NGX_ERROR;
    }

    /*
     * yajl's UTF-8 check is left off: it lets overlong forms, encoded
     * surrogates and code points above U+10FFFF through, so every decoded
     * string and member name is checked, strictly, once, by
     * ngx_http_mcp_json_valid().  Control characters are refused by yajl.
     */

    if (!yajl_config(h, yajl_allow_comments, 0)
        || !yajl_config(h, yajl_dont_validate_strings, 1)
        || !yajl_config(h, yajl_allow_trailing_garbage, 0)
        || !yajl_config(h, yajl_allow_multiple_values, 0)
        || !yajl_config(h, yajl_allow_partial_values, 0))
    {
        yajl_free(h);
        return NGX_ERROR;
    }

    st = yajl_parse(h, data, len);
    at_end = 0;

    /*
     * yajl takes a whole value followed by the start of a token that never
     * ends ("\"a\" \"", "[1] tru") as a whole text: its own finish feeds a
     * space, which a string may hold.  A newline ends every token, or is
     * refused inside a string, so it goes first.
     */

    if (st == yajl_status_ok) {
        at_end = 1;
        st = yajl_parse(h, (const u_char *) "\n", 1);
    }

    if (st == yajl_status_ok) {
        st = yajl_complete_parse(h);
    }

    if (ctx.nomem) {
        yajl_free(h);
        return NGX_ERROR;
    }

    if (st != yajl_status_ok) {

        if (!ctx.refused) {
            ngx_http_mcp_json_yajl_error(&ctx, h, data, len, at_end);
        }

        yajl_free(h);

        if (ctx.nomem) {
            return NGX_ERROR;
        }

        if (err->len == 0) {
            ngx_str_set(err, "invalid JSON text");
        }

        return NGX_DECLINED;
    }

    yajl_free(h);

    if (ctx.root == NULL || ctx.cur != NULL) {
        /* cannot happen with partial values refused */
        ngx_str_set(err, "incomplete JSON text");
        return NGX_DECLINED;
    }

    *root = ctx.root;

    return NGX_OK;
}


/*
 * The limits (a zero field: the default), and what is refused before yajl
 * sees the text: a blank one (yajl says "premature EOF"), and unpaired
 * surrogate escapes.  NGX_DECLINED with ctx->err set.
 */

static ngx_int_t
ngx_http_mcp_json_start(ngx_http_mcp_json_ctx_t *ctx,
    ngx_http_mcp_json_limits_t *limits, u_char *data, size_t len)
{
    u_char  *p, *last;

    if (limits) {
        ctx->limits = *limits;
    }

    if (ctx->limits.max_depth == 0) {
        ctx->limits.max_depth = NGX_HTTP_MCP_JSON_MAX_DEPTH;
    }

    if (ctx->limits.max_members == 0) {
        ctx->limits.max_members = NGX_HTTP_MCP_JSON_MAX_MEMBERS;
    }

    if (ctx->limits.max_string == 0) {
        ctx->limits.max_string = NGX_HTTP_MCP_JSON_MAX_STRING;
    }

    if (ctx->limits.max_values == 0) {
        ctx->limits.max_values = NGX_HTTP_MCP_JSON_MAX_VALUES;
    }

    for (p = data, last = data + len; p < last; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
            break;
        }
    }

    if (p == last) {
        ngx_str_set(ctx->err, "empty JSON text");
        return NGX_DECLINED;
    }

    return ngx_http_mcp_json_surrogates(p, last, ctx->err);
}


static void *
ngx_http_mcp_json_malloc(void *data, size_t size)
{
    ngx_http_mcp_json_ctx_t *ctx = data;

    ngx_http_mcp_json_blk_t  *b;

    b = ngx_palloc(ctx->pool, sizeof(ngx_http_mcp_json_blk_t) + size);
    if (b == NULL) {
        ctx->nomem = 1;
        return NULL;
    }

    b->size = size;

    return b + 1;
}


static void *
ngx_http_mcp_json_realloc(void *data, void *ptr, size_t size)
{
    ngx_http_mcp_json_ctx_t *ctx = data;

    void                     *p;
    ngx_http_mcp_json_blk_t  *b;

    p = ngx_http_mcp_json_malloc(ctx, size);
    if (p == NULL || ptr == NULL) {
        return p;
    }

    b = (ngx_http_mcp_json_blk_t *) ptr - 1;

    ngx_memcpy(p, ptr, ngx_min(b->size, size));

    /* gives large blocks back to the system, small ones stay in the pool */
    ngx_pfree(ctx->pool, b);

    return p;
}


static void
ngx_http_mcp_json_free(void *data, void *ptr)
{
    ngx_http_mcp_json_ctx_t *ctx = data;

    if (ptr) {
        ngx_pfree(ctx->pool, (ngx_http_mcp_json_blk_t *) ptr - 1);
    }
}


static int
ngx_http_mcp_json_null(void *data)
{
    return ngx_http_mcp_json_node(data, NGX_HTTP_MCP_JSON_NULL) != NULL;
}


static int
ngx_http_mcp_json_boolean(void *data, int val)
{
    return ngx_http_mcp_json_node(data, val ? NGX_HTTP_MCP_JSON_TRUE
                                            : NGX_HTTP_MCP_JSON_FALSE)
           != NULL;
}


static int
ngx_http_mcp_json_number(void *data, const char *s, size_t len)
{
    ngx_http_mcp_json_ctx_t *ctx = data;

    size_t                i;
    u_char               *p;
    uint64_t              n, max;
    ngx_uint_t            neg, integer;
    ngx_http_mcp_json_t  *v;

    v = ngx_http_mcp_json_text(ctx, NGX_HTTP_MCP_JSON_INTEGER,
                               (u_char *) s, len, "number");
    if (v == NULL) {
        return 0;
    }

    p = v->str.data;

    /* the lexer has checked the grammar: -?digits[.digits][e[+-]digits] */

    neg = (len && p[0] == '-');
    max = neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
    integer = 1;
    n = 0;

    for (i = neg; i < len; i++) {

        if (p[i] < '0' || p[i] > '9') {
            integer = 0;
            break;
        }

        if (n > (max - (p[i] - '0')) / 10) {
            integer = 0;
            break;
        }

        n = n * 10 + (p[i] - '0');
    }

    if (integer) {
        v->integer = neg ? (int64_t) (0 - n) : (int64_t) n;
        v->number = (double) v->integer;
        return 1;
    }

    /* C locale in nginx: '.' is the decimal point; 1e400 becomes HUGE_VAL */

    v->type = NGX_HTTP_MCP_JSON_NUMBER;
    v->number = strtod((char *) p, NULL);

    return 1;
}


static int
ngx_http_mcp_json_string(void *data, const unsigned char *s, size_t len)
{
    return ngx_http_mcp_json_text(data, NGX_HTTP_MCP_JSON_STRING, s, len,
                                  "string")
           != NULL;
}


static int
ngx_http_mcp_json_start_map(void *data)
{
    return ngx_http_mcp_json_open(data, NGX_HTTP_MCP_JSON_OBJECT);
}


static int
ngx_http_mcp_json_map_key(void *data, const unsigned char *s, size_t len)
{
    ngx_http_mcp_json_ctx_t *ctx = data;

    if (!ngx_http_mcp_json_valid(ctx, s, len, "member name")) {
        return 0;
    }

    ctx->key.data = ngx_http_mcp_json_copy(ctx, s, len, 0);
    if (ctx->key.data == NULL) {
        return 0;
    }

    ctx->key.len = len;

    return 1;
}


static int
ngx_http_mcp_json_end_map(void *data)
{
    ngx_http_mcp_json_ctx_t *ctx = data;

    ngx_http_mcp_json_close(ctx);

    if (!ngx_http_mcp_json_duplicates(ctx, ctx->cur)) {
        return 0;
    }

    ctx->cur = ctx->cur->parent;
    ctx->depth--;

    return 1;
}


static int
ngx_http_mcp_json_start_array(void *data)
{
    return ngx_http_mcp_json_open(data, NGX_HTTP_MCP_JSON_ARRAY);
}


static int
ngx_http_mcp_json_end_array(void *data)
{
    ngx_http_mcp_json_ctx_t *ctx = data;

    ngx_http_mcp_json_close(ctx);

    ctx->cur = ctx->cur->parent;
    ctx->depth--;

    return 1;
}


static ngx_http_mcp_json_t *
ngx_http_mcp_json_node(ngx_http_mcp_json_ctx_t *ctx,
    ngx_http_mcp_json_type_e type)
{
    ngx_http_mcp_json_t  *v, *parent;

    parent = ctx->cur;

    if (ctx->values >= ctx->limits.max_values) {
        (void) ngx_http_mcp_json_refuse(ctx, "more than %ui values",
                                        ctx->limits.max_values);
        return NULL;
    }

    if (parent && parent->nelts >= ctx->limits.max_members) {
        (void) ngx_http_mcp_json_refuse(ctx, "more than %ui members in %s",
                                        ctx->limits.max_members,
                                        parent->type == NGX_HTTP_MCP_JSON_OBJECT
                                        ? "an object" : "an array");
        return NULL;
    }

    v = ngx_pcalloc(ctx->pool, sizeof(ngx_http_mcp_json_t));
    if (v == NULL) {
        ctx->nomem = 1;
        return NULL;
    }

    ctx->values++;
    v->type = type;

    if (parent == NULL) {
        ctx->root = v;
        return v;
    }

    if (parent->type == NGX_HTTP_MCP_JSON_OBJECT) {
        v->key = ctx->key;
        ngx_str_null(&ctx->key);
    }

    /* newest first while open: ngx_http_mcp_json_close() puts it right */

    v->parent = parent;
    v->next = parent->first;
    parent->first = v;
    parent->nelts++;

    return v;
}


static int
ngx_http_mcp_json_open(ngx_http_mcp_json_ctx_t *ctx,
    ngx_http_mcp_json_type_e type)
{
    ngx_http_mcp_json_t  *v;

    if (ctx->depth >= ctx->limits.max_depth) {
        return ngx_http_mcp_json_refuse(ctx, "nesting deeper than %ui",
                                        ctx->limits.max_depth);
    }

    v = ngx_http_mcp_json_node(ctx, type);
    if (v == NULL) {
        return 0;
    }

    ctx->cur = v;
    ctx->depth++;

    return 1;
}


/* the members or elements, gathered newest first, back in text order */

static void
ngx_http_mcp_json_close(ngx_http_mcp_json_ctx_t *ctx)
{
    ngx_http_mcp_json_t  *v, *next, *prev;

    prev = NULL;

    for (v = ctx->cur->first; v; v = next) {
        next = v->next;
        v->next = prev;
        prev = v;
    }

    ctx->cur->first = prev;
}


/* a string, key or number literal within limits, copied into the pool */

static ngx_http_mcp_json_t *
ngx_http_mcp_json_text(ngx_http_mcp_json_ctx_t *ctx,
    ngx_http_mcp_json_type_e type, const u_char *s, size_t len,
    const char *what)
{
    u_char               *p;
    ngx_http_mcp_json_t  *v;

    if (!ngx_http_mcp_json_valid(ctx, s, len, what)) {
        return NULL;
    }

    /* numbers end with a NUL, for strtod() */

    p = ngx_http_mcp_json_copy(ctx, s, len,
                               type == NGX_HTTP_MCP_JSON_INTEGER);
    if (p == NULL) {
        return NULL;
    }

    v = ngx_http_mcp_json_node(ctx, type);
    if (v == NULL) {
        return NULL;
    }

    v->str.data = p;
    v->str.len = len;

    return v;
}


/* within max_string, and UTF-8 (numbers are ASCII: the lexer saw to it) */

static int
ngx_http_mcp_json_valid(ngx_http_mcp_json_ctx_t *ctx, const u_char *s,
    size_t len, const char *what)
{
    if (len > ctx->limits.max_string) {
        return ngx_http_mcp_json_refuse(ctx, "%s longer than %uz bytes",
                                        what, ctx->limits.max_string);
    }

    if (!ngx_http_mcp_json_utf8_valid((u_char *) s, len)) {
        return ngx_http_mcp_json_refuse(ctx,
                                        "invalid UTF-8 or lone surrogate "
                                        "in %s", what);
    }

    return 1;
}


static int
ngx_http_mcp_json_duplicates(ngx_http_mcp_json_ctx_t *ctx,
    ngx_http_mcp_json_t *obj)
{
    ngx_uint_t             i, n;
    ngx_http_mcp_json_t   *a, *b, **sorted;

    n = obj->nelts;

    if (n < 2) {
        return 1;
    }

    if (n <= NGX_HTTP_MCP_JSON_SMALL) {

        for (a = obj->first; a; a = a->next) {
            for (b = a->next; b; b = b->next) {
                if (a->key.len == b->key.len
                    && ngx_memcmp(a->key.data, b->key.data, a->key.len) == 0)
                {
                    return ngx_http_mcp_json_dup_error(ctx, &a->key);
                }
            }
        }

        return 1;
    }

    sorted = ngx_palloc(ctx->pool, n * sizeof(ngx_http_mcp_json_t *));
    if (sorted == NULL) {
        ctx->nomem = 1;
        return 0;
    }

    for (i = 0, a = obj->first; a; a = a->next) {
        sorted[i++] = a;
    }

    ngx_qsort(sorted, n, sizeof(ngx_http_mcp_json_t *),
              ngx_http_mcp_json_cmp_keys);

    for (i = 1; i < n; i++) {
        if (ngx_http_mcp_json_cmp_keys(&sorted[i - 1], &sorted[i]) == 0) {
            return ngx_http_mcp_json_dup_error(ctx, &sorted[i]->key);
        }
    }

    return 1;
}


static int
ngx_http_mcp_json_cmp_keys(const void *one, const void *two)
{
    ngx_http_mcp_json_t  *a = *(ngx_http_mcp_json_t **) one;
    ngx_http_mcp_json_t  *b = *(ngx_http_mcp_json_t **) two;

    if (a->key.len != b->key.len) {
        return a->key.len < b->key.len ? -1 : 1;
    }

    return ngx_memcmp(a->key.data, b->key.data, a->key.len);
}


static int
ngx_http_mcp_json_dup_error(ngx_http_mcp_json_ctx_t *ctx, ngx_str_t *name)
{
    ngx_http_mcp_jw_t  jw;

    ctx->refused = 1;

    if (ngx_http_mcp_jw_init(&jw, ctx->pool, 96) != NGX_OK) {
        ctx->nomem = 1;
        return 0;
    }

    ngx_http_mcp_jw_literal(&jw, "duplicate member ");

    /* a long name is cut; the writer mends a cut UTF-8 sequence */
    ngx_http_mcp_jw_string(&jw, name->data, ngx_min(name->len, 64));

    if (ngx_http_mcp_jw_finish(&jw, ctx->err) != NGX_OK) {
        ctx->nomem = 1;
    }

    return 0;
}


static int
ngx_http_mcp_json_refuse(ngx_http_mcp_json_ctx_t *ctx, const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    ctx->refused = 1;

    p = ngx_pnalloc(ctx->pool, NGX_HTTP_MCP_JSON_ERRLEN);
    if (p == NULL) {
        ctx->nomem = 1;
        return 0;
    }

    va_start(args, fmt);
    ctx->err->len = ngx_vslprintf(p, p + NGX_HTTP_MCP_JSON_ERRLEN, fmt, args)
                    - p;
    va_end(args);

    ctx->err->data = p;

    return 0;
}


static u_char *
ngx_http_mcp_json_copy(ngx_http_mcp_json_ctx_t *ctx, const u_char *s,
    size_t len, ngx_uint_t nul)
{
    u_char  *p;

    if (len == 0 && !nul) {
        return (u_char *) "";
    }

    /* unescaped text yajl passes straight from the input: no copy */

    if (!nul && s >= ctx->start && s + len <= ctx->end) {
        return (u_char *) s;
    }

    p = ngx_pnalloc(ctx->pool, len + nul);
    if (p == NULL) {
        ctx->nomem = 1;
        return NULL;
    }

    ngx_memcpy(p, s, len);

    if (nul) {
        p[len] = '\0';
    }

    return p;
}


static void
ngx_http_mcp_json_yajl_error(ngx_http_mcp_json_ctx_t *ctx, yajl_handle h,
    u_char *data, size_t len, ngx_uint_t at_end)
{
    u_char  *msg, *p, *last, *end;
    size_t   n;

    msg = yajl_get_error(h, 0, data, len);
    if (msg == NULL) {
        return;
    }

    /* "lexical error: invalid char in json text.\n": one line, no period */

    n = ngx_strlen(msg);
    last = msg + n;

    while (last > msg
           && (last[-1] == '\n' || last[-1] == ' ' || last[-1] == '.'))
    {
        last--;
    }

    for (p = msg; p < last; p++) {
        if (*p == '\n' || *p == '\r' || *p == '\t') {
            *p = ' ';
        }
    }

    p = ngx_pnalloc(ctx->pool, (last - msg) + sizeof(" at byte ") - 1
                               + NGX_SIZE_T_LEN);
    if (p == NULL) {
        yajl_free_error(h, msg);
        ctx->nomem = 1;
        return;
    }

    end = ngx_cpymem(p, msg, last - msg);

    /*
     * yajl counts the bytes of the last call: in yajl_parse() that is the
     * offending byte, counted from 1; yajl_complete_parse() has none
     */

    if (!at_end) {
        end = ngx_sprintf(end, " at byte %uz", yajl_get_bytes_consumed(h));
    }

    yajl_free_error(h, msg);

    ctx->err->data = p;
    ctx->err->len = end - p;
}
