#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what it needs (Debian
# packages, Java and the Kafka jars from Maven Central), builds a Release
# and an ASan+UBSan tree, checks formatting, and runs every test through
# ctest in both trees, real Apache Kafka included (started and stopped by
# ctest fixtures).
#   tests/run.sh            everything
#   tests/run.sh -R mock    pass extra arguments to ctest
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/install-deps.sh
deploy/kafka.sh fetch >&2

jobs=$(nproc)
for cfg in Release:build Asan:build-asan; do
  type=${cfg%%:*} dir=${cfg##*:}
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" >/dev/null
  cmake --build "$dir" -j"$jobs" >/dev/null
done

echo "== clang-format"
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
# shellcheck disable=SC2086
clang-format --dry-run -Werror $files

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
for dir in build build-asan; do
  echo "== ctest ($dir)"
  ctest --test-dir "$dir" --output-on-failure --timeout 600 "$@" || status=1
done
exit $status
