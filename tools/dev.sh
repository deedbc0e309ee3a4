#!/usr/bin/env bash
# Brook's two set-up commands for a Debian 12 machine (run as root, or as a user with sudo):
#   tools/dev.sh start   install what is missing, build, start brook-server on localhost:9092 (data in ./data)
#   tools/dev.sh test    install what is missing (including kcat and the Python clients), build, run every test
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}

BUILD_PACKAGES=(build-essential cmake ninja-build pkg-config python3
  libboost1.81-dev libboost-json1.81-dev librocksdb-dev libfmt-dev libspdlog-dev
  zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev libssl-dev libre2-dev)
TEST_PACKAGES=(catch2 kcat python3-confluent-kafka python3-kafka librdkafka-dev procps)

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

build() {
  # Debian's python3 is the one that sees the Debian client packages the tests use.
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPython3_EXECUTABLE=/usr/bin/python3 "$@"
  cmake --build "$BUILD_DIR" -j"$(nproc)"
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
    build -DBROOK_BUILD_TESTS=ON
    ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)"
    ;;
  *)
    echo "usage: $0 start [--override key=value ...] | test" >&2
    exit 2
    ;;
esac
