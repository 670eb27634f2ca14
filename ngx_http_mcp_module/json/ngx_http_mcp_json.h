
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_JSON_H_INCLUDED_
#define _NGX_HTTP_MCP_JSON_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


typedef enum {
    NGX_HTTP_MCP_JSON_NULL = 0,
    NGX_HTTP_MCP_JSON_FALSE,
    NGX_HTTP_MCP_JSON_TRUE,
    NGX_HTTP_MCP_JSON_INTEGER,     /* fits int64_t: ->integer, ->number */
    NGX_HTTP_MCP_JSON_NUMBER,      /* any other number: ->number */
    NGX_HTTP_MCP_JSON_STRING,      /* ->str, unescaped UTF-8 */
    NGX_HTTP_MCP_JSON_ARRAY,
    NGX_HTTP_MCP_JSON_OBJECT
} ngx_http_mcp_json_type_e;


typedef struct ngx_http_mcp_json_s  ngx_http_mcp_json_t;

struct ngx_http_mcp_json_s {
    ngx_http_mcp_json_type_e    type;
    ngx_str_t                   key;      /* member name, inside an object */
    ngx_str_t                   str;      /* a string; a number as written */
    int64_t                     integer;
    double                      number;
    ngx_uint_t                  nelts;    /* members or elements */
    ngx_http_mcp_json_t        *first;    /* first member or element */
    ngx_http_mcp_json_t        *next;     /* next sibling */
    ngx_http_mcp_json_t        *parent;   /* the array or object, or NULL */
};


typedef struct {
    ngx_uint_t                  max_depth;     /* nesting of arrays/objects */
    ngx_uint_t                  max_members;   /* per object or array */
    size_t                      max_string;    /* bytes of one string/key */
    ngx_uint_t                  max_values;    /* values in the whole text */
    ngx_uint_t                  in_place;      /* strings may point into the
                                                  input, which then must
                                                  outlive the tree */
} ngx_http_mcp_json_limits_t;


/*
 * Parses exactly one JSON text (RFC 8259): strict UTF-8, no comments,
 * no trailing garbage, duplicate member names refused, limits enforced.
 * Returns NGX_OK with *root set; NGX_DECLINED with a short reason in *err
 * (allocated from pool or static) for invalid or over-limit input;
 * NGX_ERROR when memory ran out.  `limits` NULL, or a zero field, means
 * the defaults of the mcp_json_max_* directives (64, 10000, 1m, 100000).
 * Numbers keep their literal in ->str (also INTEGER); strings and keys
 * are copied into the pool, so `data` may be freed afterwards.
 */
ngx_int_t ngx_http_mcp_json_parse(ngx_pool_t *pool, u_char *data, size_t len,
    ngx_http_mcp_json_limits_t *limits, ngx_http_mcp_json_t **root,
    ngx_str_t *err);

/* member of an object by name; NULL when absent or obj is not an object */
ngx_http_mcp_json_t *ngx_http_mcp_json_get(ngx_http_mcp_json_t *obj,
    u_char *name, size_t len);

#define ngx_http_mcp_json_member(obj, lit)                                     \
    ngx_http_mcp_json_get(obj, (u_char *) lit, sizeof(lit) - 1)

/* deep equality, numbers compared by value, object members unordered */
ngx_uint_t ngx_http_mcp_json_equal(ngx_http_mcp_json_t *a,
    ngx_http_mcp_json_t *b);

/* the length of the valid UTF-8 sequence at p (RFC 3629), 0 if invalid */
size_t ngx_http_mcp_json_utf8(u_char *p, u_char *last);

/* the whole string is valid UTF-8, surrogates and overlong forms refused */
ngx_uint_t ngx_http_mcp_json_utf8_valid(u_char *p, size_t len);

/*
 * NGX_OK, or NGX_DECLINED with *err set when the JSON text has a UTF-16
 * surrogate escape out of its pair (yajl would rewrite it)
 */
ngx_int_t ngx_http_mcp_json_surrogates(u_char *p, u_char *last,
    ngx_str_t *err);


/*
 * The writer (ngx_http_mcp_json_writer.c): one growing buffer in a pool.
 * A failed allocation sets ->failed and makes every later call a no-op;
 * check it once, at the end, through ngx_http_mcp_jw_finish().
 */

typedef struct {
    ngx_pool_t                 *pool;
    u_char                     *start;
    u_char                     *pos;
    u_char                     *end;
    unsigned                    failed:1;
} ngx_http_mcp_jw_t;


ngx_int_t ngx_http_mcp_jw_init(ngx_http_mcp_jw_t *jw, ngx_pool_t *pool,
    size_t size);
/* room for len more bytes at once, when the size is known ahead */
void ngx_http_mcp_jw_reserve(ngx_http_mcp_jw_t *jw, size_t len);
void ngx_http_mcp_jw_raw(ngx_http_mcp_jw_t *jw, u_char *p, size_t len);
/* a JSON string: quotes added, escaped; invalid UTF-8 becomes U+FFFD */
void ngx_http_mcp_jw_string(ngx_http_mcp_jw_t *jw, u_char *p, size_t len);
/* the inside of a JSON string, escaped, without quotes */
void ngx_http_mcp_jw_escaped(ngx_http_mcp_jw_t *jw, u_char *p, size_t len);
void ngx_http_mcp_jw_int(ngx_http_mcp_jw_t *jw, int64_t n);
/* any parsed value, written compactly on one line */
void ngx_http_mcp_jw_value(ngx_http_mcp_jw_t *jw, ngx_http_mcp_json_t *v);
/* base64 of bytes, as a JSON string */
void ngx_http_mcp_jw_base64(ngx_http_mcp_jw_t *jw, u_char *p, size_t len);
/* NGX_OK and the text in *out, or NGX_ERROR if any allocation failed */
ngx_int_t ngx_http_mcp_jw_finish(ngx_http_mcp_jw_t *jw, ngx_str_t *out);

/* a position to come back to: an offset, since growing moves the buffer */
#define ngx_http_mcp_jw_mark(jw)       ((size_t) ((jw)->pos - (jw)->start))
#define ngx_http_mcp_jw_rewind(jw, m)  ((jw)->pos = (jw)->start + (m))

#define ngx_http_mcp_jw_literal(jw, lit)                                      \
    ngx_http_mcp_jw_raw(jw, (u_char *) lit, sizeof(lit) - 1)

#define ngx_http_mcp_jw_str(jw, s)                                            \
    ngx_http_mcp_jw_string(jw, (s)->data, (s)->len)


#endif /* _NGX_HTTP_MCP_JSON_H_INCLUDED_ */
