
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "upstream/ngx_http_mcp_peer.h"


ngx_int_t
ngx_http_mcp_peer_params(ngx_str_t *value, ngx_uint_t *last,
    ngx_http_mcp_peer_t *peer)
{
    ngx_int_t  n;
    ngx_str_t  s;

    peer->max_fails = 1;
    peer->fail_timeout = 10;

    /* nginx's own server parameters come last, after the address */

    while (*last > 2) {
        s = value[*last - 1];

        if (ngx_strncmp(s.data, "max_fails=", 10) == 0) {
            n = ngx_atoi(s.data + 10, s.len - 10);
            if (n == NGX_ERROR) {
                return NGX_ERROR;
            }

            peer->max_fails = n;

        } else if (ngx_strncmp(s.data, "fail_timeout=", 13) == 0) {
            s.data += 13;
            s.len -= 13;
            peer->fail_timeout = ngx_parse_time(&s, 1);
            if (peer->fail_timeout == (time_t) NGX_ERROR) {
                return NGX_ERROR;
            }

        } else {
            break;
        }

        (*last)--;
    }

    return NGX_OK;
}


void *
ngx_http_mcp_peer_pick(void *elts, size_t size, ngx_uint_t n,
    ngx_uint_t *next, ngx_uint_t probe)
{
    time_t                now;
    ngx_uint_t            i;
    ngx_http_mcp_peer_t  *p;

    now = ngx_time();

    for (i = 0; i < n; i++) {
        p = (ngx_http_mcp_peer_t *) ((u_char *) elts
                                     + ((*next + i) % n) * size);

        if (probe
            || n == 1
            || p->max_fails == 0
            || p->fails < p->max_fails
            || now - p->checked > p->fail_timeout)
        {
            *next = (*next + i + 1) % n;

            if (p->max_fails && p->fails >= p->max_fails) {
                p->checked = now;
            }

            return p;
        }
    }

    return NULL;
}


void
ngx_http_mcp_peer_failed(ngx_http_mcp_peer_t *peer)
{
    peer->fails++;
    peer->checked = ngx_time();
}


void *
ngx_http_mcp_upstream_conf(ngx_conf_t *cf, ngx_str_t *name,
    ngx_module_t *module)
{
    ngx_uint_t                      i;
    ngx_http_upstream_srv_conf_t  **uscfp;
    ngx_http_upstream_main_conf_t  *umcf;

    umcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_upstream_module);
    uscfp = umcf->upstreams.elts;

    for (i = 0; i < umcf->upstreams.nelts; i++) {

        if (uscfp[i]->srv_conf
            && uscfp[i]->host.len == name->len
            && ngx_strncasecmp(uscfp[i]->host.data, name->data, name->len)
               == 0)
        {
            return uscfp[i]->srv_conf[module->ctx_index];
        }
    }

    return NULL;
}
