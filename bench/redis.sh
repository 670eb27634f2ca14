# shellcheck shell=bash
# shellcheck disable=SC2154  # bench/run.sh, which sources this file, sets them
#
# bench/run.sh redis: sessions in Redis and a tool answered by Redis, against
# the same without Redis, against Redis's own client and against the official
# TypeScript SDK v2 server with a Redis client, in the same run (about 3
# minutes).  docs/PERFORMANCE.md, "Redis".
#
# Two groups of rows, the targets of each interleaved run by run:
#
#   ping   a session `ping` (2025-06-18: initialize once before the runs,
#          then every request is `ping` with Mcp-Session-Id and
#          MCP-Protocol-Version, each with its own JSON-RPC id)
#     ping_shm          /mcp, the default store (the session zone)
#     ping_redis        /redis, `mcp_session_store redis=bench_redis;`: the
#                       session in Redis, a near copy in the zone for 2 s
#                       (near=2s, the default), read again from Redis after
#     ping_redis_near0  /redis-near0, the same with near=0: every request a
#                       Redis round trip (GETEX), the cost of Redis itself
#     peer_ping         bench/peers/ts-sdk-v2-redis, /session: the SDK's
#                       stateful transport, the session in node's memory (the
#                       SDK has no session store that could put it in Redis)
#   get    one key read
#     call_static       tools/call hello (`text "..."`), 2026-07-28 stateless
#     call_redis_get    tools/call get, `redis bench_redis GET "{key}"`, the
#                       same key every time, a value of 100 bytes
#     peer_redis_get    the same tools/call to the SDK v2 peer (createMcpHandler,
#                       2026-07-28 stateless), whose tool `get` runs GET on a
#                       node-redis 5 client
#     redis_benchmark   redis-benchmark -P 1 of the same GET: what Redis answers
#                       without MCP
#
# C = BENCH_REDIS_CONNECTIONS (32): wrk connections and redis-benchmark
# clients; the module keeps mcp_redis_keepalive 4 connections (one worker),
# the peer one (node-redis pipelines concurrent commands on it).
# redis-server (a throwaway one: `--save '' --appendonly no`, 127.0.0.1)
# runs alone on CPU BENCH_REDIS_DB_CPU (0); the client side, wrk with the MCP
# server (the nginx worker or node) or redis-benchmark, on CPU
# BENCH_REDIS_CLIENT_CPU (1), as bench/pg.sh pins PostgreSQL.  Around every
# run the CPU time of redis-server and of the client (the nginx worker, node,
# or redis-benchmark; wrk is not counted) is read: CPU microseconds per
# request on each side.
#
# Each target: a validating warm-up pass (wrk checks every answer: status
# 200 and "result":{} or the key's value), the peer first warmed for
# BENCH_PEER_WARMUP seconds on each of its two routes; then 3 measured runs
# of BENCH_DURATION seconds.  redis-benchmark counts requests, not seconds:
# its measured runs send what its warm-up pass did in BENCH_DURATION seconds.
#
#   BENCH_REDIS_CONNECTIONS=32  BENCH_REDIS_DB_CPU=0  BENCH_REDIS_CLIENT_CPU=1
#   BENCH_SKIP="redis_peer redis_get redis_near0 redis_benchmark"
#       leave out the SDK peer, the module's redis tool (a module without the
#       `redis` backend line), the near=0 row, redis-benchmark

redis_dir=
redis_pid=
redis_port=
redis_peer_port=18754
redis_key=bench:value
redis_value=$(printf 'bench-value-%088d' 42)      # 100 bytes

redis_cleanup() {
    if [ -n "$redis_pid" ]; then
        kill "$redis_pid" 2>/dev/null
        wait "$redis_pid" 2>/dev/null
    fi
    redis_pid=
}

