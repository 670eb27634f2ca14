
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_PG_VALUE_H_INCLUDED_
#define _NGX_HTTP_MCP_PG_VALUE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "json/ngx_http_mcp_json.h"


/*
 * One value of a text-format PostgreSQL result, of the column type `oid`,
 * written as JSON (docs/BACKENDS.md has the mapping): integers and floats
 * as numbers where exact, numeric as a string, bool, json/jsonb embedded
 * when valid, bytea as base64, timestamps as ISO 8601, arrays of those
 * types as JSON arrays; anything else, or anything malformed, as its text
 * in a JSON string.  The output is valid JSON for any bytes.  NULL is the
 * caller's: it writes null without calling this.
 */
void ngx_http_mcp_pg_value(ngx_http_mcp_jw_t *jw, ngx_uint_t oid, u_char *p,
    size_t len);


#endif /* _NGX_HTTP_MCP_PG_VALUE_H_INCLUDED_ */
