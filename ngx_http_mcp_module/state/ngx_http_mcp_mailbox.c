
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


#define NGX_HTTP_MCP_BUS_SIZE    (8 * 1024 * 1024)
#define NGX_HTTP_MCP_BUS_STALE   60          /* seconds: a reader died */


/* a letter in the zone, read by `readers` more workers */

typedef struct {
    ngx_queue_t                 queue;      /* the zone's, oldest first */
    time_t                      born;
    ngx_uint_t                  readers;
    u_char                      kind;
    u_char                      session_len;
    u_char                      session[NGX_HTTP_MCP_SESSION_ID_LEN];
    size_t                      id_len;
    size_t                      body_len;
    u_char                      data[1];
} ngx_http_mcp_shletter_t;


typedef struct {
    ngx_queue_t                 letters;
} ngx_http_mcp_bus_sh_t;


/* a letter to this worker itself, heard from the event loop */

typedef struct {
    ngx_queue_t                 queue;
    ngx_http_mcp_letter_t       letter;
} ngx_http_mcp_own_letter_t;


typedef struct {
    ngx_fd_t                    fd[2];      /* read, write */
} ngx_http_mcp_box_t;


/* the boxes of one cycle's workers */

typedef struct {
    ngx_http_mcp_box_t         *box;
    ngx_uint_t                  n;
} ngx_http_mcp_boxes_t;


static ngx_int_t ngx_http_mcp_bus_zone_init(ngx_shm_zone_t *zone,
    void *data);
static ngx_int_t ngx_http_mcp_mailbox_valid(ngx_http_mcp_letter_t *l);
static ngx_http_mcp_shletter_t *ngx_http_mcp_mailbox_write(
    ngx_http_mcp_letter_t *l, ngx_uint_t readers);
static void ngx_http_mcp_mailbox_done(ngx_http_mcp_shletter_t *sl,
    ngx_uint_t n);
static ngx_int_t ngx_http_mcp_mailbox_own(ngx_http_mcp_letter_t *l);
static void ngx_http_mcp_mailbox_own_read(ngx_event_t *ev);
static void ngx_http_mcp_mailbox_read(ngx_event_t *ev);
static void ngx_http_mcp_mailbox_close(void *data);


/* the newest cycle's boxes; a worker keeps those of the cycle it runs */
static ngx_http_mcp_box_t  *ngx_http_mcp_boxes;
static ngx_uint_t           ngx_http_mcp_nboxes;
static ngx_connection_t    *ngx_http_mcp_mailbox_conn;

/* the zone of letters (one for all cycles: letters name their place) */
static ngx_slab_pool_t        *ngx_http_mcp_bus_shpool;
static ngx_http_mcp_bus_sh_t  *ngx_http_mcp_bus_sh;

/* this worker's letters to itself */
static ngx_queue_t   ngx_http_mcp_own_letters;
static ngx_event_t   ngx_http_mcp_own_event;

/* this worker's subscribers, and the remote bus */
static ngx_http_mcp_bus_handler_pt  ngx_http_mcp_bus_handlers[4];
static ngx_http_mcp_bus_remote_pt   ngx_http_mcp_bus_remote;


static ngx_int_t
ngx_http_mcp_bus_kind(u_char kind)
{
    switch (kind) {
    case NGX_HTTP_MCP_LETTER_CANCEL:
        return 0;
    case NGX_HTTP_MCP_LETTER_ANSWER:
        return 1;
    case NGX_HTTP_MCP_LETTER_NOTIFY:
        return 2;
    case NGX_HTTP_MCP_LETTER_EVENT:
        return 3;
    default:
        return -1;
    }
}


/* the zone, from postconfiguration of a configuration that serves MCP */

/*
 * an empty part of a letter (no body, no session: to everyone) may have
 * no memory at all, and memcpy() from NULL is undefined even for 0 bytes
 */

static ngx_inline u_char *
ngx_http_mcp_bus_copy(u_char *dst, u_char *src, size_t len)
{
    return len ? ngx_cpymem(dst, src, len) : dst;
}


