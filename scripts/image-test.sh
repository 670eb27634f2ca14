#!/usr/bin/env bash
# The container image, built and run the way Kubernetes runs it (make test's
# "image" stage; docs/DEPLOYMENT.md, "Building and testing the image without
# Docker"):
#
#   1. podman, runc and mmdebstrap, installed when missing (as root);
#   2. a Debian 12 minbase made by mmdebstrap from the Debian mirror (Docker
#      Hub is not needed), cached in build/image/ and imported once;
#   3. docker/Dockerfile built with that base as BASE_BUILD and BASE_RUNTIME,
#      in Docker format (HEALTHCHECK is kept only there);
#   4. the image run as k8s/deployment.yaml runs it: read-only root file
#      system, a tmpfs at /tmp, its own non-root user, the Deployment's
#      environment (MCP_ALLOWED_HOSTS, DATABASE_URL to a throwaway
#      PostgreSQL, REDIS_URL to a throwaway Redis: the sessions' store), the
#      shop's entries mounted as compose does;
#   5. checks: uid 1001; the startup, liveness and readiness paths answer as
#      the probes expect (readiness naming postgres:app_db and the Redis
#      session store); the root file
#      system cannot be written; the official TypeScript SDK client does a
#      whole session through the published port with the Ingress's Host
#      name; a shop tool reads PostgreSQL; the HEALTHCHECK command succeeds
#      inside; SIGQUIT (docker stop, the preStop hook) ends it within
#      worker_shutdown_timeout with no [alert] or [emerg] in its log; the
#      image's size and the build time are reported.
#
# A machine that cannot run containers (no runc, no namespaces) fails this
# stage with the reason; it is never skipped.  IMAGE_KEEP=1 leaves the
# container, PostgreSQL and Redis running for a look.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/image
image=localhost/ngx-http-mcp:test
base=localhost/ngx-http-mcp-base:bookworm
name=ngx-http-mcp-image-test
host_name=mcp.example.com                  # k8s/ingress.yaml
shutdown_timeout=30                        # worker_shutdown_timeout, nginx.conf
# crun refuses some kernels' hybrid cgroup layout (runc works); podman's
# default ulimits may exceed the machine's hard limits
podman=(podman --runtime runc --cgroup-manager=cgroupfs)
limits=(--ulimit nofile=10000:10000 --ulimit nproc=1000:1000)

mkdir -p "$out"
cd "$top" || exit 1

passed=0
failed=0

log() { echo "image-test: $*"; }

check() {                                  # check NAME COMMAND...
    local what=$1; shift
    if "$@"; then
        echo "  ok   $what"
        passed=$((passed + 1))
    else
        echo "  FAIL $what"
        failed=$((failed + 1))
    fi
}

die() {
    echo "image-test: FAIL: $*" >&2
    exit 1
}

# --- 1. the tools -----------------------------------------------------------

missing=()
for p in podman runc mmdebstrap; do
    command -v "$p" >/dev/null 2>&1 || missing+=("$p")
done

if [ ${#missing[@]} -ne 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        die "missing ${missing[*]}; as root: apt-get install -y ${missing[*]}"
    fi
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" \
        > "$out/apt.log" 2>&1 || {
        tail -5 "$out/apt.log" >&2
        die "apt-get install ${missing[*]} failed"
    }
fi

# --- 2. the base, from the Debian mirror ---------------------------------

t0=$SECONDS

if ! podman image exists "$base"; then
    if [ ! -f "$out/base-bookworm.tar" ] || [ ! -s "$out/base-bookworm.tar" ]; then
        log "making a Debian 12 minbase with mmdebstrap (once; about a minute)"
        rm -rf "$out/base-bookworm.tar" "$out/base-bookworm.part"
        mmdebstrap --variant=minbase --include=ca-certificates --format=tar \
            bookworm "$out/base-bookworm.part" \
            "deb http://deb.debian.org/debian bookworm main" \
            "deb http://deb.debian.org/debian bookworm-updates main" \
            "deb http://deb.debian.org/debian-security bookworm-security main" \
            > "$out/mmdebstrap.log" 2>&1 || {
            tail -5 "$out/mmdebstrap.log" >&2
            die "mmdebstrap failed (see $out/mmdebstrap.log)"
        }
        mv "$out/base-bookworm.part" "$out/base-bookworm.tar"
    fi
    podman import "$out/base-bookworm.tar" "$base" > "$out/import.log" 2>&1 \
        || { cat "$out/import.log" >&2; die "podman import of the base failed"; }
fi

# can this machine run a container at all?
if ! err=$("${podman[@]}" run --rm "${limits[@]}" --network=none "$base" \
               true 2>&1)
then
    die "this machine cannot run containers with podman and runc: $err"
fi

base_s=$((SECONDS - t0))

# --- 3. the image --------------------------------------------------------------

log "building $image (docker/Dockerfile; log: $out/build.log)"
t0=$SECONDS

"${podman[@]}" build --network=host --format docker "${limits[@]}" \
    --ignorefile docker/Dockerfile.dockerignore \
    --build-arg BASE_BUILD="$base" --build-arg BASE_RUNTIME="$base" \
    -t "$image" -f docker/Dockerfile . > "$out/build.log" 2>&1 || {
    tail -20 "$out/build.log" >&2
    die "the image did not build (see $out/build.log)"
}

build_s=$((SECONDS - t0))
size=$(podman image inspect --format '{{.Size}}' "$image")

# --- 4. run it as the Deployment does ----------------------------------------

free_port() {
    perl -MIO::Socket::INET -e \
        'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1",
                                     LocalPort => 0)->sockport'
}

