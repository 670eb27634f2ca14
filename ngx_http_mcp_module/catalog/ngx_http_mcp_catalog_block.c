
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "catalog/ngx_http_mcp_catalog_conf.h"
#include "catalog/ngx_http_mcp_registry.h"
#include "json/ngx_http_mcp_schema.h"
#include "catalog/ngx_http_mcp_content.h"


/*
 * The item blocks of mcp_server {} (tool, resource, resource_template,
 * prompt), line by line, and the helpers their parsers share: names and
 * URIs, files, inline JSON, arguments, a backend's line.
 */


static char *ngx_http_mcp_catalog_backend_line(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b,
    char *(*handler)(ngx_conf_t *cf, ngx_http_mcp_entry_t *e,
                     ngx_str_t *value, ngx_uint_t n),
    ngx_str_t *value, ngx_uint_t n);


typedef struct {
    char                         *what;
    ngx_uint_t                    offset;  /* of the list in the server */
    ngx_uint_t                    by_uri;
} ngx_http_mcp_catalog_list_t;


static char *ngx_http_mcp_catalog_scope(ngx_conf_t *cf,
    ngx_http_mcp_block_t *b, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_mcp_catalog_item(ngx_conf_t *cf, ngx_command_t *dummy,
    void *conf);


/* by ngx_http_mcp_list_e */
static ngx_http_mcp_catalog_list_t  ngx_http_mcp_catalog_lists[] = {
    { "tool", offsetof(ngx_http_mcp_server_t, tools), 0 },
    { "resource", offsetof(ngx_http_mcp_server_t, resources), 1 },
    { "resource_template", offsetof(ngx_http_mcp_server_t, templates), 1 },
    { "prompt", offsetof(ngx_http_mcp_server_t, prompts), 0 }
};


static ngx_str_t  ngx_http_mcp_arg_types[] = {
    ngx_string("string"),
    ngx_string("integer"),
    ngx_string("number"),
    ngx_string("boolean"),
    ngx_string("object"),
    ngx_string("array"),
    ngx_null_string
};


char *
ngx_http_mcp_catalog_block(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_http_mcp_keyword_t *entries, ngx_http_mcp_done_pt done)
{
    char        *rv;
    ngx_conf_t   save;

    b->entries = entries;

    save = *cf;
    cf->handler = ngx_http_mcp_catalog_item;
    cf->handler_conf = b;

    rv = ngx_conf_parse(cf, NULL);

    *cf = save;

    if (rv != NGX_CONF_OK) {
        return rv;
    }

    return done(cf, b);
}


static char *
ngx_http_mcp_catalog_item(ngx_conf_t *cf, ngx_command_t *dummy, void *conf)
{
    ngx_http_mcp_block_t *b = conf;

    char                       *rv;
    void                       *ctx;
    ngx_str_t                  *value;
    ngx_uint_t                  n, i;
    ngx_http_mcp_keyword_t     *e;
    ngx_http_mcp_backend_t     *bk;
    ngx_http_mcp_main_conf_t   *mmcf;
    ngx_http_mcp_entry_line_t  *line;

    value = cf->args->elts;
    n = cf->args->nelts - 1;

    if (value[0].len == sizeof("include") - 1
        && ngx_strcmp(value[0].data, "include") == 0)
    {
        if (n != 1) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid number of arguments in \"include\"");
            return NGX_CONF_ERROR;
        }

        return ngx_conf_include(cf, dummy, conf);
    }

    if (value[0].len == sizeof("scope") - 1
        && ngx_strcmp(value[0].data, "scope") == 0)
    {
        return ngx_http_mcp_catalog_scope(cf, b, value, n);
    }

    for (e = b->entries; e->name.len; e++) {

        if (e->name.len != value[0].len
            || ngx_strcmp(e->name.data, value[0].data) != 0)
        {
            continue;
        }

        if (n < e->min || n > e->max) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid number of arguments in \"%V\" "
                               "in %s \"%V\"", &value[0], b->what, &b->id);
            return NGX_CONF_ERROR;
        }

        return e->handler(cf, b, value, n);
    }

    /* a line of another subsystem (`limit`, `quota`), in http{}'s context */

    mmcf = ((ngx_http_conf_ctx_t *) b->cat->http_ctx)
               ->main_conf[ngx_http_mcp_module.ctx_index];
    line = mmcf->entry_lines.elts;

    for (i = 0; i < mmcf->entry_lines.nelts; i++) {
        if (line[i].name.len == value[0].len
            && ngx_strcmp(line[i].name.data, value[0].data) == 0)
        {
            ctx = cf->ctx;
            cf->ctx = b->cat->http_ctx;

            rv = line[i].set(cf, &b->entry, value, n);

            cf->ctx = ctx;

            return rv;
        }
    }

    /* a backend's line: `pass /uri;`, ... */

    bk = ngx_http_mcp_backend_find(&value[0]);

    if (bk == NULL) {
        bk = ngx_http_mcp_backend_option(&value[0]);

        if (bk) {
            if (n != bk->option_args) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid number of arguments in \"%V\" "
                                   "in %s \"%V\"", &value[0], b->what,
                                   &b->id);
                return NGX_CONF_ERROR;
            }

            return ngx_http_mcp_catalog_backend_line(cf, b, bk->option_conf,
                                                     value, n);
        }
    }

    if (bk == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown entry \"%V\" in %s \"%V\"",
                           &value[0], b->what, &b->id);
        return NGX_CONF_ERROR;
    }

    if (b->entry.backend) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           (b->entry.backend == bk)
                           ? "duplicate \"%V\" in %s \"%V\""
                           : "a second backend, \"%V\", in %s \"%V\"",
                           &value[0], b->what, &b->id);
        return NGX_CONF_ERROR;
    }

    if (n < bk->min_args || n > bk->max_args) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid number of arguments in \"%V\" "
                           "in %s \"%V\"", &value[0], b->what, &b->id);
        return NGX_CONF_ERROR;
    }

    b->entry.backend = bk;
    b->entry.target = value[1];           /* the uri, the upstream */
    b->entry.timeout = NGX_CONF_UNSET_MSEC;
    b->entry.max_size = NGX_CONF_UNSET_SIZE;
    b->entry.file = cf->conf_file->file.name.data;
    b->entry.line = cf->conf_file->line;

    return ngx_http_mcp_catalog_backend_line(cf, b, bk->conf, value, n);
}


