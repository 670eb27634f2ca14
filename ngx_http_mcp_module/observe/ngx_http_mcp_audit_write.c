
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "observe/ngx_http_mcp_metrics.h"
#include "observe/ngx_http_mcp_audit_int.h"


/*
 * Where audit lines go, the way access_log writes (ngx_http_log_module):
 * a file that the master opened with O_APPEND, through a worker's buffer
 * of buffer= bytes, written when full, after flush=, at a reopen (USR1)
 * and when the worker exits; or a syslog datagram per line.  A chained
 * log is never buffered: each line is written at once, under its chain's
 * lock, so that the lines of all workers are in the file in the chain's
 * order.
 */


static void ngx_http_mcp_audit_flush(ngx_open_file_t *file, ngx_log_t *log);
static void ngx_http_mcp_audit_flush_handler(ngx_event_t *ev);
static void ngx_http_mcp_audit_fd_write(ngx_http_mcp_audit_log_t *log,
    u_char *buf, size_t len, ngx_log_t *error_log);
static void ngx_http_mcp_audit_syslog(ngx_http_mcp_audit_log_t *log,
    u_char *line, size_t len, ngx_log_t *error_log);


ngx_int_t
ngx_http_mcp_audit_buffer(ngx_conf_t *cf, ngx_http_mcp_audit_log_t *log,
    size_t size, ngx_msec_t flush)
{
    log->start = ngx_pnalloc(cf->pool, size);
    if (log->start == NULL) {
        return NGX_ERROR;
    }

    log->pos = log->start;
    log->last = log->start + size;

    if (flush) {
        log->event = ngx_pcalloc(cf->pool, sizeof(ngx_event_t));
        if (log->event == NULL) {
            return NGX_ERROR;
        }

        log->event->data = log;
        log->event->handler = ngx_http_mcp_audit_flush_handler;
        log->event->log = &cf->cycle->new_log;
        log->event->cancelable = 1;

        log->flush = flush;
    }

    log->file->flush = ngx_http_mcp_audit_flush;
    log->file->data = log;

    return NGX_OK;
}


void
ngx_http_mcp_audit_write(ngx_http_mcp_audit_log_t *log, ngx_http_mcp_jw_t *jw,
    ngx_log_t *error_log)
{
    u_char  *line;

    ngx_http_mcp_jw_reserve(jw, NGX_HTTP_MCP_AUDIT_TAIL);

    if (jw->failed) {
        ngx_http_mcp_metrics_audit_dropped();
        ngx_log_error(NGX_LOG_ERR, error_log, 0,
                      "mcp audit: a line for \"%V\" is lost: no memory",
                      &log->name);
        return;
    }

    if (log->zone) {
        ngx_http_mcp_audit_chain_write(log, jw, error_log);
        return;
    }

    line = jw->start + NGX_HTTP_MCP_AUDIT_FRONT;

    *jw->pos++ = '}';
    ngx_linefeed(jw->pos);

    ngx_http_mcp_audit_send(log, line, jw->pos - line, error_log);
}


/* a whole line, its linefeed included, with FRONT bytes of room before */

void
ngx_http_mcp_audit_send(ngx_http_mcp_audit_log_t *log, u_char *line,
    size_t len, ngx_log_t *error_log)
{
    if (log->syslog) {
        ngx_http_mcp_audit_syslog(log, line, len - NGX_LINEFEED_SIZE,
                                  error_log);
        return;
    }

    if (log->start == NULL) {
        ngx_http_mcp_audit_fd_write(log, line, len, error_log);
        return;
    }

    if (len > (size_t) (log->last - log->pos)) {
        ngx_http_mcp_audit_flush(log->file, error_log);
    }

    if (len <= (size_t) (log->last - log->pos)) {

        if (log->event && log->pos == log->start) {
            ngx_add_timer(log->event, log->flush);
        }

        log->pos = ngx_cpymem(log->pos, line, len);
        return;
    }

    /* larger than the buffer */

    ngx_http_mcp_audit_fd_write(log, line, len, error_log);
}


static void
ngx_http_mcp_audit_flush(ngx_open_file_t *file, ngx_log_t *log)
{
    ngx_http_mcp_audit_log_t  *al;

    al = file->data;

    if (al->pos != al->start) {
        ngx_http_mcp_audit_fd_write(al, al->start, al->pos - al->start, log);
        al->pos = al->start;
    }

    if (al->event && al->event->timer_set) {
        ngx_del_timer(al->event);
    }
}


static void
ngx_http_mcp_audit_flush_handler(ngx_event_t *ev)
{
    ngx_http_mcp_audit_log_t  *al;

    ngx_log_debug0(NGX_LOG_DEBUG_EVENT, ev->log, 0,
                   "mcp audit buffer flush handler");

    al = ev->data;

    ngx_http_mcp_audit_flush(al->file, ev->log);
}


/* failures are logged as access_log does: at most once a minute */

static void
ngx_http_mcp_audit_fd_write(ngx_http_mcp_audit_log_t *log, u_char *buf,
    size_t len, ngx_log_t *error_log)
{
    time_t   now;
    ssize_t  n;

    n = ngx_write_fd(log->file->fd, buf, len);

    if (n == (ssize_t) len) {
        return;
    }

    ngx_http_mcp_metrics_audit_dropped();

    now = ngx_time();

    if (now - log->error_time < 60) {
        return;
    }

    log->error_time = now;

    if (n == -1) {
        ngx_log_error(NGX_LOG_ALERT, error_log, ngx_errno,
                      ngx_write_fd_n " to \"%s\" failed",
                      log->file->name.data);
        return;
    }

    ngx_log_error(NGX_LOG_ALERT, error_log, 0,
                  ngx_write_fd_n " to \"%s\" was incomplete: %z of %uz",
                  log->file->name.data, n, len);
}


/* the header goes into the room before the line */

static void
ngx_http_mcp_audit_syslog(ngx_http_mcp_audit_log_t *log, u_char *line,
    size_t len, ngx_log_t *error_log)
{
    u_char   *p, header[NGX_HTTP_MCP_AUDIT_SYSLOG_MAX];
    size_t    n;
    ssize_t   sent;

    p = ngx_syslog_add_header(log->syslog, header);
    n = p - header;

    ngx_memcpy(line - n, header, n);

    sent = ngx_syslog_send(log->syslog, line - n, n + len);

    if (sent < 0) {
        ngx_http_mcp_metrics_audit_dropped();
        ngx_log_error(NGX_LOG_WARN, error_log, 0,
                      "mcp audit: send() to syslog failed");

    } else if ((size_t) sent != n + len) {
        ngx_log_error(NGX_LOG_WARN, error_log, 0,
                      "mcp audit: send() to syslog has written only %z of "
                      "%uz", sent, n + len);
    }
}