ngx_int_t
ngx_http_mcp_mailbox_conf(ngx_conf_t *cf)
{
    ngx_shm_zone_t  *zone;

    static ngx_str_t  name = ngx_string("mcp_bus");

    zone = ngx_shared_memory_add(cf, &name, NGX_HTTP_MCP_BUS_SIZE,
                                 &ngx_http_mcp_module);
    if (zone == NULL) {
        return NGX_ERROR;
    }

    zone->init = ngx_http_mcp_bus_zone_init;
    zone->data = cf->cycle;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_bus_zone_init(ngx_shm_zone_t *zone, void *data)
{
    ngx_slab_pool_t        *shpool;
    ngx_http_mcp_bus_sh_t  *sh;

    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    if (data || zone->shm.exists) {
        ngx_http_mcp_bus_shpool = shpool;
        ngx_http_mcp_bus_sh = shpool->data;
        return NGX_OK;
    }

    sh = ngx_slab_alloc(shpool, sizeof(ngx_http_mcp_bus_sh_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    ngx_queue_init(&sh->letters);
    shpool->data = sh;
    shpool->log_nomem = 0;

    ngx_http_mcp_bus_shpool = shpool;
    ngx_http_mcp_bus_sh = sh;

    return NGX_OK;
}


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

    ngx_queue_init(&ngx_http_mcp_own_letters);

    ngx_http_mcp_own_event.handler = ngx_http_mcp_mailbox_own_read;
    ngx_http_mcp_own_event.log = cycle->log;
    ngx_http_mcp_own_event.data = &ngx_http_mcp_own_letters;
    ngx_http_mcp_own_event.cancelable = 1;

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
    ngx_queue_t                *q;
    ngx_http_mcp_own_letter_t  *own;

    if (ngx_http_mcp_mailbox_conn) {
        ngx_close_connection(ngx_http_mcp_mailbox_conn);
        ngx_http_mcp_mailbox_conn = NULL;
    }

    if (ngx_http_mcp_own_letters.next == NULL) {
        return;
    }

    while (!ngx_queue_empty(&ngx_http_mcp_own_letters)) {
        q = ngx_queue_head(&ngx_http_mcp_own_letters);
        ngx_queue_remove(q);
        own = ngx_queue_data(q, ngx_http_mcp_own_letter_t, queue);
        ngx_free(own);
    }

    if (ngx_http_mcp_own_event.posted) {
        ngx_delete_posted_event(&ngx_http_mcp_own_event);
    }
}


void
ngx_http_mcp_mailbox_subscribe(u_char kind,
    ngx_http_mcp_bus_handler_pt handler)
{
    ngx_int_t  k;

    k = ngx_http_mcp_bus_kind(kind);

    if (k >= 0) {
        ngx_http_mcp_bus_handlers[k] = handler;
    }
}


void
ngx_http_mcp_mailbox_remote(ngx_http_mcp_bus_remote_pt post)
{
    ngx_http_mcp_bus_remote = post;
}


void
ngx_http_mcp_mailbox_deliver(ngx_http_mcp_letter_t *l)
{
    ngx_int_t  k;

    if (ngx_http_mcp_mailbox_valid(l) != NGX_OK) {
        return;
    }

    k = ngx_http_mcp_bus_kind(l->kind);

    if (ngx_http_mcp_bus_handlers[k]) {
        ngx_http_mcp_bus_handlers[k](l);
    }
}


ngx_int_t
ngx_http_mcp_mailbox_post(ngx_http_mcp_letter_t *l, ngx_uint_t self)
{
    ssize_t                   n;
    uintptr_t                 at;
    ngx_uint_t                i, readers, sent;
    ngx_http_mcp_shletter_t  *sl;

    if (ngx_process != NGX_PROCESS_WORKER && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_DECLINED;
    }

    if (ngx_http_mcp_mailbox_valid(l) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "mcp: a letter of %uz bytes is too large for the "
                      "workers' mailbox", l->id.len + l->body.len);
        return NGX_DECLINED;
    }

    /* every worker of every replica, this one too, hears the remote bus */

    if (ngx_http_mcp_bus_remote && ngx_http_mcp_bus_remote(l) == NGX_OK) {
        return NGX_OK;
    }

    sent = 0;

    if (self) {
        sent = (ngx_http_mcp_mailbox_own(l) == NGX_OK);
    }

    readers = (ngx_http_mcp_nboxes > 1) ? ngx_http_mcp_nboxes - 1 : 0;

    if (readers == 0 || ngx_process != NGX_PROCESS_WORKER) {
        return sent || !self ? NGX_OK : NGX_DECLINED;
    }

    sl = ngx_http_mcp_mailbox_write(l, readers);

    if (sl == NULL) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "mcp: the workers' mailbox is full, a letter of "
                      "%uz bytes was dropped", l->id.len + l->body.len);
        return sent ? NGX_OK : NGX_DECLINED;
    }

    at = (u_char *) sl - (u_char *) ngx_http_mcp_bus_shpool;

    for (i = 0; i < ngx_http_mcp_nboxes; i++) {

        if (i == ngx_worker) {
            continue;
        }

        n = (ngx_http_mcp_boxes[i].fd[1] == NGX_INVALID_FILE)
            ? -1 : write(ngx_http_mcp_boxes[i].fd[1], &at, sizeof(at));

        if (n == (ssize_t) sizeof(at)) {
            sent++;
            continue;
        }

        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, ngx_errno,
                      "mcp: a letter for worker %ui was dropped", i);

        ngx_http_mcp_mailbox_done(sl, 1);
    }

    return sent ? NGX_OK : NGX_DECLINED;
}


