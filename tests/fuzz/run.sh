#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (AddressSanitizer + UBSan) and runs
# each for a short time. usage: run.sh SECONDS [target...]
# Exit 0 if no target crashed, leaked or timed out; the crashing input is
# left in the work dir and its path printed.
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
secs=${1:-30}
shift || true
targets=("${@:-tagger}")
cc=$(command -v clang-14 || command -v clang || true)
[[ -n "$cc" ]] || { echo "fuzz: clang not found (deploy/install-deps.sh installs clang-14)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/newsline-fuzz.XXXXXX")
flags=(-std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
       -D_GNU_SOURCE -DNL_VERSION="\"fuzz\"" -DNL_DATADIR="\"$src\""
       -I"$src/common" -I"$src/tagger")
# shellcheck disable=SC2207
pc=($(pkg-config --cflags --libs rdkafka jansson libhs))
status=0
for t in "${targets[@]}"; do
  case $t in
    tagger) sources=("$src/tests/fuzz/fuzz_tagger.c" "$src"/tagger/watchlist.c "$src"/tagger/tag.c "$src"/tagger/matcher.c
                     "$src"/common/*.c) ;;
    *) echo "fuzz: unknown target $t" >&2; exit 2 ;;
  esac
  "$cc" "${flags[@]}" "${sources[@]}" "${pc[@]}" -lstdc++ -lm -o "$work/fuzz_$t"
  mkdir -p "$work/corpus_$t"
  cp "$src"/corpus/*.txt "$work/corpus_$t/"
  echo "fuzz: $t for $secs s"
  if (cd "$work" && "./fuzz_$t" -max_total_time="$secs" -max_len=65536 -timeout=10 \
        -rss_limit_mb=2048 "corpus_$t" 2>"$work/fuzz_$t.log"); then
    tail -n 2 "$work/fuzz_$t.log"
    echo "fuzz: $t: no crash in $secs s"
  else
    tail -n 40 "$work/fuzz_$t.log"
    echo "fuzz: $t FAILED; inputs and log kept in $work"
    status=1
  fi
done
[[ $status -eq 0 ]] && rm -rf "$work"
echo "$([[ $status -eq 0 ]] && echo 1 || echo 0) passed, $([[ $status -eq 0 ]] && echo 0 || echo 1) failed"
exit $status
