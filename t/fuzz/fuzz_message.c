
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


/*
 * Target "message": one POST body through layer 2, as
 * transport/ngx_http_mcp_http.c hands it over: parsed with the location's
 * limits, the MCP headers read, the era chosen, a session found (the
 * session era), then ngx_http_mcp_dispatch() against a fixed catalog.
 * Whatever it answers (but a 202) must be one JSON text.  A call that a
 * location would answer (NGX_AGAIN) is finished as transport/call.c
 * finishes it: the events the location streamed become notifications
 * (ngx_http_mcp_dispatch_notification()), its answer becomes the call's
 * neutral result (backend/ngx_http_mcp_location_map.c), then dispatch
 * resumes and shapes it (protocol/ngx_http_mcp_results.c).
 *
 * Input: HTTP-like header lines, a blank line, then the body; without a
 * blank line the whole input is the body, with no header.  The headers
 * read are those of ngx_http_mcp_read_headers() (the first of each,
 * Mcp-Param-* all, white space around values trimmed):
 *
 *     MCP-Protocol-Version: 2025-06-18
 *     Mcp-Session-Id: 2025-06-18 initialized
 *
 *     {"jsonrpc":"2.0","id":1,"method":"tools/list"}
 *
 * and, for a call a location answers, what it answered (one line each;
 * without X-Fuzz-Answer, a fixed result, or for odd sizes a failure):
 *
 *     X-Fuzz-Event: {"progress":1,"total":2}       (any number of them)
 *     X-Fuzz-Answer: {"content":[{"type":"text","text":"ok"}]}
 *     X-Fuzz-Answer-Type: application/json         (the default)
 *     X-Fuzz-Answer-Status: 200                    (the default)
 *     X-Fuzz-Answer-Flags: cut big timeout private cache
 *
 * Sessions live in shared memory behind transport; here any Mcp-Session-Id
 * names a session: the revision it contains (else 2025-11-25), initialized
 * when it contains "initialized", with the client capabilities "sampling"
 * and "elicitation" when it contains "caps", and a log level when it names
 * one ("level=debug").
 *
 * The catalog: the real configuration parser (ngx_conf_parse()) reads
 * the mcp_server block below from a temporary file, with the module's own
 * command table, the way nginx reads it inside http {}: the rows of the
 * block, the item blocks, the schemas, the registry.  That needs no more
 * than a cycle with one module, an http context whose main configuration
 * is the module's, and a ngx_conf_t; building ngx_http_mcp_server_t by
 * hand would test another catalog than the one nginx builds.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stdio.h>
#include <stdlib.h>

#include "ngx_http_mcp_module.h"
#include "protocol/ngx_http_mcp_dispatch.h"
#include "catalog/ngx_http_mcp_catalog_conf.h"
#include "backend/ngx_http_mcp_location.h"
#include "transport/ngx_http_mcp_http.h"
#include "protocol/ngx_http_mcp_state.h"
#include "fuzz_common.h"


/* a word of X-Fuzz-Answer-Flags */
#define ngx_http_mcp_fuzz_flag(flags, f)                                      \
    ((flags)->len                                                             \
     && ngx_strlcasestrn((flags)->data, (flags)->data + (flags)->len,         \
                         (u_char *) f, sizeof(f) - 2)                         \
        != NULL)


/* what the location of a pending call did, from the X-Fuzz-* lines */

typedef struct {
    ngx_array_t                 events;      /* ngx_str_t */
    ngx_str_t                   answer;
    ngx_str_t                   type;
    ngx_str_t                   status;
    ngx_str_t                   flags;
    unsigned                    has_answer:1;
} ngx_http_mcp_fuzz_backend_t;


