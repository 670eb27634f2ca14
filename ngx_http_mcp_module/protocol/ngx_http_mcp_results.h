
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_RESULTS_H_INCLUDED_
#define _NGX_HTTP_MCP_RESULTS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "json/ngx_http_mcp_json.h"
#include "backend/ngx_http_mcp_backend.h"


/*
 * The CallToolResult members (no braces) for what a backend answered: a
 * CallToolResult or any JSON, text, an image or audio, other bytes as an
 * embedded resource, or a failure as a result with isError.
 * `object_only` (the 2025 revisions): structuredContent must be an
 * object.  An input_required result is a failure here: 2026 calls take
 * it through ngx_http_mcp_results_input() first.  A "_meta" object of the
 * backend's result is left out and returned in *meta.
 */
ngx_int_t ngx_http_mcp_results_tool(ngx_http_mcp_result_t *res,
    ngx_pool_t *pool, ngx_uint_t object_only, ngx_http_mcp_jw_t *jw,
    ngx_http_mcp_json_t **meta);

/*
 * An answer with "resultType":"input_required" (any item's, 2026): NGX_OK
 * with the object in *v, its shape checked; NGX_ABORT when it is
 * malformed, with the reason (for `what`: "tool", ...) in *err;
 * NGX_DECLINED when the answer is something else (JSON answers are then
 * parsed, in res->json); NGX_ERROR.
 */
ngx_int_t ngx_http_mcp_results_input(ngx_http_mcp_result_t *res, char *what,
    ngx_pool_t *pool, ngx_http_mcp_json_t **v, ngx_str_t *err);

/*
 * The members of a result object the backend wrote, but "resultType" and
 * "_meta" (an object "_meta" goes to *meta, for dispatch to merge)
 */
void ngx_http_mcp_results_members(ngx_http_mcp_json_t *v,
    ngx_http_mcp_jw_t *jw, ngx_http_mcp_json_t **meta);

/*
 * `"contents":[{..}]` of a ReadResourceResult for resource `uri`, typed by
 * the answer's type, else `mime`.  NGX_DECLINED: the call failed.
 */
ngx_int_t ngx_http_mcp_results_contents(ngx_http_mcp_result_t *res,
    ngx_str_t *uri, ngx_str_t *mime, ngx_http_mcp_jw_t *jw);

/*
 * The GetPromptResult members; `description` (a JSON string) unless the
 * answer has its own.  NGX_DECLINED with the reason in *err.
 */
ngx_int_t ngx_http_mcp_results_messages(ngx_http_mcp_result_t *res,
    ngx_pool_t *pool, ngx_str_t *description, ngx_http_mcp_jw_t *jw,
    ngx_http_mcp_json_t **meta, ngx_str_t *err);



#endif /* _NGX_HTTP_MCP_RESULTS_H_INCLUDED_ */
