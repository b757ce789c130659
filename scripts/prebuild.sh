#!/usr/bin/env bash
# `npm run prebuild`: rebuilds every binary under prebuilds/ from native/ (N-API, so one build per
# platform serves every Node version), stripped, then checks each one (scripts/test-prebuilds.sh).
#
#   prebuilds/linux-x64/weft.glibc.node    host gcc
#   prebuilds/linux-x64/weft.musl.node     musl-gcc (Debian's musl-tools) against musl's libc
#   prebuilds/linux-arm64/weft.glibc.node  aarch64-linux-gnu-gcc (Debian's gcc-aarch64-linux-gnu)
#   prebuilds/linux-arm64/weft.musl.node   aarch64-linux-gnu-gcc with -nostdlib: the addon needs
#                                          nothing from libc but memcpy, which the node process
#                                          provides, so this build names no libc and loads on musl
#
# The libc tag keeps node-gyp-build from ever choosing a glibc build on Alpine or a musl build on
# glibc. Needs an x86-64 Debian/Ubuntu host; missing compilers are installed with apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/need-pkg.sh
need_pkg gcc gcc
need_pkg make make
need_pkg musl-gcc musl-tools
need_pkg aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu

# N-API headers are the same for every Node version: build against the running node's.
prebuildify() { npx --no-install prebuildify --napi --strip --tag-libc --target="$(node -p process.version)" "$@"; }
arm64() { # arm64 <libc> [LDFLAGS]
  (
    export CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-gcc AR=aarch64-linux-gnu-ar
    export PREBUILD_LIBC=$1 LDFLAGS=${2:-}
    prebuildify --arch=arm64 --strip-bin=aarch64-linux-gnu-strip
  )
}

rm -rf prebuilds build
PREBUILD_LIBC=glibc prebuildify
PREBUILD_LIBC=musl CC=musl-gcc LINK=musl-gcc prebuildify
arm64 glibc
arm64 musl -nostdlib
# prebuildify leaves build/ empty; a local build for development comes back with `npm run build:native`.
rm -rf build

# What they were built from: test/package/package.test.js fails when native/ changes without a rebuild.
sha256sum binding.gyp native/*.c native/*.h >prebuilds/SOURCES.sha256
ls -l prebuilds/*/
bash scripts/test-prebuilds.sh
