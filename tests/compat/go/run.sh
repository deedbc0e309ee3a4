#!/usr/bin/env bash
# Runs the Go compatibility suite (this directory's `go test`) against Brook and the real Kafka broker:
#   tests/compat/go/run.sh BROOK_SERVER KAFKA_BOOTSTRAP_FILE [go test flags, e.g. -run Sarama -v]
# or downloads the modules and compiles this suite and franz-go's kgo tests (run_kgo_suite.sh), running
# nothing (tools/dev.sh test does this before ctest, so that no test's time limit includes a download):
#   tests/compat/go/run.sh fetch
# KAFKA_BOOTSTRAP_FILE is where tests/client/kafka/kafka_broker.py wrote the broker's address (ctest's
# Kafka fixture); see harness_test.go for what happens when there is none.
# The pinned modules (go.mod, go.sum) come from the Go module proxy once, into Go's module cache
# (GOMODCACHE, ~/go/pkg/mod by default), and compiled packages stay in Go's build cache, so later runs
# download and compile nothing. Exit 77 (CTest's skip) without a recent enough Go, except in CI (CI=true).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
usage="usage: $0 BROOK_SERVER KAFKA_BOOTSTRAP_FILE [go test flags] | $0 fetch"
mode=${1:?$usage}

unavailable() {
  if [ "${CI:-}" = true ]; then
    echo "FAIL: $* (CI=true: the Go compatibility suite must run)"
    exit 1
  fi
  echo "SKIP: $*"
  exit 77
}

command -v go >/dev/null || unavailable "go not found on PATH"
required=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$HERE/go.mod")
have=$(go env GOVERSION | sed 's/^go//')
if [ "$(printf '%s\n%s\n' "$required" "$have" | sort -V | head -n1)" != "$required" ]; then
  unavailable "go $have is older than the go $required go.mod needs"
fi

export GOTOOLCHAIN=local  # never download another toolchain
cd "$HERE"
if [ "$mode" = fetch ]; then
  go mod download
  # -exec true: build the test binaries (their packages stay in Go's build cache), run nothing.
  exec go test -mod=readonly -count=1 -run '^$' -exec true . github.com/twmb/franz-go/pkg/kgo >/dev/null
fi
server=$(realpath "$mode")
bootstrap_file=$(realpath -m "${2:?$usage}")
shift 2
export BROOK_SERVER=$server BROOK_KAFKA_BOOTSTRAP_FILE=$bootstrap_file
# -mod=readonly: exactly the versions go.mod and go.sum pin. -parallel: the scenarios wait on the
# network, not the CPU; all of them run at once, each on both brokers.
exec go test -mod=readonly -count=1 -parallel 64 -timeout 240s "$@" .
