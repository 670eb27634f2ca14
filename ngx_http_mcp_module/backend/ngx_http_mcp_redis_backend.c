
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "backend/ngx_http_mcp_redis_backend.h"


/*
 * The Redis backend's configuration:
 *
 *   redis UPSTREAM COMMAND ARG... [timeout=TIME] [max_size=SIZE];
 *
 * Each ARG is exactly one argument of the command, whatever its value:
 * literal text with `{name}` (an argument or template variable the item
 * declares) and `$var` or `${var}` (an nginx variable) in it.  Values are
 * put inside their one argument and never split into more; the command
 * goes as an array of arguments (RESP), so no value can add a word to
 * it.  The command is a literal word.  Commands that cannot answer one
 * call, or that would change the state of a pooled connection, are
 * refused; a blocking one needs its timeout written literally, so that
 * the connection it holds comes back.
 */


#define ngx_http_mcp_redis_name_char(c)                                      \
    (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z')                \
     || ((c) >= '0' && (c) <= '9') || (c) == '_' || (c) == '.' || (c) == '-')

#define ngx_http_mcp_redis_var_char(c)                                       \
    (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z')                \
     || ((c) >= '0' && (c) <= '9') || (c) == '_')

#define NGX_HTTP_MCP_REDIS_MAX_ARGS  1024
#define NGX_HTTP_MCP_REDIS_MAX_BLOCK (86400 * 1000)     /* ms */

/* where a blocking command has its timeout */
#define NGX_HTTP_MCP_REDIS_LAST      -1     /* the last argument */
#define NGX_HTTP_MCP_REDIS_OPTION    0      /* after BLOCK (XREAD) */


typedef struct {
    ngx_str_t                    name;
    const char                  *why;
} ngx_http_mcp_redis_refused_t;


typedef struct {
    ngx_str_t                    name;
    ngx_int_t                    position;  /* after the command, or above */
    ngx_uint_t                   ms;        /* in ms, else in seconds */
} ngx_http_mcp_redis_blocking_t;


static char *ngx_http_mcp_redis_conf(ngx_conf_t *cf, ngx_http_mcp_entry_t *e,
    ngx_str_t *value, ngx_uint_t n);
static ngx_int_t ngx_http_mcp_redis_init(ngx_conf_t *cf,
    ngx_http_mcp_entry_t *e);
static char *ngx_http_mcp_redis_template(ngx_conf_t *cf, ngx_str_t *value,
    ngx_http_mcp_redis_arg_t *arg);
static char *ngx_http_mcp_redis_command(ngx_conf_t *cf,
    ngx_http_mcp_redis_t *rd, ngx_str_t *word);
static ngx_int_t ngx_http_mcp_redis_block_option(ngx_conf_t *cf,
    ngx_http_mcp_redis_t *rd, ngx_str_t *command);
static ngx_str_t *ngx_http_mcp_redis_literal(ngx_http_mcp_redis_arg_t *arg);
static ngx_msec_t ngx_http_mcp_redis_time(ngx_str_t *s, ngx_uint_t ms);


ngx_http_mcp_backend_t  ngx_http_mcp_redis_backend = {
    ngx_string("redis"),
    2, 2 + NGX_HTTP_MCP_REDIS_MAX_ARGS + 2,
    ngx_http_mcp_redis_conf,
    ngx_http_mcp_redis_init,
    ngx_http_mcp_redis_start,
    ngx_http_mcp_redis_abort,
    0,
    ngx_null_string, 0, NULL
};


static const char  ngx_http_mcp_redis_no_reply[] =
    "it does not answer a call with one reply";

static const char  ngx_http_mcp_redis_state[] =
    "it would change the state of a pooled connection that other calls "
    "share";


static ngx_http_mcp_redis_refused_t  ngx_http_mcp_redis_refused[] = {
    { ngx_string("SUBSCRIBE"), ngx_http_mcp_redis_no_reply },
    { ngx_string("PSUBSCRIBE"), ngx_http_mcp_redis_no_reply },
    { ngx_string("SSUBSCRIBE"), ngx_http_mcp_redis_no_reply },
    { ngx_string("UNSUBSCRIBE"), ngx_http_mcp_redis_no_reply },
    { ngx_string("PUNSUBSCRIBE"), ngx_http_mcp_redis_no_reply },
    { ngx_string("SUNSUBSCRIBE"), ngx_http_mcp_redis_no_reply },
    { ngx_string("MONITOR"), ngx_http_mcp_redis_no_reply },
    { ngx_string("SYNC"), ngx_http_mcp_redis_no_reply },
    { ngx_string("PSYNC"), ngx_http_mcp_redis_no_reply },
    { ngx_string("REPLCONF"), ngx_http_mcp_redis_no_reply },
    { ngx_string("QUIT"), ngx_http_mcp_redis_state },
    { ngx_string("RESET"), ngx_http_mcp_redis_state },
    { ngx_string("HELLO"), ngx_http_mcp_redis_state },
    { ngx_string("AUTH"), ngx_http_mcp_redis_state },
    { ngx_string("SELECT"), ngx_http_mcp_redis_state },
    { ngx_string("CLIENT"), ngx_http_mcp_redis_state },
    { ngx_string("MULTI"), ngx_http_mcp_redis_state },
    { ngx_string("EXEC"), ngx_http_mcp_redis_state },
    { ngx_string("DISCARD"), ngx_http_mcp_redis_state },
    { ngx_string("WATCH"), ngx_http_mcp_redis_state },
    { ngx_string("UNWATCH"), ngx_http_mcp_redis_state },
    { ngx_null_string, NULL }
};


static ngx_http_mcp_redis_blocking_t  ngx_http_mcp_redis_blocking[] = {
    { ngx_string("BLPOP"), NGX_HTTP_MCP_REDIS_LAST, 0 },
    { ngx_string("BRPOP"), NGX_HTTP_MCP_REDIS_LAST, 0 },
    { ngx_string("BRPOPLPUSH"), NGX_HTTP_MCP_REDIS_LAST, 0 },
    { ngx_string("BLMOVE"), NGX_HTTP_MCP_REDIS_LAST, 0 },
    { ngx_string("BZPOPMIN"), NGX_HTTP_MCP_REDIS_LAST, 0 },
    { ngx_string("BZPOPMAX"), NGX_HTTP_MCP_REDIS_LAST, 0 },
    { ngx_string("BLMPOP"), 1, 0 },
    { ngx_string("BZMPOP"), 1, 0 },
    { ngx_string("WAIT"), 2, 1 },
    { ngx_string("WAITAOF"), 3, 1 },
    { ngx_string("XREAD"), NGX_HTTP_MCP_REDIS_OPTION, 1 },
    { ngx_string("XREADGROUP"), NGX_HTTP_MCP_REDIS_OPTION, 1 },
    { ngx_null_string, 0, 0 }
};


static char *
ngx_http_mcp_redis_conf(ngx_conf_t *cf, ngx_http_mcp_entry_t *e,
    ngx_str_t *value, ngx_uint_t n)
{
    char                  *rv;
    ngx_uint_t             i, last;
    ngx_http_mcp_redis_t  *rd;

    rd = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_redis_t));
    if (rd == NULL) {
        return NGX_CONF_ERROR;
    }

    rd->upstream_name = value[1];

    /* timeout= and max_size= are the line's last words */

    for (last = n; last > 2; last--) {

        if (ngx_strncmp(value[last].data, "timeout=", 8) != 0
            && ngx_strncmp(value[last].data, "max_size=", 9) != 0)
        {
            break;
        }

        if (ngx_http_mcp_backend_limit(e, &value[last]) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid or duplicate parameter \"%V\" of "
                               "\"redis\"", &value[last]);
            return NGX_CONF_ERROR;
        }
    }

    rd->nargs = last - 1;
    rd->args = ngx_pcalloc(cf->pool,
                           rd->nargs * sizeof(ngx_http_mcp_redis_arg_t));
    if (rd->args == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < rd->nargs; i++) {
        rv = ngx_http_mcp_redis_template(cf, &value[2 + i], &rd->args[i]);
        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    rv = ngx_http_mcp_redis_command(cf, rd, &value[2]);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    e->conf = rd;

    return NGX_CONF_OK;
}