static const char  ngx_http_mcp_fuzz_conf[] =
    "mcp_server fuzz {\n"
    "    name \"fuzz\"; version 1.0.0; title \"Fuzz\";\n"
    "    description \"the catalog of t/fuzz/fuzz_message.c\";\n"
    "    instructions \"Call tools.\";\n"
    "    cache_ttl 30s; cache_scope public;\n"
    "\n"
    "    tool hello { description \"Says hello\"; text \"Hello\"; }\n"
    "\n"
    "    tool order_status {\n"
    "        title \"Order status\"; description \"An order's status\";\n"
    "        argument id integer required \"The order number\";\n"
    "        argument verbose boolean;\n"
    "        argument tags array \"Tags\";\n"
    "        output_schema '{\"type\":\"object\",\"properties\":{\"id\":"
    "{\"type\":\"integer\"},\"status\":{\"type\":\"string\"}},"
    "\"required\":[\"id\",\"status\"]}';\n"
    "        annotations read_only idempotent open_world=off;\n"
    "        structured '{\"id\":42,\"status\":\"shipped\"}';\n"
    "    }\n"
    "\n"
    "    tool create_ticket {\n"
    "        description \"Files a ticket\";\n"
    "        input_schema '{\"type\":\"object\",\"properties\":{"
    "\"subject\":{\"type\":\"string\",\"minLength\":3,"
    "\"pattern\":\"^[A-Za-z ]+$\",\"x-mcp-header\":\"Subject\"},"
    "\"count\":{\"type\":\"integer\",\"x-mcp-header\":\"Count\"},"
    "\"urgent\":{\"type\":\"boolean\",\"x-mcp-header\":\"Urgent\"},"
    "\"priority\":{\"enum\":[\"low\",\"normal\",\"high\"]},"
    "\"n\":{\"type\":\"number\",\"multipleOf\":0.5,\"maximum\":10},"
    "\"items\":{\"type\":\"array\",\"uniqueItems\":true,\"maxItems\":4,"
    "\"items\":{\"$ref\":\"#/$defs/item\"}}},"
    "\"required\":[\"subject\"],\"additionalProperties\":false,"
    "\"$defs\":{\"item\":{\"oneOf\":[{\"type\":\"string\"},"
    "{\"type\":\"integer\",\"minimum\":0}]}}}';\n"
    "        annotations destructive=off idempotent=off;\n"
    "        text \"Ticket filed.\";\n"
    "        resource_link demo://tickets/1 \"Ticket 1\" application/json;\n"
    "        resource demo://tickets/1.txt text/plain \"Ticket 1\";\n"
    "    }\n"
    "\n"
    "    tool failing { description \"Fails\"; error \"unavailable\"; }\n"
    "\n"
    "    tool ask_user {\n"
    "        description \"Needs the client's help\";\n"
    "        requires_capability sampling elicitation;\n"
    "        text \"asked\";\n"
    "    }\n"
    "\n"
    "    tool echo_call {\n"
    "        description \"Answered by a location\";\n"
    "        argument message string required;\n"
    "        pass /tools/echo timeout=5s max_size=64k;\n"
    "    }\n"
    "\n"
    "    tool text_tool { description \"a file\"; text_file %s/text.txt; }\n"
    "\n"
    "    tool logo {\n"
    "        description \"an image\"; image %s/logo.png image/png;\n"
    "        audio %s/logo.png audio/wav;\n"
    "    }\n"
    "\n"
    "    resource docs://handbook {\n"
    "        name handbook; title \"Handbook\"; description \"How\";\n"
    "        mime_type text/markdown; text \"# Handbook\";\n"
    "    }\n"
    "\n"
    "    resource docs://logo.png { file %s/logo.png; mime_type image/png; }\n"
    "\n"
    "    resource demo://status { name status; pass /resources/status; }\n"
    "\n"
    "    resource_template \"demo://orders/{id}\" {\n"
    "        name order; mime_type application/json;\n"
    "        text '{\"id\":\"{id}\",\"status\":\"shipped\"}';\n"
    "        complete id 42 43 4711;\n"
    "    }\n"
    "\n"
    "    resource_template \"demo://users/{user}/files/{path}\" {\n"
    "        name file; pass /resources/files;\n"
    "        complete user alice bob;\n"
    "    }\n"
    "\n"
    "    prompt review {\n"
    "        title \"Review\"; description \"Reviews a configuration\";\n"
    "        argument config required \"The configuration\";\n"
    "        argument focus \"What to look at\";\n"
    "        message user \"Review {config}, focusing on {focus}.\";\n"
    "        message assistant \"Sure.\";\n"
    "        message_resource user \"demo://cfg/{focus}\" text/plain\n"
    "                         \"{config}\";\n"
    "        message_image user %s/logo.png image/png;\n"
    "        complete focus security performance readability;\n"
    "    }\n"
    "\n"
    "    prompt briefing {\n"
    "        description \"Written by a location\";\n"
    "        argument team;\n"
    "        pass /prompts/briefing;\n"
    "    }\n"
    "}\n";


