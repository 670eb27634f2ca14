
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_JWK_INT_H_INCLUDED_
#define _NGX_HTTP_MCP_JWK_INT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "auth/ngx_http_mcp_jwt.h"


/*
 * Between ngx_http_mcp_jwk.c (the set, its JSON or PEM) and
 * ngx_http_mcp_jwk_key.c (one key of each type); not for other files.
 */


/* what a key's parse comes to, besides NGX_OK and NGX_ERROR */

#define NGX_HTTP_MCP_JWK_SKIP  NGX_DONE       /* well-formed, not usable */
#define NGX_HTTP_MCP_JWK_BAD   NGX_DECLINED   /* malformed: refuse all */


typedef struct {
    ngx_pool_t                 *pool;
    ngx_http_mcp_jwks_t        *set;
    ngx_str_t                  *err;
    ngx_uint_t                  index;        /* of the key at hand */
    ngx_uint_t                  skipped;
    const char                 *skip;         /* the first reason */
    ngx_uint_t                  skip_index;
} ngx_http_mcp_jwk_ctx_t;


/*
 * The members of a JWK of each kty: NGX_OK with *pkey set (or the oct
 * key's secret and algs), NGX_HTTP_MCP_JWK_SKIP with *reason,
 * NGX_HTTP_MCP_JWK_BAD with ctx->err, or NGX_ERROR
 */
ngx_int_t ngx_http_mcp_jwk_rsa(ngx_http_mcp_jwk_ctx_t *ctx,
    ngx_http_mcp_json_t *obj, EVP_PKEY **pkey, const char **reason);
ngx_int_t ngx_http_mcp_jwk_ec(ngx_http_mcp_jwk_ctx_t *ctx,
    ngx_http_mcp_json_t *obj, EVP_PKEY **pkey, const char **reason);
ngx_int_t ngx_http_mcp_jwk_okp(ngx_http_mcp_jwk_ctx_t *ctx,
    ngx_http_mcp_json_t *obj, EVP_PKEY **pkey, const char **reason);
ngx_int_t ngx_http_mcp_jwk_oct(ngx_http_mcp_jwk_ctx_t *ctx,
    ngx_http_mcp_json_t *obj, ngx_http_mcp_jwk_t *key, const char **reason);

/* key->type and key->algs of a public key; NULL, or why it is unusable */
const char *ngx_http_mcp_jwk_classify(EVP_PKEY *pkey,
    ngx_http_mcp_jwk_t *key);

/* key->algs narrowed to a JWK's "alg"; NULL, or why it does not fit */
const char *ngx_http_mcp_jwk_restrict(ngx_http_mcp_jwk_t *key,
    ngx_str_t *alg);

/* members of a JWK (ngx_http_mcp_jwk.c): a string, base64url bytes */
ngx_int_t ngx_http_mcp_jwk_string(ngx_http_mcp_jwk_ctx_t *ctx,
    ngx_http_mcp_json_t *obj, char *name, ngx_uint_t required,
    ngx_str_t *value);
ngx_int_t ngx_http_mcp_jwk_bytes(ngx_http_mcp_jwk_ctx_t *ctx,
    ngx_http_mcp_json_t *obj, char *name, ngx_str_t *value);


#endif /* _NGX_HTTP_MCP_JWK_INT_H_INCLUDED_ */
