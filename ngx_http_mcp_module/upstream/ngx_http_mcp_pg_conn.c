
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "upstream/ngx_http_mcp_pg_int.h"


/*
 * One libpq connection on nginx events.  libpq owns the socket: the module
 * wraps it in an ngx_connection_t for events and timers, and gives it back
 * with ngx_http_mcp_pg_detach() before libpq closes it (PQfinish), or when
 * libpq changes sockets while connecting.  Events are level-triggered: a
 * reply that libpq has not read in one go, or a write that waits for room,
 * is reported again rather than lost.
 */


static ngx_int_t ngx_http_mcp_pg_attach(ngx_http_mcp_pg_conn_t *pc);
static void ngx_http_mcp_pg_detach(ngx_http_mcp_pg_conn_t *pc);
static void ngx_http_mcp_pg_handler(ngx_event_t *ev);
static void ngx_http_mcp_pg_poll(ngx_http_mcp_pg_conn_t *pc);
static void ngx_http_mcp_pg_read(ngx_http_mcp_pg_conn_t *pc);
static ngx_int_t ngx_http_mcp_pg_flush(ngx_http_mcp_pg_conn_t *pc);
static ngx_int_t ngx_http_mcp_pg_want_write(ngx_http_mcp_pg_conn_t *pc,
    ngx_uint_t on);
static void ngx_http_mcp_pg_drain(ngx_http_mcp_pg_conn_t *pc);
static void ngx_http_mcp_pg_notice(void *arg, const char *message);
static void ngx_http_mcp_pg_error(ngx_http_mcp_pg_conn_t *pc, char *what);


