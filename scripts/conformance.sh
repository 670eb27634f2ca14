#!/usr/bin/env bash
# Run the official MCP conformance suite (@modelcontextprotocol/conformance, pinned in
# scripts/node-tools/package.json) against the module serving conf/conformance.conf.
#
#   scripts/conformance.sh            both requirement sets, 2025-11-25 and 2026-07-28
#   scripts/conformance.sh REV ...    only these requirement sets
#   scripts/conformance.sh --serve    only start nginx with the conformance configuration
#                                     in the foreground (Ctrl-C stops it)
#
# Environment:
#   MCP_TEST_MODULE       the module to load (default build/ngx_http_mcp_module.so); a
#                         sanitizer build (a path containing /asan/) gets libasan preloaded
#   NGINX                 the nginx binary (default /usr/sbin/nginx)
#   MCP_CONFORMANCE_PORT  the loopback port (default: a free one; --serve: 8000)
#   MCP_CONFORMANCE_CONF  the configuration template (default conf/conformance.conf)
#   MCP_CONFORMANCE_BASELINE  the expected failures (default conf/conformance-baseline.yml)
#   MCP_CONFORMANCE_OUT   where results go (default build/conformance): REV/ holds the
#                         suite's checks.json files, REV.log its console output, nginx/
#                         the prefix with error.log
#
# Each run is `conformance server --requirements REV --expected-failures
# conf/conformance-baseline.yml`: it fails on a failure or warning that the baseline does
# not list and on a baseline entry that now passes. The script also fails when error.log
# shows [alert], [crit] or [emerg] (a crashed worker is an [alert]) or a sanitizer report.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
nginx=${NGINX:-/usr/sbin/nginx}
module=${MCP_TEST_MODULE:-$top/build/ngx_http_mcp_module.so}
conf=${MCP_CONFORMANCE_CONF:-$top/conf/conformance.conf}
baseline=${MCP_CONFORMANCE_BASELINE:-$top/conf/conformance-baseline.yml}
out=${MCP_CONFORMANCE_OUT:-$top/build/conformance}
serve=0
revisions=()

for a in "$@"; do
    case "$a" in
        --serve) serve=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
        20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]) revisions+=("$a") ;;
        *) echo "conformance.sh: unknown argument: $a" >&2; exit 2 ;;
    esac
