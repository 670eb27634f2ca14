/*
 * Copyright (C) ngx_http_mcp_module authors
 */


/*
 * Unit tests of json/ (the parser, writer and schema) and of
 * backend/ngx_http_mcp_pg_value.c (auth/'s are in jwt_test.c), run inside
 * the real nginx binary:
 * t/unit/run.sh builds this file with them into a dynamic core module
 * whose directive "mcp_unit_test;" runs every test while the
 * configuration is read, prints TAP on stdout and exits with 0 (all
 * passed) or 1.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <stdio.h>

#include "json/ngx_http_mcp_json.h"
#include "json/ngx_http_mcp_schema.h"
#include "backend/ngx_http_mcp_pg_value.h"


#define L(s)  s, sizeof(s) - 1

/*
 * Under ASan (run.sh SANITIZE=1) the pool is made so small that most
 * allocations become malloc()ed large blocks, which ASan watches.
 */
#ifndef NGX_HTTP_MCP_UNIT_POOL_SIZE
#define NGX_HTTP_MCP_UNIT_POOL_SIZE  16384
#endif


static char *ngx_http_mcp_unit_test(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* t/unit/jwt_test.c: the tests of auth/, with these counters */
void ngx_http_mcp_unit_jwt(ngx_pool_t *p, ngx_uint_t *tests,
    ngx_uint_t *failed);


static ngx_command_t  ngx_http_mcp_unit_commands[] = {

    { ngx_string("mcp_unit_test"),
      NGX_MAIN_CONF|NGX_DIRECT_CONF|NGX_CONF_NOARGS,
      ngx_http_mcp_unit_test,
      0,
      0,
      NULL },

      ngx_null_command
};


static ngx_core_module_t  ngx_http_mcp_unit_module_ctx = {
    ngx_string("mcp_unit"),
    NULL,
    NULL
};


ngx_module_t  ngx_http_mcp_unit_module = {
    NGX_MODULE_V1,
    &ngx_http_mcp_unit_module_ctx,
    ngx_http_mcp_unit_commands,
    NGX_CORE_MODULE,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NGX_MODULE_V1_PADDING
};


ngx_module_t *ngx_modules[] = {
    &ngx_http_mcp_unit_module,
    NULL
};

char *ngx_module_names[] = {
    "ngx_http_mcp_unit_module",
    NULL
};

char *ngx_module_order[] = {
    NULL
};


static ngx_pool_t  *pool;
static ngx_uint_t   tests, failed, verbose;


static void
ok(int cond, const char *fmt, ...)
{
    va_list  args;

    tests++;

    if (!cond) {
        failed++;
    }

    printf("%sok %u - ", cond ? "" : "not ", (unsigned) tests);

    va_start(args, fmt);
    vprintf(fmt, args);
    va_end(args);

    printf("\n");
}


static void
diag(const char *what, ngx_str_t *s)
{
    printf("#   %s: %.*s\n", what, (int) s->len, s->data);
}


static ngx_int_t
parse(const char *text, size_t len, ngx_http_mcp_json_limits_t *lim,
    ngx_http_mcp_json_t **v, ngx_str_t *err)
{
    return ngx_http_mcp_json_parse(pool, (u_char *) text, len, lim, v, err);
}


static ngx_str_t
compact(ngx_http_mcp_json_t *v)
{
    ngx_str_t          out;
    ngx_http_mcp_jw_t  jw;

    ngx_http_mcp_jw_init(&jw, pool, 16);
    ngx_http_mcp_jw_value(&jw, v);

    if (ngx_http_mcp_jw_finish(&jw, &out) != NGX_OK) {
        ngx_str_set(&out, "<writer failed>");
    }

    return out;
}


static int
streq(ngx_str_t *s, const char *lit, size_t len)
{
    return s->len == len && ngx_memcmp(s->data, lit, len) == 0;
}


static int
contains(ngx_str_t *s, const char *needle)
{
    size_t  n;

    n = strlen(needle);

    return n == 0 || (s->data && memmem(s->data, s->len, needle, n));
}


static int
one_line(ngx_str_t *s)
{
    size_t  i;

    for (i = 0; i < s->len; i++) {
        if (s->data[i] == '\n' || s->data[i] == '\r') {
            return 0;
        }
    }

    return 1;
}


/* parses `in` and expects the compact writer output `want` */

static void
round_trip(const char *in, const char *want)
{
    ngx_int_t             rc;
    ngx_str_t             err, out;
    ngx_http_mcp_json_t  *v;

    rc = parse(in, strlen(in), NULL, &v, &err);

    if (rc != NGX_OK) {
        ok(0, "parse %s", in);
        diag("error", &err);
        return;
    }

    out = compact(v);

    ok(streq(&out, want, strlen(want)), "round trip %s", in);

    if (!streq(&out, want, strlen(want))) {
        diag("got", &out);
    }
}


/* expects NGX_DECLINED with `reason` inside the message, on one line */

static void
refused_len(const char *in, size_t len, ngx_http_mcp_json_limits_t *lim,
    const char *reason, const char *name)
{
    ngx_int_t             rc;
    ngx_str_t             err;
    ngx_http_mcp_json_t  *v;

    rc = parse(in, len, lim, &v, &err);

    ok(rc == NGX_DECLINED && contains(&err, reason) && one_line(&err)
       && v == NULL, "refused: %s", name);

    if (rc != NGX_DECLINED || !contains(&err, reason)) {
        printf("#   rc %d, want \"%s\"\n", (int) rc, reason);
        diag("error", &err);

    } else if (verbose) {
        diag("reason", &err);
    }
}


static void
refused(const char *in, const char *reason, const char *name)
{
    refused_len(in, strlen(in), NULL, reason, name);
}


static void
escaped(const char *in, size_t len, const char *want, const char *name)
{
    ngx_str_t             out, err;
    ngx_http_mcp_jw_t     jw;
    ngx_http_mcp_json_t  *v;

    ngx_http_mcp_jw_init(&jw, pool, 1);
    ngx_http_mcp_jw_string(&jw, (u_char *) in, len);
    ngx_http_mcp_jw_finish(&jw, &out);

    ok(streq(&out, want, strlen(want))
       && parse((char *) out.data, out.len, NULL, &v, &err) == NGX_OK,
       "writer: %s", name);

    if (!streq(&out, want, strlen(want))) {
        diag("got", &out);
    }
}


static ngx_http_mcp_json_t *
json(const char *text)
{
    ngx_str_t             err;
    ngx_http_mcp_json_t  *v;

    if (parse(text, strlen(text), NULL, &v, &err) != NGX_OK) {
        printf("# BUG in test: cannot parse %s: %.*s\n",
               text, (int) err.len, err.data);
        return NULL;
    }

    return v;
}


static void
test_parser(void)
{
    ngx_int_t                    rc;
    ngx_str_t                    err, out;
    ngx_uint_t                   i, j;
    ngx_http_mcp_json_t         *v, *m;
    ngx_http_mcp_json_limits_t   lim;
    u_char                      *big, *p;

    round_trip("{\"a\":1,\"b\":[true,false,null],\"c\":\"x\"}",
               "{\"a\":1,\"b\":[true,false,null],\"c\":\"x\"}");
    round_trip(" [ 1 , -2.50 , 1e3 , \"\" , { } , [ ] ] ",
               "[1,-2.50,1e3,\"\",{},[]]");
    round_trip("\"top-level string\"", "\"top-level string\"");
    round_trip("42", "42");
    round_trip("null", "null");
    round_trip("\"\\u00e9\\ud83d\\ude00\\n\\/\"",
               "\"\xc3\xa9\xf0\x9f\x98\x80\\n/\"");
    round_trip("\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
               "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    round_trip("{\"\\u0000\":\"a\\u0000b\\u001f\"}",
               "{\"\\u0000\":\"a\\u0000b\\u001f\"}");

    /* structure of the tree */

    v = json("{\"id\":7,\"params\":{\"name\":\"t\",\"args\":[1,2,3]}}");
    m = ngx_http_mcp_json_member(v, "params");
    ok(v && v->type == NGX_HTTP_MCP_JSON_OBJECT && v->nelts == 2
       && m && m->type == NGX_HTTP_MCP_JSON_OBJECT && m->parent == v
       && streq(&m->key, "params", 6), "tree: object members and parent");

    m = ngx_http_mcp_json_member(m, "args");
    ok(m && m->nelts == 3 && m->first->integer == 1
       && m->first->next->next->integer == 3
       && m->first->next->next->next == NULL
       && m->first->next->integer == 2 && m->first->parent == m
       && m->first->key.len == 0, "tree: array elements in order");

    ok(ngx_http_mcp_json_member(v, "nope") == NULL
       && ngx_http_mcp_json_member(m, "x") == NULL
       && ngx_http_mcp_json_get(NULL, (u_char *) "x", 1) == NULL,
       "get: absent member, non-object, NULL");

    /* numbers */

    v = json("9223372036854775807");
    ok(v && v->type == NGX_HTTP_MCP_JSON_INTEGER
       && v->integer == INT64_MAX, "number: INT64_MAX is an integer");

    v = json("-9223372036854775808");
    ok(v && v->type == NGX_HTTP_MCP_JSON_INTEGER
       && v->integer == INT64_MIN, "number: INT64_MIN is an integer");

    v = json("9223372036854775808");
    ok(v && v->type == NGX_HTTP_MCP_JSON_NUMBER
       && v->number == 9223372036854775808.0,
       "number: INT64_MAX + 1 is a double");

    v = json("-9223372036854775809");
    ok(v && v->type == NGX_HTTP_MCP_JSON_NUMBER, "number: INT64_MIN - 1");

    v = json("1e400");
    out = v ? compact(v) : err;
    ok(v && v->type == NGX_HTTP_MCP_JSON_NUMBER && v->number > 1e308
       && streq(&out, "1e400", 5), "number: 1e400 kept as written");

    v = json("-0");
    out = v ? compact(v) : err;
    ok(v && v->type == NGX_HTTP_MCP_JSON_INTEGER && v->integer == 0
       && streq(&out, "-0", 2), "number: -0 is integer 0, written -0");

    v = json("1.0");
    ok(v && v->type == NGX_HTTP_MCP_JSON_NUMBER && v->number == 1.0
       && streq(&v->str, "1.0", 3), "number: 1.0 is a number");

    v = json("[0.5,-1.25e-3,2E+2]");
    ok(v && v->first->number == 0.5 && v->first->next->number == -1.25e-3
       && v->first->next->next->number == 200.0,
       "number: fractions and exponents");

    refused("01", "error", "leading zero");
    refused("[1.]", "error", "fraction without digits");
    refused("[.5]", "error", "no integer part");
    refused("[+1]", "error", "plus sign");
    refused("[NaN]", "error", "NaN");
    refused("[Infinity]", "error", "Infinity");

    /* invalid texts */

    refused("", "empty", "empty text");
    refused(" \n\t ", "empty", "blank text");
    refused("{", "premature EOF", "unterminated object");
    refused("[1,2", "premature EOF", "unterminated array");
    refused("{\"a\":1,}", "error", "trailing comma");
    refused("{'a':1}", "error", "single quotes");
    refused("{a:1}", "error", "bare key");
    refused("[1] [2]", "trailing garbage", "two values");
    refused("{} x", "trailing garbage", "trailing garbage");
    refused("\"a\" \"", "trailing garbage", "an unterminated string after");
    refused("\"a{\"\"", "trailing garbage", "a quote after a string");
    refused("[1] tru", "trailing garbage", "half a literal after");
    refused("{}\"x", "trailing garbage", "a string begun after");
    refused("[1] // c", "error", "comment");
    refused("/* c */ 1", "error", "leading comment");
    refused("\"a\nb\"", "error", "raw newline in string");
    refused("\"\\x\"", "error", "bad escape");
    refused("\"\\u12\"", "error", "short unicode escape");
    refused("tru", "error", "truncated literal");
    refused("[TRUE]", "error", "upper-case literal");
    refused_len("[1,\0]", 5, NULL, "error", "NUL byte");

    /* invalid UTF-8 */

    refused("\"\xff\"", "UTF", "invalid byte 0xff");
    refused("\"\xc3\"", "UTF", "truncated 2-byte sequence");
    refused("\"\xc0\xaf\"", "UTF", "overlong 2-byte /");
    refused("\"\xe0\x80\xaf\"", "UTF", "overlong 3-byte");
    refused("\"\xed\xa0\x80\"", "UTF", "UTF-8 encoded surrogate");
    refused("\"\xf4\x90\x80\x80\"", "UTF", "above U+10FFFF");
    refused("\"\xf8\x88\x80\x80\x80\"", "UTF", "5-byte form");
    refused("{\"\xfe\":1}", "UTF", "invalid UTF-8 in a member name");
    refused("\"\\udc00\"", "surrogate", "lone low surrogate escape");

    /* yajl would turn these into "?" or a made-up character */

    refused("\"\\ud800\"", "surrogate", "lone high surrogate escape");
    refused("\"a\\ud800b\"", "surrogate", "high surrogate before text");
    refused("\"\\ud800\\u0041\"", "surrogate",
            "high surrogate before a non-surrogate escape");
    refused("\"\\uD800\\uD800\"", "surrogate", "two high surrogates");
    refused("\"\\ud83d\\ude00\\ude00\"", "surrogate",
            "a pair, then a lone low surrogate");
    refused("{\"\\udbff\":1}", "surrogate",
            "lone surrogate escape in a member name");
    refused("[\"ok\",\"\\ud800\\n\"]", "surrogate",
            "high surrogate before another escape");
    round_trip("\"\\\\ud800\"", "\"\\\\ud800\"");
    round_trip("\"\\uDBFF\\uDFFF\"", "\"\xf4\x8f\xbf\xbf\"");

    /* duplicates */

    refused("{\"a\":1,\"b\":2,\"a\":3}", "duplicate member \"a\"",
            "duplicate member");
    refused("{\"x\":{\"k\":1,\"k\":1}}", "duplicate member \"k\"",
            "duplicate member in a nested object");
    ok(json("[{\"a\":1},{\"a\":2}]") != NULL,
       "same name in sibling objects is fine");

    big = ngx_pnalloc(pool, 64 * 1024);
    p = ngx_sprintf(big, "{");

    for (i = 0; i < 100; i++) {
        p = ngx_sprintf(p, "\"k%ui\":%ui,", i, i);
    }

    p = ngx_sprintf(p, "\"k57\":0}");

    refused_len((char *) big, p - big, NULL, "duplicate member \"k57\"",
                "duplicate member in a large object");

    p[-6] = 'X';                        /* "k57" becomes "kX7" */

    rc = parse((char *) big, p - big, NULL, &v, &err);
    ok(rc == NGX_OK && v->nelts == 101, "large object without duplicates");

    /* limits */

    ngx_memzero(&lim, sizeof(lim));
    lim.max_depth = 3;

    refused_len(L("[[[[1]]]]"), &lim, "nesting deeper than 3",
                "depth limit, arrays");
    refused_len(L("{\"a\":{\"b\":{\"c\":{}}}}"), &lim,
                "nesting deeper than 3", "depth limit, objects");
    rc = parse(L("[[[1]]]"), &lim, &v, &err);
    ok(rc == NGX_OK, "depth limit: exactly 3 levels pass");

    p = big;
    for (i = 0; i < 65; i++) {
        *p++ = '[';
    }
    for (i = 0; i < 65; i++) {
        *p++ = ']';
    }

    refused_len((char *) big, p - big, NULL, "nesting deeper than 64",
                "default depth limit 64");
    rc = parse((char *) big + 1, p - big - 2, NULL, &v, &err);
    ok(rc == NGX_OK, "default depth limit: 64 levels pass");

    ngx_memzero(&lim, sizeof(lim));
    lim.max_members = 3;

    refused_len(L("[1,2,3,4]"), &lim, "more than 3 members",
                "member limit, array");
    refused_len(L("{\"a\":1,\"b\":2,\"c\":3,\"d\":4}"), &lim,
                "more than 3 members", "member limit, object");
    rc = parse(L("{\"a\":[1,2,3],\"b\":[4,5,6]}"), &lim, &v, &err);
    ok(rc == NGX_OK, "member limit counts each container apart");

    ngx_memzero(&lim, sizeof(lim));
    lim.max_string = 4;

    refused_len(L("\"abcde\""), &lim, "string longer than 4 bytes",
                "string limit");
    refused_len(L("\"\\u00e9\\u00e9\\u00e9\""), &lim,
                "string longer than 4 bytes",
                "string limit counts decoded bytes");
    refused_len(L("{\"abcde\":1}"), &lim, "member name longer than 4",
                "string limit on member names");
    rc = parse(L("[\"abcd\",{\"abcd\":\"\\u00e9\\u00e9\"}]"), &lim, &v, &err);
    ok(rc == NGX_OK, "string limit: exactly 4 bytes pass");

    big = ngx_pnalloc(pool, 1024 * 1024 + 8);
    p = ngx_cpymem(big, "\"", 1);
    ngx_memset(p, 'a', 1024 * 1024 + 1);
    p += 1024 * 1024 + 1;
    *p++ = '"';
    ngx_memzero(&lim, sizeof(lim));

    refused_len((char *) big, p - big, NULL,
                "string longer than 1048576 bytes", "default string limit");

    /* values in the whole text: containers, members, elements, the root */

    ngx_memzero(&lim, sizeof(lim));
    lim.max_values = 5;

    rc = parse(L("[1,[2,3]]"), &lim, &v, &err);
    ok(rc == NGX_OK && v->nelts == 2, "value limit: exactly 5 values pass");
    refused_len(L("[1,[2,3],4,5]"), &lim, "more than 5 values",
                "value limit, array");
    refused_len(L("{\"a\":{\"b\":1},\"c\":[true,null]}"), &lim,
                "more than 5 values", "value limit, nested containers");
    rc = parse(L("{\"a\":\"x\",\"b\":{\"c\":\"y\"}}"), &lim, &v, &err);
    ok(rc == NGX_OK, "value limit: member names do not count");

    lim.max_members = 2;
    refused_len(L("[1,2,3]"), &lim, "more than 2 members",
                "value limit and member limit together");

    /*
     * the default, 100000 (members stay under 10000):
     * 1 array + 10 arrays of 9998 numbers each + 9 numbers
     */

    big = ngx_pnalloc(pool, 2 * 100000 + 64);
    p = ngx_cpymem(big, "[", 1);

    for (i = 0; i < 10; i++) {
        p = ngx_cpymem(p, i ? ",[0" : "[0", i ? 3 : 2);

        for (j = 1; j < 9998; j++) {
            p = ngx_cpymem(p, ",0", 2);
        }

        *p++ = ']';
    }

    for (i = 0; i < 9; i++) {
        p = ngx_cpymem(p, ",0", 2);
    }

    *p++ = ']';

    rc = parse((char *) big, p - big, NULL, &v, &err);
    ok(rc == NGX_OK && v->nelts == 19 && v->first->nelts == 9998,
       "default value limit: 100000 values pass");

    p[-1] = ',';
    p = ngx_cpymem(p, "0]", 2);

    refused_len((char *) big, p - big, NULL, "more than 100000 values",
                "default value limit 100000");
}


static void
test_equal(void)
{
    ok(ngx_http_mcp_json_equal(json("{\"a\":[1,{\"b\":null}],\"c\":\"x\"}"),
                               json("{\"c\":\"x\",\"a\":[1,{\"b\":null}]}")),
       "equal: objects ignore member order");
    ok(ngx_http_mcp_json_equal(json("1"), json("1.0"))
       && ngx_http_mcp_json_equal(json("100"), json("1e2"))
       && ngx_http_mcp_json_equal(json("-0"), json("0")),
       "equal: numbers by value");
    ok(!ngx_http_mcp_json_equal(json("[1,2]"), json("[2,1]")),
       "equal: arrays are ordered");
    ok(!ngx_http_mcp_json_equal(json("{\"a\":1}"), json("{\"a\":1,\"b\":2}"))
       && !ngx_http_mcp_json_equal(json("{\"a\":1,\"b\":2}"),
                                   json("{\"a\":1}")),
       "equal: extra members differ");
    ok(!ngx_http_mcp_json_equal(json("\"1\""), json("1"))
       && !ngx_http_mcp_json_equal(json("true"), json("1"))
       && !ngx_http_mcp_json_equal(json("null"), json("false"))
       && !ngx_http_mcp_json_equal(json("\"ab\""), json("\"abc\"")),
       "equal: types and strings");
}


static void
test_writer(void)
{
    u_char                bytes[256];
    ngx_str_t             out, err;
    ngx_uint_t            i;
    const char           *want;
    ngx_http_mcp_jw_t     jw;
    ngx_http_mcp_json_t  *v;

    escaped("plain", 5, "\"plain\"", "plain ASCII");
    escaped("q\"b\\s/", 6, "\"q\\\"b\\\\s/\"", "quote and backslash");
    escaped("\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\"", "short escapes");
    escaped("\x01\x1f\x00", 3, "\"\\u0001\\u001f\\u0000\"", "\\u00XX");
    escaped("\x7f", 1, "\"\x7f\"", "DEL passes");
    escaped("\xc3\xa9\xf0\x9f\x98\x80", 6, "\"\xc3\xa9\xf0\x9f\x98\x80\"",
            "valid UTF-8 passes");
    escaped("a\xffz", 3, "\"a\xef\xbf\xbdz\"", "0xff becomes U+FFFD");
    escaped("\xc3", 1, "\"\xef\xbf\xbd\"", "cut sequence becomes U+FFFD");
    escaped("\xed\xa0\x80", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"",
            "encoded surrogate becomes U+FFFD");
    escaped("\xc0\xaf", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"",
            "overlong form becomes U+FFFD");

    /* every byte value: the output always parses, on one line */

    for (i = 0; i < 256; i++) {
        bytes[i] = (u_char) i;
    }

    ngx_http_mcp_jw_init(&jw, pool, 1);
    ngx_http_mcp_jw_string(&jw, bytes, 256);
    ngx_http_mcp_jw_finish(&jw, &out);

    ok(one_line(&out)
       && parse((char *) out.data, out.len, NULL, &v, &err) == NGX_OK
       && v->type == NGX_HTTP_MCP_JSON_STRING
       && v->str.len == 128 + 128 * 3
       && ngx_memcmp(v->str.data, bytes, 128) == 0,
       "writer: all 256 bytes give valid one-line JSON");

    ngx_http_mcp_jw_init(&jw, pool, 1);
    ngx_http_mcp_jw_literal(&jw, "{\"n\":[");
    ngx_http_mcp_jw_int(&jw, INT64_MIN);
    ngx_http_mcp_jw_literal(&jw, ",");
    ngx_http_mcp_jw_int(&jw, INT64_MAX);
    ngx_http_mcp_jw_literal(&jw, ",");
    ngx_http_mcp_jw_int(&jw, 0);
    ngx_http_mcp_jw_literal(&jw, "],\"b\":");
    ngx_http_mcp_jw_base64(&jw, (u_char *) "\x00\xff\x10hello", 8);
    ngx_http_mcp_jw_literal(&jw, ",\"e\":\"<");
    ngx_http_mcp_jw_escaped(&jw, (u_char *) "\"\n", 2);
    ngx_http_mcp_jw_literal(&jw, ">\"}");

    want = "{\"n\":[-9223372036854775808,9223372036854775807,0],"
           "\"b\":\"AP8QaGVsbG8=\",\"e\":\"<\\\"\\n>\"}";

    ok(ngx_http_mcp_jw_finish(&jw, &out) == NGX_OK
       && streq(&out, want, strlen(want)),
       "writer: int, base64, escaped, growth from 1 byte");

    if (!streq(&out, want, strlen(want))) {
        diag("got", &out);
    }

    ngx_http_mcp_jw_init(&jw, pool, 8);
    ngx_http_mcp_jw_base64(&jw, (u_char *) "", 0);
    ngx_http_mcp_jw_value(&jw, NULL);
    ngx_http_mcp_jw_finish(&jw, &out);
    ok(streq(&out, "\"\"null", 6), "writer: empty base64, NULL value");

    ngx_http_mcp_jw_init(&jw, pool, 8);
    ngx_http_mcp_jw_raw(&jw, NULL, 0);
    ngx_http_mcp_jw_string(&jw, NULL, 0);
    ngx_http_mcp_jw_escaped(&jw, NULL, 0);
    ngx_http_mcp_jw_finish(&jw, &out);
    ok(streq(&out, "\"\"", 2), "writer: NULL, 0 is the empty string");

    jw.failed = 1;
    ngx_http_mcp_jw_literal(&jw, "more");
    ok(ngx_http_mcp_jw_finish(&jw, &out) == NGX_ERROR && out.len == 0,
       "writer: failed flag makes finish fail");

    round_trip("{\"k\\n\\\"\":[\"\\u0001\",{\"\":-1.5e-7}],\"z\":[[],{}]}",
               "{\"k\\n\\\"\":[\"\\u0001\",{\"\":-1.5e-7}],\"z\":[[],{}]}");
}


/*
 * Mutates a document byte by byte (deterministic LCG) and asks that every
 * text either be refused with a one-line reason or survive a round trip
 * through the writer unchanged in value.
 */

/*
 * the thousands of parses and conversions of the random tests each get a
 * pool of their own: one pool's chain of (under ASan, tiny) blocks grows
 * long enough to make every allocation slow
 */

static void
fresh_pool(void)
{
    static ngx_pool_t  *main_pool, *own;

    if (main_pool == NULL) {
        main_pool = pool;
    }

    if (own) {
        ngx_destroy_pool(own);
    }

    own = ngx_create_pool(NGX_HTTP_MCP_UNIT_POOL_SIZE, main_pool->log);
    if (own == NULL) {
        printf("Bail out! no pool\n");
        exit(2);
    }

    pool = own;
}


static void
test_mutations(void)
{
    u_char                buf[256];
    size_t                len;
    uint32_t              seed;
    ngx_str_t             err, out;
    ngx_uint_t            i, j, good, bad, broken;
    ngx_http_mcp_json_t  *v, *w;

    static const char     doc[] =
        "{\"jsonrpc\":\"2.0\",\"id\":-12.5e3,\"method\":\"tools/call\","
        "\"params\":{\"name\":\"caf\xc3\xa9\",\"arguments\":{\"a\":[1,true,"
        "null,\"\\u00e9\\n\"],\"b\":{}}}}";

    seed = 12345;
    good = 0;
    bad = 0;
    broken = 0;

    for (i = 0; i < 20000; i++) {
        fresh_pool();

        len = sizeof(doc) - 1;
        ngx_memcpy(buf, doc, len);

        for (j = 0; j < 1 + i % 3; j++) {
            seed = seed * 1103515245 + 12345;

            switch ((seed >> 8) % 3) {
            case 0:                     /* replace a byte */
                buf[(seed >> 12) % len] = (u_char) (seed >> 20);
                break;
            case 1:                     /* drop a byte */
                len--;
                ngx_memmove(buf + (seed >> 12) % len,
                            buf + (seed >> 12) % len + 1,
                            len - (seed >> 12) % len);
                break;
            default:                    /* duplicate a byte */
                buf[len] = buf[(seed >> 12) % len];
                len++;
            }
        }

        switch (parse((char *) buf, len, NULL, &v, &err)) {

        case NGX_OK:
            out = compact(v);

            if (parse((char *) out.data, out.len, NULL, &w, &err) != NGX_OK
                || !ngx_http_mcp_json_equal(v, w) || !one_line(&out))
            {
                broken++;
                break;
            }

            good++;
            break;

        case NGX_DECLINED:
            if (err.len == 0 || !one_line(&err)) {
                broken++;
            }

            bad++;
            break;

        default:
            broken++;
        }
    }

    ok(broken == 0 && good > 100 && bad > 100,
       "mutations: %u accepted and round-tripped, %u refused, %u broken",
       (unsigned) good, (unsigned) bad, (unsigned) broken);
}


/* with MCP_UNIT_VERBOSE: time and memory for a 1 MB body */

static void
test_cost(void)
{
    u_char               *big, *p;
    ngx_str_t             err, out;
    ngx_uint_t                   i, j, after;
    ngx_pool_t                  *tmp;
    struct timespec              t0, t1;
    ngx_http_mcp_json_t         *v;
    ngx_http_mcp_json_limits_t   lim;

    if (!verbose) {
        return;
    }

    /* 500101 values: over the default mcp_json_max_values */

    ngx_memzero(&lim, sizeof(lim));
    lim.max_values = 1000000;

    tmp = ngx_create_pool(16384, pool->log);
    big = ngx_pnalloc(tmp, 1100000);
    p = ngx_sprintf(big, "[");

    for (i = 0; i < 100; i++) {
        p = ngx_sprintf(p, "%s[", i ? "," : "");

        for (j = 0; j < 5000; j++) {
            p = ngx_sprintf(p, "%s1", j ? "," : "");
        }

        *p++ = ']';
    }

    *p++ = ']';

    after = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    if (parse((char *) big, p - big, &lim, &v, &err) == NGX_OK) {
        out = compact(v);
        after = out.len;
    }

    clock_gettime(CLOCK_MONOTONIC, &t1);

    printf("# cost: %u bytes, 500000 numbers: parse + write %ld ms "
           "(out %u, node %u bytes)\n", (unsigned) (p - big),
           (long) ((t1.tv_sec - t0.tv_sec) * 1000
                   + (t1.tv_nsec - t0.tv_nsec) / 1000000),
           (unsigned) after, (unsigned) sizeof(ngx_http_mcp_json_t));

    ngx_destroy_pool(tmp);
}


static void
check_ok(const char *schema, ngx_uint_t object_root, const char *name)
{
    ngx_int_t   rc;
    ngx_str_t   err;

    rc = ngx_http_mcp_schema_check(pool, json(schema), object_root, &err);

    ok(rc == NGX_OK, "schema check accepts: %s", name);

    if (rc != NGX_OK) {
        diag("error", &err);
    }
}


static void
check_bad(const char *schema, ngx_uint_t object_root, const char *reason,
    const char *name)
{
    ngx_int_t   rc;
    ngx_str_t   err;

    ngx_str_null(&err);

    rc = ngx_http_mcp_schema_check(pool, json(schema), object_root, &err);

    ok(rc == NGX_DECLINED && contains(&err, reason) && one_line(&err),
       "schema check refuses: %s", name);

    if (rc != NGX_DECLINED || !contains(&err, reason)) {
        printf("#   rc %d, want \"%s\"\n", (int) rc, reason);
        diag("error", &err);

    } else if (verbose) {
        diag("reason", &err);
    }
}


/* reason NULL: must be valid; else invalid with reason in the message */

static void
validate(const char *schema, const char *value, const char *reason,
    const char *name)
{
    ngx_int_t             rc;
    ngx_str_t             err;
    ngx_http_mcp_json_t  *s;

    s = json(schema);
    ngx_str_null(&err);

    if (ngx_http_mcp_schema_check(pool, s, 0, &err) != NGX_OK) {
        ok(0, "%s (schema refused)", name);
        diag("error", &err);
        return;
    }

    rc = ngx_http_mcp_schema_validate(pool, s, json(value), &err);

    if (reason == NULL) {
        ok(rc == NGX_OK, "valid: %s", name);

        if (rc != NGX_OK) {
            diag("error", &err);
        }

        return;
    }

    ok(rc == NGX_DECLINED && contains(&err, reason) && one_line(&err),
       "invalid: %s", name);

    if (rc != NGX_DECLINED || !contains(&err, reason)) {
        printf("#   rc %d, want \"%s\"\n", (int) rc, reason);
        diag("error", &err);

    } else if (verbose) {
        diag("reason", &err);
    }
}


static void
test_schema_check(void)
{
    check_ok("{}", 0, "empty schema");
    check_ok("true", 0, "true");
    check_ok("false", 0, "false");
    check_ok("{\"type\":\"object\",\"properties\":{\"id\":{\"type\":"
             "\"integer\",\"minimum\":1},\"tags\":{\"type\":\"array\","
             "\"items\":{\"type\":\"string\",\"pattern\":\"^[a-z]+$\"}}},"
             "\"required\":[\"id\"],\"additionalProperties\":false}", 1,
             "typical inputSchema");
    check_ok("{\"type\":[\"string\",\"null\"]}", 0, "type array");
    check_ok("{\"$defs\":{\"a\":{\"type\":\"string\"}},\"$ref\":"
             "\"#/$defs/a\"}", 0, "local $ref");
    check_ok("{\"$defs\":{\"n\":{\"$anchor\":\"node\",\"type\":\"object\","
             "\"properties\":{\"next\":{\"$ref\":\"#node\"}}}},"
             "\"properties\":{\"x\":{\"$ref\":\"#\"}}}", 0,
             "anchor and root $ref");
    check_ok("{\"$defs\":{\"a\":{\"allOf\":[{\"$ref\":\"#/$defs/b\"}]},"
             "\"b\":{\"type\":\"string\"}},\"anyOf\":[{\"$ref\":"
             "\"#/$defs/a\"},{\"$ref\":\"#/$defs/a\"}]}", 0,
             "shared $ref targets are not loops");
    check_ok("{\"x-vendor\":{\"type\":5},\"format\":\"email\"}", 0,
             "unknown keywords ignored");

    check_bad("5", 0, "schema must be an object or a boolean", "number");
    check_bad("\"x\"", 0, "schema must be an object or a boolean", "string");
    check_bad("{\"type\":\"string\"}", 1, "\"type\":\"object\"",
              "object root required");
    check_bad("true", 1, "\"type\":\"object\"", "object root: true");
    check_bad("{\"type\":\"int\"}", 0, "type", "unknown type name");
    check_bad("{\"type\":[\"string\",5]}", 0, "type", "bad type in array");
    check_bad("{\"type\":[\"string\",\"string\"]}", 0, "type",
              "repeated type in array");
    check_bad("{\"properties\":[]}", 0, "\"properties\" must be an object",
              "properties not an object");
    check_bad("{\"properties\":{\"a\":{\"type\":\"x\"}}}", 0,
              "/properties/a", "bad nested schema: location");
    check_bad("{\"properties\":{\"a\":3}}", 0, "/properties/a",
              "non-schema property");
    check_bad("{\"required\":\"a\"}", 0, "\"required\" must be an array",
              "required not an array");
    check_bad("{\"required\":[\"a\",1]}", 0, "\"required\" must be an array "
              "of strings", "required with a number");
    check_bad("{\"enum\":{}}", 0, "\"enum\" must be an array", "enum");
    check_bad("{\"minimum\":\"1\"}", 0, "\"minimum\" must be a number",
              "minimum");
    check_bad("{\"exclusiveMaximum\":true}", 0,
              "\"exclusiveMaximum\" must be a number", "exclusiveMaximum");
    check_bad("{\"multipleOf\":0}", 0, "\"multipleOf\"", "multipleOf 0");
    check_bad("{\"minLength\":-1}", 0,
              "\"minLength\" must be a non-negative integer", "minLength");
    check_bad("{\"maxItems\":1.5}", 0,
              "\"maxItems\" must be a non-negative integer", "maxItems");
    check_bad("{\"items\":[]}", 0, "items", "items not a schema");
    check_bad("{\"prefixItems\":{}}", 0, "prefixItems", "prefixItems");
    check_bad("{\"allOf\":[]}", 0, "\"allOf\" must be a non-empty array",
              "empty allOf");
    check_bad("{\"anyOf\":{}}", 0, "\"anyOf\" must be a non-empty array",
              "anyOf object");
    check_bad("{\"oneOf\":[{},7]}", 0, "/oneOf/1", "oneOf member");
    check_bad("{\"not\":[]}", 0, "not", "not");
    check_bad("{\"pattern\":5}", 0, "\"pattern\" must be a string",
              "pattern not a string");
    check_bad("{\"pattern\":\"a(b\"}", 0, "pattern", "pattern not compiling");
    check_bad("{\"$ref\":\"http://x/s.json\"}", 0, "$ref",
              "remote $ref");
    check_bad("{\"$ref\":\"#/$defs/nope\"}", 0, "$ref", "unresolved $ref");
    check_bad("{\"$ref\":\"#nope\"}", 0, "$ref", "unresolved anchor");
    check_bad("{\"$defs\":[]}", 0, "$defs", "$defs not an object");
    check_bad("{\"$ref\":\"#\"}", 0, "loops back", "$ref to itself");
    check_bad("{\"$defs\":{\"loop\":{\"$ref\":\"#/$defs/loop\"}},"
              "\"$ref\":\"#/$defs/loop\"}", 0, "loops back",
              "$ref loop in $defs");
    check_bad("{\"$defs\":{\"a\":{\"anyOf\":[{\"type\":\"null\"},"
              "{\"$ref\":\"#/$defs/b\"}]},\"b\":{\"not\":{\"$ref\":"
              "\"#/$defs/a\"}}},\"properties\":{\"p\":{\"$ref\":"
              "\"#/$defs/a\"}}}", 0, "loops back",
              "$ref loop through anyOf and not");
    check_ok("{\"$defs\":{\"t\":{\"properties\":{\"kids\":{\"items\":"
             "{\"$ref\":\"#/$defs/t\"}}}}},\"$ref\":\"#/$defs/t\"}", 0,
             "recursion through items is fine");
    check_bad("{\"x-defs\":{\"a\":{\"type\":[{}]}},\"$ref\":"
              "\"#/x-defs/a\"}", 0, "at /x-defs/a",
              "a $ref target inside an unknown keyword is a schema too");
    check_bad("{\"const\":{\"$anchor\":\"c\",\"required\":7},"
              "\"properties\":{\"p\":{\"$ref\":\"#c\"}}}", 0,
              "at /const", "an anchor inside const is checked when used");
    check_ok("{\"x-defs\":{\"a\":{\"type\":\"string\"}},\"$ref\":"
             "\"#/x-defs/a\"}", 0, "a $ref into an unknown keyword");
    check_bad("{\"additionalProperties\":1}", 0, "additionalProperties",
              "additionalProperties");
    check_bad("{\"uniqueItems\":1}", 0, "uniqueItems", "uniqueItems");
    check_bad("{\"properties\":{\"a\":{\"items\":{\"allOf\":[{\"type\":"
              "\"x\"}]}}}}", 0, "/properties/a/items/allOf/0",
              "deep location");
}


static void
test_schema_validate(void)
{
    /* type */

    validate("{\"type\":\"integer\"}", "5", NULL, "integer");
    validate("{\"type\":\"integer\"}", "1.0", NULL, "1.0 is an integer");
    validate("{\"type\":\"integer\"}", "1.5", "expected integer, got number",
             "1.5 is not an integer");
    validate("{\"type\":\"integer\"}", "\"5\"",
             "expected integer, got string", "string is not an integer");
    validate("{\"type\":\"number\"}", "5", NULL, "integer is a number");
    validate("{\"type\":\"number\"}", "null", "expected number, got null",
             "null is not a number");
    validate("{\"type\":\"string\"}", "\"\"", NULL, "string");
    validate("{\"type\":\"boolean\"}", "false", NULL, "boolean");
    validate("{\"type\":\"boolean\"}", "0", "expected boolean", "0 not bool");
    validate("{\"type\":\"null\"}", "null", NULL, "null");
    validate("{\"type\":\"array\"}", "[]", NULL, "array");
    validate("{\"type\":\"object\"}", "[]", "expected object, got array",
             "array is not an object");
    validate("{\"type\":[\"string\",\"null\"]}", "null", NULL, "type list");
    validate("{\"type\":[\"string\",\"null\"]}", "1",
             "expected string or null, got integer", "type list refused");
    validate("true", "{\"any\":1}", NULL, "schema true");
    validate("false", "1", "not allowed", "schema false");

    /* objects */

    validate("{\"type\":\"object\",\"properties\":{\"id\":{\"type\":"
             "\"integer\"}},\"required\":[\"id\"]}", "{\"id\":\"x\"}",
             "/id: expected integer, got string", "property type with path");
    validate("{\"type\":\"object\",\"required\":[\"id\"]}", "{}",
             "missing required property \"id\"", "required");
    validate("{\"properties\":{\"a\":{\"required\":[\"b\"]}}}",
             "{\"a\":{}}", "/a: missing required property \"b\"",
             "nested required names the path");
    validate("{\"properties\":{\"a\":{}},\"additionalProperties\":false}",
             "{\"a\":1,\"name\":2}", "/name: additional property not allowed",
             "additionalProperties false");
    validate("{\"properties\":{\"a\":{}},\"additionalProperties\":"
             "{\"type\":\"string\"}}", "{\"a\":1,\"b\":\"x\"}", NULL,
             "additionalProperties schema passes");
    validate("{\"properties\":{\"a\":{}},\"additionalProperties\":"
             "{\"type\":\"string\"}}", "{\"a\":1,\"b\":2}",
             "/b: expected string", "additionalProperties schema fails");
    validate("{\"minProperties\":2}", "{\"a\":1}", "fewer than 2 properties",
             "minProperties");
    validate("{\"maxProperties\":1}", "{\"a\":1,\"b\":2}",
             "more than 1 propert", "maxProperties");
    validate("{\"required\":[\"a\"]}", "[1]", NULL,
             "object keywords ignore arrays");

    /* arrays */

    validate("{\"items\":{\"type\":\"integer\"}}", "[1,2,\"x\"]",
             "/2: expected integer, got string", "items with index path");
    validate("{\"prefixItems\":[{\"type\":\"string\"},{\"type\":"
             "\"integer\"}],\"items\":false}", "[\"a\",1]", NULL,
             "prefixItems");
    validate("{\"prefixItems\":[{\"type\":\"string\"}],\"items\":false}",
             "[\"a\",1]", "/1", "items false after prefixItems");
    validate("{\"prefixItems\":[{\"type\":\"string\"}]}", "[1]",
             "/0: expected string", "prefixItems type");
    validate("{\"minItems\":2}", "[1]", "fewer than 2 items", "minItems");
    validate("{\"maxItems\":1}", "[1,2]", "more than 1 item", "maxItems");
    validate("{\"uniqueItems\":true}", "[1,{\"a\":[1]},\"1\",{\"a\":[2]}]",
             NULL, "uniqueItems passes");
    validate("{\"uniqueItems\":true}", "[1,{\"a\":1},1.0]",
             "not unique", "uniqueItems 1 and 1.0");
    validate("{\"uniqueItems\":false}", "[1,1]", NULL, "uniqueItems false");

    /* numbers */

    validate("{\"minimum\":1}", "0", "less than the minimum 1", "minimum");
    validate("{\"minimum\":1}", "1", NULL, "minimum inclusive");
    validate("{\"maximum\":1.5}", "2", "greater than the maximum 1.5",
             "maximum");
    validate("{\"exclusiveMinimum\":1}", "1", "exclusiveMinimum",
             "exclusiveMinimum");
    validate("{\"exclusiveMaximum\":1}", "0.99", NULL, "exclusiveMaximum ok");
    validate("{\"exclusiveMaximum\":1}", "1", "exclusiveMaximum",
             "exclusiveMaximum");
    validate("{\"multipleOf\":3}", "9", NULL, "multipleOf");
    validate("{\"multipleOf\":3}", "10", "not a multiple of 3",
             "multipleOf refused");
    validate("{\"multipleOf\":0.01}", "19.99", NULL, "multipleOf 0.01");
    validate("{\"minimum\":5}", "\"a\"", NULL,
             "number keywords ignore strings");
    validate("{\"maximum\":9007199254740993}", "9007199254740993", NULL,
             "int64 bounds compared exactly");
    validate("{\"maximum\":9007199254740992}", "9007199254740993",
             "greater than the maximum", "int64 bounds compared exactly (2)");

    /* strings */

    validate("{\"minLength\":2}", "\"\xc3\xa9\"", "shorter than 2",
             "minLength counts code points");
    validate("{\"maxLength\":1}", "\"\xc3\xa9\"", NULL,
             "maxLength counts code points");
    validate("{\"maxLength\":1}", "\"ab\"", "longer than 1", "maxLength");
    validate("{\"pattern\":\"^[a-z]+$\"}", "\"abc\"", NULL, "pattern");
    validate("{\"pattern\":\"^[a-z]+$\"}", "\"ab1\"", "pattern",
             "pattern refused");
    validate("{\"pattern\":\"b\"}", "\"abc\"", NULL, "pattern not anchored");
    validate("{\"format\":\"email\"}", "\"not an email\"", NULL,
             "format not asserted");

    /* enum, const */

    validate("{\"enum\":[\"red\",\"green\",1]}", "\"green\"", NULL, "enum");
    validate("{\"properties\":{\"color\":{\"enum\":[\"red\",\"green\"]}}}",
             "{\"color\":\"blue\"}", "/color: not one of the allowed values",
             "enum refused");
    validate("{\"enum\":[1,{\"a\":[null]}]}", "{\"a\":[null]}", NULL,
             "enum deep");
    validate("{\"const\":{\"a\":1}}", "{\"a\":1.0}", NULL, "const");
    validate("{\"const\":\"x\"}", "\"y\"", "const", "const refused");

    /* combinators */

    validate("{\"allOf\":[{\"type\":\"integer\"},{\"minimum\":3}]}", "2",
             "minimum", "allOf");
    validate("{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}",
             "1", NULL, "anyOf");
    validate("{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}",
             "null", "anyOf", "anyOf refused");
    validate("{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":0}]}", "-1",
             NULL, "oneOf one match");
    validate("{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":0}]}", "1",
             "oneOf", "oneOf two matches");
    validate("{\"oneOf\":[{\"type\":\"string\"},{\"type\":\"null\"}]}", "1",
             "oneOf", "oneOf no match");
    validate("{\"not\":{\"type\":\"string\"}}", "1", NULL, "not");
    validate("{\"not\":{\"type\":\"string\"}}", "\"s\"", "not",
             "not refused");
    validate("{\"if\":{\"properties\":{\"k\":{\"const\":\"a\"}}},\"then\":"
             "{\"required\":[\"x\"]},\"else\":{\"required\":[\"y\"]}}",
             "{\"k\":\"a\",\"x\":1}", NULL, "if/then");
    validate("{\"if\":{\"properties\":{\"k\":{\"const\":\"a\"}}},\"then\":"
             "{\"required\":[\"x\"]},\"else\":{\"required\":[\"y\"]}}",
             "{\"k\":\"a\",\"y\":1}", "\"x\"", "if/then refused");
    validate("{\"if\":{\"properties\":{\"k\":{\"const\":\"a\"}}},\"then\":"
             "{\"required\":[\"x\"]},\"else\":{\"required\":[\"y\"]}}",
             "{\"k\":\"b\",\"x\":1}", "\"y\"", "if/else refused");

    /* $ref */

    validate("{\"$defs\":{\"pos\":{\"type\":\"integer\",\"minimum\":1}},"
             "\"properties\":{\"n\":{\"$ref\":\"#/$defs/pos\"}}}",
             "{\"n\":0}", "/n: ", "$ref to $defs");
    validate("{\"type\":\"object\",\"properties\":{\"v\":{\"type\":"
             "\"integer\"},\"next\":{\"$ref\":\"#\"}}}",
             "{\"v\":1,\"next\":{\"v\":2,\"next\":{\"v\":\"x\"}}}",
             "/next/next/v: expected integer", "recursive $ref");
    validate("{\"$defs\":{\"n\":{\"$anchor\":\"node\",\"type\":\"array\","
             "\"items\":{\"$ref\":\"#node\"}}},\"$ref\":\"#node\"}",
             "[[],[[]],[[[1]]]]", "expected array, got integer",
             "anchor $ref");
    validate("{\"$defs\":{\"a/b\":{\"type\":\"string\"},\"c~d\":{\"type\":"
             "\"null\"}},\"anyOf\":[{\"$ref\":\"#/$defs/a~1b\"},"
             "{\"$ref\":\"#/$defs/c~0d\"}]}", "null", NULL,
             "$ref with ~0 ~1 escapes");

    /* patternProperties */

    validate("{\"patternProperties\":{\"^x-\":{\"type\":\"string\"}},"
             "\"additionalProperties\":false}", "{\"x-a\":\"1\"}", NULL,
             "patternProperties");
    validate("{\"patternProperties\":{\"^x-\":{\"type\":\"string\"}},"
             "\"additionalProperties\":false}", "{\"x-a\":1}",
             "/x-a: expected string", "patternProperties type");
    validate("{\"patternProperties\":{\"^x-\":{\"type\":\"string\"}},"
             "\"additionalProperties\":false}", "{\"y\":\"1\"}",
             "/y: additional property not allowed",
             "patternProperties and additionalProperties");
    validate("{\"pattern\":\"^.{2}$\"}", "\"\xc3\xa9\xc3\xa9\"", NULL,
             "pattern works on characters");

    /* paths with special names */

    validate("{\"properties\":{\"a/b\":{\"type\":\"string\"}}}",
             "{\"a/b\":1}", "/a~1b: expected string", "path escapes /");
}


