#!/usr/bin/env bash
# Builds the test-only session store module (t/store/ngx_http_mcp_test_store.c)
# against the nginx tree that scripts/build.sh configured, so that its module
# signature matches; prints the path of the .so.  Never part of the module.
#
#   t/store/build.sh              build/test/ngx_http_mcp_test_store.so
#   SANITIZE=1 t/store/build.sh   build/asan/test/..., with ASan+UBSan
#
# Exit 2: no configured tree (run scripts/build.sh first).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
variant=plain
out=$top/build
extra=()

if [ "${SANITIZE:-0}" = 1 ]; then
    variant=asan
    out=$top/build/asan
    # every dynamic module defines ngx_modules, ngx_module_names and
    # ngx_module_order (nginx reads them with dlsym): globals not
    # instrumented, or ASan calls the second set an ODR violation
    # shellcheck disable=SC2054  # the commas belong to -fsanitize=
    extra=(-O1 -fno-omit-frame-pointer -fsanitize=address,undefined
           -fno-sanitize-recover=undefined --param asan-globals=0)
fi

tree=$out/nginx-$variant

if [ ! -f "$tree/objs/ngx_auto_config.h" ]; then
    echo "t/store/build.sh: no configured nginx tree in $tree" >&2
    exit 2
fi

mkdir -p "$out/test"
so=$out/test/ngx_http_mcp_test_store.so
src=$top/t/store/ngx_http_mcp_test_store.c

# rebuilt when the source or a header of the module is newer
if [ ! -f "$so" ] || [ -n "$(find "$src" "$top/ngx_http_mcp_module" \
                               -name '*.[ch]' -newer "$so" | head -1)" ]; then
    tmp=$so.$$.new
    (cd "$tree" && cc -shared -fPIC -pipe -g -O2 -W -Wall -Wextra \
        -Wpointer-arith -Wno-unused-parameter -Werror "${extra[@]}" \
        -I src/core -I src/event -I src/event/modules -I src/os/unix \
        -I src/http -I src/http/modules -I src/http/v2 -I objs \
        -I "$top/ngx_http_mcp_module" \
        -o "$tmp" "$src")
    mv -f "$tmp" "$so"
fi

echo "$so"
