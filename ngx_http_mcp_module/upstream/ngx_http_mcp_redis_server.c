
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "upstream/ngx_http_mcp_redis_int.h"


/*
 * A mcp_redis_server line: an address with password=, user=, db= and
 * connect_timeout= words, or a URL as REDIS_URL is written,
 * redis://[[user]:password@]host[:port][/db].  Host names are resolved
 * here, once, as nginx's own `server` does: each address becomes a server
 * that hiredis reaches by its numeric address, so that no connection ever
 * waits for a name lookup in a worker.  Messages name parameters, never
 * their values: a value may be a password.
 */


typedef struct {
    ngx_str_t                    address;
    ngx_str_t                    user;
    ngx_str_t                    password;
    ngx_int_t                    db;
    ngx_msec_t                   connect_timeout;
} ngx_http_mcp_redis_params_t;


static char *ngx_http_mcp_redis_url(ngx_conf_t *cf, ngx_str_t *url,
    ngx_http_mcp_redis_params_t *rp);
static ngx_int_t ngx_http_mcp_redis_unescape(ngx_pool_t *pool, u_char *p,
    u_char *last, ngx_str_t *out);


char *
ngx_http_mcp_redis_server(ngx_conf_t *cf, ngx_http_mcp_redis_upstream_t *u,
    ngx_str_t *value, ngx_uint_t n, ngx_http_mcp_peer_t *peer)
{
    char                         *rv;
    u_char                        buf[NGX_SOCKADDR_STRLEN];
    size_t                        len;
    ngx_str_t                     s;
    ngx_url_t                     url;
    ngx_uint_t                    i;
    ngx_http_mcp_redis_server_t  *srv;
    ngx_http_mcp_redis_params_t   rp;

    ngx_memzero(&rp, sizeof(ngx_http_mcp_redis_params_t));
    rp.connect_timeout = NGX_HTTP_MCP_REDIS_CONNECT_TIMEOUT;

    if (value[0].len == 0) {
        return "has an empty address";
    }

    if (ngx_strncmp(value[0].data, "redis://", 8) == 0) {
        rv = ngx_http_mcp_redis_url(cf, &value[0], &rp);
        if (rv != NGX_CONF_OK) {
            return rv;
        }

    } else if (ngx_strncmp(value[0].data, "rediss://", 9) == 0) {
        return "cannot use TLS (rediss://): reach Redis over a private "
               "network or a local TLS tunnel";

    } else {
        rp.address = value[0];
    }

    for (i = 1; i < n; i++) {
        s = value[i];

        if (ngx_strncmp(s.data, "password=", 9) == 0) {
            rp.password.data = s.data + 9;
            rp.password.len = s.len - 9;

        } else if (ngx_strncmp(s.data, "user=", 5) == 0) {
            rp.user.data = s.data + 5;
            rp.user.len = s.len - 5;

        } else if (ngx_strncmp(s.data, "db=", 3) == 0) {
            rp.db = ngx_atoi(s.data + 3, s.len - 3);
            if (rp.db == NGX_ERROR) {
                return "has an invalid \"db=\"";
            }

        } else if (ngx_strncmp(s.data, "connect_timeout=", 16) == 0) {
            s.data += 16;
            s.len -= 16;
            rp.connect_timeout = ngx_parse_time(&s, 0);
            if (rp.connect_timeout == (ngx_msec_t) NGX_ERROR
                || rp.connect_timeout == 0)
            {
                return "has an invalid \"connect_timeout=\"";
            }

        } else {
            /* the word itself may be a password written without its key */
            return "has an unknown parameter (password=, user=, db=, "
                   "connect_timeout=, max_fails=, fail_timeout=)";
        }
    }

    if (rp.user.len && rp.password.len == 0) {
        return "has \"user=\" without \"password=\"";
    }

    ngx_memzero(&url, sizeof(ngx_url_t));
    url.url = rp.address;
    url.default_port = 6379;

    if (ngx_parse_url(cf->pool, &url) != NGX_OK) {
        if (url.err) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%s in \"mcp_redis_server\" of upstream "
                               "\"%V\"", url.err, &u->name);
        }

        return NGX_CONF_ERROR;
    }

    for (i = 0; i < url.naddrs; i++) {
        srv = ngx_array_push(&u->servers);
        if (srv == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(srv, sizeof(ngx_http_mcp_redis_server_t));

        srv->peer = *peer;
        srv->name = url.addrs[i].name;
        srv->user = rp.user;
        srv->password = rp.password;
        srv->db = rp.db;
        srv->connect_timeout = rp.connect_timeout;

#if (NGX_HAVE_UNIX_DOMAIN)
        if (url.addrs[i].sockaddr->sa_family == AF_UNIX) {
            len = ngx_strlen(((struct sockaddr_un *)
                              url.addrs[i].sockaddr)->sun_path);
            srv->ip = ngx_pnalloc(cf->pool, len + 1);
            if (srv->ip == NULL) {
                return NGX_CONF_ERROR;
            }

            ngx_cpystrn((u_char *) srv->ip,
                        (u_char *) ((struct sockaddr_un *)
                                    url.addrs[i].sockaddr)->sun_path,
                        len + 1);
            continue;
        }
#endif

        len = ngx_sock_ntop(url.addrs[i].sockaddr, url.addrs[i].socklen,
                            buf, NGX_SOCKADDR_STRLEN, 0);

        srv->ip = ngx_pnalloc(cf->pool, len + 1);
        if (srv->ip == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_cpystrn((u_char *) srv->ip, buf, len + 1);
        srv->port = ngx_inet_get_port(url.addrs[i].sockaddr);
    }

    return NGX_CONF_OK;
}


/* redis://[[user]:password@]host[:port][/db] */

static char *
ngx_http_mcp_redis_url(ngx_conf_t *cf, ngx_str_t *url,
    ngx_http_mcp_redis_params_t *rp)
{
    u_char  *p, *last, *at, *colon, *slash;

    p = url->data + 8;
    last = url->data + url->len;

    at = NULL;

    for (colon = p; colon < last && *colon != '/'; colon++) {
        if (*colon == '@') {
            at = colon;
        }
    }

    if (at) {
        colon = ngx_strlchr(p, at, ':');

        if (colon == NULL) {
            /* redis://password@host, as some services write it */
            colon = p - 1;

        } else if (colon > p
                   && ngx_http_mcp_redis_unescape(cf->pool, p, colon,
                                                  &rp->user)
                      != NGX_OK)
        {
            return "has an invalid URL";
        }

        if (ngx_http_mcp_redis_unescape(cf->pool, colon + 1, at,
                                        &rp->password)
            != NGX_OK)
        {
            return "has an invalid URL";
        }

        p = at + 1;
    }

    slash = ngx_strlchr(p, last, '/');

    if (slash) {
        if (slash + 1 < last) {
            rp->db = ngx_atoi(slash + 1, last - slash - 1);
            if (rp->db == NGX_ERROR) {
                return "has an invalid database number in its URL";
            }
        }

        last = slash;
    }

    if (p == last) {
        return "has no host in its URL";
    }

    rp->address.data = p;
    rp->address.len = last - p;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_mcp_redis_unescape(ngx_pool_t *pool, u_char *p, u_char *last,
    ngx_str_t *out)
{
    u_char  *dst, *src;

    out->data = ngx_pnalloc(pool, last - p + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    dst = out->data;
    src = p;

    ngx_unescape_uri(&dst, &src, last - p, 0);

    if (src != last) {
        return NGX_ERROR;
    }

    out->len = dst - out->data;

    return NGX_OK;
}