static void
test_schema_odd(void)
{
    ngx_int_t   rc;
    ngx_str_t   err;

    rc = ngx_http_mcp_schema_validate(pool,
                         json("{\"type\":\"object\",\"required\":[\"a\"]}"),
                         NULL, &err);
    ok(rc == NGX_DECLINED && contains(&err, "missing required property"),
       "absent value is validated as {}");

    rc = ngx_http_mcp_schema_validate(pool, json("{\"type\":\"object\"}"),
                                      NULL, &err);
    ok(rc == NGX_OK, "absent value passes {\"type\":\"object\"}");

    rc = ngx_http_mcp_schema_validate(pool, NULL, json("1"), &err);
    ok(rc == NGX_OK, "no schema: anything goes");

    /* schemas that were never checked must not crash the validator */

    rc = ngx_http_mcp_schema_validate(pool,
                         json("{\"type\":5,\"required\":\"a\",\"items\":3,"
                              "\"minimum\":\"x\",\"enum\":1,\"allOf\":{},"
                              "\"properties\":[],\"pattern\":1}"),
                         json("[1,{\"a\":\"b\"}]"), &err);
    ok(rc == NGX_OK, "malformed keywords are ignored at validation");

    rc = ngx_http_mcp_schema_validate(pool,
                         json("{\"$defs\":{\"loop\":{\"$ref\":"
                              "\"#/$defs/loop\"}},\"$ref\":\"#/$defs/loop\"}"),
                         json("1"), &err);
    ok(rc == NGX_DECLINED && contains(&err, "$ref nesting"),
       "an unchecked $ref loop is bounded at validation");

    rc = ngx_http_mcp_schema_validate(pool, json("{\"$ref\":\"#/x\"}"),
                                      json("1"), &err);
    ok(rc == NGX_DECLINED && contains(&err, "does not resolve"),
       "unresolved $ref at validation is an error, not a crash");

    rc = ngx_http_mcp_schema_validate(pool, json("{\"pattern\":\"(\"}"),
                                      json("\"x\""), &err);
    ok(rc == NGX_DECLINED && contains(&err, "pattern"),
       "bad pattern at validation is an error, not a crash");
}


