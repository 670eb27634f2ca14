
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_MODULE_H_INCLUDED_
#define _NGX_HTTP_MCP_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_HTTP_MCP_MODULE_VERSION   "0.1.0"


/* protocol revisions, oldest first; the order is used for comparisons */

typedef enum {
    NGX_HTTP_MCP_V_UNKNOWN = 0,
    NGX_HTTP_MCP_V_2025_03_26,
    NGX_HTTP_MCP_V_2025_06_18,
    NGX_HTTP_MCP_V_2025_11_25,
    NGX_HTTP_MCP_V_2026_07_28
} ngx_http_mcp_version_e;

#define NGX_HTTP_MCP_V_LATEST_LEGACY  NGX_HTTP_MCP_V_2025_11_25
#define NGX_HTTP_MCP_V_LATEST         NGX_HTTP_MCP_V_2026_07_28


/* log levels, in RFC 5424 order as MCP lists them */

typedef enum {
    NGX_HTTP_MCP_LOG_DEBUG = 0,
    NGX_HTTP_MCP_LOG_INFO,
    NGX_HTTP_MCP_LOG_NOTICE,
    NGX_HTTP_MCP_LOG_WARNING,
    NGX_HTTP_MCP_LOG_ERROR,
    NGX_HTTP_MCP_LOG_CRITICAL,
    NGX_HTTP_MCP_LOG_ALERT,
    NGX_HTTP_MCP_LOG_EMERGENCY,
    NGX_HTTP_MCP_LOG_NONE          /* no level set */
} ngx_http_mcp_log_level_e;


#define NGX_HTTP_MCP_HEALTH_OFF     0
#define NGX_HTTP_MCP_HEALTH_LIVE    1
#define NGX_HTTP_MCP_HEALTH_READY   2
#define NGX_HTTP_MCP_HEALTH_STARTUP 3


/*
 * Who is calling, as the access phase established it (auth/): every layer
 * reads it, none but auth/ writes it.  An unauthenticated caller has an
 * empty method, subject and scope list and a principal of zeros.
 */

#define NGX_HTTP_MCP_PRINCIPAL_LEN  32

typedef struct {
    ngx_str_t                   method;       /* "jwt", "api_key"; empty */
    ngx_str_t                   subject;
    ngx_str_t                   tenant;
    ngx_str_t                   scopes;       /* space-separated */
    ngx_array_t                *scope_list;   /* ngx_str_t, or NULL */

    /* SHA-256 of method, issuer and subject: binds sessions */
    u_char                      principal[NGX_HTTP_MCP_PRINCIPAL_LEN];

    unsigned                    forward:1;    /* mcp_auth_forward on */
} ngx_http_mcp_identity_t;


/*
 * One request of a POST body as limits see it (limit/): protocol names
 * what it calls before dispatch, the limit hook decides whether it runs,
 * dispatch notes how it ended.
 */

typedef struct {
    ngx_str_t                   method;
    void                       *entry;        /* ngx_http_mcp_entry_t *, or
                                                 NULL */
    ngx_uint_t                  status;       /* 0: admitted; refused: 429,
                                                 503 */
    ngx_int_t                   code;         /* the refusal: JSON-RPC */
    ngx_str_t                   message;
    ngx_str_t                   data;         /* a JSON object */
    time_t                      retry_after;  /* seconds */
    unsigned                    ok:1;         /* it ran, and succeeded */
} ngx_http_mcp_admit_t;


/*
 * A line that another subsystem adds to tool, resource and prompt blocks
 * (`limit`, `quota`, `audit_arguments`): set() gets the entry
 * (ngx_http_mcp_entry_t *) and the line, value[0] its name.
 */

typedef struct {
    ngx_str_t                   name;
    char                     *(*set)(ngx_conf_t *cf, void *entry,
                                     ngx_str_t *value, ngx_uint_t n);
} ngx_http_mcp_entry_line_t;


/* an entry's `audit_arguments` line (observe/): none is hash */
#define NGX_HTTP_MCP_AUDIT_DEFAULT       0
#define NGX_HTTP_MCP_AUDIT_HASH          1
#define NGX_HTTP_MCP_AUDIT_FULL          2
#define NGX_HTTP_MCP_AUDIT_OFF           3

/*
 * The start of every entry (ngx_http_mcp_entry_t, backend/): what the
 * entry lines of subsystems that may not see backend/ set (observe/),
 * through the entry's own pointer
 */

typedef struct {
    ngx_uint_t                  audit_arguments;  /* NGX_HTTP_MCP_AUDIT_* */
} ngx_http_mcp_entry_head_t;