static ngx_log_t                *ngx_http_mcp_fuzz_log;
static ngx_http_mcp_identity_t  ngx_http_mcp_fuzz_anonymous;
static ngx_http_mcp_loc_conf_t   ngx_http_mcp_fuzz_lcf;
static ngx_uint_t                ngx_http_mcp_fuzz_verbose;

static ngx_module_t  *ngx_http_mcp_fuzz_modules[] = {
    &ngx_http_mcp_module,
    &ngx_http_mcp_catalog_module,      /* the words of mcp_server {} */
    NULL
};

static ngx_str_t  ngx_http_mcp_fuzz_levels[] = {
    ngx_string("level=debug"),
    ngx_string("level=info"),
    ngx_string("level=notice"),
    ngx_string("level=warning"),
    ngx_string("level=error"),
    ngx_string("level=critical"),
    ngx_string("level=alert"),
    ngx_string("level=emergency")
};


static void
ngx_http_mcp_fuzz_file(const char *dir, const char *name, const void *data,
    size_t len)
{
    FILE  *f;
    char   path[512];

    snprintf(path, sizeof(path), "%s/%s", dir, name);

    f = fopen(path, "w");

    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        abort();
    }
}


static void
ngx_http_mcp_fuzz_catalog(void)
{
    char                       dir[] = "/tmp/mcp-fuzz.XXXXXX";
    char                       path[512], text[sizeof(ngx_http_mcp_fuzz_conf)
                                               + 6 * 32];
    char                      *rv;
    void                      *main_conf[1];
    ngx_str_t                  file;
    ngx_conf_t                 cf;
    ngx_cycle_t               *cycle;
    ngx_http_conf_ctx_t        ctx;
    ngx_http_mcp_main_conf_t  *mmcf;

    static const u_char  png[] = {
        0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0
    };

    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        abort();
    }

    snprintf(text, sizeof(text), ngx_http_mcp_fuzz_conf, dir, dir, dir, dir,
             dir);

    ngx_http_mcp_fuzz_file(dir, "fuzz.conf", text, strlen(text));
    ngx_http_mcp_fuzz_file(dir, "text.txt", "some text\n", 10);
    ngx_http_mcp_fuzz_file(dir, "logo.png", png, sizeof(png));

    /* what ngx_init_cycle() and the http block would have set up */

    cycle = (ngx_cycle_t *) ngx_cycle;

    cycle->modules = ngx_http_mcp_fuzz_modules;
    cycle->modules_n = 2;
    ngx_http_mcp_module.index = 0;
    ngx_http_mcp_module.ctx_index = 0;
    ngx_http_mcp_catalog_module.index = 1;

    ngx_str_set(&cycle->prefix, "/tmp/");
    ngx_str_set(&cycle->conf_prefix, "/tmp/");

    mmcf = ngx_pcalloc(cycle->pool, sizeof(ngx_http_mcp_main_conf_t));

    if (mmcf == NULL
        || ngx_array_init(&mmcf->servers, cycle->pool, 1,
                          sizeof(ngx_http_mcp_server_t *))
           != NGX_OK
        || ngx_array_init(&mmcf->header_vars, cycle->pool, 1,
                          sizeof(ngx_uint_t))
           != NGX_OK
        || ngx_array_init(&mmcf->stores, cycle->pool, 1,
                          sizeof(ngx_http_mcp_store_ref_t *))
           != NGX_OK)
    {
        abort();
    }

    main_conf[0] = mmcf;

    ngx_memzero(&ctx, sizeof(ngx_http_conf_ctx_t));
    ctx.main_conf = main_conf;

    ngx_memzero(&cf, sizeof(ngx_conf_t));

    cf.args = ngx_array_create(cycle->pool, 10, sizeof(ngx_str_t));
    cf.temp_pool = ngx_create_pool(NGX_CYCLE_POOL_SIZE, cycle->log);

    if (cf.args == NULL || cf.temp_pool == NULL) {
        abort();
    }

    cf.pool = cycle->pool;
    cf.cycle = cycle;
    cf.log = cycle->log;
    cf.ctx = &ctx;
    cf.module_type = NGX_HTTP_MODULE;
    cf.cmd_type = NGX_HTTP_MAIN_CONF;

    snprintf(path, sizeof(path), "%s/fuzz.conf", dir);
    file.data = (u_char *) path;
    file.len = strlen(path);

    rv = ngx_conf_parse(&cf, &file);

    if (rv != NGX_CONF_OK || mmcf->servers.nelts != 1) {
        fprintf(stderr, "fuzz_message: the catalog does not parse\n");
        abort();
    }

    /* requestState is sealed with a random key, as without mcp_state_key */

    ngx_http_mcp_fuzz_lcf.state_keys = ngx_http_mcp_state_key_random(&cf);

    if (ngx_http_mcp_fuzz_lcf.state_keys == NULL) {
        abort();
    }

    ngx_destroy_pool(cf.temp_pool);

    snprintf(path, sizeof(path), "rm -rf '%s'", dir);

    if (system(path) != 0) {
        /* a temporary directory left behind */
    }

    /* the merged defaults of a location with `mcp_pass fuzz;` */

    ngx_http_mcp_fuzz_lcf.server = ((ngx_http_mcp_server_t **)
                                    mmcf->servers.elts)[0];
    ngx_str_set(&ngx_http_mcp_fuzz_lcf.pass_name, "fuzz");
    ngx_http_mcp_fuzz_lcf.session_timeout = 30 * 60 * 1000;
    ngx_http_mcp_fuzz_lcf.backend_timeout = 60000;
    ngx_http_mcp_fuzz_lcf.backend_max_size = 1024 * 1024;
    ngx_http_mcp_fuzz_lcf.batch_max_response_size = 8192;
    ngx_http_mcp_fuzz_lcf.page_size = 2;          /* cursors, every list */
    ngx_http_mcp_fuzz_lcf.max_depth = 16;
    ngx_http_mcp_fuzz_lcf.max_members = 256;
    ngx_http_mcp_fuzz_lcf.max_string = 4096;
    ngx_http_mcp_fuzz_lcf.max_values = 4096;
}


