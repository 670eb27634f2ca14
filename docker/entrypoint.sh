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

render
exec "$@"