/*
 * What one request did, for access logs, metrics and the audit (observe/):
 * transport and protocol fill it, observe/ reads it.  A batch leaves its
 * last request's, and those of the requests before it in `batch`.
 */

#define NGX_HTTP_MCP_OUTCOME_NONE        0
#define NGX_HTTP_MCP_OUTCOME_OK          1
#define NGX_HTTP_MCP_OUTCOME_TOOL_ERROR  2   /* else a JSON-RPC code (< 0) */

struct ngx_http_mcp_json_s;

typedef struct {
    ngx_str_t                   method;
    ngx_str_t                   entry;        /* tool, prompt; resource uri */
    struct ngx_http_mcp_json_s *id;           /* the JSON-RPC id, or NULL */
    struct ngx_http_mcp_json_s *arguments;    /* tools/call, prompts/get:
                                                 the object received, or
                                                 NULL: not read */
    ngx_str_t                   target;       /* the entry's backend */
    ngx_uint_t                  audit;        /* the entry's
                                                 NGX_HTTP_MCP_AUDIT_* */
    ngx_str_t                   session;      /* the id: a secret, never
                                                 shown, only its digest */
    ngx_http_mcp_version_e      version;
    ngx_int_t                   outcome;      /* NGX_HTTP_MCP_OUTCOME_*, or
                                                 a JSON-RPC error code */
    ngx_str_t                   error;        /* that error's message */
    ngx_array_t                *batch;        /* ngx_http_mcp_obs_t: the
                                                 earlier requests of a
                                                 batch, or NULL */
    ngx_str_t                   client_info;  /* a session's, JSON text */
    struct ngx_http_mcp_json_s *client;       /* _meta's clientInfo (2026),
                                                 or the session's parsed */
    void                       *series;       /* the entry's metrics, or
                                                 NULL: the method's */

    u_char                      trace_id[16]; /* W3C trace context */
    ngx_str_t                   tracestate;   /* the client's, valid, with
                                                 its traceparent; or empty */
    u_char                      span_id[8];   /* this request's span */
    u_char                      flags;
    unsigned                    traced:1;
    unsigned                    continued:1;  /* the client's trace */
    unsigned                    limited:1;    /* a limit refused it */
    unsigned                    session_created:1;
    unsigned                    session_deleted:1;
    unsigned                    detail:1;     /* metrics or an audit log
                                                 read series, target and
                                                 audit: only then does
                                                 dispatch find the entry */
} ngx_http_mcp_obs_t;


/*
 * An event that metrics count by a label from the configuration or a
 * fixed set (observe/ngx_http_mcp_metrics.c): auth/ and limit/ say them
 * without knowing observe/.
 */

#define NGX_HTTP_MCP_EVENT_AUTH_FAILURE   0   /* label: the reason */
#define NGX_HTTP_MCP_EVENT_LIMIT_REFUSAL  1   /* label: the zone */

void ngx_http_mcp_event(ngx_uint_t event, ngx_str_t *label);

/*
 * A session ended (state/ says, observe/ counts it in the session
 * duration histogram): why (NGX_HTTP_MCP_SESSION_*), its protocol
 * revision (NGX_HTTP_MCP_V_UNKNOWN when not known), how long it lived in
 * milliseconds.  Nothing is counted without an mcp_metrics location.
 */

#define NGX_HTTP_MCP_SESSION_DELETED     0   /* DELETE by its client */
#define NGX_HTTP_MCP_SESSION_EXPIRED     1   /* idle past its timeout */
#define NGX_HTTP_MCP_SESSION_EVICTED     2   /* the zone was full */

void ngx_http_mcp_session_ended(ngx_uint_t why, ngx_uint_t version,
    ngx_msec_t duration);


/*
 * The sessions alive now in the shm session zones that locations use as
 * their store, for the metrics page (observe/ asks, the module file
 * answers from state/): an array of ngx_http_mcp_sessions_t in pool, or
 * NULL.
 */

typedef struct {
    ngx_str_t                   zone;         /* the zone's name */
    ngx_uint_t                  active;
} ngx_http_mcp_sessions_t;

ngx_array_t *ngx_http_mcp_sessions_active(ngx_pool_t *pool);


/*
 * Pooled connections to upstreams (upstream/ says, observe/ counts them
 * per worker): an upstream gets a number at configuration time (0: not
 * counted), then each change of a connection's state is told, from and
 * to one of NGX_HTTP_MCP_CONN_* (NONE: made, or closed).
 */

