#!/usr/bin/env bash
# Runs the Python side-by-side compatibility suite (every scenario in one pytest process):
#   tests/compat/python/run.sh BROOK_SERVER KAFKA_BOOTSTRAP_FILE [PYTEST_ARGUMENT...]
# or only installs the clients (tools/dev.sh test does this before ctest):
#   tests/compat/python/run.sh fetch
# The clients are those requirements.txt pins, installed once into a venv keyed by that file and
# Debian's python version (~/.cache/brook/venv-py<version>-compat-<key>/; pip's cache keeps the wheels).
# Exit 77 (CTest's skip) without the Kafka broker, except in CI, where that fails.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
usage="usage: $0 BROOK_SERVER KAFKA_BOOTSTRAP_FILE [PYTEST_ARGUMENT...] | $0 fetch"
mode=${1:?$usage}

# Sets $venv to the clients' venv, creating it first if needed.
install_clients() {
  local py_version key
  py_version=$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  key=$(sha256sum "$HERE/requirements.txt" | cut -c1-12)
  venv="${XDG_CACHE_HOME:-$HOME/.cache}/brook/venv-py$py_version-compat-$key"
  [ -f "$venv/.complete" ] && return 0
  mkdir -p "$(dirname "$venv")"
  exec 9>"$venv.lock"  # one install at a time
  flock 9
  if [ ! -f "$venv/.complete" ]; then
    rm -rf "$venv"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
    touch "$venv/.complete"
  fi
  exec 9>&-
}

if [ "$mode" = fetch ]; then
  install_clients
  exit 0
fi

export BROOK_SERVER=$(realpath "${1:?$usage}")
export BROOK_KAFKA_BOOTSTRAP_FILE=$(realpath -m "${2:?$usage}")
shift 2  # the rest goes to pytest (e.g. -k NAME)

if [ ! -f "$BROOK_KAFKA_BOOTSTRAP_FILE" ]; then
  reason="no Kafka broker ($(cat "$BROOK_KAFKA_BOOTSTRAP_FILE.unavailable" 2>/dev/null || echo "its fixture did not run"))"
  if [ "${CI:-}" = true ]; then echo "FAIL: $reason" >&2; exit 1; fi
  echo "SKIP: $reason"
  exit 77
fi
install_clients

cd "$HERE"
exec "$venv/bin/python" -m pytest -c "$HERE/pytest.ini" --rootdir "$HERE" "$HERE" "$@"
