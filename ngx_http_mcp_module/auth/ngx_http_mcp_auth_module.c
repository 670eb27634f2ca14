
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "auth/ngx_http_mcp_auth_int.h"


/*
 * The access phase of a location with `mcp_auth_jwt` or
 * `mcp_auth_api_keys`: the credentials of the request, checked in this
 * order (docs/SECURITY.md):
 *
 *   1. a token: `Authorization: Bearer`, or the variable of token=;
 *      X-API-Key: an API key;
 *   2. a bearer token of JWT form (two dots) goes to the JWT check when
 *      mcp_auth_jwt is on, anything else to the API keys;
 *   3. JWT: size, form, algorithm, key (a kid the fetched set lacks
 *      fetches it once more, at most every few seconds), signature, then
 *      exp/nbf/iat with leeway, issuer, audience, `sub`; a token verified
 *      before is found in this worker's cache instead;
 *   4. mcp_auth_jwt_require, then the tenant.
 *
 * No credentials: 401 with a challenge naming the realm and the resource
 * metadata; credentials that fail: 401 with error="invalid_token".  The
 * body is never read before that.  Neither a token nor a key ever reaches
 * a log line; the reason for a refusal does, at info level.
 */


static ngx_uint_t ngx_http_mcp_auth_jwt_form(ngx_str_t *token);
static ngx_int_t ngx_http_mcp_auth_jwt(ngx_http_request_t *r,
    ngx_http_mcp_auth_loc_conf_t *alcf, ngx_http_mcp_auth_ctx_t *ctx);
static ngx_int_t ngx_http_mcp_auth_jwt_verify(ngx_http_request_t *r,
    ngx_http_mcp_auth_loc_conf_t *alcf, ngx_http_mcp_auth_ctx_t *ctx,
    ngx_http_mcp_jwks_t *fetched, ngx_uint_t generation);
static ngx_int_t ngx_http_mcp_auth_api_key(ngx_http_request_t *r,
    ngx_http_mcp_auth_loc_conf_t *alcf, ngx_http_mcp_auth_ctx_t *ctx,
    ngx_str_t *key);
static ngx_int_t ngx_http_mcp_auth_finish(ngx_http_request_t *r,
    ngx_http_mcp_auth_loc_conf_t *alcf, ngx_http_mcp_auth_ctx_t *ctx);
static ngx_int_t ngx_http_mcp_auth_refuse(ngx_http_request_t *r,
    ngx_http_mcp_auth_loc_conf_t *alcf, ngx_http_mcp_auth_ctx_t *ctx,
    ngx_uint_t status, char *error);
static ngx_int_t ngx_http_mcp_auth_challenge(ngx_http_request_t *r,
    ngx_http_mcp_auth_loc_conf_t *alcf, char *error, ngx_str_t *reason,
    ngx_str_t *scope);
static ngx_int_t ngx_http_mcp_auth_credentials(ngx_http_request_t *r,
    ngx_http_mcp_auth_loc_conf_t *alcf, ngx_str_t *bearer, ngx_str_t *key);
static void ngx_http_mcp_auth_cleanup(void *data);



ngx_int_t
ngx_http_mcp_auth_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_str_t                      bearer, key;
    ngx_pool_cleanup_t            *cln;
    ngx_http_mcp_auth_ctx_t       *ctx;
    ngx_http_mcp_auth_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_auth_module);

    /*
     * The metadata document tells a client without a token where to get
     * one: it is public, whatever the server level requires.
     */

    if ((!alcf->jwt && alcf->api_keys == NULL) || alcf->prm) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_auth_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_mcp_auth_ctx_t));
        cln = ngx_pool_cleanup_add(r->pool, 0);

        if (ctx == NULL || cln == NULL) {
            return NGX_ERROR;
        }

        cln->handler = ngx_http_mcp_auth_cleanup;
        cln->data = ctx;

        ngx_http_set_ctx(r, ctx, ngx_http_mcp_auth_module);

    } else if (ctx->done) {
        return NGX_OK;

    } else if (ctx->fetch || ctx->wait.timer_set) {
        return NGX_AGAIN;              /* woken early; still waiting */
    }

    rc = ngx_http_mcp_auth_credentials(r, alcf, &bearer, &key);
    if (rc != NGX_OK) {
        return rc;
    }

    if (bearer.len == 0 && key.len == 0) {
        ngx_str_set(&ctx->error, "no credentials");
        return ngx_http_mcp_auth_refuse(r, alcf, ctx,
                                        NGX_HTTP_UNAUTHORIZED, NULL);
    }

    if (bearer.len) {

        if (alcf->jwt
            && (alcf->api_keys == NULL || ngx_http_mcp_auth_jwt_form(&bearer)))
        {
            ctx->jwt = bearer;
            rc = ngx_http_mcp_auth_jwt(r, alcf, ctx);

        } else if (alcf->api_keys) {
            rc = ngx_http_mcp_auth_api_key(r, alcf, ctx, &bearer);

        } else {
            ngx_str_set(&ctx->error, "not a JWT");
            rc = NGX_DECLINED;
        }

    } else if (alcf->api_keys) {
        rc = ngx_http_mcp_auth_api_key(r, alcf, ctx, &key);

    } else {
        ngx_str_set(&ctx->error, "API keys are not accepted here");
        rc = NGX_DECLINED;
    }

    if (rc == NGX_AGAIN || rc == NGX_ERROR) {
        return rc;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_mcp_auth_refuse(r, alcf, ctx, NGX_HTTP_UNAUTHORIZED,
                                        "invalid_token");
    }

    return ngx_http_mcp_auth_finish(r, alcf, ctx);
}


