#!/usr/bin/env bash
# The fetcher in consumer mode fetches many URLs at once: 200 URLs on 20
# loopback hosts (multi_site.py: distinct ports, 200 ms a request) are
# produced to the fetch topic of a mock broker. Checks, from the site's
# log: requests overlapped in time (an overlap count, not a timing bound)
# and every URL was requested exactly once; on the raw topic: one record
# per URL. Half-way through the second half a SIGTERM: the fetcher
# finishes what it started, gives back the rest (offsets not stored),
# exits 0; after a restart nothing is lost and nothing fetched twice (the
# seen-set covers the records that completed out of order past the stored
# offset). Then a rebalance mid-run (a second fetcher joins): nothing lost.
# usage: fetch_concurrent.sh
# Env: NL_FETCHER overrides the fetcher binary and NL_PHASE1_ONLY=1 stops
# after the first half (to measure an older fetcher on the same site);
# NL_MIN_DELAY_MS sets fetcher.min_delay_ms (default 500).
source "$(dirname "$0")/lib.sh"
hosts=20
per_host=10
delay=0.2
fetcher=${NL_FETCHER:-$NL_BIN/newsline-fetcher}

nl_isolate
nl_broker mock
python3 "$NL_SRC/tests/e2e/multi_site.py" $hosts $delay 280 >"$NL_WORK/ports" 2>"$NL_WORK/site.log" &
NL_PIDS+=("$!")
nl_wait_for 30 test -s "$NL_WORK/ports" || die "site did not start"
read -r -a ports <"$NL_WORK/ports"

export NEWSLINE_FETCHER_ALLOW_PRIVATE=127.0.0.0/8
export NEWSLINE_FETCHER_MIN_DELAY_MS=${NL_MIN_DELAY_MS:-500}
export NEWSLINE_FETCHER_STATE_DIR="$NL_WORK/state"
# urls HALF: the URLs of one half (5 per host), host-interleaved
urls() {
  local i p
  for ((i = $1 * per_host / 2; i < ($1 + 1) * per_host / 2; i++)); do
    for p in "${ports[@]}"; do echo "http://127.0.0.1:$p/a/$i"; done
  done
}
reqs() { grep -c '^req ' "$NL_WORK/site.log"; }
start_fetcher() {
  "$fetcher" >>"$NL_WORK/fetcher.out" 2>>"$NL_WORK/fetcher.log" &
  NL_PID_fetcher=$!
  NL_PIDS+=("$NL_PID_fetcher")
}

# First half: measured.
mapfile -t first < <(urls 0)
"$NL_BIN/newsline" fetch "${first[@]}" 2>>"$NL_WORK/cli.log" || die "cannot produce fetch records"
start_fetcher
nl_wait_for 180 bash -c "[ \$(grep -c '^req ' '$NL_WORK/site.log') -ge ${#first[@]} ]" ||
  die "first half not fetched within 180 s ($(reqs) requests)"
python3 - "$NL_WORK/site.log" >"$NL_WORK/phase1.txt" <<'PY'
import sys
iv = [tuple(float(f.split("=")[1]) for f in l.split()[3:5]) for l in open(sys.argv[1]) if l.startswith("req ")]
ev = sorted([(s, 1) for s, e in iv] + [(e, -1) for s, e in iv])
cur = peak = 0
for t, d in ev:
    cur += d
    peak = max(peak, cur)
overlapped = sum(1 for i, (s, e) in enumerate(iv)
                 if any(s2 < e and s < e2 for j, (s2, e2) in enumerate(iv) if j != i))
span = max(e for s, e in iv) - min(s for s, e in iv)
print("%d %d %d %.2f %.1f" % (len(iv), peak, overlapped, span, len(iv) / span))
PY
read -r n1 peak overlapped span rate <"$NL_WORK/phase1.txt"
echo "# first half: $n1 URLs in $span s = $rate URLs/s; at most $peak requests at once; $overlapped overlapped another"
check "several transfers in flight: at most $peak at once (>= 4), $overlapped of $n1 requests overlapped another" \
  test "$peak" -ge 4 -a "$overlapped" -ge $((n1 / 2))
if [[ "${NL_PHASE1_ONLY:-0}" == 1 ]]; then
  nl_stop fetcher
  nl_summary
  exit
fi

# Second half, then SIGTERM while it is being fetched.
mapfile -t second < <(urls 1)
"$NL_BIN/newsline" fetch "${second[@]}" 2>>"$NL_WORK/cli.log" || die "cannot produce fetch records"
nl_wait_for 60 bash -c "[ \$(grep -c '^req ' '$NL_WORK/site.log') -ge $((n1 + 10)) ]" ||
  die "second half not started"
at_term=$(reqs)
nl_stop fetcher
rc=$?
check "SIGTERM mid-run ($at_term of 200 requested): the fetcher exits 0 (got $rc)" test $rc -eq 0
check "SIGTERM came mid-run" test "$at_term" -lt 200
grep 'event=stopped' "$NL_WORK/fetcher.log" | tail -1 | sed 's/^/# /'
check "records not started were given back (abandoned > 0)" \
  bash -c "grep 'event=stopped' '$NL_WORK/fetcher.log' | tail -1 | grep -q 'abandoned=[1-9]'"

