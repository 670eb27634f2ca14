#!/usr/bin/env bash
# Install the pinned node tools into .tools/ at the repository root, only when missing:
# node 22 (npm package "node") and @modelcontextprotocol/conformance, both pinned by
# scripts/node-tools/package.json and package-lock.json.
#
#   scripts/node-tools.sh        install if needed, verify, print the .bin directory
#
# The machine's own node may be older; callers put the printed directory first on PATH:
#   PATH="$(scripts/node-tools.sh):$PATH"
# Everything but the final path goes to stderr.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
spec=$top/scripts/node-tools
dir=$top/.tools
bin=$dir/node_modules/.bin
stamp=$dir/.lock-stamp

want=$(cat "$spec/package.json" "$spec/package-lock.json" | sha256sum | cut -d' ' -f1)

node_ok() {
    local v
    [ -x "$bin/node" ] && [ -e "$bin/conformance" ] || return 1
    v=$("$bin/node" --version 2>/dev/null) || return 1
    case "$v" in v22.*) return 0 ;; *) return 1 ;; esac
}

if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || ! node_ok; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "node-tools.sh: npm not found (scripts/install-deps.sh installs it)" >&2
        exit 1
    fi
    echo "node-tools.sh: installing pinned node tools into $dir" >&2
    mkdir -p "$dir"
    rm -f "$stamp"
    cp "$spec/package.json" "$spec/package-lock.json" "$dir/"
    rm -rf "$dir/node_modules"
    # npm ci installs exactly the lock; the "node" package's preinstall fetches the
    # binary for this architecture. Engine warnings from an older system node are harmless.
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) >&2 || {
        echo "node-tools.sh: npm ci failed in $dir" >&2
        exit 1
    }
    if ! node_ok; then
        echo "node-tools.sh: $bin/node is not a working node 22" \
             "($("$bin/node" --version 2>&1 || true))" >&2
        exit 1
    fi
    echo "$want" > "$stamp"
fi

echo "$bin"
