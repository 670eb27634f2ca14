
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "upstream/ngx_http_mcp_pg_int.h"


/*
 * A mcp_postgres_server line's connection parameters: a URL, or an
 * address and libpq's keyword=value words, made into libpq's keyword and
 * value arrays.  Host names are resolved here, once, as nginx's own
 * `server` does: each address becomes a server that libpq reaches by
 * `hostaddr`, so that no connection ever waits for a name lookup in a
 * worker.
 */


#define NGX_HTTP_MCP_PG_CONNECT_TIMEOUT  5000


static char *ngx_http_mcp_pg_parse(ngx_conf_t *cf, ngx_str_t *value,
    ngx_uint_t n, PQconninfoOption **opts);
static ngx_int_t ngx_http_mcp_pg_keyword(const char *key);
static char *ngx_http_mcp_pg_cstr(ngx_pool_t *pool, ngx_str_t *s);
static char *ngx_http_mcp_pg_add(ngx_conf_t *cf, ngx_http_mcp_pg_upstream_t *u,
    PQconninfoOption *opts, ngx_http_mcp_peer_t *peer);


char *
ngx_http_mcp_pg_server(ngx_conf_t *cf, ngx_http_mcp_pg_upstream_t *u,
    ngx_str_t *value, ngx_uint_t n, ngx_http_mcp_peer_t *peer)
{
    char              *rv;
    PQconninfoOption  *opts;

    rv = ngx_http_mcp_pg_parse(cf, value, n, &opts);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    rv = ngx_http_mcp_pg_add(cf, u, opts, peer);

    PQconninfoFree(opts);

    return rv;
}


/*
 * The line's connection parameters as libpq's options: a URL as
 * DATABASE_URL is written, or an address and libpq's keyword=value words.
 * Error messages name keywords, never values: a value may be a password.
 */

static char *
ngx_http_mcp_pg_parse(ngx_conf_t *cf, ngx_str_t *value, ngx_uint_t n,
    PQconninfoOption **opts)
{
    u_char      *p, *eq, *colon, *start, *last;
    size_t       len;
    char        *err;
    ngx_str_t    key;
    ngx_uint_t   i, first;

    if (ngx_strncmp(value[0].data, "postgresql://", 13) == 0
        || ngx_strncmp(value[0].data, "postgres://", 11) == 0)
    {
        if (n != 1) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "a PostgreSQL URL takes no other connection "
                               "parameters: add them to the URL as "
                               "?name=value");
            return NGX_CONF_ERROR;
        }

        err = NULL;
        *opts = PQconninfoParse((char *) value[0].data, &err);

        if (*opts == NULL) {
            if (err) {
                PQfreemem(err);
            }

            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid PostgreSQL URL in "
                               "\"mcp_postgres_server\"");
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    /* a conninfo string: host='..' port='..' key='..' ... */

    len = 0;

    for (i = 0; i < n; i++) {
        len += sizeof("hostaddr=''") + 2 * value[i].len;
    }

    start = ngx_pnalloc(cf->temp_pool, len + 1);
    if (start == NULL) {
        return NGX_CONF_ERROR;
    }

    last = start;
    first = 0;

    if (ngx_strlchr(value[0].data, value[0].data + value[0].len, '=') == NULL)
    {
        /* an address: host[:port], [v6]:port, or unix:/socket/dir */

        first = 1;
        key = value[0];

        if (ngx_strncmp(key.data, "unix:", 5) == 0) {
            last = ngx_sprintf(last, "host='%*s' ",
                               key.len - 5, key.data + 5);

        } else {
            colon = NULL;

            if (key.data[0] == '[') {
                eq = ngx_strlchr(key.data, key.data + key.len, ']');
                if (eq == NULL) {
                    goto bad_address;
                }

                if (eq + 1 < key.data + key.len) {
                    if (eq[1] != ':') {
                        goto bad_address;
                    }
                    colon = eq + 1;
                }

                last = ngx_sprintf(last, "host='%*s' ",
                                   eq - key.data - 1, key.data + 1);

            } else {
                colon = ngx_strlchr(key.data, key.data + key.len, ':');

                last = ngx_sprintf(last, "host='%*s' ",
                                   (colon ? colon : key.data + key.len)
                                   - key.data, key.data);
            }

            if (colon) {
                if (ngx_atoi(colon + 1, key.data + key.len - colon - 1)
                    == NGX_ERROR)
                {
                    goto bad_address;
                }

                last = ngx_sprintf(last, "port='%*s' ",
                                   key.data + key.len - colon - 1, colon + 1);
            }
        }

        if (ngx_strlchr(key.data, key.data + key.len, '\'')
            || ngx_strlchr(key.data, key.data + key.len, '\\')
            || ngx_strlchr(key.data, key.data + key.len, ',')
            || key.len < 2)
        {
            goto bad_address;
        }
    }

    for (i = first; i < n; i++) {
        eq = ngx_strlchr(value[i].data, value[i].data + value[i].len, '=');

        if (eq == NULL || eq == value[i].data) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid connection parameter in "
                               "\"mcp_postgres_server\": keyword=value is "
                               "expected");
            return NGX_CONF_ERROR;
        }

        *eq = '\0';

        if (ngx_http_mcp_pg_keyword((char *) value[i].data) != NGX_OK
            || (first && (ngx_strcmp(value[i].data, "host") == 0
                          || ngx_strcmp(value[i].data, "port") == 0)))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid connection parameter \"%s\" in "
                               "\"mcp_postgres_server\"", value[i].data);
            *eq = '=';
            return NGX_CONF_ERROR;
        }

        last = ngx_sprintf(last, "%s='", value[i].data);
        *eq = '=';

        /* the value, quoted as libpq reads it */

        for (p = eq + 1; p < value[i].data + value[i].len; p++) {
            if (*p == '\'' || *p == '\\') {
                *last++ = '\\';
            }

            *last++ = *p;
        }

        *last++ = '\'';
        *last++ = ' ';
    }

    *last = '\0';

    err = NULL;
    *opts = PQconninfoParse((char *) start, &err);

    if (*opts == NULL) {
        if (err) {
            PQfreemem(err);
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid connection parameters in "
                           "\"mcp_postgres_server\"");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

bad_address:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid address \"%V\" in \"mcp_postgres_server\"",
                       &value[0]);
    return NGX_CONF_ERROR;
}


