#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the demo, the tests and the bench
# (never for production): initdb into DIR, served on 127.0.0.1:PORT and on a
# Unix socket in DIR.  As root the server runs as the `postgres` user.
#
#   pg-temp.sh start DIR PORT [SQL...]  initdb when DIR has no cluster yet,
#                                       start, wait until it answers; on the
#                                       first start: role app (password
#                                       "secret"), database app owned by it,
#                                       then each SQL file run as app
#   pg-temp.sh stop DIR                 fast shutdown
#   pg-temp.sh kill DIR                 SIGKILL to the server and every
#                                       backend (a crash, for fault tests)
#   pg-temp.sh psql DIR PORT [ARG...]   psql as the superuser, database app
#
# Authentication: the Unix socket trusts everyone; TCP asks for a
# SCRAM password.  PGBIN overrides /usr/lib/postgresql/15/bin (else the
# newest installed version).  PG_LISTEN (default 127.0.0.1) is
# listen_addresses, PG_HBA_NET a network (CIDR) also let in by password,
# e.g. the containers' bridge for scripts/image-test.sh.
set -euo pipefail

bin=${PGBIN:-/usr/lib/postgresql/15/bin}
if [ -z "${PGBIN:-}" ] && [ ! -x "$bin/postgres" ]; then
    bin=$(printf "%s\n" /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi
cmd=${1:?usage: pg-temp.sh start|stop|kill|psql DIR [PORT]}
dir=${2:?DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
data=$dir/data

as_pg() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_psql() {
    local port=$1; shift
    as_pg "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" \
        -U postgres "$@"
}

case $cmd in
start)
    port=${3:?PORT}
    shift 3
    first=0
    if [ ! -f "$data/PG_VERSION" ]; then
        first=1
        [ "$(id -u)" = 0 ] && chown postgres: "$dir"
        as_pg "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 \
            --locale=C.UTF-8 -N >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; exit 1; }
        cat > "$dir/hba.conf" <<HBA
local all all               trust
host  all all 127.0.0.1/32  scram-sha-256
host  all all ::1/128       scram-sha-256
HBA
        if [ -n "${PG_HBA_NET:-}" ]; then
            echo "host  all all $PG_HBA_NET  scram-sha-256" >> "$dir/hba.conf"
        fi
        [ "$(id -u)" = 0 ] && chown postgres: "$dir/hba.conf"
    fi
    as_pg "$bin/pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t 30 \
        -o "-p $port -k $dir -c listen_addresses='${PG_LISTEN:-127.0.0.1}' \
            -c hba_file=$dir/hba.conf -c fsync=off -c synchronous_commit=off \
            -c full_page_writes=off -c max_connections=300" \
        start >/dev/null
    if [ "$first" = 1 ]; then
        pg_psql "$port" -d postgres <<SQL
CREATE ROLE app LOGIN PASSWORD 'secret';
CREATE DATABASE app OWNER app;
SQL
        for f in "$@"; do
            as_pg "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" \
                -U app -d app -f - < "$f" >/dev/null
        done
    fi
    ;;
stop)
    if [ -f "$data/postmaster.pid" ]; then
        as_pg "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null || true
    fi
    ;;
kill)
    if [ -f "$data/postmaster.pid" ]; then
        pid=$(head -n 1 "$data/postmaster.pid")
        # stopped first, the postmaster forks no backend between the two
        # kills; then every process that had the shared memory is waited
        # for, or a start right after finds it still in use
        kill -STOP "$pid" 2>/dev/null || true
        children=$(pgrep -P "$pid" 2>/dev/null || true)
        # shellcheck disable=SC2086
        [ -z "$children" ] || kill -KILL $children 2>/dev/null || true
        kill -KILL "$pid" 2>/dev/null || true
        for p in "$pid" $children; do
            for _ in $(seq 50); do
                kill -0 "$p" 2>/dev/null || break
                sleep 0.1
            done
        done
        rm -f "$data/postmaster.pid"
    fi
    ;;
psql)
    port=${3:?PORT}
    shift 3
    pg_psql "$port" -d app "$@"
    ;;
*)
    echo "pg-temp.sh: unknown command $cmd" >&2
    exit 2
    ;;
esac
