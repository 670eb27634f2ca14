
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "backend/ngx_http_mcp_postgres.h"


/*
 * The PostgreSQL backend's configuration:
 *
 *   postgres UPSTREAM "SQL" VALUE... [max_rows=N] [max_size=SIZE]
 *            [timeout=TIME];
 *   postgres_set NAME VALUE;
 *
 * Each VALUE binds the placeholder of its rank: a bare word names an
 * argument (or template variable) the item declares, `$name` an nginx
 * variable.  Values are only ever parameters of the statement, which is
 * prepared once per connection; the SQL text is the configuration's.
 * What an upstream or a name means is checked once the whole
 * configuration is read (init), with the file and line of the entry.
 */


#define ngx_http_mcp_pg_word(c)                                              \
    (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z')                \
     || ((c) >= '0' && (c) <= '9') || (c) == '_' || (c) >= 0x80)


static char *ngx_http_mcp_postgres_conf(ngx_conf_t *cf,
    ngx_http_mcp_entry_t *e, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_mcp_postgres_option(ngx_conf_t *cf,
    ngx_http_mcp_entry_t *e, ngx_str_t *value, ngx_uint_t n);
static ngx_int_t ngx_http_mcp_postgres_init(ngx_conf_t *cf,
    ngx_http_mcp_entry_t *e);
static ngx_int_t ngx_http_mcp_postgres_placeholders(ngx_str_t *sql);


ngx_http_mcp_backend_t  ngx_http_mcp_postgres_backend = {
    ngx_string("postgres"),
    2, 1 + 2 + 65535,
    ngx_http_mcp_postgres_conf,
    ngx_http_mcp_postgres_init,
    ngx_http_mcp_postgres_start,
    ngx_http_mcp_postgres_abort,
    0,
    ngx_string("postgres_set"), 2,
    ngx_http_mcp_postgres_option
};


static char *
ngx_http_mcp_postgres_conf(ngx_conf_t *cf, ngx_http_mcp_entry_t *e,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_int_t                 m;
    ngx_uint_t                i;
    ngx_http_mcp_pg_bind_t   *b;
    ngx_http_mcp_postgres_t  *pg;

    pg = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_postgres_t));
    if (pg == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_array_init(&pg->binds, cf->pool, 4,
                       sizeof(ngx_http_mcp_pg_bind_t))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    pg->upstream_name = value[1];
    pg->max_rows = NGX_CONF_UNSET_UINT;

    if (value[2].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "empty SQL in \"postgres\"");
        return NGX_CONF_ERROR;
    }

    /* NUL-terminated for libpq: nginx's words are */
    pg->sql = value[2];

    for (i = 3; i <= n; i++) {

        if (ngx_strncmp(value[i].data, "max_rows=", 9) == 0) {
            m = ngx_atoi(value[i].data + 9, value[i].len - 9);
            if (m <= 0 || pg->max_rows != NGX_CONF_UNSET_UINT) {
                goto invalid;
            }

            pg->max_rows = m;
            continue;
        }

        switch (ngx_http_mcp_backend_limit(e, &value[i])) {

        case NGX_OK:
            continue;

        case NGX_ERROR:
            goto invalid;

        default:
            break;
        }

        if (ngx_strlchr(value[i].data, value[i].data + value[i].len, '=')) {
            goto invalid;
        }

        b = ngx_array_push(&pg->binds);
        if (b == NULL) {
            return NGX_CONF_ERROR;
        }

        b->index = -1;
        b->name = value[i];

        if (value[i].data[0] == '$') {
            b->name.data++;
            b->name.len--;

            if (b->name.len == 0) {
                goto invalid;
            }

            b->index = ngx_http_get_variable_index(cf, &b->name);
            if (b->index == NGX_ERROR) {
                return NGX_CONF_ERROR;
            }

        } else if (b->name.len == 0) {
            goto invalid;
        }
    }

    m = ngx_http_mcp_postgres_placeholders(&pg->sql);

    if (m == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid SQL in \"postgres\": an unterminated "
                           "quote, comment or placeholder out of range");
        return NGX_CONF_ERROR;
    }

    if ((ngx_uint_t) m != pg->binds.nelts) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the SQL of \"postgres\" has %i placeholder(s) "
                           "($1...) but %ui value(s) are bound", m,
                           pg->binds.nelts);
        return NGX_CONF_ERROR;
    }

    e->conf = pg;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" of \"postgres\"", &value[i]);
    return NGX_CONF_ERROR;
}


static char *
ngx_http_mcp_postgres_option(ngx_conf_t *cf, ngx_http_mcp_entry_t *e,
    ngx_str_t *value, ngx_uint_t n)
{
    return ngx_http_mcp_postgres_setting(cf, &e->options, value);
}