static void
test_schema_bounds(void)
{
    ngx_int_t             rc;
    ngx_str_t             err;
    ngx_uint_t            i;
    u_char               *big, *p;
    ngx_http_mcp_json_t  *s, *v;

    /* uniqueItems on 5000 distinct items: quadratic work must be cut */

    big = ngx_pnalloc(pool, 128 * 1024);
    p = ngx_sprintf(big, "[");

    for (i = 0; i < 5000; i++) {
        p = ngx_sprintf(p, "%s%ui", i ? "," : "", i);
    }

    *p++ = ']';

    s = json("{\"uniqueItems\":true}");
    rc = parse((char *) big, p - big, NULL, &v, &err);
    rc = ngx_http_mcp_schema_validate(pool, s, v, &err);

    ok(rc == NGX_DECLINED && contains(&err, "too"),
       "validation work is bounded");

    if (rc != NGX_DECLINED) {
        diag("error", &err);
    }

    s = json("{\"items\":{\"type\":\"integer\"}}");
    rc = ngx_http_mcp_schema_validate(pool, s, v, &err);
    ok(rc == NGX_OK, "5000 items validate within the bound");
}


/*
 * backend/ngx_http_mcp_pg_value.c: one cell of a PostgreSQL text result
 * as JSON.  Every output must be the expected bytes and must parse.
 */

