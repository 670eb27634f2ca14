
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_http.h>

#include "upstream/ngx_http_mcp_redis_int.h"


/*
 * Each worker's connections to an upstream.  Commands are pipelined: one
 * goes to the live connection with the fewest replies due, and a new
 * connection is opened for it while the upstream has fewer than
 * mcp_redis_keepalive and none is free.  A blocking command takes a free
 * connection for itself until its reply.  Servers that fail are skipped as
 * nginx's round robin does.  Channels to listen to have a connection of
 * their own, made again after a pause whenever it is lost.
 *
 * A command in flight is a slot, owned here: hiredis holds it until the
 * reply (or the end of the connection) comes, and the user's command may
 * leave before that (ngx_http_mcp_redis_cancel()).
 */


typedef struct {
    ngx_http_mcp_redis_cmd_t        *cmd;     /* NULL: cancelled */
    ngx_http_mcp_redis_conn_t       *rc;
} ngx_http_mcp_redis_slot_t;


static void ngx_http_mcp_redis_ready(ngx_http_mcp_redis_upstream_t *u);
static ngx_http_mcp_redis_conn_t *ngx_http_mcp_redis_pick(
    ngx_http_mcp_redis_upstream_t *u, ngx_http_mcp_redis_cmd_t *cmd);
static ngx_http_mcp_redis_conn_t *ngx_http_mcp_redis_new(
    ngx_http_mcp_redis_upstream_t *u, ngx_uint_t probe);
static void ngx_http_mcp_redis_reply(redisAsyncContext *ac, void *r,
    void *data);
static void ngx_http_mcp_redis_timeout(ngx_event_t *ev);
static void ngx_http_mcp_redis_lost(ngx_http_mcp_redis_upstream_t *u,
    const char *why);
static void ngx_http_mcp_redis_listen(ngx_event_t *ev);
static void ngx_http_mcp_redis_message(redisAsyncContext *ac, void *r,
    void *data);
static const char *ngx_http_mcp_redis_why(ngx_http_mcp_redis_upstream_t *u);


static ngx_uint_t  ngx_http_mcp_redis_exiting;

/* the upstreams this worker has connections to, to close at exit */
static ngx_array_t  *ngx_http_mcp_redis_active;


static void
ngx_http_mcp_redis_ready(ngx_http_mcp_redis_upstream_t *u)
{
    ngx_http_mcp_redis_upstream_t  **up;

    if (u->ready) {
        return;
    }

    if (ngx_http_mcp_redis_active == NULL) {
        ngx_http_mcp_redis_active = ngx_array_create(ngx_cycle->pool, 4,
                                    sizeof(ngx_http_mcp_redis_upstream_t *));
    }

    up = ngx_http_mcp_redis_active
         ? ngx_array_push(ngx_http_mcp_redis_active) : NULL;

    if (up == NULL) {
        ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                      "mcp: no memory for Redis upstream \"%V\"", &u->name);
    } else {
        *up = u;
    }

    ngx_queue_init(&u->conns);

    u->retry.handler = ngx_http_mcp_redis_listen;
    u->retry.data = u;
    u->retry.log = ngx_cycle->log;
    u->retry.cancelable = 1;

    u->ready = 1;
}


ngx_int_t
ngx_http_mcp_redis_send(ngx_http_mcp_redis_upstream_t *u,
    ngx_http_mcp_redis_cmd_t *cmd, int argc, const char **argv,
    const size_t *argvlen)
{
    ngx_http_mcp_redis_conn_t  *rc;
    ngx_http_mcp_redis_slot_t  *slot;

    ngx_http_mcp_redis_ready(u);

    cmd->slot = NULL;

    rc = ngx_http_mcp_redis_pick(u, cmd);
    if (rc == NULL) {
        return NGX_DECLINED;
    }

    slot = ngx_alloc(sizeof(ngx_http_mcp_redis_slot_t), cmd->log);
    if (slot == NULL) {
        return NGX_ERROR;
    }

    slot->cmd = cmd;
    slot->rc = rc;

    if (redisAsyncCommandArgv(rc->ac, ngx_http_mcp_redis_reply, slot, argc,
                              argv, argvlen)
        != REDIS_OK)
    {
        ngx_free(slot);
        ngx_str_set(&cmd->error, "the command cannot be sent");
        return NGX_DECLINED;
    }

    rc->pending++;

    if (cmd->exclusive) {
        rc->exclusive = 1;
    }

    ngx_http_mcp_redis_count(rc);

    cmd->slot = slot;

    if (cmd->timeout) {
        ngx_memzero(&cmd->timer, sizeof(ngx_event_t));
        cmd->timer.handler = ngx_http_mcp_redis_timeout;
        cmd->timer.data = cmd;
        cmd->timer.log = cmd->log;
        ngx_add_timer(&cmd->timer, cmd->timeout);
    }

    return NGX_AGAIN;
}


