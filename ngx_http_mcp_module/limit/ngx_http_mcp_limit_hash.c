
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_sha1.h>

#include "ngx_http_mcp_module.h"
#include "limit/ngx_http_mcp_limit_int.h"


/*
 * A key's fixed-size name in a zone, from its value and the entry's kind
 * and name.  A zone of this host uses SipHash-1-3 with a 128-bit output
 * and a key that the zone draws at random when it is made (kept in its
 * shared memory, so every worker and a reload agree): a few hundred
 * instructions, and a caller who does not know the zone's key cannot
 * choose a value that lands in someone else's bucket.  A zone in Redis
 * needs the same name on every replica: SHA-1, unkeyed (nginx's own, with
 * no allocation and no lock).
 */


#define ngx_http_mcp_rotl(x, b)  (uint64_t) (((x) << (b)) | ((x) >> (64 - (b))))

#define ngx_http_mcp_sipround(v0, v1, v2, v3)                                 \
    v0 += v1; v1 = ngx_http_mcp_rotl(v1, 13); v1 ^= v0;                       \
    v0 = ngx_http_mcp_rotl(v0, 32);                                           \
    v2 += v3; v3 = ngx_http_mcp_rotl(v3, 16); v3 ^= v2;                       \
    v0 += v3; v3 = ngx_http_mcp_rotl(v3, 21); v3 ^= v0;                       \
    v2 += v1; v1 = ngx_http_mcp_rotl(v1, 17); v1 ^= v2;                       \
    v2 = ngx_http_mcp_rotl(v2, 32)


static void ngx_http_mcp_siphash(u_char *k, u_char *p, size_t n,
    u_char *out);


void
ngx_http_mcp_limit_hash(ngx_http_mcp_limit_zone_t *z, ngx_str_t *value,
    ngx_http_mcp_entry_t *e, u_char *key)
{
    u_char      *p, buf[256], md[20];
    size_t       len;
    ngx_sha1_t   sha1;

    if (z->redis) {
        ngx_sha1_init(&sha1);
        ngx_sha1_update(&sha1, value->data, value->len);

        if (e) {
            buf[0] = '\0';
            buf[1] = (u_char) e->kind;
            ngx_sha1_update(&sha1, buf, 2);
            ngx_sha1_update(&sha1, e->name.data, e->name.len);
        }

        ngx_sha1_final(md, &sha1);
        ngx_memcpy(key, md, NGX_HTTP_MCP_LIMIT_KEY_LEN);

        return;
    }

    len = value->len + (e ? 2 + e->name.len : 0);

    if (e == NULL || len > sizeof(buf)) {

        /* a long key: its hash, then the entry's, hashed together */

        ngx_http_mcp_siphash(z->sh->secret, value->data, value->len, key);

        if (e == NULL) {
            return;
        }

        p = ngx_cpymem(buf, key, NGX_HTTP_MCP_LIMIT_KEY_LEN);
        *p++ = '\0';
        *p++ = (u_char) e->kind;
        len = ngx_min(e->name.len, sizeof(buf) - (p - buf));
        p = ngx_cpymem(p, e->name.data, len);

        ngx_http_mcp_siphash(z->sh->secret, buf, p - buf, key);
        return;
    }

    p = ngx_cpymem(buf, value->data, value->len);
    *p++ = '\0';
    *p++ = (u_char) e->kind;
    p = ngx_cpymem(p, e->name.data, e->name.len);

    ngx_http_mcp_siphash(z->sh->secret, buf, p - buf, key);
}


static uint64_t
ngx_http_mcp_sip_word(u_char *p)
{
    return (uint64_t) p[0] | (uint64_t) p[1] << 8 | (uint64_t) p[2] << 16
           | (uint64_t) p[3] << 24 | (uint64_t) p[4] << 32
           | (uint64_t) p[5] << 40 | (uint64_t) p[6] << 48
           | (uint64_t) p[7] << 56;
}


/* SipHash-1-3, 128-bit output, of n bytes at p with the 16-byte key k */

static void
ngx_http_mcp_siphash(u_char *k, u_char *p, size_t n, u_char *out)
{
    u_char      *last, tail[8];
    uint64_t     k0, k1, m, b, v0, v1, v2, v3;
    ngx_uint_t   i;

    k0 = ngx_http_mcp_sip_word(k);
    k1 = ngx_http_mcp_sip_word(k + 8);

    v0 = 0x736f6d6570736575ULL ^ k0;
    v1 = 0x646f72616e646f6dULL ^ k1 ^ 0xee;         /* 128-bit output */
    v2 = 0x6c7967656e657261ULL ^ k0;
    v3 = 0x7465646279746573ULL ^ k1;

    last = p + (n & ~(size_t) 7);

    for ( /* void */ ; p < last; p += 8) {
        m = ngx_http_mcp_sip_word(p);
        v3 ^= m;
        ngx_http_mcp_sipround(v0, v1, v2, v3);
        v0 ^= m;
    }

    ngx_memzero(tail, 8);
    ngx_memcpy(tail, p, n & 7);

    b = ((uint64_t) n << 56) | ngx_http_mcp_sip_word(tail);

    v3 ^= b;
    ngx_http_mcp_sipround(v0, v1, v2, v3);
    v0 ^= b;

    v2 ^= 0xee;

    for (i = 0; i < 2; i++) {
        ngx_http_mcp_sipround(v0, v1, v2, v3);
        ngx_http_mcp_sipround(v0, v1, v2, v3);
        ngx_http_mcp_sipround(v0, v1, v2, v3);

        b = v0 ^ v1 ^ v2 ^ v3;
        ngx_memcpy(out + 8 * i, &b, 8);

        v1 ^= 0xdd;
    }
}
