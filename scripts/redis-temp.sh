#!/usr/bin/env bash
# A throwaway redis-server for the demo and the deployment checks (never for
# production): served on REDIS_BIND (127.0.0.1):PORT from DIR, nothing saved
# to disk, stopped by `stop` and thrown away with DIR.
#
#   redis-temp.sh start DIR PORT        start, wait until it answers PING
#   redis-temp.sh stop DIR              shut it down (SIGTERM), wait for the exit
#   redis-temp.sh cli DIR PORT [ARG...] redis-cli against it
#
# REDIS_PASSWORD (optional): required by the server (requirepass), written to
# DIR/redis.conf (mode 0600), never to a command line.  REDIS_SERVER overrides
# /usr/bin/redis-server (scripts/install-deps.sh installs Debian's redis-server).
set -euo pipefail

server=${REDIS_SERVER:-/usr/bin/redis-server}
cmd=${1:?usage: redis-temp.sh start|stop|cli DIR [PORT]}
dir=${2:?DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# the password as the value of REDISCLI_AUTH (redis-cli reads it from there)
password() {
    if [ -f "$dir/password" ]; then
        cat "$dir/password"
    fi
}

cli() {
    local port=$1 pw
    shift
    pw=$(password)
    if [ -n "$pw" ]; then
        REDISCLI_AUTH=$pw redis-cli -h "${REDIS_BIND:-127.0.0.1}" -p "$port" "$@"
    else
        redis-cli -h "${REDIS_BIND:-127.0.0.1}" -p "$port" "$@"
    fi
}

case $cmd in
start)
    port=${3:?PORT}
    [ -x "$server" ] || {
        echo "redis-temp.sh: no $server (scripts/install-deps.sh installs redis-server)" >&2
        exit 1
    }
    (
        umask 077
        {
            echo "port $port"
            echo "bind ${REDIS_BIND:-127.0.0.1}"
            echo "protected-mode no"
            echo "dir $dir"
            echo "pidfile $dir/redis.pid"
            echo "logfile $dir/redis.log"
            echo "daemonize yes"
            echo 'save ""'
            echo "appendonly no"
            if [ -n "${REDIS_PASSWORD:-}" ]; then
                # a double-quoted string: \ and " escaped
                printf 'requirepass "%s"\n' \
                    "$(printf '%s' "$REDIS_PASSWORD" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"
            fi
        } > "$dir/redis.conf"
        printf '%s' "${REDIS_PASSWORD:-}" > "$dir/password"
    )
    rm -f "$dir/redis.pid"
    "$server" "$dir/redis.conf" || { cat "$dir/redis.log" >&2 2>/dev/null; exit 1; }
    for _ in $(seq 100); do
        if [ "$(cli "$port" ping 2>/dev/null)" = PONG ]; then
            exit 0
        fi
        sleep 0.05
    done
    echo "redis-temp.sh: redis-server on port $port does not answer" >&2
    tail -5 "$dir/redis.log" >&2 2>/dev/null
    exit 1
    ;;
stop)
    if [ -s "$dir/redis.pid" ]; then
        pid=$(cat "$dir/redis.pid")
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
        rm -f "$dir/redis.pid"
    fi
    ;;
cli)
    port=${3:?PORT}
    shift 3
    cli "$port" "$@"
    ;;
*)
    echo "redis-temp.sh: unknown command $cmd" >&2
    exit 2
    ;;
esac
