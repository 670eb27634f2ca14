#!/usr/bin/env bash
# make test (after `make build build-asan`):
#   1. prove -r t/ against the plain module    (build/ngx_http_mcp_module.so)
#   2. prove -r t/ against the sanitizer build (build/asan/ngx_http_mcp_module.so,
#      MCP_TEST_ASAN=1: nginx runs with libasan/libubsan preloaded and every
#      sanitizer report fails the test that produced it)
#   3. the unit tests of t/unit/run.sh, when they exist (plain and SANITIZE=1)
#   4. scripts/fuzz.sh: the libFuzzer targets of t/fuzz/, FUZZ_SECONDS
#      (default 30) each, from their seed corpora
#   5. scripts/conformance.sh, when it exists
#   6. scripts/check-deploy.sh: docker/, k8s/ and .github/workflows validated
#      offline (schemas, nginx -t and probes with the plain module, actionlint
#      and a lint of every shell script); see docs/DEPLOYMENT.md
#   7. scripts/image-test.sh: the image built with podman from a Debian base
#      made from the mirror, run read-only and non-root as the Deployment
#      runs it, probed, used by the SDK client, stopped with SIGQUIT
# Every stage runs even when an earlier one fails; the exit status is non-zero
# when any stage failed.  JOBS=N sets prove's parallelism (default 2),
# PLAIN_MODULE / ASAN_MODULE test other builds of the module,
# STAGES="plain asan unit fuzz conformance deploy image" picks stages.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

jobs=${JOBS:-2}
plain_module=${PLAIN_MODULE:-$top/build/ngx_http_mcp_module.so}
asan_module=${ASAN_MODULE:-$top/build/asan/ngx_http_mcp_module.so}
stages=${STAGES:-plain asan unit fuzz conformance deploy image}
names=()
results=()
times=()
failed=0

run_stage() {
    local name=$1; shift
    local t0=$SECONDS rc
    echo
    echo "=== $name: $*"
    "$@"
    rc=$?
    names+=("$name")
    times+=("$((SECONDS - t0))s")
    if [ "$rc" -eq 0 ]; then
        results+=("PASS")
    else
        results+=("FAIL (exit $rc)")
        failed=1
    fi
}

skip_stage() {
    names+=("$1"); results+=("$2"); times+=("-")
}

mkdir -p t/tmp

for stage in $stages; do
    case $stage in
    plain)
        if [ -f "$plain_module" ]; then
            run_stage "prove (plain module)" \
                env MCP_TEST_ASAN=0 MCP_TEST_MODULE="$plain_module" \
                timeout 1200 prove -r -j"$jobs" t/
        else
            skip_stage "prove (plain module)" "FAIL (no $plain_module: make build)"
            failed=1
        fi
        ;;
    asan)
        if [ -f "$asan_module" ]; then
            run_stage "prove (ASan+UBSan module)" \
                env MCP_TEST_ASAN=1 MCP_TEST_MODULE="$asan_module" \
                timeout 1200 prove -r -j"$jobs" t/
        else
            skip_stage "prove (ASan+UBSan module)" "FAIL (no $asan_module: make build-asan)"
            failed=1
        fi
        ;;
    unit)
        if [ -f t/unit/run.sh ]; then
            run_stage "unit tests (plain)" timeout 600 prove --exec bash t/unit/run.sh
            run_stage "unit tests (ASan+UBSan)" \
                env SANITIZE=1 timeout 600 prove --exec bash t/unit/run.sh
        else
            skip_stage "unit tests" "not run (no t/unit/run.sh)"
        fi
        ;;
    fuzz)
        run_stage "fuzz (libFuzzer)" \
            env FUZZ_SECONDS="${FUZZ_SECONDS:-30}" timeout 1800 \
            bash scripts/fuzz.sh
        ;;
    conformance)
        if [ -x scripts/conformance.sh ]; then
            run_stage "conformance" scripts/conformance.sh
        elif [ -f scripts/conformance.sh ]; then
            run_stage "conformance" bash scripts/conformance.sh
        else
            skip_stage "conformance" "not run (no scripts/conformance.sh)"
        fi
        ;;
    deploy)
        if [ -f "$plain_module" ]; then
            run_stage "deploy (docker, k8s, CI)" \
                env MODULE="$plain_module" timeout 600 scripts/check-deploy.sh
        else
            skip_stage "deploy (docker, k8s, CI)" "FAIL (no $plain_module: make build)"
            failed=1
        fi
        ;;
    image)
        run_stage "image (podman: build, run as k8s does, probe, SDK, stop)" \
            timeout 1500 scripts/image-test.sh
        ;;
    *)
        echo "test.sh: unknown stage $stage" >&2
        failed=1
        ;;
    esac
done

echo
echo "=== summary"
for i in "${!names[@]}"; do
    printf '  %-28s %-8s %s\n' "${names[$i]}" "${times[$i]}" "${results[$i]}"
done
if [ "$failed" -eq 0 ]; then
    echo "  all stages passed"
else
    echo "  FAILED"
fi
exit "$failed"
