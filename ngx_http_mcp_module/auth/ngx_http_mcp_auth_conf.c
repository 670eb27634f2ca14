
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "auth/ngx_http_mcp_auth_int.h"


/*
 * ngx_http_mcp_auth_module: its directives and their configuration, the
 * access phase handler and the body filter put in place.  What the
 * handler does is in ngx_http_mcp_auth_module.c.
 */


static ngx_int_t ngx_http_mcp_auth_init(ngx_conf_t *cf);
static void *ngx_http_mcp_auth_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_mcp_auth_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_mcp_auth_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_mcp_auth_jwt_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_mcp_auth_key_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_mcp_auth_key_request(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_mcp_auth_audience(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_mcp_auth_require(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_mcp_auth_algorithms(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_mcp_auth_api_keys(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_mcp_auth_metadata_url(ngx_conf_t *cf,
    ngx_http_mcp_auth_loc_conf_t *alcf);


static ngx_command_t  ngx_http_mcp_auth_commands[] = {

    { ngx_string("mcp_auth_jwt"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_mcp_auth_jwt_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_auth_jwt_key_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_mcp_auth_key_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_auth_jwt_key_request"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_mcp_auth_key_request,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_auth_jwt_key_cache"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_auth_loc_conf_t, key_cache),
      NULL },

    { ngx_string("mcp_auth_jwt_issuer"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_auth_loc_conf_t, issuer),
      NULL },

    { ngx_string("mcp_auth_jwt_audience"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_mcp_auth_audience,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_auth_jwt_leeway"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_auth_loc_conf_t, leeway),
      NULL },

    { ngx_string("mcp_auth_jwt_require"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_mcp_auth_require,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_auth_jwt_algorithms"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_mcp_auth_algorithms,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_auth_api_keys"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_mcp_auth_api_keys,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_tenant"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_auth_loc_conf_t, tenant),
      NULL },

    { ngx_string("mcp_auth_forward"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_auth_loc_conf_t, forward),
      NULL },

    { ngx_string("mcp_protected_resource"),
      NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_mcp_protected_resource,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_mcp_auth_module_ctx = {
    ngx_http_mcp_auth_add_variables,       /* preconfiguration */
    ngx_http_mcp_auth_init,                /* postconfiguration */

    ngx_http_mcp_auth_create_main_conf,    /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_mcp_auth_create_loc_conf,     /* create location configuration */
    ngx_http_mcp_auth_merge_loc_conf       /* merge location configuration */
};


ngx_module_t  ngx_http_mcp_auth_module = {
    NGX_MODULE_V1,
    &ngx_http_mcp_auth_module_ctx,         /* module context */
    ngx_http_mcp_auth_commands,            /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* configuration */

static ngx_int_t
ngx_http_mcp_auth_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_mcp_auth_handler;

    if (ngx_http_mcp_key_filter_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_mcp_protected_resource_init(cf);
}


static void *
ngx_http_mcp_auth_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_mcp_auth_main_conf_t  *amcf;

    amcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_auth_main_conf_t));
    if (amcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&amcf->key_requests, cf->pool, 2,
                       sizeof(ngx_http_mcp_key_request_t *))
        != NGX_OK
        || ngx_array_init(&amcf->prms, cf->pool, 2, sizeof(void *))
           != NGX_OK)
    {
        return NULL;
    }

    return amcf;
}


static void *
ngx_http_mcp_auth_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_mcp_auth_loc_conf_t  *alcf;

    alcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_auth_loc_conf_t));
    if (alcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     alcf->realm = { 0, NULL };
     *     alcf->issuer = { 0, NULL };
     *     alcf->metadata = { 0, NULL };
     *     alcf->anonymous = { 0 };
     */

    alcf->jwt = NGX_CONF_UNSET;
    alcf->token = NGX_CONF_UNSET_PTR;
    alcf->keys = NGX_CONF_UNSET_PTR;
    alcf->key_request = NULL;
    alcf->key_cache = NGX_CONF_UNSET;
    alcf->audiences = NGX_CONF_UNSET_PTR;
    alcf->leeway = NGX_CONF_UNSET;
    alcf->algorithms = NGX_CONF_UNSET_UINT;
    alcf->require = NGX_CONF_UNSET_PTR;
    alcf->require_error = NGX_CONF_UNSET_UINT;
    alcf->api_keys = NGX_CONF_UNSET_PTR;
    alcf->tenant = NGX_CONF_UNSET_PTR;
    alcf->forward = NGX_CONF_UNSET;

    return alcf;
}


static char *
ngx_http_mcp_auth_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_mcp_auth_loc_conf_t *prev = parent;
    ngx_http_mcp_auth_loc_conf_t *conf = child;

    if (conf->jwt == NGX_CONF_UNSET) {
        conf->jwt = prev->jwt;
        conf->realm = prev->realm;
        conf->token = prev->token;
    }

    ngx_conf_merge_value(conf->jwt, prev->jwt, 0);
    ngx_conf_merge_ptr_value(conf->token, prev->token, NULL);
    ngx_conf_merge_ptr_value(conf->keys, prev->keys, NULL);
    ngx_conf_merge_str_value(conf->key_request_uri, prev->key_request_uri,
                             "");

    ngx_conf_merge_sec_value(conf->key_cache, prev->key_cache, 3600);
    ngx_conf_merge_str_value(conf->issuer, prev->issuer, "");
    ngx_conf_merge_ptr_value(conf->audiences, prev->audiences, NULL);
    ngx_conf_merge_sec_value(conf->leeway, prev->leeway, 0);
    ngx_conf_merge_uint_value(conf->algorithms, prev->algorithms,
                              NGX_HTTP_MCP_JWT_ASYMMETRIC);
    ngx_conf_merge_ptr_value(conf->require, prev->require, NULL);
    ngx_conf_merge_uint_value(conf->require_error, prev->require_error,
                              NGX_HTTP_UNAUTHORIZED);
    ngx_conf_merge_ptr_value(conf->api_keys, prev->api_keys, NULL);
    ngx_conf_merge_ptr_value(conf->tenant, prev->tenant, NULL);
    ngx_conf_merge_value(conf->forward, prev->forward, 0);

    conf->anonymous.forward = conf->forward ? 1 : 0;

    if (!conf->jwt) {
        return NGX_CONF_OK;
    }

    /*
     * The URI is resolved in the server of the request: one key set per
     * server and URI, so that two servers' /_jwks never share keys.
     */

    if (conf->key_request_uri.len) {
        conf->key_request = ngx_http_mcp_key_request_add(cf,
                                                     &conf->key_request_uri);
        if (conf->key_request == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if (conf->keys == NULL && conf->key_request == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mcp_auth_jwt\" needs \"mcp_auth_jwt_key_file\" "
                           "or \"mcp_auth_jwt_key_request\"");
        return NGX_CONF_ERROR;
    }

    /* RFC 8707: a token must be meant for this server */

    if (conf->audiences == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mcp_auth_jwt\" needs \"mcp_auth_jwt_audience\": "
                           "tokens issued for another server must not pass");
        return NGX_CONF_ERROR;
    }

    if (ngx_http_mcp_auth_metadata_url(cf, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * The resource metadata URL of the first audience that is an http(s) URL:
 * https://host/mcp -> https://host/.well-known/oauth-protected-resource/mcp
 * (RFC 9728 section 3.1).  Otherwise challenges build it from the request.
 */

static ngx_int_t
ngx_http_mcp_auth_metadata_url(ngx_conf_t *cf,
    ngx_http_mcp_auth_loc_conf_t *alcf)
{
    u_char     *p, *host, *path, *last;
    ngx_str_t  *aud;

    aud = alcf->audiences->elts;

    p = aud[0].data;
    last = p + aud[0].len;

    if (aud[0].len > 7 && ngx_strncasecmp(p, (u_char *) "http://", 7) == 0) {
        host = p + 7;

    } else if (aud[0].len > 8
               && ngx_strncasecmp(p, (u_char *) "https://", 8) == 0)
    {
        host = p + 8;

    } else {
        return NGX_OK;
    }

    path = ngx_strlchr(host, last, '/');
    if (path == NULL) {
        path = last;
    }

    if (path < last && last[-1] == '/') {
        last--;
    }

    alcf->metadata.len = (path - p)
                         + sizeof("/.well-known/oauth-protected-resource") - 1
                         + (last - path);
    alcf->metadata.data = ngx_pnalloc(cf->pool, alcf->metadata.len);
    if (alcf->metadata.data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(alcf->metadata.data, "%*s/.well-known/oauth-protected-resource"
                "%*s", (size_t) (path - p), p, (size_t) (last - path), path);

    if (!ngx_http_mcp_auth_printable(&alcf->metadata)
        || ngx_strlchr(p, last, '"'))
    {
        ngx_str_null(&alcf->metadata);
    }

    return NGX_OK;
}


/* mcp_auth_jwt off | REALM [token=$variable] */

static char *
ngx_http_mcp_auth_jwt_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_auth_loc_conf_t *alcf = conf;

    ngx_str_t                         *value, v;
    ngx_http_compile_complex_value_t   ccv;

    if (alcf->jwt != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        alcf->jwt = 0;
        alcf->token = NULL;
        return NGX_CONF_OK;
    }

    if (value[1].len == 0
        || ngx_strlchr(value[1].data, value[1].data + value[1].len, '"')
        || ngx_strlchr(value[1].data, value[1].data + value[1].len, '\\')
        || !ngx_http_mcp_auth_printable(&value[1]))
    {
        return "has an invalid realm: no quotes, backslashes or control "
               "characters";
    }

    alcf->jwt = 1;
    alcf->realm = value[1];
    alcf->token = NULL;

    if (cf->args->nelts == 2) {
        return NGX_CONF_OK;
    }

    if (ngx_strncmp(value[2].data, "token=", 6) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    v.data = value[2].data + 6;
    v.len = value[2].len - 6;

    alcf->token = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (alcf->token == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &v;
    ccv.complex_value = alcf->token;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* mcp_auth_jwt_key_file FILE: may repeat; JWKS or PEM */

static char *
ngx_http_mcp_auth_key_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_auth_loc_conf_t *alcf = conf;

    ngx_str_t            *value, text, err;
    ngx_http_mcp_jwks_t   set;

    value = cf->args->elts;

    if (ngx_http_mcp_auth_read_file(cf, &value[1], 1024 * 1024, &text)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_mcp_jwks_parse(cf->pool, text.data, text.len, &set, &err)
        != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid key file \"%V\": %V", &value[1], &err);
        return NGX_CONF_ERROR;
    }

    if (alcf->keys == NGX_CONF_UNSET_PTR) {
        alcf->keys = ngx_palloc(cf->pool, sizeof(ngx_http_mcp_jwks_t));
        if (alcf->keys == NULL) {
            return NGX_CONF_ERROR;
        }

        *alcf->keys = set;
        return NGX_CONF_OK;
    }

    if (ngx_http_mcp_jwks_merge(alcf->keys, &set) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_auth_key_request(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_auth_loc_conf_t *alcf = conf;

    ngx_str_t  *value;

    if (alcf->key_request_uri.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0 || value[1].data[0] != '/') {
        return "needs a location URI starting with \"/\"";
    }

    alcf->key_request_uri = value[1];

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_auth_audience(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_auth_loc_conf_t *alcf = conf;

    ngx_str_t   *value, *s;
    ngx_uint_t   i;

    if (alcf->audiences != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    alcf->audiences = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                       sizeof(ngx_str_t));
    if (alcf->audiences == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        s = ngx_array_push(alcf->audiences);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        *s = value[i];
    }

    return NGX_CONF_OK;
}


/* mcp_auth_jwt_require $value... [error=401|403] */

static char *
ngx_http_mcp_auth_require(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_auth_loc_conf_t *alcf = conf;

    ngx_str_t                         *value;
    ngx_uint_t                         i;
    ngx_http_complex_value_t          *cv;
    ngx_http_compile_complex_value_t   ccv;

    if (alcf->require == NGX_CONF_UNSET_PTR) {
        alcf->require = ngx_array_create(cf->pool, 2,
                                         sizeof(ngx_http_complex_value_t));
        if (alcf->require == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "error=", 6) == 0) {

            if (ngx_strcmp(value[i].data + 6, "401") == 0) {
                alcf->require_error = NGX_HTTP_UNAUTHORIZED;

            } else if (ngx_strcmp(value[i].data + 6, "403") == 0) {
                alcf->require_error = NGX_HTTP_FORBIDDEN;

            } else {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": error=401 or error=403 "
                                   "is expected", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        cv = ngx_array_push(alcf->require);
        if (cv == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &value[i];
        ccv.complex_value = cv;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_auth_algorithms(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_auth_loc_conf_t *alcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i, alg;

    if (alcf->algorithms != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    alcf->algorithms = 0;
    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        alg = ngx_http_mcp_jwt_alg(value[i].data, value[i].len);

        if (alg == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown algorithm \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        alcf->algorithms |= alg;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_auth_api_keys(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_auth_loc_conf_t *alcf = conf;

    ngx_str_t  *value;

    if (alcf->api_keys != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        alcf->api_keys = NULL;
        return NGX_CONF_OK;
    }

    return ngx_http_mcp_api_keys_load(cf, &value[1], &alcf->api_keys);
}


ngx_int_t
ngx_http_mcp_auth_read_file(ngx_conf_t *cf, ngx_str_t *name, size_t max,
    ngx_str_t *text)
{
    u_char           *buf;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_str_t         full;
    ngx_file_info_t   fi;

    full = *name;

    if (ngx_conf_full_name(cf->cycle, &full, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    fd = ngx_open_file(full.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", &full);
        return NGX_ERROR;
    }

    buf = NULL;
    n = -1;

    if (ngx_fd_info(fd, &fi) != NGX_FILE_ERROR
        && (size_t) ngx_file_size(&fi) <= max)
    {
        buf = ngx_pnalloc(cf->temp_pool, ngx_file_size(&fi) + 1);

        if (buf) {
            n = ngx_read_fd(fd, buf, ngx_file_size(&fi));
        }
    }

    ngx_close_file(fd);

    if (n < 0 || n != ngx_file_size(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "cannot read \"%V\" (at most %uz bytes)", &full,
                           max);
        return NGX_ERROR;
    }

    text->data = buf;
    text->len = n;

    return NGX_OK;
}