port=$(free_port)
pg_port=$(free_port)
pg_dir=$(mktemp -d "$out/pg-XXXXXX")
redis_port=$(free_port)
redis_dir=$(mktemp -d "$out/redis-XXXXXX")
redis_password='image-test-redis-pw'

cleanup() {
    if [ "${IMAGE_KEEP:-0}" = 1 ]; then
        log "kept: container $name (port $port), PostgreSQL in $pg_dir ($pg_port)," \
            "Redis in $redis_dir ($redis_port)"
        return
    fi
    podman rm -f "$name" > /dev/null 2>&1
    scripts/db/pg-temp.sh stop "$pg_dir" > /dev/null 2>&1
    scripts/redis-temp.sh stop "$redis_dir" > /dev/null 2>&1
    rm -rf "$pg_dir" "$redis_dir"
}
trap cleanup EXIT

podman rm -f "$name" > /dev/null 2>&1

# PostgreSQL on the host, reached from the container's network by password
gateway=$(podman network inspect podman \
              --format '{{range .Subnets}}{{.Gateway}}{{end}}' 2>/dev/null)
subnet=$(podman network inspect podman \
              --format '{{range .Subnets}}{{.Subnet}}{{end}}' 2>/dev/null)
if [ -z "$gateway" ] || [ -z "$subnet" ]; then
    die "no podman network to reach the host from the container"
fi

PG_LISTEN='*' PG_HBA_NET=$subnet scripts/db/pg-temp.sh start "$pg_dir" \
    "$pg_port" scripts/db/schema.sql scripts/db/seed.sql \
    || die "PostgreSQL did not start"

# Redis on the host likewise: every address, a password (the bridge reaches it)
REDIS_BIND=0.0.0.0 REDIS_PASSWORD=$redis_password scripts/redis-temp.sh start \
    "$redis_dir" "$redis_port" || die "Redis did not start"

log "running $image on 127.0.0.1:$port (PostgreSQL at $gateway:$pg_port, Redis at $gateway:$redis_port)"

"${podman[@]}" run -d --name "$name" \
    --read-only --tmpfs /tmp:rw,size=64m,mode=1777 \
    --cap-drop=ALL --security-opt no-new-privileges "${limits[@]}" \
    -p "127.0.0.1:$port:8000" \
    -e MCP_ALLOWED_HOSTS="mcp-server mcp-server.mcp mcp-server.mcp.svc mcp-server.mcp.svc.cluster.local $host_name" \
    -e MCP_ALLOWED_ORIGINS="https://$host_name" \
    -e NGINX_WORKER_PROCESSES=2 \
    -e NGINX_ENTRYPOINT_QUIET_LOGS=1 \
    -e DATABASE_URL="postgresql://app:secret@$gateway:$pg_port/app" \
    -e REDIS_URL="redis://:$redis_password@$gateway:$redis_port/0" \
    -v "$top/conf/container/shop.entries.template:/etc/nginx/templates/conf.d/shop.entries.template:ro" \
    "$image" > /dev/null 2> "$out/run.log" || {
    cat "$out/run.log" >&2
    die "the container did not start"
}

# --- 5. the checks -----------------------------------------------------------

status_of() {                              # status_of PATH [HOST]
    curl -s -o /dev/null -w '%{http_code}' -m 3 \
        -H "Host: ${2:-localhost}" "http://127.0.0.1:$port$1"
}

# the startupProbe: /health/live every 2 s, 30 times
started=0
for _ in $(seq 30); do
    if [ "$(status_of /health/live)" = 200 ]; then
        started=1
        break
    fi
    sleep 2
done
check "startup probe: /health/live answers 200" [ "$started" = 1 ]

check "liveness probe: /health/live 200" [ "$(status_of /health/live)" = 200 ]

ready_ok() {
    local body
    for _ in $(seq 20); do
        body=$(curl -s -m 3 "http://127.0.0.1:$port/health/ready")
        case $body in
        *'"name":"postgres:app_db","status":"ok"'*)
            case $body in
            *'mcp_redis\" (redis, fail=closed)","status":"ok"'*) return 0 ;;
            esac
            ;;
        esac
        sleep 0.5
    done
    echo "    readiness: $body"
    return 1
}
check "readiness probe: /health/ready 200 with postgres:app_db and the Redis session store ok" ready_ok

