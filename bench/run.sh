#!/usr/bin/env bash
# make bench: the module against nginx's own ceiling (`return 200` of the
# same reply bytes to the same request) and the official TypeScript SDK
# server (bench/peers/ts-sdk), then scaling with workers and catalog size,
# worker memory and shared memory per session.  See docs/PERFORMANCE.md.
#
#   bench/run.sh                      everything (about 8 minutes)
#   bench/run.sh profile              instructions per request (callgrind)
#   bench/run.sh pg                   the PostgreSQL backend against pgbench
#                                     and the TypeScript SDK v2 (bench/pg.sh)
#   bench/run.sh auth                 tools/call with a JWT (cached and not)
#                                     or an API key against none (bench/auth.sh)
#   bench/run.sh observe              tools/call with metrics and the $mcp_*
#                                     access log against none (bench/observe.sh)
#   bench/run.sh limit                tools/call with rate limits and quotas
#                                     against none (bench/limit.sh)
#   bench/run.sh redis                sessions in Redis and the Redis backend
#                                     against shm, a static tool, redis-benchmark
#                                     and the TypeScript SDK v2 (bench/redis.sh)
#   BENCH_DURATION=5                  seconds per measured run (3 runs each)
#   BENCH_WARMUP=2                    seconds of the validating warm-up pass
#   BENCH_RUNS=3                      measured runs of each row
#   BENCH_SCALE_DURATION=3            seconds per measured run, scaling part
#   BENCH_SCALE_WARMUP=1              seconds of its validating warm-up pass
#   BENCH_CONNECTIONS=32              wrk connections (one wrk thread)
#   BENCH_PEER_WARMUP=10              seconds Node is warmed before its rows
#   BENCH_SKIP="peer scale workers"   parts to leave out
#
# The server (nginx: master and workers, `worker_cpu_affinity`; or node)
# runs on CPU 0, wrk on CPU 1.  Every row first runs a warm-up pass whose
# wrk script checks every response (status 200, the expected fragment of
# the result); one invalid response fails the bench.  Then 3 measured runs
# without the check; the medians are reported.  Raw results:
# bench/results/bench-<UTC time>.json (and latest.json).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
bench=$top/bench
work=$top/build/bench
module=${MCP_MODULE:-$top/build/ngx_http_mcp_module.so}
nginx=${NGINX:-/usr/sbin/nginx}
results=$bench/results

duration=${BENCH_DURATION:-5}
warmup=${BENCH_WARMUP:-2}
scale_duration=${BENCH_SCALE_DURATION:-3}
scale_warmup=${BENCH_SCALE_WARMUP:-1}
conns=${BENCH_CONNECTIONS:-32}
peer_warmup=${BENCH_PEER_WARMUP:-10}
skip=${BENCH_SKIP:-}
runs=${BENCH_RUNS:-3}
mode=${1:-}

port_nginx=18701
port_stateless=18751
port_stateful=18752

server_cpu=0
client_cpu=1

started=$(date +%s)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
jsonl=$work/results.jsonl

nginx_prefix=
peer_pid=

