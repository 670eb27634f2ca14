
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ngx_http_mcp_module.h"
#include "observe/ngx_http_mcp_audit.h"
#include "observe/ngx_http_mcp_audit_int.h"


/*
 * The keyed hash chain of an audit log (chain=KEYFILE).  Each line ends
 * with the previous line's mac and its own:
 *
 *   {...,"prev":"P","mac":"M"}
 *
 * where P is the previous line's M (64 zeros on a chain_start line) and
 * M = hex(HMAC-SHA256(key, P || T)), T the line's bytes from its "{" to
 * the '"' that ends P, both in lowercase hex.  scripts/audit-verify
 * recomputes every M.
 *
 * The last mac is kept in a small shared zone, one per log, so that the
 * lines of all workers are one chain; its lock is held while the mac is
 * computed and the line written.  The zone outlives a reload, and the
 * chain goes on; a new zone (nginx started) or a new key begins the chain
 * again with a chain_start line, which names the key's id (the first 8
 * bytes of HMAC-SHA256(key, "ngx_http_mcp_module audit key id"), in hex).
 */


#define NGX_HTTP_MCP_AUDIT_KEY_ID_TEXT  "ngx_http_mcp_module audit key id"


static ngx_int_t ngx_http_mcp_audit_key(ngx_conf_t *cf,
    ngx_http_mcp_audit_log_t *log, ngx_str_t *name);
static ngx_int_t ngx_http_mcp_audit_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_mcp_audit_chain_start(ngx_http_mcp_audit_log_t *log,
    ngx_log_t *error_log);
static u_char *ngx_http_mcp_audit_close(ngx_http_mcp_audit_log_t *log,
    u_char *line, u_char *last);


char *
ngx_http_mcp_audit_chain(ngx_conf_t *cf, ngx_http_mcp_audit_log_t *log,
    ngx_str_t *keyfile)
{
    u_char     *p, md[EVP_MAX_MD_SIZE];
    ngx_str_t   name, zone;

    name = *keyfile;

    if (ngx_conf_full_name(cf->cycle, &name, 0) != NGX_OK
        || ngx_http_mcp_audit_key(cf, log, &name) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (HMAC(EVP_sha256(), log->key.data, (int) log->key.len,
             (u_char *) NGX_HTTP_MCP_AUDIT_KEY_ID_TEXT,
             sizeof(NGX_HTTP_MCP_AUDIT_KEY_ID_TEXT) - 1, md, NULL)
        == NULL)
    {
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(log->key_id, md, NGX_HTTP_MCP_AUDIT_KEY_ID);

    /* the zone is named after the file (its full name) or the server */

    name = log->file ? log->file->name : log->name;

    zone.len = sizeof("mcp_audit:") - 1 + name.len;
    zone.data = ngx_pnalloc(cf->pool, zone.len);
    if (zone.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_cpymem(zone.data, "mcp_audit:", sizeof("mcp_audit:") - 1);
    ngx_memcpy(p, name.data, name.len);

    log->zone = ngx_shared_memory_add(cf, &zone, 8 * ngx_pagesize,
                                      &ngx_http_mcp_audit_module);
    if (log->zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (log->zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "mcp_audit_log \"%V\" is chained twice",
                           &log->name);
        return NGX_CONF_ERROR;
    }

    log->zone->init = ngx_http_mcp_audit_init_zone;
    log->zone->data = log;

    return NGX_CONF_OK;
}


/*
 * The key: the file's bytes less trailing white space (CR, LF, space,
 * tab), 32 to 1024 of them, read now as the master reads key files
 */

static ngx_int_t
ngx_http_mcp_audit_key(ngx_conf_t *cf, ngx_http_mcp_audit_log_t *log,
    ngx_str_t *name)
{
    u_char           *p;
    size_t            len;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_int_t         rc;
    ngx_file_info_t   fi;

    fd = ngx_open_file(name->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "mcp_audit_log: cannot read the chain key: "
                           ngx_open_file_n " \"%s\" failed", name->data);
        return NGX_ERROR;
    }

    rc = NGX_ERROR;
    p = NULL;
    len = 0;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " \"%s\" failed", name->data);
        goto done;
    }

    len = (size_t) ngx_file_size(&fi);

    if (len > NGX_HTTP_MCP_AUDIT_KEY_MAX + 2) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "mcp_audit_log: the chain key \"%s\" is larger "
                           "than %d bytes", name->data,
                           NGX_HTTP_MCP_AUDIT_KEY_MAX);
        goto done;
    }

    p = ngx_pnalloc(cf->pool, len + 1);
    if (p == NULL) {
        goto done;
    }

    n = ngx_read_fd(fd, p, len);

    if (n == -1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_read_fd_n " \"%s\" failed", name->data);
        goto done;
    }

    for (len = n; len; len--) {
        if (p[len - 1] != CR && p[len - 1] != LF && p[len - 1] != ' '
            && p[len - 1] != '\t')
        {
            break;
        }
    }

    if (len < NGX_HTTP_MCP_AUDIT_KEY_MIN || len > NGX_HTTP_MCP_AUDIT_KEY_MAX)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "mcp_audit_log: the chain key \"%s\" has %uz "
                           "bytes: %d to %d are needed", name->data, len,
                           NGX_HTTP_MCP_AUDIT_KEY_MIN,
                           NGX_HTTP_MCP_AUDIT_KEY_MAX);
        goto done;
    }

    log->key.data = p;
    log->key.len = len;
    rc = NGX_OK;

