#!/usr/bin/env bash
# The fetch benchmark: N pages (default 10,000, distinct URLs) from a
# loopback server (bench-httpd, PAGE bytes each), politeness off, fetched by
# bench-fetch (the engine) at IN_FLIGHT transfers and by `curl --parallel`
# on the same URL list, in the same run. Prints pages/s, peak RSS and CPU
# time (user + system, /usr/bin/time -v) of each: on a shared machine the
# CPU time per page moves less between runs than the wall time.
#   bench/fetch.sh [BUILD_DIR] [N] [IN_FLIGHT] [PAGE]
set -euo pipefail
BUILD=${1:-build}
N=${2:-10000}
IN_FLIGHT=${3:-1000}
PAGE=${4:-10000}
work=$(mktemp -d "${TMPDIR:-/tmp}/newsline-bench-fetch.XXXXXX")
pid=
cleanup() {
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

"$BUILD/bin/bench-httpd" "$PAGE" 600 >"$work/port" &
pid=$!
for _ in $(seq 50); do [[ -s "$work/port" ]] && break; sleep 0.1; done
[[ -s "$work/port" ]] || { echo "bench-httpd did not start" >&2; exit 1; }
port=$(cat "$work/port")
seq 0 $((N - 1)) | sed "s|^|http://127.0.0.1:$port/p/|" >"$work/urls"
sed 's|.*|url = "&"\noutput = "/dev/null"|' "$work/urls" >"$work/curl.cfg"

rss() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1"; }
cpu() { # user + system seconds
  awk -F': ' '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$1"
}

echo "# $N pages of $PAGE bytes from 127.0.0.1:$port; $(nproc) cores; $(curl --version | head -1)"
/usr/bin/time -v "$BUILD/bin/bench-fetch" "$work/urls" "$IN_FLIGHT" >"$work/nl.out" 2>"$work/nl.time"
nl_pps=$(sed -n 's/.*pages_per_s=\([0-9]*\).*/\1/p' "$work/nl.out")
echo "newsline engine, $IN_FLIGHT in flight: $(cat "$work/nl.out"); peak RSS $(rss "$work/nl.time") KiB; cpu_s=$(cpu "$work/nl.time")"

# curl caps --parallel-max at 300 (7.88: PARALLEL_MAX); ask for IN_FLIGHT anyway.
t0=$(date +%s.%N)
/usr/bin/time -v curl -s --parallel --parallel-immediate --parallel-max "$IN_FLIGHT" \
  -K "$work/curl.cfg" -w '%{http_code}\n' >"$work/curl.codes" 2>"$work/curl.time"
t1=$(date +%s.%N)
ok=$(grep -c '^200$' "$work/curl.codes" || true)
curl_pps=$(python3 -c "print(round($ok / ($t1 - $t0)))")
echo "curl --parallel --parallel-max $IN_FLIGHT: ok=$ok seconds=$(python3 -c "print(round($t1 - $t0, 3))") pages_per_s=$curl_pps; peak RSS $(rss "$work/curl.time") KiB; cpu_s=$(cpu "$work/curl.time")"
python3 -c "print('ratio newsline/curl: %.2f (pages/s), %.2f (pages per CPU second)' % ($nl_pps / $curl_pps, $(cpu "$work/curl.time") / $(cpu "$work/nl.time")))"