log() { printf '[bench %4ds] %s\n' $(( $(date +%s) - started )) "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

cleanup() {
    set +e
    [ -n "$peer_pid" ] && kill "$peer_pid" 2>/dev/null && wait "$peer_pid" 2>/dev/null
    [ -n "$nginx_prefix" ] && stop_nginx
    declare -F pg_cleanup > /dev/null && pg_cleanup
    declare -F redis_cleanup > /dev/null && redis_cleanup
}
trap cleanup EXIT

skipping() { [[ " $skip " == *" $1 "* ]]; }

# ---------------------------------------------------------------------------
# tools

check_tools() {
    [ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (server on CPU 0, wrk on CPU 1)"
    for t in wrk taskset curl perl; do
        command -v "$t" >/dev/null || die "$t missing (scripts/install-deps.sh)"
    done
    [ -x "$nginx" ] || die "no nginx at $nginx"
    [ -f "$module" ] || die "no module at $module (make build)"
    perl -MJSON::XS -e1 2>/dev/null || die "perl JSON::XS missing"
    if [ "$mode" != pg ] && [ "$mode" != auth ] && [ "$mode" != redis ] &&
       ! skipping peer; then
        command -v node >/dev/null || die "node missing"
        if [ ! -d "$bench/peers/ts-sdk/node_modules/@modelcontextprotocol/sdk" ]
        then
            log "npm ci in bench/peers/ts-sdk"
            (cd "$bench/peers/ts-sdk" && npm ci --no-audit --no-fund >&2) \
                || die "npm ci failed"
        fi
    fi
}

# ---------------------------------------------------------------------------
# nginx

start_nginx() {            # start_nginx PREFIX
    nginx_prefix=$1
    rm -f "$nginx_prefix/backend.sock"    # left by a killed nginx
    "$nginx" -t -q -p "$nginx_prefix" -c "$nginx_prefix/nginx.conf" \
        || die "nginx -t failed for $nginx_prefix/nginx.conf"
    taskset -c "$server_cpu" "$nginx" -p "$nginx_prefix" \
        -c "$nginx_prefix/nginx.conf" || die "nginx did not start"
    for _ in $(seq 100); do
        if [ -s "$nginx_prefix/nginx.pid" ] && [ -n "$(worker_pids)" ] &&
           curl -s -o /dev/null "http://127.0.0.1:$port_nginx/" 2>/dev/null
        then
            return 0
        fi
        sleep 0.05
    done
    die "nginx does not answer on $port_nginx"
}

stop_nginx() {
    local pid
    pid=$(cat "$nginx_prefix/nginx.pid" 2>/dev/null || true)
    if [ -n "$pid" ]; then
        kill -QUIT "$pid" 2>/dev/null || true
        for _ in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
    fi
    nginx_prefix=
}

worker_pids() {
    local master
    master=$(cat "$nginx_prefix/nginx.pid" 2>/dev/null) || return 0
    pgrep -P "$master" || true
}

# /proc/PID/status memory lines as JSON (kB)
mem_json() {               # mem_json PID
    perl -e '
        my %m;
        open my $f, "<", "/proc/$ARGV[0]/status" or die "no process\n";
        while (<$f>) { $m{$1} = $2 if /^(Vm\w+|Rss\w+):\s+(\d+) kB/ }
        print "{", join(",", map { "\"${_}_kB\":$m{$_}" }
              grep { exists $m{$_} }
              qw(VmHWM VmRSS RssAnon RssFile RssShmem VmSize)), "}";
    ' "$1"
}

# ---------------------------------------------------------------------------
# requests: a file with header lines, an empty line, the body

meta='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"wrk","version":"1.0.0"}}'

mkreq() {                  # mkreq FILE BODY [HEADER ...]
    local file=$1 body=$2 h
    shift 2
    {
        echo "Content-Type: application/json"
        echo "Accept: application/json, text/event-stream"
        for h in "$@"; do echo "$h"; done
        echo
        printf '%s' "$body"
    } > "$file"
}

req_modern() {             # req_modern FILE METHOD NAME PARAMS_JSON_MEMBERS
    local file=$1 method=$2 name=$3 members=$4 hdr=()
    [ -n "$name" ] && hdr=("Mcp-Name: $name")
    mkreq "$file" \
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$method\",\"params\":{$members${members:+,}$meta}}" \
        "MCP-Protocol-Version: 2026-07-28" "Mcp-Method: $method" "${hdr[@]}"
}

body_of() { sed '1,/^$/d' "$1"; }

# curl the request of FILE to URL; the body on stdout, headers to $2.hdr
send() {                   # send FILE URL
    local file=$1 url=$2 args=() line
    while IFS= read -r line; do
        [ -z "$line" ] && break
        args+=(-H "$line")
    done < "$file"
    curl -s -D "$file.hdr" "${args[@]}" --data-binary @<(body_of "$file") \
        "$url"
}

init_body='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"wrk","version":"1.0.0"}}}'
legacy_call_body='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"hello","arguments":{}}}'
legacy_lookup_body='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"lookup","arguments":{"id":42}}}'
legacy_list_body='{"jsonrpc":"2.0","id":1,"method":"tools/list"}'

# initialize + notifications/initialized; prints the session id
new_session() {            # new_session URL
    local url=$1 f=$work/req/session-init sid
    mkreq "$f" "$init_body"
    send "$f" "$url" > /dev/null
    sid=$(tr -d '\r' < "$f.hdr" | awk 'tolower($1) == "mcp-session-id:" { print $2 }')
    [ -n "$sid" ] || die "initialize at $url gave no Mcp-Session-Id"
    mkreq "$f.n" '{"jsonrpc":"2.0","method":"notifications/initialized"}' \
        "Mcp-Session-Id: $sid" "MCP-Protocol-Version: 2025-11-25"
    send "$f.n" "$url" > /dev/null
    grep -q '^HTTP/1.1 202' "$f.n.hdr" \
        || die "notifications/initialized at $url: $(head -1 "$f.n.hdr")"
    echo "$sid"
}

# ---------------------------------------------------------------------------
# wrk

wrk_pass() {               # wrk_pass URL REQ EXPECT HEADER VALIDATE SECONDS
    local url=$1 req=$2 expect=$3 header=$4 validate=$5 secs=$6 out uniq=0
    local tokens=
    # in a session every request has its own id (REQ.unique marks them)
    [ -e "$req.unique" ] && uniq=1
    # a new bearer token in every request (REQ.tokens lists them)
    [ -e "$req.tokens" ] && tokens=$req.tokens
    out=$(BENCH_REQ=$req BENCH_EXPECT=$expect BENCH_HEADER=$header \
          BENCH_VALIDATE=$validate BENCH_UNIQUE_ID=$uniq BENCH_TOKENS=$tokens \
          taskset -c "$client_cpu" wrk -t1 -c"$conns" -d"${secs}s" \
              --timeout 5s -s "$bench/wrk/mcp.lua" "$url" 2>&1) \
        || die "wrk failed: $out"
    printf '%s\n' "$out" | sed -n 's/^RESULT //p' | tail -1
}

# utime and stime of a process, in clock ticks (/proc/PID/stat fields 14, 15)
cpu_ticks() {              # cpu_ticks PID
    awk '{ sub(/^.*\) /, ""); print $12, $13 }' "/proc/$1/stat"
}

jget() { perl -MJSON::XS -e 'print decode_json($ARGV[0])->{$ARGV[1]}' "$1" "$2"; }

# measure GROUP ROW SECONDS MEMPID TARGET URL REQ EXPECT HEADER [TARGET ...]
# For each target (groups of 5 arguments) a validating warm-up pass, then
# $runs measured runs, the targets interleaved run by run (ceiling 1,
# module 1, ceiling 2, ...) so that both see the same machine; one JSON
# line each.  An invalid response fails the bench, unless BENCH_SOFT is set
# for the call: then the row is recorded as failed and the bench goes on.
measure() {
    local group=$1 row=$2 secs=$3 mempid=$4 r i k bad mem n
    shift 4
    local -a t=("$@")
    n=$(( ${#t[@]} / 5 ))

    for ((k = 0; k < n; k++)); do
        local target=${t[k*5]} url=${t[k*5+1]} req=${t[k*5+2]}
        local expect=${t[k*5+3]} header=${t[k*5+4]}
        r=$(wrk_pass "$url" "$req" "$expect" "$header" 1 "$warmup")
        [ -n "$r" ] || die "$group/$row/$target: no wrk result"
        bad=$(jget "$r" invalid)
        echo "{\"group\":\"$group\",\"row\":\"$row\",\"target\":\"$target\",\"pass\":\"warmup\",\"result\":$r}" >> "$jsonl"
        if [ "$bad" != 0 ] || [ "$(jget "$r" ok)" = 0 ] ||
           [ "$(jget "$r" err_status)" != 0 ]; then
            if [ -n "${BENCH_SOFT:-}" ]; then
                log "$group/$row/$target: INVALID responses in the warm-up ($BENCH_SOFT): $r"
                echo "{\"group\":\"$group\",\"row\":\"$row\",\"target\":\"$target\",\"pass\":\"failed\",\"reason\":\"$BENCH_SOFT\"}" >> "$jsonl"
                return 0
            fi
            die "$group/$row/$target: invalid responses in the warm-up: $r"
        fi
    done

    for ((i = 1; i <= runs; i++)); do
        for ((k = 0; k < n; k++)); do
            local target=${t[k*5]} url=${t[k*5+1]} req=${t[k*5+2]}
            local c0=() c1=() cpu=null
            [ -n "$mempid" ] && read -r -a c0 <<< "$(cpu_ticks "$mempid")"
            r=$(wrk_pass "$url" "$req" "" "" 0 "$secs")
            if [ -n "$mempid" ]; then
                read -r -a c1 <<< "$(cpu_ticks "$mempid")"
                cpu="{\"utime_ticks\":$((c1[0] - c0[0])),\"stime_ticks\":$((c1[1] - c0[1])),\"hz\":$(getconf CLK_TCK)}"
            fi
            [ -n "$r" ] || die "$group/$row/$target: no wrk result"
            if [ "$(jget "$r" err_status)" != 0 ]; then
                if [ -n "${BENCH_SOFT:-}" ]; then
                    log "$group/$row/$target run $i: NON-200 answers ($BENCH_SOFT): $r"
                    echo "{\"group\":\"$group\",\"row\":\"$row\",\"target\":\"$target\",\"pass\":\"failed\",\"reason\":\"$BENCH_SOFT\",\"result\":$r}" >> "$jsonl"
                    return 0
                fi
                die "$group/$row/$target run $i: non-200 answers: $r"
            fi
            mem=null
            [ -n "$mempid" ] && mem=$(mem_json "$mempid")
            echo "{\"group\":\"$group\",\"row\":\"$row\",\"target\":\"$target\",\"pass\":\"$i\",\"result\":$r,\"mem\":$mem,\"cpu\":$cpu}" >> "$jsonl"
            log "$group $row $target run $i: $(jget "$r" rps) req/s"
        done
    done
}

# ---------------------------------------------------------------------------
# the module and its ceiling

# nginx_conf PREFIX WORKERS NTOOLS [CEILING]
# conf_head PREFIX SCRIPT: the start of an nginx.conf of one worker on the
# client CPU, up to the inside of http{} (bench/pg.sh, bench/redis.sh)
conf_head() {
    local p=$1 mask
    mask=1$(printf '%*s' "$client_cpu" '' | tr ' ' 0)
    cat <<EOF
# generated by $2
load_module $module;

worker_processes    1;
worker_cpu_affinity $mask;
pid                 $p/nginx.pid;
error_log           $p/logs/error.log error;

events {
    worker_connections 4096;
}

http {
    access_log off;

    client_body_temp_path $p/client_body_temp;
    proxy_temp_path       $p/proxy_temp;
    fastcgi_temp_path     $p/fastcgi_temp;
    uwsgi_temp_path       $p/uwsgi_temp;
    scgi_temp_path        $p/scgi_temp;

    keepalive_requests 1000000;
EOF
}

nginx_conf() {
    mkdir -p "$1/logs"
    "$bench/gen-conf.sh" "$module" "$1" "$port_nginx" "$2" "$3" "${4:-}" \
        > "$1/nginx.conf"
}

# `return 200 '<reply>'` for each row: nginx escapes in a single-quoted
# string are \\ and \'; a `$` would start a variable, so it must not occur
ceiling_location() {       # ceiling_location ROW REPLYFILE
    perl -e '
        local $/; open my $f, "<", $ARGV[1] or die; my $b = <$f>;
        die "reply of $ARGV[0] has a \$: cannot be a return string\n"
            if $b =~ /\$/;
        $b =~ s/([\\\x27])/\\$1/g;
        print "        location = /ceiling/$ARGV[0] {\n",
              "            default_type application/json;\n",
              "            return 200 \x27$b\x27;\n",
              "        }\n";
    ' "$1" "$2"
}

module_rows() {            # the request files of the module rows
    local r=$work/req
    req_modern "$r/call_2026" tools/call hello '"name":"hello","arguments":{}'
    req_modern "$r/lookup_2026" tools/call lookup \
        '"name":"lookup","arguments":{"id":42}'
    req_modern "$r/list_2026" tools/list "" ""
    mkreq "$r/initialize" "$init_body"
}

session_row() {            # session_row URL: a fresh session's request file
    local sid
    sid=$(new_session "$1")
    mkreq "$work/req/call_session" "$legacy_call_body" \
        "Mcp-Session-Id: $sid" "MCP-Protocol-Version: 2025-11-25"
    touch "$work/req/call_session.unique"
    mkreq "$work/req/ping_session" '{"jsonrpc":"2.0","id":1,"method":"ping"}' \
        "Mcp-Session-Id: $sid" "MCP-Protocol-Version: 2025-11-25"
    touch "$work/req/ping_session.unique"
}

declare -A expect=(
    [call_2026]='"text":"Hello from the bench"'
    [lookup_2026]='"status":"shipped"'
    [list_2026]='"name":"hello"'
    [call_session]='"text":"Hello from the bench"'
    [initialize]='"protocolVersion":"2025-11-25"'
    [ping_session]='"result":{}'
    [location_2026]='"structuredContent":{"id":42,"status":"shipped"}'
)
declare -A want_header=([initialize]=Mcp-Session-Id)
main_rows=(call_2026 lookup_2026 list_2026 call_session initialize)

# the module alone: its replies become the ceiling's bytes in
# PREFIX/ceiling.conf; leaves the request files in $work/req
make_ceiling() {           # make_ceiling PREFIX
    local p=$1 row base=http://127.0.0.1:$port_nginx
    nginx_conf "$p" 1 10
    start_nginx "$p"
    module_rows
    session_row "$base/mcp"
    : > "$p/ceiling.conf"
    for row in "${main_rows[@]}"; do
        send "$work/req/$row" "$base/mcp" > "$work/reply.$row"
        grep -q '^HTTP/1.1 200' "$work/req/$row.hdr" \
            || die "$row: $(head -1 "$work/req/$row.hdr") $(cat "$work/reply.$row")"
        ceiling_location "$row" "$work/reply.$row" >> "$p/ceiling.conf"
    done
    stop_nginx
}

bench_module() {
    local p=$work/nginx-main row url pid
    local base=http://127.0.0.1:$port_nginx

    make_ceiling "$p"

    # 2. module and ceiling in the same nginx, one worker on CPU 0
    nginx_conf "$p" 1 10 "$p/ceiling.conf"
    start_nginx "$p"
    session_row "$base/mcp"
    pid=$(worker_pids)
    echo "{\"group\":\"memory\",\"row\":\"nginx_worker_idle\",\"target\":\"module\",\"mem\":$(mem_json "$pid")}" >> "$jsonl"

    for row in "${main_rows[@]}"; do
        # the ceiling's bytes are the module's, exactly
        send "$work/req/$row" "$base/ceiling/$row" > "$work/ceiling.$row"
        if [ "$row" != initialize ]; then
            cmp -s "$work/reply.$row" "$work/ceiling.$row" \
                || die "$row: the ceiling's reply differs from the module's"
        fi
        measure main "$row" "$duration" "$pid" \
            ceiling "$base/ceiling/$row" "$work/req/$row" "${expect[$row]}" "" \
            module "$base/mcp" "$work/req/$row" "${expect[$row]}" \
                "${want_header[$row]:-}"
        if [ "$row" = call_session ]; then
            echo "{\"group\":\"memory\",\"row\":\"nginx_worker_before_initialize\",\"target\":\"module\",\"mem\":$(mem_json "$pid")}" >> "$jsonl"
        fi
    done

    # a tool answered by an nginx location (pass -> proxy_pass) against a
    # plain proxy_pass to the same backend: the row's "ceiling"
    mkreq "$work/req/location_proxy" '{"name":"order","arguments":{"id":42}}'
    req_modern "$work/req/location_2026" tools/call order \
        '"name":"order","arguments":{"id":42}'
    measure location location_2026 "$duration" "$pid" \
        ceiling "$base/proxy/order" "$work/req/location_proxy" \
            '"status":"shipped"' "" \
        module "$base/mcp" "$work/req/location_2026" \
            '"structuredContent":{"id":42,"status":"shipped"}' ""

    echo "{\"group\":\"memory\",\"row\":\"nginx_worker_loaded\",\"target\":\"module\",\"mem\":$(mem_json "$pid")}" >> "$jsonl"
    stop_nginx
}

# ---------------------------------------------------------------------------
# the peer: the official TypeScript SDK server

start_peer() {             # start_peer MODE PORT
    taskset -c "$server_cpu" node "$bench/peers/ts-sdk/server.mjs" \
        --mode "$1" --port "$2" --tools 10 > "$work/peer-$1.log" 2>&1 &
    peer_pid=$!
    for _ in $(seq 100); do
        curl -s -o /dev/null "http://127.0.0.1:$2/" 2>/dev/null && return 0
        sleep 0.1
    done
    die "the $1 peer does not answer on $2"
}

stop_peer() {
    kill "$peer_pid" 2>/dev/null || true
    wait "$peer_pid" 2>/dev/null || true
    peer_pid=
}

bench_peer() {
    local r=$work/req url sid

    # stateless: the 2026 rows' counterparts are 2025-11-25 requests
    # without a session (the SDK does not speak 2026-07-28)
    mkreq "$r/peer_call" "$legacy_call_body" "MCP-Protocol-Version: 2025-11-25"
    mkreq "$r/peer_lookup" "$legacy_lookup_body" "MCP-Protocol-Version: 2025-11-25"
    mkreq "$r/peer_list" "$legacy_list_body" "MCP-Protocol-Version: 2025-11-25"

    url=http://127.0.0.1:$port_stateless/mcp
    start_peer stateless "$port_stateless"
    log "warming the stateless peer for ${peer_warmup}s"
    wrk_pass "$url" "$r/peer_call" "" "" 0 "$peer_warmup" > /dev/null
    measure main call_2026 "$duration" "$peer_pid" \
        peer "$url" "$r/peer_call" "${expect[call_2026]}" ""
    measure main lookup_2026 "$duration" "$peer_pid" \
        peer "$url" "$r/peer_lookup" "${expect[lookup_2026]}" ""
    measure main list_2026 "$duration" "$peer_pid" \
        peer "$url" "$r/peer_list" "${expect[list_2026]}" ""
    echo "{\"group\":\"memory\",\"row\":\"peer_stateless_loaded\",\"target\":\"peer\",\"mem\":$(mem_json "$peer_pid")}" >> "$jsonl"
    stop_peer

    url=http://127.0.0.1:$port_stateful/mcp
    start_peer stateful "$port_stateful"
    sid=$(new_session "$url")
    mkreq "$r/peer_session" "$legacy_call_body" \
        "Mcp-Session-Id: $sid" "MCP-Protocol-Version: 2025-11-25"
    touch "$r/peer_session.unique"
    log "warming the stateful peer for ${peer_warmup}s"
    wrk_pass "$url" "$r/peer_session" "" "" 0 "$peer_warmup" > /dev/null
    measure main call_session "$duration" "$peer_pid" \
        peer "$url" "$r/peer_session" "${expect[call_session]}" ""
    echo "{\"group\":\"memory\",\"row\":\"peer_stateful_loaded\",\"target\":\"peer\",\"mem\":$(mem_json "$peer_pid")}" >> "$jsonl"
    mkreq "$r/peer_initialize" "$init_body"
    measure main initialize "$duration" "$peer_pid" \
        peer "$url" "$r/peer_initialize" "${expect[initialize]}" Mcp-Session-Id
    echo "{\"group\":\"memory\",\"row\":\"peer_stateful_after_initialize\",\"target\":\"peer\",\"mem\":$(mem_json "$peer_pid")}" >> "$jsonl"
    stop_peer
}

# ---------------------------------------------------------------------------
# scaling: 2 workers; catalogs of 10, 1,000 and 10,000 tools

bench_workers() {
    local p=$work/nginx-workers base=http://127.0.0.1:$port_nginx
    local warmup=$scale_warmup
    nginx_conf "$p" 2 10 "$work/nginx-main/ceiling.conf"
    start_nginx "$p"
    session_row "$base/mcp"
    measure workers2 call_2026 "$scale_duration" "" \
        ceiling "$base/ceiling/call_2026" "$work/req/call_2026" \
            "${expect[call_2026]}" "" \
        module "$base/mcp" "$work/req/call_2026" "${expect[call_2026]}" ""
    # two workers share the session zone: a session refreshed by one worker
    # can look expired to the other (see docs/PERFORMANCE.md); recorded,
    # not fatal, until the module is fixed
    BENCH_SOFT="session lost between workers" \
    measure workers2 call_session "$scale_duration" "" \
        ceiling "$base/ceiling/call_session" "$work/req/call_session" \
            "${expect[call_session]}" "" \
        module "$base/mcp" "$work/req/call_session" "${expect[call_session]}" ""
    stop_nginx
}

# the cursor of the last page of tools/list, following nextCursor
last_cursor() {            # last_cursor URL
    local f=$work/req/cursor cursor="" next
    while :; do
        if [ -z "$cursor" ]; then
            req_modern "$f" tools/list "" ""
        else
            req_modern "$f" tools/list "" "\"cursor\":\"$cursor\""
        fi
        next=$(send "$f" "$1" | perl -MJSON::XS -e '
            local $/; my $j = decode_json(<STDIN>);
            die "tools/list failed\n" unless $j->{result};
            print $j->{result}{nextCursor} // ""')
        [ -z "$next" ] && break
        cursor=$next
    done
    printf '%s' "$cursor"
}

# each row interleaved with the ceiling of tools/call hello (the same
# `return 200` in every configuration): module/ceiling is less exposed to
# whatever else the machine is doing than req/s alone
bench_catalog() {
    local n p base=http://127.0.0.1:$port_nginx cursor name pid
    local warmup=$scale_warmup
    local -a ceil=(ceiling "$base/ceiling/call_2026" "$work/req/call_2026"
                   "${expect[call_2026]}" "")
    for n in 10 1000 10000; do
        p=$work/nginx-catalog-$n
        nginx_conf "$p" 1 "$n" "$work/nginx-main/ceiling.conf"
        start_nginx "$p"
        pid=$(worker_pids)
        name=$(printf 'tool_%05d' "$n")
        req_modern "$work/req/cat_list_first" tools/list "" ""
        req_modern "$work/req/cat_call_last" tools/call "$name" \
            "\"name\":\"$name\",\"arguments\":{}"
        measure "catalog$n" list_first "$scale_duration" "$pid" "${ceil[@]}" \
            module "$base/mcp" "$work/req/cat_list_first" '"name":"hello"' ""
        cursor=$(last_cursor "$base/mcp")
        if [ -n "$cursor" ]; then
            req_modern "$work/req/cat_list_last" tools/list "" \
                "\"cursor\":\"$cursor\""
            measure "catalog$n" list_last "$scale_duration" "$pid" \
                "${ceil[@]}" module "$base/mcp" "$work/req/cat_list_last" \
                    "\"name\":\"$name\"" ""
        fi
        measure "catalog$n" call_last "$scale_duration" "$pid" "${ceil[@]}" \
            module "$base/mcp" "$work/req/cat_call_last" \
                "\"text\":\"Answer of $name\"" ""
        echo "{\"group\":\"memory\",\"row\":\"nginx_worker_catalog$n\",\"target\":\"module\",\"mem\":$(mem_json "$pid")}" >> "$jsonl"
        stop_nginx
    done
}

# ---------------------------------------------------------------------------
# shared memory per session: sessions held by zones of 1 MiB and 2 MiB
# before the first eviction; the difference is what one more MiB holds

bench_shm() {
    local z p out
    for z in 1 2; do
        p=$work/nginx-shm-$z
        mkdir -p "$p/logs"
        BENCH_ZONE=${z}m BENCH_LOGLEVEL=warn "$bench/gen-conf.sh" "$module" \
            "$p" "$port_nginx" 1 10 > "$p/nginx.conf"
        start_nginx "$p"
        out=$(perl "$bench/sessions.pl" "$port_nginx" "$p/logs/error.log") \
            || die "sessions.pl failed"
        echo "{\"group\":\"shm\",\"row\":\"zone_${z}m\",\"target\":\"module\",\"zone_bytes\":$((z * 1048576)),\"result\":$out}" >> "$jsonl"
        log "zone ${z}m: $out"
        stop_nginx
    done
}

# ---------------------------------------------------------------------------
# bench/run.sh profile: instructions per request by function (callgrind)
#
# One nginx process (master_process off) under callgrind; for each row
# BENCH_PROFILE_WARMUP requests, then the counters are zeroed, then
# BENCH_PROFILE_REQUESTS requests over one keep-alive connection, then a
# dump: so each dump holds exactly those requests, and nothing of start-up.

# callgrind_start PREFIX OUTFILE: nginx (master_process off) under callgrind
callgrind_start() {
    nginx_prefix=$1
    taskset -c "$server_cpu" valgrind --tool=callgrind \
        --callgrind-out-file="$2" \
        "$nginx" -p "$1" -c "$1/nginx.conf" \
        -g 'master_process off; daemon off;' 2> "$2.log" &
    vpid=$!
    for _ in $(seq 600); do
        curl -s -o /dev/null "http://127.0.0.1:$port_nginx/" 2>/dev/null \
            && return 0
        sleep 0.1
    done
    die "nginx under callgrind does not answer"
}

callgrind_stop() {
    kill -QUIT "$vpid" 2>/dev/null
    wait "$vpid" 2>/dev/null || true
    nginx_prefix=
}

# callgrind_row SPEC PATH REQ EXPECT OUTFILE: warm-up, zero, N requests, dump
callgrind_row() {
    local spec=$1 path=$2 req=$3 exp=$4 file=$5
    perl "$bench/reqloop.pl" "$port_nginx" "$path" "$req" "$w" "$exp" \
        > /dev/null || die "profile warm-up $spec"
    callgrind_control -z "$vpid" > /dev/null
    perl "$bench/reqloop.pl" "$port_nginx" "$path" "$req" "$n" "$exp" \
        > /dev/null || die "profile $spec"
    callgrind_control -d "$spec" "$vpid" > /dev/null
    dumpno=$((dumpno + 1))
    echo "$spec $file.$dumpno" >> "$out/dumps"
    log "profile $spec: $(callgrind_annotate "$file.$dumpno" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); printf "%.0f instructions per request", $1 / '"$n"' }')"
}

bench_profile() {
    local p=$work/nginx-profile out=$work/profile row target path vpid dumpno
    local n=${BENCH_PROFILE_REQUESTS:-2000} w=${BENCH_PROFILE_WARMUP:-200}
    local base=http://127.0.0.1:$port_nginx c name cursor
    command -v valgrind >/dev/null || die "valgrind missing"
    mkdir -p "$out"
    : > "$out/dumps"

    make_ceiling "$p"
    nginx_conf "$p" 1 10 "$p/ceiling.conf"
    callgrind_start "$p" "$out/callgrind.out"
    session_row "$base/mcp"
    req_modern "$work/req/location_2026" tools/call order \
        '"name":"order","arguments":{"id":42}'
    dumpno=0
    for spec in ceiling:call_2026 module:call_2026 module:lookup_2026 \
                module:list_2026 module:call_session module:ping_session \
                module:location_2026 module:initialize; do
        target=${spec%%:*} row=${spec#*:}
        path=/mcp
        [ "$target" = ceiling ] && path=/ceiling/$row
        callgrind_row "$spec" "$path" "$work/req/$row" "${expect[$row]}" \
            "$out/callgrind.out"
    done
    callgrind_stop

    # catalog size: the first and the last page of tools/list, the last tool
    for c in 1000 10000; do
        p=$work/nginx-profile-$c
        nginx_conf "$p" 1 "$c"
        callgrind_start "$p" "$out/callgrind-$c.out"
        name=$(printf 'tool_%05d' "$c")
        req_modern "$work/req/cat_list_first" tools/list "" ""
        req_modern "$work/req/cat_call_last" tools/call "$name" \
            "\"name\":\"$name\",\"arguments\":{}"
        cursor=$(last_cursor "$base/mcp")
        req_modern "$work/req/cat_list_last" tools/list "" \
            "\"cursor\":\"$cursor\""
        dumpno=0
        callgrind_row "catalog$c:list_first" /mcp \
            "$work/req/cat_list_first" '"name":"hello"' "$out/callgrind-$c.out"
        callgrind_row "catalog$c:list_last" /mcp \
            "$work/req/cat_list_last" "\"name\":\"$name\"" \
            "$out/callgrind-$c.out"
        callgrind_row "catalog$c:call_last" /mcp \
            "$work/req/cat_call_last" "\"text\":\"Answer of $name\"" \
            "$out/callgrind-$c.out"
        callgrind_stop
    done

    perl "$bench/profile-report.pl" "$out/dumps" "$n" \
        "$results/profile-$stamp.json" | tee "$out/summary.txt"
    cp "$results/profile-$stamp.json" "$results/profile-latest.json"
}

# ---------------------------------------------------------------------------
# bench/run.sh pg, auth and redis: bench/pg.sh, bench/auth.sh, bench/redis.sh

# shellcheck source=bench/pg.sh
. "$bench/pg.sh"
# shellcheck source=bench/auth.sh
. "$bench/auth.sh"
# shellcheck source=bench/redis.sh
. "$bench/redis.sh"
# shellcheck source=bench/limit.sh
. "$bench/limit.sh"
# shellcheck source=bench/observe.sh
. "$bench/observe.sh"

# ---------------------------------------------------------------------------

check_tools
rm -rf "$work"
mkdir -p "$work/req" "$results"
: > "$jsonl"

if [ "$mode" = profile ]; then
    bench_profile
    exit 0
fi

if [ "$mode" = auth ]; then
    bench_auth
    elapsed=$(( $(date +%s) - started ))
    out=$results/auth-$stamp.json
    perl "$bench/rows-report.pl" "$jsonl" "$out" "$elapsed" \
        "{\"duration_s\":$duration,\"warmup_s\":$warmup,\"connections\":$conns,\"runs\":$runs}" \
        auth none none_header jwt_cached api_key jwt_uncached
    cp "$out" "$results/auth-latest.json"
    log "raw results: ${out#"$top"/} (and bench/results/auth-latest.json)"
    exit 0
fi

if [ "$mode" = observe ]; then
    bench_observe
    elapsed=$(( $(date +%s) - started ))
    out=$results/observe-$stamp.json
    perl "$bench/rows-report.pl" "$jsonl" "$out" "$elapsed" \
        "{\"duration_s\":$duration,\"warmup_s\":$warmup,\"connections\":$conns,\"runs\":$runs}" \
        observe none observed access_log
    cp "$out" "$results/observe-latest.json"
    log "raw results: ${out#"$top"/} (and bench/results/observe-latest.json)"
    exit 0
fi

if [ "$mode" = limit ]; then
    bench_limit
    elapsed=$(( $(date +%s) - started ))
    out=$results/limit-$stamp.json
    perl "$bench/rows-report.pl" "$jsonl" "$out" "$elapsed" \
        "{\"duration_s\":$duration,\"warmup_s\":$warmup,\"connections\":$conns,\"runs\":$runs}" \
        limit none location location_entry quota redis_lease
    cp "$out" "$results/limit-latest.json"
    log "raw results: ${out#"$top"/} (and bench/results/limit-latest.json)"
    exit 0
fi

if [ "$mode" = redis ]; then
    bench_redis
    elapsed=$(( $(date +%s) - started ))
    out=$results/redis-$stamp.json
    perl "$bench/redis-report.pl" "$jsonl" "$out" "$elapsed" \
        "{\"duration_s\":$duration,\"warmup_s\":$warmup,\"connections\":${BENCH_REDIS_CONNECTIONS:-32},\"runs\":$runs,\"peer_warmup_s\":$peer_warmup,\"db_cpu\":${BENCH_REDIS_DB_CPU:-0},\"client_cpu\":${BENCH_REDIS_CLIENT_CPU:-1}}"
    cp "$out" "$results/redis-latest.json"
    log "raw results: ${out#"$top"/} (and bench/results/redis-latest.json)"
    exit 0
fi

if [ "$mode" = pg ]; then
    bench_pg
    elapsed=$(( $(date +%s) - started ))
    out=$results/pg-$stamp.json
    perl "$bench/pg-report.pl" "$jsonl" "$out" "$elapsed" \
        "{\"duration_s\":$duration,\"warmup_s\":$warmup,\"connections\":${BENCH_PG_CONNECTIONS:-16},\"runs\":$runs,\"peer_warmup_s\":$peer_warmup,\"db_cpu\":${BENCH_PG_DB_CPU:-0},\"client_cpu\":${BENCH_PG_CLIENT_CPU:-1}}"
    cp "$out" "$results/pg-latest.json"
    log "raw results: ${out#"$top"/} (and bench/results/pg-latest.json)"
    exit 0
fi

log "rig: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); server on CPU $server_cpu, wrk on CPU $client_cpu; ${conns} connections, ${duration}s x $runs runs"

bench_module
skipping peer || bench_peer
skipping workers || bench_workers
skipping scale || bench_catalog
bench_shm

elapsed=$(( $(date +%s) - started ))
out=$results/bench-$stamp.json
perl "$bench/report.pl" "$jsonl" "$out" "$elapsed" \
    "{\"duration_s\":$duration,\"warmup_s\":$warmup,\"scale_duration_s\":$scale_duration,\"connections\":$conns,\"runs\":$runs,\"peer_warmup_s\":$peer_warmup}"
cp "$out" "$results/latest.json"
log "raw results: ${out#"$top"/} (and bench/results/latest.json)"
