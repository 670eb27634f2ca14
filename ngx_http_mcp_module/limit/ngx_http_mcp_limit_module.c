
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_mcp_module.h"
#include "limit/ngx_http_mcp_limit_int.h"
#include "backend/ngx_http_mcp_backend.h"


/*
 * The configuration of limits: the zones (mcp_limit_zone, mcp_quota_zone),
 * their uses (mcp_limit in http, server and location, as limit_req; the
 * limit and quota lines of entries), and $mcp_limit_status.
 */


static ngx_int_t ngx_http_mcp_limit_preconfiguration(ngx_conf_t *cf);
static void *ngx_http_mcp_limit_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_mcp_limit_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_mcp_limit_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_mcp_limit_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_mcp_limit_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_mcp_limit_one_variable(ngx_conf_t *cf,
    ngx_http_mcp_limit_zone_t *z, ngx_str_t *key);
static char *ngx_http_mcp_limit(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_mcp_limit_entry(ngx_conf_t *cf, void *entry,
    ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_mcp_limit_quota(ngx_conf_t *cf, void *entry,
    ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_mcp_limit_parse(ngx_conf_t *cf,
    ngx_http_mcp_limit_use_t *use, ngx_str_t *value, ngx_uint_t n);
static ngx_http_mcp_limit_use_t *ngx_http_mcp_limit_use(ngx_conf_t *cf,
    ngx_array_t *uses);
static ngx_shm_zone_t *ngx_http_mcp_limit_zone_ref(ngx_conf_t *cf,
    ngx_str_t *name);
static ngx_int_t ngx_http_mcp_limit_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_command_t  ngx_http_mcp_limit_commands[] = {

    { ngx_string("mcp_limit_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_mcp_limit_zone,
      0,
      NGX_HTTP_MCP_LIMIT_RATE,
      NULL },

    { ngx_string("mcp_quota_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_mcp_limit_zone,
      0,
      NGX_HTTP_MCP_LIMIT_QUOTA,
      NULL },

    { ngx_string("mcp_limit"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_mcp_limit,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_mcp_limit_module_ctx = {
    ngx_http_mcp_limit_preconfiguration,   /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_mcp_limit_create_main_conf,   /* create main configuration */
    ngx_http_mcp_limit_init_main_conf,     /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_mcp_limit_create_loc_conf,    /* create location configuration */
    ngx_http_mcp_limit_merge_loc_conf      /* merge location configuration */
};


ngx_module_t  ngx_http_mcp_limit_module = {
    NGX_MODULE_V1,
    &ngx_http_mcp_limit_module_ctx,        /* module context */
    ngx_http_mcp_limit_commands,           /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_str_t  ngx_http_mcp_limit_status_name =
    ngx_string("mcp_limit_status");


static ngx_int_t
ngx_http_mcp_limit_preconfiguration(ngx_conf_t *cf)
{
    ngx_http_variable_t        *var;
    ngx_http_mcp_main_conf_t   *mmcf;
    ngx_http_mcp_entry_line_t  *line;

    var = ngx_http_add_variable(cf, &ngx_http_mcp_limit_status_name,
                                NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_ERROR;
    }

    var->get_handler = ngx_http_mcp_limit_status_variable;

    /* the lines of entries */

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_module);

    line = ngx_array_push_n(&mmcf->entry_lines, 2);
    if (line == NULL) {
        return NGX_ERROR;
    }

    ngx_str_set(&line[0].name, "limit");
    line[0].set = ngx_http_mcp_limit_entry;
    ngx_str_set(&line[1].name, "quota");
    line[1].set = ngx_http_mcp_limit_quota;

    return NGX_OK;
}


static void *
ngx_http_mcp_limit_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_mcp_limit_main_conf_t  *lmcf;

    lmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_limit_main_conf_t));
    if (lmcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&lmcf->zones, cf->pool, 4, sizeof(ngx_shm_zone_t *))
        != NGX_OK
        || ngx_array_init(&lmcf->uses, cf->pool, 4,
                          sizeof(ngx_http_mcp_limit_use_t *))
           != NGX_OK)
    {
        return NULL;
    }

    return lmcf;
}


/* the Redis upstreams the zones name exist now that http{} is read */

static char *
ngx_http_mcp_limit_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_mcp_limit_main_conf_t *lmcf = conf;

    ngx_str_t                   *name;
    ngx_uint_t                   i;
    ngx_shm_zone_t             **zone;
    ngx_http_mcp_limit_use_t   **use;
    ngx_http_mcp_limit_zone_t   *z;

    /* each use names a zone of the kind it needs */

    use = lmcf->uses.elts;

    for (i = 0; i < lmcf->uses.nelts; i++) {
        z = use[i]->shm_zone->data;

        if (z == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "unknown zone \"%V\" in %s:%ui",
                          &use[i]->shm_zone->shm.name, use[i]->file,
                          use[i]->line);
            return NGX_CONF_ERROR;
        }

        if (z->type != use[i]->type) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          (use[i]->type == NGX_HTTP_MCP_LIMIT_RATE)
                          ? "zone \"%V\" is a quota zone "
                            "(mcp_quota_zone), for \"quota\" only, "
                            "in %s:%ui"
                          : "zone \"%V\" is a rate zone (mcp_limit_zone), "
                            "for \"limit\" and \"mcp_limit\" only, "
                            "in %s:%ui",
                          &z->name, use[i]->file, use[i]->line);
            return NGX_CONF_ERROR;
        }
    }

    zone = lmcf->zones.elts;

    for (i = 0; i < lmcf->zones.nelts; i++) {
        z = zone[i]->data;
        name = (ngx_str_t *) z->redis;

        if (name == NULL) {
            continue;
        }

        z->redis = ngx_http_mcp_redis_upstream(cf, name);

        if (z->redis == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "zone \"%V\": no upstream \"%V\" with "
                          "\"mcp_redis_server\" in %s:%ui",
                          &z->name, name, z->file, z->line);
            return NGX_CONF_ERROR;
        }

        if (ngx_http_mcp_redis_use(cf, z->redis) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_mcp_limit_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_mcp_limit_loc_conf_t  *llcf;

    llcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_limit_loc_conf_t));
    if (llcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     llcf->uses = NULL;
     */

    return llcf;
}


