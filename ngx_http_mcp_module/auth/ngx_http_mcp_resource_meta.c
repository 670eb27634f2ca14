
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "auth/ngx_http_mcp_auth_int.h"
#include "catalog/ngx_http_mcp_registry.h"


/*
 * `mcp_protected_resource SERVER [authorization_servers=URL...]
 * ["scopes=a b"] [resource=URL];`: the OAuth 2.0 Protected Resource
 * Metadata document (RFC 9728) of an MCP endpoint, served by its own
 * location, usually `/.well-known/oauth-protected-resource/mcp` (the
 * path-inserted form clients ask first).  Built once the configuration
 * is read; only "resource", when not given, comes from the request: the
 * origin and the path after the well-known prefix.  Scopes default to
 * every scope the server's items name.
 */


#define NGX_HTTP_MCP_PRM_PREFIX  "/.well-known/oauth-protected-resource"


typedef struct {
    ngx_str_t                   server;       /* mcp_server NAME */
    ngx_array_t                 as;           /* ngx_str_t */
    ngx_str_t                   scopes;       /* "a b", or empty: the
                                                 server's */
    ngx_str_t                   resource;     /* empty: the request's */
    ngx_str_t                   rest;         /* the document after
                                                 "resource" */
    u_char                     *file;
    ngx_uint_t                  line;
} ngx_http_mcp_prm_t;


static ngx_int_t ngx_http_mcp_prm_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_mcp_prm_build(ngx_conf_t *cf,
    ngx_http_mcp_prm_t *prm);
static ngx_int_t ngx_http_mcp_prm_scopes(ngx_http_mcp_jw_t *jw,
    ngx_array_t *seen, ngx_http_mcp_entry_t *e);