/* the first line of the input's head, and the rest */

static ngx_uint_t
ngx_http_mcp_fuzz_header(ngx_str_t *head, ngx_str_t *name, ngx_str_t *value)
{
    u_char  *p, *nl, *colon, *last;

    if (head->len == 0) {
        return 0;
    }

    p = head->data;
    last = p + head->len;

    nl = memchr(p, LF, last - p);
    if (nl == NULL) {
        nl = last;
    }

    head->data = (nl == last) ? last : nl + 1;
    head->len = last - head->data;

    colon = memchr(p, ':', nl - p);

    if (colon == NULL) {
        name->len = 0;
        return 1;
    }

    name->data = p;
    name->len = colon - p;

    value->data = colon + 1;
    value->len = nl - value->data;

    /* RFC 9110 OWS, and the CR of a CRLF */

    while (value->len && (value->data[0] == ' ' || value->data[0] == '\t')) {
        value->data++;
        value->len--;
    }

    while (value->len && (value->data[value->len - 1] == ' '
                          || value->data[value->len - 1] == '\t'
                          || value->data[value->len - 1] == CR))
    {
        value->len--;
    }

    return 1;
}


static void
ngx_http_mcp_fuzz_backend_header(ngx_http_mcp_fuzz_backend_t *fb, u_char *k,
    size_t len, ngx_str_t *value)
{
    ngx_str_t  *ev;

    if (len == sizeof("x-fuzz-event") - 1
        && ngx_strncmp(k, "x-fuzz-event", len) == 0)
    {
        ev = ngx_array_push(&fb->events);
        if (ev == NULL) {
            abort();
        }

        *ev = *value;

    } else if (len == sizeof("x-fuzz-answer") - 1
               && ngx_strncmp(k, "x-fuzz-answer", len) == 0)
    {
        fb->answer = *value;
        fb->has_answer = 1;

    } else if (len == sizeof("x-fuzz-answer-type") - 1
               && ngx_strncmp(k, "x-fuzz-answer-type", len) == 0)
    {
        fb->type = *value;

    } else if (len == sizeof("x-fuzz-answer-status") - 1
               && ngx_strncmp(k, "x-fuzz-answer-status", len) == 0)
    {
        fb->status = *value;

    } else if (len == sizeof("x-fuzz-answer-flags") - 1
               && ngx_strncmp(k, "x-fuzz-answer-flags", len) == 0)
    {
        fb->flags = *value;
    }
}


/* ngx_http_mcp_read_headers() */