static char *
ngx_http_mcp_limit_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_mcp_limit_loc_conf_t *prev = parent;
    ngx_http_mcp_limit_loc_conf_t *conf = child;

    /* as limit_req: a level's lines replace those above, never add */

    if (conf->uses == NULL) {
        conf->uses = prev->uses;
    }

    return NGX_CONF_OK;
}


/*
 * mcp_limit_zone NAME:SIZE key=EXPR rate=Nr/s [redis=UPSTREAM]
 *     [prefix=STR] [fail=open|closed];
 * mcp_quota_zone NAME:SIZE key=EXPR [redis=UPSTREAM] [prefix=STR]
 *     [fail=open|closed];
 */

static char *
ngx_http_mcp_limit_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    u_char                            *p;
    ssize_t                            size;
    ngx_int_t                          rate, scale;
    ngx_str_t                         *value, name, s;
    ngx_uint_t                         i;
    ngx_shm_zone_t                    *shm_zone, **zp;
    ngx_http_mcp_limit_zone_t         *z;
    ngx_http_mcp_limit_main_conf_t    *lmcf;
    ngx_http_compile_complex_value_t   ccv;

    value = cf->args->elts;

    z = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_limit_zone_t));
    if (z == NULL) {
        return NGX_CONF_ERROR;
    }

    z->type = cmd->offset;
    z->fail_open = 1;
    z->file = cf->conf_file->file.name.data;
    z->line = cf->conf_file->line;
    ngx_str_set(&z->prefix, "mcp:");

    p = (u_char *) ngx_strchr(value[1].data, ':');

    if (p == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone \"%V\": NAME:SIZE", &value[1]);
        return NGX_CONF_ERROR;
    }

    name.data = value[1].data;
    name.len = p - value[1].data;

    for (i = 0; i < name.len; i++) {
        if (!(isalnum(name.data[i]) || name.data[i] == '_'
              || name.data[i] == '-' || name.data[i] == '.'))
        {
            break;
        }
    }

    if (name.len == 0 || i < name.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone name \"%V\": letters, digits, "
                           "\"_\", \"-\" and \".\"", &name);
        return NGX_CONF_ERROR;
    }

    s.data = p + 1;
    s.len = value[1].data + value[1].len - s.data;

    size = ngx_parse_size(&s);

    if (size == NGX_ERROR || size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\": at least %uz",
                           &value[1], 8 * ngx_pagesize);
        return NGX_CONF_ERROR;
    }

    z->name = name;
    rate = 0;
    scale = 1;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "key=", 4) == 0) {
            ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

            s.data = value[i].data + 4;
            s.len = value[i].len - 4;

            ccv.cf = cf;
            ccv.value = &s;
            ccv.complex_value = &z->key;

            if (s.len == 0
                || ngx_http_compile_complex_value(&ccv) != NGX_OK)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            if (ngx_http_mcp_limit_one_variable(cf, z, &s) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (z->type == NGX_HTTP_MCP_LIMIT_RATE
            && ngx_strncmp(value[i].data, "rate=", 5) == 0)
        {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;
            p = s.data + s.len - 3;

            if (s.len > 3 && ngx_strncmp(p, "r/s", 3) == 0) {
                scale = 1;

            } else if (s.len > 3 && ngx_strncmp(p, "r/m", 3) == 0) {
                scale = 60;

            } else {
                p = NULL;
            }

            rate = p ? ngx_atoi(s.data, s.len - 3) : NGX_ERROR;

            if (rate <= 0 || rate > 1000000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid rate \"%V\": N r/s or r/m, "
                                   "1 to 1000000", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "redis=", 6) == 0
            && value[i].len > 6)
        {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;

            /* resolved at init_main_conf, when upstream{} blocks exist */

            z->redis = ngx_palloc(cf->pool, sizeof(ngx_str_t));
            if (z->redis == NULL) {
                return NGX_CONF_ERROR;
            }

            *(ngx_str_t *) z->redis = s;
            continue;
        }

        if (ngx_strncmp(value[i].data, "prefix=", 7) == 0) {
            z->prefix.data = value[i].data + 7;
            z->prefix.len = value[i].len - 7;
            continue;
        }

        if (ngx_strcmp(value[i].data, "fail=open") == 0) {
            z->fail_open = 1;
            continue;
        }

        if (ngx_strcmp(value[i].data, "fail=closed") == 0) {
            z->fail_open = 0;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (z->key.value.data == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" has no key=", &z->name);
        return NGX_CONF_ERROR;
    }

    if (z->type == NGX_HTTP_MCP_LIMIT_RATE) {

        if (rate == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "zone \"%V\" has no rate=", &z->name);
            return NGX_CONF_ERROR;
        }

        z->rate = rate * 1000 / scale;

        if (z->rate == 0) {
            z->rate = 1;
        }

        /* Redis hands out a lease of 20 ms worth, 1 to 100 tokens */

        z->lease = rate / scale / 50;
        z->lease = ngx_max(z->lease, 1);
        z->lease = ngx_min(z->lease, 100);
    }

    shm_zone = ngx_shared_memory_add(cf, &name, size,
                                     &ngx_http_mcp_limit_module);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate zone \"%V\"", &name);
        return NGX_CONF_ERROR;
    }

    z->shm_zone = shm_zone;
    shm_zone->init = ngx_http_mcp_limit_init_zone;
    shm_zone->data = z;

    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_limit_module);

    zp = ngx_array_push(&lmcf->zones);
    if (zp == NULL) {
        return NGX_CONF_ERROR;
    }

    *zp = shm_zone;

    return NGX_CONF_OK;
}


