
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "json/ngx_http_mcp_json.h"


/*
 * What a JSON text must be beyond yajl's grammar: strict UTF-8 (RFC 3629)
 * in every string, and UTF-16 surrogate escapes in pairs.
 */


static ngx_int_t ngx_http_mcp_json_hex4(u_char *p, u_char *last);


/*
 * yajl decodes an unpaired surrogate escape into "?" ("\ud800"), or pairs
 * a high one with whatever \u escape follows ("\ud800\u0041"), while the
 * text is invalid: so escapes are checked in the text itself, before yajl
 * sees it.  Escapes only occur inside strings, where a backslash always
 * starts one; a backslash outside a string fails the parse anyway.
 */

ngx_int_t
ngx_http_mcp_json_surrogates(u_char *p, u_char *last, ngx_str_t *err)
{
    ngx_int_t  c;

    for ( ;; ) {
        p = memchr(p, '\\', last - p);

        if (p == NULL || last - p < 2) {
            return NGX_OK;
        }

        if (p[1] != 'u') {
            p += 2;                              /* \\, \", \n, ... */
            continue;
        }

        c = ngx_http_mcp_json_hex4(p + 2, last);

        if (c == -1) {
            return NGX_OK;                       /* yajl refuses it */
        }

        p += 6;

        if (c < 0xd800 || c > 0xdfff) {
            continue;
        }

        if (c <= 0xdbff && last - p >= 6 && p[0] == '\\' && p[1] == 'u') {
            c = ngx_http_mcp_json_hex4(p + 2, last);

            if (c >= 0xdc00 && c <= 0xdfff) {
                p += 6;                          /* a pair */
                continue;
            }
        }

        ngx_str_set(err, "unpaired UTF-16 surrogate escape in a string");

        return NGX_DECLINED;
    }
}


/* the value of 4 hex digits at p, or -1 */

static ngx_int_t
ngx_http_mcp_json_hex4(u_char *p, u_char *last)
{
    u_char      ch;
    ngx_int_t   n;
    ngx_uint_t  i;

    if (last - p < 4) {
        return -1;
    }

    n = 0;

    for (i = 0; i < 4; i++) {
        ch = p[i] | 0x20;

        if (p[i] >= '0' && p[i] <= '9') {
            n = n * 16 + (p[i] - '0');

        } else if (ch >= 'a' && ch <= 'f') {
            n = n * 16 + (ch - 'a' + 10);

        } else {
            return -1;
        }
    }

    return n;
}


/* the length of the valid UTF-8 sequence at p (RFC 3629), 0 if invalid */

size_t
ngx_http_mcp_json_utf8(u_char *p, u_char *last)
{
    u_char  c, lo, hi;
    size_t  n, i;

    c = *p;

    if (c < 0x80) {
        return 1;
    }

    lo = 0x80;
    hi = 0xbf;

    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;

    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;

        if (c == 0xe0) {
            lo = 0xa0;                  /* no overlong forms */

        } else if (c == 0xed) {
            hi = 0x9f;                  /* no surrogates */
        }

    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;

        if (c == 0xf0) {
            lo = 0x90;

        } else if (c == 0xf4) {
            hi = 0x8f;                  /* nothing above U+10FFFF */
        }

    } else {
        return 0;
    }

    if ((size_t) (last - p) < n) {
        return 0;
    }

    if (p[1] < lo || p[1] > hi) {
        return 0;
    }

    for (i = 2; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf) {
            return 0;
        }
    }

    return n;
}


ngx_uint_t
ngx_http_mcp_json_utf8_valid(u_char *p, size_t len)
{
    size_t    n;
    u_char   *last;
    uint64_t  w;

    last = p + len;

    while (p < last) {

        /* ASCII, eight bytes at a time */

        if (last - p >= 8) {
            ngx_memcpy(&w, p, 8);

            if ((w & 0x8080808080808080ULL) == 0) {
                p += 8;
                continue;
            }
        }

        if (*p < 0x80) {
            p++;
            continue;
        }

        n = ngx_http_mcp_json_utf8(p, last);
        if (n == 0) {
            return 0;
        }

        p += n;
    }

    return 1;
}
