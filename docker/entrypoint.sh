#!/bin/sh
# Container entrypoint: render the configuration templates from the environment,
# then run the command (nginx in the foreground by default).
#
# As in the official nginx image, every TEMPLATE_DIR/**/NAME.template becomes
# OUTPUT_DIR/**/NAME, with envsubst replacing ${VAR} only for variables that are
# set, so nginx's own $variables stay.  A DATABASE_URL / REDIS_URL style setting
# therefore needs no rebuild: change the environment, restart.
#
#   NGINX_ENVSUBST_TEMPLATE_DIR   templates (/etc/nginx/templates)
#   NGINX_ENVSUBST_OUTPUT_DIR     where they are rendered (/tmp/nginx, writable)
#   NGINX_ENVSUBST_FILTER         only variables whose names match this regex
#   NGINX_ENTRYPOINT_QUIET_LOGS   set: no messages from this script
#
# PostgreSQL: when DATABASE_URL is set and not empty (postgresql://USER:PASSWORD@
# HOST:PORT/DB[?sslmode=...]), OUTPUT_DIR/conf.d/database.conf defines the upstream
# that `postgres app_db "SELECT ..." ...;` entries use, for the configuration to
# include (`include /tmp/nginx/conf.d/*.conf;` in http {}):
#
#   upstream app_db { mcp_postgres_server '<DATABASE_URL>'; mcp_postgres_keepalive 8; ... }
#
# The URL holds a password: it goes into that file only (mode 0600), never into a
# message of this script.  The host is resolved when nginx reads the configuration.
#   DATABASE_UPSTREAM          the upstream's name (app_db)
#   DATABASE_KEEPALIVE         idle connections kept per worker (8)
#   DATABASE_MAX_CONNECTIONS   connections per worker, busy and idle (32)
#
# Redis: when REDIS_URL is set and not empty (redis://[[USER]:PASSWORD@]HOST[:PORT]
# [/DB]), OUTPUT_DIR/conf.d/redis.conf puts the sessions of the 2025 revisions in
# that Redis, so that every replica serves every session (no sticky sessions):
#
#   upstream mcp_redis { mcp_redis_server '<REDIS_URL>'; mcp_redis_keepalive 4; }
#   mcp_session_store redis=mcp_redis fail=closed;
#
# The same care as for DATABASE_URL: that file only (mode 0600), no message.
#   REDIS_SESSION_FAIL   closed: 503 while Redis is unreachable (the default);
#                        open: this replica's shm copies meanwhile
set -eu

template_dir=${NGINX_ENVSUBST_TEMPLATE_DIR:-/etc/nginx/templates}
output_dir=${NGINX_ENVSUBST_OUTPUT_DIR:-/tmp/nginx}
filter=${NGINX_ENVSUBST_FILTER:-}

# Defaults of the variables the shipped nginx.conf.template uses.
: "${NGINX_WORKER_PROCESSES:=auto}"
: "${MCP_ALLOWED_HOSTS:=localhost}"
: "${MCP_ALLOWED_ORIGINS:=http://localhost}"
export NGINX_WORKER_PROCESSES MCP_ALLOWED_HOSTS MCP_ALLOWED_ORIGINS

log() {
    [ -n "${NGINX_ENTRYPOINT_QUIET_LOGS:-}" ] || echo "entrypoint: $*" >&2
}