/*
 * `scope NAME...;`: a caller must hold every one.  Names are RFC 6749
 * scope tokens (printable ASCII but space, '"' and '\\'), so they can
 * stand in a WWW-Authenticate challenge as they are.
 */

static char *
ngx_http_mcp_catalog_scope(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_str_t *value, ngx_uint_t n)
{
    u_char      *p;
    ngx_str_t   *s;
    ngx_uint_t   i;

    if (n == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid number of arguments in \"scope\" "
                           "in %s \"%V\"", b->what, &b->id);
        return NGX_CONF_ERROR;
    }

    if (b->entry.scopes) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate \"scope\" in %s \"%V\"",
                           b->what, &b->id);
        return NGX_CONF_ERROR;
    }

    b->entry.scopes = ngx_array_create(cf->pool, n, sizeof(ngx_str_t));
    if (b->entry.scopes == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i <= n; i++) {

        for (p = value[i].data; p < value[i].data + value[i].len; p++) {
            if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == '\\') {
                break;
            }
        }

        if (value[i].len == 0 || p < value[i].data + value[i].len) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid scope \"%V\" in %s \"%V\"",
                               &value[i], b->what, &b->id);
            return NGX_CONF_ERROR;
        }

        s = ngx_array_push(b->entry.scopes);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        *s = value[i];
    }

    return NGX_CONF_OK;
}


/*
 * A backend's line is read in http{}'s context, so that it can name
 * variables and compile complex values as any http directive does.
 */

static char *
ngx_http_mcp_catalog_backend_line(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    char *(*handler)(ngx_conf_t *cf, ngx_http_mcp_entry_t *e,
                     ngx_str_t *value, ngx_uint_t n),
    ngx_str_t *value, ngx_uint_t n)
{
    char  *rv;
    void  *ctx;

    ctx = cf->ctx;
    cf->ctx = b->cat->http_ctx;

    rv = handler(cf, &b->entry, value, n);

    cf->ctx = ctx;

    return rv;
}


void
ngx_http_mcp_catalog_bind(ngx_http_mcp_block_t *b,
    ngx_http_mcp_entry_t *entry, ngx_http_mcp_item_e kind, void *item)
{
    *entry = b->entry;

    entry->kind = kind;
    entry->name = b->id;
    entry->item = item;
}


