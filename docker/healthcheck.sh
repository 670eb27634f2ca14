#!/bin/bash
# Docker HEALTHCHECK: GET /health/live on the container's port, healthy on 200.
# No curl in the image: bash's /dev/tcp is enough for one HTTP/1.0 request.
#   HEALTHCHECK_PORT (8000), HEALTHCHECK_PATH (/health/live), HEALTHCHECK_HOST (127.0.0.1)
set -u

host=${HEALTHCHECK_HOST:-127.0.0.1}
port=${HEALTHCHECK_PORT:-8000}
path=${HEALTHCHECK_PATH:-/health/live}

exec 3<>"/dev/tcp/$host/$port" || exit 1
printf 'GET %s HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$path" >&3
IFS= read -r -t 5 status <&3 || exit 1
exec 3<&-

case $status in
"HTTP/1."[01]" 200 "*) exit 0 ;;
*) echo "healthcheck: $path: ${status%$'\r'}" >&2; exit 1 ;;
esac