render() {
    # shellcheck disable=SC2016
    defined=$(awk -v f="$filter" 'END {
        for (n in ENVIRON)
            if (n ~ /^[A-Za-z_][A-Za-z0-9_]*$/ && (f == "" || n ~ f))
                printf "${%s} ", n
    }' </dev/null)

    [ -d "$template_dir" ] || { log "no $template_dir, nothing to render"; return 0; }
    mkdir -p "$output_dir"
    [ -w "$output_dir" ] || { log "ERROR: $output_dir is not writable"; exit 1; }

    find "$template_dir" -follow -type f -name '*.template' -print | sort |
    while IFS= read -r template; do
        rel=${template#"$template_dir"/}
        out=$output_dir/${rel%.template}
        mkdir -p "$(dirname "$out")"
        log "rendering $template -> $out"
        envsubst "$defined" < "$template" > "$out"
    done
}

database() {
    [ -n "${DATABASE_URL:-}" ] || return 0

    upstream=${DATABASE_UPSTREAM:-app_db}
    keepalive=${DATABASE_KEEPALIVE:-8}
    max=${DATABASE_MAX_CONNECTIONS:-32}

    case $DATABASE_URL in
    postgresql://*|postgres://*) ;;
    *) log "ERROR: DATABASE_URL is not a postgresql:// URL (its value is not shown)"; exit 1 ;;
    esac
    nl='
'
    case $DATABASE_URL in
    *"$nl"*) log "ERROR: DATABASE_URL has a line break (its value is not shown)"; exit 1 ;;
    esac
    case $upstream in
    ""|*[!A-Za-z0-9_]*) log "ERROR: DATABASE_UPSTREAM must be a name of letters, digits and _"; exit 1 ;;
    esac
    for n in "$keepalive" "$max"; do
        case $n in
        ""|*[!0-9]*) log "ERROR: DATABASE_KEEPALIVE and DATABASE_MAX_CONNECTIONS must be numbers"; exit 1 ;;
        esac
    done

    mkdir -p "$output_dir/conf.d"
    [ -w "$output_dir/conf.d" ] || { log "ERROR: $output_dir/conf.d is not writable"; exit 1; }
    # one nginx token in single quotes: \ and ' escaped with a backslash
    quoted=$(printf '%s' "$DATABASE_URL" | sed -e 's/\\/\\\\/g' -e "s/'/\\\\'/g")
    (
        umask 077
        cat > "$output_dir/conf.d/database.conf" <<EOF
# written by docker/entrypoint.sh from DATABASE_URL: do not edit, do not log
upstream $upstream {
    mcp_postgres_server          '$quoted';
    mcp_postgres_keepalive       $keepalive;
    mcp_postgres_max_connections $max;
}
EOF
    )
    log "DATABASE_URL set: upstream $upstream in $output_dir/conf.d/database.conf"
}

redis() {
    [ -n "${REDIS_URL:-}" ] || return 0

    fail=${REDIS_SESSION_FAIL:-closed}

    case $REDIS_URL in
    redis://?*) ;;
    rediss://*) log "ERROR: REDIS_URL is a rediss:// (TLS) URL; the module speaks redis:// only (its value is not shown)"; exit 1 ;;
    *) log "ERROR: REDIS_URL is not a redis:// URL (its value is not shown)"; exit 1 ;;
    esac
    nl='
'
    case $REDIS_URL in
    *"$nl"*) log "ERROR: REDIS_URL has a line break (its value is not shown)"; exit 1 ;;
    esac
    case $fail in
    open|closed) ;;
    *) log "ERROR: REDIS_SESSION_FAIL must be open or closed"; exit 1 ;;
    esac

    mkdir -p "$output_dir/conf.d"
    [ -w "$output_dir/conf.d" ] || { log "ERROR: $output_dir/conf.d is not writable"; exit 1; }
    quoted=$(printf '%s' "$REDIS_URL" | sed -e 's/\\/\\\\/g' -e "s/'/\\\\'/g")
    (
        umask 077
        cat > "$output_dir/conf.d/redis.conf" <<EOF
# written by docker/entrypoint.sh from REDIS_URL: do not edit, do not log
upstream mcp_redis {
    mcp_redis_server    '$quoted';
    mcp_redis_keepalive 4;
}

# the sessions of the 2025 revisions in Redis, the shm zone a near cache
mcp_session_store redis=mcp_redis fail=$fail;
EOF
    )
    log "REDIS_URL set: sessions in upstream mcp_redis (fail=$fail), $output_dir/conf.d/redis.conf"
}

render
database
redis
exec "$@"