void
ngx_http_mcp_redis_cancel(ngx_http_mcp_redis_cmd_t *cmd)
{
    ngx_http_mcp_redis_slot_t  *slot;

    if (cmd->timer.timer_set) {
        ngx_del_timer(&cmd->timer);
    }

    slot = cmd->slot;

    if (slot == NULL) {
        return;
    }

    cmd->slot = NULL;
    slot->cmd = NULL;

    /* a blocking command would hold its connection: the connection goes */

    if (slot->rc->exclusive) {
        ngx_http_mcp_redis_close(slot->rc);
    }
}


/*
 * the connection for a command: the free one, or one more, or the one
 * with the fewest replies due; a blocking command needs a free one
 */

static ngx_http_mcp_redis_conn_t *
ngx_http_mcp_redis_pick(ngx_http_mcp_redis_upstream_t *u,
    ngx_http_mcp_redis_cmd_t *cmd)
{
    ngx_queue_t                *q;
    ngx_http_mcp_redis_conn_t  *rc, *best;

    best = NULL;

    for (q = ngx_queue_head(&u->conns);
         q != ngx_queue_sentinel(&u->conns);
         q = ngx_queue_next(q))
    {
        rc = ngx_queue_data(q, ngx_http_mcp_redis_conn_t, queue);

        if (!ngx_http_mcp_redis_live(rc) || rc->exclusive) {
            continue;
        }

        /*
         * the first with room: commands of one turn of the event loop
         * leave together, in one write, and their replies come in one read
         */

        if (rc->pending == 0
            || (!cmd->exclusive && rc->pending < NGX_HTTP_MCP_REDIS_BATCH))
        {
            return rc;
        }

        if (best == NULL || rc->pending < best->pending) {
            best = rc;
        }
    }

    if (best && cmd->exclusive) {
        best = NULL;
    }

    if (u->nconns < u->keepalive) {
        rc = ngx_http_mcp_redis_new(u, 0);
        if (rc) {
            return rc;
        }
    }

    if (best) {
        return best;
    }

    if (u->nconns >= u->keepalive) {
        ngx_str_set(&cmd->error, "no free connection (all are held by "
                                 "blocking commands)");
        return NULL;
    }

    cmd->error.data = (u_char *) ngx_http_mcp_redis_why(u);
    cmd->error.len = ngx_strlen(cmd->error.data);

    return NULL;
}


static ngx_http_mcp_redis_conn_t *
ngx_http_mcp_redis_new(ngx_http_mcp_redis_upstream_t *u, ngx_uint_t probe)
{
    ngx_http_mcp_redis_conn_t    *rc;
    ngx_http_mcp_redis_server_t  *s;

    if (ngx_http_mcp_redis_exiting) {
        return NULL;
    }

    s = ngx_http_mcp_peer_pick(u->servers.elts,
                               sizeof(ngx_http_mcp_redis_server_t),
                               u->servers.nelts, &u->next, probe);
    if (s == NULL) {
        return NULL;
    }

    rc = ngx_http_mcp_redis_connect(u, s);

    if (rc == NULL) {
        ngx_http_mcp_peer_failed(&s->peer);
        u->state = NGX_HTTP_MCP_REDIS_DOWN;
        u->why = "cannot connect";
        return NULL;
    }

    ngx_queue_insert_tail(&u->conns, &rc->queue);
    u->nconns++;

    ngx_http_mcp_redis_count(rc);

    return rc;
}


static void
ngx_http_mcp_redis_reply(redisAsyncContext *ac, void *r, void *data)
{
    redisReply                 *reply = r;
    ngx_str_t                   error;
    ngx_http_mcp_redis_cmd_t   *cmd;
    ngx_http_mcp_redis_conn_t  *rc;
    ngx_http_mcp_redis_slot_t  *slot = data;

    rc = slot->rc;
    cmd = slot->cmd;

    ngx_free(slot);

    if (--rc->pending == 0) {
        rc->exclusive = 0;
    }

    ngx_http_mcp_redis_count(rc);

    if (cmd == NULL) {
        return;
    }

    cmd->slot = NULL;

    if (cmd->timer.timer_set) {
        ngx_del_timer(&cmd->timer);
    }

    if (reply) {
        cmd->handler(cmd, reply, NULL);
        return;
    }

    if (!rc->connected) {
        cmd->failure = NGX_HTTP_MCP_REDIS_UNAVAILABLE;
        error.data = (u_char *) ngx_http_mcp_redis_why(rc->upstream);

    } else {
        cmd->failure = NGX_HTTP_MCP_REDIS_LOST;
        error.data = (u_char *) "connection lost";
    }

    error.len = ngx_strlen(error.data);

    cmd->handler(cmd, NULL, &error);
}


