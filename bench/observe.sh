# shellcheck shell=bash
# shellcheck disable=SC2154  # bench/run.sh, which sources this file, sets them
#
# bench/run.sh observe: what metrics and the audit log cost a tools/call
# (an mcp_metrics location: every request counted in the metrics zone;
# mcp_audit_log buffer=64k: every call a JSON line with its arguments'
# hash; about 2 minutes).  docs/PERFORMANCE.md, "Metrics and audit".
# One nginx worker on CPU 0, wrk on CPU 1; the same 2026-07-28 tools/call
# of the static tool hello (with two arguments, whose hash the audit line
# carries) to an nginx without either (none), to one with both (observed)
# and to the peer below (access_log), all running, their runs taken in
# turn; none and observed are then run under callgrind: the instructions
# per request, which do not vary (bench/results/observe-profile-*.json).
# The peer: a third nginx (access_log) with neither, but nginx's own
# access log in the JSON form of docs/OPERATIONS.md with every $mcp_*
# variable (buffer=64k), a line a request as the audit's: what nginx's log
# module costs for a record of the call.  BENCH_OBSERVE_LOG=1 adds that
# access log to the observed nginx too.

observe_conf() {           # observe_conf PREFIX on|off|log
    local p=$1 extra='' json=''
    mkdir -p "$p/logs"
    if [ "$2" = log ] || { [ "$2" = on ] && [ -n "${BENCH_OBSERVE_LOG:-}" ]; }
    then
        json=1
        extra="
    log_format mcp_json escape=json '{\"time\":\"\$time_iso8601\",\"status\":\$status,'
        '\"request_time\":\$request_time,\"method\":\"\$mcp_method\",\"entry\":\"\$mcp_entry\",'
        '\"request_id\":\"\$mcp_request_id\",\"session\":\"\$mcp_session\",'
        '\"protocol_version\":\"\$mcp_protocol_version\",\"outcome\":\"\$mcp_outcome\",'
        '\"client\":\"\$mcp_client_name\",\"trace_id\":\"\$mcp_trace_id\",'
        '\"span_id\":\"\$mcp_span_id\"}';"
    fi
    {
        conf_head "$p" bench/observe.sh
        cat <<CONF
$extra
    mcp_server bench {
        tool hello {
            description "Says hello";
            argument who string;
            argument n integer;
            text "Hello from the bench";
        }
    }

    server {
        listen 127.0.0.1:$port_nginx backlog=4096;

        location = /mcp {
            mcp_pass bench;
CONF
        if [ "$2" = on ]; then
            cat <<CONF
            mcp_audit_log $p/logs/audit.jsonl buffer=64k flush=1s;
CONF
        fi
        if [ -n "$json" ]; then
            cat <<CONF
            access_log $p/logs/mcp.json mcp_json buffer=64k flush=1s;
CONF
        fi
        cat <<CONF
        }
CONF
        if [ "$2" = on ]; then
            cat <<CONF

        location = /metrics { mcp_metrics; }
CONF
        fi
        cat <<CONF
    }
}
CONF
    } > "$p/nginx.conf"
}

bench_observe() {
    local r=$work/req base=http://127.0.0.1:$port_nginx
    local hello='"text":"Hello from the bench"' out=$work/observe-profile
    # shellcheck disable=SC2034  # callgrind_start and callgrind_row use them
    local vpid dumpno=0 n=${BENCH_PROFILE_REQUESTS:-2000} \
        w=${BENCH_PROFILE_WARMUP:-200}

    log "rig: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); server on CPU $server_cpu, wrk on CPU $client_cpu; ${conns} connections, ${duration}s x $runs runs"

    req_modern "$r/observe_call" tools/call hello \
        '"name":"hello","arguments":{"who":"bench","n":42}'

    # both nginx at once, on two ports, measured run by run in turn (none
    # 1, observed 1, none 2, ...): the ratio is then of the same minutes of
    # a machine whose speed drifts (a shared virtual machine's does)
    local port0=$port_nginx prefix_off pid_off prefix_on pid_on prefix_log \
        pid_log w0=$warmup i
    observe_conf "$work/nginx-observe-off" off
    start_nginx "$work/nginx-observe-off"
    prefix_off=$nginx_prefix pid_off=$(worker_pids)
    port_nginx=$((port0 + 1))
    observe_conf "$work/nginx-observe-on" on
    start_nginx "$work/nginx-observe-on"
    prefix_on=$nginx_prefix pid_on=$(worker_pids)
    port_nginx=$((port0 + 2))
    observe_conf "$work/nginx-observe-log" log
    start_nginx "$work/nginx-observe-log"
    prefix_log=$nginx_prefix pid_log=$(worker_pids)
    port_nginx=$port0

    local runs0=$runs
    runs=1
    for ((i = 1; i <= runs0; i++)); do
        log "pair $i of $runs0 (each measure says run 1: one run each)"
        measure observe call_2026 "$duration" "$pid_off" none \
            "$base/mcp" "$r/observe_call" "$hello" ""
        measure observe call_2026 "$duration" "$pid_on" observed \
            "http://127.0.0.1:$((port0 + 1))/mcp" "$r/observe_call" "$hello" ""
        measure observe call_2026 "$duration" "$pid_log" access_log \
            "http://127.0.0.1:$((port0 + 2))/mcp" "$r/observe_call" "$hello" ""
        warmup=1                # the first pass warmed both
    done
    runs=$runs0 warmup=$w0

    curl -s "http://127.0.0.1:$((port0 + 1))/metrics" | grep -q \
        'mcp_server_requests_total{mcp_method_name="tools/call",outcome="ok"}' \
        || die "the observed nginx counted no tools/call"
    grep -q '"event":"call"' "$work/nginx-observe-on/logs/audit.jsonl" \
        || die "the observed nginx wrote no audit record"
    [ -z "${BENCH_OBSERVE_LOG:-}" ] \
        || [ -s "$work/nginx-observe-on/logs/mcp.json" ] \
        || die "the observed nginx wrote no access log"
    [ -s "$work/nginx-observe-log/logs/mcp.json" ] \
        || die "the access_log nginx wrote no access log"

    nginx_prefix=$prefix_log
    stop_nginx
    nginx_prefix=$prefix_on
    stop_nginx
    nginx_prefix=$prefix_off
    stop_nginx

    # the profile runs one nginx at a time, on the usual port
    observe_conf "$work/nginx-observe-on" on

    skipping observe_profile && return 0
    command -v valgrind >/dev/null || die "valgrind missing"
    mkdir -p "$out"
    : > "$out/dumps"

    for state in off on; do
        callgrind_start "$work/nginx-observe-$state" "$out/callgrind-$state.out"
        # shellcheck disable=SC2034  # callgrind_row counts on it
        dumpno=0
        callgrind_row "observe:$state" /mcp "$r/observe_call" "$hello" \
            "$out/callgrind-$state.out"
        callgrind_stop
    done

    perl "$bench/profile-report.pl" "$out/dumps" "$n" \
        "$results/observe-profile-$stamp.json" | tee "$out/summary.txt"
    cp "$results/observe-profile-$stamp.json" \
        "$results/observe-profile-latest.json"
}