static ngx_str_t
pg_out(ngx_uint_t oid, const char *in, size_t len)
{
    ngx_str_t          out;
    ngx_http_mcp_jw_t  jw;

    ngx_http_mcp_jw_init(&jw, pool, 1);
    ngx_http_mcp_pg_value(&jw, oid, (u_char *) in, len);

    if (ngx_http_mcp_jw_finish(&jw, &out) != NGX_OK) {
        ngx_str_set(&out, "<writer failed>");
    }

    return out;
}


static int
pg_parses(ngx_str_t *out)
{
    ngx_str_t             err;
    ngx_http_mcp_json_t  *v;

    return parse((char *) out->data, out->len, NULL, &v, &err) == NGX_OK;
}


static void
pg_len(ngx_uint_t oid, const char *in, size_t len, const char *want)
{
    int        same, valid;
    u_char     name[64];
    size_t     i, n;
    ngx_str_t  out;

    out = pg_out(oid, in, len);

    same = streq(&out, want, strlen(want));
    valid = pg_parses(&out);

    /* the input as the test's name, on one printable line */

    n = ngx_min(len, sizeof(name) - 1);

    for (i = 0; i < n; i++) {
        name[i] = (in[i] >= 0x20 && in[i] < 0x7f) ? in[i] : '?';
    }

    name[n] = '\0';

    ok(same && valid, "pg_value %u: %s", (unsigned) oid, name);

    if (!same) {
        diag("got", &out);
        printf("#   want: %s\n", want);

    } else if (!valid) {
        diag("does not parse", &out);
    }
}


