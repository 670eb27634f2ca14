
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_AUTH_INT_H_INCLUDED_
#define _NGX_HTTP_MCP_AUTH_INT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "json/ngx_http_mcp_json.h"
#include "auth/ngx_http_mcp_jwt.h"
#include "auth/ngx_http_mcp_auth.h"


/* Internal to auth/: the parts of ngx_http_mcp_auth_module. */


#define NGX_HTTP_MCP_AUTH_TOKEN_MAX     8192    /* longer: refused */
#define NGX_HTTP_MCP_AUTH_REFRESH       5       /* s between key fetches */
#define NGX_HTTP_MCP_AUTH_FETCH_WAIT    10      /* s a fetch may take */
#define NGX_HTTP_MCP_AUTH_POLL          50      /* ms between looks */


/* one API key of a `mcp_auth_api_keys` file */

typedef struct {
    u_char                      hash[32];     /* SHA-256 of the key */
    ngx_http_mcp_identity_t     identity;     /* subject, scopes, tenant */
    ngx_uint_t                  line;
} ngx_http_mcp_api_key_t;


typedef struct {
    ngx_str_t                   file;
    ngx_array_t                 keys;         /* ngx_http_mcp_api_key_t,
                                                 sorted by hash */
} ngx_http_mcp_api_keys_t;


/* `mcp_auth_jwt_key_request URI`: one per URI, shared by locations */

typedef struct ngx_http_mcp_key_slot_s  ngx_http_mcp_key_slot_t;

typedef struct {
    ngx_str_t                   uri;
    void                       *server;       /* its server's core conf */
    ngx_http_mcp_key_slot_t    *slot;         /* in shared memory */
    ngx_slab_pool_t            *slot_pool;    /* its zone's */

    /* this worker's copy, parsed from the slot's text */
    ngx_uint_t                  generation;
    ngx_pool_t                 *pool;
    ngx_http_mcp_jwks_t        *set;
} ngx_http_mcp_key_request_t;


typedef struct {
    ngx_array_t                 key_requests; /* ngx_http_mcp_key_request_t *
                                               */
    ngx_shm_zone_t             *zone;         /* their shared slots */
    ngx_array_t                 prms;         /* mcp_protected_resource
                                                 documents, to build */
    ngx_uint_t                  cache_size;   /* verified tokens per worker */
} ngx_http_mcp_auth_main_conf_t;


typedef struct {
    ngx_flag_t                  jwt;          /* mcp_auth_jwt REALM | off */
    ngx_str_t                   realm;
    ngx_http_complex_value_t   *token;        /* token=$variable */

    ngx_http_mcp_jwks_t        *keys;         /* mcp_auth_jwt_key_file */
    ngx_str_t                   key_request_uri;
    ngx_http_mcp_key_request_t *key_request;  /* of this server and URI */
    time_t                      key_cache;

    ngx_str_t                   issuer;
    ngx_array_t                *audiences;    /* ngx_str_t */
    time_t                      leeway;
    ngx_uint_t                  algorithms;   /* NGX_HTTP_MCP_JWT_* bits */
    ngx_array_t                *require;      /* ngx_http_complex_value_t */
    ngx_uint_t                  require_error;

    ngx_http_mcp_api_keys_t    *api_keys;
    ngx_http_complex_value_t   *tenant;       /* mcp_tenant */
    ngx_flag_t                  forward;      /* mcp_auth_forward */

    /* RFC 9728 URL for challenges, when the audience gives it */
    ngx_str_t                   metadata;

    void                       *prm;          /* mcp_protected_resource */

    ngx_http_mcp_identity_t     anonymous;    /* no authentication */
} ngx_http_mcp_auth_loc_conf_t;


/* a verified token in this worker's cache */

typedef struct {
    ngx_rbtree_node_t           node;
    ngx_queue_t                 queue;
    ngx_str_t                   token;        /* a copy, after the struct */
    void                       *conf;         /* the location's */
    time_t                      expires;
    ngx_uint_t                  generation;   /* of the key set */
    ngx_uint_t                  refs;         /* requests using it */
    ngx_pool_t                 *pool;         /* claims, identity */
    ngx_http_mcp_json_t        *claims;
    ngx_http_mcp_identity_t     identity;
    unsigned                    dead:1;       /* evicted while in use */
} ngx_http_mcp_token_t;


/* the request's state (of the main request) */

