#!/usr/bin/env bash
# Proves that scripts/check-deploy.sh can fail: each case breaks one thing in a
# scratch copy of the repository and expects the named check to FAIL (and the
# run to exit non-zero).  Not part of `make test` (each case a whole check-deploy
# run, about 40 s); run it after changing the checks:
#   scripts/deploy-check/selftest.sh [CASE ...]
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
module=${MODULE:-$top/build/ngx_http_mcp_module.so}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/deploy-selftest.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

"$top/scripts/deploy-check/install.sh" || exit 1

# name | check expected to fail | file | sed expression
cases=(
    "wrong-type|k8s/ (API schemas|k8s/deployment.yaml|s/^  replicas: 3$/  replicas: \"3\"/"
    "unknown-field|k8s/ (API schemas|k8s/deployment.yaml|s/^\\( *\\)imagePullPolicy: IfNotPresent/&\\n\\1imagePulPolicy: Always/"
    "bad-enum|k8s/ (API schemas|k8s/ingress.yaml|s/pathType: Exact/pathType: Exactly/"
    "stale-checksum|k8s/ (API schemas|k8s/configmap.yaml|s/worker_connections 4096;/worker_connections 4095;/"
    "bad-directive|k8s ConfigMap nginx.conf|k8s/configmap.yaml|s/mcp_pass main;/mcp_pass mian;/"
    "probe-path|k8s ConfigMap nginx.conf|k8s/deployment.yaml|s|path: /health/ready|path: /health/readyz|"
    "host-missing|k8s ConfigMap nginx.conf|k8s/deployment.yaml|s/ mcp-server.mcp.svc.cluster.local mcp.example.com\"/ mcp.example.com\"/"
    "prestop-path|k8s ConfigMap nginx.conf|k8s/deployment.yaml|s|nginx -c /tmp/nginx/nginx.conf -s quit|nginx -c /tmp/nginx/nginx.cnf -s quit|"
    "grace-too-short|k8s/ (API schemas|k8s/deployment.yaml|s/terminationGracePeriodSeconds: 60/terminationGracePeriodSeconds: 30/"
    "sse-buffering|k8s/ (API schemas|k8s/ingress.yaml|s/proxy-buffering: \"off\"/proxy-buffering: \"on\"/"
    "real-secret|k8s/ (API schemas|k8s/secret.example.yaml|s/mcp:CHANGE-ME@/mcp:hunter2@/"
    "unpinned-base|docker/|docker/Dockerfile|s/^ARG BASE_RUNTIME=debian:12.11-slim/ARG BASE_RUNTIME=debian:12-slim/"
    "root-user|docker/|docker/Dockerfile|s/^USER 1001:1001/USER root/"
    "no-healthcheck|docker/|docker/Dockerfile|/^HEALTHCHECK/,/CMD/d"
    "builder-skips-ci|docker/|docker/Dockerfile|s/^RUN make build/RUN scripts\\/build.sh/"
    "cmd-config-path|docker/|docker/Dockerfile|s|\"-c\", \"/tmp/nginx/nginx.conf\"|\"-c\", \"/etc/nginx/nginx.conf\"|"
    "compose-depends|docker/|docker/docker-compose.yml|s/condition: service_healthy/condition: service_started/"
    "workflow-input|workflows|.github/workflows/ci.yaml|s/retention-days: 7/retention-dayz: 7/"
    "workflow-run-step|workflows|.github/workflows/ci.yaml|s/^          apt-get update -qq$/          apt-get update -qq \$OPTS/"
    "shell-script|shellcheck|docker/entrypoint.sh|s/^render$/render \$1/"
    "healthcheck-path|image nginx.conf|docker/healthcheck.sh|s|/health/live}|/health/alive}|"
    "image-template|image nginx.conf|conf/container/nginx.conf.template|s/mcp_session_timeout 30m;/mcp_session_timeout thirty;/"
    "ingress-affinity|k8s/ (API schemas|k8s/ingress.yaml|s/^    nginx.ingress.kubernetes.io\/ssl-redirect: \"true\"$/&\n    nginx.ingress.kubernetes.io\/affinity: \"cookie\"/"
    "compose-one-port|docker/|docker/docker-compose.yml|s/127.0.0.1:8000-8009:8000/127.0.0.1:8000:8000/"
    "no-redis-store|redis wiring|docker/entrypoint.sh|s/^mcp_session_store redis=mcp_redis fail=\$fail;$/# no store/"
    "stack-port|conf/stack.conf|scripts/run.sh|s/REDISPORT=\"\$redisport\"/REDISPORT=\"\$((redisport + 1))\"/"
    "servicemonitor-port|k8s/ (API schemas|k8s/servicemonitor.yaml|s/- port: http/- port: metrics/"
    "servicemonitor-selector|k8s/ (API schemas|k8s/servicemonitor.yaml|s/component: server/component: metrics/"
    "servicemonitor-listed|k8s/ (API schemas|k8s/kustomization.yaml|s/^  - networkpolicy.yaml$/&\n  - servicemonitor.yaml/"
    "prometheus-blocked|k8s/ (API schemas|k8s/networkpolicy.yaml|s/name: prometheus/name: prometheuz/"
    "dashboard-metric|k8s Grafana dashboard|k8s/grafana-dashboard.json|s/mcp_limit_refusals_total/mcp_limit_rejections_total/"
    "metric-unlisted|k8s Grafana dashboard|docs/metrics.txt|/^mcp_audit_dropped_total /d"
    "dashboard-no-le|k8s Grafana dashboard|k8s/grafana-dashboard.json|s/sum by (le, gen_ai_tool_name)/sum by (gen_ai_tool_name)/"
)

want=("$@")
pass=0
fail=0
for c in "${cases[@]}"; do
    IFS='|' read -r name check file expr <<<"$c"
    if [ ${#want[@]} -gt 0 ] && [[ ! " ${want[*]} " == *" $name "* ]]; then
        continue
    fi
    copy=$scratch/$name
    mkdir -p "$copy"
    (cd "$top" && git ls-files -co --exclude-standard | grep -v -e '^build/' -e '/node_modules/' \
        | tar -cf - -T -) | tar -xf - -C "$copy"
    ln -s "$top/scripts/deploy-check/node_modules" "$copy/scripts/deploy-check/node_modules"
    if [ -d "$top/.tools" ]; then
        ln -s "$top/.tools" "$copy/.tools"
    fi
    before=$(sha256sum "$copy/$file")
    sed -i -e "$expr" "$copy/$file"
    if [ "$before" = "$(sha256sum "$copy/$file")" ]; then
        echo "not ok - $name: the edit changed nothing in $file"
        fail=$((fail + 1))
        continue
    fi
    out=$(cd "$copy" && MODULE=$module bash scripts/check-deploy.sh 2>&1)
    rc=$?
    if [ "$rc" -ne 0 ] && grep -qF "FAIL  $check" <<<"$out"; then
        echo "ok - $name: \"$check\" fails ($(grep -m1 '^  FAIL ' <<<"$out" | cut -c8-120))"
        pass=$((pass + 1))
    else
        echo "not ok - $name: expected \"$check\" to fail (exit $rc)"
        grep -E '^  (PASS|FAIL)' <<<"$out" | sed 's/^/    /'
        fail=$((fail + 1))
    fi
done
echo "selftest: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
