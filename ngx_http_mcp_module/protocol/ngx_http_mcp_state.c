
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "ngx_http_mcp_module.h"
#include "protocol/ngx_http_mcp_state.h"


/*
 * The requestState of an MRTR result (2026-07-28), sealed: what the
 * client gets for a backend's state is
 *
 *     base64url(version | nonce | AES-256-GCM(expiry | state) | tag)
 *
 * without padding, where the nonce is 12 random bytes, the expiry 8 bytes
 * (seconds since the epoch, big-endian), and the additional data binds it
 * to the caller's principal and tenant, the method and the item.  A retry
 * brings it back; only an intact, unexpired state sealed for the same
 * binding under one of the location's keys opens.
 */


#define NGX_HTTP_MCP_STATE_VERSION   1
#define NGX_HTTP_MCP_STATE_NONCE     12
#define NGX_HTTP_MCP_STATE_TAG       16
#define NGX_HTTP_MCP_STATE_EXPIRY    8
#define NGX_HTTP_MCP_STATE_HEAD      (1 + NGX_HTTP_MCP_STATE_NONCE)
#define NGX_HTTP_MCP_STATE_OVERHEAD  (NGX_HTTP_MCP_STATE_HEAD                 \
                                      + NGX_HTTP_MCP_STATE_EXPIRY             \
                                      + NGX_HTTP_MCP_STATE_TAG)

/* what a key file may hold, in bytes (trailing white space left out) */
#define NGX_HTTP_MCP_STATE_FILE_MIN  32
#define NGX_HTTP_MCP_STATE_FILE_MAX  4096

#define NGX_HTTP_MCP_STATE_VALID     600


static ngx_int_t ngx_http_mcp_state_key_file(ngx_conf_t *cf, ngx_str_t *name,
    u_char *key);
static ngx_int_t ngx_http_mcp_state_aad(ngx_http_mcp_state_bind_t *bind,
    ngx_pool_t *pool, ngx_str_t *aad);
static u_char *ngx_http_mcp_state_field(u_char *p, ngx_str_t *s);
static ngx_int_t ngx_http_mcp_state_gcm(ngx_uint_t seal, u_char *key,
    u_char *nonce, ngx_str_t *aad, u_char *in, size_t len, u_char *out,
    u_char *tag);
static ngx_uint_t ngx_http_mcp_state_alphabet(ngx_str_t *s);


static u_char  ngx_http_mcp_state_label[] =
    "ngx_http_mcp_module requestState AES-256-GCM v1";


char *
ngx_http_mcp_state_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    time_t                     valid;
    ngx_str_t                 *value, name, s;
    ngx_uint_t                 i;
    ngx_array_t              **keys;
    ngx_http_mcp_state_key_t  *k;

    keys = (ngx_array_t **) (p + cmd->offset);

    if (*keys == NGX_CONF_UNSET_PTR) {
        *keys = ngx_array_create(cf->pool, 2,
                                 sizeof(ngx_http_mcp_state_key_t));
        if (*keys == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    value = cf->args->elts;
    valid = NGX_HTTP_MCP_STATE_VALID;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "valid=", 6) == 0) {
            s.len = value[i].len - 6;
            s.data = value[i].data + 6;

            valid = ngx_parse_time(&s, 1);

            if (valid == (time_t) NGX_ERROR || valid == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"valid\" value \"%V\"",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    name = value[1];

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    k = ngx_array_push(*keys);
    if (k == NULL) {
        return NGX_CONF_ERROR;
    }

    k->valid = valid;

    if (ngx_http_mcp_state_key_file(cf, &name, k->key) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


ngx_array_t *
ngx_http_mcp_state_key_random(ngx_conf_t *cf)
{
    ngx_array_t               *keys;
    ngx_http_mcp_state_key_t  *k;

    keys = ngx_array_create(cf->pool, 1, sizeof(ngx_http_mcp_state_key_t));
    if (keys == NULL) {
        return NULL;
    }

    k = ngx_array_push(keys);
    if (k == NULL) {
        return NULL;
    }

    k->valid = NGX_HTTP_MCP_STATE_VALID;

    if (RAND_bytes(k->key, NGX_HTTP_MCP_STATE_KEY_LEN) != 1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "mcp: RAND_bytes() failed for the requestState "
                           "key");
        return NULL;
    }

    return keys;
}


/*
 * The file's bytes, trailing white space left out, are the secret: raw
 * bytes, hex or base64 alike.  The AES key is HMAC-SHA256 of a fixed label
 * under it, so a file used elsewhere gives an unrelated key here.
 */

static ngx_int_t
ngx_http_mcp_state_key_file(ngx_conf_t *cf, ngx_str_t *name, u_char *key)
{
    u_char           buf[NGX_HTTP_MCP_STATE_FILE_MAX + 1];
    size_t           len;
    ssize_t          n;
    ngx_fd_t         fd;
    ngx_int_t        rc;
    unsigned int     md_len;
    ngx_file_info_t  fi;

    fd = ngx_open_file(name->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%s\" failed", name->data);
        return NGX_ERROR;
    }

    rc = NGX_ERROR;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " \"%s\" failed", name->data);
        goto done;
    }

    if (ngx_file_size(&fi) > NGX_HTTP_MCP_STATE_FILE_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the key file \"%s\" is larger than %d bytes",
                           name->data, NGX_HTTP_MCP_STATE_FILE_MAX);
        goto done;
    }

    n = ngx_read_fd(fd, buf, sizeof(buf));
    if (n == -1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_read_fd_n " \"%s\" failed", name->data);
        goto done;
    }

    len = n;

    while (len && (buf[len - 1] == LF || buf[len - 1] == CR
                   || buf[len - 1] == ' ' || buf[len - 1] == '\t'))
    {
        len--;
    }

    if (len < NGX_HTTP_MCP_STATE_FILE_MIN) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the key file \"%s\" holds %uz bytes, fewer "
                           "than %d", name->data, len,
                           NGX_HTTP_MCP_STATE_FILE_MIN);
        goto done;
    }

    if (HMAC(EVP_sha256(), buf, len, ngx_http_mcp_state_label,
             sizeof(ngx_http_mcp_state_label) - 1, key, &md_len)
        == NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "HMAC() failed");
        goto done;
    }

    rc = NGX_OK;