uid_ok() {
    local uids
    # the real, effective, saved and file-system uids of every process
    uids=$(podman exec "$name" sh -c \
           'cat /proc/[0-9]*/status 2>/dev/null | grep "^Uid:"' \
           | awk '{print $2, $3, $4, $5}' | tr ' ' '\n' | sort -u)
    [ "$uids" = 1001 ] || { echo "    uids: $(echo "$uids" | tr '\n' ' ')"; return 1; }
}
check "every process runs as uid 1001" uid_ok

check "the root file system is read-only" \
    bash -c "! podman exec $name sh -c 'touch /etc/nginx/x' 2>/dev/null"

check "an unknown Host name is refused (403)" \
    [ "$(curl -s -o /dev/null -w '%{http_code}' -m 3 -X POST \
          -H 'Host: evil.example' -H 'Content-Type: application/json' \
          -H 'Accept: application/json, text/event-stream' \
          -d '{"jsonrpc":"2.0","id":1,"method":"ping"}' \
          "http://127.0.0.1:$port/mcp")" = 403 ]

sdk_session() {
    local sdk=$top/t/sdk
    if [ ! -d "$sdk/node_modules/@modelcontextprotocol/sdk" ]; then
        (cd "$sdk" && npm ci --no-audit --no-fund > "$out/npm.log" 2>&1) \
            || { tail -5 "$out/npm.log"; return 1; }
    fi
    MCP_CLIENT_HOST=$host_name MCP_CLIENT_ARGS='{"id":"42"}' \
        timeout 60 node "$sdk/client.mjs" \
        "http://127.0.0.1:$port/mcp" > "$out/sdk.log" 2>&1 \
        || { tail -5 "$out/sdk.log"; return 1; }
    grep -q '"step":"done"' "$out/sdk.log"
}
check "the TypeScript SDK client: a whole session, Host $host_name" sdk_session

# the SDK's session went through Redis (REDIS_URL): its store counted the work
redis_used() {
    local calls
    calls=$(scripts/redis-temp.sh cli "$redis_dir" "$redis_port" info commandstats \
            | grep -c '^cmdstat_\(set\|get\|getex\|evalsha\|eval\)')
    [ "$calls" -gt 0 ] || { echo "    no SET/GET/EVAL in Redis's commandstats"; return 1; }
}
check "the sessions live in Redis (REDIS_URL): commands seen by the host's Redis" redis_used

shop_call() {
    local body
    body=$(curl -s -m 5 "http://127.0.0.1:$port/mcp" \
        -H "Host: $host_name" -H 'Content-Type: application/json' \
        -H 'Accept: application/json, text/event-stream' \
        -H 'MCP-Protocol-Version: 2026-07-28' \
        -H 'Mcp-Method: tools/call' -H 'Mcp-Name: get_order' \
        -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_order","arguments":{"id":42},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"image-test","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}')
    case $body in
    *'"rowCount":1'*) return 0 ;;
    esac
    echo "    $body"
    return 1
}
check "a shop tool reads PostgreSQL through DATABASE_URL" shop_call

# the image's own HEALTHCHECK, run once by podman (no systemd timers here)
check "the HEALTHCHECK succeeds (podman healthcheck run)" \
    podman healthcheck run "$name"

health_kept() {
    podman image inspect --format '{{json .Config.Healthcheck}}' "$image" \
        | grep -q healthcheck
}
check "the image keeps its HEALTHCHECK (Docker format)" health_kept

# SIGQUIT: what docker stop (STOPSIGNAL) and the preStop hook lead to
t0=$SECONDS
podman kill --signal QUIT "$name" > /dev/null
code=$(timeout $((shutdown_timeout + 10)) podman wait "$name" 2>/dev/null)
stop_s=$((SECONDS - t0))

stopped_ok() {
    [ "${code:-x}" = 0 ] && [ "$stop_s" -le "$shutdown_timeout" ]
}
check "SIGQUIT ends it within worker_shutdown_timeout (${stop_s} s, exit ${code:-none})" \
    stopped_ok

podman logs "$name" > "$out/container.log" 2>&1
check "its log has no [alert], [crit] or [emerg]" \
    bash -c "! grep -E '\\[(alert|crit|emerg)\\]' '$out/container.log'"
check "its log does not show the database password" \
    bash -c "! grep -q 'secret' '$out/container.log'"
check "its log does not show the Redis password" \
    bash -c "! grep -q '$redis_password' '$out/container.log'"

echo
echo "image-test: base $((base_s)) s, build ${build_s} s, image $((size / 1048576)) MiB ($size bytes)"
echo "image-test: $passed passed, $failed failed"

[ "$failed" = 0 ]
