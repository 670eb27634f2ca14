
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_DISPATCH_H_INCLUDED_
#define _NGX_HTTP_MCP_DISPATCH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_mcp_module.h"
#include "json/ngx_http_mcp_json.h"
#include "state/ngx_http_mcp_session.h"
#include "catalog/ngx_http_mcp_registry.h"
#include "protocol/ngx_http_mcp_jsonrpc.h"


typedef enum {
    NGX_HTTP_MCP_ERA_NONE = 0,      /* legacy, no session: initialize only */
    NGX_HTTP_MCP_ERA_SESSION,       /* legacy, Mcp-Session-Id given */
    NGX_HTTP_MCP_ERA_MODERN         /* 2026-07-28 and later, stateless */
} ngx_http_mcp_era_e;


typedef enum {
    NGX_HTTP_MCP_SESSION_KEEP = 0,
    NGX_HTTP_MCP_SESSION_CREATE,    /* store ->session, send its id */
    NGX_HTTP_MCP_SESSION_UPDATE     /* write ->session back */
} ngx_http_mcp_session_action_e;


/* subscriptions/listen (protocol/ngx_http_mcp_subscribe.h) */
typedef struct ngx_http_mcp_listen_s  ngx_http_mcp_listen_t;


/*
 * One POST, as layer 2 sees it: what transport read (headers, the parsed
 * body, the session copied out of the store) and what it must send.
 */

typedef struct {
    ngx_pool_t                     *pool;
    ngx_log_t                      *log;
    ngx_http_mcp_loc_conf_t        *conf;

    ngx_http_mcp_json_t            *body;
    ngx_str_t                       h_version;   /* MCP-Protocol-Version */
    ngx_str_t                       h_method;    /* Mcp-Method */
    ngx_str_t                       h_name;      /* Mcp-Name */
    ngx_str_t                       h_session;   /* Mcp-Session-Id */
    ngx_array_t                    *h_params;    /* ngx_keyval_t: the
                                                    Mcp-Param-* suffixes */
    unsigned                        has_version:1;
    unsigned                        has_method:1;
    unsigned                        has_name:1;
    unsigned                        has_session:1;

    ngx_http_mcp_era_e              era;
    ngx_http_mcp_session_t         *session;     /* NULL without one */
    ngx_http_mcp_identity_t        *identity;    /* the caller (auth/) */
    ngx_http_mcp_obs_t             *obs;         /* what it did (observe/),
                                                    or NULL */

    /* out */
    ngx_uint_t                      status;      /* 200, 202, 4xx */
    ngx_str_t                       out;         /* JSON, empty for 202 */
    ngx_http_mcp_session_action_e   session_action;
    ngx_http_mcp_session_t          new_session;
    ngx_str_t                       method;      /* for logs: $mcp_method */

    /*
     * status 403: an item needs scopes the caller lacks; these, joined by
     * spaces, for the challenge (WWW-Authenticate) transport adds
     */
    ngx_str_t                       scope_needed;
    ngx_str_t                       tool;        /* for logs: $mcp_tool */

    /*
     * NGX_AGAIN from dispatch: a backend answers a tools/call,
     * resources/read or prompts/get later; transport starts it and calls
     * ngx_http_mcp_dispatch_resume() when it is done
     */
    ngx_http_mcp_bcall_t           *bcall;
    void                           *call;            /* layer 2's state */

    /*
     * limits, when the location has them: ngx_http_mcp_dispatch_admits()
     * lists the requests of the body, transport has them decided, and
     * dispatch answers a refused one with its error and notes how each
     * that ran ended (->ok)
     */
    ngx_array_t                    *admits;      /* ngx_http_mcp_admit_t */
    ngx_uint_t                      admitted;    /* dispatch's place */
    ngx_http_mcp_admit_t           *admit;       /* the request running */
    ngx_uint_t                      refused;     /* requests refused */
    ngx_http_mcp_json_t            *read;        /* a message read for the
                                                    admits: ->msg */
    ngx_http_mcp_msg_t              msg;
    time_t                          retry_after; /* a refusal's, or 0 */

    /* notifications/cancelled in a session: the request to cancel */
    ngx_http_mcp_json_t            *cancel_id;

    /*
     * responses of the client in a session to requests the server sent
     * (ngx_http_mcp_json_t *, the messages): transport hands them on to
     * the call that waits for them, wherever it runs
     */
    ngx_array_t                    *answers;
    /* subscriptions/listen: the stream to open instead of an answer */
    ngx_http_mcp_listen_t          *listen;
    /* resources/(un)subscribe changed the session's subscriptions */
    unsigned                        subs_changed:1;

    /* what the pending call may send before its result */
    ngx_http_mcp_json_t            *progress_token;
    ngx_http_mcp_log_level_e        log_level;
} ngx_http_mcp_exchange_t;


/*
 * A backend's event ({"progress":..} or {"log":{..}}) as the JSON-RPC
 * notification the client asked for: NGX_OK and the text in *out (from
 * pool), NGX_DECLINED when the client did not ask for it, NGX_ERROR.
 */
ngx_int_t ngx_http_mcp_dispatch_notification(ngx_http_mcp_exchange_t *x,
    ngx_http_mcp_json_t *event, ngx_pool_t *pool, ngx_str_t *out);

/*
 * x->admits: each request of the body (in order, as dispatch meets them),
 * the method and the entry it would run; NGX_OK or NGX_ERROR
 */
ngx_int_t ngx_http_mcp_dispatch_admits(ngx_http_mcp_exchange_t *x);

/* which era the request belongs to (spec digest section 0.1) */
ngx_http_mcp_era_e ngx_http_mcp_dispatch_era(ngx_http_mcp_exchange_t *x);

/*
 * Answers one POST body: NGX_OK (see ->status, ->out), NGX_AGAIN when
 * ->bcall is a backend call that must run first, or NGX_ERROR.
 * The exchange must then live in the request pool until the resume.
 */
ngx_int_t ngx_http_mcp_dispatch(ngx_http_mcp_exchange_t *x);

/*
 * The pending call's backend is done (x->bcall->result): the answer, in
 * ->status and ->out, as for ngx_http_mcp_dispatch().
 */
ngx_int_t ngx_http_mcp_dispatch_resume(ngx_http_mcp_exchange_t *x);

/* "2025-06-18" -> NGX_HTTP_MCP_V_2025_06_18; unknown: V_UNKNOWN */
ngx_http_mcp_version_e ngx_http_mcp_version_parse(ngx_str_t *s);
ngx_str_t *ngx_http_mcp_version_name(ngx_http_mcp_version_e v);


#endif /* _NGX_HTTP_MCP_DISPATCH_H_INCLUDED_ */