void *
ngx_http_mcp_catalog_open(ngx_conf_t *cf, ngx_http_mcp_catalog_t *cat,
    ngx_http_mcp_block_t *b, ngx_http_mcp_list_e kind, ngx_str_t *id)
{
    void                         *item;
    ngx_int_t                     rc;
    ngx_array_t                  *items;
    ngx_http_mcp_catalog_list_t  *list;

    list = &ngx_http_mcp_catalog_lists[kind];

    if (list->by_uri) {
        rc = ngx_http_mcp_catalog_uri(cf, list->what, id);

    } else {
        rc = ngx_http_mcp_catalog_name(cf, list->what, id);
    }

    if (rc != NGX_OK) {
        return NULL;
    }

    rc = ngx_hash_add_key(&cat->names[kind], id, cat->srv,
                          NGX_HASH_READONLY_KEY);

    if (rc == NGX_BUSY) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate %s \"%V\" in mcp_server \"%V\"",
                           list->what, id, &cat->srv->id);
        return NULL;
    }

    if (rc != NGX_OK) {
        return NULL;
    }

    ngx_memzero(b, sizeof(ngx_http_mcp_block_t));

    b->cat = cat;
    b->what = list->what;
    b->id = *id;

    items = (ngx_array_t *) ((char *) cat->srv + list->offset);

    item = ngx_array_push(items);
    if (item == NULL) {
        return NULL;
    }

    ngx_memzero(item, items->size);

    return item;
}


ngx_int_t
ngx_http_mcp_catalog_name(ngx_conf_t *cf, char *what, ngx_str_t *name)
{
    u_char      c;
    ngx_uint_t  i;

    if (name->len == 0 || name->len > NGX_HTTP_MCP_NAME_MAX) {
        goto invalid;
    }

    for (i = 0; i < name->len; i++) {
        c = name->data[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')
        {
            continue;
        }

        goto invalid;
    }

    return NGX_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid %s name \"%V\": use 1-128 characters of "
                       "A-Z a-z 0-9 _ . -", what, name);

    return NGX_ERROR;
}


ngx_int_t
ngx_http_mcp_catalog_uri(ngx_conf_t *cf, char *what, ngx_str_t *uri)
{
    u_char      c;
    ngx_uint_t  i;

    /* RFC 3986 scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */

    for (i = 0; i < uri->len; i++) {
        c = uri->data[i];

        if (c == ':' && i > 0) {
            break;
        }

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (i > 0 && ((c >= '0' && c <= '9')
                          || c == '+' || c == '-' || c == '.')))
        {
            continue;
        }

        i = uri->len;
        break;
    }

    if (i + 1 >= uri->len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid %s URI \"%V\": it must be scheme:rest",
                           what, uri);
        return NGX_ERROR;
    }

    for (i = 0; i < uri->len; i++) {
        if (uri->data[i] <= ' ' || uri->data[i] == 0x7f) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid %s URI \"%V\": "
                               "whitespace or control character", what, uri);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


char *
ngx_http_mcp_catalog_read(ngx_conf_t *cf, ngx_str_t *name, ngx_str_t *data)
{
    u_char           *p;
    off_t             size;
    size_t            got;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_str_t         file;
    ngx_file_info_t   fi;

    file = *name;

    if (file.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "empty file name");
        return NGX_CONF_ERROR;
    }

    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%s\" failed", file.data);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " \"%s\" failed", file.data);
        goto failed;
    }

    if (!ngx_is_file(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" is not a regular file", file.data);
        goto failed;
    }

    size = ngx_file_size(&fi);

    if (size > NGX_HTTP_MCP_FILE_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" is larger than %d bytes",
                           file.data, NGX_HTTP_MCP_FILE_MAX);
        goto failed;
    }

    p = ngx_pnalloc(cf->pool, size ? (size_t) size : 1);
    if (p == NULL) {
        goto failed;
    }

    for (got = 0; got < (size_t) size; got += n) {
        n = ngx_read_fd(fd, p + got, (size_t) size - got);

        if (n == -1) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                               ngx_read_fd_n " \"%s\" failed", file.data);
            goto failed;
        }

        if (n == 0) {
            break;
        }
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, cf->log, ngx_errno,
                      ngx_close_file_n " \"%s\" failed", file.data);
    }

    data->data = p;
    data->len = got;

    *name = file;

    return NGX_CONF_OK;

