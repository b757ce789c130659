#!/usr/bin/env bash
# `npm run test:prebuilds`: checks each binary under prebuilds/ (scripts/check-addon.js compares its
# results with the JS fallback's on every kernel set):
#   linux-x64 glibc       loaded by this node
#   linux-arm64 glibc+musl loaded by an official arm64 Node 20 under qemu-user (Debian's qemu-user)
#   linux-x64 musl        cannot be loaded here (no musl Node on this host); its ELF is checked to
#                          name musl's libc only and no glibc symbol version
# Needs dist/ (npm run build).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=0
need_pkg() { # need_pkg <command> <debian package>
  if ! command -v "$1" >/dev/null 2>&1; then
    if [ "$apt_updated" -eq 0 ]; then as_root apt-get update; apt_updated=1; fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "$2"
  fi
}
need_pkg qemu-aarch64 qemu-user
need_pkg readelf binutils

node scripts/check-addon.js prebuilds/linux-x64/weft.glibc.node

arm_node=$(bash scripts/with-node.sh --arch arm64 20)
# The arm64 node binary is linked against glibc: qemu finds it in Debian's cross sysroot when
# libc6-arm64-cross is installed (it comes with gcc-aarch64-linux-gnu).
need_pkg aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu
for libc in glibc musl; do
  qemu-aarch64 -L /usr/aarch64-linux-gnu "$arm_node" scripts/check-addon.js "prebuilds/linux-arm64/weft.$libc.node"
done

musl=prebuilds/linux-x64/weft.musl.node
needed=$(readelf -d "$musl" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
if [ "$needed" != "libc.so " ] || readelf -V "$musl" | grep -q GLIBC; then
  echo "$musl: expected to need musl's libc.so only, found: $needed" >&2
  exit 1
fi
echo "$musl: ELF x86-64, needs libc.so only (musl), no glibc symbol versions"
for f in prebuilds/linux-arm64/weft.musl.node; do
  if readelf -d "$f" | grep -q NEEDED || readelf -V "$f" | grep -q GLIBC; then
    echo "$f: expected to name no libc" >&2
    exit 1
  fi
done
echo "prebuilds/linux-arm64/weft.musl.node: names no libc"