done:

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%s\" failed", name->data);
    }

    return rc;
}


static ngx_int_t
ngx_http_mcp_audit_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_mcp_audit_log_t *olog = data;

    size_t                     len;
    ngx_http_mcp_audit_log_t  *log;

    log = shm_zone->data;

    if (olog) {
        log->sh = olog->sh;               /* a reload: the chain goes on */
        log->shpool = olog->shpool;
        return NGX_OK;
    }

    log->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        log->sh = log->shpool->data;
        return NGX_OK;
    }

    log->sh = ngx_slab_calloc(log->shpool,
                              sizeof(ngx_http_mcp_audit_shctx_t));
    if (log->sh == NULL) {
        return NGX_ERROR;
    }

    log->shpool->data = log->sh;

    len = sizeof(" in mcp audit zone \"\"") + shm_zone->shm.name.len;

    log->shpool->log_ctx = ngx_slab_alloc(log->shpool, len);
    if (log->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(log->shpool->log_ctx, " in mcp audit zone \"%V\"%Z",
                &shm_zone->shm.name);

    return NGX_OK;
}


void
ngx_http_mcp_audit_chain_write(ngx_http_mcp_audit_log_t *log,
    ngx_http_mcp_jw_t *jw, ngx_log_t *error_log)
{
    u_char  *line, *last;

    line = jw->start + NGX_HTTP_MCP_AUDIT_FRONT;

    ngx_shmtx_lock(&log->shpool->mutex);

    if (!log->sh->started
        || ngx_memcmp(log->sh->key_id, log->key_id,
                      NGX_HTTP_MCP_AUDIT_KEY_ID)
           != 0)
    {
        ngx_http_mcp_audit_chain_start(log, error_log);
    }

    last = ngx_http_mcp_audit_close(log, line, jw->pos);

    if (last) {
        ngx_http_mcp_audit_send(log, line, last - line, error_log);
    }

    ngx_shmtx_unlock(&log->shpool->mutex);

    if (last == NULL) {
        ngx_log_error(NGX_LOG_ALERT, error_log, 0,
                      "mcp audit: HMAC failed, a line for \"%V\" is lost",
                      &log->name);
    }
}


/* the first line of a chain, under the zone's lock */

static void
ngx_http_mcp_audit_chain_start(ngx_http_mcp_audit_log_t *log,
    ngx_log_t *error_log)
{
    u_char  *line, *p;
    u_char   buf[NGX_HTTP_MCP_AUDIT_FRONT + 128 + NGX_HTTP_MCP_AUDIT_TAIL];

    line = buf + NGX_HTTP_MCP_AUDIT_FRONT;

    p = ngx_cpymem(line, "{\"time\":\"", sizeof("{\"time\":\"") - 1);
    p = ngx_http_mcp_audit_time(p);
    p = ngx_cpymem(p, "\",\"event\":\"chain_start\",\"key_id\":\"",
                   sizeof("\",\"event\":\"chain_start\",\"key_id\":\"") - 1);
    p = ngx_hex_dump(p, log->key_id, NGX_HTTP_MCP_AUDIT_KEY_ID);
    *p++ = '"';

    ngx_memzero(log->sh->mac, NGX_HTTP_MCP_AUDIT_MAC);
    ngx_memcpy(log->sh->key_id, log->key_id, NGX_HTTP_MCP_AUDIT_KEY_ID);
    log->sh->started = 1;

    p = ngx_http_mcp_audit_close(log, line, p);

    if (p) {
        ngx_http_mcp_audit_send(log, line, p - line, error_log);
    }
}


/*
 * prev and mac after the line's last member, the line's end; the mac
 * covers the previous mac's hex, written in the room before the line, and
 * the line.  NULL if HMAC failed (the chain is left as it was).
 */

static u_char *
ngx_http_mcp_audit_close(ngx_http_mcp_audit_log_t *log, u_char *line,
    u_char *last)
{
    u_char  *prev, *p, md[NGX_HTTP_MCP_AUDIT_MAC];

    prev = line - NGX_HTTP_MCP_AUDIT_HEX;
    ngx_hex_dump(prev, log->sh->mac, NGX_HTTP_MCP_AUDIT_MAC);

    p = ngx_cpymem(last, ",\"prev\":\"", sizeof(",\"prev\":\"") - 1);
    p = ngx_cpymem(p, prev, NGX_HTTP_MCP_AUDIT_HEX);
    *p++ = '"';

    if (HMAC(EVP_sha256(), log->key.data, (int) log->key.len, prev,
             p - prev, md, NULL)
        == NULL)
    {
        return NULL;
    }

    p = ngx_cpymem(p, ",\"mac\":\"", sizeof(",\"mac\":\"") - 1);
    p = ngx_hex_dump(p, md, NGX_HTTP_MCP_AUDIT_MAC);
    *p++ = '"';
    *p++ = '}';
    ngx_linefeed(p);

    ngx_memcpy(log->sh->mac, md, NGX_HTTP_MCP_AUDIT_MAC);

    return p;
}
