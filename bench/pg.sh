# shellcheck shell=bash
# shellcheck disable=SC2154  # bench/run.sh, which sources this file, sets them
#
# bench/run.sh pg: a primary-key lookup through the module's PostgreSQL backend
# against the same lookup by pgbench and by the official TypeScript SDK v2
# server with a node-postgres pool, in the same run (about 2 minutes).
# docs/PERFORMANCE.md, "PostgreSQL".
#
# The query: SELECT id, status, total FROM orders WHERE id = $1, with a random
# id from 1 to 10000 (scripts/db/seed.sql) in every call:
#
#   pgbench   pgbench -M prepared -c C -j 2 with a script of that statement
#             (\set id random(1, 10000)): PostgreSQL's own client, what the
#             database answers without MCP
#   module    tools/call pk_lookup (2026-07-28, stateless) through wrk; the
#             tool is `postgres bench_db "SELECT ..." id;`, one worker, a pool
#             of C connections (mcp_postgres_keepalive and _max_connections)
#   module_ro the same tool annotated read_only (BEGIN READ ONLY ... COMMIT)
#   peer      the same tools/call through wrk to bench/peers/ts-sdk-v2-pg
#             (@modelcontextprotocol/server 2.4.0, a pg.Pool of C
#             connections, the statement prepared by name)
#
# C = BENCH_PG_CONNECTIONS (16): wrk connections, pgbench clients, pool sizes.
# PostgreSQL (scripts/db/pg-temp.sh: a throwaway cluster in build/bench/pg,
# TCP with a SCRAM password for everyone) runs alone on CPU BENCH_PG_DB_CPU
# (0); the client side, pgbench or wrk with the MCP server (nginx or node),
# on CPU BENCH_PG_CLIENT_CPU (1).  The database thus has the same CPU in
# every row, and whatever a client costs beyond pgbench shows as fewer
# lookups per second.  Around every run the CPU time of PostgreSQL (its
# processes, /proc/PID/stat) and of the client (pgbench, or the nginx worker
# or node; wrk is not counted) is read: CPU microseconds per lookup on each
# side, which other jobs on the machine change much less than lookups/s.
#
# Each target: a validating warm-up pass (wrk checks every answer holds
# "rowCount":1; pgbench must report no failed transaction), the peer first
# warmed for BENCH_PEER_WARMUP seconds; then 3 measured runs of
# BENCH_DURATION seconds, the targets interleaved run by run.
#
#   BENCH_PG_CONNECTIONS=16  BENCH_PG_DB_CPU=0  BENCH_PG_CLIENT_CPU=1
#   BENCH_SKIP="pg_ro pg_peer pg_module"   leave out the read_only row, the
#                            SDK peer, the module

pg_rows=10000
# shellcheck disable=SC2016  # $1 is PostgreSQL's placeholder
pg_sql='SELECT id, status, total FROM orders WHERE id = $1'
pg_dir=
pg_port=
pg_peer_port=18753

pg_cleanup() {
    [ -n "$pg_dir" ] && "$top/scripts/db/pg-temp.sh" stop "$pg_dir"
    pg_dir=
}

pg_port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pg_check_tools() {
    local t
    for t in pgbench node npm; do
        command -v "$t" >/dev/null || die "$t missing (scripts/install-deps.sh)"
    done
    [ -x "${PGBIN:-/usr/lib/postgresql/15/bin}/initdb" ] \
        || die "PostgreSQL 15 server binaries missing (scripts/install-deps.sh)"
    if ! skipping pg_peer &&
       [ ! -d "$bench/peers/ts-sdk-v2-pg/node_modules/@modelcontextprotocol/server" ]
    then
        log "npm ci in bench/peers/ts-sdk-v2-pg"
        (cd "$bench/peers/ts-sdk-v2-pg" && npm ci --no-audit --no-fund >&2) \
            || die "npm ci failed"
    fi
}

