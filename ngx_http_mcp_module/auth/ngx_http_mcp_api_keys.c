
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "ngx_http_mcp_module.h"
#include "auth/ngx_http_mcp_auth_int.h"


/*
 * API keys (`mcp_auth_api_keys FILE`) and the identity helpers that both
 * kinds of credentials use.  The file holds hashes, never keys:
 *
 *     # comment
 *     sha256:HEX subject=NAME [scopes="a b"] [tenant=T]
 *
 * A presented key is hashed and looked up by its hash (a binary search
 * over hashes tells nothing of a key), then compared in constant time.
 */


static ngx_int_t ngx_http_mcp_api_keys_line(ngx_conf_t *cf,
    ngx_http_mcp_api_keys_t *keys, u_char *p, u_char *last,
    ngx_uint_t line, ngx_str_t *err);
static int ngx_libc_cdecl ngx_http_mcp_api_keys_cmp(const void *one,
    const void *two);


char *
ngx_http_mcp_api_keys_load(ngx_conf_t *cf, ngx_str_t *file,
    ngx_http_mcp_api_keys_t **keys)
{
    u_char                   *p, *eol, *last;
    ngx_str_t                 text, err;
    ngx_uint_t                line, i;
    ngx_http_mcp_api_key_t   *k;
    ngx_http_mcp_api_keys_t  *ks;

    if (ngx_http_mcp_auth_read_file(cf, file, 16 * 1024 * 1024, &text)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    ks = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_api_keys_t));
    if (ks == NULL
        || ngx_array_init(&ks->keys, cf->pool, 16,
                          sizeof(ngx_http_mcp_api_key_t))
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    ks->file = *file;

    p = text.data;
    last = text.data + text.len;

    for (line = 1; p < last; line++) {
        eol = ngx_strlchr(p, last, '\n');
        if (eol == NULL) {
            eol = last;
        }

        if (ngx_http_mcp_api_keys_line(cf, ks, p, eol, line, &err)
            != NGX_OK)
        {
            /* the line number and what is wrong; never the line itself */

            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid API key file \"%V\", line %ui: %V",
                               file, line, &err);
            return NGX_CONF_ERROR;
        }

        p = eol + 1;
    }

    ngx_qsort(ks->keys.elts, ks->keys.nelts, sizeof(ngx_http_mcp_api_key_t),
              ngx_http_mcp_api_keys_cmp);

    k = ks->keys.elts;

    for (i = 1; i < ks->keys.nelts; i++) {
        if (ngx_memcmp(k[i].hash, k[i - 1].hash, SHA256_DIGEST_LENGTH) == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid API key file \"%V\", line %ui: the "
                               "key of line %ui again", file, k[i].line,
                               k[i - 1].line);
            return NGX_CONF_ERROR;
        }
    }

    *keys = ks;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_mcp_api_keys_line(ngx_conf_t *cf, ngx_http_mcp_api_keys_t *keys,
    u_char *p, u_char *last, ngx_uint_t line, ngx_str_t *err)
{
    u_char                  *start, *end;
    ngx_int_t                c;
    ngx_str_t                word, scopes;
    ngx_uint_t               i, quoted;
    ngx_http_mcp_api_key_t  *k;

    while (last > p && (last[-1] == '\r' || last[-1] == ' '
                        || last[-1] == '\t'))
    {
        last--;
    }

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    if (p == last || *p == '#') {
        return NGX_OK;
    }

    if (last - p < 7 + 64 || ngx_strncmp(p, "sha256:", 7) != 0) {
        ngx_str_set(err, "\"sha256:\" and 64 hex digits are expected");
        return NGX_DECLINED;
    }

    k = ngx_array_push(&keys->keys);
    if (k == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(k, sizeof(ngx_http_mcp_api_key_t));
    k->line = line;
    p += 7;

    for (i = 0; i < 64; i++) {
        c = ngx_hextoi(p + i, 1);
        if (c == NGX_ERROR) {
            ngx_str_set(err, "\"sha256:\" and 64 hex digits are expected");
            return NGX_DECLINED;
        }

        k->hash[i / 2] = (u_char) ((k->hash[i / 2] << 4) | c);
    }

    p += 64;
    ngx_str_null(&scopes);

    while (p < last) {

        if (*p != ' ' && *p != '\t') {
            ngx_str_set(err, "a space is expected after each field");
            return NGX_DECLINED;
        }

        while (p < last && (*p == ' ' || *p == '\t')) {
            p++;
        }

        start = p;

        while (p < last && *p != '=' && *p != ' ') {
            p++;
        }

        if (p == last || *p != '=') {
            ngx_str_set(err, "NAME=VALUE is expected");
            return NGX_DECLINED;
        }

        word.data = start;
        word.len = p - start;
        p++;

        quoted = (p < last && *p == '"');
        start = p + quoted;

        for (end = start; end < last; end++) {
            if (quoted ? (*end == '"') : (*end == ' ' || *end == '\t')) {
                break;
            }
        }

        if (quoted && end == last) {
            ngx_str_set(err, "a quote is not closed");
            return NGX_DECLINED;
        }

        p = end + quoted;

        if (word.len == 7 && ngx_strncmp(word.data, "subject", 7) == 0) {
            k->identity.subject.data = start;
            k->identity.subject.len = end - start;

        } else if (word.len == 6 && ngx_strncmp(word.data, "tenant", 6) == 0) {
            k->identity.tenant.data = start;
            k->identity.tenant.len = end - start;

        } else if (word.len == 6 && ngx_strncmp(word.data, "scopes", 6) == 0) {
            scopes.data = start;
            scopes.len = end - start;

        } else {
            ngx_str_set(err, "unknown field: subject=, scopes= and tenant= "
                             "are expected");
            return NGX_DECLINED;
        }
    }

    if (k->identity.subject.len == 0) {
        ngx_str_set(err, "subject= is missing");
        return NGX_DECLINED;
    }

    if (!ngx_http_mcp_auth_printable(&k->identity.subject)
        || !ngx_http_mcp_auth_printable(&k->identity.tenant)
        || !ngx_http_mcp_auth_printable(&scopes))
    {
        ngx_str_set(err, "control characters in a field");
        return NGX_DECLINED;
    }

    /* the strings live in the configuration's pool, as the identity */

    scopes.data = ngx_pstrdup(cf->pool, &scopes);

    if ((scopes.len && scopes.data == NULL)
        || ngx_http_mcp_auth_scopes(cf->pool, &scopes, &k->identity)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    k->identity.subject.data = ngx_pstrdup(cf->pool, &k->identity.subject);
    k->identity.tenant.data = ngx_pstrdup(cf->pool, &k->identity.tenant);

    if ((k->identity.subject.len && k->identity.subject.data == NULL)
        || (k->identity.tenant.len && k->identity.tenant.data == NULL))
    {
        return NGX_ERROR;
    }

    ngx_str_set(&k->identity.method, "api_key");
    ngx_http_mcp_auth_principal(&k->identity, NULL);

    return NGX_OK;
}


static int ngx_libc_cdecl
ngx_http_mcp_api_keys_cmp(const void *one, const void *two)
{
    const ngx_http_mcp_api_key_t  *a = one, *b = two;

    return ngx_memcmp(a->hash, b->hash, SHA256_DIGEST_LENGTH);
}


ngx_http_mcp_api_key_t *
ngx_http_mcp_api_keys_find(ngx_http_mcp_api_keys_t *keys, ngx_str_t *key)
{
    u_char                   hash[SHA256_DIGEST_LENGTH];
    ngx_int_t                rc;
    ngx_uint_t               lo, hi, mid;
    ngx_http_mcp_api_key_t  *k;

    if (key->len == 0 || key->len > NGX_HTTP_MCP_AUTH_TOKEN_MAX) {
        return NULL;
    }

    ngx_http_mcp_sha256(key->data, key->len, hash);

    k = keys->keys.elts;
    lo = 0;
    hi = keys->keys.nelts;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        rc = ngx_memcmp(hash, k[mid].hash, SHA256_DIGEST_LENGTH);

        if (rc == 0) {
            /* the equality that decides, in constant time */
            if (CRYPTO_memcmp(hash, k[mid].hash, SHA256_DIGEST_LENGTH) == 0) {
                return &k[mid];
            }

            return NULL;
        }

        if (rc < 0) {
            hi = mid;

        } else {
            lo = mid + 1;
        }
    }

    return NULL;
}


/* identity helpers */

ngx_int_t
ngx_http_mcp_auth_scopes(ngx_pool_t *pool, ngx_str_t *text,
    ngx_http_mcp_identity_t *id)
{
    u_char      *p, *last, *start, *q;
    size_t       len;
    ngx_str_t   *s;
    ngx_uint_t   i;

    if (text == NULL || text->len == 0) {
        return NGX_OK;
    }

    if (id->scope_list == NULL) {
        id->scope_list = ngx_array_create(pool, 4, sizeof(ngx_str_t));
        if (id->scope_list == NULL) {
            return NGX_ERROR;
        }
    }

    p = text->data;
    last = p + text->len;

    while (p < last) {

        while (p < last && *p == ' ') {
            p++;
        }

        start = p;

        while (p < last && *p != ' ') {
            p++;
        }

        if (p == start) {
            break;
        }

        /* RFC 6749 scope-token: %x21 / %x23-5B / %x5D-7E; others dropped */

        for (q = start; q < p; q++) {
            if (*q <= 0x20 || *q >= 0x7f || *q == '"' || *q == '\\') {
                break;
            }
        }

        if (q < p) {
            continue;
        }

        s = ngx_array_push(id->scope_list);
        if (s == NULL) {
            return NGX_ERROR;
        }

        s->data = start;
        s->len = p - start;
    }

    /* $mcp_scopes: the list again, joined by single spaces */

    len = 0;
    s = id->scope_list->elts;

    for (i = 0; i < id->scope_list->nelts; i++) {
        len += s[i].len + 1;
    }

    if (len == 0) {
        ngx_str_null(&id->scopes);
        return NGX_OK;
    }

    p = ngx_pnalloc(pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    id->scopes.data = p;

    for (i = 0; i < id->scope_list->nelts; i++) {
        if (i) {
            *p++ = ' ';
        }

        p = ngx_cpymem(p, s[i].data, s[i].len);
    }

    id->scopes.len = p - id->scopes.data;

    return NGX_OK;
}


void
ngx_http_mcp_auth_principal(ngx_http_mcp_identity_t *id, ngx_str_t *issuer)
{
    EVP_MD_CTX  *md;

    md = EVP_MD_CTX_new();

    if (md == NULL
        || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1
        || EVP_DigestUpdate(md, id->method.data, id->method.len) != 1
        || EVP_DigestUpdate(md, "", 1) != 1
        || (issuer && EVP_DigestUpdate(md, issuer->data, issuer->len) != 1)
        || EVP_DigestUpdate(md, "", 1) != 1
        || EVP_DigestUpdate(md, id->subject.data, id->subject.len) != 1
        || EVP_DigestFinal_ex(md, id->principal, NULL) != 1)
    {
        /* no principal can be told apart: every session is refused */
        ngx_memset(id->principal, 0xff, NGX_HTTP_MCP_PRINCIPAL_LEN);
    }

    EVP_MD_CTX_free(md);
}


ngx_uint_t
ngx_http_mcp_auth_printable(ngx_str_t *s)
{
    u_char  *p, *last;

    if (s->len > 1024) {
        return 0;
    }

    last = s->data + s->len;

    for (p = s->data; p < last; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return 0;
        }
    }

    return 1;
}