/*
 * *bearer: the token of `Authorization: Bearer` or of token=$variable;
 * *key: X-API-Key.  Empty when absent.  An Authorization of another
 * scheme counts as no credentials.
 */

static ngx_int_t
ngx_http_mcp_auth_credentials(ngx_http_request_t *r,
    ngx_http_mcp_auth_loc_conf_t *alcf, ngx_str_t *bearer, ngx_str_t *key)
{
    u_char           *p, *last;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    ngx_str_null(bearer);
    ngx_str_null(key);

    if (alcf->token) {
        if (ngx_http_complex_value(r, alcf->token, bearer) != NGX_OK) {
            return NGX_ERROR;
        }

    } else if (r->headers_in.authorization) {
        p = r->headers_in.authorization->value.data;
        last = p + r->headers_in.authorization->value.len;

        if (last - p > 7 && ngx_strncasecmp(p, (u_char *) "Bearer ", 7) == 0)
        {
            for (p += 7; p < last && *p == ' '; p++) { /* void */ }

            while (last > p && last[-1] == ' ') {
                last--;
            }

            bearer->data = p;
            bearer->len = last - p;
        }
    }

    if (alcf->api_keys == NULL) {
        return NGX_OK;
    }

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof("X-API-Key") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "X-API-Key",
                               h[i].key.len) == 0)
        {
            *key = h[i].value;
            break;
        }
    }

    return NGX_OK;
}


/* JWT form, header.payload.signature: two dots */

static ngx_uint_t
ngx_http_mcp_auth_jwt_form(ngx_str_t *token)
{
    u_char  *p, *last;

    last = token->data + token->len;

    p = ngx_strlchr(token->data, last, '.');

    return p && ngx_strlchr(p + 1, last, '.') != NULL;
}


static ngx_int_t
ngx_http_mcp_auth_jwt(ngx_http_request_t *r,
    ngx_http_mcp_auth_loc_conf_t *alcf, ngx_http_mcp_auth_ctx_t *ctx)
{
    ngx_int_t               rc;
    ngx_uint_t              generation;
    ngx_http_mcp_jwks_t    *fetched;
    ngx_http_mcp_token_t   *t;

    if (ctx->jwt.len > NGX_HTTP_MCP_AUTH_TOKEN_MAX) {
        ngx_str_set(&ctx->error, "token too large");
        return NGX_DECLINED;
    }

    fetched = NULL;
    generation = 0;

    if (alcf->key_request) {
        rc = ngx_http_mcp_key_request_get(r, ctx, alcf->key_request,
                                          alcf->key_cache, ctx->refreshed,
                                          &fetched, &generation);

        if (rc == NGX_AGAIN || rc == NGX_ERROR) {
            return rc;
        }

        if (rc == NGX_DECLINED && alcf->keys == NULL) {
            return NGX_DECLINED;
        }
    }

    /* a token verified before, for this location and these keys */

    t = ngx_http_mcp_jwt_cache_find(r, alcf, &ctx->jwt, generation);

    if (t) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "mcp auth: token found in the cache");

        ngx_http_mcp_jwt_cache_hold(r, t);

        ctx->token = t;
        ctx->claims = t->claims;
        ctx->identity = t->identity;

        return NGX_OK;
    }

    rc = ngx_http_mcp_auth_jwt_verify(r, alcf, ctx, fetched, generation);

    if (rc == NGX_DECLINED && alcf->key_request && !ctx->refreshed
        && ctx->error.len == sizeof(NGX_HTTP_MCP_JWT_KID_UNKNOWN) - 1
        && ngx_strncmp(ctx->error.data, NGX_HTTP_MCP_JWT_KID_UNKNOWN,
                       ctx->error.len) == 0)
    {
        /* keys may have rotated: fetch them once more, then try again */

        ctx->refreshed = 1;

        rc = ngx_http_mcp_key_request_get(r, ctx, alcf->key_request,
                                          alcf->key_cache, 1, &fetched,
                                          &generation);

        if (rc == NGX_OK) {
            rc = ngx_http_mcp_auth_jwt_verify(r, alcf, ctx, fetched,
                                              generation);

        } else if (rc == NGX_DECLINED) {
            ngx_str_set(&ctx->error, NGX_HTTP_MCP_JWT_KID_UNKNOWN);
        }
    }

    return rc;
}


