#!/usr/bin/env bash
# make run: nginx in the foreground with a shipped configuration.
#   scripts/run.sh CONF PORT
# The configuration is rendered into build/run/NAME/ (the nginx prefix): @MODULE@ becomes
# the built module, @PORT@ the port, @PREFIX@ the prefix, @ROOT@ this checkout.
#
# A configuration that names @PGPORT@ (conf/postgres.conf) is served with a throwaway
# PostgreSQL: scripts/db/pg-temp.sh makes a new cluster in build/run/NAME/postgres on
# the first free port from 15432, loads scripts/db/schema.sql and seed.sql into the
# database app (role app, password secret), and @PGPORT@ becomes its port.  It is
# stopped when nginx exits (Ctrl-C) and thrown away by the next run.
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

pgtemp=$top/scripts/db/pg-temp.sh
pgdir=
pgport=
extra=()

port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# shellcheck disable=SC2317  # called by the EXIT trap
stop_postgres() {
    if [ -n "$pgdir" ]; then
        echo "run.sh: stopping PostgreSQL ($pgdir)" >&2
        "$pgtemp" stop "$pgdir" || true
        pgdir=
    fi
}

if grep -q '@PGPORT@' "$conf"; then
    pgdir=$prefix/postgres
    "$pgtemp" stop "$pgdir" 2>/dev/null || true     # left running by a killed run
    rm -rf "$pgdir"
    pgport=15432
    while ! port_free "$pgport"; do
        pgport=$((pgport + 1))
    done
    trap stop_postgres EXIT
    echo "run.sh: starting PostgreSQL on 127.0.0.1:$pgport ($pgdir)" >&2
    "$pgtemp" start "$pgdir" "$pgport" "$top/scripts/db/schema.sql" \
        "$top/scripts/db/seed.sql"
    extra=(PGPORT="$pgport")
fi

"$top/scripts/render-conf.sh" "$conf" "$module" "$port" "$prefix" "${extra[@]}" \
    > "$prefix/nginx.conf"

nginx=${NGINX:-/usr/sbin/nginx}
"$nginx" -t -q -p "$prefix" -c "$prefix/nginx.conf"

cat <<MSG
ngx_http_mcp_module: serving $conf
  MCP endpoint:  http://127.0.0.1:$port/mcp
  try it:        curl -s http://127.0.0.1:$port/mcp -H 'Content-Type: application/json' \\
                   -H 'Accept: application/json, text/event-stream' \\
                   -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}'
MSG
if [ -n "$pgdir" ]; then
    cat <<MSG
  PostgreSQL:    127.0.0.1:$pgport, database app (user app, password secret), thrown away
                 on the next run; psql: scripts/db/pg-temp.sh psql ${pgdir#"$top"/} $pgport
MSG
fi
echo "  Ctrl-C stops it."

if [ -z "$pgdir" ]; then
    exec "$nginx" -p "$prefix" -c "$prefix/nginx.conf" -g 'daemon off; error_log stderr info;'
fi

# nginx as a child, so that PostgreSQL is stopped after it: Ctrl-C reaches nginx
# from the terminal (and is passed on here, as is a TERM sent to this script)
"$nginx" -p "$prefix" -c "$prefix/nginx.conf" -g 'daemon off; error_log stderr info;' &
nginx_pid=$!
trap 'kill -TERM "$nginx_pid" 2>/dev/null || true' INT TERM
rc=0
while kill -0 "$nginx_pid" 2>/dev/null; do
    wait "$nginx_pid" && rc=0 || rc=$?
done
exit "$rc"