# PostgreSQL's CPU time so far, in clock ticks: utime + stime of the
# postmaster and of every live backend, plus the postmaster's cutime + cstime
# (the time of the backends that have exited: pgbench's connections end with
# its run, and the postmaster reaps them).  Other jobs on the machine are not
# in it.
pg_db_ticks() {
    perl -e '
        my $master = $ARGV[0];
        sub stat_of {
            open my $f, "<", "/proc/$_[0]/stat" or return;
            my $s = <$f>; $s =~ s/^.*\) //; return split / /, $s;
        }
        my @m = stat_of($master) or die "no postmaster $master\n";
        my $t = $m[11] + $m[12] + $m[13] + $m[14];
        for my $d (glob "/proc/[0-9]*") {
            my ($pid) = $d =~ m{(\d+)$};
            my @s = stat_of($pid) or next;
            $t += $s[11] + $s[12] if $s[1] == $master;
        }
        print "$t\n";
    ' "$(head -n 1 "$pg_dir/data/postmaster.pid")"
}

pg_nginx_conf() {          # pg_nginx_conf PREFIX CONNECTIONS
    local p=$1 c=$2
    mkdir -p "$p/logs"
    {
        conf_head "$p" bench/pg.sh
        cat <<EOF

    upstream bench_db {
        mcp_postgres_server          127.0.0.1:$pg_port dbname=app user=app password=secret;
        mcp_postgres_keepalive       $c;
        mcp_postgres_max_connections $c;
    }

    mcp_server bench_pg {
        name    bench-pg;
        version 1.0.0;

        tool pk_lookup {
            description "Looks up one order by primary key";
            argument    id integer required "Order id";
            postgres    bench_db "$pg_sql" id;
        }

        tool pk_lookup_ro {
            description "Looks up one order by primary key, read-only";
            argument    id integer required "Order id";
            annotations read_only;
            postgres    bench_db "$pg_sql" id;
        }
    }

    server {
        listen 127.0.0.1:$port_nginx backlog=4096;

        location = /mcp {
            mcp_pass bench_pg;
        }

        location = /health/ready {
            mcp_health ready;
        }
    }
}
EOF
    } > "$p/nginx.conf"
}

