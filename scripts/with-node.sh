#!/usr/bin/env bash
# Runs a command with another Node.js version first on PATH:
#
#   scripts/with-node.sh 18 npm test         # npm test under the newest Node 18
#   scripts/with-node.sh --arch arm64 20     # prints the path of an arm64 Node 20 binary (for qemu)
#
# The binaries are the official Linux builds that the npm registry carries as node-linux-<arch>
# packages; each is fetched once with `npm pack` into $WEFT_NODE_CACHE (default
# ~/.cache/weft-node). npm itself keeps running on the node it was installed with (npm 11 does not
# run on Node 18); the scripts it starts, and everything they spawn, get the chosen node.
set -euo pipefail

arch=x64
if [ "${1:-}" = "--arch" ]; then arch=$2; shift 2; fi
major=${1:?usage: with-node.sh [--arch x64|arm64] <major> [command...]}
shift

cache=${WEFT_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/weft-node}
dir=$cache/node-linux-$arch-$major
if [ ! -x "$dir/bin/node" ]; then
  mkdir -p "$cache"
  tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-$arch@$major" >/dev/null)
  mkdir "$tmp/x"
  tar xzf "$tmp"/node-linux-"$arch"-*.tgz -C "$tmp/x" --strip-components=1
  rm -rf "$dir"
  mv "$tmp/x" "$dir"
  rm -rf "$tmp"
  trap - EXIT
fi

if [ "$#" -eq 0 ]; then
  echo "$dir/bin/node"
  exit 0
fi

# An `npm` first on PATH that runs the npm found now with the node found now.
host_node=$(command -v node)
host_npm=$(node -p 'require("path").join(require("path").dirname(require("fs").realpathSync(process.argv[1])), "npm-cli.js")' "$(command -v npm)")
shims=$cache/shims-$major
mkdir -p "$shims"
printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$host_node" "$host_npm" >"$shims/npm"
printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$host_node" "${host_npm%/npm-cli.js}/npx-cli.js" >"$shims/npx"
chmod +x "$shims/npm" "$shims/npx"
PATH="$dir/bin:$shims:$PATH" exec "$@"
