#!/usr/bin/env bash
# `npm run test:prebuilds`: checks each binary under prebuilds/ (scripts/check-addon.js compares its
# results with the JS fallback's on every kernel set):
#   linux-x64 glibc         loaded by this node
#   linux-arm64 glibc, musl loaded by an official arm64 Node 20 under qemu-user (Debian's qemu-user);
#                           the musl build names no libc, so a glibc node can load it
#   linux-x64 musl          no musl Node exists on this host: scripts/napi-host.c, built with musl-gcc
#                           and run by musl's dynamic loader, loads it through a minimal N-API and
#                           checks its results; its ELF must name musl's libc only
# Needs dist/ (npm run build).
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/need-pkg.sh
need_pkg qemu-aarch64 qemu-user
need_pkg readelf binutils
need_pkg musl-gcc musl-tools

node scripts/check-addon.js prebuilds/linux-x64/weft.glibc.node

arm_node=$(bash scripts/with-node.sh --arch arm64 20)
# The arm64 node binary is linked against glibc, libstdc++ and libgcc_s: qemu finds them in Debian's
# arm64 sysroot, /usr/aarch64-linux-gnu (libc6-, libstdc++6- and libgcc-s1-arm64-cross; a bare
# libc6-arm64-cross, or gcc-aarch64-linux-gnu without g++, leaves node unable to start).
need_pkg /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 libc6-arm64-cross
need_pkg /usr/aarch64-linux-gnu/lib/libgcc_s.so.1 libgcc-s1-arm64-cross
need_pkg /usr/aarch64-linux-gnu/lib/libstdc++.so.6 libstdc++6-arm64-cross
for libc in glibc musl; do
  qemu-aarch64 -L /usr/aarch64-linux-gnu "$arm_node" scripts/check-addon.js "prebuilds/linux-arm64/weft.$libc.node"
done

musl=prebuilds/linux-x64/weft.musl.node
needed=$(readelf -d "$musl" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
if [ "$needed" != "libc.so " ] || readelf -V "$musl" | grep -q GLIBC; then
  echo "$musl: expected to need musl's libc.so only, found: $needed" >&2
  exit 1
fi
host_dir=$(mktemp -d)
trap 'rm -rf "$host_dir"' EXIT
# node_api.h: beside this node, else in the official arm64 build fetched above (the same headers).
headers=$(node -p 'require("path").join(process.execPath, "..", "..", "include", "node")')
[ -f "$headers/node_api.h" ] || headers=$(dirname "$(dirname "$arm_node")")/include/node
musl-gcc -O1 -rdynamic -I"$headers" -o "$host_dir/napi-host" scripts/napi-host.c
"$host_dir/napi-host" "$musl"

f=prebuilds/linux-arm64/weft.musl.node
if readelf -d "$f" | grep -q NEEDED || readelf -V "$f" | grep -q GLIBC; then
  echo "$f: expected to name no libc" >&2
  exit 1
fi
echo "$f: names no libc"