/*
 * Redis answers in order: the replies behind one that is late are as
 * late, so the connection goes and they fail now
 */

static void
ngx_http_mcp_redis_timeout(ngx_event_t *ev)
{
    ngx_str_t                   error;
    ngx_http_mcp_redis_cmd_t   *cmd = ev->data;
    ngx_http_mcp_redis_slot_t  *slot;

    slot = cmd->slot;
    cmd->slot = NULL;

    if (slot) {
        slot->cmd = NULL;

        ngx_log_error(NGX_LOG_ERR, cmd->log, NGX_ETIMEDOUT,
                      "Redis server %V of upstream \"%V\" did not answer "
                      "in time, closing the connection",
                      &slot->rc->server->name, &slot->rc->upstream->name);

        ngx_http_mcp_redis_close(slot->rc);
    }

    ngx_str_set(&error, "timed out");
    cmd->failure = NGX_HTTP_MCP_REDIS_TIMED_OUT;

    cmd->handler(cmd, NULL, &error);
}


void
ngx_http_mcp_redis_connected(ngx_http_mcp_redis_conn_t *rc)
{
    int                             argc;
    const char                    **argv;
    size_t                         *argvlen;
    ngx_uint_t                      i;
    ngx_http_mcp_redis_sub_t       *sub;
    ngx_http_mcp_redis_upstream_t  *u;

    u = rc->upstream;

    if (rc->connect.timer_set) {
        ngx_del_timer(&rc->connect);
    }

    rc->connected = 1;
    ngx_http_mcp_peer_ok(&rc->server->peer);

    if (u->state == NGX_HTTP_MCP_REDIS_DOWN) {
        ngx_log_error(NGX_LOG_NOTICE, &rc->log, 0,
                      "Redis server %V of upstream \"%V\" is reachable "
                      "again", &rc->server->name, &u->name);
    }

    u->state = NGX_HTTP_MCP_REDIS_UP;
    u->why = NULL;

    ngx_http_mcp_redis_count(rc);

    if (!rc->subscriber || u->subs.nelts == 0) {
        return;
    }

    argc = 1 + u->subs.nelts;
    argv = ngx_alloc(argc * (sizeof(char *) + sizeof(size_t)), &rc->log);
    if (argv == NULL) {
        ngx_http_mcp_redis_close(rc);
        return;
    }

    argvlen = (size_t *) (argv + argc);

    argv[0] = "SUBSCRIBE";
    argvlen[0] = 9;

    sub = u->subs.elts;

    for (i = 0; i < u->subs.nelts; i++) {
        argv[1 + i] = (char *) sub[i].channel.data;
        argvlen[1 + i] = sub[i].channel.len;
    }

    if (redisAsyncCommandArgv(rc->ac, ngx_http_mcp_redis_message, u, argc,
                              argv, argvlen)
        != REDIS_OK)
    {
        ngx_http_mcp_redis_close(rc);
    }

    ngx_free(argv);
}


/* the end of a connection, from its cleanup */

void
ngx_http_mcp_redis_gone(ngx_http_mcp_redis_conn_t *rc, const char *why)
{
    ngx_uint_t                      lost;
    ngx_http_mcp_redis_upstream_t  *u;

    u = rc->upstream;

    if (why && rc->connected) {
        ngx_log_error(NGX_LOG_WARN, &rc->log, 0,
                      "Redis server %V of upstream \"%V\": %s",
                      &rc->server->name, &u->name, why);
    }

    /* a command connection that broke, rather than one closed here */

    lost = (why && rc->connected && !rc->subscriber);

    if (rc->subscriber) {
        u->subscriber = NULL;

        if (!ngx_http_mcp_redis_exiting && !u->retry.timer_set) {
            ngx_add_timer(&u->retry, NGX_HTTP_MCP_REDIS_RETRY);
        }

    } else {
        ngx_queue_remove(&rc->queue);
        u->nconns--;
    }

    ngx_http_mcp_conn_state(u->metric, rc->counted, NGX_HTTP_MCP_CONN_NONE);

    ngx_free(rc);

    if (lost) {
        ngx_http_mcp_redis_lost(u, why);
    }
}