done
[ ${#revisions[@]} -gt 0 ] || revisions=(2025-11-25 2026-07-28)

case "$module" in /*) ;; *) module=$PWD/$module ;; esac
case "$conf" in /*) ;; *) conf=$PWD/$conf ;; esac
[ -f "$module" ] || { echo "conformance.sh: no module at $module (make build)" >&2; exit 1; }
[ -f "$conf" ] || { echo "conformance.sh: no configuration at $conf" >&2; exit 1; }
[ -x "$nginx" ] || { echo "conformance.sh: no nginx at $nginx" >&2; exit 1; }

# A sanitizer build loaded into the packaged (uninstrumented) nginx needs its runtime
# preloaded, for nginx only (curl and node must not inherit it). Leak checking is off:
# nginx frees its cycle pool only partially at exit.
nginx_env=()
case "$module" in
    */asan/*)
        cc=${CC:-cc}
        preload=""
        for lib in libasan.so libubsan.so; do
            f=$("$cc" -print-file-name="$lib")
            [ -f "$f" ] && preload="${preload:+$preload:}$f"
        done
        nginx_env=(
            "LD_PRELOAD=$preload"
            "ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}"
            "UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
        )
        ;;
esac

prefix=$out/nginx
rm -rf "$prefix"
mkdir -p "$prefix/logs"

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

render() {
    "$top/scripts/render-conf.sh" "$conf" "$module" "$1" "$prefix" > "$prefix/nginx.conf"
    env "${nginx_env[@]}" "$nginx" -t -q -p "$prefix" -c "$prefix/nginx.conf" \
        -e "$prefix/logs/error.log"
}

if [ "$serve" = 1 ]; then
    port=${MCP_CONFORMANCE_PORT:-8000}
    render "$port"
    echo "conformance fixtures at http://127.0.0.1:$port/mcp (logs: $prefix/logs); Ctrl-C stops"
    exec env "${nginx_env[@]}" "$nginx" -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/logs/error.log" \
        -g 'daemon off;'
fi

bin=$("$top/scripts/node-tools.sh")
export PATH="$bin:$PATH"

nginx_pid=""

stop_nginx() {
    local _
    [ -n "$nginx_pid" ] || return 0
    if kill -0 "$nginx_pid" 2>/dev/null; then
        kill -QUIT "$nginx_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$nginx_pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$nginx_pid" 2>/dev/null; then
            echo "conformance.sh: nginx did not stop on QUIT; sending TERM" >&2
            kill -TERM "$nginx_pid" 2>/dev/null || true
            sleep 1
            kill -KILL "$nginx_pid" 2>/dev/null || true
        fi
    fi
    wait "$nginx_pid" 2>/dev/null || true
    nginx_pid=""
}
trap stop_nginx EXIT
trap 'exit 130' INT TERM

# Start nginx (daemon off, in the background) on a free loopback port: a fixed
# MCP_CONFORMANCE_PORT, or random ports until one binds.
start_nginx() {
    local port _
    for _ in 1 2 3 4 5 6 7 8; do
        if [ -n "${MCP_CONFORMANCE_PORT:-}" ]; then
            port=$MCP_CONFORMANCE_PORT
        else
            port=$((20000 + RANDOM % 20000))
            if port_in_use "$port"; then continue; fi
        fi
        render "$port"
        : > "$prefix/logs/error.log"
        rm -f "$prefix"/*.sock
        env "${nginx_env[@]}" "$nginx" -p "$prefix" -c "$prefix/nginx.conf" \
            -e "$prefix/logs/error.log" -g 'daemon off;' > "$prefix/logs/stderr.log" 2>&1 &
        nginx_pid=$!
        for _ in $(seq 1 100); do
            if ! kill -0 "$nginx_pid" 2>/dev/null; then
                break
            fi
            if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/mcp"; then
                PORT=$port
                return 0
            fi
            sleep 0.1
        done
        if kill -0 "$nginx_pid" 2>/dev/null; then
            echo "conformance.sh: nginx started but does not answer on port $port" >&2
            return 1
        fi
        wait "$nginx_pid" 2>/dev/null || true
        nginx_pid=""
        if grep -q 'Address already in use' "$prefix/logs/error.log" "$prefix/logs/stderr.log" \
            && [ -z "${MCP_CONFORMANCE_PORT:-}" ]; then
            continue
        fi
        echo "conformance.sh: nginx failed to start:" >&2
        cat "$prefix/logs/stderr.log" "$prefix/logs/error.log" >&2
        return 1
    done
    echo "conformance.sh: no free port found" >&2
    return 1
}

PORT=""
start_nginx
url="http://127.0.0.1:$PORT/mcp"
echo "conformance.sh: nginx $("$nginx" -v 2>&1 | sed 's/.*version: //') with $module"
echo "conformance.sh: suite $(conformance --version 2>/dev/null || echo '?') at $url"

rc=0
for rev in "${revisions[@]}"; do
    rm -rf "${out:?}/$rev"
    mkdir -p "$out/$rev"
    log=$out/$rev.log
    echo
    echo "=== conformance --requirements $rev ==="
    set +e
    conformance server --url "$url" --requirements "$rev" \
        --expected-failures "$baseline" -o "$out/$rev" > "$log" 2>&1
    code=$?
    set -e
    # The suite's summary and its baseline verdict; the whole run is in $log.
    if grep -q '=== SUMMARY ===' "$log"; then
        sed -n '/=== SUMMARY ===/,$p' "$log"
    else
        tail -30 "$log"
    fi
    if [ "$code" -ne 0 ]; then
        echo "conformance.sh: $rev FAILED (exit $code); details: $log and $out/$rev/*/checks.json"
        rc=1
    else
        echo "conformance.sh: $rev passed against the baseline"
    fi
done

stop_nginx

if grep -E '\[(alert|crit|emerg)\]' "$prefix/logs/error.log" >&2; then
    echo "conformance.sh: error.log has [alert]/[crit]/[emerg] lines (above)" >&2
    rc=1
fi
if grep -E 'exited on signal|AddressSanitizer|LeakSanitizer|runtime error:' \
        "$prefix/logs/error.log" "$prefix/logs/stderr.log" >&2; then
    echo "conformance.sh: a worker crashed or a sanitizer reported (above)" >&2
    rc=1
fi

if [ "$rc" -eq 0 ]; then
    echo "conformance.sh: all runs passed (results in $out)"
fi
exit "$rc"
