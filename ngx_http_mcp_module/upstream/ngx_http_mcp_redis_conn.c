
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_http.h>

#include "upstream/ngx_http_mcp_redis_int.h"


/*
 * hiredis's asynchronous API on an nginx connection.  hiredis owns the
 * socket (it connects without blocking and closes it); nginx's event loop
 * tells it when to read and write, through the hooks hiredis calls to add
 * and remove interest.  Events are level-triggered: hiredis reads at most
 * 16 KB a call, and a level event comes again while more is waiting.
 *
 * A connection sends AUTH and SELECT first, when its server has them, and
 * counts as connected once their replies are in; until then the connect
 * timer runs.  Everything that ends a connection (an error, a timeout, the
 * pool) goes through redisAsyncFree(): hiredis then answers every pending
 * command with no reply and calls the cleanup hook, where the nginx side
 * is taken down and the pool forgets the connection.
 */


static void ngx_http_mcp_redis_read(ngx_event_t *ev);
static void ngx_http_mcp_redis_write(ngx_event_t *ev);
static void ngx_http_mcp_redis_add_read(void *data);
static void ngx_http_mcp_redis_del_read(void *data);
static void ngx_http_mcp_redis_add_write(void *data);
static void ngx_http_mcp_redis_del_write(void *data);
static void ngx_http_mcp_redis_cleanup(void *data);
static void ngx_http_mcp_redis_on_connect(const redisAsyncContext *ac,
    int status);
static void ngx_http_mcp_redis_setup_reply(redisAsyncContext *ac, void *r,
    void *data);
static void ngx_http_mcp_redis_connect_timeout(ngx_event_t *ev);
static void ngx_http_mcp_redis_fail(ngx_http_mcp_redis_conn_t *rc,
    const char *why);


/* the connection whose write handler runs (never dereferenced) */
static ngx_http_mcp_redis_conn_t  *ngx_http_mcp_redis_writing;


ngx_http_mcp_redis_conn_t *
ngx_http_mcp_redis_connect(ngx_http_mcp_redis_upstream_t *u,
    ngx_http_mcp_redis_server_t *s)
{
    int                         argc;
    char                        db[NGX_INT_T_LEN];
    const char                 *argv[3];
    size_t                      argvlen[3];
    ngx_connection_t           *c;
    redisAsyncContext          *ac;
    ngx_http_mcp_redis_conn_t  *rc;

    rc = ngx_calloc(sizeof(ngx_http_mcp_redis_conn_t), ngx_cycle->log);
    if (rc == NULL) {
        return NULL;
    }

    rc->upstream = u;
    rc->server = s;
    rc->log = *ngx_cycle->log;
    rc->log.action = "connecting to Redis";

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, &rc->log, 0,
                   "mcp redis connect to %V in \"%V\"", &s->name, &u->name);

    ac = s->port ? redisAsyncConnect(s->ip, s->port)
                 : redisAsyncConnectUnix(s->ip);

    if (ac == NULL) {
        ngx_free(rc);
        return NULL;
    }

    if (ac->err) {
        ngx_log_error(NGX_LOG_ERR, &rc->log, 0,
                      "cannot connect to Redis server %V of upstream "
                      "\"%V\": %s", &s->name, &u->name, ac->errstr);
        redisAsyncFree(ac);
        ngx_free(rc);
        return NULL;
    }

    c = ngx_get_connection(ac->c.fd, &rc->log);
    if (c == NULL) {
        redisAsyncFree(ac);
        ngx_free(rc);
        return NULL;
    }

    c->data = rc;
    c->log = &rc->log;
    c->read->log = &rc->log;
    c->write->log = &rc->log;
    c->read->handler = ngx_http_mcp_redis_read;
    c->write->handler = ngx_http_mcp_redis_write;

    rc->ac = ac;
    rc->c = c;

    ac->data = rc;
    ac->ev.data = rc;
    ac->ev.addRead = ngx_http_mcp_redis_add_read;
    ac->ev.delRead = ngx_http_mcp_redis_del_read;
    ac->ev.addWrite = ngx_http_mcp_redis_add_write;
    ac->ev.delWrite = ngx_http_mcp_redis_del_write;
    ac->ev.cleanup = ngx_http_mcp_redis_cleanup;

    rc->connect.handler = ngx_http_mcp_redis_connect_timeout;
    rc->connect.data = rc;
    rc->connect.log = &rc->log;
    ngx_add_timer(&rc->connect, s->connect_timeout);

    /* from here on, hiredis's cleanup hook ends it */

    redisAsyncSetConnectCallback(ac, ngx_http_mcp_redis_on_connect);

    if (s->password.len) {
        argc = 0;
        argv[argc] = "AUTH";
        argvlen[argc++] = 4;

        if (s->user.len) {
            argv[argc] = (char *) s->user.data;
            argvlen[argc++] = s->user.len;
        }

        argv[argc] = (char *) s->password.data;
        argvlen[argc++] = s->password.len;

        if (redisAsyncCommandArgv(ac, ngx_http_mcp_redis_setup_reply, NULL,
                                  argc, argv, argvlen)
            != REDIS_OK)
        {
            goto failed;
        }

        rc->pending++;
        rc->setup++;
    }

    if (s->db) {
        argv[0] = "SELECT";
        argvlen[0] = 6;
        argv[1] = db;
        argvlen[1] = ngx_sprintf((u_char *) db, "%i", s->db) - (u_char *) db;

        if (redisAsyncCommandArgv(ac, ngx_http_mcp_redis_setup_reply, NULL,
                                  2, argv, argvlen)
            != REDIS_OK)
        {
            goto failed;
        }

        rc->pending++;
        rc->setup++;
    }

    return rc;