redis_check_tools() {
    local t
    for t in redis-server redis-cli redis-benchmark node npm; do
        command -v "$t" >/dev/null || die "$t missing (scripts/install-deps.sh)"
    done
    if ! skipping redis_peer &&
       [ ! -d "$bench/peers/ts-sdk-v2-redis/node_modules/@modelcontextprotocol/server" ]
    then
        log "npm ci in bench/peers/ts-sdk-v2-redis"
        (cd "$bench/peers/ts-sdk-v2-redis" && npm ci --no-audit --no-fund >&2) \
            || die "npm ci failed"
    fi
}

rcli() { redis-cli -h 127.0.0.1 -p "$redis_port" "$@"; }

redis_start() {            # redis_start CPU
    redis_port=18770
    while ! pg_port_free "$redis_port"; do
        redis_port=$((redis_port + 1))
    done
    redis_dir=$work/redis
    mkdir -p "$redis_dir"
    taskset -c "$1" redis-server --port "$redis_port" --bind 127.0.0.1 \
        --save '' --appendonly no --dir "$redis_dir" --daemonize no \
        --logfile "$redis_dir/redis.log" &
    redis_pid=$!
    for _ in $(seq 100); do
        [ "$(rcli ping 2>/dev/null)" = PONG ] && return 0
        sleep 0.05
    done
    die "redis-server does not answer on $redis_port ($redis_dir/redis.log)"
}

redis_db_ticks() {
    local c=()
    read -r -a c <<< "$(cpu_ticks "$redis_pid")"
    echo $((c[0] + c[1]))
}

redis_nginx_conf() {       # redis_nginx_conf PREFIX
    local p=$1 get=
    skipping redis_get || get='
        tool get {
            description "Reads one key";
            argument    key string required "Key";
            redis       bench_redis GET "{key}";
        }'
    mkdir -p "$p/logs"
    {
        conf_head "$p" bench/redis.sh
        cat <<EOF

    upstream bench_redis {
        mcp_redis_server    127.0.0.1:$redis_port;
        mcp_redis_keepalive 4;
    }

    mcp_server bench {
        name    bench-redis;
        version 1.0.0;

        tool hello {
            description "Says hello";
            text        "Hello from the bench";
        }
$get
    }

    server {
        listen 127.0.0.1:$port_nginx backlog=4096;

        location = /mcp {
            mcp_pass bench;
        }

        location = /redis {
            mcp_pass          bench;
            mcp_session_store redis=bench_redis;
        }

        location = /redis-near0 {
            mcp_pass          bench;
            mcp_session_store redis=bench_redis near=0;
        }
    }
}
EOF
    } > "$p/nginx.conf"
}

# a 2025-06-18 session at URL; REQ becomes its ping request
redis_session() {          # redis_session URL REQ
    local url=$1 req=$2 f=$work/req/redis-init sid
    local v=2025-06-18
    mkreq "$f" "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"$v\",\"capabilities\":{},\"clientInfo\":{\"name\":\"wrk\",\"version\":\"1.0.0\"}}}"
    send "$f" "$url" > "$f.out"
    grep -q "\"protocolVersion\":\"$v\"" "$f.out" \
        || die "initialize at $url: $(head -1 "$f.hdr") $(head -c 300 "$f.out")"
    sid=$(tr -d '\r' < "$f.hdr" | awk 'tolower($1) == "mcp-session-id:" { print $2 }')
    [ -n "$sid" ] || die "initialize at $url gave no Mcp-Session-Id"
    mkreq "$f.n" '{"jsonrpc":"2.0","method":"notifications/initialized"}' \
        "Mcp-Session-Id: $sid" "MCP-Protocol-Version: $v"
    send "$f.n" "$url" > /dev/null
    grep -q '^HTTP/1.1 202' "$f.n.hdr" \
        || die "notifications/initialized at $url: $(head -1 "$f.n.hdr")"
    mkreq "$req" '{"jsonrpc":"2.0","id":1,"method":"ping"}' \
        "Mcp-Session-Id: $sid" "MCP-Protocol-Version: $v"
    touch "$req.unique"
}