# one pgbench run: prints the same JSON fields as the wrk script's RESULT
# line that the report reads (requests, rps, lat_mean_us, err_status), plus
# failed and pgbench's own CPU time (client_ticks)
pg_pgbench() {             # pg_pgbench SECONDS CONNECTIONS
    local TIMEFORMAT='%3U %3S'
    { time PGPASSWORD=secret taskset -c "$client_cpu" pgbench -n \
          -h 127.0.0.1 -p "$pg_port" -U app -M prepared \
          -c "$2" -j 2 -T "$1" -f "$work/pg/pk_lookup.pgbench" app \
          > "$work/pgbench.out" 2>&1; } 2> "$work/pgbench.time" \
        || die "pgbench failed: $(cat "$work/pgbench.out")"
    perl -e '
        local $/; open my $f, "<", $ARGV[1] or die; my $o = <$f>;
        open my $c, "<", $ARGV[2] or die; my ($u, $s) = split " ", <$c>;
        my ($n) = $o =~ /number of transactions actually processed: (\d+)/;
        my ($x) = $o =~ /number of failed transactions: (\d+)/;
        my ($l) = $o =~ /latency average = ([\d.]+) ms/;
        my ($t) = $o =~ /tps = ([\d.]+) \(without initial connection time\)/;
        die "cannot read pgbench output:\n$o" unless defined $n && defined $t;
        printf "{\"requests\":%d,\"duration_s\":%s,\"rps\":%.1f,\"lat_mean_us\":%.1f,"
             . "\"failed\":%d,\"err_status\":%d,\"client_ticks\":%.0f}\n",
             $n, $ARGV[0], $t, ($l // 0) * 1000, $x // 0, $x // 0,
             ($u + $s) * $ARGV[3];
    ' "$1" "$work/pgbench.out" "$work/pgbench.time" "$(getconf CLK_TCK)"
}

# one pass of a target: prints its result JSON
pg_pass() {                # pg_pass KIND URL REQ VALIDATE SECONDS
    local kind=$1 url=$2 req=$3 validate=$4 secs=$5 out
    if [ "$kind" = pgbench ]; then
        pg_pgbench "$secs" "$pg_conns"
        return
    fi
    out=$(BENCH_REQ=$req BENCH_EXPECT='"rowCount":1' BENCH_VALIDATE=$validate \
          BENCH_RANDOM_ARG=$pg_rows \
          taskset -c "$client_cpu" wrk -t1 -c"$pg_conns" -d"${secs}s" \
              --timeout 5s -s "$bench/wrk/mcp.lua" "$url" 2>&1) \
        || die "wrk failed: $out"
    printf '%s\n' "$out" | sed -n 's/^RESULT //p' | tail -1
}

# pg_measure ROW TARGET KIND URL REQ PID [TARGET ...]: groups of 5 after ROW
pg_measure() {
    local row=$1 r i k n bad c0 c1 p0=() p1=() cpu
    shift
    local -a t=("$@")
    n=$(( ${#t[@]} / 5 ))

    for ((k = 0; k < n; k++)); do
        r=$(pg_pass "${t[k*5+1]}" "${t[k*5+2]}" "${t[k*5+3]}" 1 "$warmup")
        [ -n "$r" ] || die "pg/$row/${t[k*5]}: no result"
        echo "{\"group\":\"pg\",\"row\":\"$row\",\"target\":\"${t[k*5]}\",\"pass\":\"warmup\",\"result\":$r}" >> "$jsonl"
        if [ "${t[k*5+1]}" = pgbench ]; then
            bad=$(jget "$r" failed)
        else
            bad=$(jget "$r" invalid)
            [ "$(jget "$r" ok)" = 0 ] && bad=all
        fi
        if [ "$bad" != 0 ] || [ "$(jget "$r" err_status)" != 0 ]; then
            die "pg/$row/${t[k*5]}: invalid answers in the warm-up: $r"
        fi
    done

    for ((i = 1; i <= runs; i++)); do
        for ((k = 0; k < n; k++)); do
            local target=${t[k*5]} pid=${t[k*5+4]}
            c0=$(pg_db_ticks)
            [ -n "$pid" ] && read -r -a p0 <<< "$(cpu_ticks "$pid")"
            r=$(pg_pass "${t[k*5+1]}" "${t[k*5+2]}" "${t[k*5+3]}" 0 "$duration")
            sleep 0.2                   # the postmaster reaps pgbench's backends
            c1=$(pg_db_ticks)
            if [ -n "$pid" ]; then
                read -r -a p1 <<< "$(cpu_ticks "$pid")"
                cpu=$((p1[0] - p0[0] + p1[1] - p0[1]))
            else
                cpu=$(jget "$r" client_ticks)
            fi
            [ -n "$r" ] || die "pg/$row/$target: no result"
            [ "$(jget "$r" err_status)" = 0 ] \
                || die "pg/$row/$target run $i: errors: $r"
            echo "{\"group\":\"pg\",\"row\":\"$row\",\"target\":\"$target\",\"pass\":\"$i\",\"result\":$r,\"cpu\":{\"db_ticks\":$((c1 - c0)),\"client_ticks\":$cpu,\"hz\":$(getconf CLK_TCK)}}" >> "$jsonl"
            log "pg $row $target run $i: $(jget "$r" rps) lookups/s"
        done
    done
}

# the structuredContent of an answer, canonical JSON
pg_structured() {          # pg_structured FILE
    perl -MJSON::XS -e '
        local $/; my $j = eval { decode_json(<STDIN>) };
        my $s = $j && $j->{result} && $j->{result}{structuredContent};
        print $s ? JSON::XS->new->canonical->encode($s) : "none";
    ' < "$1"
}

bench_pg() {
    local db_cpu=${BENCH_PG_DB_CPU:-0}
    local client_cpu=${BENCH_PG_CLIENT_CPU:-1}
    # shellcheck disable=SC2034  # start_nginx pins the master there
    local server_cpu=$client_cpu
    local pg_conns=${BENCH_PG_CONNECTIONS:-16}
    local p=$work/nginx-pg base=http://127.0.0.1:$port_nginx r=$work/req
    local pid peer_url mod='' peer sql_file
    local -a targets

    pg_check_tools
    log "rig: $(nproc) CPUs; PostgreSQL on CPU $db_cpu, the client side (pgbench, or wrk with nginx or node) on CPU $client_cpu; $pg_conns connections, ${duration}s x $runs runs"

    # the database: a new cluster with the demo shop
    pg_port=18760
    while ! pg_port_free "$pg_port"; do
        pg_port=$((pg_port + 1))
    done
    pg_dir=$work/pg
    mkdir -p "$pg_dir"
    taskset -c "$db_cpu" "$top/scripts/db/pg-temp.sh" start "$pg_dir" "$pg_port" \
        "$top/scripts/db/schema.sql" "$top/scripts/db/seed.sql" \
        || die "PostgreSQL did not start ($pg_dir/postgres.log)"
    sql_file=$work/pg/pk_lookup.pgbench
    printf '\\set id random(1, %d)\n%s;\n' "$pg_rows" \
        "${pg_sql/\$1/:id}" > "$sql_file"

    req_modern "$r/pg_lookup" tools/call pk_lookup \
        '"name":"pk_lookup","arguments":{"id":42}'
    req_modern "$r/pg_lookup_ro" tools/call pk_lookup_ro \
        '"name":"pk_lookup_ro","arguments":{"id":42}'
    targets=(pgbench pgbench "" "" "")

    # the module
    if ! skipping pg_module; then
        pg_nginx_conf "$p" "$pg_conns"
        start_nginx "$p"
        pid=$(worker_pids)
        send "$r/pg_lookup" "$base/mcp" > "$work/pg.module.json"
        mod=$(pg_structured "$work/pg.module.json")
        [[ $mod == *'"rowCount":1'* ]] \
            || die "the module's pk_lookup: $(head -c 400 "$work/pg.module.json")"
        log "module: $mod"
        targets+=(module wrk "$base/mcp" "$r/pg_lookup" "$pid")
        skipping pg_ro \
            || targets+=(module_ro wrk "$base/mcp" "$r/pg_lookup_ro" "$pid")
    fi

    # the peer, answering the same request with the same structured content
    if ! skipping pg_peer; then
        peer_url=http://127.0.0.1:$pg_peer_port/mcp
        taskset -c "$client_cpu" node "$bench/peers/ts-sdk-v2-pg/server.mjs" \
            --port "$pg_peer_port" --pool "$pg_conns" \
            --pg "postgresql://app:secret@127.0.0.1:$pg_port/app" \
            > "$work/peer-pg.log" 2>&1 &
        peer_pid=$!
        for _ in $(seq 100); do
            curl -s -o /dev/null "http://127.0.0.1:$pg_peer_port/" 2>/dev/null && break
            sleep 0.1
        done
        send "$r/pg_lookup" "$peer_url" > "$work/pg.peer.json"
        peer=$(pg_structured "$work/pg.peer.json")
        if [[ $peer != *'"rowCount":1'* ]] || { [ -n "$mod" ] && [ "$peer" != "$mod" ]; }
        then
            die "the peer answers $peer, the module ${mod:-(skipped)} ($(head -c 400 "$work/pg.peer.json"))"
        fi
        log "warming the peer for ${peer_warmup}s"
        pg_pass wrk "$peer_url" "$r/pg_lookup" 0 "$peer_warmup" > /dev/null
        targets+=(peer wrk "$peer_url" "$r/pg_lookup" "$peer_pid")
    fi

    pg_measure pk_lookup "${targets[@]}"

    [ -n "$peer_pid" ] && stop_peer
    [ -n "$nginx_prefix" ] && stop_nginx
    pg_cleanup
}