char *
ngx_http_mcp_postgres_setting(ngx_conf_t *cf, ngx_array_t **sets,
    ngx_str_t *value)
{
    u_char                            *p;
    ngx_http_mcp_pg_setting_t         *s;
    ngx_http_compile_complex_value_t   ccv;

    for (p = value[1].data; p < value[1].data + value[1].len; p++) {
        if (!(ngx_http_mcp_pg_word(*p) || *p == '.')) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid setting name \"%V\" of "
                               "\"postgres_set\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    if (value[1].len == 0) {
        return "has an empty setting name";
    }

    if (*sets == NULL) {
        *sets = ngx_array_create(cf->pool, 2,
                                 sizeof(ngx_http_mcp_pg_setting_t));
        if (*sets == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    s = ngx_array_push(*sets);
    if (s == NULL) {
        return NGX_CONF_ERROR;
    }

    s->name = value[1];

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[2];
    ccv.complex_value = &s->value;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_mcp_postgres_init(ngx_conf_t *cf, ngx_http_mcp_entry_t *e)
{
    ngx_str_t                *names;
    ngx_uint_t                i, k;
    ngx_http_mcp_pg_bind_t   *b;
    ngx_http_mcp_postgres_t  *pg;

    pg = e->conf;

    pg->upstream = ngx_http_mcp_pg_upstream(cf, &pg->upstream_name);

    if (pg->upstream == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "no upstream \"%V\" with \"mcp_postgres_server\" for "
                      "\"postgres\" of \"%V\" in %s:%ui",
                      &pg->upstream_name, &e->name, e->file, e->line);
        return NGX_ERROR;
    }

    b = pg->binds.elts;
    names = e->params->elts;

    for (i = 0; i < pg->binds.nelts; i++) {

        if (b[i].index != -1) {
            continue;
        }

        for (k = 0; k < e->params->nelts; k++) {
            if (names[k].len == b[i].name.len
                && ngx_strncmp(names[k].data, b[i].name.data, b[i].name.len)
                   == 0)
            {
                break;
            }
        }

        if (k == e->params->nelts) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"postgres\" of \"%V\" binds \"%V\", which is "
                          "not an argument it declares (use $%V for an "
                          "nginx variable) in %s:%ui", &e->name,
                          &b[i].name, &b[i].name, e->file, e->line);
            return NGX_ERROR;
        }
    }

    if (ngx_http_mcp_pg_use(cf, pg->upstream) != NGX_OK) {
        return NGX_ERROR;
    }

    pg->statement = ngx_http_mcp_pg_statement(pg->upstream);
    ngx_sprintf(pg->stmt_name, "ngx_mcp_%ui%Z", pg->statement);

    return NGX_OK;
}


/*
 * The highest $N of the SQL text outside quotes, quoted identifiers,
 * dollar quotes and comments; NGX_ERROR if one is left open or N is out
 * of range (PostgreSQL takes 65535 parameters).
 */

static ngx_int_t
ngx_http_mcp_postgres_placeholders(ngx_str_t *sql)
{
    u_char     *p, *last, *tag, *q;
    size_t      tlen;
    ngx_int_t   n, max;

    p = sql->data;
    last = p + sql->len;
    max = 0;

    while (p < last) {

        switch (*p) {

        case '\'':
        case '"':
            q = p + 1;

            for ( ;; ) {
                q = ngx_strlchr(q, last, *p);
                if (q == NULL) {
                    return NGX_ERROR;
                }

                if (q + 1 < last && q[1] == *p) {
                    q += 2;
                    continue;
                }

                break;
            }

            p = q + 1;
            break;

        case '-':
            if (p + 1 < last && p[1] == '-') {
                q = ngx_strlchr(p, last, '\n');
                p = q ? q + 1 : last;
                break;
            }

            p++;
            break;

        case '/':
            if (p + 1 < last && p[1] == '*') {
                q = ngx_strlcasestrn(p + 2, last, (u_char *) "*/", 2 - 1);
                if (q == NULL) {
                    return NGX_ERROR;
                }

                p = q + 2;
                break;
            }

            p++;
            break;

        case '$':
            q = p + 1;

            if (q < last && *q >= '0' && *q <= '9') {

                /* a placeholder, unless it follows an identifier */

                if (p > sql->data
                    && ngx_http_mcp_pg_word(p[-1]))
                {
                    p++;
                    break;
                }

                while (q < last && *q >= '0' && *q <= '9') {
                    q++;
                }

                n = ngx_atoi(p + 1, q - p - 1);
                if (n == NGX_ERROR || n == 0 || n > 65535) {
                    return NGX_ERROR;
                }

                max = ngx_max(max, n);
                p = q;
                break;
            }

            /* a dollar quote: $tag$ ... $tag$ */

            tag = p;

            while (q < last && ngx_http_mcp_pg_word(*q)) {
                q++;
            }

            if (q < last && *q == '$'
                && (p == sql->data || !ngx_http_mcp_pg_word(p[-1])))
            {
                tlen = q - tag + 1;
                q = ngx_strlcasestrn(q + 1, last, tag, tlen - 1);
                if (q == NULL) {
                    return NGX_ERROR;
                }

                p = q + tlen;
                break;
            }

            p++;
            break;

        default:
            p++;
        }
    }

    return max;
}
