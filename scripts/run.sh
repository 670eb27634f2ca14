#!/usr/bin/env bash
# make run: nginx in the foreground with a shipped configuration.
#   scripts/run.sh CONF PORT
# The configuration is rendered into build/run/NAME/ (the nginx prefix): @MODULE@ becomes
# the built module, @PORT@ the port, @PREFIX@ the prefix, @ROOT@ this checkout.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
conf=${1:-conf/demo.conf}
port=${2:-8000}
module=${MCP_MODULE:-$top/build/ngx_http_mcp_module.so}
name=$(basename "$conf" .conf)
prefix=$top/build/run/$name

[ -f "$top/$conf" ] || [ -f "$conf" ] || { echo "run.sh: no such configuration: $conf" >&2; exit 1; }
[ -f "$conf" ] || conf=$top/$conf

mkdir -p "$prefix/logs"
rm -f "$prefix"/*.sock        # left behind when nginx was killed
"$top/scripts/render-conf.sh" "$conf" "$module" "$port" "$prefix" > "$prefix/nginx.conf"

nginx=${NGINX:-/usr/sbin/nginx}
"$nginx" -t -q -p "$prefix" -c "$prefix/nginx.conf"

cat <<MSG
ngx_http_mcp_module: serving $conf
  MCP endpoint:  http://127.0.0.1:$port/mcp
  try it:        curl -s http://127.0.0.1:$port/mcp -H 'Content-Type: application/json' \\
                   -H 'Accept: application/json, text/event-stream' \\
                   -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}'
  Ctrl-C stops it.
MSG

exec "$nginx" -p "$prefix" -c "$prefix/nginx.conf" -g 'daemon off; error_log stderr info;'