/* a keyword libpq knows, and not one the module sets itself */

static ngx_int_t
ngx_http_mcp_pg_keyword(const char *key)
{
    ngx_int_t          rc;
    PQconninfoOption  *o, *defaults;

    if (ngx_strcmp(key, "hostaddr") == 0
        || ngx_strcmp(key, "client_encoding") == 0
        || ngx_strcmp(key, "replication") == 0)
    {
        return NGX_DECLINED;
    }

    defaults = PQconndefaults();
    if (defaults == NULL) {
        return NGX_ERROR;
    }

    rc = NGX_DECLINED;

    for (o = defaults; o->keyword; o++) {
        if (ngx_strcmp(o->keyword, key) == 0) {
            rc = NGX_OK;
            break;
        }
    }

    PQconninfoFree(defaults);

    return rc;
}


/*
 * A server per address of the host: libpq's keywords and values, with
 * `hostaddr` resolved here, `host` kept for TLS, and the settings the
 * backend's result mapping relies on (UTF-8, ISO dates, hex bytea).
 */

static char *
ngx_http_mcp_pg_add(ngx_conf_t *cf, ngx_http_mcp_pg_upstream_t *u,
    PQconninfoOption *opts, ngx_http_mcp_peer_t *peer)
{
    u_char                    *p;
    char                      *settings_all;
    size_t                     len;
    ngx_int_t                  n, t;
    ngx_url_t                  url;
    ngx_str_t                  host, port, options;
    ngx_uint_t                 i, k, nopts, unix_socket, gss, keepalives;
    PQconninfoOption          *o;
    ngx_http_mcp_pg_server_t  *s;

    static char  settings[] = "-c DateStyle=ISO,YMD -c IntervalStyle=postgres"
                              " -c bytea_output=hex -c extra_float_digits=1";

    ngx_str_null(&host);
    ngx_str_set(&port, "5432");
    ngx_str_null(&options);
    nopts = 0;
    gss = 0;
    keepalives = 0;

    for (o = opts; o->keyword; o++) {
        if (o->val == NULL || o->val[0] == '\0') {
            continue;
        }

        if (ngx_strcmp(o->keyword, "host") == 0) {
            host.data = (u_char *) o->val;
            host.len = ngx_strlen(o->val);

        } else if (ngx_strcmp(o->keyword, "port") == 0) {
            port.data = (u_char *) o->val;
            port.len = ngx_strlen(o->val);

        } else if (ngx_strcmp(o->keyword, "options") == 0) {
            options.data = (u_char *) o->val;
            options.len = ngx_strlen(o->val);

        } else if (ngx_strcmp(o->keyword, "hostaddr") == 0
                   || ngx_strcmp(o->keyword, "client_encoding") == 0
                   || ngx_strcmp(o->keyword, "replication") == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "the connection parameter \"%s\" of "
                               "\"mcp_postgres_server\" is set by the module",
                               o->keyword);
            return NGX_CONF_ERROR;

        } else {
            if (ngx_strcmp(o->keyword, "gssencmode") == 0) {
                gss = 1;
            }

            if (ngx_strncmp(o->keyword, "keepalives", 10) == 0) {
                keepalives = 1;
            }

            nopts++;
        }
    }

    if (host.len == 0
        || ngx_strlchr(host.data, host.data + host.len, ',')
        || ngx_strlchr(port.data, port.data + port.len, ','))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mcp_postgres_server\" needs one host: write "
                           "a line per server");
        return NGX_CONF_ERROR;
    }

    n = ngx_atoi(port.data, port.len);
    if (n < 1 || n > 65535) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid port in \"mcp_postgres_server\"");
        return NGX_CONF_ERROR;
    }

    unix_socket = (host.data[0] == '/');

    ngx_memzero(&url, sizeof(ngx_url_t));

    if (!unix_socket) {
        url.url = host;

        if (ngx_strlchr(host.data, host.data + host.len, ':')) {

            /* an IPv6 address: nginx's URL parser wants its brackets */

            url.url.len = host.len + 2;
            url.url.data = ngx_pnalloc(cf->pool, url.url.len);
            if (url.url.data == NULL) {
                return NGX_CONF_ERROR;
            }

            ngx_sprintf(url.url.data, "[%V]", &host);
        }

        url.default_port = (in_port_t) n;
        url.no_resolve = 0;

        if (ngx_parse_url(cf->pool, &url) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%s in \"mcp_postgres_server\" \"%V\"",
                               url.err ? url.err : "invalid host", &host);
            return NGX_CONF_ERROR;
        }

        if (url.naddrs == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "host not found in \"mcp_postgres_server\" "
                               "\"%V\"", &host);
            return NGX_CONF_ERROR;
        }

    } else {
        url.naddrs = 1;
    }

    /* the module's settings before the operator's own `options` */

    len = sizeof(settings) + options.len + 1;
    p = ngx_pnalloc(cf->pool, len);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_sprintf(p, "%s%s%V%Z", settings, options.len ? " " : "", &options);
    settings_all = (char *) p;

    for (i = 0; i < url.naddrs; i++) {
        s = ngx_array_push(&u->servers);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(s, sizeof(ngx_http_mcp_pg_server_t));

        s->peer = *peer;
        s->connect_timeout = NGX_HTTP_MCP_PG_CONNECT_TIMEOUT;

        /* nopts, host, hostaddr, port, options, client_encoding, gss,
           three keepalives, application_name, NULL */

        s->keywords = ngx_pcalloc(cf->pool, (nopts + 13) * sizeof(char *));
        s->values = ngx_pcalloc(cf->pool, (nopts + 13) * sizeof(char *));
        if (s->keywords == NULL || s->values == NULL) {
            return NGX_CONF_ERROR;
        }

        k = 0;

#define ngx_http_mcp_pg_kv(key, val)                                          \
        s->keywords[k] = key; s->values[k] = val; k++

        if (unix_socket) {
            s->name = host;
            ngx_http_mcp_pg_kv("host", ngx_http_mcp_pg_cstr(cf->pool, &host));

        } else {
            s->name = url.addrs[i].name;
            ngx_http_mcp_pg_kv("host", ngx_http_mcp_pg_cstr(cf->pool,
                                                            &url.host));

            p = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN + 1);
            if (p == NULL) {
                return NGX_CONF_ERROR;
            }

            len = ngx_sock_ntop(url.addrs[i].sockaddr, url.addrs[i].socklen,
                                p, NGX_SOCKADDR_STRLEN, 0);
            p[len] = '\0';

            ngx_http_mcp_pg_kv("hostaddr", (char *) p);
        }

        p = ngx_pnalloc(cf->pool, NGX_INT_T_LEN + 1);
        if (p == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_sprintf(p, "%i%Z", n);
        ngx_http_mcp_pg_kv("port", (char *) p);

        ngx_http_mcp_pg_kv("client_encoding", "UTF8");

        /* GSSAPI negotiation may block in Kerberos libraries */
        if (!gss) {
            ngx_http_mcp_pg_kv("gssencmode", "disable");
        }

        /* a peer gone without a word is noticed in about a minute, not two
           hours (the system's default) */
        if (!keepalives) {
            ngx_http_mcp_pg_kv("keepalives_idle", "30");
            ngx_http_mcp_pg_kv("keepalives_interval", "10");
            ngx_http_mcp_pg_kv("keepalives_count", "3");
        }

        for (o = opts; o->keyword; o++) {
            if (o->val == NULL || o->val[0] == '\0'
                || ngx_strcmp(o->keyword, "host") == 0
                || ngx_strcmp(o->keyword, "port") == 0
                || ngx_strcmp(o->keyword, "options") == 0)
            {
                continue;
            }

            if (ngx_strcmp(o->keyword, "connect_timeout") == 0) {
                t = ngx_atoi((u_char *) o->val, ngx_strlen(o->val));
                if (t > 0) {
                    s->connect_timeout = t * 1000;
                }
            }

            host.data = (u_char *) o->val;
            host.len = ngx_strlen(o->val);

            ngx_http_mcp_pg_kv(o->keyword,
                               ngx_http_mcp_pg_cstr(cf->pool, &host));
        }

        ngx_http_mcp_pg_kv("options", settings_all);
        ngx_http_mcp_pg_kv("fallback_application_name", "nginx-mcp");
#undef ngx_http_mcp_pg_kv
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_pg_cstr(ngx_pool_t *pool, ngx_str_t *s)
{
    u_char  *p;

    p = ngx_pnalloc(pool, s->len + 1);
    if (p == NULL) {
        return NULL;
    }

    *ngx_cpymem(p, s->data, s->len) = '\0';

    return (char *) p;
}
