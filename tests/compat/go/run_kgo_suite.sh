#!/usr/bin/env bash
# Runs franz-go's own kgo integration tests against a Brook ephemeral server:
#   tests/compat/go/run_kgo_suite.sh BROOK_SERVER [go test flags, e.g. -run TestGroupETL -v]
# The tests are the _test.go files of github.com/twmb/franz-go/pkg/kgo as the Go module proxy serves
# them in the module zip of the version this directory's go.mod pins (the module cache holds them);
# they read their broker from KGO_SEEDS and their settings from KGO_TEST_* variables. README.md lists
# the tests skipped here and why. Exit 77 (CTest's skip) without a recent enough Go, except in CI.
#
# Environment: KGO_TEST_RECORDS (records TestGroupETL produces and chains through three groups;
# default here 20000, franz-go's own default is 500000), KGO_LOG_LEVEL (default here none).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
server=$(realpath "${1:?usage: $0 BROOK_SERVER [go test flags]}")
shift

unavailable() {
  if [ "${CI:-}" = true ]; then
    echo "FAIL: $* (CI=true: the suite must run)"
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

# Tests skipped on Brook, each for the reason README.md gives.
skip=(
  TestConsumeRegex                     # expects the internal topic __consumer_offsets in metadata
  Test848RegexBrokerResolves           # the same
  TestConsumeMaxDecompressBatchBytes   # Brook bounds a batch's decompressed size (README.md)
)
skip_regex="^($(IFS='|'; echo "${skip[*]}"))\$"

# Brook: --exit-on-stdin-eof with its stdin a pipe only this script holds, so it stops when the script
# ends, however it ends. Its first line on stdout is its first listener's address. A second listener,
# OAUTH, serves SASL/OAUTHBEARER with Kafka's unsecured token validator, for TestOAuthAuth; a third,
# SCRAM, serves SCRAM-SHA-256 for TestSCRAMAuth and TestSCRAMAuthBadCredentials, with a user that
# cmd/scramuser creates through AlterUserScramCredentials.
log=$(mktemp "${TMPDIR:-/tmp}/brook-kgo-suite-XXXXXX.log")
trap 'rm -f "$log"' EXIT
oauth_jaas='org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;'
scram_jaas='org.apache.kafka.common.security.scram.ScramLoginModule required;'
coproc BROOK {
  exec "$server" --ephemeral --exit-on-stdin-eof \
    --override listeners=PLAINTEXT://127.0.0.1:0,OAUTH://127.0.0.1:0,SCRAM://127.0.0.1:0 \
    --override listener.security.protocol.map=PLAINTEXT:PLAINTEXT,OAUTH:SASL_PLAINTEXT,SCRAM:SASL_PLAINTEXT \
    --override listener.name.oauth.sasl.enabled.mechanisms=OAUTHBEARER \
    --override "listener.name.oauth.oauthbearer.sasl.jaas.config=$oauth_jaas" \
    --override listener.name.scram.sasl.enabled.mechanisms=SCRAM-SHA-256 \
    --override "listener.name.scram.scram-sha-256.sasl.jaas.config=$scram_jaas" 2>"$log"
}
brook_pid=$BROOK_PID brook_stdin=${BROOK[1]}  # bash unsets both once it has reaped the coprocess
if ! IFS= read -r -t 30 -u "${BROOK[0]}" first || [[ $first != bootstrap.servers=* ]]; then
  echo "brook-server did not announce itself within 30 s:"
  tail -n 50 "$log"
  exit 1
fi
# Every listener is bound, and logged, before the bootstrap line is printed.
oauth_seed=$(sed -n 's|.*listening on OAUTH://\([0-9.]*:[0-9]*\).*|\1|p' "$log")
if [ -z "$oauth_seed" ]; then
  echo "brook-server logged no address for its OAUTH listener:"
  tail -n 50 "$log"
  exit 1
fi

scram_seed=$(sed -n 's|.*listening on SCRAM://\([0-9.]*:[0-9]*\).*|\1|p' "$log")
if [ -z "$scram_seed" ]; then
  echo "brook-server logged no address for its SCRAM listener:"
  tail -n 50 "$log"
  exit 1
fi

export KGO_SEEDS=${first#bootstrap.servers=}
export KGO_TEST_OAUTH_SEEDS=$oauth_seed
export KGO_TEST_SCRAM_SEEDS=$scram_seed
scram_password=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
export KGO_TEST_SCRAM="kgo-scram:$scram_password:256"
export KGO_TEST_RF=1  # one broker
export KGO_TEST_RECORDS=${KGO_TEST_RECORDS:-20000}
export KGO_LOG_LEVEL=${KGO_LOG_LEVEL:-none}
export GOTOOLCHAIN=local
echo "brook-server at $KGO_SEEDS (OAUTHBEARER at $KGO_TEST_OAUTH_SEEDS, SCRAM-SHA-256 at $KGO_TEST_SCRAM_SEEDS); skipping $skip_regex"
cd "$HERE"
GOFLAGS=-mod=readonly go run ./cmd/scramuser -seeds "$KGO_SEEDS" -user kgo-scram -password "$scram_password" \
  -mechanism SCRAM-SHA-256
status=0
# -parallel: the tests wait on the broker and on timers, not the CPU (the default, GOMAXPROCS, runs them
# two at a time on this machine).
go test -mod=readonly -count=1 -parallel 16 -timeout 300s -skip "$skip_regex" "$@" github.com/twmb/franz-go/pkg/kgo || status=$?

# Closing its stdin stops the broker; a non-zero exit of it fails the run.
exec {brook_stdin}>&-
wait "$brook_pid" || { echo "brook-server exited with $?:"; tail -n 50 "$log"; status=1; }
exit $status