/*
 * hiredis keeps reading every connection, idle ones too, so a server that
 * closes (dies, restarts) is seen here at once, not at the next command.
 * Unless another connection still works, readiness shows the upstream
 * down with why until one connects again, and one is tried now, as a
 * readiness check would: it fails at once when nothing listens, and puts
 * the upstream back up when the server is there (it closed idle clients).
 */

static void
ngx_http_mcp_redis_lost(ngx_http_mcp_redis_upstream_t *u, const char *why)
{
    ngx_uint_t                  connecting;
    ngx_queue_t                *q;
    ngx_http_mcp_redis_conn_t  *rc;

    connecting = 0;

    for (q = ngx_queue_head(&u->conns);
         q != ngx_queue_sentinel(&u->conns);
         q = ngx_queue_next(q))
    {
        rc = ngx_queue_data(q, ngx_http_mcp_redis_conn_t, queue);

        if (!ngx_http_mcp_redis_live(rc)) {
            continue;
        }

        if (rc->connected) {
            return;
        }

        connecting = 1;
    }

    u->state = NGX_HTTP_MCP_REDIS_DOWN;
    u->why = why;

    if (!connecting && u->nconns < u->keepalive) {
        (void) ngx_http_mcp_redis_new(u, 1);
    }
}


/*
 * connecting until connected (AUTH and SELECT included), then the
 * listener, or busy while replies are due, else idle
 */

void
ngx_http_mcp_redis_count(ngx_http_mcp_redis_conn_t *rc)
{
    ngx_uint_t  state;

    if (!rc->connected) {
        state = NGX_HTTP_MCP_CONN_CONNECTING;

    } else if (rc->subscriber) {
        state = NGX_HTTP_MCP_CONN_SUBSCRIBED;

    } else if (rc->pending) {
        state = NGX_HTTP_MCP_CONN_BUSY;

    } else {
        state = NGX_HTTP_MCP_CONN_IDLE;
    }

    ngx_http_mcp_conn_state(rc->upstream->metric, rc->counted, state);
    rc->counted = state;
}


