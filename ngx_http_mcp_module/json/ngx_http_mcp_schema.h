
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_SCHEMA_H_INCLUDED_
#define _NGX_HTTP_MCP_SCHEMA_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "json/ngx_http_mcp_json.h"


/*
 * JSON Schema (2020-12, the subset tools use: type, properties, required,
 * additionalProperties, items, prefixItems, enum, const, minimum, maximum,
 * exclusiveMinimum, exclusiveMaximum, multipleOf, minLength, maxLength,
 * pattern, format (not asserted), minItems, maxItems, uniqueItems,
 * minProperties, maxProperties, allOf, anyOf, oneOf, not, if/then/else,
 * $defs and local $ref ("#", "#/$defs/x", "#name" anchors); unknown
 * keywords are ignored; remote $ref refused).
 */

/*
 * Configuration time: is `schema` a well-formed schema?  With `object_root`
 * the root must also say "type":"object" (MCP inputSchema).  NGX_OK, or
 * NGX_DECLINED with the reason in *err (e.g. "\"required\" must be an array
 * of strings at /properties/a").  `pool` must live as long as the
 * configuration (cf->pool, never cf->temp_pool): patterns are compiled
 * into it with ngx_regex_compile(), which registers them with the cycle.
 */
ngx_int_t ngx_http_mcp_schema_check(ngx_pool_t *pool,
    ngx_http_mcp_json_t *schema, ngx_uint_t object_root, ngx_str_t *err);

/*
 * Request time: NGX_OK when `value` is valid; NGX_DECLINED with a reason a
 * model can act on in *err (e.g. "/id: expected integer, got string",
 * "missing required property \"id\"": a JSON pointer relative to `value`,
 * none at its top); NGX_ERROR when memory ran out.  Work is bounded
 * (100000 steps, $ref nesting 128: past that, NGX_DECLINED).  `schema`
 * should have passed ngx_http_mcp_schema_check(); NULL accepts anything;
 * a NULL `value` (absent arguments) is validated as {}.
 */
ngx_int_t ngx_http_mcp_schema_validate(ngx_pool_t *pool,
    ngx_http_mcp_json_t *schema, ngx_http_mcp_json_t *value, ngx_str_t *err);


#endif /* _NGX_HTTP_MCP_SCHEMA_H_INCLUDED_ */
