#!/usr/bin/env bash
# bench/streams.sh: idle GET streams and publication fan-out (issue 14's
# targets: 10,000 idle GET streams in one worker within 64 MiB, one
# publication reaching all of them within 100 ms).
#
#   bench/streams.sh [N] [ROUNDS]     (defaults 10000 and 5)
#
# One nginx worker (worker_processes 1) serves /mcp (2025-11-25 sessions in
# a zone big enough for N), /publish (mcp_publish) and /idle (a plain
# `return 200`).  bench/streams.mjs opens, in one node process:
#   - the peer: N idle HTTP/1.1 keep-alive connections after one answer on
#     /idle each: what nginx itself keeps per idle connection;
#   - N sessions, then a GET stream of each (until its priming event);
# and reads the worker's VmRSS before and after each, then publishes
# notifications/tools/list_changed ROUNDS times and measures the time from
# the POST to the last stream that has it; then the same push from the floor
# peer (bench/peers/fanout-floor, built here with cc: one send() to each of
# N plain connections), what any server pays on this machine.  The result
# goes to
# bench/results/streams-DATE.json (and streams-latest.json); the figures
# per stream are ratios against the peer's per connection.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-10000}
rounds=${2:-5}
module=${MCP_BENCH_MODULE:-$top/build/ngx_http_mcp_module.so}
nginx=${NGINX:-/usr/sbin/nginx}
out=$top/bench/results
mkdir -p "$out"

bin=$("$top/scripts/node-tools.sh")
export PATH="$bin:$PATH"

ulimit -n 20000 2>/dev/null || true

dir=$(mktemp -d /tmp/mcp-streams-XXXXXX)
mkdir -p "$dir/logs"
port=$((20000 + RANDOM % 10000))    # below the ephemeral range

cat > "$dir/nginx.conf" <<EOF
load_module $module;
worker_processes 1;
worker_rlimit_nofile 20000;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 19000; }
http {
    access_log off;
    client_body_temp_path $dir/cb;
    proxy_temp_path $dir/pt;
    fastcgi_temp_path $dir/ft;
    uwsgi_temp_path $dir/ut;
    scgi_temp_path $dir/st;
    keepalive_timeout 600s;
    mcp_session_zone bench:64m;

    mcp_server fan {
        tool hello { description "Says hello"; text "hello"; }
    }

    server {
        listen 127.0.0.1:$port backlog=4096;
        location = /mcp { mcp_pass fan; mcp_sse_keepalive 60s; }
        location = /publish { mcp_publish fan; }
        location = /idle { return 200 ok; }
    }
}
EOF

"$nginx" -t -q -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log"
"$nginx" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log"
trap '"$nginx" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" -s stop 2>/dev/null || true; sleep 0.5; rm -rf "$dir"' EXIT
sleep 0.5

master=$(cat "$dir/nginx.pid")
worker=$(pgrep -P "$master" | head -1)

cc -O2 -o "$dir/floor" "$top/bench/peers/fanout-floor/floor.c"
"$dir/floor" $((port + 1)) &
floor_pid=$!
trap 'kill $floor_pid 2>/dev/null; "$nginx" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" -s stop 2>/dev/null || true; sleep 0.5; rm -rf "$dir"' EXIT
sleep 0.2

stamp=$(date -u +%Y%m%dT%H%M%SZ)
result=$(node "$top/bench/streams.mjs" "$port" "$worker" "$n" "$rounds" $((port + 1)))
echo "$result" | tee "$out/streams-$stamp.json"
cp "$out/streams-$stamp.json" "$out/streams-latest.json"

if grep -q '\[\(alert\|crit\|emerg\)\]' "$dir/logs/error.log"; then
    echo "streams.sh: error.log has alerts:" >&2
    grep '\[\(alert\|crit\|emerg\)\]' "$dir/logs/error.log" | head >&2
    exit 1
fi
