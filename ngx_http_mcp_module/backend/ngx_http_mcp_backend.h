
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_BACKEND_H_INCLUDED_
#define _NGX_HTTP_MCP_BACKEND_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "json/ngx_http_mcp_json.h"


/*
 * The backend interface: what runs a tool, a resource or a prompt.  Every
 * kind of backend (static content, an nginx location, PostgreSQL, Redis)
 * is one table of hooks, in the spirit of nginx's peer API: its line in
 * an item block is found by keyword and configured by conf(), checked by
 * init() at `nginx -t`, and a call runs through start() and abort().
 *
 * A call (ngx_http_mcp_bcall_t) carries what goes in and answers through
 * event() and done() with a neutral result: JSON, text or bytes with a
 * type, or an error with a reason.  Backends know nothing of MCP results,
 * JSON-RPC or the client's connection: protocol/ shapes the result for
 * the client's revision, transport/ sends it and ends the request.
 */


typedef struct ngx_http_mcp_backend_s  ngx_http_mcp_backend_t;
typedef struct ngx_http_mcp_bcall_s    ngx_http_mcp_bcall_t;


typedef enum {
    NGX_HTTP_MCP_ITEM_TOOL = 0,
    NGX_HTTP_MCP_ITEM_RESOURCE,
    NGX_HTTP_MCP_ITEM_PROMPT
} ngx_http_mcp_item_e;


/*
 * An item's backend, as its block declared it; embedded in the catalog's
 * tool, resource and prompt structs.  backend NULL: the catalog answers
 * from content built at configuration time.
 */

typedef struct {
    ngx_http_mcp_entry_head_t   head;         /* first: entry lines of
                                                 observe/ set it */
    ngx_http_mcp_backend_t     *backend;
    void                       *conf;         /* the backend's own */
    ngx_http_mcp_item_e         kind;
    ngx_str_t                   name;         /* tool, prompt; resource uri */
    void                       *item;         /* the catalog's struct */
    ngx_msec_t                  timeout;      /* NGX_CONF_UNSET_MSEC: the
                                                 location's default */
    size_t                      max_size;     /* NGX_CONF_UNSET_SIZE: same */

    ngx_array_t                *params;       /* ngx_str_t: the names the
                                                 item declares (arguments,
                                                 template variables), set
                                                 before init() */
    ngx_array_t                *options;      /* the backend's option lines
                                                 (postgres_set), its own */
    ngx_str_t                   mime;         /* a resource's mime_type */
    ngx_array_t                *scopes;       /* ngx_str_t: what a caller
                                                 must hold, or NULL */
    ngx_array_t                *limits;       /* its `limit` and `quota`
                                                 lines (limit/), or NULL */
    ngx_str_t                   target;       /* what the backend calls,
                                                 for metrics: a location's
                                                 uri, an upstream's name */
    void                       *metric;       /* its series (observe/) */
    ngx_str_t                   confirm;      /* a tool's `confirm`: the
                                                 question before it runs */
    u_char                     *file;         /* where the backend line is */
    ngx_uint_t                  line;
    unsigned                    read_only:1;  /* annotated, or a read */
} ngx_http_mcp_entry_t;


/* why a call is stopped */
#define NGX_HTTP_MCP_ABORT_TIMEOUT  1
#define NGX_HTTP_MCP_ABORT_CANCEL   2


typedef enum {
    NGX_HTTP_MCP_RESULT_NONE = 0,
    NGX_HTTP_MCP_RESULT_JSON,       /* ->json, parsed from ->data */
    NGX_HTTP_MCP_RESULT_TEXT,       /* ->data; ->type may be empty */
    NGX_HTTP_MCP_RESULT_BYTES,      /* ->data; ->type image/, audio/, ... */
    NGX_HTTP_MCP_RESULT_ERROR,      /* ->reason; ->status, 0 if none */
    NGX_HTTP_MCP_RESULT_PREBUILT    /* ->data: members written at
                                       configuration time (static) */
} ngx_http_mcp_result_e;


/* what a backend answered, with no MCP in it */

typedef struct {
    ngx_http_mcp_result_e       kind;
    ngx_str_t                   type;         /* media type, no parameters */
    ngx_str_t                   data;
    ngx_http_mcp_json_t        *json;
    ngx_str_t                   origin;       /* a URI naming the source */
    ngx_str_t                   reason;       /* why it failed, for people */
    ngx_uint_t                  status;       /* the backend's own (HTTP) */
    ngx_msec_t                  max_age;      /* may be reused this long */
    unsigned                    private:1;    /* for this client only */
    unsigned                    cancelled:1;  /* abort(CANCEL) ended it */
} ngx_http_mcp_result_t;


/*
 * An event before the result ({"progress":..} or {"log":{..}}), in pool,
 * which is reset after the call: NGX_OK or NGX_ERROR.
 */
typedef ngx_int_t (*ngx_http_mcp_bcall_event_pt)(ngx_http_mcp_bcall_t *bc,
    ngx_http_mcp_json_t *event, ngx_pool_t *pool);

/* the result is in bc->result; called once, for calls that said NGX_AGAIN */
typedef void (*ngx_http_mcp_bcall_done_pt)(ngx_http_mcp_bcall_t *bc);


