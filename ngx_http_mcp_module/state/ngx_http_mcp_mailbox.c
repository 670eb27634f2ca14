
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "state/ngx_http_mcp_mailbox.h"
#include "state/ngx_http_mcp_session.h"


#define NGX_HTTP_MCP_LETTER_ID_MAX  192


/* one letter: written and read whole (smaller than PIPE_BUF) */

typedef struct {
    u_char                      session[NGX_HTTP_MCP_SESSION_ID_LEN];
    u_char                      id_len;
    u_char                      id[NGX_HTTP_MCP_LETTER_ID_MAX];
} ngx_http_mcp_letter_t;


typedef struct {
    ngx_fd_t                    fd[2];      /* read, write */
} ngx_http_mcp_box_t;


/* the boxes of one cycle's workers */

typedef struct {
    ngx_http_mcp_box_t         *box;
    ngx_uint_t                  n;
} ngx_http_mcp_boxes_t;


static void ngx_http_mcp_mailbox_read(ngx_event_t *ev);
static void ngx_http_mcp_mailbox_close(void *data);


/* the newest cycle's boxes; a worker keeps those of the cycle it runs */
static ngx_http_mcp_box_t  *ngx_http_mcp_boxes;
static ngx_uint_t           ngx_http_mcp_nboxes;
static ngx_connection_t    *ngx_http_mcp_mailbox_conn;

/* this worker's subscriber, and the remote bus */
static ngx_http_mcp_bus_handler_pt  ngx_http_mcp_bus_handler;
static ngx_http_mcp_bus_handler_pt  ngx_http_mcp_bus_remote;


ngx_int_t
ngx_http_mcp_mailbox_init_module(ngx_cycle_t *cycle)
{
    ngx_uint_t                 i, n;
    ngx_core_conf_t           *ccf;
    ngx_pool_cleanup_t        *cln;
    ngx_http_mcp_box_t        *box;
    ngx_http_mcp_boxes_t      *boxes;
    ngx_http_mcp_main_conf_t  *mmcf;

    ngx_http_mcp_boxes = NULL;
    ngx_http_mcp_nboxes = 0;

    mmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_mcp_module);
    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);

    /* one worker, or none of mcp_server: nobody to write to */

    if (mmcf == NULL || mmcf->servers.nelts == 0 || !ccf->master
        || ccf->worker_processes < 2)
    {
        return NGX_OK;
    }

    n = ccf->worker_processes;

    box = ngx_pcalloc(cycle->pool, n * sizeof(ngx_http_mcp_box_t));
    cln = ngx_pool_cleanup_add(cycle->pool, sizeof(ngx_http_mcp_boxes_t));

    if (box == NULL || cln == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        box[i].fd[0] = NGX_INVALID_FILE;
        box[i].fd[1] = NGX_INVALID_FILE;
    }

    ngx_http_mcp_boxes = box;
    ngx_http_mcp_nboxes = n;

    boxes = cln->data;
    boxes->box = box;
    boxes->n = n;

    cln->handler = ngx_http_mcp_mailbox_close;

    for (i = 0; i < n; i++) {

        if (pipe(box[i].fd) == -1) {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                          "mcp: pipe() for the workers' mailbox failed");
            return NGX_ERROR;
        }

        if (ngx_nonblocking(box[i].fd[0]) == -1
            || ngx_nonblocking(box[i].fd[1]) == -1
            || fcntl(box[i].fd[0], F_SETFD, FD_CLOEXEC) == -1
            || fcntl(box[i].fd[1], F_SETFD, FD_CLOEXEC) == -1)
        {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                          "mcp: setting up the workers' mailbox failed");
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* a worker reads its own box and keeps the others' write ends */

ngx_int_t
ngx_http_mcp_mailbox_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t           i;
    ngx_connection_t    *c;
    ngx_http_mcp_box_t  *box;

    if (ngx_http_mcp_nboxes == 0 || ngx_process != NGX_PROCESS_WORKER
        || ngx_worker >= ngx_http_mcp_nboxes)
    {
        return NGX_OK;
    }

    box = ngx_http_mcp_boxes;

    for (i = 0; i < ngx_http_mcp_nboxes; i++) {

        if (i == ngx_worker) {
            continue;
        }

        (void) close(box[i].fd[0]);
        box[i].fd[0] = NGX_INVALID_FILE;
    }

    (void) close(box[ngx_worker].fd[1]);
    box[ngx_worker].fd[1] = NGX_INVALID_FILE;

    c = ngx_get_connection(box[ngx_worker].fd[0], cycle->log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    box[ngx_worker].fd[0] = NGX_INVALID_FILE;       /* the connection's now */

    c->read->log = cycle->log;
    c->write->log = cycle->log;
    c->read->handler = ngx_http_mcp_mailbox_read;

    if (ngx_add_event(c->read, NGX_READ_EVENT, 0) != NGX_OK) {
        ngx_free_connection(c);
        return NGX_ERROR;
    }

    ngx_http_mcp_mailbox_conn = c;

    return NGX_OK;
}


