# shellcheck shell=bash
# shellcheck disable=SC2154  # bench/run.sh, which sources this file, sets them
#
# bench/run.sh limit: what rate limits and quotas cost a tools/call (about 2
# minutes).  docs/PERFORMANCE.md, "Limits".  One nginx worker on CPU 0, wrk
# on CPU 1; the same 2026-07-28 tools/call of a static tool in every row,
# with limits that never refuse (rates far above what one worker serves):
#
#   none            /mcp, the catalog `bench` without any limit: the peer
#                   every row is compared to
#   location        /loc: `mcp_limit` (one shm bucket, key $remote_addr)
#   location_entry  /both: `mcp_limit`, and the tool's own `limit` line in
#                   the catalog `limited` (a second bucket, per key and tool)
#   quota           /quota: the tool's `quota` line (counted at the start,
#                   given back if the call fails)
#   redis_lease     /redis: `mcp_limit` on a zone with redis=: one Redis
#                   round trip per lease of 100 tokens (the most a lease holds),
#                   every other decision from the lease in the zone
#
# The worker's CPU time is read around every run: CPU microseconds per
# request; location_entry - none is what a location limit plus an entry
# limit add.  redis-server runs on CPU 1 with wrk (its CPU is not counted).
# On a shared machine the runs of a row may differ by a third; so the same
# nginx is then run under callgrind (BENCH_SKIP=limit_profile leaves it
# out): the instructions per request of the shared-memory rows, which do
# not vary, with the stages of bench/profile-report.pl
# (bench/results/limit-profile-*.json).

limit_conf() {             # limit_conf PREFIX
    local p=$1
    mkdir -p "$p/logs"
    {
        conf_head "$p" bench/limit.sh
        cat <<CONF

    upstream bench_redis {
        mcp_redis_server    127.0.0.1:$redis_port;
        mcp_redis_keepalive 4;
    }

    mcp_limit_zone loc:10m   key=\$remote_addr rate=1000000r/s;
    mcp_limit_zone tool:10m  key=\$remote_addr rate=1000000r/s;
    mcp_limit_zone redis:10m key=\$remote_addr rate=1000000r/s redis=bench_redis;
    mcp_quota_zone calls:10m key=\$remote_addr;

    mcp_server bench {
        tool hello { description "Says hello"; text "Hello from the bench"; }
    }

    mcp_server limited {
        tool hello {
            description "Says hello";
            text        "Hello from the bench";
            limit       zone=tool burst=1000 nodelay;
        }
    }

    mcp_server quota {
        tool hello {
            description "Says hello";
            text        "Hello from the bench";
            quota       calls 2000000000/d;
        }
    }

    server {
        listen 127.0.0.1:$port_nginx backlog=4096;

        location = /mcp   { mcp_pass bench; }
        location = /loc   { mcp_pass bench;   mcp_limit zone=loc burst=1000 nodelay; }
        location = /both  { mcp_pass limited; mcp_limit zone=loc burst=1000 nodelay; }
        location = /quota { mcp_pass quota; }
        location = /redis { mcp_pass bench;   mcp_limit zone=redis burst=1000 nodelay; }
    }
}
CONF
    } > "$p/nginx.conf"
}

bench_limit() {
    local p=$work/nginx-limit base=http://127.0.0.1:$port_nginx r=$work/req
    local pid hello='"text":"Hello from the bench"'

    log "rig: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); server on CPU $server_cpu, wrk and redis-server on CPU $client_cpu; ${conns} connections, ${duration}s x $runs runs"

    redis_start "$client_cpu"
    limit_conf "$p"
    start_nginx "$p"
    pid=$(worker_pids)

    req_modern "$r/limit_call" tools/call hello '"name":"hello","arguments":{}'

    measure limit call_2026 "$duration" "$pid" \
        none "$base/mcp" "$r/limit_call" "$hello" "" \
        location "$base/loc" "$r/limit_call" "$hello" "" \
        location_entry "$base/both" "$r/limit_call" "$hello" "" \
        quota "$base/quota" "$r/limit_call" "$hello" "" \
        redis_lease "$base/redis" "$r/limit_call" "$hello" ""

    rcli --scan --pattern 'mcp:limit:redis:*' | grep -q . \
        || die "no bucket in Redis after the redis_lease row"
    stop_nginx

    skipping limit_profile || limit_profile "$p" "$r/limit_call" "$hello"
}

limit_profile() {          # limit_profile PREFIX REQ EXPECT
    local out=$work/limit-profile row
    # shellcheck disable=SC2034  # callgrind_start and callgrind_row use them
    local vpid dumpno=0 n=${BENCH_PROFILE_REQUESTS:-2000} \
        w=${BENCH_PROFILE_WARMUP:-200}
    command -v valgrind >/dev/null || die "valgrind missing"
    mkdir -p "$out"
    : > "$out/dumps"

    callgrind_start "$1" "$out/callgrind.out"
    for row in none:/mcp location:/loc location_entry:/both quota:/quota; do
        callgrind_row "limit:${row%%:*}" "${row#*:}" "$2" "$3" \
            "$out/callgrind.out"
    done
    callgrind_stop

    perl "$bench/profile-report.pl" "$out/dumps" "$n" \
        "$results/limit-profile-$stamp.json" | tee "$out/summary.txt"
    cp "$results/limit-profile-$stamp.json" \
        "$results/limit-profile-latest.json"
}
