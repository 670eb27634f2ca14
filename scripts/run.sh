#!/usr/bin/env bash
# make run: nginx in the foreground with a shipped configuration.
#   scripts/run.sh CONF PORT
# The configuration is rendered into build/run/NAME/ (the nginx prefix): @MODULE@ becomes
# the built module, @PORT@ the port, @PREFIX@ the prefix, @ROOT@ this checkout.
#
# Local services, started when the configuration's upstreams name their placeholders,
# under build/run/NAME/ on the first free loopback port, stopped when nginx exits
# (Ctrl-C) and thrown away by the next run:
#
#   PostgreSQL  a `mcp_postgres_server` line with @PGPORT@ (conf/postgres.conf,
#               conf/stack.conf): scripts/db/pg-temp.sh makes a new cluster in
#               NAME/postgres on the first free port from 15432 and loads
#               scripts/db/schema.sql and seed.sql into the database app (role app,
#               password secret); @PGPORT@ becomes its port.
#   Redis       a `mcp_redis_server` line with @REDISPORT@ (conf/stack.conf):
#               scripts/redis-temp.sh starts redis-server in NAME/redis on the first
#               free port from 16379, password secret, nothing saved to disk;
#               @REDISPORT@ becomes its port.
#
# RUN_PREFIX overrides build/run/NAME (scripts/check-deploy.sh).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
conf=${1:-conf/demo.conf}
port=${2:-8000}
module=${MCP_MODULE:-$top/build/ngx_http_mcp_module.so}
name=$(basename "$conf" .conf)
prefix=${RUN_PREFIX:-$top/build/run/$name}

[ -f "$top/$conf" ] || [ -f "$conf" ] || { echo "run.sh: no such configuration: $conf" >&2; exit 1; }
[ -f "$conf" ] || conf=$top/$conf

mkdir -p "$prefix/logs"
rm -f "$prefix"/*.sock        # left behind when nginx was killed

pgtemp=$top/scripts/db/pg-temp.sh
redistemp=$top/scripts/redis-temp.sh
pgdir=
pgport=
redisdir=
redisport=
extra=()

port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

first_free() {
    local p=$1
    while ! port_free "$p"; do
        p=$((p + 1))
    done
    echo "$p"
}

# shellcheck disable=SC2317  # called by the EXIT trap
stop_services() {
    if [ -n "$pgdir" ]; then
        echo "run.sh: stopping PostgreSQL ($pgdir)" >&2
        "$pgtemp" stop "$pgdir" || true
        pgdir=
    fi
    if [ -n "$redisdir" ]; then
        echo "run.sh: stopping Redis ($redisdir)" >&2
        "$redistemp" stop "$redisdir" || true
        redisdir=
    fi
}
trap stop_services EXIT

uses() {                        # uses DIRECTIVE PLACEHOLDER: a line of the conf has both
    grep -Eq "^[[:space:]]*$1[[:space:]].*@$2@" "$conf"
}

if uses mcp_postgres_server PGPORT; then
    pgdir=$prefix/postgres
    "$pgtemp" stop "$pgdir" 2>/dev/null || true     # left running by a killed run
    rm -rf "$pgdir"
    pgport=$(first_free 15432)
    echo "run.sh: starting PostgreSQL on 127.0.0.1:$pgport ($pgdir)" >&2
    "$pgtemp" start "$pgdir" "$pgport" "$top/scripts/db/schema.sql" \
        "$top/scripts/db/seed.sql"
    extra+=(PGPORT="$pgport")
fi

if uses mcp_redis_server REDISPORT; then
    redisdir=$prefix/redis
    "$redistemp" stop "$redisdir" 2>/dev/null || true
    rm -rf "$redisdir"
    redisport=$(first_free 16379)
    echo "run.sh: starting Redis on 127.0.0.1:$redisport ($redisdir)" >&2
    REDIS_PASSWORD=secret "$redistemp" start "$redisdir" "$redisport"
    extra+=(REDISPORT="$redisport")
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
if [ -n "$redisdir" ]; then
    cat <<MSG
  Redis:         127.0.0.1:$redisport (password secret), nothing saved, thrown away on the
                 next run; redis-cli: scripts/redis-temp.sh cli ${redisdir#"$top"/} $redisport
MSG
fi
echo "  Ctrl-C stops it."

if [ -z "$pgdir" ] && [ -z "$redisdir" ]; then
    trap - EXIT
    exec "$nginx" -p "$prefix" -c "$prefix/nginx.conf" -g 'daemon off; error_log stderr info;'
fi

# nginx as a child, so that the services are stopped after it: Ctrl-C reaches nginx
# from the terminal (and is passed on here, as is a TERM sent to this script)
"$nginx" -p "$prefix" -c "$prefix/nginx.conf" -g 'daemon off; error_log stderr info;' &
nginx_pid=$!
trap 'kill -TERM "$nginx_pid" 2>/dev/null || true' INT TERM
rc=0
while kill -0 "$nginx_pid" 2>/dev/null; do
    wait "$nginx_pid" && rc=0 || rc=$?
done
exit "$rc"