static void
ngx_http_mcp_fuzz_headers(ngx_http_mcp_exchange_t *x, ngx_str_t *head,
    ngx_http_mcp_fuzz_backend_t *fb)
{
    u_char           *k;
    size_t            len;
    ngx_str_t         name, value;
    ngx_table_elt_t   h;

    while (ngx_http_mcp_fuzz_header(head, &name, &value)) {

        len = name.len;

        if (len < 8 || len > 64) {
            continue;
        }

        k = ngx_pnalloc(x->pool, len);
        if (k == NULL) {
            abort();
        }

        ngx_strlow(k, name.data, len);

        if (ngx_strncmp(k, "x-fuzz-", 7) == 0) {
            ngx_http_mcp_fuzz_backend_header(fb, k, len, &value);
            continue;
        }

        /* as transport reads them (ngx_http_mcp_read_headers()) */

        h.key = name;
        h.lowcase_key = k;
        h.value = value;

        ngx_http_mcp_read_header(&h, x);
    }
}


static ngx_uint_t
ngx_http_mcp_fuzz_has(ngx_str_t *s, ngx_str_t *what)
{
    return ngx_strlcasestrn(s->data, s->data + s->len, what->data,
                            what->len - 1)
           != NULL;
}


/* what ngx_http_mcp_session_lookup() would have copied out */

static ngx_http_mcp_session_t *
ngx_http_mcp_fuzz_session(ngx_http_mcp_exchange_t *x)
{
    ngx_str_t                *id, s;
    ngx_uint_t                v, i;
    ngx_http_mcp_session_t   *session;

    session = ngx_pcalloc(x->pool, sizeof(ngx_http_mcp_session_t));
    if (session == NULL) {
        abort();
    }

    id = &x->h_session;

    if (id->len == 0) {
        return NULL;                     /* not found: 404 */
    }

    session->version = NGX_HTTP_MCP_V_2025_11_25;

    for (v = NGX_HTTP_MCP_V_2025_03_26; v <= NGX_HTTP_MCP_V_LATEST_LEGACY;
         v++)
    {
        if (ngx_http_mcp_fuzz_has(id, ngx_http_mcp_version_name(v))) {
            session->version = v;
        }
    }

    ngx_str_set(&s, "initialized");
    session->initialized = ngx_http_mcp_fuzz_has(id, &s);

    session->log_level = NGX_HTTP_MCP_LOG_NONE;

    for (i = 0; i < NGX_HTTP_MCP_LOG_NONE; i++) {
        if (ngx_http_mcp_fuzz_has(id, &ngx_http_mcp_fuzz_levels[i])) {
            session->log_level = i;
        }
    }

    ngx_str_set(&s, "caps");

    if (ngx_http_mcp_fuzz_has(id, &s)) {
        ngx_str_set(&session->client_capabilities,
                    "{\"sampling\":{},\"elicitation\":{}}");

    } else {
        ngx_str_set(&session->client_capabilities, "{}");
    }

    ngx_str_set(&session->client_info, "{\"name\":\"fuzz\",\"version\":\"1\"}");

    return session;
}


/* what dispatch answered must be one JSON text (or nothing, for a 202) */

static void
ngx_http_mcp_fuzz_answer(ngx_http_mcp_exchange_t *x, ngx_str_t *in)
{
    ngx_str_t             err;
    ngx_http_mcp_json_t  *v;

    if (ngx_http_mcp_fuzz_verbose) {
        fprintf(stderr, "era %d, HTTP %d: %.*s\n", (int) x->era,
                (int) x->status, (int) x->out.len, x->out.data);
    }

    if (x->status == NGX_HTTP_ACCEPTED) {
        if (x->out.len) {
            ngx_http_mcp_fuzz_fail("a 202 with a body", in, &x->out);
        }

        return;
    }

    if (x->status != NGX_HTTP_OK && x->status != NGX_HTTP_BAD_REQUEST
        && x->status != NGX_HTTP_NOT_FOUND)
    {
        ngx_http_mcp_fuzz_fail("an unexpected status", in, &x->out);
    }

    if (ngx_http_mcp_json_parse(x->pool, x->out.data, x->out.len, NULL, &v,
                                &err)
        != NGX_OK)
    {
        ngx_http_mcp_fuzz_fail("the answer is not JSON", in, &x->out);
    }

    if (v->type != NGX_HTTP_MCP_JSON_OBJECT
        && v->type != NGX_HTTP_MCP_JSON_ARRAY)
    {
        ngx_http_mcp_fuzz_fail("the answer is not a JSON-RPC message", in,
                               &x->out);
    }
}