/*
 * a key that is one variable and nothing else ($mcp_tenant) is read
 * straight by its index, without the script engine
 */

static ngx_int_t
ngx_http_mcp_limit_one_variable(ngx_conf_t *cf, ngx_http_mcp_limit_zone_t *z,
    ngx_str_t *key)
{
    ngx_int_t   index;
    ngx_str_t   name;
    ngx_uint_t  i;

    z->variable = NGX_ERROR;

    if (key->len < 2 || key->data[0] != '$') {
        return NGX_OK;
    }

    name.data = key->data + 1;
    name.len = key->len - 1;

    if (name.len > 2 && name.data[0] == '{' && name.data[name.len - 1] == '}')
    {
        name.data++;
        name.len -= 2;
    }

    for (i = 0; i < name.len; i++) {
        if (!(isalnum(name.data[i]) || name.data[i] == '_')) {
            return NGX_OK;
        }
    }

    index = ngx_http_get_variable_index(cf, &name);
    if (index == NGX_ERROR) {
        return NGX_ERROR;
    }

    z->variable = index;

    return NGX_OK;
}


/* mcp_limit zone=NAME [burst=N] [nodelay | delay=N] [dry_run]; */

static char *
ngx_http_mcp_limit(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_limit_loc_conf_t *llcf = conf;

    ngx_http_mcp_limit_use_t  *use;

    if (llcf->uses == NULL) {
        llcf->uses = ngx_array_create(cf->pool, 2,
                                      sizeof(ngx_http_mcp_limit_use_t *));
        if (llcf->uses == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    use = ngx_http_mcp_limit_use(cf, llcf->uses);
    if (use == NULL) {
        return NGX_CONF_ERROR;
    }

    return ngx_http_mcp_limit_parse(cf, use, cf->args->elts,
                                    cf->args->nelts - 1);
}


/* a new use in a list of uses, and in the list of all, for checks */

static ngx_http_mcp_limit_use_t *
ngx_http_mcp_limit_use(ngx_conf_t *cf, ngx_array_t *uses)
{
    ngx_http_mcp_limit_use_t         *use, **p, **all;
    ngx_http_mcp_limit_main_conf_t   *lmcf;

    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_limit_module);

    use = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_limit_use_t));
    p = ngx_array_push(uses);
    all = ngx_array_push(&lmcf->uses);

    if (use == NULL || p == NULL || all == NULL) {
        return NULL;
    }

    use->file = cf->conf_file->file.name.data;
    use->line = cf->conf_file->line;

    *p = use;
    *all = use;

    return use;
}