#define NGX_HTTP_MCP_CONN_NONE           0
#define NGX_HTTP_MCP_CONN_CONNECTING     1
#define NGX_HTTP_MCP_CONN_IDLE           2
#define NGX_HTTP_MCP_CONN_BUSY           3   /* a call or commands due */
#define NGX_HTTP_MCP_CONN_SUBSCRIBED     4   /* Redis: a channel listener */
#define NGX_HTTP_MCP_CONN_NSTATES        4

#define NGX_HTTP_MCP_CONN_POSTGRES       0
#define NGX_HTTP_MCP_CONN_REDIS          1

ngx_uint_t ngx_http_mcp_conn_upstream(ngx_conf_t *cf, ngx_uint_t kind,
    ngx_str_t *name);
void ngx_http_mcp_conn_state(ngx_uint_t upstream, ngx_uint_t from,
    ngx_uint_t to);


/*
 * SHA-256 of n bytes into md (32 bytes): OpenSSL's low-level functions,
 * as nginx's own ngx_sha1 uses them.  OpenSSL 3's one-shot SHA256()
 * fetches its implementation under a lock on every call (some 5,000
 * instructions), and even a fetched EVP digest allocates a context per
 * hash: 80 ns for a short input, where these take 54.
 */
void ngx_http_mcp_sha256(u_char *data, size_t n, u_char *md);


/* the catalog of one mcp_server block (catalog/ngx_http_mcp_registry.h) */
typedef struct ngx_http_mcp_server_s  ngx_http_mcp_server_t;

/* where a location's sessions live (state/ngx_http_mcp_store.h) */
typedef struct ngx_http_mcp_store_ref_s  ngx_http_mcp_store_ref_t;


typedef struct {
    ngx_array_t                 servers;      /* ngx_http_mcp_server_t * */
    ngx_array_t                 stores;       /* ngx_http_mcp_store_ref_t *:
                                                 the stores locations use */
    ngx_array_t                 header_vars;  /* ngx_uint_t: indexes of
                                                 $http_x_mcp_* and
                                                 $request_body in use */
    ngx_array_t                 entry_lines;  /* ngx_http_mcp_entry_line_t */
    void                       *events;       /* mcp_sse_buffer's zone */
    ngx_array_t                *state_random; /* the requestState key of
                                                 locations without
                                                 mcp_state_key, or NULL */
    ngx_shm_zone_t             *catalogs;     /* the lists' digests
                                                 (transport/streams) */
} ngx_http_mcp_main_conf_t;


typedef struct {
    ngx_str_t                   pass_name;    /* mcp_pass NAME, or
                                                 mcp_publish NAME */
    ngx_uint_t                  publish;      /* mcp_publish */
    u_char                     *pass_file;    /* where mcp_pass stood */
    ngx_uint_t                  pass_line;
    ngx_http_mcp_server_t      *server;

    ngx_shm_zone_t             *session_zone;     /* mcp_session_zone */
    void                       *session_redis;    /* mcp_session_store */
    ngx_http_mcp_store_ref_t   *session_store;    /* that zone's, or the
                                                     Redis store */
    ngx_msec_t                  session_timeout;
    ngx_msec_t                  sse_poll;       /* mcp_sse_poll */
    ngx_msec_t                  sse_keepalive;  /* a comment after this
                                                   long without an event */
    ngx_msec_t                  backend_timeout;  /* `pass` calls */
    ngx_msec_t                  input_timeout;    /* a client's answers to
                                                     a call's requests */
    size_t                      backend_max_size;
    size_t                      batch_max_response_size;

    ngx_array_t                *allowed_origins;  /* ngx_str_t */
    ngx_array_t                *allowed_hosts;    /* ngx_str_t */

    ngx_uint_t                  page_size;
    size_t                      max_depth;
    ngx_uint_t                  max_members;
    size_t                      max_string;
    ngx_uint_t                  max_values;

    ngx_uint_t                  health;       /* NGX_HTTP_MCP_HEALTH_* */

    ngx_array_t                *state_keys;   /* mcp_state_key lines:
                                                 ngx_http_mcp_state_key_t,
                                                 the first seals */

    ngx_array_t                *pg_settings;  /* postgres_set lines */
    ngx_uint_t                  pg_max_rows;  /* mcp_postgres_max_rows */
} ngx_http_mcp_loc_conf_t;


extern ngx_module_t  ngx_http_mcp_module;


#endif /* _NGX_HTTP_MCP_MODULE_H_INCLUDED_ */