/* an event the location streamed: the notification, when one is due */

static void
ngx_http_mcp_fuzz_events(ngx_http_mcp_exchange_t *x,
    ngx_http_mcp_fuzz_backend_t *fb, ngx_str_t *in)
{
    ngx_int_t             rc;
    ngx_str_t             err, out, *ev;
    ngx_uint_t            i;
    ngx_http_mcp_json_t  *v;

    ev = fb->events.elts;

    for (i = 0; i < fb->events.nelts; i++) {

        /* as the body filter parses a line: default limits */

        rc = ngx_http_mcp_json_parse(x->pool, ev[i].data, ev[i].len, NULL,
                                     &v, &err);

        if (rc != NGX_OK || v->type != NGX_HTTP_MCP_JSON_OBJECT) {
            continue;
        }

        rc = ngx_http_mcp_dispatch_notification(x, v, x->pool, &out);

        if (rc == NGX_DECLINED) {
            continue;
        }

        if (rc != NGX_OK) {
            ngx_http_mcp_fuzz_fail("notification failed", in, NULL);
        }

        if (ngx_http_mcp_json_parse(x->pool, out.data, out.len, NULL, &v,
                                    &err)
            != NGX_OK)
        {
            ngx_http_mcp_fuzz_fail("the notification is not JSON", in,
                                   &out);
        }
    }
}


/*
 * What transport/call does when a location's call is done: the location
 * backend turns what it answered into the call's neutral result
 * (ngx_http_mcp_location_result(), location_map.c), then dispatch resumes
 * and shapes it for the client (protocol/results.c).
 */

