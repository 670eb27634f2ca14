
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "health/ngx_http_mcp_health.h"
#include "json/ngx_http_mcp_json.h"
#include "state/ngx_http_mcp_store.h"
#include "upstream/ngx_http_mcp_pg.h"
#include "upstream/ngx_http_mcp_redis.h"
#include "auth/ngx_http_mcp_auth.h"


static ngx_int_t ngx_http_mcp_health_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_mcp_health_ready(ngx_http_request_t *r,
    ngx_http_mcp_jw_t *jw);
static void ngx_http_mcp_health_check(ngx_http_mcp_jw_t *jw,
    ngx_uint_t *n, ngx_str_t *name, ngx_uint_t ok, ngx_str_t *detail);
static ngx_int_t ngx_http_mcp_health_upstream(ngx_http_request_t *r,
    ngx_http_mcp_jw_t *jw, ngx_uint_t *n, char *kind, ngx_str_t *upstream,
    ngx_int_t rc, ngx_str_t *detail, ngx_uint_t *all);


/* this worker has once been ready */
static ngx_uint_t  ngx_http_mcp_health_started;


static ngx_conf_enum_t  ngx_http_mcp_health_kinds[] = {
    { ngx_string("live"), NGX_HTTP_MCP_HEALTH_LIVE },
    { ngx_string("ready"), NGX_HTTP_MCP_HEALTH_READY },
    { ngx_string("startup"), NGX_HTTP_MCP_HEALTH_STARTUP },
    { ngx_null_string, 0 }
};


