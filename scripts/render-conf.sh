#!/usr/bin/env bash
# Render a shipped configuration: render-conf.sh CONF MODULE PORT PREFIX > nginx.conf
# Placeholders: @MODULE@ (the .so), @PORT@, @PREFIX@ (nginx -p), @ROOT@ (this checkout).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
[ $# -eq 4 ] || { echo "usage: render-conf.sh CONF MODULE PORT PREFIX" >&2; exit 2; }
sed -e "s|@MODULE@|$2|g" -e "s|@PORT@|$3|g" -e "s|@PREFIX@|$4|g" -e "s|@ROOT@|$top|g" "$1"