typedef struct {
    ngx_http_mcp_identity_t     identity;
    ngx_http_mcp_json_t        *claims;       /* JWT callers */
    ngx_http_mcp_token_t       *token;        /* held in the cache */
    ngx_str_t                   jwt;          /* the token being checked */
    ngx_str_t                   error;        /* why it was refused */

    ngx_event_t                 wait;         /* polling for a key set */
    ngx_http_request_t         *fetch;        /* a key subrequest */
    ngx_http_mcp_key_request_t *kr;           /* ... of this key set */
    time_t                      fetch_started;
    time_t                      wait_until;

    unsigned                    done:1;       /* identity established */
    unsigned                    fetched:1;    /* this request fetched */
    unsigned                    refreshed:1;  /* ... for an unknown kid */
} ngx_http_mcp_auth_ctx_t;


/* the access phase handler (ngx_http_mcp_auth_module.c) */
ngx_int_t ngx_http_mcp_auth_handler(ngx_http_request_t *r);

/*
 * a configuration file into temp_pool memory, at most max bytes: NGX_OK,
 * or NGX_ERROR with the error logged (ngx_http_mcp_auth_conf.c)
 */
ngx_int_t ngx_http_mcp_auth_read_file(ngx_conf_t *cf, ngx_str_t *name,
    size_t max, ngx_str_t *text);

/* api keys (ngx_http_mcp_api_keys.c) */
char *ngx_http_mcp_api_keys_load(ngx_conf_t *cf, ngx_str_t *file,
    ngx_http_mcp_api_keys_t **keys);
ngx_http_mcp_api_key_t *ngx_http_mcp_api_keys_find(
    ngx_http_mcp_api_keys_t *keys, ngx_str_t *key);

/* scopes: a space-separated list into its tokens (invalid ones dropped) */
ngx_int_t ngx_http_mcp_auth_scopes(ngx_pool_t *pool, ngx_str_t *text,
    ngx_http_mcp_identity_t *id);
/* the principal: SHA-256 over the parts, NUL-separated */
void ngx_http_mcp_auth_principal(ngx_http_mcp_identity_t *id,
    ngx_str_t *issuer);
/* text fit for a header: no control characters, not too long */
ngx_uint_t ngx_http_mcp_auth_printable(ngx_str_t *s);

/* token cache (ngx_http_mcp_jwt_cache.c) */
ngx_http_mcp_token_t *ngx_http_mcp_jwt_cache_find(ngx_http_request_t *r,
    void *conf, ngx_str_t *token, ngx_uint_t generation);
ngx_http_mcp_token_t *ngx_http_mcp_jwt_cache_add(ngx_http_request_t *r,
    void *conf, ngx_str_t *token, time_t expires, ngx_uint_t generation);
void ngx_http_mcp_jwt_cache_hold(ngx_http_request_t *r,
    ngx_http_mcp_token_t *t);
void ngx_http_mcp_jwt_cache_discard(ngx_http_mcp_token_t *t);

/* key sets fetched by subrequests (ngx_http_mcp_jwks_fetch.c) */
ngx_http_mcp_key_request_t *ngx_http_mcp_key_request_add(ngx_conf_t *cf,
    ngx_str_t *uri);
/*
 * The key set for a request: NGX_OK and *set (*generation its version);
 * NGX_AGAIN: wait (a fetch runs; the request is woken); NGX_DECLINED: no
 * keys, why in ctx->error.  refresh: the token named a kid the set lacks.
 */
ngx_int_t ngx_http_mcp_key_request_get(ngx_http_request_t *r,
    ngx_http_mcp_auth_ctx_t *ctx, ngx_http_mcp_key_request_t *kr,
    time_t max_age, ngx_uint_t refresh, ngx_http_mcp_jwks_t **set,
    ngx_uint_t *generation);
/* the request that fetched went away before the answer */
void ngx_http_mcp_key_request_abandon(ngx_http_mcp_key_request_t *kr,
    time_t started);
/* the body filter that takes the answers of key set subrequests */
ngx_int_t ngx_http_mcp_key_filter_init(ngx_conf_t *cf);

/* variables (ngx_http_mcp_auth_vars.c) */
ngx_int_t ngx_http_mcp_auth_add_variables(ngx_conf_t *cf);
ngx_http_mcp_auth_ctx_t *ngx_http_mcp_auth_ctx(ngx_http_request_t *r);

/* mcp_protected_resource (ngx_http_mcp_resource_meta.c) */
char *ngx_http_mcp_protected_resource(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
/* at postconfiguration: each document, once the catalogs are read */
ngx_int_t ngx_http_mcp_protected_resource_init(ngx_conf_t *cf);
/* scheme://host of the request, for URLs the configuration does not fix */
ngx_int_t ngx_http_mcp_auth_origin(ngx_http_request_t *r, ngx_str_t *out);


#endif /* _NGX_HTTP_MCP_AUTH_INT_H_INCLUDED_ */