static ngx_int_t
ngx_http_mcp_fuzz_answer_call(ngx_http_mcp_exchange_t *x,
    ngx_http_mcp_fuzz_backend_t *fb)
{
    ngx_int_t                    n;
    ngx_str_t                    flag;
    ngx_http_mcp_bcall_t        *bc;
    ngx_http_mcp_entry_t        *e;
    ngx_http_mcp_location_op_t   op;

    bc = x->bcall;
    e = bc->entry;

    bc->pool = x->pool;
    bc->timeout = (e->timeout != NGX_CONF_UNSET_MSEC)
                  ? e->timeout : x->conf->backend_timeout;
    bc->max_size = (e->max_size != NGX_CONF_UNSET_SIZE)
                   ? e->max_size : x->conf->backend_max_size;

    ngx_memzero(&op, sizeof(ngx_http_mcp_location_op_t));

    op.bc = bc;
    op.loc = e->conf;
    op.done = 1;
    op.complete = 1;
    op.status = 200;

    ngx_str_set(&op.type, "application/json");

    if (fb->type.len) {
        op.type = fb->type;
    }

    if (fb->status.len) {
        n = ngx_atoi(fb->status.data, fb->status.len);
        op.status = (n == NGX_ERROR || n > 999) ? 0 : (ngx_uint_t) n;
    }

    /* the answer: a copy of its own size, as the body filter keeps it */

    op.body.len = fb->answer.len;
    op.body.data = ngx_pnalloc(x->pool, fb->answer.len);
    if (op.body.data == NULL) {
        abort();
    }

    ngx_memcpy(op.body.data, fb->answer.data, fb->answer.len);

    flag = fb->flags;

    if (ngx_http_mcp_fuzz_flag(&flag, "cut")) {
        op.complete = 0;
    }

    if (ngx_http_mcp_fuzz_flag(&flag, "big")) {
        op.too_big = 1;
    }

    if (ngx_http_mcp_fuzz_flag(&flag, "timeout")) {
        op.aborted = NGX_HTTP_MCP_ABORT_TIMEOUT;
        op.status = 0;
    }

    if (ngx_http_mcp_fuzz_flag(&flag, "private")) {
        op.private = 1;
    }

    if (ngx_http_mcp_fuzz_flag(&flag, "cache")) {
        op.max_age = 60000;
    }

    if (ngx_http_mcp_location_result(&op) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_mcp_dispatch_resume(x);
}


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    ngx_http_mcp_fuzz_log = ngx_http_mcp_fuzz_init();

    /* MCP_FUZZ_VERBOSE=1 fuzz_message FILE...: what each input gets */

    ngx_http_mcp_fuzz_verbose = (getenv("MCP_FUZZ_VERBOSE") != NULL);

    ngx_http_mcp_fuzz_catalog();

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                      *buf, *p;
    ngx_int_t                    rc;
    ngx_str_t                    in, head, body, err;
    ngx_pool_t                  *pool;
    ngx_http_mcp_exchange_t     *x;
    ngx_http_mcp_json_limits_t   limits;
    ngx_http_mcp_fuzz_backend_t  fb;

    pool = ngx_create_pool(NGX_HTTP_MCP_FUZZ_POOL_SIZE,
                           ngx_http_mcp_fuzz_log);
    if (pool == NULL) {
        abort();
    }

    /* the request body lives in r->pool, exactly as long */

    buf = ngx_pnalloc(pool, size ? size : 1);
    if (buf == NULL) {
        abort();
    }

    ngx_memcpy(buf, data, size);

    in.data = buf;
    in.len = size;

    head.len = 0;
    body = in;

    p = ngx_strlcasestrn(buf, buf + size, (u_char *) "\n\n", 2 - 1);

    if (p) {
        head.data = buf;
        head.len = p - buf;
        body.data = p + 2;
        body.len = buf + size - body.data;
    }

    /* the exchange is the request's ctx: in the pool, zeroed */

    x = ngx_pcalloc(pool, sizeof(ngx_http_mcp_exchange_t));
    if (x == NULL) {
        abort();
    }

    x->pool = pool;
    x->log = ngx_http_mcp_fuzz_log;
    x->conf = &ngx_http_mcp_fuzz_lcf;
    x->identity = &ngx_http_mcp_fuzz_anonymous;   /* no authentication */

    limits.max_depth = x->conf->max_depth;
    limits.max_members = x->conf->max_members;
    limits.max_string = x->conf->max_string;
    limits.max_values = x->conf->max_values;
    limits.in_place = 1;

    rc = ngx_http_mcp_json_parse(pool, body.data, body.len, &limits,
                                 &x->body, &err);

    if (rc == NGX_ERROR) {
        abort();
    }

    /* transport answers these itself: 400 */

    if (rc != NGX_OK
        || (x->body->type != NGX_HTTP_MCP_JSON_OBJECT
            && x->body->type != NGX_HTTP_MCP_JSON_ARRAY))
    {
        goto done;
    }

    ngx_memzero(&fb, sizeof(ngx_http_mcp_fuzz_backend_t));

    if (ngx_array_init(&fb.events, pool, 2, sizeof(ngx_str_t)) != NGX_OK) {
        abort();
    }

    ngx_http_mcp_fuzz_headers(x, &head, &fb);

    x->era = ngx_http_mcp_dispatch_era(x);

    if (x->era == NGX_HTTP_MCP_ERA_SESSION) {
        x->session = ngx_http_mcp_fuzz_session(x);

        if (x->session == NULL) {
            goto done;
        }
    }

    rc = ngx_http_mcp_dispatch(x);

    if (rc == NGX_AGAIN) {

        if (x->bcall == NULL || x->call == NULL) {
            ngx_http_mcp_fuzz_fail("NGX_AGAIN without a call", &in, NULL);
        }

        ngx_http_mcp_fuzz_events(x, &fb, &in);

        /*
         * the location answered: what X-Fuzz-Answer says, else a fixed
         * result, or (odd sizes) the failure of a read or a prompt, which
         * is a JSON-RPC error
         */

        if (fb.has_answer) {
            rc = ngx_http_mcp_fuzz_answer_call(x, &fb);

        } else if (size & 1) {
            x->bcall->result.kind = NGX_HTTP_MCP_RESULT_ERROR;
            x->bcall->result.status = (size & 2) ? 404 : 500;
            ngx_str_set(&x->bcall->result.reason, "the location failed");
            rc = ngx_http_mcp_dispatch_resume(x);

        } else {
            x->bcall->result.kind = NGX_HTTP_MCP_RESULT_TEXT;
            ngx_str_set(&x->bcall->result.data, "ok");
            rc = ngx_http_mcp_dispatch_resume(x);
        }
    }

    if (rc != NGX_OK) {
        ngx_http_mcp_fuzz_fail("dispatch failed", &in, NULL);
    }

    ngx_http_mcp_fuzz_answer(x, &in);

done:

    ngx_destroy_pool(pool);

    return 0;
}