#define pg(oid, in, want)  pg_len(oid, L(in), want)


/* the whole text as one JSON string, as jw_string writes it */

static void
pg_text(ngx_uint_t oid, const char *in)
{
    u_char             *want;
    ngx_str_t           s;
    ngx_http_mcp_jw_t   jw;

    ngx_http_mcp_jw_init(&jw, pool, 1);
    ngx_http_mcp_jw_string(&jw, (u_char *) in, strlen(in));
    ngx_http_mcp_jw_literal(&jw, "\0");

    if (ngx_http_mcp_jw_finish(&jw, &s) != NGX_OK) {
        ok(0, "pg_value: writer failed");
        return;
    }

    want = s.data;

    pg_len(oid, in, strlen(in), (char *) want);
}


static void
test_pg_scalars(void)
{
    /* int2, int4, oid, int8 */

    pg(23, "42", "42");
    pg(23, "-7", "-7");
    pg(21, "0", "0");
    pg(21, "-32768", "-32768");
    pg(26, "4294967295", "4294967295");
    pg(20, "9007199254740992", "9007199254740992");
    pg(20, "-9007199254740992", "-9007199254740992");
    pg(20, "9007199254740993", "\"9007199254740993\"");
    pg(20, "-9007199254740993", "\"-9007199254740993\"");
    pg(20, "9223372036854775807", "\"9223372036854775807\"");
    pg(20, "-9223372036854775808", "\"-9223372036854775808\"");
    pg(20, "123456789012345678901234567890",
       "\"123456789012345678901234567890\"");
    pg(23, "12a", "\"12a\"");
    pg(23, "", "\"\"");
    pg(23, "-", "\"-\"");
    pg(23, "007", "\"007\"");
    pg(23, "-0", "-0");
    pg(23, " 1", "\" 1\"");
    pg(23, "1.0", "\"1.0\"");
    pg(23, "+1", "\"+1\"");

    /* float4, float8 */

    pg(701, "1.5", "1.5");
    pg(701, "-0", "-0");
    pg(701, "0.1", "0.1");
    pg(701, "1e+100", "1e+100");
    pg(701, "1.5e-05", "1.5e-05");
    pg(701, "-1.7976931348623157e+308", "-1.7976931348623157e+308");
    pg(700, "3.14", "3.14");
    pg(701, "NaN", "\"NaN\"");
    pg(701, "Infinity", "\"Infinity\"");
    pg(701, "-Infinity", "\"-Infinity\"");
    pg(700, "NaN", "\"NaN\"");
    pg(701, ".5", "\".5\"");
    pg(701, "1.", "\"1.\"");
    pg(701, "01", "\"01\"");
    pg(701, "1e", "\"1e\"");
    pg(701, "1e+", "\"1e+\"");
    pg(701, "0x10", "\"0x10\"");
    pg(701, "", "\"\"");

    /* numeric: always a string */

    pg(1700, "3.14", "\"3.14\"");
    pg(1700, "12345678901234567890.5", "\"12345678901234567890.5\"");
    pg(1700, "NaN", "\"NaN\"");
    pg(1700, "7", "\"7\"");

    /* bool */

    pg(16, "t", "true");
    pg(16, "f", "false");
    pg(16, "true", "\"true\"");
    pg(16, "", "\"\"");

    /* json, jsonb: embedded when the module's parser takes them */

    pg(114, "{\"a\": 1}", "{\"a\": 1}");
    pg(3802, "[1, 2, {\"b\": null}]", "[1, 2, {\"b\": null}]");
    pg(114, "{\n  \"a\" : [true]\n}", "{\n  \"a\" : [true]\n}");
    pg(3802, "\"x\"", "\"x\"");
    pg(3802, "12.5", "12.5");
    pg(3802, "null", "null");
    pg(3802, "\"\\ud83d\\ude00\"", "\"\\ud83d\\ude00\"");
    pg(114, "{bad", "\"{bad\"");
    pg(114, "", "\"\"");
    pg(114, "   ", "\"   \"");
    pg(114, "1 2", "\"1 2\"");
    pg(114, "[1] x", "\"[1] x\"");
    pg(114, "{\"a\":1,\"a\":2}", "\"{\\\"a\\\":1,\\\"a\\\":2}\"");
    pg(114, "\"\\ud800\"", "\"\\\"\\\\ud800\\\"\"");
    pg(114, "\"\\udc00\\u0041\"", "\"\\\"\\\\udc00\\\\u0041\\\"\"");
    pg(114, "\"\xff\"", "\"\\\"\xef\xbf\xbd\\\"\"");
    pg(114, "\"\xc0\xaf\"", "\"\\\"\xef\xbf\xbd\xef\xbf\xbd\\\"\"");
    pg(114, "\"a\tb\"", "\"\\\"a\\tb\\\"\"");
    pg(114, "[1,]", "\"[1,]\"");
    pg(114, "NaN", "\"NaN\"");
    pg(114, "// c\n1", "\"// c\\n1\"");

    /* bytea: hex format as base64, anything else as text */

    pg(17, "\\x0a1b", "\"Chs=\"");
    pg(17, "\\x", "\"\"");
    pg(17, "\\xFF00", "\"/wA=\"");
    pg(17, "\\x68656c6c6f", "\"aGVsbG8=\"");
    pg(17, "\\x0", "\"\\\\x0\"");
    pg(17, "\\xzz", "\"\\\\xzz\"");
    pg(17, "\\x0g", "\"\\\\x0g\"");
    pg(17, "\\X0a", "\"\\\\X0a\"");
    pg(17, "\\000abc", "\"\\\\000abc\"");
    pg(17, "", "\"\"");
    pg(17, "\\", "\"\\\\\"");

    /* timestamp, timestamptz, timetz */

    pg(1114, "2024-01-02 03:04:05.123", "\"2024-01-02T03:04:05.123\"");
    pg(1114, "2024-01-02 03:04:05", "\"2024-01-02T03:04:05\"");
    pg(1114, "12345-01-02 03:04:05", "\"12345-01-02T03:04:05\"");
    pg(1114, "infinity", "\"infinity\"");
    pg(1114, "-infinity", "\"-infinity\"");
    pg(1114, "2024-01-02 03:04:05 BC", "\"2024-01-02 03:04:05 BC\"");
    pg(1114, "2024-01-02 03:04:05+00", "\"2024-01-02 03:04:05+00\"");
    pg(1114, "2024-01-02 03:04:05.", "\"2024-01-02 03:04:05.\"");
    pg(1114, "Tue Jan 02 03:04:05 2024", "\"Tue Jan 02 03:04:05 2024\"");
    pg(1114, "2024-01-02", "\"2024-01-02\"");
    pg(1114, "", "\"\"");
    pg(1184, "2024-01-02 03:04:05+00", "\"2024-01-02T03:04:05+00:00\"");
    pg(1184, "2024-01-02 03:04:05.5-08", "\"2024-01-02T03:04:05.5-08:00\"");
    pg(1184, "2024-01-02 03:04:05+05:30", "\"2024-01-02T03:04:05+05:30\"");
    pg(1184, "1900-01-02 03:04:05+05:30:15",
       "\"1900-01-02T03:04:05+05:30:15\"");
    pg(1184, "2024-01-02 03:04:05+05:30:15:00",
       "\"2024-01-02 03:04:05+05:30:15:00\"");
    pg(1184, "2024-01-02 03:04:05", "\"2024-01-02 03:04:05\"");
    pg(1184, "2024-01-02 03:04:05+0", "\"2024-01-02 03:04:05+0\"");
    pg(1184, "2024-01-02 03:04:05+00 BC", "\"2024-01-02 03:04:05+00 BC\"");
    pg(1184, "infinity", "\"infinity\"");
    pg(1184, "-infinity", "\"-infinity\"");
    pg(1266, "03:04:05+02", "\"03:04:05+02:00\"");
    pg(1266, "03:04:05.25-05:30", "\"03:04:05.25-05:30\"");
    pg(1266, "03:04:05", "\"03:04:05\"");
    pg(1266, "3:04:05+02", "\"3:04:05+02\"");

    /* date, time, text and the rest: the text */

    pg(1082, "2024-01-02", "\"2024-01-02\"");
    pg(1082, "infinity", "\"infinity\"");
    pg(1083, "03:04:05", "\"03:04:05\"");
    pg(25, "a\"b\\c\n", "\"a\\\"b\\\\c\\n\"");
    pg(25, "a\xff" "b", "\"a\xef\xbf\xbd" "b\"");
    pg(25, "\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
    pg(1043, "caf\xc3\xa9", "\"caf\xc3\xa9\"");
    pg(2950, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
       "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"");
    pg(9999, "x", "\"x\"");
    pg_len(25, "a\0b", 3, "\"a\\u0000b\"");
}


static void
test_pg_arrays(void)
{
    pg(1007, "{1,2,3}", "[1,2,3]");
    pg(1007, "{}", "[]");
    pg(1007, "{{1,2},{3,NULL}}", "[[1,2],[3,null]]");
    pg(1007, "[0:2]={1,2,3}", "[1,2,3]");
    pg(1007, "[1:2][1:1]={{1},{2}}", "[[1],[2]]");
    pg(1007, "[-3:-2]={1,2}", "[1,2]");
    pg(1005, "{-1,x}", "[-1,\"x\"]");
    pg(1028, "{1,4294967295}", "[1,4294967295]");
    pg(1000, "{t,f,NULL}", "[true,false,null]");
    pg(1016, "{1,9007199254740993}", "[1,\"9007199254740993\"]");
    pg(1021, "{1.5,NaN}", "[1.5,\"NaN\"]");
    pg(1022, "{-Infinity,1e+100}", "[\"-Infinity\",1e+100]");
    pg(1231, "{1.50,NaN,NULL}", "[\"1.50\",\"NaN\",null]");
    pg(1009, "{a,\"b c\",NULL,\"NULL\",null,Null,\"q\\\"uote\","
             "\"back\\\\slash\"}",
       "[\"a\",\"b c\",null,\"NULL\",null,null,\"q\\\"uote\","
       "\"back\\\\slash\"]");
    pg(1009, "{{a,NULL},{\"{}\",\",\"}}", "[[\"a\",null],[\"{}\",\",\"]]");
    pg(1009, "{\"\\x\"}", "[\"x\"]");
    pg(1009, "{\"\xff\",a}", "[\"\xef\xbf\xbd\",\"a\"]");
    pg(1009, "{\"a\nb\"}", "[\"a\\nb\"]");
    pg(1015, "{\"\"}", "[\"\"]");
    pg(1014, "{\"a  \",b}", "[\"a  \",\"b\"]");
    pg(3807, "{\"{\\\"a\\\": 1}\",NULL,\"[1, 2]\"}",
       "[{\"a\": 1},null,[1, 2]]");
    pg(3807, "{1,\"\\\"x\\\"\",null}", "[1,\"x\",null]");
    pg(199, "{\"{bad\",\"[1]\"}", "[\"{bad\",[1]]");
    pg(199, "{\"\\\"\\\\ud800\\\"\"}", "[\"\\\"\\\\ud800\\\"\"]");
    pg(1001, "{\"\\\\x0a1b\",NULL,\"\\\\x\"}", "[\"Chs=\",null,\"\"]");
    pg(1001, "{\"\\\\x0\"}", "[\"\\\\x0\"]");
    pg(1115, "{\"2024-01-02 03:04:05\",infinity}",
       "[\"2024-01-02T03:04:05\",\"infinity\"]");
    pg(1185, "{\"2024-01-02 03:04:05+00\",\"2024-01-02 03:04:05+05:30\"}",
       "[\"2024-01-02T03:04:05+00:00\",\"2024-01-02T03:04:05+05:30\"]");
    pg(1270, "{03:04:05+02}", "[\"03:04:05+02:00\"]");
    pg(1182, "{2024-01-02,NULL}", "[\"2024-01-02\",null]");
    pg(1183, "{03:04:05}", "[\"03:04:05\"]");
    pg(2951, "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
       "[\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"]");
    pg(1007, "{{{{{{1}}}}}}", "[[[[[[1]]]]]]");
    pg(1007, "{{{{{{}}}}}}", "[[[[[[]]]]]]");

    /* malformed: the whole text as one string */

    pg_text(1007, "{{{{{{{1}}}}}}}");
    pg_text(1007, "{1,2");
    pg_text(1007, "{1,2}}");
    pg_text(1007, "{1,2}x");
    pg_text(1007, "{1,2} ");
    pg_text(1007, "{1,,2}");
    pg_text(1007, "{,}");
    pg_text(1007, "{1,}");
    pg_text(1007, "{{1},2");
    pg_text(1007, "}");
    pg_text(1007, "{");
    pg_text(1007, "");
    pg_text(1007, "1,2");
    pg_text(1007, "[0:2]{1}");
    pg_text(1007, "[0:2={1}");
    pg_text(1007, "[a]={1}");
    pg_text(1007, "[0:2]=");
    pg_text(1009, "{\"abc}");
    pg_text(1009, "{\"a\\");
    pg_text(1009, "{\"a\\\"}");
    pg_text(1009, "{a\"b}");
    pg_text(1009, "{a\\b}");
    pg_text(1009, "{a{b}");
    pg_text(1009, "{\"a\"b}");
    pg_text(3807, "{\"{\\\"a\\\": \xff}\"");
    pg_text(1017, "{\"(1,2)\"}");
    pg_text(1000, "{t,f");
}


/* any bytes in, valid JSON out: random texts and every prefix */

static void
test_pg_hostile(void)
{
    char        text[64], *in;
    size_t      i, n, len;
    uint32_t    seed;
    ngx_str_t   out;
    ngx_uint_t  k, j, bad;

    static ngx_uint_t  oids[] = {
        16, 17, 20, 21, 23, 25, 26, 114, 700, 701, 1082, 1083, 1114, 1184,
        1266, 1700, 3802, 1000, 1005, 1007, 1016, 1021, 1022, 1231, 1009,
        1015, 1014, 199, 3807, 1001, 1115, 1185, 1182, 1183, 1270, 2951,
        1028
    };

    static char  alphabet[] = "{}{}\"\",,\\\\NULnul x0a1-[]:=tf.e+T \xff\xc3";

    static char  *prefixed[] = {
        "[1:2]={{\"{\\\"a\\\": [1, \\\"\\\\\\\\u00e9\\\"]}\",NULL},"
            "{\"\\\\x0a\",\"2024-01-02 03:04:05+00\"}}",
        "{{\"a\\\"b\",NULL,\"c,d\"},{\"\\\\\",\"}\",\"{\"}}"
    };

    seed = 12345;
    bad = 0;

    for (k = 0; k < sizeof(oids) / sizeof(oids[0]); k++) {

        for (j = 0; j < 300; j++) {
            seed = seed * 1103515245 + 12345;
            len = (seed >> 16) % sizeof(text);

            for (i = 0; i < len; i++) {
                seed = seed * 1103515245 + 12345;
                text[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
            }

            if (len && j % 2) {
                text[0] = '{';           /* half of them look like arrays */
            }

            fresh_pool();

            out = pg_out(oids[k], text, len);

            if (out.len == 0 || !pg_parses(&out)) {
                bad++;
                diag("invalid", &out);
            }
        }
    }

    fresh_pool();

    ok(bad == 0, "pg_value: random texts give valid JSON, every type");

    bad = 0;

    for (k = 0; k < sizeof(prefixed) / sizeof(prefixed[0]); k++) {
        in = prefixed[k];
        n = strlen(in);

        for (len = 0; len <= n; len++) {
            for (j = 0; j < sizeof(oids) / sizeof(oids[0]); j++) {
                fresh_pool();

                out = pg_out(oids[j], in, len);

                if (out.len == 0 || !pg_parses(&out)) {
                    bad++;
                    diag("invalid", &out);
                }
            }
        }
    }

    ok(bad == 0, "pg_value: every prefix of nested arrays gives valid JSON");

    fresh_pool();

    /* json nested past the parser's default depth (64) is text */

    in = ngx_pnalloc(pool, 2 * 65 + 1);

    for (i = 0; i < 65; i++) {
        in[i] = '[';
        in[2 * 65 - 1 - i] = ']';
    }

    out = pg_out(3802, in + 1, 2 * 64);
    ok(out.len == 2 * 64 && out.data[0] == '[' && pg_parses(&out),
       "pg_value: jsonb 64 deep is embedded");

    out = pg_out(3802, in, 2 * 65);
    ok(out.len == 2 * 65 + 2 && out.data[0] == '"' && pg_parses(&out),
       "pg_value: jsonb 65 deep is a string");

    pg(3807, "[1:2]={{\"{\\\"a\\\": [1, \\\"\\\\\\\\u00e9\\\"]}\",NULL},"
             "{\"\\\\x0a\",\"2024-01-02 03:04:05+00\"}}",
       "[[{\"a\": [1, \"\\\\u00e9\"]},null],[\"\\\\x0a\","
       "\"2024-01-02 03:04:05+00\"]]");
}


static char *
ngx_http_mcp_unit_test(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    setvbuf(stdout, NULL, _IONBF, 0);

    verbose = (getenv("MCP_UNIT_VERBOSE") != NULL);

    pool = ngx_create_pool(NGX_HTTP_MCP_UNIT_POOL_SIZE, cf->log);
    if (pool == NULL) {
        printf("Bail out! no pool\n");
        exit(2);
    }

    test_parser();
    test_equal();
    test_writer();
    test_mutations();
    test_cost();
    test_schema_check();
    test_schema_validate();
    test_schema_odd();
    test_schema_bounds();
    test_pg_scalars();
    test_pg_arrays();
    test_pg_hostile();
    ngx_http_mcp_unit_jwt(pool, &tests, &failed);

    ngx_destroy_pool(pool);

    printf("1..%u\n", (unsigned) tests);

    if (failed) {
        printf("# failed %u of %u\n", (unsigned) failed, (unsigned) tests);
    }

    exit(failed ? 1 : 0);

    return NGX_CONF_OK;
}