ngx_int_t
ngx_http_mcp_redis_subscribe(ngx_http_mcp_redis_upstream_t *u,
    ngx_str_t *channel, ngx_http_mcp_redis_message_pt handler, void *data)
{
    ngx_http_mcp_redis_sub_t  *sub;

    ngx_http_mcp_redis_ready(u);

    if (u->subs.elts == NULL
        && ngx_array_init(&u->subs, ngx_cycle->pool, 2,
                          sizeof(ngx_http_mcp_redis_sub_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sub = ngx_array_push(&u->subs);
    if (sub == NULL) {
        return NGX_ERROR;
    }

    sub->channel = *channel;
    sub->handler = handler;
    sub->data = data;

    /* the listening connection starts from the event loop */

    if (u->subscriber == NULL && !u->retry.timer_set && !u->retry.posted) {
        ngx_post_event(&u->retry, &ngx_posted_events);
    }

    return NGX_OK;
}


static void
ngx_http_mcp_redis_listen(ngx_event_t *ev)
{
    ngx_http_mcp_redis_upstream_t  *u = ev->data;
    ngx_http_mcp_redis_server_t    *s;

    if (ngx_http_mcp_redis_exiting || u->subscriber) {
        return;
    }

    s = ngx_http_mcp_peer_pick(u->servers.elts,
                               sizeof(ngx_http_mcp_redis_server_t),
                               u->servers.nelts, &u->next, 1);

    u->subscriber = ngx_http_mcp_redis_connect(u, s);

    if (u->subscriber == NULL) {
        ngx_add_timer(&u->retry, NGX_HTTP_MCP_REDIS_RETRY);
        return;
    }

    u->subscriber->subscriber = 1;

    ngx_http_mcp_redis_count(u->subscriber);
}


/* a reply on the listening connection: a subscription, or a message */

static void
ngx_http_mcp_redis_message(redisAsyncContext *ac, void *r, void *data)
{
    redisReply                     *reply = r, **e;
    ngx_str_t                       channel, message;
    ngx_uint_t                      i;
    ngx_http_mcp_redis_sub_t       *sub;
    ngx_http_mcp_redis_upstream_t  *u = data;

    if (reply == NULL
        || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != 3)
    {
        return;
    }

    e = reply->element;

    if (e[0]->type != REDIS_REPLY_STRING
        || e[1]->type != REDIS_REPLY_STRING)
    {
        return;
    }

    channel.data = (u_char *) e[1]->str;
    channel.len = e[1]->len;

    sub = u->subs.elts;

    for (i = 0; i < u->subs.nelts; i++) {

        if (sub[i].channel.len != channel.len
            || ngx_memcmp(sub[i].channel.data, channel.data, channel.len)
               != 0)
        {
            continue;
        }

        if (e[0]->len == 9 && ngx_strncmp(e[0]->str, "subscribe", 9) == 0)
        {
            sub[i].handler(NULL, NULL, sub[i].data);

        } else if (e[0]->len == 7
                   && ngx_strncmp(e[0]->str, "message", 7) == 0
                   && e[2]->type == REDIS_REPLY_STRING)
        {
            message.data = (u_char *) e[2]->str;
            message.len = e[2]->len;

            sub[i].handler(&channel, &message, sub[i].data);
        }
    }
}


static const char *
ngx_http_mcp_redis_why(ngx_http_mcp_redis_upstream_t *u)
{
    return u->why ? u->why : "no live servers";
}


ngx_int_t
ngx_http_mcp_redis_check(ngx_http_mcp_redis_upstream_t *u, ngx_pool_t *pool,
    ngx_str_t *detail)
{
    u_char                     *p;
    ngx_uint_t                  connecting;
    ngx_queue_t                *q;
    ngx_http_mcp_redis_conn_t  *rc;

    ngx_http_mcp_redis_ready(u);

    if (u->state == NGX_HTTP_MCP_REDIS_UP) {
        p = ngx_pnalloc(pool, 64);
        if (p == NULL) {
            return NGX_ERROR;
        }

        detail->data = p;
        detail->len = ngx_sprintf(p, "%ui connection(s)", u->nconns) - p;
        return NGX_OK;
    }

    if (u->state == NGX_HTTP_MCP_REDIS_UNKNOWN) {
        ngx_str_set(detail, "not connected yet");

    } else {
        detail->data = (u_char *) ngx_http_mcp_redis_why(u);
        detail->len = ngx_strlen(detail->data);
    }

    /* a new attempt, whose outcome the next check sees */

    connecting = 0;

    for (q = ngx_queue_head(&u->conns);
         q != ngx_queue_sentinel(&u->conns);
         q = ngx_queue_next(q))
    {
        rc = ngx_queue_data(q, ngx_http_mcp_redis_conn_t, queue);

        if (!rc->connected) {
            connecting = 1;
        }
    }

    if (!connecting && u->nconns < u->keepalive) {
        (void) ngx_http_mcp_redis_new(u, 1);
    }

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_mcp_redis_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                       i;
    ngx_array_t                     *used;
    ngx_http_mcp_redis_upstream_t  **u;

    used = ngx_http_mcp_redis_used(cycle);
    if (used == NULL) {
        return NGX_OK;
    }

    u = used->elts;

    for (i = 0; i < used->nelts; i++) {
        ngx_http_mcp_redis_ready(u[i]);
        (void) ngx_http_mcp_redis_new(u[i], 0);
    }

    return NGX_OK;
}


void
ngx_http_mcp_redis_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                       i;
    ngx_array_t                     *used;
    ngx_queue_t                     *q;
    ngx_http_mcp_redis_conn_t       *rc;
    ngx_http_mcp_redis_upstream_t  **u;

    ngx_http_mcp_redis_exiting = 1;

    used = ngx_http_mcp_redis_active;
    if (used == NULL) {
        return;
    }

    u = used->elts;

    for (i = 0; i < used->nelts; i++) {
        if (!u[i]->ready) {
            continue;
        }

        if (u[i]->retry.timer_set) {
            ngx_del_timer(&u[i]->retry);
        }

        if (u[i]->subscriber) {
            ngx_http_mcp_redis_close(u[i]->subscriber);
        }

        /* closing one may end others (their users' handlers run) */

        for (q = ngx_queue_head(&u[i]->conns);
             q != ngx_queue_sentinel(&u[i]->conns);
             /* void */)
        {
            rc = ngx_queue_data(q, ngx_http_mcp_redis_conn_t, queue);

            if (rc->closing) {
                q = ngx_queue_next(q);
                continue;
            }

            ngx_http_mcp_redis_close(rc);
            q = ngx_queue_head(&u[i]->conns);
        }
    }
}