done:

    ngx_explicit_memzero(buf, sizeof(buf));

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, cf->log, ngx_errno,
                      ngx_close_file_n " \"%s\" failed", name->data);
    }

    return rc;
}


ngx_int_t
ngx_http_mcp_state_seal(ngx_array_t *keys, ngx_http_mcp_state_bind_t *bind,
    ngx_str_t *state, ngx_pool_t *pool, ngx_str_t *sealed)
{
    u_char                    *raw, *plain;
    size_t                     len;
    uint64_t                   expiry;
    ngx_str_t                  aad, src;
    ngx_uint_t                 i;
    ngx_http_mcp_state_key_t  *k;

    if (state->len > NGX_HTTP_MCP_STATE_MAX
        || keys == NULL || keys->nelts == 0)
    {
        return NGX_ERROR;
    }

    k = keys->elts;

    len = NGX_HTTP_MCP_STATE_EXPIRY + state->len;

    raw = ngx_pnalloc(pool, NGX_HTTP_MCP_STATE_OVERHEAD + state->len);
    plain = ngx_pnalloc(pool, len);
    sealed->data = ngx_pnalloc(pool, ngx_base64_encoded_length(
                                   NGX_HTTP_MCP_STATE_OVERHEAD + state->len));

    if (raw == NULL || plain == NULL || sealed->data == NULL
        || ngx_http_mcp_state_aad(bind, pool, &aad) != NGX_OK)
    {
        return NGX_ERROR;
    }

    expiry = (uint64_t) (ngx_time() + k[0].valid);

    for (i = 0; i < NGX_HTTP_MCP_STATE_EXPIRY; i++) {
        plain[i] = (u_char) (expiry >> (8 * (NGX_HTTP_MCP_STATE_EXPIRY - 1
                                             - i)));
    }

    if (state->len) {
        ngx_memcpy(plain + NGX_HTTP_MCP_STATE_EXPIRY, state->data,
                   state->len);
    }

    raw[0] = NGX_HTTP_MCP_STATE_VERSION;

    if (RAND_bytes(raw + 1, NGX_HTTP_MCP_STATE_NONCE) != 1) {
        return NGX_ERROR;
    }

    if (ngx_http_mcp_state_gcm(1, k[0].key, raw + 1, &aad, plain, len,
                               raw + NGX_HTTP_MCP_STATE_HEAD,
                               raw + NGX_HTTP_MCP_STATE_HEAD + len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    src.data = raw;
    src.len = NGX_HTTP_MCP_STATE_OVERHEAD + state->len;

    ngx_encode_base64url(sealed, &src);

    return NGX_OK;
}


ngx_int_t
ngx_http_mcp_state_open(ngx_array_t *keys, ngx_http_mcp_state_bind_t *bind,
    ngx_str_t *sealed, ngx_pool_t *pool, ngx_str_t *state)
{
    u_char                    *plain;
    size_t                     len;
    uint64_t                   expiry;
    ngx_int_t                  rc;
    ngx_str_t                  raw, again, aad;
    ngx_uint_t                 i;
    ngx_http_mcp_state_key_t  *k;

    if (keys == NULL
        || sealed->len
           > ngx_base64_encoded_length(NGX_HTTP_MCP_STATE_OVERHEAD
                                       + NGX_HTTP_MCP_STATE_MAX)
        || !ngx_http_mcp_state_alphabet(sealed))
    {
        return NGX_DECLINED;
    }

    raw.data = ngx_pnalloc(pool, ngx_base64_decoded_length(sealed->len));
    if (raw.data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_decode_base64url(&raw, sealed) != NGX_OK
        || raw.len < NGX_HTTP_MCP_STATE_OVERHEAD
        || raw.data[0] != NGX_HTTP_MCP_STATE_VERSION)
    {
        return NGX_DECLINED;
    }

    /* one text per state: other spare bits in the last character fail */

    again.data = ngx_pnalloc(pool, ngx_base64_encoded_length(raw.len));
    if (again.data == NULL) {
        return NGX_ERROR;
    }

    ngx_encode_base64url(&again, &raw);

    if (again.len != sealed->len
        || ngx_memcmp(again.data, sealed->data, again.len) != 0)
    {
        return NGX_DECLINED;
    }

    len = raw.len - NGX_HTTP_MCP_STATE_HEAD - NGX_HTTP_MCP_STATE_TAG;

    plain = ngx_pnalloc(pool, len);
    if (plain == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_mcp_state_aad(bind, pool, &aad) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the first key seals; any may open (a rotation) */

    k = keys->elts;
    rc = NGX_DECLINED;

    for (i = 0; i < keys->nelts; i++) {
        rc = ngx_http_mcp_state_gcm(0, k[i].key, raw.data + 1, &aad,
                                    raw.data + NGX_HTTP_MCP_STATE_HEAD, len,
                                    plain,
                                    raw.data + NGX_HTTP_MCP_STATE_HEAD + len);
        if (rc != NGX_DECLINED) {
            break;
        }
    }

    if (rc != NGX_OK) {
        return rc;
    }

    expiry = 0;

    for (i = 0; i < NGX_HTTP_MCP_STATE_EXPIRY; i++) {
        expiry = (expiry << 8) | plain[i];
    }

    if (expiry < (uint64_t) ngx_time()) {
        return NGX_DECLINED;
    }

    state->data = plain + NGX_HTTP_MCP_STATE_EXPIRY;
    state->len = len - NGX_HTTP_MCP_STATE_EXPIRY;

    return NGX_OK;
}


/*
 * The additional data: the version, then the method, the item and the
 * tenant, each with its length (so that no two bindings write the same
 * bytes), and the principal (zeros for an anonymous caller).
 */

static ngx_int_t
ngx_http_mcp_state_aad(ngx_http_mcp_state_bind_t *bind, ngx_pool_t *pool,
    ngx_str_t *aad)
{
    u_char                   *p;
    ngx_http_mcp_identity_t  *id;

    id = bind->identity;

    p = ngx_pnalloc(pool, 1 + 3 * 4 + bind->method.len + bind->name.len
                          + id->tenant.len + NGX_HTTP_MCP_PRINCIPAL_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    aad->data = p;

    *p++ = NGX_HTTP_MCP_STATE_VERSION;
    p = ngx_http_mcp_state_field(p, &bind->method);
    p = ngx_http_mcp_state_field(p, &bind->name);
    p = ngx_http_mcp_state_field(p, &id->tenant);
    p = ngx_cpymem(p, id->principal, NGX_HTTP_MCP_PRINCIPAL_LEN);

    aad->len = p - aad->data;

    return NGX_OK;
}


static u_char *
ngx_http_mcp_state_field(u_char *p, ngx_str_t *s)
{
    *p++ = (u_char) (s->len >> 24);
    *p++ = (u_char) (s->len >> 16);
    *p++ = (u_char) (s->len >> 8);
    *p++ = (u_char) s->len;

    /* an empty string's data may be NULL */

    return s->len ? ngx_cpymem(p, s->data, s->len) : p;
}


/*
 * AES-256-GCM over `in` into `out` (of the same length), the tag written
 * when sealing, checked when opening (by OpenSSL, in constant time):
 * NGX_OK, NGX_DECLINED (a tag that does not match), NGX_ERROR.
 */

static ngx_int_t
ngx_http_mcp_state_gcm(ngx_uint_t seal, u_char *key, u_char *nonce,
    ngx_str_t *aad, u_char *in, size_t len, u_char *out, u_char *tag)
{
    int               n;
    ngx_int_t         rc;
    EVP_CIPHER_CTX   *ctx;

    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    rc = NGX_ERROR;

    if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce,
                          seal ? 1 : 0)
        != 1
        || EVP_CipherUpdate(ctx, NULL, &n, aad->data, (int) aad->len) != 1
        || EVP_CipherUpdate(ctx, out, &n, in, (int) len) != 1)
    {
        goto done;
    }

    if (seal) {
        if (EVP_CipherFinal_ex(ctx, out + n, &n) == 1
            && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG,
                                   NGX_HTTP_MCP_STATE_TAG, tag)
               == 1)
        {
            rc = NGX_OK;
        }

        goto done;
    }

    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, NGX_HTTP_MCP_STATE_TAG,
                            tag)
        != 1)
    {
        goto done;
    }

    rc = (EVP_CipherFinal_ex(ctx, out + n, &n) == 1) ? NGX_OK : NGX_DECLINED;

done:

    EVP_CIPHER_CTX_free(ctx);

    return rc;
}


/* only the base64url alphabet, no padding */

static ngx_uint_t
ngx_http_mcp_state_alphabet(ngx_str_t *s)
{
    u_char  *p, *last, ch;

    if (s->len == 0) {
        return 0;
    }

    last = s->data + s->len;

    for (p = s->data; p < last; p++) {
        ch = *p;

        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')
              || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
        {
            return 0;
        }
    }

    return 1;
}
