#!/usr/bin/env bash
# make fuzz: builds the libFuzzer targets of t/fuzz/ and runs each for
# FUZZ_SECONDS (default 30) on a copy of its seed corpus.
#
#   json     ngx_http_mcp_json_parse() with small limits; every parsed
#            text is written back and parsed again, equal; the value is
#            checked as a schema, and fixed values validated against it
#   ndjson   the NDJSON line reader of `pass` answers, the input cut into
#            several buffers, against a plain split of the whole input
#   message  one JSON-RPC message with fuzzed MCP headers, both eras,
#            against a fixed catalog, and the answer of a location when
#            the call has one (t/fuzz/fuzz_message.c)
#   pgvalue  one cell of a PostgreSQL result (any bytes, any known type)
#            through the backend's type mapping: one valid JSON value out
#   jwt      a key set (JWK set, JWK or PEM) and a token through auth/:
#            parse, verify with that set and fixed ones, claims; no HMAC
#            without an oct key, OpenSSL's error queue left empty
#            (t/fuzz/fuzz_jwt.c)
#
#   FUZZ_SECONDS=N     seconds per target (default 30)
#   FUZZ_TARGETS="..." some of the targets (default: all five)
#   FUZZ_JOBS=N        make -j for the nginx objects (default 2)
#   NGINX_FUZZ_SRC=D   a full nginx source tree (src/core/nginx.c)
#
# The targets link nginx's own objects, compiled with clang and
# -fsanitize=fuzzer-no-link,address,undefined in build/fuzz/nginx-fuzz
# (Debian's nginx-dev has the headers only: without NGINX_FUZZ_SRC the
# source package comes from `apt-get source nginx`, whose deb-src entry
# scripts/install-deps.sh adds), core/nginx.o without its main(), plus the
# module's sources compiled the same way.  The seed corpora in t/fuzz/<target>/
# are copied to build/fuzz/corpus/, so the runs never write into git.
# Exit status: non-zero when a build failed or a target found a crash, a
# leak, undefined behaviour or a timeout (the input is left in
# build/fuzz/artifacts/<target>/ and its log in build/fuzz/logs/).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/fuzz
seconds=${FUZZ_SECONDS:-30}
targets=${FUZZ_TARGETS:-json ndjson message pgvalue jwt}
jobs=${FUZZ_JOBS:-2}
cc=${FUZZ_CC:-clang}
mod=$top/ngx_http_mcp_module

san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
copt="-g -O1 -fno-omit-frame-pointer $san"
read -r -a copts <<< "$copt"

command -v "$cc" >/dev/null 2>&1 || {
    echo "fuzz.sh: no $cc (scripts/install-deps.sh installs clang)" >&2
    exit 1
}

mkdir -p "$out"

# --- an nginx source tree -------------------------------------------------

nginx_source() {
    local d v versions

    for d in "${NGINX_FUZZ_SRC:-}" "${NGINX_SRC:-}" /usr/share/nginx/src \
             "$out"/src/nginx-*
    do
        if [ -n "$d" ] && [ -f "$d/src/core/nginx.c" ]; then
            echo "$d"
            return 0
        fi
    done

    # the version of the installed nginx first, then the others apt knows
    versions=$(dpkg-query -W -f='${Version}\n' nginx-dev 2>/dev/null || true)
    versions="$versions $(apt-cache showsrc nginx 2>/dev/null \
                          | awk '/^Version:/ { print $2 }')"

    rm -rf "$out/src"
    mkdir -p "$out/src"

    for v in $versions; do
        echo "fuzz.sh: apt-get source nginx=$v" >&2
        if (cd "$out/src" && apt-get source -qq "nginx=$v") \
               > "$out/src.log" 2>&1
        then
            for d in "$out"/src/nginx-*; do
                if [ -f "$d/src/core/nginx.c" ]; then
                    echo "$d"
                    return 0
                fi
            done
        fi
        rm -rf "${out:?}/src/"*
    done

    tail -5 "$out/src.log" >&2 || true
    echo "fuzz.sh: no nginx source: set NGINX_FUZZ_SRC, or add a deb-src" \
         "entry (scripts/install-deps.sh does) for apt-get source nginx" >&2
    return 1
}

# --- nginx's objects, with clang and the fuzzer's instrumentation ----------

build_nginx() {
    local src=$1 stamp want

    tree=$out/nginx-fuzz
    stamp=$tree/.mcp-fuzz-stamp
    want=$(echo "$src $cc $copt" | sha256sum | cut -d' ' -f1)

    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi

    echo "fuzz.sh: configuring nginx in $tree"
    rm -rf "$tree" "$out/obj"
    mkdir -p "$tree"
    cp -a "$src/." "$tree/"

    # the tree's own warnings are nginx's business: -Wno-error
    (cd "$tree" && ./configure --with-cc="$cc" --with-compat --with-threads \
        --with-cc-opt="$copt -fsanitize=fuzzer-no-link -Wno-error" \
        --with-ld-opt="$san") > "$out/nginx-configure.log" 2>&1 || {
        tail -20 "$out/nginx-configure.log" >&2
        echo "fuzz.sh: configure failed, see $out/nginx-configure.log" >&2
        return 1
    }

    echo "fuzz.sh: building nginx's objects (a few minutes, once)"
    nice make -s -C "$tree" -f objs/Makefile -j"$jobs" \
        > "$out/nginx-make.log" 2>&1 || {
        tail -20 "$out/nginx-make.log" >&2
        echo "fuzz.sh: make failed, see $out/nginx-make.log" >&2
        return 1
    }

    echo "$want" > "$stamp"
}

# --- the targets ---------------------------------------------------------