start_fetcher
nl_wait_for 180 bash -c "[ \$(grep '^req ' '$NL_WORK/site.log' | awk '{print \$2, \$3}' | sort -u | wc -l) -ge 200 ]" ||
  not_ok "all 200 URLs requested within 180 s after the restart"
"$NL_BIN/newsline" tail --count 200 --idle-ms 15000 "$NEWSLINE_TOPICS_RAW" >"$NL_WORK/raw.ndjson" \
  2>>"$NL_WORK/cli.log"
# a grace period for any late duplicate, then read everything again
sleep 3
"$NL_BIN/newsline" tail --count 100000 --idle-ms 5000 "$NEWSLINE_TOPICS_RAW" >"$NL_WORK/raw.ndjson" \
  2>>"$NL_WORK/cli.log"
check "every URL requested exactly once over both runs" python3 - "$NL_WORK/site.log" <<'PY'
import collections, sys
c = collections.Counter(tuple(l.split()[1:3]) for l in open(sys.argv[1]) if l.startswith("req "))
twice = [k for k, n in c.items() if n > 1]
print("# distinct URLs requested: %d, requested more than once: %d" % (len(c), len(twice)))
sys.exit(0 if len(c) == 200 and not twice else 1)
PY
check "the raw topic holds one record per URL: 200 distinct ids, no duplicate" python3 - "$NL_WORK/raw.ndjson" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
ids = {r["id"] for r in recs}
urls = {r["url"] for r in recs}
print("# raw records: %d, distinct ids: %d, distinct URLs: %d" % (len(recs), len(ids), len(urls)))
assert all(r["schema"] == "newsline.raw/1" and r["http_status"] == 200 for r in recs)
sys.exit(0 if len(ids) == len(urls) == 200 and len(recs) == 200 else 1)
PY

# A rebalance mid-run: 100 more URLs, and a second fetcher (its own state
# dir) joins while they are being fetched. The revoked partitions' pending
# records are finished or abandoned (never stored): every URL still ends
# up on the raw topic; a URL may be fetched twice (at least once is the
# contract), so ids are counted distinct.
"$NL_BIN/newsline" fetch $(for i in 0 1 2 3 4; do for p in "${ports[@]}"; do echo "http://127.0.0.1:$p/b/$i"; done; done) \
  2>>"$NL_WORK/cli.log" || die "cannot produce fetch records"
nl_wait_for 60 bash -c "[ \$(grep -c '^req .*path=/b/' '$NL_WORK/site.log') -ge 10 ]" || die "third batch not started"
NEWSLINE_FETCHER_STATE_DIR="$NL_WORK/state2" "$fetcher" >>"$NL_WORK/fetcher2.out" 2>>"$NL_WORK/fetcher2.log" &
NL_PID_fetcher2=$!
NL_PIDS+=("$NL_PID_fetcher2")
nl_wait_for 120 bash -c "[ \$(grep '^req .*path=/b/' '$NL_WORK/site.log' | awk '{print \$2, \$3}' | sort -u | wc -l) -ge 100 ]" ||
  not_ok "all 100 URLs of the third batch requested within 120 s"
nl_wait_for 60 grep -q 'event=assigned' "$NL_WORK/fetcher2.log"
"$NL_BIN/newsline" tail --count 100000 --idle-ms 8000 "$NEWSLINE_TOPICS_RAW" >"$NL_WORK/raw3.ndjson" \
  2>>"$NL_WORK/cli.log"
check "rebalance: the second fetcher got partitions, the first gave some up" \
  bash -c "grep -q 'event=assigned' '$NL_WORK/fetcher2.log' && grep -q 'event=revoked' '$NL_WORK/fetcher.log'"
check "rebalance: all 300 URLs on the raw topic (distinct ids)" python3 - "$NL_WORK/raw3.ndjson" "$NL_WORK/site.log" <<'PY'
import collections, json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
ids = {r["id"] for r in recs}
c = collections.Counter(tuple(l.split()[1:3]) for l in open(sys.argv[2]) if l.startswith("req "))
print("# raw records: %d, distinct ids: %d; URLs requested twice: %d" %
      (len(recs), len(ids), sum(1 for n in c.values() if n > 1)))
sys.exit(0 if len(ids) == len({r["url"] for r in recs}) == 300 else 1)
PY
grep -h 'event=revoke_abandoned' "$NL_WORK"/fetcher*.log | sed 's/^/# /'
nl_stop fetcher
check "newsline-fetcher exits 0 on SIGTERM" test $? -eq 0
nl_stop fetcher2
check "the second newsline-fetcher exits 0 on SIGTERM" test $? -eq 0
check "no error logged" bash -c "! grep -h 'level=error' '$NL_WORK'/fetcher*.log"
nl_summary
