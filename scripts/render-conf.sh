#!/usr/bin/env bash
# Render a shipped configuration:
#   render-conf.sh CONF MODULE PORT PREFIX [NAME=VALUE ...] > nginx.conf
# Placeholders: @MODULE@ (the .so), @PORT@, @PREFIX@ (nginx -p), @ROOT@ (this checkout),
# and @NAME@ for each NAME=VALUE given (scripts/run.sh: @PGPORT@ and @REDISPORT@, the
# ports of the throwaway PostgreSQL and Redis of conf/postgres.conf and conf/stack.conf).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 4 ] || { echo "usage: render-conf.sh CONF MODULE PORT PREFIX [NAME=VALUE ...]" >&2; exit 2; }
conf=$1
subst=(-e "s|@MODULE@|$2|g" -e "s|@PORT@|$3|g" -e "s|@PREFIX@|$4|g" -e "s|@ROOT@|$top|g")
shift 4
for kv in "$@"; do
    case $kv in
    [A-Z]*=*) subst+=(-e "s|@${kv%%=*}@|${kv#*=}|g") ;;
    *) echo "render-conf.sh: not NAME=VALUE: $kv" >&2; exit 2 ;;
    esac
done
sed "${subst[@]}" "$conf"