struct ngx_http_mcp_bcall_s {
    /* what goes in */
    ngx_http_mcp_entry_t       *entry;
    ngx_http_mcp_json_t        *arguments;    /* validated; NULL: none */
    ngx_array_t                *variables;    /* ngx_keyval_t: a resource
                                                 template's, or NULL */
    ngx_str_t                   uri;          /* resources: what is read */
    ngx_http_mcp_json_t        *input_responses;  /* 2026 retries */
    ngx_http_mcp_json_t        *request_state;
    ngx_http_mcp_json_t        *id;           /* the JSON-RPC id */
    ngx_str_t                   session;      /* empty without one */
    ngx_http_mcp_identity_t    *identity;     /* the caller, never NULL */
    ngx_str_t                   traceparent;  /* W3C trace context */
    ngx_str_t                   tracestate;   /* the client's, or empty */

    ngx_http_request_t         *request;      /* the client's */
    ngx_pool_t                 *pool;         /* lives as long as the call */
    ngx_log_t                  *log;
    ngx_msec_t                  timeout;      /* the deadline; 0: none */
    size_t                      max_size;     /* the most it may answer */

    /* how it answers */
    ngx_http_mcp_bcall_event_pt event;        /* NULL: events are dropped */
    ngx_http_mcp_bcall_done_pt  done;
    void                       *data;         /* the caller's */

    ngx_http_mcp_result_t       result;
    void                       *ctx;          /* the backend's */
};


struct ngx_http_mcp_backend_s {
    ngx_str_t                   name;         /* its keyword: "pass", ... */
    ngx_uint_t                  min_args;     /* after the keyword */
    ngx_uint_t                  max_args;

    /* the entry's line, value[0] the keyword: NGX_CONF_OK or an error */
    char                     *(*conf)(ngx_conf_t *cf, ngx_http_mcp_entry_t *e,
                                      ngx_str_t *value, ngx_uint_t n);

    /* checks once the configuration is read (NULL: none) */
    ngx_int_t                 (*init)(ngx_conf_t *cf,
                                      ngx_http_mcp_entry_t *e);

    /*
     * NGX_OK: bc->result is set now; NGX_AGAIN: bc->done() follows;
     * NGX_ERROR
     */
    ngx_int_t                 (*start)(ngx_http_mcp_bcall_t *bc);

    /*
     * stops a call in flight (why: NGX_HTTP_MCP_ABORT_*): NGX_OK, done()
     * follows; NGX_AGAIN, it cannot be stopped now (try again soon);
     * NGX_DECLINED, nothing can stop it but its own end (try again later)
     */
    ngx_int_t                 (*abort)(ngx_http_mcp_bcall_t *bc,
                                       ngx_uint_t why);

    /* `start` answers at once from memory: protocol runs it inline */
    unsigned                    immediate:1;

    /*
     * another line of an item block that the backend takes (before or
     * after its own), e.g. `postgres_set NAME VALUE;`, or an empty name
     */
    ngx_str_t                   option;
    ngx_uint_t                  option_args;
    char                     *(*option_conf)(ngx_conf_t *cf,
                                             ngx_http_mcp_entry_t *e,
                                             ngx_str_t *value, ngx_uint_t n);
};


/* the backend whose line starts with this keyword, or NULL */
ngx_http_mcp_backend_t *ngx_http_mcp_backend_find(ngx_str_t *keyword);
/*
 * `timeout=TIME` or `max_size=SIZE` of a backend line, set once: NGX_OK,
 * NGX_DECLINED if the word is neither, NGX_ERROR if its value is invalid
 */
ngx_int_t ngx_http_mcp_backend_limit(ngx_http_mcp_entry_t *e,
    ngx_str_t *word);
/* the backend that takes an option line of this keyword, or NULL */
ngx_http_mcp_backend_t *ngx_http_mcp_backend_option(ngx_str_t *keyword);
/*
 * the text of a name the item declares, for this call: the resource
 * template's variable of that name, else the argument (a string as it is,
 * a number as written, true/false, an object or array as its JSON text);
 * NGX_OK, NGX_DECLINED when it is absent or null, NGX_ERROR
 */
ngx_int_t ngx_http_mcp_backend_value(ngx_http_mcp_bcall_t *bc,
    ngx_str_t *name, ngx_str_t *value);

/* the static backend: a tool result written at configuration time */
extern ngx_http_mcp_backend_t  ngx_http_mcp_static_backend;

/* the body filter that takes answers of locations, at postconfiguration */
ngx_int_t ngx_http_mcp_backend_init(ngx_conf_t *cf);


/*
 * A tool with `confirm` (ngx_http_mcp_confirm.c), before its backend
 * starts: NGX_DECLINED, the backend runs (no confirm, or the user
 * accepted); NGX_OK, bc->result is the module's own answer (its question
 * as an input_required result, or a refusal); NGX_ERROR
 */
ngx_int_t ngx_http_mcp_confirm(ngx_http_mcp_bcall_t *bc);


#endif /* _NGX_HTTP_MCP_BACKEND_H_INCLUDED_ */
