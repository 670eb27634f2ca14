#!/usr/bin/env bash
# Build build/ngx_http_mcp_module.so --with-compat against an nginx source tree.
#
#   scripts/build.sh            Debian's nginx-dev tree (/usr/share/nginx/src), its conf_flags
#   NGINX_SRC=/path build.sh    any nginx source tree
#   SANITIZE=1 build.sh         -fsanitize=address,undefined: build/asan/ngx_http_mcp_module.so
#
# The tree is copied to build/, configured once (again when `config` changes), and only the
# module is rebuilt after that.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
src=${NGINX_SRC:-/usr/share/nginx/src}
out=$top/build
variant=plain
cc_opt="-Wall -Wextra -Werror -O2 -g"
ld_opt=""

if [ "${SANITIZE:-0}" = 1 ]; then
    variant=asan
    out=$top/build/asan
    cc_opt="-Wall -Wextra -Werror -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined"
    ld_opt="-fsanitize=address,undefined"
fi

if [ ! -x "$src/configure" ] && [ ! -f "$src/auto/configure" ]; then
    echo "build.sh: no nginx source tree at $src (install nginx-dev or set NGINX_SRC)" >&2
    exit 1
fi

tree=$out/nginx-$variant
stamp=$tree/.mcp-config-stamp
# configure again when `config`, the flags or the set of files change (config
# lists the headers it finds, for the Makefile's dependencies)
want=$( (cat "$top/config"; echo "$src $cc_opt $ld_opt";
         cd "$top" && find ngx_http_mcp_module -name '*.[ch]' | sort) \
        | sha256sum | cut -d' ' -f1)

if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    rm -rf "$tree"
    mkdir -p "$tree"
    cp -a "$src/." "$tree/"

    flags=()
    if [ -f "$src/conf_flags" ]; then
        # Debian's nginx-dev: the exact flags the packaged nginx was built with.
        # shellcheck disable=SC1091
        . "$src/conf_flags"
        flags=("${NGX_CONF_FLAGS[@]}")
    else
        flags=(--with-compat --with-http_ssl_module --with-threads)
    fi

    configure=./configure
    [ -x "$tree/configure" ] || configure=./auto/configure

    (cd "$tree" && $configure "${flags[@]}" \
        --with-cc-opt="$cc_opt" ${ld_opt:+--with-ld-opt="$ld_opt"} \
        --add-dynamic-module="$top") > "$tree.configure.log" 2>&1 || {
        tail -40 "$tree.configure.log" >&2
        echo "build.sh: configure failed, see $tree.configure.log" >&2
        exit 1
    }
    echo "$want" > "$stamp"
fi

make -s -C "$tree" -f objs/Makefile modules -j"$(nproc)"
mkdir -p "$out"
# a running nginx may have the old .so mapped: replace it, never overwrite it
cp "$tree/objs/ngx_http_mcp_module.so" "$out/.ngx_http_mcp_module.so.new"
mv -f "$out/.ngx_http_mcp_module.so.new" "$out/ngx_http_mcp_module.so"
echo "built $out/ngx_http_mcp_module.so"
