#!/usr/bin/env bash
# Install the Debian packages the build, the demo and the tests need, only those missing.
# As root it installs them; otherwise it prints the apt-get line and stops.
set -euo pipefail

pkgs=(
    build-essential nginx-core nginx-dev libpcre2-dev zlib1g-dev
    libyajl-dev libpq-dev libhiredis-dev libssl-dev
    postgresql redis-server
    perl libjson-xs-perl libcrypt-jwt-perl curl ca-certificates
    nodejs npm
    clang libclang-rt-14-dev valgrind dpkg-dev
    shellcheck wrk
    prometheus
)

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
        || missing+=("$p")
done

# Node from Debian only when no node is on PATH at all (the machine may carry its own).
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    tmp=()
    for p in "${missing[@]}"; do
        case "$p" in nodejs|npm) ;; *) tmp+=("$p") ;; esac
    done
    missing=("${tmp[@]}")
fi

# make fuzz (scripts/fuzz.sh) builds nginx's own objects with clang: it
# needs nginx's source package (nginx-dev has the headers only), which
# `apt-get source nginx` brings once a deb-src entry is there.
debsrc=/etc/apt/sources.list.d/ngx-http-mcp-deb-src.sources
need_src=0

if [ -z "${NGINX_FUZZ_SRC:-}" ] && [ ! -f "$debsrc" ] \
   && ! apt-cache showsrc nginx 2>/dev/null | grep -q '^Package: nginx'
then
    need_src=1
fi

[ ${#missing[@]} -eq 0 ] && [ "$need_src" = 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
    if [ ${#missing[@]} -ne 0 ]; then
        echo "install-deps.sh: missing packages; as root run:" >&2
        echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
    fi
    if [ "$need_src" = 1 ]; then
        echo "install-deps.sh: no deb-src entry for nginx's source package" \
             "(make fuzz); as root run this script, or set NGINX_FUZZ_SRC" >&2
    fi
    exit 1
fi

if [ "$need_src" = 1 ]; then
    echo "install-deps.sh: adding $debsrc (deb-src of the deb entries)"
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        sed 's/^Types: deb$/Types: deb-src/' \
            /etc/apt/sources.list.d/debian.sources > "$debsrc"
    else
        # one-line format: the deb lines as deb-src, in the deb822 form
        grep -h '^deb ' /etc/apt/sources.list 2>/dev/null \
        | while read -r _ uri suite comps; do
            printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: %s\n\n' \
                "$uri" "$suite" "$comps"
        done > "$debsrc"
    fi
    if [ ${#missing[@]} -eq 0 ]; then
        apt-get update -qq
        exit 0
    fi
fi

echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"

# The packaged nginx and redis services must not hold the ports the tests use
# (prometheus is there for promtool alone).
for svc in nginx redis-server postgresql prometheus; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
        systemctl stop "$svc" || true
    fi
done