# libpq's headers (upstream/ includes libpq-fe.h)
pg_inc=$(pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)

# module sources each target links: json/ alone or with the part it tests,
# or the whole module
json_srcs=$(cd "$mod" && find json -name 'ngx_http_mcp_*.c' | sort)
# the JWT and JWK code of auth/, without the module around it
auth_srcs="auth/ngx_http_mcp_jwt.c auth/ngx_http_mcp_jwt_verify.c
           auth/ngx_http_mcp_jwt_claims.c auth/ngx_http_mcp_jwk.c
           auth/ngx_http_mcp_jwk_key.c"
all_srcs=$(cd "$mod" && find . -name 'ngx_http_mcp_*.c' | sed 's|^\./||' \
           | sort)

target_srcs() {
    case $1 in
    json|ndjson) echo "$json_srcs" ;;
    pgvalue)     echo "$json_srcs backend/ngx_http_mcp_pg_value.c" ;;
    jwt)         echo "$json_srcs $auth_srcs" ;;
    *)           echo "$all_srcs" ;;
    esac
}

build_target() {
    local t=$1 f o objs=() libs nginx_objs

    mkdir -p "$out/obj" "$out/bin"

    for f in $(target_srcs "$t") ../t/fuzz/fuzz_common.c \
             "../t/fuzz/fuzz_$t.c"
    do
        o=$out/obj/$(basename "$f" .c).o

        if [ ! -f "$o" ] || [ "$mod/$f" -nt "$o" ] \
           || [ -n "$(find "$mod" "$top/t/fuzz" "$top/t/unit" -name '*.h' \
                          -newer "$o")" ]
        then
            (cd "$tree" && nice "$cc" -c "${copts[@]}" \
                -fsanitize=fuzzer-no-link -Wall -Wextra -Wpointer-arith \
                -Wno-unused-parameter -Werror \
                -I src/core -I src/event -I src/event/modules -I src/os/unix \
                -I src/http -I src/http/modules -I src/http/v2 -I objs \
                -I "$mod" -I "$top/t/fuzz" -I "$pg_inc" -o "$o" "$mod/$f")
        fi

        objs+=("$o")
    done

    # nginx's objects and libraries, as its own link line has them;
    # core/nginx.o also defines ngx_core_module, so only its main() goes
    objcopy --redefine-sym main=ngx_http_mcp_fuzz_nginx_main \
        "$tree/objs/src/core/nginx.o" "$out/obj/nginx-nomain.o"

    mapfile -t libs < <(sed -n '/-o objs\/nginx /,/^$/p' "$tree/objs/Makefile" \
                         | grep -o -- '-l[^ ]*' | sort -u)
    mapfile -t nginx_objs < <(find "$tree/objs/src" -name '*.o' \
                                  ! -path '*/core/nginx.o' | sort)

    nice "$cc" "${copts[@]}" -fsanitize=fuzzer -o "$out/bin/fuzz_$t" \
        "${objs[@]}" "${nginx_objs[@]}" "$out/obj/nginx-nomain.o" \
        "$tree/objs/ngx_modules.o" "${libs[@]}" -lyajl -lpq -lhiredis -lssl -lcrypto -lm
}

src=$(nginx_source)
build_nginx "$src"

for t in $targets; do
    [ -f "$top/t/fuzz/fuzz_$t.c" ] || {
        echo "fuzz.sh: no target $t (t/fuzz/fuzz_$t.c)" >&2
        exit 1
    }
    echo "fuzz.sh: building fuzz_$t"
    build_target "$t"
done

# --- the runs --------------------------------------------------------------

max_len() {
    case $1 in
    message) echo 16384 ;;
    *)       echo 65536 ;;
    esac
}

failed=0
summary=()

for t in $targets; do
    corpus=$out/corpus/$t
    artifacts=$out/artifacts/$t
    log=$out/logs/$t.log
    dict=()

    # a fresh copy of the seeds; FUZZ_KEEP_CORPUS=1 goes on from the last
    if [ "${FUZZ_KEEP_CORPUS:-0}" != 1 ]; then
        rm -rf "$corpus"
    fi

    mkdir -p "$corpus" "$artifacts" "$out/logs"
    cp "$top/t/fuzz/$t/"* "$corpus/"

    if [ -f "$top/t/fuzz/$t.dict" ]; then
        dict=(-dict="$top/t/fuzz/$t.dict")
    fi

    echo "fuzz.sh: fuzz_$t for ${seconds}s (log: $log)"

    rc=0
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        nice "$out/bin/fuzz_$t" -max_total_time="$seconds" \
            -max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=2560 \
            -print_final_stats=1 -artifact_prefix="$artifacts/" \
            "${dict[@]}" "$corpus" > "$log" 2>&1 || rc=$?

    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    [ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\)[[:space:]]*DONE.*/\1/p' \
                                   "$log" | tail -1)
    [ -n "$execs" ] || execs="?"

    if [ "$rc" -eq 0 ]; then
        summary+=("$(printf '%-8s %12s executions in %ss  ok' \
                           "$t" "$execs" "$seconds")")
    else
        failed=1
        summary+=("$(printf '%-8s %12s executions in %ss  FAILED (exit %s)' \
                           "$t" "$execs" "$seconds" "$rc")")
        grep -E 'ERROR: |runtime error|FUZZ INVARIANT|SUMMARY|Test unit' \
            "$log" | head -10 >&2 || tail -5 "$log" >&2
        echo "fuzz.sh: input in $artifacts/, reproduce with" \
             "$out/bin/fuzz_$t FILE" >&2
    fi
done

echo
echo "=== fuzz: executions per target"
for line in "${summary[@]}"; do
    echo "  $line"
done

exit "$failed"