# one answer of REQ at URL must hold EXPECT
redis_check() {            # redis_check WHAT URL REQ EXPECT
    local out
    out=$(send "$3" "$2")
    if ! grep -q '^HTTP/1.1 200' "$3.hdr" || [[ $out != *"$4"* ]]; then
        die "$1: $(head -1 "$3.hdr") $(printf '%s' "$out" | head -c 400)"
    fi
}

# the content and structuredContent of an answer, canonical JSON
redis_content() {          # redis_content FILE
    perl -MJSON::XS -e '
        local $/; my $j = eval { decode_json(<STDIN>) };
        my $r = $j && $j->{result};
        print $r ? JSON::XS->new->canonical->encode(
                       [ $r->{content}, $r->{structuredContent} ]) : "none";
    ' < "$1"
}

# one redis-benchmark run of N requests: prints the same JSON fields as the
# wrk script's RESULT line that the report reads, plus redis-benchmark's own
# CPU time (client_ticks)
redis_benchmark() {        # redis_benchmark N
    local TIMEFORMAT='%3R %3U %3S'
    { time taskset -c "$client_cpu" redis-benchmark -h 127.0.0.1 \
          -p "$redis_port" -c "$redis_conns" -n "$1" -P 1 --csv \
          GET "$redis_key" > "$work/redis-benchmark.out" 2>&1; } \
        2> "$work/redis-benchmark.time" \
        || die "redis-benchmark failed: $(cat "$work/redis-benchmark.out")"
    perl -e '
        open my $f, "<", $ARGV[0] or die; my @l = <$f>;
        open my $c, "<", $ARGV[1] or die; my ($r, $u, $s) = split " ", <$c>;
        my ($row) = grep { /^"GET / } @l;
        die "cannot read redis-benchmark output:\n@l" unless $row;
        $row =~ s/"//g; chomp $row;
        my (undef, $rps, $avg, undef, $p50, undef, $p99) = split /,/, $row;
        printf "{\"requests\":%d,\"duration_s\":%s,\"rps\":%.1f,\"lat_mean_us\":%.1f,"
             . "\"lat_p50_us\":%.0f,\"lat_p99_us\":%.0f,\"err_status\":0,"
             . "\"client_ticks\":%.0f}\n",
             $ARGV[2], $r, $rps, $avg * 1000, $p50 * 1000, $p99 * 1000,
             ($u + $s) * $ARGV[3];
    ' "$work/redis-benchmark.out" "$work/redis-benchmark.time" "$1" \
        "$(getconf CLK_TCK)"
}

# one pass of a target: prints its result JSON
redis_pass() {             # redis_pass KIND URL REQ EXPECT VALIDATE SECONDS
    local kind=$1 n
    if [ "$kind" = redis-benchmark ]; then
        if [ "$5" = 1 ]; then
            n=$((20000 * $6))
        else
            n=${redis_bench_n:?redis-benchmark measured before its warm-up}
        fi
        redis_benchmark "$n"
        return
    fi
    wrk_pass "$2" "$3" "$4" "" "$5" "$6"
}

# redis_measure ROW TARGET KIND URL REQ EXPECT PID [TARGET ...]: groups of 6
redis_measure() {
    local row=$1 r i k n bad c0 c1 p0=() p1=() cpu
    shift
    local -a t=("$@")
    n=$(( ${#t[@]} / 6 ))

    for ((k = 0; k < n; k++)); do
        r=$(redis_pass "${t[k*6+1]}" "${t[k*6+2]}" "${t[k*6+3]}" \
                       "${t[k*6+4]}" 1 "$warmup")
        [ -n "$r" ] || die "redis/$row/${t[k*6]}: no result"
        echo "{\"group\":\"redis\",\"row\":\"$row\",\"target\":\"${t[k*6]}\",\"pass\":\"warmup\",\"result\":$r}" >> "$jsonl"
        if [ "${t[k*6+1]}" = redis-benchmark ]; then
            bad=0
            # the measured runs: as many requests as BENCH_DURATION seconds
            # of the warm-up's rate
            redis_bench_n=$(perl -e 'printf "%d", $ARGV[0] * $ARGV[1]' \
                            "$(jget "$r" rps)" "$duration")
        else
            bad=$(jget "$r" invalid)
            [ "$(jget "$r" ok)" = 0 ] && bad=all
        fi
        if [ "$bad" != 0 ] || [ "$(jget "$r" err_status)" != 0 ]; then
            die "redis/$row/${t[k*6]}: invalid answers in the warm-up: $r"
        fi
    done

    for ((i = 1; i <= runs; i++)); do
        for ((k = 0; k < n; k++)); do
            local target=${t[k*6]} pid=${t[k*6+5]}
            c0=$(redis_db_ticks)
            [ -n "$pid" ] && read -r -a p0 <<< "$(cpu_ticks "$pid")"
            r=$(redis_pass "${t[k*6+1]}" "${t[k*6+2]}" "${t[k*6+3]}" \
                           "${t[k*6+4]}" 0 "$duration")
            c1=$(redis_db_ticks)
            if [ -n "$pid" ]; then
                read -r -a p1 <<< "$(cpu_ticks "$pid")"
                cpu=$((p1[0] - p0[0] + p1[1] - p0[1]))
            else
                cpu=$(jget "$r" client_ticks)
            fi
            [ -n "$r" ] || die "redis/$row/$target: no result"
            [ "$(jget "$r" err_status)" = 0 ] \
                || die "redis/$row/$target run $i: errors: $r"
            echo "{\"group\":\"redis\",\"row\":\"$row\",\"target\":\"$target\",\"pass\":\"$i\",\"result\":$r,\"cpu\":{\"db_ticks\":$((c1 - c0)),\"client_ticks\":$cpu,\"hz\":$(getconf CLK_TCK)}}" >> "$jsonl"
            log "redis $row $target run $i: $(jget "$r" rps) req/s"
        done
    done
}

bench_redis() {
    local db_cpu=${BENCH_REDIS_DB_CPU:-0}
    local client_cpu=${BENCH_REDIS_CLIENT_CPU:-1}
    # shellcheck disable=SC2034  # start_nginx pins the master there
    local server_cpu=$client_cpu
    local redis_conns=${BENCH_REDIS_CONNECTIONS:-32}
    # shellcheck disable=SC2034  # wrk_pass reads it
    local conns=$redis_conns
    local p=$work/nginx-redis base=http://127.0.0.1:$port_nginx r=$work/req
    local pid peer_url n redis_bench_n=
    local value="\"text\":\"$redis_value\"" pong='"result":{}'
    local -a ping get

    redis_check_tools
    log "rig: $(nproc) CPUs; redis-server on CPU $db_cpu, the client side (redis-benchmark, or wrk with nginx or node) on CPU $client_cpu; $redis_conns connections, ${duration}s x $runs runs"

    redis_start "$db_cpu"
    [ "$(rcli set "$redis_key" "$redis_value")" = OK ] \
        || die "SET $redis_key failed"

    req_modern "$r/redis_static" tools/call hello \
        '"name":"hello","arguments":{}'
    req_modern "$r/redis_get" tools/call get \
        "\"name\":\"get\",\"arguments\":{\"key\":\"$redis_key\"}"

    # the module: one worker, three locations, a session at each
    redis_nginx_conf "$p"
    if ! skipping redis_get &&
       ! "$nginx" -t -q -p "$p" -c "$p/nginx.conf" 2> "$work/nginx-t.log" &&
       grep -q 'unknown entry "redis"' "$work/nginx-t.log"; then
        die "this module has no \`redis\` backend line (the tool get): BENCH_SKIP=redis_get leaves that row out"
    fi
    start_nginx "$p"
    pid=$(worker_pids)
    redis_session "$base/mcp" "$r/redis_ping_shm"
    redis_session "$base/redis" "$r/redis_ping_redis"
    n=$(rcli --scan --pattern 'mcp:session:*' | wc -l)
    [ "$n" = 1 ] || die "$n sessions in Redis after one initialize at /redis"
    ping=(ping_shm wrk "$base/mcp" "$r/redis_ping_shm" "$pong" "$pid"
          ping_redis wrk "$base/redis" "$r/redis_ping_redis" "$pong" "$pid")
    if ! skipping redis_near0; then
        redis_session "$base/redis-near0" "$r/redis_ping_near0"
        ping+=(ping_redis_near0 wrk "$base/redis-near0" "$r/redis_ping_near0"
               "$pong" "$pid")
    fi
    for ((n = 0; n < ${#ping[@]}; n += 6)); do
        redis_check "the module's ${ping[n]}" "${ping[n+2]}" "${ping[n+3]}" "$pong"
    done
    redis_check "the module's call_static" "$base/mcp" "$r/redis_static" \
        '"text":"Hello from the bench"'
    get=(call_static wrk "$base/mcp" "$r/redis_static"
         '"text":"Hello from the bench"' "$pid")
    if ! skipping redis_get; then
        redis_check "the module's call_redis_get" "$base/mcp" "$r/redis_get" \
            "$value"
        get+=(call_redis_get wrk "$base/mcp" "$r/redis_get" "$value" "$pid")
    fi

    # the peer: the same requests, the same answers
    if ! skipping redis_peer; then
        peer_url=http://127.0.0.1:$redis_peer_port
        taskset -c "$client_cpu" node "$bench/peers/ts-sdk-v2-redis/server.mjs" \
            --port "$redis_peer_port" --redis "redis://127.0.0.1:$redis_port" \
            > "$work/peer-redis.log" 2>&1 &
        peer_pid=$!
        for _ in $(seq 100); do
            curl -s -o /dev/null "$peer_url/" 2>/dev/null && break
            sleep 0.1
        done
        redis_session "$peer_url/session" "$r/redis_peer_ping"
        redis_check "the peer's ping" "$peer_url/session" "$r/redis_peer_ping" \
            "$pong"
        redis_check "the peer's get" "$peer_url/mcp" "$r/redis_get" "$value"
        if ! skipping redis_get; then
            send "$r/redis_get" "$base/mcp" > "$work/redis.module.json"
            send "$r/redis_get" "$peer_url/mcp" > "$work/redis.peer.json"
            [ "$(redis_content "$work/redis.module.json")" = \
              "$(redis_content "$work/redis.peer.json")" ] \
                || die "the peer's get answers $(head -c 400 "$work/redis.peer.json"), the module's $(head -c 400 "$work/redis.module.json")"
        fi
        log "warming the peer for ${peer_warmup}s on each route"
        wrk_pass "$peer_url/mcp" "$r/redis_get" "" "" 0 "$peer_warmup" > /dev/null
        wrk_pass "$peer_url/session" "$r/redis_peer_ping" "" "" 0 \
            "$peer_warmup" > /dev/null
        ping+=(peer_ping wrk "$peer_url/session" "$r/redis_peer_ping" "$pong"
               "$peer_pid")
        get+=(peer_redis_get wrk "$peer_url/mcp" "$r/redis_get" "$value"
              "$peer_pid")
    fi

    skipping redis_benchmark || get+=(redis_benchmark redis-benchmark "" "" "" "")

    redis_measure ping "${ping[@]}"
    redis_measure get "${get[@]}"

    [ -n "$peer_pid" ] && stop_peer
    [ -n "$nginx_prefix" ] && stop_nginx
    redis_cleanup
}