/* an argument's pieces: literal text, {name}, $var, ${var} */

static char *
ngx_http_mcp_redis_template(ngx_conf_t *cf, ngx_str_t *value,
    ngx_http_mcp_redis_arg_t *arg)
{
    u_char                     *p, *last, *q, *start, *end;
    ngx_uint_t                  n;
    ngx_http_mcp_redis_part_t  *part;

    /* at most a piece per character, and one more */

    arg->parts = ngx_pcalloc(cf->pool, (value->len + 1)
                                       * sizeof(ngx_http_mcp_redis_part_t));
    if (arg->parts == NULL) {
        return NGX_CONF_ERROR;
    }

    p = value->data;
    last = p + value->len;
    n = 0;
    part = NULL;

    while (p < last) {

        start = NULL;
        end = NULL;

        if (*p == '{') {
            for (q = p + 1; q < last && ngx_http_mcp_redis_name_char(*q); q++)
            {
                /* void */
            }

            if (q > p + 1 && q < last && *q == '}') {
                start = p + 1;
                end = q;
                q++;
            }

        } else if (*p == '$' && p + 1 < last && p[1] == '{') {
            end = ngx_strlchr(p + 2, last, '}');
            start = p + 2;

            if (end == NULL || end == start) {
                goto invalid;
            }

            for (q = start; q < end; q++) {
                if (!ngx_http_mcp_redis_var_char(*q)) {
                    goto invalid;
                }
            }

            q = end + 1;

        } else if (*p == '$' && p + 1 < last
                   && ngx_http_mcp_redis_var_char(p[1])
                   && !(p[1] >= '0' && p[1] <= '9'))
        {
            for (q = p + 1; q < last && ngx_http_mcp_redis_var_char(*q); q++)
            {
                /* void */
            }

            start = p + 1;
            end = q;
        }

        if (start == NULL) {

            /* literal text, up to the next piece */

            if (part == NULL || part->index != NGX_HTTP_MCP_REDIS_TEXT) {
                part = &arg->parts[n++];
                part->index = NGX_HTTP_MCP_REDIS_TEXT;
                part->text.data = p;
            }

            part->text.len++;
            p++;
            continue;
        }

        part = &arg->parts[n++];
        part->text.data = start;
        part->text.len = end - start;

        if (*p == '{') {
            part->index = NGX_HTTP_MCP_REDIS_NAME;

        } else {
            part->index = ngx_http_get_variable_index(cf, &part->text);
            if (part->index == NGX_ERROR) {
                return NGX_CONF_ERROR;
            }
        }

        p = q;
    }

    arg->nparts = n;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid variable name in \"%V\" of \"redis\"", value);
    return NGX_CONF_ERROR;
}