ngx_http_mcp_pg_conn_t *
ngx_http_mcp_pg_connect(ngx_http_mcp_pg_upstream_t *u,
    ngx_http_mcp_pg_server_t *s)
{
    ngx_pool_t              *pool;
    ngx_http_mcp_pg_conn_t  *pc;

    pool = ngx_create_pool(512, ngx_cycle->log);
    if (pool == NULL) {
        return NULL;
    }

    pc = ngx_pcalloc(pool, sizeof(ngx_http_mcp_pg_conn_t));
    if (pc == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    pc->pool = pool;
    pc->session_timeout = -1;
    pc->session_read_only = -1;
    pc->upstream = u;
    pc->server = s;
    pc->log = *ngx_cycle->log;
    pc->log.action = "connecting to PostgreSQL";
    pool->log = &pc->log;

    pc->prepared = ngx_pcalloc(pool, u->statements + 1);
    if (pc->prepared == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, &pc->log, 0,
                   "postgres: connect to \"%V\" %V", &u->name, &s->name);

    /* no name lookup: the server has a numeric hostaddr (or a socket) */

    pc->conn = PQconnectStartParams(s->keywords, s->values, 0);

    if (pc->conn == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    PQsetNoticeProcessor(pc->conn, ngx_http_mcp_pg_notice, pc);

    pc->state = NGX_HTTP_MCP_PG_CONNECTING;
    pc->polling = PGRES_POLLING_WRITING;
    pc->status = PQstatus(pc->conn);

    if (pc->status == CONNECTION_BAD
        || PQsetnonblocking(pc->conn, 1) != 0
        || ngx_http_mcp_pg_attach(pc) != NGX_OK)
    {
        ngx_http_mcp_pg_error(pc, "cannot connect to");
        PQfinish(pc->conn);
        ngx_destroy_pool(pool);
        return NULL;
    }

    ngx_add_timer(pc->c->read, s->connect_timeout);

    ngx_http_mcp_conn_state(u->metric, NGX_HTTP_MCP_CONN_NONE, pc->state);

    return pc;
}


static ngx_int_t
ngx_http_mcp_pg_attach(ngx_http_mcp_pg_conn_t *pc)
{
    int                fd;
    ngx_connection_t  *c;

    fd = PQsocket(pc->conn);

    if (fd == -1) {
        return NGX_ERROR;
    }

    c = ngx_get_connection(fd, &pc->log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->data = pc;
    c->log = &pc->log;
    c->read->log = &pc->log;
    c->write->log = &pc->log;
    c->read->handler = ngx_http_mcp_pg_handler;
    c->write->handler = ngx_http_mcp_pg_handler;
    c->number = ngx_atomic_fetch_add(ngx_connection_counter, 1);

    pc->c = c;

    if (ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT) != NGX_OK) {
        ngx_http_mcp_pg_detach(pc);
        return NGX_ERROR;
    }

    if (pc->state == NGX_HTTP_MCP_PG_CONNECTING
        && pc->polling == PGRES_POLLING_WRITING
        && ngx_http_mcp_pg_want_write(pc, 1) != NGX_OK)
    {
        ngx_http_mcp_pg_detach(pc);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the socket stays libpq's: only nginx's hold on it goes */

static void
ngx_http_mcp_pg_detach(ngx_http_mcp_pg_conn_t *pc)
{
    ngx_connection_t  *c;

    c = pc->c;

    if (c == NULL) {
        return;
    }

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    /*
     * libpq has closed the descriptor already (a broken connection, a
     * socket change) or closes it right after (PQfinish): the kernel
     * drops it from the event set, and a call on the number could hit
     * another connection's descriptor by now
     */

    if (c->read->active) {
        ngx_del_event(c->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->write->active) {
        ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
    }

    ngx_free_connection(c);

    c->fd = (ngx_socket_t) -1;
    pc->c = NULL;
}


void
ngx_http_mcp_pg_close(ngx_http_mcp_pg_conn_t *pc)
{
    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, &pc->log, 0,
                   "postgres: close connection to \"%V\"", &pc->upstream->name);

    ngx_http_mcp_conn_state(pc->upstream->metric, pc->state,
                            NGX_HTTP_MCP_CONN_NONE);

    ngx_http_mcp_pg_detach(pc);

    PQfinish(pc->conn);

    ngx_destroy_pool(pc->pool);
}


static void
ngx_http_mcp_pg_handler(ngx_event_t *ev)
{
    PGresult                *res;
    ngx_connection_t        *c;
    ngx_http_mcp_pg_conn_t  *pc;

    c = ev->data;
    pc = c->data;

    switch (pc->state) {

    case NGX_HTTP_MCP_PG_CONNECTING:

        if (ev->timedout) {
            ngx_log_error(NGX_LOG_ERR, &pc->log, NGX_ETIMEDOUT,
                          "postgres: upstream \"%V\" server %V timed out",
                          &pc->upstream->name, &pc->server->name);
            ngx_http_mcp_pg_failed(pc, 0);
            return;
        }

        ngx_http_mcp_pg_poll(pc);
        return;

    case NGX_HTTP_MCP_PG_IDLE:

        /* the server closed it, or said something unasked; or shutdown */

        if (c->close) {
            /* the worker is shutting down */
            ngx_http_mcp_pg_retire(pc);
            return;
        }

        if (!PQconsumeInput(pc->conn)
            || PQstatus(pc->conn) == CONNECTION_BAD)
        {
            ngx_http_mcp_pg_lost(pc);
            return;
        }

        ngx_http_mcp_pg_drain(pc);

        if (!PQisBusy(pc->conn)) {
            res = PQgetResult(pc->conn);

            if (res) {
                PQclear(res);
                ngx_http_mcp_pg_lost(pc);
            }
        }

        return;

    default: /* NGX_HTTP_MCP_PG_BUSY */

        if (ev->write) {
            if (ngx_http_mcp_pg_flush(pc) != NGX_OK) {
                goto lost;
            }

            return;
        }

        ngx_http_mcp_pg_read(pc);
        return;
    }

lost:

    ngx_http_mcp_pg_error(pc, "lost the connection to");
    pc->handler(pc, NULL, 1);
    ngx_http_mcp_pg_lost(pc);
}


/* connecting: libpq says which event it waits for, maybe on a new socket */

static void
ngx_http_mcp_pg_poll(ngx_http_mcp_pg_conn_t *pc)
{
    ConnStatusType             status;
    PostgresPollingStatusType  rc;

    rc = PQconnectPoll(pc->conn);
    pc->polling = rc;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, &pc->log, 0,
                   "postgres: connect poll %d, status %d",
                   (int) rc, (int) PQstatus(pc->conn));

    status = PQstatus(pc->conn);

    if (rc != PGRES_POLLING_FAILED
        && (pc->c == NULL
            || PQsocket(pc->conn) != pc->c->fd
            || (status == CONNECTION_STARTED
                && pc->status != CONNECTION_STARTED)))
    {
        /* libpq moved to a new socket (the next address, no SSL, ...) */

        ngx_http_mcp_pg_detach(pc);

        if (ngx_http_mcp_pg_attach(pc) != NGX_OK) {
            ngx_http_mcp_pg_error(pc, "cannot connect to");
            ngx_http_mcp_pg_failed(pc, 0);
            return;
        }

        ngx_add_timer(pc->c->read, pc->server->connect_timeout);
    }

    pc->status = status;

    switch (rc) {

    case PGRES_POLLING_OK:

        if (pc->c->read->timer_set) {
            ngx_del_timer(pc->c->read);
        }

        if (ngx_http_mcp_pg_want_write(pc, 0) != NGX_OK) {
            ngx_http_mcp_pg_failed(pc, 0);
            return;
        }

        pc->log.action = "talking to PostgreSQL";

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, &pc->log, 0,
                       "postgres: connected to \"%V\" %V",
                       &pc->upstream->name, &pc->server->name);

        ngx_http_mcp_pg_connected(pc);
        return;

    case PGRES_POLLING_FAILED:
        ngx_http_mcp_pg_error(pc, "cannot connect to");
        ngx_http_mcp_pg_failed(pc, PQconnectionNeedsPassword(pc->conn)
                                   || ngx_strstr(PQerrorMessage(pc->conn),
                                                 "authentication failed"));
        return;

    case PGRES_POLLING_WRITING:
        if (ngx_http_mcp_pg_want_write(pc, 1) != NGX_OK) {
            ngx_http_mcp_pg_failed(pc, 0);
        }

        return;

    default: /* PGRES_POLLING_READING */
        if (ngx_http_mcp_pg_want_write(pc, 0) != NGX_OK) {
            ngx_http_mcp_pg_failed(pc, 0);
        }

        return;
    }
}


ngx_int_t
ngx_http_mcp_pg_send(ngx_http_mcp_pg_conn_t *pc,
    ngx_http_mcp_pg_result_pt handler, void *data)
{
    pc->handler = handler;
    pc->data = data;
    ngx_http_mcp_pg_set_state(pc, NGX_HTTP_MCP_PG_BUSY);
    pc->c->idle = 0;

    if (ngx_http_mcp_pg_flush(pc) != NGX_OK) {
        ngx_http_mcp_pg_error(pc, "cannot send to");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_pg_flush(ngx_http_mcp_pg_conn_t *pc)
{
    int  rc;

    rc = PQflush(pc->conn);

    if (rc == -1) {
        return NGX_ERROR;
    }

    return ngx_http_mcp_pg_want_write(pc, rc == 1);
}


static ngx_int_t
ngx_http_mcp_pg_want_write(ngx_http_mcp_pg_conn_t *pc, ngx_uint_t on)
{
    ngx_event_t  *wev;

    wev = pc->c->write;

    if (on && !wev->active) {
        return ngx_add_event(wev, NGX_WRITE_EVENT, NGX_LEVEL_EVENT);
    }

    if (!on && wev->active) {
        return ngx_del_event(wev, NGX_WRITE_EVENT, 0);
    }

    return NGX_OK;
}


/* results for the user, as many as libpq has whole */

static void
ngx_http_mcp_pg_read(ngx_http_mcp_pg_conn_t *pc)
{
    ngx_int_t   rc;
    PGresult   *res;
    ngx_uint_t  nulls;

    if (!PQconsumeInput(pc->conn)) {
        goto lost;
    }

    ngx_http_mcp_pg_drain(pc);

    if (pc->c->write->active && ngx_http_mcp_pg_flush(pc) != NGX_OK) {
        goto lost;
    }

    nulls = 0;

    while (!PQisBusy(pc->conn)) {

        res = PQgetResult(pc->conn);

        /* two NULLs in a row: nothing more until more input */

        if (res == NULL && nulls++) {
            break;
        }

        if (res) {
            nulls = 0;
        }

        rc = pc->handler(pc, res, 0);

        if (rc == NGX_DONE) {
            /* pc may be pooled, closed, or another user's by now */
            return;
        }

        if (rc == NGX_ERROR) {
            ngx_http_mcp_pg_free(pc, 0);
            return;
        }

        if (res == NULL && PQstatus(pc->conn) == CONNECTION_BAD) {
            goto lost;
        }
    }

    if (PQstatus(pc->conn) != CONNECTION_BAD) {
        return;
    }

lost:

    ngx_http_mcp_pg_error(pc, "lost the connection to");
    pc->handler(pc, NULL, 1);
    pc->handler = NULL;
    ngx_http_mcp_pg_lost(pc);
}


void
ngx_http_mcp_pg_keep(ngx_http_mcp_pg_conn_t *pc)
{
    ngx_http_mcp_pg_set_state(pc, NGX_HTTP_MCP_PG_IDLE);
    pc->handler = NULL;
    pc->data = NULL;
    pc->c->idle = 1;

    (void) ngx_http_mcp_pg_want_write(pc, 0);
}


/* every change of state after the connection is made: the gauges follow */

void
ngx_http_mcp_pg_set_state(ngx_http_mcp_pg_conn_t *pc, ngx_uint_t state)
{
    ngx_http_mcp_conn_state(pc->upstream->metric, pc->state, state);
    pc->state = state;
}


/* LISTEN/NOTIFY messages nobody asked for */

static void
ngx_http_mcp_pg_drain(ngx_http_mcp_pg_conn_t *pc)
{
    PGnotify  *n;

    while ((n = PQnotifies(pc->conn)) != NULL) {
        PQfreemem(n);
    }
}


/*
 * libpq's notices (WARNING, NOTICE) would go to stderr: they may quote
 * data, so they are logged at debug level only
 */

static void
ngx_http_mcp_pg_notice(void *arg, const char *message)
{
#if (NGX_DEBUG)
    ngx_http_mcp_pg_conn_t *pc = arg;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, &pc->log, 0,
                   "postgres: notice: %s", message);
#endif
}


/*
 * libpq's text names the server and the user, never the password; the
 * log names the upstream too.  Answers to clients never carry it.
 */

static void
ngx_http_mcp_pg_error(ngx_http_mcp_pg_conn_t *pc, char *what)
{
    u_char   buf[NGX_MAX_ERROR_STR];
    size_t   len, i;
    char    *msg;

    msg = pc->conn ? PQerrorMessage(pc->conn) : "";
    len = ngx_min(ngx_strlen(msg), sizeof(buf));

    /* one line */

    for (i = 0; i < len; i++) {
        buf[i] = (msg[i] == '\n' || msg[i] == '\t') ? ' ' : msg[i];
    }

    while (len && buf[len - 1] == ' ') {
        len--;
    }

    ngx_log_error(NGX_LOG_ERR, &pc->log, 0,
                  "postgres: %s upstream \"%V\" server %V: %*s",
                  what, &pc->upstream->name, &pc->server->name, len, buf);
}
