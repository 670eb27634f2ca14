
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_STORE_H_INCLUDED_
#define _NGX_HTTP_MCP_STORE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_mcp_module.h"
#include "state/ngx_http_mcp_session.h"


/*
 * The session store: one table of operations per kind of store (shared
 * memory today, Redis later), as nchan's nchan_store_t, and per location
 * a reference to the store its sessions live in.
 *
 * Every operation answers at once (NGX_OK, NGX_DECLINED, NGX_ERROR, or
 * NGX_BUSY: the store cannot be reached now, which the client hears as 503
 * with Retry-After), or returns NGX_AGAIN and answers later with
 * done(data, rc), rc being what it would have returned at once.  The
 * rules:
 *
 *   - done is called exactly once after NGX_AGAIN, from the event loop,
 *     never from inside the operation, and never after another answer;
 *   - the operation takes what it needs of its arguments before it
 *     returns; only the session that receives an answer (the s of lookup
 *     and create) must stay in place until done;
 *   - pool is the caller's (a request's): answers are copied into it, and
 *     a store still waiting when the pool goes drops the answer without
 *     calling done (a cleanup of that pool); the pool's log is the one to
 *     write to;
 *   - an answer at once costs no allocation but the answer's own.
 */

typedef void (*ngx_http_mcp_store_done_pt)(void *data, ngx_int_t rc);

/*
 * A live session by id, its idle time refreshed; a session idle for
 * longer than timeout is gone.  NGX_OK with *s filled (strings in pool),
 * NGX_DECLINED when unknown, expired or deleted, NGX_ERROR.
 */
typedef ngx_int_t (*ngx_http_mcp_store_lookup_pt)(
    ngx_http_mcp_store_ref_t *ref, ngx_str_t *id, ngx_msec_t timeout,
    ngx_pool_t *pool, ngx_http_mcp_session_t *s,
    ngx_http_mcp_store_done_pt done, void *data);

/*
 * Stores a new session, s->timeout its idle timeout, and fills s->id with
 * a fresh id from a CSPRNG.  NGX_OK or NGX_ERROR.
 */
typedef ngx_int_t (*ngx_http_mcp_store_create_pt)(
    ngx_http_mcp_store_ref_t *ref, ngx_http_mcp_session_t *s,
    ngx_pool_t *pool, ngx_http_mcp_store_done_pt done, void *data);

/*
 * Writes back s->log_level and s->initialized of the session s->id.
 * NGX_OK, NGX_DECLINED when the session is gone, NGX_ERROR.
 */
typedef ngx_int_t (*ngx_http_mcp_store_update_pt)(
    ngx_http_mcp_store_ref_t *ref, ngx_http_mcp_session_t *s,
    ngx_pool_t *pool, ngx_http_mcp_store_done_pt done, void *data);

/*
 * Ends a session, if principal (NGX_HTTP_MCP_PRINCIPAL_LEN bytes) is the
 * one it was created with: NGX_OK, NGX_DECLINED when unknown or another
 * principal's, NGX_ERROR.
 */
typedef ngx_int_t (*ngx_http_mcp_store_delete_pt)(
    ngx_http_mcp_store_ref_t *ref, ngx_str_t *id, u_char *principal,
    ngx_pool_t *pool, ngx_http_mcp_store_done_pt done, void *data);


/*
 * Readiness, for `mcp_health ready`: whether the store can serve now, at
 * once (a remote store answers from what its connections know).  *name
 * says which store, *detail what was found, both in pool.  NGX_OK, or
 * NGX_DECLINED when it cannot serve.
 */
typedef ngx_int_t (*ngx_http_mcp_store_check_pt)(
    ngx_http_mcp_store_ref_t *ref, ngx_pool_t *pool, ngx_str_t *name,
    ngx_str_t *detail);

typedef struct {
    ngx_str_t                       name;       /* "shm", ... */
    ngx_http_mcp_store_lookup_pt    lookup;
    ngx_http_mcp_store_create_pt    create;
    ngx_http_mcp_store_update_pt    update;
    ngx_http_mcp_store_delete_pt    delete;
    ngx_http_mcp_store_check_pt     check;
} ngx_http_mcp_store_t;


/* what a location's sessions live in (mlcf->session_store) */

struct ngx_http_mcp_store_ref_s {
    ngx_http_mcp_store_t           *store;      /* its operations */
    void                           *data;       /* that store's own:
                                                   shm: the ngx_shm_zone_t */
};


#endif /* _NGX_HTTP_MCP_STORE_H_INCLUDED_ */