char *
ngx_http_mcp_health(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_loc_conf_t *mlcf = conf;

    ngx_str_t                 *value;
    ngx_conf_enum_t           *e;
    ngx_http_core_loc_conf_t  *clcf;

    if (mlcf->health != NGX_HTTP_MCP_HEALTH_OFF) {
        return "is duplicate";
    }

    if (mlcf->pass_name.data) {
        return "cannot be used together with \"mcp_pass\"";
    }

    value = cf->args->elts;

    for (e = ngx_http_mcp_health_kinds; e->name.len; e++) {
        if (e->name.len == value[1].len
            && ngx_strncmp(e->name.data, value[1].data, value[1].len) == 0)
        {
            mlcf->health = e->value;
            break;
        }
    }

    if (mlcf->health == NGX_HTTP_MCP_HEALTH_OFF) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\", expected \"live\", "
                           "\"ready\" or \"startup\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_mcp_health_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_mcp_health_handler(ngx_http_request_t *r)
{
    ngx_int_t                 rc;
    ngx_str_t                 body, checks;
    ngx_buf_t                *b;
    ngx_uint_t                ok;
    ngx_chain_t               out;
    ngx_table_elt_t          *h;
    ngx_http_mcp_jw_t         jw;
    ngx_http_mcp_loc_conf_t  *mlcf;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mcp health handler");

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    /* a worker on its way out is alive but should get no new work */

    ok = !(ngx_exiting || ngx_terminate || ngx_quit);

    ngx_str_null(&checks);

    if (mlcf->health != NGX_HTTP_MCP_HEALTH_LIVE) {

        if (ngx_http_mcp_jw_init(&jw, r->pool, 512) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        rc = ngx_http_mcp_health_ready(r, &jw);

        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /*
         * startup: passes once this worker has been ready, and stays so
         * (a Kubernetes startup probe stops at its first success; from
         * then on readiness speaks for the dependencies)
         */

        if (rc == NGX_OK) {
            ngx_http_mcp_health_started = 1;
        }

        if (mlcf->health == NGX_HTTP_MCP_HEALTH_STARTUP) {
            rc = ngx_http_mcp_health_started ? NGX_OK : rc;
        }

        ok = (rc == NGX_OK) && ok;

        if (ngx_http_mcp_jw_finish(&jw, &checks) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ngx_http_mcp_jw_init(&jw, r->pool, checks.len + 64) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ok) {
        ngx_http_mcp_jw_literal(&jw, "{\"status\":\"ok\"");

    } else {
        ngx_http_mcp_jw_literal(&jw, "{\"status\":\"fail\"");
    }

    if (checks.data) {
        ngx_http_mcp_jw_literal(&jw, ",\"checks\":[");
        ngx_http_mcp_jw_raw(&jw, checks.data, checks.len);
        ngx_http_mcp_jw_literal(&jw, "]");
    }

    ngx_http_mcp_jw_literal(&jw, "}\n");

    if (ngx_http_mcp_jw_finish(&jw, &body) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the stub_status way: one buffer, the header, the body */

    h = ngx_list_push(&r->headers_out.headers);
    b = ngx_calloc_buf(r->pool);

    if (h == NULL || b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Cache-Control");
    ngx_str_set(&h->value, "no-store");

    r->headers_out.status = ok ? NGX_HTTP_OK : NGX_HTTP_SERVICE_UNAVAILABLE;
    r->headers_out.content_length_n = body.len;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b->pos = body.data;
    b->last = body.data + body.len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/*
 * The checks behind readiness: catalogs are loaded, every store that an
 * MCP location uses can serve (each store says so itself: a shared memory
 * zone is attached and its lock free, a remote one connected), and the
 * worker is not shutting down.  NGX_ERROR: out of memory.
 */

static ngx_int_t
ngx_http_mcp_health_ready(ngx_http_request_t *r, ngx_http_mcp_jw_t *jw)
{
    u_char                      buf[64];
    ngx_int_t                   rc;
    ngx_str_t                   name, detail;
    ngx_uint_t                  i, n, ok, all;
    ngx_array_t                *used;
    ngx_http_mcp_store_ref_t  **ref;
    ngx_http_mcp_main_conf_t   *mmcf;
    ngx_http_mcp_pg_upstream_t **pgu;
    ngx_http_mcp_redis_upstream_t **rdu;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mcp_module);

    n = 0;
    all = 1;

    ngx_str_set(&name, "catalogs");
    detail.data = buf;
    detail.len = ngx_sprintf(buf, "%ui mcp_server block(s) loaded",
                             mmcf->servers.nelts) - buf;

    ok = (mmcf->servers.nelts > 0);
    all = all && ok;
    ngx_http_mcp_health_check(jw, &n, &name, ok, &detail);

    /* every store a location uses, by its own check */

    ref = mmcf->stores.elts;

    for (i = 0; i < mmcf->stores.nelts; i++) {

        if (ref[i]->store->check == NULL) {
            continue;
        }

        rc = ref[i]->store->check(ref[i], r->pool, &name, &detail);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        ok = (rc == NGX_OK);
        all = all && ok;
        ngx_http_mcp_health_check(jw, &n, &name, ok, &detail);
    }

    /* every PostgreSQL and Redis upstream an mcp_server uses, here */

    used = ngx_http_mcp_pg_used((ngx_cycle_t *) ngx_cycle);
    pgu = used ? used->elts : NULL;

    for (i = 0; used && i < used->nelts; i++) {
        rc = ngx_http_mcp_pg_check(pgu[i], r->pool, &detail);

        if (ngx_http_mcp_health_upstream(r, jw, &n, "postgres",
                                     ngx_http_mcp_pg_upstream_name(pgu[i]),
                                     rc, &detail, &all)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    used = ngx_http_mcp_redis_used((ngx_cycle_t *) ngx_cycle);
    rdu = used ? used->elts : NULL;

    for (i = 0; used && i < used->nelts; i++) {
        rc = ngx_http_mcp_redis_check(rdu[i], r->pool, &detail);

        if (ngx_http_mcp_health_upstream(r, jw, &n, "redis",
                                    ngx_http_mcp_redis_upstream_name(rdu[i]),
                                    rc, &detail, &all)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    /* every key set fetched by a subrequest (mcp_auth_jwt_key_request) */

    for (i = 0; /* void */ ; i++) {
        rc = ngx_http_mcp_auth_check(i, r->pool, &name, &detail);

        if (rc == NGX_DONE) {
            break;
        }

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        ok = (rc == NGX_OK);
        all = all && ok;
        ngx_http_mcp_health_check(jw, &n, &name, ok, &detail);
    }

    ngx_str_set(&name, "worker");

    ok = !(ngx_exiting || ngx_terminate || ngx_quit);

    if (ok) {
        ngx_str_set(&detail, "accepting work");

    } else {
        ngx_str_set(&detail, "shutting down");
    }

    ngx_http_mcp_health_check(jw, &n, &name, ok, &detail);

    return (all && ok) ? NGX_OK : NGX_DECLINED;
}


/* an upstream's check, named KIND:NAME */

static ngx_int_t
ngx_http_mcp_health_upstream(ngx_http_request_t *r, ngx_http_mcp_jw_t *jw,
    ngx_uint_t *n, char *kind, ngx_str_t *upstream, ngx_int_t rc,
    ngx_str_t *detail, ngx_uint_t *all)
{
    ngx_str_t  name;

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    name.data = ngx_pnalloc(r->pool, ngx_strlen(kind) + 1 + upstream->len);
    if (name.data == NULL) {
        return NGX_ERROR;
    }

    name.len = ngx_sprintf(name.data, "%s:%V", kind, upstream) - name.data;

    if (rc != NGX_OK) {
        *all = 0;
    }

    ngx_http_mcp_health_check(jw, n, &name, rc == NGX_OK, detail);

    return NGX_OK;
}


static void
ngx_http_mcp_health_check(ngx_http_mcp_jw_t *jw, ngx_uint_t *n,
    ngx_str_t *name, ngx_uint_t ok, ngx_str_t *detail)
{
    if ((*n)++) {
        ngx_http_mcp_jw_literal(jw, ",");
    }

    ngx_http_mcp_jw_literal(jw, "{\"name\":");
    ngx_http_mcp_jw_str(jw, name);

    if (ok) {
        ngx_http_mcp_jw_literal(jw, ",\"status\":\"ok\",\"detail\":");

    } else {
        ngx_http_mcp_jw_literal(jw, ",\"status\":\"fail\",\"detail\":");
    }

    ngx_http_mcp_jw_str(jw, detail);
    ngx_http_mcp_jw_literal(jw, "}");
}
