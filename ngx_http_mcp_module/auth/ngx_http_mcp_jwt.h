
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_JWT_H_INCLUDED_
#define _NGX_HTTP_MCP_JWT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <openssl/evp.h>

#include "json/ngx_http_mcp_json.h"


/*
 * JSON Web Tokens (RFC 7519) in compact JWS form (RFC 7515), and the keys
 * that verify them (JWK sets, RFC 7517, or PEM public keys).  No I/O: the
 * text of a key set comes from a file or a subrequest (the callers), and
 * a token from a request header.  Error texts never quote key material or
 * a token; they say what was wrong ("bad signature", "kid unknown", ...).
 */


/* algorithms, as bits (mcp_auth_jwt_algorithms) */

#define NGX_HTTP_MCP_JWT_RS256   0x0001
#define NGX_HTTP_MCP_JWT_RS384   0x0002
#define NGX_HTTP_MCP_JWT_RS512   0x0004
#define NGX_HTTP_MCP_JWT_PS256   0x0008
#define NGX_HTTP_MCP_JWT_PS384   0x0010
#define NGX_HTTP_MCP_JWT_PS512   0x0020
#define NGX_HTTP_MCP_JWT_ES256   0x0040
#define NGX_HTTP_MCP_JWT_ES384   0x0080
#define NGX_HTTP_MCP_JWT_EDDSA   0x0100
#define NGX_HTTP_MCP_JWT_HS256   0x0200
#define NGX_HTTP_MCP_JWT_HS384   0x0400
#define NGX_HTTP_MCP_JWT_HS512   0x0800

/* the default: every asymmetric algorithm; HS* only when listed */
#define NGX_HTTP_MCP_JWT_ASYMMETRIC  0x01ff
#define NGX_HTTP_MCP_JWT_HMAC        0x0e00


/* key types */

typedef enum {
    NGX_HTTP_MCP_JWK_RSA = 1,
    NGX_HTTP_MCP_JWK_EC,
    NGX_HTTP_MCP_JWK_OKP,
    NGX_HTTP_MCP_JWK_OCT
} ngx_http_mcp_jwk_type_e;


typedef struct {
    ngx_str_t                   kid;          /* empty: none given */
    ngx_http_mcp_jwk_type_e     type;
    ngx_uint_t                  algs;         /* NGX_HTTP_MCP_JWT_* this key
                                                 may verify: its "alg", or
                                                 every one of its type (for
                                                 EC: of its curve) */
    EVP_PKEY                   *pkey;         /* RSA, EC, OKP */
    ngx_str_t                   secret;       /* oct */
} ngx_http_mcp_jwk_t;


/* a key set; its EVP_PKEYs are freed by a cleanup of the pool given */

typedef struct {
    ngx_array_t                 keys;         /* ngx_http_mcp_jwk_t */
} ngx_http_mcp_jwks_t;


/* a parsed (not yet verified) token; everything in the pool given */

typedef struct {
    ngx_str_t                   signed_part;  /* "header.payload", as sent */
    ngx_str_t                   signature;    /* decoded */
    ngx_uint_t                  alg;          /* one NGX_HTTP_MCP_JWT_* */
    ngx_str_t                   kid;          /* empty: none */
    ngx_http_mcp_json_t        *header;       /* JSON objects */
    ngx_http_mcp_json_t        *claims;
} ngx_http_mcp_jwt_t;


/*
 * Initializes *set, then adds the keys of `data`: a JWK set
 * ({"keys":[...]}), a single JWK object, or one or more PEM public keys
 * ("-----BEGIN PUBLIC KEY-----", RSA, EC P-256/P-384, Ed25519/Ed448).
 * Refused: RSA under 2048 bits, curves other than P-256/P-384 for EC,
 * Ed25519/Ed448 for OKP, private-key members ("d", "p", ...) are ignored,
 * keys whose "use" is not "sig" or whose "key_ops" lack "verify" are
 * skipped.  A set with no usable key is an error.
 * NGX_OK; NGX_DECLINED with the reason in *err; NGX_ERROR (memory).
 */
ngx_int_t ngx_http_mcp_jwks_parse(ngx_pool_t *pool, u_char *data, size_t len,
    ngx_http_mcp_jwks_t *set, ngx_str_t *err);

/* appends the keys of src to dst (both of the same pool's lifetime) */
ngx_int_t ngx_http_mcp_jwks_merge(ngx_http_mcp_jwks_t *dst,
    ngx_http_mcp_jwks_t *src);

/* "RS256" -> NGX_HTTP_MCP_JWT_RS256; 0 when unknown (and for "none") */
ngx_uint_t ngx_http_mcp_jwt_alg(u_char *name, size_t len);

/*
 * Splits and decodes a compact token: three base64url parts (no padding,
 * no other characters), a header and a payload that are JSON objects
 * within `limits`, "alg" a known algorithm ("none" never is), "typ" if
 * present "JWT" or "at+jwt" (case-insensitive), "crit" refused (no
 * extension is understood), "kid" a string if present.
 * NGX_OK; NGX_DECLINED with the reason in *err; NGX_ERROR (memory).
 */
ngx_int_t ngx_http_mcp_jwt_parse(ngx_pool_t *pool, ngx_str_t *token,
    ngx_http_mcp_json_limits_t *limits, ngx_http_mcp_jwt_t *jwt,
    ngx_str_t *err);

/*
 * Verifies the signature with the keys of `set`: jwt->alg must be in
 * `algs` and in the key's algs (so an HS256 token never meets an RSA
 * key); with a kid, only keys of that kid; without, every key of a
 * fitting type is tried.  ES* signatures are the JOSE r||s form.
 * Comparison of HMACs is in constant time.
 * NGX_OK; NGX_DECLINED with the reason in *err ("kid unknown" when a kid
 * matched no key, so the caller may refresh the set); NGX_ERROR.
 */
ngx_int_t ngx_http_mcp_jwt_verify(ngx_http_mcp_jwt_t *jwt,
    ngx_http_mcp_jwks_t *set, ngx_uint_t algs, ngx_str_t *err);

#define NGX_HTTP_MCP_JWT_KID_UNKNOWN  "kid unknown"

/*
 * The registered claims: "exp" (required) and "nbf", "iat" numbers
 * checked against now with leeway seconds ("iat" no later than now +
 * leeway); "iss" equal to issuer when issuer is not empty; "aud" (a
 * string or an array of strings) containing one of `audiences`
 * (ngx_str_t) when that is not NULL; "sub" a string if present.
 * *expires is exp + leeway.
 * NGX_OK; NGX_DECLINED with the reason in *err.
 */
ngx_int_t ngx_http_mcp_jwt_claims(ngx_http_mcp_jwt_t *jwt, ngx_str_t *issuer,
    ngx_array_t *audiences, time_t leeway, time_t now, time_t *expires,
    ngx_str_t *err);

/* base64url without padding (RFC 7515 section 2): NGX_OK or NGX_ERROR */
ngx_int_t ngx_http_mcp_base64url_decode(ngx_str_t *dst, ngx_str_t *src);


#endif /* _NGX_HTTP_MCP_JWT_H_INCLUDED_ */
