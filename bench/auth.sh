# shellcheck shell=bash
# shellcheck disable=SC2154  # bench/run.sh, which sources this file, sets them
#
# bench/run.sh auth: what authentication costs a tools/call (about 2 minutes).
# docs/PERFORMANCE.md, "Authentication".  One nginx worker on CPU 0, wrk on
# CPU 1; the same 2026-07-28 tools/call of the static tool hello in every row:
#
#   none          /mcp, no authentication: the peer every row is compared to
#   none_header   /mcp with the same Authorization header as jwt_cached, not
#                 checked: what nginx itself pays to read a token of that size
#   jwt_cached    /jwt, `Authorization: Bearer` with one RS256 token (RSA 2048):
#                 after the first request it is found in the worker's cache
#   api_key       /keys, `X-API-Key` (SHA-256 and a lookup)
#   jwt_uncached  /jwt with 6000 different RS256 tokens in turn: more than the
#                 cache holds (4096, least recently used first out), so every
#                 request parses and verifies its token
#
# Keys and tokens are made by t/lib/MCP/Auth.pm (openssl, Crypt::JWT).  The
# worker's CPU time is read around every run: CPU microseconds per request;
# jwt_cached - none_header is what the module adds to a request carrying a
# token, and jwt_uncached - jwt_cached the price of one signature check with
# its parse.

auth_tokens=6000

bench_auth() {
    local p=$work/nginx-auth base=http://127.0.0.1:$port_nginx r=$work/req
    local pid keydir=$work/auth-keys inc

    log "rig: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); server on CPU $server_cpu, wrk on CPU $client_cpu; ${conns} connections, ${duration}s x $runs runs"

    mkdir -p "$p" "$keydir"

    # keys, one token for the cached row, $auth_tokens for the other, a key file
    perl -I"$top/t/lib" -MMCP::Auth -e '
        my ($dir, $n) = @ARGV;
        auth_keys("$dir/keys");
        write_jwks("$dir/jwks.json", "rsa1");
        my $claims = { aud => "https://bench.test/mcp", exp => time + 86400 };
        open my $one, ">", "$dir/token" or die;
        print $one make_token(claims => $claims), "\n";
        open my $many, ">", "$dir/tokens" or die;
        for my $i (1 .. $n) {
            print $many make_token(claims => { %$claims, sub => "user$i" }), "\n";
        }
        my $key = random_api_key();
        open my $k, ">", "$dir/api-key" or die;
        print $k $key;
        api_keys_file("$dir/api-keys", [ $key, "bench", "tools:read", "t1" ]);
    ' "$keydir" "$auth_tokens" || die "making keys and tokens failed"

    # a request with a bearer token is over nginx's 1k header buffer: room
    # for it at once (docs/SECURITY.md), instead of a second, larger buffer
    inc=$p/auth.conf
    cat > "$inc" <<CONF
        client_header_buffer_size ${BENCH_HEADER_BUFFER:-4k};

        location = /jwt {
            mcp_pass bench;
            mcp_auth_jwt bench;
            mcp_auth_jwt_key_file $keydir/jwks.json;
            mcp_auth_jwt_issuer https://id.test;
            mcp_auth_jwt_audience https://bench.test/mcp;
        }

        location = /keys {
            mcp_pass bench;
            mcp_auth_api_keys $keydir/api-keys;
        }
CONF

    nginx_conf "$p" 1 10 "$inc"
    start_nginx "$p"
    pid=$(worker_pids)

    req_modern "$r/auth_none" tools/call hello '"name":"hello","arguments":{}'
    req_modern "$r/auth_jwt" tools/call hello '"name":"hello","arguments":{}'
    sed -i "1i Authorization: Bearer $(cat "$keydir/token")" "$r/auth_jwt"
    cp "$r/auth_jwt" "$r/auth_none_header"
    req_modern "$r/auth_key" tools/call hello '"name":"hello","arguments":{}'
    sed -i "1i X-API-Key: $(cat "$keydir/api-key")" "$r/auth_key"
    req_modern "$r/auth_uncached" tools/call hello '"name":"hello","arguments":{}'
    cp "$keydir/tokens" "$r/auth_uncached.tokens"

    local hello='"text":"Hello from the bench"'
    measure auth call_2026 "$duration" "$pid" \
        none "$base/mcp" "$r/auth_none" "$hello" "" \
        none_header "$base/mcp" "$r/auth_none_header" "$hello" "" \
        jwt_cached "$base/jwt" "$r/auth_jwt" "$hello" "" \
        api_key "$base/keys" "$r/auth_key" "$hello" "" \
        jwt_uncached "$base/jwt" "$r/auth_uncached" "$hello" ""

    stop_nginx
}