void
ngx_http_mcp_mailbox_exit_process(ngx_cycle_t *cycle)
{
    if (ngx_http_mcp_mailbox_conn) {
        ngx_close_connection(ngx_http_mcp_mailbox_conn);
        ngx_http_mcp_mailbox_conn = NULL;
    }
}


void
ngx_http_mcp_mailbox_subscribe(ngx_http_mcp_bus_handler_pt handler)
{
    ngx_http_mcp_bus_handler = handler;
}


void
ngx_http_mcp_mailbox_remote(ngx_http_mcp_bus_handler_pt post)
{
    ngx_http_mcp_bus_remote = post;
}


void
ngx_http_mcp_mailbox_deliver(ngx_str_t *session, ngx_str_t *id)
{
    if (ngx_http_mcp_bus_handler
        && session->len == NGX_HTTP_MCP_SESSION_ID_LEN
        && id->len <= NGX_HTTP_MCP_LETTER_ID_MAX)
    {
        ngx_http_mcp_bus_handler(session, id);
    }
}


void
ngx_http_mcp_mailbox_post(ngx_str_t *session, ngx_str_t *id)
{
    ssize_t                n;
    ngx_uint_t             i;
    ngx_http_mcp_letter_t  letter;

    if (ngx_process != NGX_PROCESS_WORKER
        || session->len != NGX_HTTP_MCP_SESSION_ID_LEN
        || id->len > NGX_HTTP_MCP_LETTER_ID_MAX)
    {
        return;
    }

    /* this worker's own calls are the caller's: other replicas' too */

    if (ngx_http_mcp_bus_remote) {
        ngx_http_mcp_bus_remote(session, id);
    }

    if (ngx_http_mcp_nboxes == 0) {
        return;
    }

    ngx_memzero(&letter, sizeof(ngx_http_mcp_letter_t));
    ngx_memcpy(letter.session, session->data, session->len);
    letter.id_len = (u_char) id->len;
    ngx_memcpy(letter.id, id->data, id->len);

    for (i = 0; i < ngx_http_mcp_nboxes; i++) {

        if (i == ngx_worker || ngx_http_mcp_boxes[i].fd[1] == NGX_INVALID_FILE)
        {
            continue;
        }

        n = write(ngx_http_mcp_boxes[i].fd[1], &letter, sizeof(letter));

        if (n != (ssize_t) sizeof(letter)) {
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, ngx_errno,
                          "mcp: a cancellation for worker %ui was dropped",
                          i);
        }
    }
}


static void
ngx_http_mcp_mailbox_read(ngx_event_t *ev)
{
    ssize_t                 n;
    ngx_str_t               session, id;
    ngx_uint_t              i;
    ngx_connection_t       *c;
    ngx_http_mcp_letter_t   letters[8];

    c = ev->data;

    for ( ;; ) {

        n = read(c->fd, letters, sizeof(letters));

        if (n == -1) {
            if (ngx_errno != NGX_EAGAIN && ngx_errno != NGX_EINTR) {
                ngx_log_error(NGX_LOG_ALERT, ev->log, ngx_errno,
                              "mcp: reading the workers' mailbox failed");
            }

            return;
        }

        if (n == 0) {
            return;
        }

        for (i = 0; i < n / sizeof(ngx_http_mcp_letter_t); i++) {

            session.data = letters[i].session;
            session.len = NGX_HTTP_MCP_SESSION_ID_LEN;

            id.data = letters[i].id;
            id.len = ngx_min(letters[i].id_len, NGX_HTTP_MCP_LETTER_ID_MAX);

            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                           "mcp mailbox: a letter for session %*s...",
                           (size_t) 8, session.data);

            if (ngx_http_mcp_bus_handler) {
                ngx_http_mcp_bus_handler(&session, &id);
            }
        }
    }
}


/* the pipes go with their cycle */

static void
ngx_http_mcp_mailbox_close(void *data)
{
    ngx_http_mcp_boxes_t *boxes = data;

    ngx_uint_t  i;

    for (i = 0; i < boxes->n; i++) {

        if (boxes->box[i].fd[0] != NGX_INVALID_FILE) {
            (void) close(boxes->box[i].fd[0]);
            boxes->box[i].fd[0] = NGX_INVALID_FILE;
        }

        if (boxes->box[i].fd[1] != NGX_INVALID_FILE) {
            (void) close(boxes->box[i].fd[1]);
            boxes->box[i].fd[1] = NGX_INVALID_FILE;
        }
    }
}