static ngx_http_mcp_limit_use_t *
ngx_http_mcp_limit_entry_use(ngx_conf_t *cf, ngx_http_mcp_entry_t *e)
{
    if (e->limits == NULL) {
        e->limits = ngx_array_create(cf->pool, 2,
                                     sizeof(ngx_http_mcp_limit_use_t *));
        if (e->limits == NULL) {
            return NULL;
        }
    }

    return ngx_http_mcp_limit_use(cf, e->limits);
}


/* `limit zone=NAME [burst=N] [nodelay | delay=N] [dry_run];` in an entry */

static char *
ngx_http_mcp_limit_entry(ngx_conf_t *cf, void *entry, ngx_str_t *value,
    ngx_uint_t n)
{
    ngx_http_mcp_limit_use_t  *use;

    use = ngx_http_mcp_limit_entry_use(cf, entry);
    if (use == NULL) {
        return NGX_CONF_ERROR;
    }

    return ngx_http_mcp_limit_parse(cf, use, value, n);
}


static char *
ngx_http_mcp_limit_parse(ngx_conf_t *cf, ngx_http_mcp_limit_use_t *use,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_int_t   burst, delay;
    ngx_str_t   s;
    ngx_uint_t  i, nodelay;

    use->type = NGX_HTTP_MCP_LIMIT_RATE;
    burst = 0;
    delay = 0;
    nodelay = 0;

    for (i = 1; i <= n; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            use->shm_zone = ngx_http_mcp_limit_zone_ref(cf, &s);
            if (use->shm_zone == NULL) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "burst=", 6) == 0) {
            burst = ngx_atoi(value[i].data + 6, value[i].len - 6);

            if (burst <= 0 || burst > 1000000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid burst value \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "delay=", 6) == 0) {
            delay = ngx_atoi(value[i].data + 6, value[i].len - 6);

            if (delay <= 0 || delay > 1000000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid delay value \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strcmp(value[i].data, "nodelay") == 0) {
            nodelay = 1;
            continue;
        }

        if (ngx_strcmp(value[i].data, "dry_run") == 0) {
            use->dry_run = 1;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (use->shm_zone == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"zone\" parameter", &value[0]);
        return NGX_CONF_ERROR;
    }

    if (nodelay && delay) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"nodelay\" and \"delay\" are mutually "
                           "exclusive");
        return NGX_CONF_ERROR;
    }

    use->burst = burst * 1000;
    use->delay = nodelay ? use->burst : (ngx_uint_t) delay * 1000;

    return NGX_CONF_OK;
}