/* the command: literal, not refused, a blocking one with its timeout */

static char *
ngx_http_mcp_redis_command(ngx_conf_t *cf, ngx_http_mcp_redis_t *rd,
    ngx_str_t *word)
{
    u_char                         *p;
    ngx_str_t                      *command, *t;
    ngx_int_t                       k;
    ngx_http_mcp_redis_refused_t   *rf;
    ngx_http_mcp_redis_blocking_t  *bl;

    command = ngx_http_mcp_redis_literal(&rd->args[0]);

    if (command == NULL || command->len == 0) {
        goto invalid;
    }

    for (p = command->data; p < command->data + command->len; p++) {
        if (!ngx_http_mcp_redis_name_char(*p)) {
            goto invalid;
        }
    }

    for (rf = ngx_http_mcp_redis_refused; rf->name.len; rf++) {
        if (rf->name.len == command->len
            && ngx_strncasecmp(rf->name.data, command->data, command->len)
               == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "the Redis command \"%V\" cannot be used in "
                               "\"redis\": %s", command, rf->why);
            return NGX_CONF_ERROR;
        }
    }

    rd->hash = (command->len == sizeof("HGETALL") - 1
                && ngx_strncasecmp(command->data, (u_char *) "HGETALL",
                                   command->len) == 0);

    for (bl = ngx_http_mcp_redis_blocking; bl->name.len; bl++) {
        if (bl->name.len == command->len
            && ngx_strncasecmp(bl->name.data, command->data, command->len)
               == 0)
        {
            break;
        }
    }

    if (bl->name.len == 0) {
        return NGX_CONF_OK;
    }

    if (bl->position == NGX_HTTP_MCP_REDIS_OPTION) {
        return (ngx_http_mcp_redis_block_option(cf, rd, command) == NGX_OK)
               ? NGX_CONF_OK : NGX_CONF_ERROR;
    }

    k = (bl->position == NGX_HTTP_MCP_REDIS_LAST) ? (ngx_int_t) rd->nargs - 1
                                                  : bl->position;

    t = (k >= 1 && k < (ngx_int_t) rd->nargs)
        ? ngx_http_mcp_redis_literal(&rd->args[k]) : NULL;

    rd->block = t ? ngx_http_mcp_redis_time(t, bl->ms) : 0;

    if (rd->block == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the blocking Redis command \"%V\" in \"redis\" "
                           "needs a literal positive timeout of at most a "
                           "day (its %s argument%s): it holds a connection "
                           "of its own until it ends", command,
                           (bl->position == NGX_HTTP_MCP_REDIS_LAST)
                           ? "last" : (bl->position == 1) ? "first"
                           : (bl->position == 2) ? "second" : "third",
                           bl->ms ? ", in milliseconds" : ", in seconds");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid Redis command \"%V\" in \"redis\": the "
                       "command is a literal word", word);
    return NGX_CONF_ERROR;
}


