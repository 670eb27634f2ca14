
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "observe/ngx_http_mcp_audit.h"
#include "observe/ngx_http_mcp_audit_int.h"


/*
 * The audit log's directives:
 *
 *   mcp_audit_log PATH | syslog:... [buffer=SIZE] [flush=TIME]
 *                 [chain=KEYFILE];
 *   mcp_audit_log off;
 *   tool NAME { audit_arguments hash | full | off; ... }
 *
 * Logs are shared by what they name, as access_log's files are: every
 * line that names one must give it the same parameters.
 */


static char *ngx_http_mcp_audit_log_new(ngx_conf_t *cf,
    ngx_http_mcp_audit_log_t *log, size_t size, ngx_msec_t flush);


char *
ngx_http_mcp_audit_log(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_audit_loc_conf_t *alcf = conf;

    size_t                           size;
    ssize_t                          n;
    ngx_str_t                       *value, s, chain;
    ngx_uint_t                       i;
    ngx_msec_t                       flush;
    ngx_open_file_t                 *file;
    ngx_http_mcp_audit_log_t        *log, **lp;
    ngx_http_mcp_audit_main_conf_t  *amcf;

    if (alcf->log != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts != 2) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        alcf->log = NULL;
        return NGX_CONF_OK;
    }

    size = 0;
    flush = 0;
    ngx_str_null(&chain);

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "buffer=", 7) == 0) {
            s.len = value[i].len - 7;
            s.data = value[i].data + 7;

            n = ngx_parse_size(&s);

            if (n == NGX_ERROR || n == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid buffer size \"%V\"", &s);
                return NGX_CONF_ERROR;
            }

            size = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "flush=", 6) == 0) {
            s.len = value[i].len - 6;
            s.data = value[i].data + 6;

            flush = ngx_parse_time(&s, 0);

            if (flush == (ngx_msec_t) NGX_ERROR || flush == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid flush time \"%V\"", &s);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "chain=", 6) == 0
            && value[i].len > 6)
        {
            chain.len = value[i].len - 6;
            chain.data = value[i].data + 6;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (flush && size == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "no buffer is defined for mcp_audit_log \"%V\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    if (chain.len && size) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "mcp_audit_log \"%V\": a chained log writes each "
                           "line at once, in the chain's order, so "
                           "\"chain=\" takes no \"buffer=\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    /* a log that another line names already: the same file, or server */

    file = NULL;

    if (ngx_strncmp(value[1].data, "syslog:", 7) != 0) {
        file = ngx_conf_open_file(cf->cycle, &value[1]);
        if (file == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_audit_module);
    lp = amcf->logs.elts;

    for (i = 0; i < amcf->logs.nelts; i++) {
        log = lp[i];

        if (file ? (log->file != file)
                 : (log->file || log->name.len != value[1].len
                    || ngx_strncmp(log->name.data, value[1].data,
                                   value[1].len) != 0))
        {
            continue;
        }

        if ((size_t) (log->last - log->start) != size
            || log->flush != flush
            || log->keyfile.len != chain.len
            || ngx_strncmp(log->keyfile.data, chain.data, chain.len) != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "mcp_audit_log \"%V\" already defined with "
                               "conflicting parameters", &value[1]);
            return NGX_CONF_ERROR;
        }

        alcf->log = log;
        return NGX_CONF_OK;
    }

    log = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_audit_log_t));
    if (log == NULL) {
        return NGX_CONF_ERROR;
    }

    log->name = value[1];
    log->file = file;
    log->keyfile = chain;

    if (ngx_http_mcp_audit_log_new(cf, log, size, flush) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (chain.len
        && ngx_http_mcp_audit_chain(cf, log, &chain) != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    lp = ngx_array_push(&amcf->logs);
    if (lp == NULL) {
        return NGX_CONF_ERROR;
    }

    *lp = log;
    alcf->log = log;

    return NGX_CONF_OK;
}


/* where a new log writes: a syslog server, or a file as access_log opens */

static char *
ngx_http_mcp_audit_log_new(ngx_conf_t *cf, ngx_http_mcp_audit_log_t *log,
    size_t size, ngx_msec_t flush)
{
    ngx_fd_t  fd;

    if (log->file == NULL) {

        if (size) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "logs to syslog cannot be buffered");
            return NGX_CONF_ERROR;
        }

        log->syslog = ngx_pcalloc(cf->pool, sizeof(ngx_syslog_peer_t));
        if (log->syslog == NULL) {
            return NGX_CONF_ERROR;
        }

        return ngx_syslog_process_conf(cf, log->syslog);
    }

    /*
     * the master opens it after the configuration is read; opened here
     * too, a path it cannot open fails at its line
     */

    fd = ngx_open_file(log->file->name.data, NGX_FILE_APPEND,
                       NGX_FILE_CREATE_OR_OPEN, NGX_FILE_DEFAULT_ACCESS);

    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "mcp_audit_log: " ngx_open_file_n " \"%s\" failed",
                           log->file->name.data);
        return NGX_CONF_ERROR;
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%s\" failed",
                           log->file->name.data);
    }

    if (log->file->data || log->file->flush) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "mcp_audit_log \"%V\" is a buffered access_log's "
                           "file as well: give the audit a file of its own",
                           &log->name);
        return NGX_CONF_ERROR;
    }

    if (size && ngx_http_mcp_audit_buffer(cf, log, size, flush) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


void
ngx_http_mcp_audit_sink(ngx_conf_t *cf, ngx_http_mcp_audit_sink_t *sink)
{
    ngx_http_mcp_audit_main_conf_t  *amcf;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_audit_module);

    amcf->sink = sink;
}


/* `audit_arguments hash | full | off;` in an item block */

char *
ngx_http_mcp_audit_entry_line(ngx_conf_t *cf, void *entry, ngx_str_t *value,
    ngx_uint_t n)
{
    ngx_http_mcp_entry_head_t *head = entry;

    ngx_uint_t  mode;

    static ngx_str_t  modes[] = {
        ngx_null_string,
        ngx_string("hash"),
        ngx_string("full"),
        ngx_string("off")
    };

    if (n != 1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid number of arguments in "
                           "\"audit_arguments\"");
        return NGX_CONF_ERROR;
    }

    if (head->audit_arguments != NGX_HTTP_MCP_AUDIT_DEFAULT) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"audit_arguments\" is duplicate");
        return NGX_CONF_ERROR;
    }

    for (mode = NGX_HTTP_MCP_AUDIT_HASH; mode <= NGX_HTTP_MCP_AUDIT_OFF;
         mode++)
    {
        if (value[1].len == modes[mode].len
            && ngx_strcmp(value[1].data, modes[mode].data) == 0)
        {
            head->audit_arguments = mode;
            return NGX_CONF_OK;
        }
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid value \"%V\" in \"audit_arguments\": "
                       "hash, full or off", &value[1]);
    return NGX_CONF_ERROR;
}
