
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_AUDIT_INT_H_INCLUDED_
#define _NGX_HTTP_MCP_AUDIT_INT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "json/ngx_http_mcp_json.h"
#include "observe/ngx_http_mcp_audit.h"


/*
 * Between the parts of the audit log: its module and which requests it
 * records (ngx_http_mcp_audit.c), its directives
 * (ngx_http_mcp_audit_conf.c), the record of a request as a JSON line
 * (ngx_http_mcp_audit_line.c), and where lines go: files, syslog
 * (ngx_http_mcp_audit_write.c), the hash chain
 * (ngx_http_mcp_audit_chain.c).
 */


#define NGX_HTTP_MCP_AUDIT_MAC       32     /* HMAC-SHA256 */
#define NGX_HTTP_MCP_AUDIT_HEX       64     /* ... in hex */
#define NGX_HTTP_MCP_AUDIT_KEY_ID    8      /* bytes shown of a key's id */
#define NGX_HTTP_MCP_AUDIT_KEY_MIN   32
#define NGX_HTTP_MCP_AUDIT_KEY_MAX   1024

/* syslog's PRI and HEADER, as access_log counts them */
#define NGX_HTTP_MCP_AUDIT_SYSLOG_MAX                                         \
    (sizeof("<255>Jan 01 00:00:00 ") - 1 + NGX_MAXHOSTNAMELEN + 1 + 32 + 2)

/*
 * Room a line keeps before its text: the previous line's mac in hex
 * (what a chained line's mac covers first), or a syslog header
 */
#define NGX_HTTP_MCP_AUDIT_FRONT                                              \
    (NGX_HTTP_MCP_AUDIT_HEX + NGX_HTTP_MCP_AUDIT_SYSLOG_MAX)

/* and after it: ,"prev":"HEX","mac":"HEX"} and a newline */
#define NGX_HTTP_MCP_AUDIT_TAIL                                               \
    (sizeof(",\"prev\":\"\",\"mac\":\"\"}") - 1                              \
     + 2 * NGX_HTTP_MCP_AUDIT_HEX + NGX_LINEFEED_SIZE)


typedef enum {
    NGX_HTTP_MCP_AUDIT_NONE = 0,
    NGX_HTTP_MCP_AUDIT_CALL,
    NGX_HTTP_MCP_AUDIT_SESSION_START,
    NGX_HTTP_MCP_AUDIT_SESSION_END,
    NGX_HTTP_MCP_AUDIT_AUTH_FAILURE,
    NGX_HTTP_MCP_AUDIT_LIMIT_REFUSAL,
    NGX_HTTP_MCP_AUDIT_CHAIN_START
} ngx_http_mcp_audit_event_e;


/* a chain's state, in its zone: one sequence for every worker */

typedef struct {
    u_char                      mac[NGX_HTTP_MCP_AUDIT_MAC];  /* the last
                                                 line's */
    u_char                      key_id[NGX_HTTP_MCP_AUDIT_KEY_ID];
    ngx_uint_t                  started;      /* a chain_start is written */
} ngx_http_mcp_audit_shctx_t;


/*
 * One audit log, a file or a syslog server: every mcp_audit_log line that
 * names it shares it
 */

typedef struct {
    ngx_str_t                   name;         /* the path, "syslog:..." */
    ngx_open_file_t            *file;
    ngx_syslog_peer_t          *syslog;

    u_char                     *start;        /* buffer=, or NULL */
    u_char                     *pos;
    u_char                     *last;
    ngx_event_t                *event;        /* flush=, or NULL */
    ngx_msec_t                  flush;

    ngx_str_t                   keyfile;      /* chain=, as written */
    ngx_shm_zone_t             *zone;         /* its chain, or NULL */
    ngx_http_mcp_audit_shctx_t *sh;
    ngx_slab_pool_t            *shpool;
    ngx_str_t                   key;
    u_char                      key_id[NGX_HTTP_MCP_AUDIT_KEY_ID];

    time_t                      error_time;   /* of the last write error
                                                 logged */
} ngx_http_mcp_audit_log_t;


typedef struct {
    ngx_array_t                 logs;         /* ngx_http_mcp_audit_log_t * */
    ngx_http_mcp_audit_sink_t  *sink;         /* or NULL */
    ngx_int_t                   subject;      /* $mcp_subject's index */
    ngx_int_t                   tenant;       /* $mcp_tenant's */
} ngx_http_mcp_audit_main_conf_t;


typedef struct {
    ngx_http_mcp_audit_log_t   *log;          /* NULL: off */
} ngx_http_mcp_audit_loc_conf_t;


/* `mcp_audit_log` */
char *ngx_http_mcp_audit_log(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/* `audit_arguments` in an item block */
char *ngx_http_mcp_audit_entry_line(ngx_conf_t *cf, void *entry,
    ngx_str_t *value, ngx_uint_t n);

/*
 * the record as a line, in jw (from pool), NGX_HTTP_MCP_AUDIT_FRONT bytes
 * after its start, left open after its last member: NGX_OK or NGX_ERROR
 */
ngx_int_t ngx_http_mcp_audit_line(ngx_http_request_t *r,
    ngx_http_mcp_obs_t *o, ngx_http_mcp_audit_event_e event,
    ngx_uint_t status, ngx_http_mcp_jw_t *jw);

/* the line is closed (chained, if the log is) and written */
void ngx_http_mcp_audit_write(ngx_http_mcp_audit_log_t *log,
    ngx_http_mcp_jw_t *jw, ngx_log_t *error_log);

/* the bytes of a line to where they go, from after its front room */
void ngx_http_mcp_audit_send(ngx_http_mcp_audit_log_t *log, u_char *line,
    size_t len, ngx_log_t *error_log);

/* `buffer=` and `flush=` of a file's log: NGX_OK or NGX_ERROR */
ngx_int_t ngx_http_mcp_audit_buffer(ngx_conf_t *cf,
    ngx_http_mcp_audit_log_t *log, size_t size, ngx_msec_t flush);

/* `chain=KEYFILE`: the key read, the zone added; NGX_CONF_OK or an error */
char *ngx_http_mcp_audit_chain(ngx_conf_t *cf, ngx_http_mcp_audit_log_t *log,
    ngx_str_t *keyfile);

/*
 * a chained line closed: the chain_start first when the chain (or its
 * key) is new, then prev and mac, under the zone's lock with the write
 */
void ngx_http_mcp_audit_chain_write(ngx_http_mcp_audit_log_t *log,
    ngx_http_mcp_jw_t *jw, ngx_log_t *error_log);

/* the time as ISO 8601 in UTC with milliseconds, 24 bytes */
u_char *ngx_http_mcp_audit_time(u_char *p);

#define NGX_HTTP_MCP_AUDIT_TIME_LEN  (sizeof("1970-01-01T00:00:00.000Z") - 1)


#endif /* _NGX_HTTP_MCP_AUDIT_INT_H_INCLUDED_ */