/* a token not in the cache: the whole check, and into the cache */

static ngx_int_t
ngx_http_mcp_auth_jwt_verify(ngx_http_request_t *r,
    ngx_http_mcp_auth_loc_conf_t *alcf, ngx_http_mcp_auth_ctx_t *ctx,
    ngx_http_mcp_jwks_t *fetched, ngx_uint_t generation)
{
    time_t                       expires;
    ngx_int_t                    rc;
    ngx_str_t                    err, issuer;
    ngx_pool_t                  *pool;
    ngx_http_mcp_jwt_t           jwt;
    ngx_http_mcp_json_t         *v;
    ngx_http_mcp_token_t        *t;
    ngx_http_mcp_identity_t      id;
    ngx_http_mcp_json_limits_t   limits;

    ngx_str_set(&err, "no key");

    /* the pool may go to the cache: it outlives the connection's log */

    pool = ngx_create_pool(1024, ngx_cycle->log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    limits.max_depth = 16;
    limits.max_members = 256;
    limits.max_string = NGX_HTTP_MCP_AUTH_TOKEN_MAX;
    limits.max_values = 1024;
    limits.in_place = 0;

    rc = ngx_http_mcp_jwt_parse(pool, &ctx->jwt, &limits, &jwt, &err);

    if (rc != NGX_OK) {
        goto failed;
    }

    rc = NGX_DECLINED;

    if (fetched) {
        /* a published set holds public keys: never an HMAC secret */
        rc = ngx_http_mcp_jwt_verify(&jwt, fetched,
                                     alcf->algorithms
                                     & NGX_HTTP_MCP_JWT_ASYMMETRIC, &err);
    }

    if (rc == NGX_DECLINED && alcf->keys) {
        rc = ngx_http_mcp_jwt_verify(&jwt, alcf->keys, alcf->algorithms,
                                     &err);
    }

    if (rc != NGX_OK) {
        goto failed;
    }

    rc = ngx_http_mcp_jwt_claims(&jwt, &alcf->issuer, alcf->audiences,
                                 alcf->leeway, ngx_time(), &expires, &err);
    if (rc != NGX_OK) {
        goto failed;
    }

    /* who it is */

    ngx_memzero(&id, sizeof(ngx_http_mcp_identity_t));
    ngx_str_set(&id.method, "jwt");

    v = ngx_http_mcp_json_member(jwt.claims, "sub");

    if (v && v->type == NGX_HTTP_MCP_JSON_STRING) {
        id.subject = v->str;
    }

    /* sessions are bound to it: a token must say who it is */

    if (id.subject.len == 0 || !ngx_http_mcp_auth_printable(&id.subject)) {
        ngx_str_set(&err, "no printable sub");
        rc = NGX_DECLINED;
        goto failed;
    }

    /* "scope": "a b" (RFC 9068), or "scp": "a b" or ["a", "b"] */

    v = ngx_http_mcp_json_member(jwt.claims, "scope");

    if (v == NULL) {
        v = ngx_http_mcp_json_member(jwt.claims, "scp");
    }

    if (v && v->type == NGX_HTTP_MCP_JSON_STRING) {
        if (ngx_http_mcp_auth_scopes(pool, &v->str, &id) != NGX_OK) {
            rc = NGX_ERROR;
            goto failed;
        }

    } else if (v && v->type == NGX_HTTP_MCP_JSON_ARRAY) {

        for (v = v->first; v; v = v->next) {
            if (v->type == NGX_HTTP_MCP_JSON_STRING
                && ngx_http_mcp_auth_scopes(pool, &v->str, &id) != NGX_OK)
            {
                rc = NGX_ERROR;
                goto failed;
            }
        }
    }

    v = ngx_http_mcp_json_member(jwt.claims, "iss");
    ngx_str_null(&issuer);

    if (v && v->type == NGX_HTTP_MCP_JSON_STRING) {
        issuer = v->str;
    }

    ngx_http_mcp_auth_principal(&id, &issuer);

    t = ngx_http_mcp_jwt_cache_add(r, alcf, &ctx->jwt, expires, generation);
    if (t == NULL) {
        rc = NGX_ERROR;
        goto failed;
    }

    t->pool = pool;
    t->claims = jwt.claims;
    t->identity = id;

    ngx_http_mcp_jwt_cache_hold(r, t);

    ctx->token = t;
    ctx->claims = t->claims;
    ctx->identity = t->identity;

    return NGX_OK;

failed:

    if (rc == NGX_DECLINED) {
        /* the reason may live in the pool that goes */

        ctx->error.data = ngx_pstrdup(r->pool, &err);
        ctx->error.len = ctx->error.data ? err.len : 0;
    }

    ngx_destroy_pool(pool);

    return rc;
}


static ngx_int_t
ngx_http_mcp_auth_api_key(ngx_http_request_t *r,
    ngx_http_mcp_auth_loc_conf_t *alcf, ngx_http_mcp_auth_ctx_t *ctx,
    ngx_str_t *key)
{
    ngx_http_mcp_api_key_t  *k;

    k = ngx_http_mcp_api_keys_find(alcf->api_keys, key);

    if (k == NULL) {
        ngx_str_set(&ctx->error, "unknown API key");
        return NGX_DECLINED;
    }

    ctx->identity = k->identity;

    return NGX_OK;
}


/* a verified caller: the operator's requirements, the tenant */

static ngx_int_t
ngx_http_mcp_auth_finish(ngx_http_request_t *r,
    ngx_http_mcp_auth_loc_conf_t *alcf, ngx_http_mcp_auth_ctx_t *ctx)
{
    ngx_str_t                  value;
    ngx_uint_t                 i;
    ngx_http_complex_value_t  *cv;

    ctx->done = 1;       /* $mcp_claim_* answer from here on */

    if (alcf->require && ctx->claims) {
        cv = alcf->require->elts;

        for (i = 0; i < alcf->require->nelts; i++) {
            if (ngx_http_complex_value(r, &cv[i], &value) != NGX_OK) {
                return NGX_ERROR;
            }

            if (value.len == 0 || (value.len == 1 && value.data[0] == '0')
                || (value.len == 5 && ngx_strncmp(value.data, "false", 5) == 0))
            {
                ctx->done = 0;
                ngx_str_set(&ctx->error, "a required value is missing");

                return ngx_http_mcp_auth_refuse(r, alcf, ctx,
                                                alcf->require_error,
                                                "invalid_token");
            }
        }
    }

    if (ctx->identity.tenant.len == 0 && alcf->tenant) {
        if (ngx_http_complex_value(r, alcf->tenant, &ctx->identity.tenant)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (!ngx_http_mcp_auth_printable(&ctx->identity.tenant)) {
            ctx->done = 0;
            ngx_str_set(&ctx->error, "tenant is not printable");

            return ngx_http_mcp_auth_refuse(r, alcf, ctx,
                                            NGX_HTTP_UNAUTHORIZED,
                                            "invalid_token");
        }
    }

    ctx->identity.forward = alcf->forward ? 1 : 0;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mcp auth: %V caller \"%V\", tenant \"%V\"",
                   &ctx->identity.method, &ctx->identity.subject,
                   &ctx->identity.tenant);

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_auth_refuse(ngx_http_request_t *r,
    ngx_http_mcp_auth_loc_conf_t *alcf, ngx_http_mcp_auth_ctx_t *ctx,
    ngx_uint_t status, char *error)
{
    ngx_str_t  reason;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mcp auth: refused with %ui: %V", status, &ctx->error);

    if (error) {
        reason.data = (u_char *) error;
        reason.len = ngx_strlen(error);

    } else {
        ngx_str_set(&reason, "missing_credentials");
    }

    ngx_http_mcp_event(NGX_HTTP_MCP_EVENT_AUTH_FAILURE, &reason);

    if (status == NGX_HTTP_UNAUTHORIZED
        && ngx_http_mcp_auth_challenge(r, alcf, error, &ctx->error, NULL)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return status;
}


ngx_int_t
ngx_http_mcp_auth_forbid(ngx_http_request_t *r, ngx_str_t *scope)
{
    ngx_str_t                      reason;
    ngx_http_mcp_auth_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_auth_module);

    ngx_str_set(&reason, "insufficient_scope");
    ngx_http_mcp_event(NGX_HTTP_MCP_EVENT_AUTH_FAILURE, &reason);

    return ngx_http_mcp_auth_challenge(r, alcf, "insufficient_scope", NULL,
                                       scope);
}


/*
 * WWW-Authenticate: Bearer realm="..", error="..", error_description="..",
 * scope="..", resource_metadata=".." (RFC 6750, RFC 9728 section 5.1).
 * Every value is known to hold no '"' or '\': realm and scopes are
 * checked at configuration time, reasons are the module's own, the URL
 * comes from the configuration or from a checked Host.
 */

static ngx_int_t
ngx_http_mcp_auth_challenge(ngx_http_request_t *r,
    ngx_http_mcp_auth_loc_conf_t *alcf, char *error, ngx_str_t *reason,
    ngx_str_t *scope)
{
    u_char           *p;
    size_t            len;
    ngx_str_t         url, origin;
    ngx_table_elt_t  *h;

    url = alcf->metadata;

    if (url.len == 0 && ngx_http_mcp_auth_origin(r, &origin) == NGX_OK) {
        url.len = origin.len + sizeof("/.well-known/oauth-protected-resource")
                  - 1 + r->uri.len;
        url.data = ngx_pnalloc(r->pool, url.len);
        if (url.data == NULL) {
            return NGX_ERROR;
        }

        ngx_sprintf(url.data, "%V/.well-known/oauth-protected-resource%V",
                    &origin, &r->uri);

        if (!ngx_http_mcp_auth_printable(&url)
            || ngx_strlchr(url.data, url.data + url.len, '"')
            || ngx_strlchr(url.data, url.data + url.len, '\\'))
        {
            url.len = 0;
        }
    }

    len = sizeof("Bearer realm=\"\"") - 1 + alcf->realm.len
          + sizeof(", error=\"\"") - 1 + ngx_strlen(error ? error : "")
          + sizeof(", error_description=\"\"") - 1
          + (reason ? reason->len : 0)
          + sizeof(", scope=\"\"") - 1 + (scope ? scope->len : 0)
          + sizeof(", resource_metadata=\"\"") - 1 + url.len;

    h = ngx_list_push(&r->headers_out.headers);
    p = ngx_pnalloc(r->pool, len);

    if (h == NULL || p == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "WWW-Authenticate");
    h->value.data = p;

    p = ngx_cpymem(p, "Bearer", 6);

    if (alcf->realm.len) {
        p = ngx_sprintf(p, " realm=\"%V\",", &alcf->realm);
    }

    if (error) {
        p = ngx_sprintf(p, " error=\"%s\",", error);

        if (reason && reason->len) {
            p = ngx_sprintf(p, " error_description=\"%V\",", reason);
        }
    }

    if (scope) {
        p = ngx_sprintf(p, " scope=\"%V\",", scope);
    }

    if (url.len) {
        p = ngx_sprintf(p, " resource_metadata=\"%V\",", &url);
    }

    if (p[-1] == ',') {
        p--;
    }

    h->value.len = p - h->value.data;

    r->headers_out.www_authenticate = h;

    return NGX_OK;
}


ngx_http_mcp_identity_t *
ngx_http_mcp_auth_identity(ngx_http_request_t *r)
{
    ngx_http_mcp_auth_ctx_t       *ctx;
    ngx_http_mcp_auth_loc_conf_t  *alcf;

    ctx = ngx_http_mcp_auth_ctx(r);

    if (ctx && ctx->done) {
        return &ctx->identity;
    }

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_auth_module);

    return &alcf->anonymous;
}


static void
ngx_http_mcp_auth_cleanup(void *data)
{
    ngx_http_mcp_auth_ctx_t *ctx = data;

    if (ctx->wait.timer_set) {
        ngx_del_timer(&ctx->wait);
    }

    if (ctx->wait.posted) {
        ngx_delete_posted_event(&ctx->wait);
    }

    if (ctx->token) {
        ngx_http_mcp_jwt_cache_discard(ctx->token);
        ctx->token = NULL;
    }

    if (ctx->fetch && ctx->kr) {
        ngx_http_mcp_key_request_abandon(ctx->kr, ctx->fetch_started);
    }
}