static ngx_int_t
ngx_http_mcp_mailbox_valid(ngx_http_mcp_letter_t *l)
{
    if (ngx_http_mcp_bus_kind(l->kind) < 0
        || (l->session.len != 0
            && l->session.len != NGX_HTTP_MCP_SESSION_ID_LEN)
        || l->id.len > NGX_HTTP_MCP_LETTER_ID_MAX
        || l->body.len > NGX_HTTP_MCP_LETTER_MAX - l->id.len
        || (l->id.len && ngx_strlchr(l->id.data, l->id.data + l->id.len, '\n')))
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* a letter into the zone, for that many readers; NULL: no room */

static ngx_http_mcp_shletter_t *
ngx_http_mcp_mailbox_write(ngx_http_mcp_letter_t *l, ngx_uint_t readers)
{
    size_t                    size;
    ngx_queue_t              *q;
    ngx_http_mcp_shletter_t  *sl, *old;

    if (ngx_http_mcp_bus_shpool == NULL) {
        return NULL;
    }

    size = offsetof(ngx_http_mcp_shletter_t, data) + l->id.len + l->body.len;

    ngx_shmtx_lock(&ngx_http_mcp_bus_shpool->mutex);

    /* letters that a dead worker never read */

    while (!ngx_queue_empty(&ngx_http_mcp_bus_sh->letters)) {
        q = ngx_queue_head(&ngx_http_mcp_bus_sh->letters);
        old = ngx_queue_data(q, ngx_http_mcp_shletter_t, queue);

        if (ngx_time() - old->born < NGX_HTTP_MCP_BUS_STALE) {
            break;
        }

        ngx_queue_remove(q);
        ngx_slab_free_locked(ngx_http_mcp_bus_shpool, old);
    }

    sl = ngx_slab_alloc_locked(ngx_http_mcp_bus_shpool, size);

    if (sl == NULL) {
        ngx_shmtx_unlock(&ngx_http_mcp_bus_shpool->mutex);
        return NULL;
    }

    sl->born = ngx_time();
    sl->readers = readers;
    sl->kind = l->kind;
    sl->session_len = (u_char) l->session.len;
    (void) ngx_http_mcp_bus_copy(sl->session, l->session.data,
                                 l->session.len);
    sl->id_len = l->id.len;
    sl->body_len = l->body.len;
    (void) ngx_http_mcp_bus_copy(ngx_http_mcp_bus_copy(sl->data, l->id.data,
                                                       l->id.len),
                                 l->body.data, l->body.len);

    ngx_queue_insert_tail(&ngx_http_mcp_bus_sh->letters, &sl->queue);

    ngx_shmtx_unlock(&ngx_http_mcp_bus_shpool->mutex);

    return sl;
}


/* n readers are done with a letter: the last frees it */

static void
ngx_http_mcp_mailbox_done(ngx_http_mcp_shletter_t *sl, ngx_uint_t n)
{
    ngx_shmtx_lock(&ngx_http_mcp_bus_shpool->mutex);

    if (sl->readers > n) {
        sl->readers -= n;

    } else {
        ngx_queue_remove(&sl->queue);
        ngx_slab_free_locked(ngx_http_mcp_bus_shpool, sl);
    }

    ngx_shmtx_unlock(&ngx_http_mcp_bus_shpool->mutex);
}


/* a copy for this worker, read when the event loop comes round */

static ngx_int_t
ngx_http_mcp_mailbox_own(ngx_http_mcp_letter_t *l)
{
    u_char                     *p;
    ngx_http_mcp_own_letter_t  *own;

    if (ngx_http_mcp_own_letters.next == NULL) {
        return NGX_DECLINED;
    }

    own = ngx_alloc(sizeof(ngx_http_mcp_own_letter_t) + l->session.len
                    + l->id.len + l->body.len, ngx_cycle->log);
    if (own == NULL) {
        return NGX_ERROR;
    }

    p = (u_char *) (own + 1);

    own->letter.kind = l->kind;

    own->letter.session.data = p;
    own->letter.session.len = l->session.len;
    p = ngx_http_mcp_bus_copy(p, l->session.data, l->session.len);

    own->letter.id.data = p;
    own->letter.id.len = l->id.len;
    p = ngx_http_mcp_bus_copy(p, l->id.data, l->id.len);

    own->letter.body.data = p;
    own->letter.body.len = l->body.len;
    (void) ngx_http_mcp_bus_copy(p, l->body.data, l->body.len);

    ngx_queue_insert_tail(&ngx_http_mcp_own_letters, &own->queue);

    if (!ngx_http_mcp_own_event.posted) {
        ngx_post_event(&ngx_http_mcp_own_event, &ngx_posted_events);
    }

    return NGX_OK;
}


static void
ngx_http_mcp_mailbox_own_read(ngx_event_t *ev)
{
    ngx_queue_t                *q;
    ngx_http_mcp_own_letter_t  *own;

    while (!ngx_queue_empty(&ngx_http_mcp_own_letters)) {
        q = ngx_queue_head(&ngx_http_mcp_own_letters);
        ngx_queue_remove(q);

        own = ngx_queue_data(q, ngx_http_mcp_own_letter_t, queue);

        ngx_http_mcp_mailbox_deliver(&own->letter);

        ngx_free(own);
    }
}


static void
ngx_http_mcp_mailbox_read(ngx_event_t *ev)
{
    ssize_t                   n;
    uintptr_t                 at[64];
    ngx_uint_t                i;
    ngx_connection_t         *c;
    ngx_http_mcp_letter_t     l;
    ngx_http_mcp_shletter_t  *sl;

    c = ev->data;

    for ( ;; ) {

        n = read(c->fd, at, sizeof(at));

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

        for (i = 0; i < n / sizeof(uintptr_t); i++) {

            /* a place in the zone its writer chose: checked all the same */

            if (ngx_http_mcp_bus_shpool == NULL
                || at[i] < sizeof(ngx_slab_pool_t)
                || at[i] >= NGX_HTTP_MCP_BUS_SIZE
                            - offsetof(ngx_http_mcp_shletter_t, data)
                || at[i] % sizeof(uintptr_t))
            {
                ngx_log_error(NGX_LOG_ALERT, ev->log, 0,
                              "mcp: a letter out of the mailbox's zone");
                continue;
            }

            sl = (ngx_http_mcp_shletter_t *)
                     ((u_char *) ngx_http_mcp_bus_shpool + at[i]);

            if (sl->id_len > NGX_HTTP_MCP_LETTER_ID_MAX
                || sl->body_len > NGX_HTTP_MCP_LETTER_MAX
                || sl->session_len > NGX_HTTP_MCP_SESSION_ID_LEN
                || at[i] + offsetof(ngx_http_mcp_shletter_t, data)
                   + sl->id_len + sl->body_len > NGX_HTTP_MCP_BUS_SIZE)
            {
                ngx_log_error(NGX_LOG_ALERT, ev->log, 0,
                              "mcp: a damaged letter in the mailbox");
                continue;
            }

            l.kind = sl->kind;
            l.session.data = sl->session;
            l.session.len = sl->session_len;
            l.id.data = sl->data;
            l.id.len = sl->id_len;
            l.body.data = sl->data + sl->id_len;
            l.body.len = sl->body_len;

            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                           "mcp mailbox: a letter '%c' of %uz bytes",
                           l.kind, l.id.len + l.body.len);

            ngx_http_mcp_mailbox_deliver(&l);

            ngx_http_mcp_mailbox_done(sl, 1);
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
