#!/usr/bin/env bash
# Runs one language fixture's own test suite against a brook-server binary:
#   testing/run_tests.sh python|java|go BROOK_SERVER_PATH [WORK_DIR]
# or downloads what all three need, without running anything (tools/dev.sh test does this before
# ctest, one download at a time, so that parallel tests never fill the same cache at once):
#   testing/run_tests.sh fetch
# What each needs is downloaded once and cached: a venv under ~/.cache/brook/ (pytest and
# confluent-kafka, pinned below, plus the plugin installed editable), Maven's ~/.m2, Go's module
# cache. WORK_DIR (default: a temporary directory) takes Maven's build output.
# Exit 77 (CTest's skip) when the language's toolchain is missing.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
lang=${1:?usage: $0 python|java|go BROOK_SERVER [WORK_DIR] | $0 fetch}

PYTEST_VERSION=9.2.0
CONFLUENT_KAFKA_VERSION=2.16.2
SETUPTOOLS_VERSION=84.2.1  # builds the plugin's editable install

skip() {
  echo "SKIP: $*"
  exit 77
}

python_venv() {
  # A venv per checkout (the plugin is installed editable from it) and per pinned set.
  local py_version key
  py_version=$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  key=$(printf '%s\n' "$HERE/python" "$PYTEST_VERSION" "$CONFLUENT_KAFKA_VERSION" "$SETUPTOOLS_VERSION" | cat - "$HERE/python/pyproject.toml" | sha256sum | cut -c1-12)
  venv="${XDG_CACHE_HOME:-$HOME/.cache}/brook/venv-py$py_version-brook-pytest-$key"
  if ! "$venv/bin/python" -c "import pytest, confluent_kafka, brook_pytest" 2>/dev/null; then
    rm -rf "$venv"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      "pytest==$PYTEST_VERSION" "confluent-kafka==$CONFLUENT_KAFKA_VERSION" "setuptools==$SETUPTOOLS_VERSION"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
      -e "$HERE/python"
  fi
}

if [ "$lang" = fetch ]; then
  python_venv
  if command -v mvn >/dev/null; then
    # The test runner resolves its JUnit provider only when it runs: run it once, selecting no test.
    scratch=$(mktemp -d)
    mvn -B -ntp -q -f "$HERE/java/pom.xml" -Dbrook.build.dir="$scratch/java" \
      -Dtest=NoTestIsNamedSo -Dsurefire.failIfNoSpecifiedTests=false test
    rm -rf "$scratch"
  fi
  if command -v go >/dev/null; then (cd "$HERE/go" && go mod download && go test -count=1 -run '^$' ./... >/dev/null); fi
  exit 0
fi
server=$(realpath "${2:?usage: $0 python|java|go BROOK_SERVER [WORK_DIR]}")
work=$(realpath -m "${3:-$(mktemp -d)}")
export BROOK_SERVER=$server

case "$lang" in
  python)
    python_venv
    cd "$HERE/python"
    exec "$venv/bin/python" -m pytest -p no:cacheprovider -q -rs tests
    ;;
  java)
    command -v mvn >/dev/null || skip "mvn not found"
    command -v java >/dev/null || skip "java not found"
    # Pinned releases are fetched once into ~/.m2; later runs find them there.
    exec mvn -B -ntp -f "$HERE/java/pom.xml" -Dbrook.build.dir="$work/java" -Dstyle.color=never test
    ;;
  go)
    command -v go >/dev/null || skip "go not found"
    cd "$HERE/go"
    exec go test -count=1 ./...
    ;;
  *)
    echo "unknown fixture: $lang (python, java or go)" >&2
    exit 2
    ;;
esac