/*
 * XREAD and XREADGROUP block with the option BLOCK: each option before
 * STREAMS is literal, so that no value can become BLOCK, and BLOCK has a
 * literal positive time
 */

static ngx_int_t
ngx_http_mcp_redis_block_option(ngx_conf_t *cf, ngx_http_mcp_redis_t *rd,
    ngx_str_t *command)
{
    ngx_str_t   *o, *t;
    ngx_uint_t   i;

    for (i = 1; i < rd->nargs; i++) {
        o = ngx_http_mcp_redis_literal(&rd->args[i]);

        if (o == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "the options of \"%V\" in \"redis\" before "
                               "STREAMS must be literal words (a value "
                               "could make it block)", command);
            return NGX_ERROR;
        }

        if (o->len == sizeof("STREAMS") - 1
            && ngx_strncasecmp(o->data, (u_char *) "STREAMS", o->len) == 0)
        {
            break;
        }

        if (o->len == sizeof("BLOCK") - 1
            && ngx_strncasecmp(o->data, (u_char *) "BLOCK", o->len) == 0)
        {
            t = (i + 1 < rd->nargs)
                ? ngx_http_mcp_redis_literal(&rd->args[i + 1]) : NULL;

            rd->block = t ? ngx_http_mcp_redis_time(t, 1) : 0;

            if (rd->block == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%V\" with BLOCK in \"redis\" needs a "
                                   "literal positive time after BLOCK, in "
                                   "milliseconds, of at most a day: it holds "
                                   "a connection of its own until it ends",
                                   command);
                return NGX_ERROR;
            }

            i++;
            continue;
        }

        /* the values of COUNT and GROUP's names may be anything */

        if (o->len == sizeof("COUNT") - 1
            && ngx_strncasecmp(o->data, (u_char *) "COUNT", o->len) == 0)
        {
            i++;

        } else if (o->len == sizeof("GROUP") - 1
                   && ngx_strncasecmp(o->data, (u_char *) "GROUP", o->len)
                      == 0)
        {
            i += 2;
        }
    }

    return NGX_OK;
}


