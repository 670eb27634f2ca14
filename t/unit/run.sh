#!/usr/bin/env bash
# Unit tests of json/ (the parser, writer and schema), of backend/'s
# PostgreSQL value conversion and of auth/'s JWT and JWK code (TAP on
# stdout).
#
#   t/unit/run.sh                 build and run against the nginx on $PATH
#   NGINX=/path/to/nginx run.sh   another nginx binary (same version/flags)
#   SANITIZE=1 run.sh             ASan+UBSan build, libasan preloaded
#   prove t/unit/run.sh
#
# The tests run inside the real nginx binary, with its pools, strings and
# PCRE: json_test.c, jwt_test.c (its keys and tokens in jwt_vectors.h, made
# by jwt_vectors.pl), the sources of json/ and auth/ and
# backend/ngx_http_mcp_pg_value.c are compiled into a dynamic core module
# (same configure as scripts/build.sh, so the module signature matches), loaded
# by a one-line configuration whose directive "mcp_unit_test;" runs the
# tests while nginx reads it, then exits with the result.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
nginx=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
variant=plain
out=$top/build
extra=()
preload=

if [ "${SANITIZE:-0}" = 1 ]; then
    variant=asan
    out=$top/build/asan
    # shellcheck disable=SC2054  # the commas belong to -fsanitize=
    extra=(-O1 -fno-omit-frame-pointer -fsanitize=address,undefined
           -fno-sanitize-recover=undefined
           "-DNGX_HTTP_MCP_UNIT_POOL_SIZE=(sizeof(ngx_pool_t) + 48)")
    preload=$(cc -print-file-name=libasan.so)
fi

tree=$out/nginx-$variant

# the configured tree (objs/ngx_auto_config.h) comes from scripts/build.sh
if [ ! -f "$tree/objs/ngx_auto_config.h" ] || [ "${REBUILD:-0}" = 1 ]; then
    "$top/scripts/build.sh" >&2
fi

unit=$out/unit
mkdir -p "$unit"
so=$unit/ngx_http_mcp_unit_module.so

(cd "$tree" && cc -shared -fPIC -pipe -g -O2 -W -Wall -Wextra \
    -Wpointer-arith -Wno-unused-parameter -Werror "${extra[@]}" \
    -I src/core -I src/event -I src/event/modules -I src/os/unix -I objs \
    -I "$top/ngx_http_mcp_module" \
    -o "$so" \
    "$top/t/unit/json_test.c" \
    "$top/t/unit/jwt_test.c" \
    "$top/ngx_http_mcp_module/json/ngx_http_mcp_json.c" \
    "$top/ngx_http_mcp_module/json/ngx_http_mcp_json_check.c" \
    "$top/ngx_http_mcp_module/json/ngx_http_mcp_json_tree.c" \
    "$top/ngx_http_mcp_module/json/ngx_http_mcp_json_writer.c" \
    "$top/ngx_http_mcp_module/json/ngx_http_mcp_schema.c" \
    "$top/ngx_http_mcp_module/json/ngx_http_mcp_schema_common.c" \
    "$top/ngx_http_mcp_module/json/ngx_http_mcp_schema_validate.c" \
    "$top/ngx_http_mcp_module/json/ngx_http_mcp_schema_values.c" \
    "$top/ngx_http_mcp_module/backend/ngx_http_mcp_pg_value.c" \
    "$top/ngx_http_mcp_module/auth/ngx_http_mcp_jwt.c" \
    "$top/ngx_http_mcp_module/auth/ngx_http_mcp_jwt_verify.c" \
    "$top/ngx_http_mcp_module/auth/ngx_http_mcp_jwt_claims.c" \
    "$top/ngx_http_mcp_module/auth/ngx_http_mcp_jwk.c" \
    "$top/ngx_http_mcp_module/auth/ngx_http_mcp_jwk_key.c" \
    -lyajl -lcrypto)

prefix=$(mktemp -d /tmp/mcp-unit.XXXXXX)
trap 'rm -rf "$prefix"' EXIT
mkdir -p "$prefix/logs"

cat > "$prefix/nginx.conf" <<END
load_module $so;
error_log stderr;
pid $prefix/nginx.pid;
mcp_unit_test;
events {}
END

# the directive exits nginx: 0 when every test passed
if [ -n "$preload" ]; then
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} LD_PRELOAD=$preload \
        "$nginx" -p "$prefix" -e stderr -c "$prefix/nginx.conf" -t
else
    "$nginx" -p "$prefix" -e stderr -c "$prefix/nginx.conf" -t
fi
