#!/usr/bin/env bash
# Runs the Node.js side-by-side compatibility suite (every scenario in one node process):
#   tests/compat/node/run.sh BROOK_SERVER KAFKA_BOOTSTRAP_FILE WORK_DIR
# or only installs the clients (tools/dev.sh test does this before ctest):
#   tests/compat/node/run.sh fetch
# The clients are those package-lock.json pins, installed once by `npm ci --prefer-offline` into a
# directory keyed by the lock file and node's ABI (~/.cache/brook/node-compat-<key>/; npm's own cache,
# ~/.npm, keeps the tarballs). @confluentinc/kafka-javascript's install script first tries to download a
# prebuilt binding and then builds it from source: its bundled librdkafka, linked dynamically
# (CKJS_LINKING=dynamic) against Debian's zlib, OpenSSL, zstd and lz4, since its static build would
# download those libraries' sources. The scenario files are copied to WORK_DIR next to a node_modules
# link, as ES modules resolve packages from where the importing file lies.
# Exit 77 (CTest's skip) without node or npm or the Kafka broker, except in CI, where that fails.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
usage="usage: $0 BROOK_SERVER KAFKA_BOOTSTRAP_FILE WORK_DIR | $0 fetch"
mode=${1:?$usage}

unavailable() {
  if [ "${CI:-}" = true ]; then echo "FAIL: $*" >&2; exit 1; fi
  echo "SKIP: $*"
  exit 77
}

# Sets $modules to the installed clients' directory, installing them first if needed.
install_clients() {
  local abi key started nodedir=()
  abi=$(node -p 'process.versions.modules + "-" + process.arch')
  key=$(cat "$HERE/package-lock.json" - <<<"$abi" | sha256sum | cut -c1-12)
  modules="${XDG_CACHE_HOME:-$HOME/.cache}/brook/node-compat-$key"
  [ -f "$modules/.complete" ] && return 0
  mkdir -p "$(dirname "$modules")"
  # One install at a time; the directory is complete or absent.
  exec 9>"$modules.lock"
  flock 9
  if [ ! -f "$modules/.complete" ]; then
    rm -rf "$modules" "$modules.tmp"
    mkdir -p "$modules.tmp"
    cp "$HERE/package.json" "$HERE/package-lock.json" "$modules.tmp/"
    echo "installing the Node.js clients into $modules (once for this package-lock.json)"
    started=$SECONDS
    # The binding's headers: the installed node ships them, so node-gyp needs no download.
    [ -f /usr/include/node/node_version.h ] && nodedir=(--nodedir=/usr)
    (cd "$modules.tmp" && CKJS_LINKING=dynamic nice npm ci --prefer-offline --no-audit --no-fund \
       --loglevel=error "${nodedir[@]}" >install.log 2>&1) || {
      tail -n 60 "$modules.tmp/install.log" >&2
      exit 1
    }
    touch "$modules.tmp/.complete"
    mv "$modules.tmp" "$modules"
    echo "installed in $((SECONDS - started))s"
  fi
  exec 9>&-
}

if [ "$mode" = fetch ]; then
  if command -v node >/dev/null && command -v npm >/dev/null; then install_clients; fi
  exit 0
fi

export BROOK_SERVER=$(realpath "${1:?$usage}")
export BROOK_KAFKA_BOOTSTRAP_FILE=$(realpath -m "${2:?$usage}")
work=$(realpath -m "${3:?$usage}")

if [ ! -f "$BROOK_KAFKA_BOOTSTRAP_FILE" ]; then
  unavailable "no Kafka broker ($(cat "$BROOK_KAFKA_BOOTSTRAP_FILE.unavailable" 2>/dev/null || echo "its fixture did not run"))"
fi
for tool in node npm; do
  command -v "$tool" >/dev/null || unavailable "$tool not found"
done
install_clients

rm -rf "$work"
mkdir -p "$work"
cp "$HERE"/*.mjs "$work/"
ln -s "$modules/node_modules" "$work/node_modules"
cd "$work"
exec node --test-reporter=spec suite.mjs
