#!/usr/bin/env bash
# Installs Brook's client from the build tree into a scratch prefix, then configures, builds and runs a
# separate CMake project that finds it with find_package(brook) and links brook::client.
#   check_package.sh BUILD_DIR
set -euo pipefail
build_dir=$1
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cmake --install "$build_dir" --prefix "$scratch/prefix" >/dev/null
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$here" -B "$scratch/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$scratch/prefix" \
  "${launcher[@]}" >/dev/null
cmake --build "$scratch/build" >/dev/null
"$scratch/build/package_user"