failed:

    /* the pool counts it, then its cleanup runs */

    rc->closing = 1;
    ngx_post_event(&rc->connect, &ngx_posted_events);

    return rc;
}


void
ngx_http_mcp_redis_close(ngx_http_mcp_redis_conn_t *rc)
{
    if (rc->closing) {
        return;
    }

    rc->closing = 1;

    /* inside a hiredis callback, the free waits until the callback ends */

    redisAsyncFree(rc->ac);
}


static void
ngx_http_mcp_redis_on_connect(const redisAsyncContext *ac, int status)
{
    ngx_http_mcp_redis_conn_t  *rc = ac->data;

    if (status != REDIS_OK) {
        ngx_log_error(NGX_LOG_ERR, &rc->log, 0,
                      "cannot connect to Redis server %V of upstream "
                      "\"%V\": %s", &rc->server->name, &rc->upstream->name,
                      ac->errstr);

        /* hiredis frees the context when this returns */

        rc->closing = 1;
        ngx_http_mcp_redis_fail(rc, "cannot connect");
        return;
    }

    rc->log.action = "talking to Redis";

    /*
     * the commands sent while it connects are pending too: only the
     * set-up's replies are waited for
     */

    if (rc->setup == 0) {
        ngx_http_mcp_redis_connected(rc);
    }
}


/* the reply to AUTH or SELECT */

static void
ngx_http_mcp_redis_setup_reply(redisAsyncContext *ac, void *r, void *data)
{
    redisReply                 *reply = r;
    ngx_http_mcp_redis_conn_t  *rc = ac->data;

    if (reply == NULL) {
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, &rc->log, 0,
                      "Redis server %V of upstream \"%V\" refused the "
                      "connection's set-up: %*s", &rc->server->name,
                      &rc->upstream->name,
                      (size_t) ngx_min(reply->len, 200), reply->str);

        ngx_http_mcp_redis_fail(rc, "authentication or database "
                                    "selection failed");
        ngx_http_mcp_redis_close(rc);
        return;
    }

    rc->pending--;

    if (--rc->setup == 0 && !rc->connected) {
        ngx_http_mcp_redis_connected(rc);
    }
}


static void
ngx_http_mcp_redis_connect_timeout(ngx_event_t *ev)
{
    ngx_http_mcp_redis_conn_t  *rc = ev->data;

    if (rc->closing) {
        /* the set-up could not even be queued */
        ngx_http_mcp_redis_fail(rc, "cannot connect");
        rc->closing = 0;
        ngx_http_mcp_redis_close(rc);
        return;
    }

    ngx_log_error(NGX_LOG_ERR, &rc->log, NGX_ETIMEDOUT,
                  "Redis server %V of upstream \"%V\" did not answer in "
                  "time", &rc->server->name, &rc->upstream->name);

    ngx_http_mcp_redis_fail(rc, "connect timed out");
    ngx_http_mcp_redis_close(rc);
}


/* a connection that never became ready: the server counts a failure */

static void
ngx_http_mcp_redis_fail(ngx_http_mcp_redis_conn_t *rc, const char *why)
{
    ngx_http_mcp_redis_upstream_t  *u = rc->upstream;

    if (rc->connected) {
        return;
    }

    ngx_http_mcp_peer_failed(&rc->server->peer);

    u->state = NGX_HTTP_MCP_REDIS_DOWN;
    u->why = why;
}


