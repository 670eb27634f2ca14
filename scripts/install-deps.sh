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
    clang libclang-rt-14-dev valgrind
    shellcheck wrk
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

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "install-deps.sh: missing packages; as root run:" >&2
    echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
fi

echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"

# The packaged nginx and redis services must not hold the ports the tests use.
for svc in nginx redis-server postgresql; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
        systemctl stop "$svc" || true
    fi
done