failed:

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, cf->log, ngx_errno,
                      ngx_close_file_n " \"%s\" failed", file.data);
    }

    return NGX_CONF_ERROR;
}


char *
ngx_http_mcp_catalog_media(ngx_conf_t *cf, ngx_str_t *name, ngx_str_t *type,
    ngx_str_t *dflt, ngx_str_t *data, ngx_str_t *mime)
{
    ngx_str_t  file;

    file = *name;

    if (ngx_http_mcp_catalog_read(cf, &file, data) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (type) {
        *mime = *type;

    } else if (ngx_http_mcp_media_of(&file, mime) != NGX_OK) {

        if (dflt == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown MIME type of \"%V\": give it after "
                               "the file name", name);
            return NGX_CONF_ERROR;
        }

        *mime = *dflt;
    }

    return NGX_CONF_OK;
}


/* parses JSON given inline or in a file: NGX_CONF_OK and *root */

char *
ngx_http_mcp_catalog_json(ngx_conf_t *cf, ngx_str_t *value,
    ngx_uint_t is_file, char *what, ngx_http_mcp_json_t **root)
{
    ngx_int_t  rc;
    ngx_str_t  text, name, err;

    if (is_file) {
        name = *value;

        if (ngx_http_mcp_catalog_read(cf, &name, &text) != NGX_CONF_OK) {
            return NGX_CONF_ERROR;
        }

    } else {
        text = *value;
    }

    rc = ngx_http_mcp_json_parse(cf->pool, text.data, text.len, NULL, root,
                                 &err);

    if (rc == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    if (rc != NGX_OK) {
        if (is_file) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid JSON in %s \"%V\": %V",
                               what, &name, &err);

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid JSON in %s: %V", what, &err);
        }

        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* `argument NAME [TYPE] [required] [DESCRIPTION]` */

char *
ngx_http_mcp_catalog_param(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_array_t *params, ngx_str_t *value, ngx_uint_t n, ngx_uint_t typed)
{
    ngx_str_t             *t;
    ngx_uint_t             i;
    ngx_http_mcp_param_t  *param;

    if (ngx_http_mcp_catalog_name(cf, "argument", &value[1]) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_mcp_registry_param(params, value[1].data, value[1].len)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate argument \"%V\" in %s \"%V\"",
                           &value[1], b->what, &b->id);
        return NGX_CONF_ERROR;
    }

    param = ngx_array_push(params);
    if (param == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(param, sizeof(ngx_http_mcp_param_t));
    param->name = value[1];

    i = 2;

    if (typed) {
        for (t = ngx_http_mcp_arg_types; t->len; t++) {
            if (t->len == value[2].len
                && ngx_strcmp(t->data, value[2].data) == 0)
            {
                break;
            }
        }

        if (t->len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown argument type \"%V\": use string, "
                               "integer, number, boolean, object or array",
                               &value[2]);
            return NGX_CONF_ERROR;
        }

        param->type = value[2];
        i = 3;
    }

    if (i <= n && ngx_strcmp(value[i].data, "required") == 0) {
        param->required = 1;
        i++;
    }

    if (i <= n) {
        param->description = value[i];
        i++;
    }

    if (i <= n) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"argument\": expected NAME %s[required] "
                           "[DESCRIPTION]", typed ? "TYPE " : "");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_mcp_entry_str(ngx_conf_t *cf, ngx_http_mcp_block_t *b,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_str_t             *field;
    ngx_http_mcp_keyword_t  *e;

    for (e = b->entries; e->name.len; e++) {
        if (e->name.len == value[0].len
            && ngx_strcmp(e->name.data, value[0].data) == 0)
        {
            break;
        }
    }

    field = (ngx_str_t *) ((char *) b + e->offset);

    if (field->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate \"%V\" in %s \"%V\"",
                           &value[0], b->what, &b->id);
        return NGX_CONF_ERROR;
    }

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "empty \"%V\" in %s \"%V\"",
                           &value[0], b->what, &b->id);
        return NGX_CONF_ERROR;
    }

    *field = value[1];

    return NGX_CONF_OK;
}