static void
ngx_http_mcp_redis_read(ngx_event_t *ev)
{
    ngx_connection_t           *c = ev->data;
    redisReader                *reader;
    ngx_http_mcp_redis_conn_t  *rc = c->data;

    reader = rc->ac->c.reader;

    if (reader->len - reader->pos > NGX_HTTP_MCP_REDIS_MAX_REPLY) {
        ngx_log_error(NGX_LOG_ERR, &rc->log, 0,
                      "Redis server %V of upstream \"%V\" sent a reply "
                      "larger than %uz bytes", &rc->server->name,
                      &rc->upstream->name,
                      (size_t) NGX_HTTP_MCP_REDIS_MAX_REPLY);
        ngx_http_mcp_redis_close(rc);
        return;
    }

    /* may free the context, and rc with it */

    redisAsyncHandleRead(rc->ac);
}


static void
ngx_http_mcp_redis_write(ngx_event_t *ev)
{
    ngx_connection_t           *c = ev->data;
    ngx_http_mcp_redis_conn_t  *rc = c->data;

    /* may free the context, and rc with it */

    ngx_http_mcp_redis_writing = rc;

    redisAsyncHandleWrite(rc->ac);

    ngx_http_mcp_redis_writing = NULL;
}


static void
ngx_http_mcp_redis_add_read(void *data)
{
    ngx_http_mcp_redis_conn_t  *rc = data;

    if (!rc->c->read->active) {
        (void) ngx_add_event(rc->c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT);
    }
}


static void
ngx_http_mcp_redis_del_read(void *data)
{
    ngx_http_mcp_redis_conn_t  *rc = data;

    if (rc->c->read->active) {
        (void) ngx_del_event(rc->c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT);
    }
}


/*
 * Commands queued on a connected context are written once the event loop
 * has run its turn (a posted event): the commands of one turn leave in one
 * write, and no event is added and deleted for each.  Only a write that
 * could not finish, and the connect, wait for the socket to be writable.
 */

static void
ngx_http_mcp_redis_add_write(void *data)
{
    ngx_http_mcp_redis_conn_t  *rc = data;

    ngx_event_t  *wev;

    wev = rc->c->write;

    if (wev->active) {
        return;
    }

    if (rc == ngx_http_mcp_redis_writing
        || !(rc->ac->c.flags & REDIS_CONNECTED))
    {
        if (wev->posted) {
            ngx_delete_posted_event(wev);
        }

        (void) ngx_add_event(wev, NGX_WRITE_EVENT, NGX_LEVEL_EVENT);
        return;
    }

    if (!wev->posted) {
        ngx_post_event(wev, &ngx_posted_events);
    }
}


static void
ngx_http_mcp_redis_del_write(void *data)
{
    ngx_http_mcp_redis_conn_t  *rc = data;

    if (rc->c->write->posted) {
        ngx_delete_posted_event(rc->c->write);
    }

    if (rc->c->write->active) {
        (void) ngx_del_event(rc->c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT);
    }
}


/*
 * hiredis is done with the context (it closes the socket next): the
 * nginx connection goes without closing it, as ngx_close_connection()
 * would take it down otherwise
 */

static void
ngx_http_mcp_redis_cleanup(void *data)
{
    ngx_connection_t           *c;
    ngx_http_mcp_redis_conn_t  *rc = data;

    if (rc->connect.timer_set) {
        ngx_del_timer(&rc->connect);
    }

    if (rc->connect.posted) {
        ngx_delete_posted_event(&rc->connect);
    }

    c = rc->c;

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    if (c->read->active || c->write->active) {
        if (ngx_del_conn) {
            (void) ngx_del_conn(c, NGX_CLOSE_EVENT);

        } else {
            if (c->read->active) {
                (void) ngx_del_event(c->read, NGX_READ_EVENT,
                                     NGX_CLOSE_EVENT);
            }

            if (c->write->active) {
                (void) ngx_del_event(c->write, NGX_WRITE_EVENT,
                                     NGX_CLOSE_EVENT);
            }
        }
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    c->read->closed = 1;
    c->write->closed = 1;

    ngx_free_connection(c);
    c->fd = (ngx_socket_t) -1;

    rc->closing = 1;

    ngx_http_mcp_redis_gone(rc, rc->ac->err ? "connection lost" : NULL);
}