/* `quota ZONE N/PERIOD [dry_run];` in an entry; PERIOD m, h, d */

static char *
ngx_http_mcp_limit_quota(ngx_conf_t *cf, void *entry, ngx_str_t *value,
    ngx_uint_t n)
{
    u_char                    *slash;
    ngx_int_t                  quota;
    ngx_str_t                  period;
    ngx_http_mcp_limit_use_t  *use;

    if (n < 2 || n > 3
        || (n == 3 && ngx_strcmp(value[3].data, "dry_run") != 0))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"quota\": quota ZONE N/PERIOD "
                           "[dry_run]");
        return NGX_CONF_ERROR;
    }

    use = ngx_http_mcp_limit_entry_use(cf, entry);
    if (use == NULL) {
        return NGX_CONF_ERROR;
    }

    use->type = NGX_HTTP_MCP_LIMIT_QUOTA;
    use->dry_run = (n == 3);

    use->shm_zone = ngx_http_mcp_limit_zone_ref(cf, &value[1]);
    if (use->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    slash = ngx_strlchr(value[2].data, value[2].data + value[2].len, '/');
    quota = slash ? ngx_atoi(value[2].data, slash - value[2].data)
                  : NGX_ERROR;

    if (quota > 0) {
        period.data = slash + 1;
        period.len = value[2].data + value[2].len - period.data;

        if ((period.len == 1 && period.data[0] == 'm')
            || (period.len == 6 && ngx_strcmp(period.data, "minute") == 0))
        {
            use->period = 60;

        } else if ((period.len == 1 && period.data[0] == 'h')
                   || (period.len == 4
                       && ngx_strcmp(period.data, "hour") == 0))
        {
            use->period = 3600;

        } else if ((period.len == 1 && period.data[0] == 'd')
                   || (period.len == 3
                       && ngx_strcmp(period.data, "day") == 0))
        {
            use->period = 86400;
        }
    }

    if (use->period == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid quota \"%V\": N/m, N/h or N/d",
                           &value[2]);
        return NGX_CONF_ERROR;
    }

    use->quota = quota;

    return NGX_CONF_OK;
}


/*
 * A zone named before its line may be read: its shared memory is added
 * with size 0 and the zone's line fills it (as limit_req does); a zone
 * never defined is found by ngx_http_mcp_limit_init_zone().
 */

static ngx_shm_zone_t *
ngx_http_mcp_limit_zone_ref(ngx_conf_t *cf, ngx_str_t *name)
{
    ngx_shm_zone_t  *shm_zone;

    if (name->len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "empty zone name");
        return NULL;
    }

    shm_zone = ngx_shared_memory_add(cf, name, 0, &ngx_http_mcp_limit_module);

    if (shm_zone == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is not a limit or quota zone", name);
    }

    return shm_zone;
}


static ngx_int_t
ngx_http_mcp_limit_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t  *s;

    s = ngx_http_mcp_limit_status(r);

    if (s == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->len = s->len;
    v->data = s->data;

    return NGX_OK;
}
