#!/usr/bin/env bash
# Brook's two set-up commands for a Debian 12 machine (run as root, or as a user with sudo):
#   tools/dev.sh start   install what is missing, build, start brook-server on localhost:9092 (data in ./data)
#   tools/dev.sh test    install what is missing (including kcat, the Python clients, and Java 17 and Maven
#                        for the real Kafka broker of the client tests), build, run every test;
#                        and a clang AddressSanitizer/UndefinedBehaviorSanitizer build (build-asan/, built
#                        at low priority while the tests run) that then runs the unit tests and runs each
#                        fuzz target for a bounded time over its seeds.
#                        The test fixtures in testing/ run their suites too (ctest "fixtures: *", through
#                        testing/run_tests.sh): pytest in a cached venv, Maven (~/.m2), and the go
#                        toolchain on PATH when there is one (Debian 12's Go is too old for franz-go).
# Environment for `test`: FUZZ_SECONDS (per fuzz target, default 20), FUZZ_SEED (default 1; 0: random),
# SKIP_SANITIZERS=1 (normal build only).
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}

BUILD_PACKAGES=(build-essential cmake ninja-build pkg-config python3
  libboost1.81-dev libboost-json1.81-dev librocksdb-dev libfmt-dev libspdlog-dev libcli11-dev
  zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev libssl-dev libre2-dev)
TEST_PACKAGES=(catch2 googletest kcat python3-confluent-kafka python3-kafka librdkafka-dev procps iproute2
  python3-venv clang libclang-rt-14-dev llvm ccache openjdk-17-jre-headless openjdk-17-jdk-headless maven openssl)
# A current librdkafka (the PyPI wheel bundles it) next to Debian's 2.0.2, in a cached venv.
CONFLUENT_KAFKA_VERSION=2.16.2
ASAN_BUILD_DIR=${ASAN_BUILD_DIR:-build-asan}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_missing() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

compiler_launcher() {
  if command -v ccache >/dev/null; then echo -DCMAKE_CXX_COMPILER_LAUNCHER=ccache; fi
}
# ccache caches files built with a precompiled header (CMakeLists.txt, BROOK_PCH) only when told that
# the header's macros and timestamps may be trusted.
export CCACHE_SLOPPINESS=${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}

build() {
  # Debian's python3 is the one that sees the Debian client packages the tests use.
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPython3_EXECUTABLE=/usr/bin/python3 \
    -DBROOK_UNITY_BUILD=ON $(compiler_launcher) "$@"
  cmake --build "$BUILD_DIR" -j"$(nproc)"
}

# Prints the python of a venv that has confluent-kafka $CONFLUENT_KAFKA_VERSION (creating it once;
# pip's own cache keeps the download). It sees Debian's packages too (kafka-python).
current_clients_python() {
  local py_version venv
  py_version=$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  venv="${XDG_CACHE_HOME:-$HOME/.cache}/brook/venv-py$py_version-confluent-kafka-$CONFLUENT_KAFKA_VERSION"
  if ! "$venv/bin/python" -c "import confluent_kafka, importlib.metadata as m, sys
sys.exit(m.version('confluent-kafka') != '$CONFLUENT_KAFKA_VERSION')" 2>/dev/null; then
    rm -rf "$venv"
    /usr/bin/python3 -m venv --system-site-packages "$venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "confluent-kafka==$CONFLUENT_KAFKA_VERSION" >&2
  fi
  echo "$venv/bin/python"
}

# Downloads, one after another, what the tests fetch from Maven Central, PyPI and the Go module proxy
# (each into its own cache, kept between runs): tests that run in parallel then only read the caches,
# and no test's time limit includes a download.
fetch_test_dependencies() {
  echo "Fetching test dependencies (cached between runs)"
  if command -v java >/dev/null && command -v mvn >/dev/null; then
    /usr/bin/python3 tests/client/kafka/kafka_broker.py fetch >/dev/null
  fi
  testing/run_tests.sh fetch
  # The side-by-side suites' clients (the Node.js ones build a native binding: minutes, once).
  tests/compat/python/run.sh fetch
  tests/compat/node/run.sh fetch
  if command -v mvn >/dev/null; then /usr/bin/python3 tests/compat/java/run_java_compat.py fetch; fi
  tests/compat/go/run.sh fetch || [ $? -eq 77 ]  # 77: no recent enough Go (outside CI)
}