char *
ngx_http_mcp_protected_resource(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_mcp_auth_loc_conf_t *alcf = conf;

    u_char                         *p, *last, *start;
    ngx_str_t                      *value, *s, v;
    ngx_uint_t                      i;
    ngx_http_mcp_prm_t             *prm, **pp;
    ngx_http_core_loc_conf_t       *clcf;
    ngx_http_mcp_auth_main_conf_t  *amcf;

    if (alcf->prm) {
        return "is duplicate";
    }

    prm = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_prm_t));
    if (prm == NULL
        || ngx_array_init(&prm->as, cf->pool, 2, sizeof(ngx_str_t))
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    prm->server = value[1];
    prm->file = cf->conf_file->file.name.data;
    prm->line = cf->conf_file->line;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "authorization_servers=", 22) == 0) {

            /* one or more URLs, separated by commas or spaces */

            p = value[i].data + 22;
            last = value[i].data + value[i].len;

            while (p < last) {
                while (p < last && (*p == ',' || *p == ' ')) {
                    p++;
                }

                start = p;

                while (p < last && *p != ',' && *p != ' ') {
                    p++;
                }

                if (p == start) {
                    break;
                }

                s = ngx_array_push(&prm->as);
                if (s == NULL) {
                    return NGX_CONF_ERROR;
                }

                s->data = start;
                s->len = p - start;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "scopes=", 7) == 0) {
            prm->scopes.data = value[i].data + 7;
            prm->scopes.len = value[i].len - 7;

            /* RFC 6749 scope tokens separated by spaces, as `scope` takes */

            for (p = prm->scopes.data;
                 p < prm->scopes.data + prm->scopes.len;
                 p++)
            {
                if (*p != ' ' && (*p <= 0x20 || *p >= 0x7f || *p == '"'
                                  || *p == '\\'))
                {
                    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                       "invalid scope in \"%V\": write "
                                       "\"scopes=A B\" with scope tokens",
                                       &value[i]);
                    return NGX_CONF_ERROR;
                }
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "resource=", 9) == 0) {
            prm->resource.data = value[i].data + 9;
            prm->resource.len = value[i].len - 9;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    /* RFC 9728 as MCP uses it: at least one authorization server */

    if (prm->as.nelts == 0) {
        return "needs authorization_servers=URL: MCP clients find the "
               "authorization server there";
    }

    v = prm->resource;

    if (v.len && (!ngx_http_mcp_auth_printable(&v)
                  || ngx_strlchr(v.data, v.data + v.len, '"')))
    {
        return "has an invalid resource=";
    }

    alcf->prm = prm;

    /* the server is looked up once every mcp_server block is read */

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_auth_module);

    pp = ngx_array_push(&amcf->prms);
    if (pp == NULL) {
        return NGX_CONF_ERROR;
    }

    *pp = prm;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_mcp_prm_handler;

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_mcp_protected_resource_init(ngx_conf_t *cf)
{
    ngx_uint_t                      i;
    ngx_http_mcp_prm_t            **prm;
    ngx_http_mcp_auth_main_conf_t  *amcf;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_auth_module);

    prm = amcf->prms.elts;

    for (i = 0; i < amcf->prms.nelts; i++) {
        if (ngx_http_mcp_prm_build(cf, prm[i]) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * The document but "resource": `,"authorization_servers":[..],
 * "scopes_supported":[..],"bearer_methods_supported":["header"],
 * "resource_name":".."}`
 */

static ngx_int_t
ngx_http_mcp_prm_build(ngx_conf_t *cf, ngx_http_mcp_prm_t *prm)
{
    ngx_str_t                *s;
    ngx_uint_t                i;
    ngx_array_t               seen;
    ngx_http_mcp_identity_t   given;
    ngx_http_mcp_jw_t         jw;
    ngx_http_mcp_tool_t      *tool;
    ngx_http_mcp_prompt_t    *prompt;
    ngx_http_mcp_server_t    *srv;
    ngx_http_mcp_resource_t  *res;
    ngx_http_mcp_main_conf_t *mmcf;

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_module);

    srv = ngx_http_mcp_registry_find(mmcf, &prm->server);

    if (srv == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "mcp_protected_resource: unknown mcp_server \"%V\" "
                      "in %s:%ui", &prm->server, prm->file, prm->line);
        return NGX_ERROR;
    }

    if (ngx_http_mcp_jw_init(&jw, cf->pool, 512) != NGX_OK
        || ngx_array_init(&seen, cf->temp_pool, 8, sizeof(ngx_str_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_mcp_jw_literal(&jw, ",\"authorization_servers\":[");

    s = prm->as.elts;

    for (i = 0; i < prm->as.nelts; i++) {
        if (i) {
            ngx_http_mcp_jw_literal(&jw, ",");
        }

        ngx_http_mcp_jw_str(&jw, &s[i]);
    }

    ngx_http_mcp_jw_literal(&jw, "],\"scopes_supported\":[");

    if (prm->scopes.len) {
        ngx_memzero(&given, sizeof(ngx_http_mcp_identity_t));

        if (ngx_http_mcp_auth_scopes(cf->pool, &prm->scopes, &given)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        s = given.scope_list ? given.scope_list->elts : NULL;

        for (i = 0; s && i < given.scope_list->nelts; i++) {
            if (i) {
                ngx_http_mcp_jw_literal(&jw, ",");
            }

            ngx_http_mcp_jw_str(&jw, &s[i]);
        }

    } else {

        /* every scope an item of the server needs, once, in order */

        tool = srv->tools.elts;

        for (i = 0; i < srv->tools.nelts; i++) {
            if (ngx_http_mcp_prm_scopes(&jw, &seen, &tool[i].entry)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        res = srv->resources.elts;

        for (i = 0; i < srv->resources.nelts; i++) {
            if (ngx_http_mcp_prm_scopes(&jw, &seen, &res[i].entry)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        res = srv->templates.elts;

        for (i = 0; i < srv->templates.nelts; i++) {
            if (ngx_http_mcp_prm_scopes(&jw, &seen, &res[i].entry)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        prompt = srv->prompts.elts;

        for (i = 0; i < srv->prompts.nelts; i++) {
            if (ngx_http_mcp_prm_scopes(&jw, &seen, &prompt[i].entry)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    ngx_http_mcp_jw_literal(&jw, "],\"bearer_methods_supported\":"
                                 "[\"header\"],\"resource_name\":");
    ngx_http_mcp_jw_str(&jw, srv->title.len ? &srv->title : &srv->name);
    ngx_http_mcp_jw_literal(&jw, "}\n");

    return ngx_http_mcp_jw_finish(&jw, &prm->rest);
}


static ngx_int_t
ngx_http_mcp_prm_scopes(ngx_http_mcp_jw_t *jw, ngx_array_t *seen,
    ngx_http_mcp_entry_t *e)
{
    ngx_str_t   *need, *s;
    ngx_uint_t   i, j;

    if (e->scopes == NULL) {
        return NGX_OK;
    }

    need = e->scopes->elts;

    for (i = 0; i < e->scopes->nelts; i++) {
        s = seen->elts;

        for (j = 0; j < seen->nelts; j++) {
            if (s[j].len == need[i].len
                && ngx_strncmp(s[j].data, need[i].data, s[j].len) == 0)
            {
                break;
            }
        }

        if (j < seen->nelts) {
            continue;
        }

        if (seen->nelts) {
            ngx_http_mcp_jw_literal(jw, ",");
        }

        s = ngx_array_push(seen);
        if (s == NULL) {
            return NGX_ERROR;
        }

        *s = need[i];
        ngx_http_mcp_jw_str(jw, s);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_prm_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_str_t                      resource, origin, path;
    ngx_buf_t                     *b;
    ngx_chain_t                    out;
    ngx_table_elt_t               *h;
    ngx_http_mcp_jw_t              jw;
    ngx_http_mcp_prm_t            *prm;
    ngx_http_mcp_auth_loc_conf_t  *alcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_auth_module);
    prm = alcf->prm;

    resource = prm->resource;

    if (resource.len == 0) {

        /* the origin, and the path the well-known prefix was put before */

        if (ngx_http_mcp_auth_origin(r, &origin) != NGX_OK) {
            return NGX_HTTP_BAD_REQUEST;
        }

        path = r->uri;

        if (path.len >= sizeof(NGX_HTTP_MCP_PRM_PREFIX) - 1
            && ngx_strncmp(path.data, NGX_HTTP_MCP_PRM_PREFIX,
                           sizeof(NGX_HTTP_MCP_PRM_PREFIX) - 1) == 0)
        {
            path.data += sizeof(NGX_HTTP_MCP_PRM_PREFIX) - 1;
            path.len -= sizeof(NGX_HTTP_MCP_PRM_PREFIX) - 1;
        }

        resource.len = origin.len + path.len;
        resource.data = ngx_pnalloc(r->pool, resource.len);
        if (resource.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_sprintf(resource.data, "%V%V", &origin, &path);
    }

    if (ngx_http_mcp_jw_init(&jw, r->pool, resource.len + prm->rest.len + 32)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_mcp_jw_literal(&jw, "{\"resource\":");
    ngx_http_mcp_jw_str(&jw, &resource);
    ngx_http_mcp_jw_raw(&jw, prm->rest.data, prm->rest.len);

    b = ngx_calloc_buf(r->pool);
    h = ngx_list_push(&r->headers_out.headers);

    if (b == NULL || h == NULL
        || ngx_http_mcp_jw_finish(&jw, &path) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* public, and read by clients in browsers */

    h->hash = 1;
    ngx_str_set(&h->key, "Access-Control-Allow-Origin");
    ngx_str_set(&h->value, "*");

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = path.len;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b->pos = path.data;
    b->last = path.data + path.len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/*
 * scheme://host[:port] of the request: the Host header as nginx checked
 * it, or the server name; NGX_DECLINED when it could not stand in a URL
 */

ngx_int_t
ngx_http_mcp_auth_origin(ngx_http_request_t *r, ngx_str_t *out)
{
    u_char                    *p;
    ngx_str_t                  host, scheme;
    ngx_http_core_srv_conf_t  *cscf;

    if (r->headers_in.host) {
        host = r->headers_in.host->value;

    } else {
        cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);
        host = cscf->server_name;
    }

    if (host.len == 0 || !ngx_http_mcp_auth_printable(&host)) {
        return NGX_DECLINED;
    }

    for (p = host.data; p < host.data + host.len; p++) {
        if (*p == '"' || *p == '/' || *p == '\\' || *p == ' ' || *p == '@') {
            return NGX_DECLINED;
        }
    }

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        ngx_str_set(&scheme, "https://");

    } else
#endif
    {
        ngx_str_set(&scheme, "http://");
    }

    out->len = scheme.len + host.len;
    out->data = ngx_pnalloc(r->pool, out->len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(out->data, "%V%V", &scheme, &host);

    return NGX_OK;
}