/* the text of an argument that is literal only, else NULL */

static ngx_str_t *
ngx_http_mcp_redis_literal(ngx_http_mcp_redis_arg_t *arg)
{
    static ngx_str_t  empty = ngx_null_string;

    if (arg->nparts == 0) {
        return &empty;
    }

    if (arg->nparts == 1 && arg->parts[0].index == NGX_HTTP_MCP_REDIS_TEXT) {
        return &arg->parts[0].text;
    }

    return NULL;
}


/*
 * a positive time of at most a day, in seconds (with a fraction: Redis
 * reads a double) or in milliseconds; 0: not one
 */

static ngx_msec_t
ngx_http_mcp_redis_time(ngx_str_t *s, ngx_uint_t ms)
{
    u_char      *p, *last;
    ngx_uint_t   n, frac, digits;

    p = s->data;
    last = p + s->len;
    n = 0;

    for ( /* void */ ; p < last && *p >= '0' && *p <= '9'; p++) {
        n = n * 10 + (*p - '0');

        if (n > NGX_HTTP_MCP_REDIS_MAX_BLOCK) {
            return 0;
        }
    }

    if (p == s->data) {
        return 0;
    }

    if (ms) {
        return (p == last) ? n : 0;
    }

    /* Redis drops what is under a millisecond: 0.0001 is 0, for ever */

    frac = 0;

    if (p < last && *p == '.') {

        for (p++, digits = 0; p < last && *p >= '0' && *p <= '9'; p++) {
            if (digits++ < 3) {
                frac = frac * 10 + (*p - '0');
            }
        }

        for ( /* void */ ; digits < 3; digits++) {
            frac *= 10;
        }
    }

    if (p != last) {
        return 0;
    }

    n = n * 1000 + frac;

    return (n > NGX_HTTP_MCP_REDIS_MAX_BLOCK) ? 0 : n;
}


static ngx_int_t
ngx_http_mcp_redis_init(ngx_conf_t *cf, ngx_http_mcp_entry_t *e)
{
    ngx_str_t                  *names;
    ngx_uint_t                  i, j, k;
    ngx_http_mcp_redis_t       *rd;
    ngx_http_mcp_redis_part_t  *part;

    rd = e->conf;

    rd->upstream = ngx_http_mcp_redis_upstream(cf, &rd->upstream_name);

    if (rd->upstream == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "no upstream \"%V\" with \"mcp_redis_server\" for "
                      "\"redis\" of \"%V\" in %s:%ui",
                      &rd->upstream_name, &e->name, e->file, e->line);
        return NGX_ERROR;
    }

    names = e->params->elts;

    for (i = 0; i < rd->nargs; i++) {
        part = rd->args[i].parts;

        for (j = 0; j < rd->args[i].nparts; j++) {

            if (part[j].index != NGX_HTTP_MCP_REDIS_NAME) {
                continue;
            }

            for (k = 0; k < e->params->nelts; k++) {
                if (names[k].len == part[j].text.len
                    && ngx_strncmp(names[k].data, part[j].text.data,
                                   part[j].text.len) == 0)
                {
                    break;
                }
            }

            if (k == e->params->nelts) {
                ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                              "\"redis\" of \"%V\" uses \"{%V}\", which is "
                              "not an argument or variable it declares (use "
                              "$%V for an nginx variable) in %s:%ui",
                              &e->name, &part[j].text, &part[j].text,
                              e->file, e->line);
                return NGX_ERROR;
            }
        }
    }

    return ngx_http_mcp_redis_use(cf, rd->upstream);
}