SANITIZER_FAILED_LOGS=()  # the output of each unit test that failed under the sanitizers
SANITIZED_UNIT_TESTS=(brook_common_tests brook_log_tests brook_broker_tests brook_client_tests brook_embedded_tests)
FUZZERS=()
for f in fuzz/*_fuzz.cpp; do FUZZERS+=("$(basename "$f" .cpp)"); done

# The unit tests and fuzz targets under ASan (LeakSanitizer on) and UBSan, with clang and libFuzzer.
# Any sanitizer report, failed test or fuzz finding makes this fail.
# -fsanitize=function is left out: clang 14 cannot emit it for coroutines ("Cannot represent a
# difference across sections"). -O0: clang compiles this code 2.4x faster than at -O1 (a test batch:
# 29 s against 70 s), which outweighs the slower runs of the unit tests. No static third-party
# libraries: it builds no brook-server, and fmt and spdlog as shared libraries compile faster.
sanitizer_build() {
  local flags="-O0 -gline-tables-only -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize=function -fno-sanitize-recover=undefined"
  CC=clang CXX=clang++ cmake -S . -B "$ASAN_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Sanitize \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DPython3_EXECUTABLE=/usr/bin/python3 -DBROOK_UNITY_BUILD=ON $(compiler_launcher) -DBROOK_BUILD_TESTS=ON \
    -DBROOK_FUZZ=ON -DBROOK_STATIC_THIRD_PARTY=OFF || return 1
  cmake --build "$ASAN_BUILD_DIR" -j"$(nproc)" --target "${SANITIZED_UNIT_TESTS[@]}" "${FUZZERS[@]}" brook_fuzz_seeds
}

sanitizer_tests() {
  local unit_tests=("${SANITIZED_UNIT_TESTS[@]}") fuzzers=("${FUZZERS[@]}")
  # (errexit is off in here: the caller tests this function's status)

  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  local symbolizer
  symbolizer=$(command -v llvm-symbolizer || true)
  [ -n "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH="$symbolizer"

  local passed=0 failed=() t
  for t in "${unit_tests[@]}"; do
    echo "== $t under ASan/UBSan"
    # The output is kept apart (the broker's log makes it long); the end of `test` shows why one failed.
    if "$ASAN_BUILD_DIR/bin/$t" >"$ASAN_BUILD_DIR/$t.log" 2>&1; then
      passed=$((passed + 1))
      grep -E "^All tests passed" "$ASAN_BUILD_DIR/$t.log" || true
    else
      failed+=("$t (log: $ASAN_BUILD_DIR/$t.log)")
      SANITIZER_FAILED_LOGS+=("$ASAN_BUILD_DIR/$t.log")
    fi
  done

  local out="$PWD/$ASAN_BUILD_DIR/fuzz" seeds="$PWD/$ASAN_BUILD_DIR/fuzz-seeds"
  rm -rf "$seeds"
  "$out/brook_fuzz_seeds" tests/common/protocol/frames "$seeds" || return 1
  for t in "${fuzzers[@]}"; do
    echo "== $t for ${FUZZ_SECONDS}s"
    mkdir -p "$out/corpus/$t" "$seeds/$t"
    # New inputs go to the first directory (kept between runs); the seeds, generated and committed
    # (fuzz/corpus/<target without _fuzz>/, including inputs of bugs found before), are only read.
    # A fixed seed keeps a run repeatable; FUZZ_SEED=0 lets libFuzzer pick one.
    local committed=()
    [ -d "fuzz/corpus/${t%_fuzz}" ] && committed=("fuzz/corpus/${t%_fuzz}")
    if "$out/$t" -max_total_time="$FUZZ_SECONDS" -seed="${FUZZ_SEED:-1}" -timeout=10 -rss_limit_mb=2048 \
         -print_final_stats=1 -artifact_prefix="$out/$t-" "$out/corpus/$t" "$seeds/$t" "${committed[@]}" \
         >"$out/$t.log" 2>&1; then
      passed=$((passed + 1))
      grep -E "^#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb" "$out/$t.log" || true
    else
      tail -n 80 "$out/$t.log"
      failed+=("$t (log: $out/$t.log)")
    fi
  done

  local total=$((passed + ${#failed[@]}))
  echo
  if [ ${#failed[@]} -eq 0 ]; then
    echo "100% tests passed, 0 tests failed out of $total (sanitizers: unit tests and fuzz targets)"
  else
    echo "$((100 * passed / total))% tests passed, ${#failed[@]} tests failed out of $total (sanitizers: unit tests and fuzz targets)"
    echo
    echo "The following tests FAILED:"
    for t in "${failed[@]}"; do echo "	$t"; done
    return 1
  fi
}

case "${1:-}" in
  start)
    install_missing "${BUILD_PACKAGES[@]}"
    build -DBROOK_BUILD_TESTS=OFF
    shift
    exec "$BUILD_DIR/bin/brook-server" conf/server.properties "$@"
    ;;
  test)
    install_missing "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
    current_python=$(current_clients_python)  # an assignment, so that a failed install stops here
    # The downloads wait on the network while the compiler works: both at once, the log kept apart.
    mkdir -p "$BUILD_DIR"
    fetch_test_dependencies >"$BUILD_DIR/fetch-test-dependencies.log" 2>&1 &
    fetch_pid=$!
    build -DBROOK_BUILD_TESTS=ON -DBROOK_CURRENT_CLIENTS_PYTHON="$current_python"
    if ! wait "$fetch_pid"; then
      cat "$BUILD_DIR/fetch-test-dependencies.log"
      echo "fetching the test dependencies failed (log above)" >&2
      exit 1
    fi
    status=0
    if [ "${SKIP_SANITIZERS:-0}" != 1 ]; then
      # The sanitizer build runs at the lowest CPU priority while ctest runs, on the CPU time the tests
      # leave idle (they wait on sockets, brokers and timers much of the time); its log is kept apart.
      # The idle I/O class too (where the I/O scheduler has one): its object files do not delay the
      # tests' fsyncs.
      ( renice -n 19 -p "$BASHPID" >/dev/null && { ionice -c 3 -p "$BASHPID" 2>/dev/null || true; } &&
        sanitizer_build ) >"$BUILD_DIR/sanitizer-build.log" 2>&1 &
      sanitizer_build_pid=$!
    fi
    rm -f "$BUILD_DIR/Testing/Temporary/LastTestsFailed.log"
    ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" || status=$?
    if [ "${SKIP_SANITIZERS:-0}" != 1 ]; then
      if wait "$sanitizer_build_pid"; then
        sanitizer_tests || status=1
      else
        tail -n 100 "$BUILD_DIR/sanitizer-build.log"
        echo "the sanitizer build failed (log: $BUILD_DIR/sanitizer-build.log)" >&2
        status=1
      fi
    fi
    # Repeated last, so that the end of a long log names what failed and shows why.
    for log in "${SANITIZER_FAILED_LOGS[@]}"; do
      /usr/bin/python3 tools/failed_test_output.py --log "$log" || true
    done
    failed_log="$BUILD_DIR/Testing/Temporary/LastTestsFailed.log"
    if [ -s "$failed_log" ]; then
      /usr/bin/python3 tools/failed_test_output.py "$BUILD_DIR" || true
      echo
      echo "ctest failures (test number:name):"
      sed 's/^/	/' "$failed_log"
    fi
    exit "$status"
    ;;
  *)
    echo "usage: $0 start [--override key=value ...] | test" >&2
    exit 2
    ;;
esac
