#!/usr/bin/env bash
# The fetcher daemon's metrics endpoint (metrics.listen), on a mock broker:
# the poller thread polls the loopback seed site (seed_site.py) with four
# sources: an RSS feed (seeds 0 and 1), a URL list (seed 4) whose name is
# hostile (quotes, a backslash, a newline, UTF-8), a feed that is 404 and
# one that is not XML. /metrics (port 0: the port is read from the log) is
# scraped until the three articles are fetched and every source has been
# polled (bounded wait), then parsed as the text format and checked: the
# good sources have a last-success time and 0 consecutive failures; the
# 404 one has >= 1 and last_error_info code "http_404", the broken one
# "parse_failed"; per-source polls and new items; fetch counts by kind and
# code equal to what the site's log says was requested; nothing in flight.
# A URL requested again is a seen-set skip, counted. /other is 404, POST
# 405. A second fetcher on the same port exits 2 naming metrics.listen, so
# does a bad value. Without metrics.listen the daemon listens on nothing.
# No timing assertions.
# usage: fetch_metrics.sh
source "$(dirname "$0")/lib.sh"

nl_isolate
nl_broker mock
python3 "$NL_SRC/tests/e2e/seed_site.py" "$NL_SRC/corpus" 280 >"$NL_WORK/port" 2>"$NL_WORK/site.log" &
NL_PIDS+=("$!")
nl_wait_for 30 test -s "$NL_WORK/port" || die "site did not start"
base="http://127.0.0.1:$(cat "$NL_WORK/port")"

# Polled once in the test's time (600 s), failed sources back off further.
cat >"$NL_WORK/sources.json" <<JSON
{"defaults": {"delay_ms": 0, "poll_interval_s": 600, "min_poll_interval_s": 60,
              "max_poll_interval_s": 3600},
 "sources": [
  {"name": "rss", "kind": "rss", "url": "$base/feeds/rss.xml"},
  {"name": "li\"st\\\\ 東京\nx", "kind": "urls", "urls": ["$base/articles/8e432c11f5411c7c.html"]},
  {"name": "missing", "kind": "rss", "url": "$base/feeds/missing.xml"},
  {"name": "broken", "kind": "rss", "url": "$base/feeds/broken.xml"}
 ]}
JSON
export NEWSLINE_FETCHER_ALLOW_PRIVATE=127.0.0.0/8
export NEWSLINE_FETCHER_MIN_DELAY_MS=0
export NEWSLINE_FETCHER_SOURCES="$NL_WORK/sources.json"

nl_start fetcher --set metrics.listen=127.0.0.1:0
nl_wait_for 60 grep -q 'event=metrics_listening' "$NL_WORK/fetcher.log" ||
  die "no metrics_listening line within 60 s"
mport=$(grep -o 'event=metrics_listening.* port=[0-9]*' "$NL_WORK/fetcher.log" | head -1 |
  sed 's/.*port=//')
murl="http://127.0.0.1:$mport/metrics"
echo "# metrics on $murl"

scrape() { curl -sS --max-time 5 "$murl" >"$NL_WORK/metrics.txt.tmp" && mv "$NL_WORK/metrics.txt.tmp" "$NL_WORK/metrics.txt"; }
# metric NAME LABELS: the value of one series in the last scrape (exact
# label text as rendered), or nothing.
# (ENVIRON, not -v: awk would read the backslashes in the label text.)
metric() { K="$1$2 " awk 'index($0, ENVIRON["K"]) == 1 {print $NF; exit}' "$NL_WORK/metrics.txt"; }
ready() {
  scrape || return 1
  [[ "$(metric newsline_fetcher_fetches_total '{kind="article",code="ok"}')" == 3 ]] &&
    [[ $(grep -c '^newsline_fetcher_source_polls_total{.*} 1$' "$NL_WORK/metrics.txt") -eq 4 ]]
}
nl_wait_for 120 ready ||
  die "metrics not complete within 120 s; last scrape: $(tr '\n' '|' <"$NL_WORK/metrics.txt" 2>/dev/null)"
sed 's/^/# | /' "$NL_WORK/metrics.txt"

check "the page parses as the text format; every family has HELP and TYPE; label values escaped" \
  python3 - "$NL_WORK/metrics.txt" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
assert text.endswith("\n")
typed, helped, names = {}, set(), []
series = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (\S+)$')
for line in text.splitlines():
    if line.startswith("# HELP "):
        helped.add(line.split()[2])
    elif line.startswith("# TYPE "):
        _, _, n, t = line.split(" ")
        assert t in ("counter", "gauge"), line
        typed[n] = t
    else:
        m = series.match(line)
        assert m, "not a sample line: %r" % line
        assert m.group(1) in typed and m.group(1) in helped, line
        float(m.group(3))
        names.append(m.group(1))
hostile = 'source="li\\"st\\\\ 東京\\nx"'
assert hostile in text, "hostile source name not escaped as expected"
for n, t in typed.items():
    assert (t == "counter") == n.endswith("_total"), n
print("# %d families, %d series" % (len(typed), len(names)))
PY

g() { metric "$@"; }
for s in rss 'li\"st\\ 東京\nx'; do
  ts=$(g newsline_fetcher_source_last_success_timestamp_seconds "{source=\"$s\"}")
  check "source $s: a last-success timestamp ($ts)" python3 -c "import sys; sys.exit(0 if float('$ts') > 1e9 else 1)"
  check "source $s: 0 consecutive failures" test "$(g newsline_fetcher_source_consecutive_failures "{source=\"$s\"}")" == 0
  check "source $s: one poll, ok" test "$(g newsline_fetcher_source_polls_total "{source=\"$s\",result=\"ok\"}")" == 1
done
check "rss: two new items, the list one" test "$(g newsline_fetcher_source_items_new_total '{source="rss"}') $(g newsline_fetcher_source_items_new_total '{source="li\"st\\ 東京\nx"}')" == "2 1"
check "rss: no last error" bash -c "! grep -q 'last_error_info{source=\"rss\"' '$NL_WORK/metrics.txt'"
for s in missing broken; do
  check "source $s: never succeeded (0)" test "$(g newsline_fetcher_source_last_success_timestamp_seconds "{source=\"$s\"}")" == 0
  check "source $s: consecutive failures >= 1" test "$(g newsline_fetcher_source_consecutive_failures "{source=\"$s\"}")" -ge 1
  check "source $s: a failed poll" test "$(g newsline_fetcher_source_polls_total "{source=\"$s\",result=\"failed\"}")" -ge 1
done
check "missing: last error code http_404" test "$(g newsline_fetcher_source_last_error_info '{source="missing",code="http_404"}')" == 1
check "broken: last error code parse_failed" test "$(g newsline_fetcher_source_last_error_info '{source="broken",code="parse_failed"}')" == 1
check "one last_error_info series per failing source" test "$(grep -c '^newsline_fetcher_source_last_error_info{' "$NL_WORK/metrics.txt")" -eq 2

# What the site served, against the fetch counters (robots.txt is the
# engine's own fetch, not a request: not counted).
site_count() { grep -c "path=$1" "$NL_WORK/site.log"; }
check "article fetches ok = article pages the site served ($(site_count /articles/))" \
  test "$(g newsline_fetcher_fetches_total '{kind="article",code="ok"}')" -eq "$(site_count /articles/)"
check "feed fetches: 404 count = requests for the missing feed ($(site_count /feeds/missing.xml))" \
  test "$(g newsline_fetcher_fetches_total '{kind="feed",code="http_404"}')" -eq "$(site_count /feeds/missing.xml)"
check "feed fetches ok (rss and the unparseable one) = their requests" \
  test "$(g newsline_fetcher_fetches_total '{kind="feed",code="ok"}')" -eq "$(($(site_count /feeds/rss.xml) + $(site_count /feeds/broken.xml)))"
check "fetches in all = requests the site saw but robots.txt" \
  test "$(awk '/^newsline_fetcher_fetches_total/ {n += $NF} END {print n}' "$NL_WORK/metrics.txt")" -eq \
  "$(($(grep -c '^req ' "$NL_WORK/site.log") - $(site_count /robots.txt)))"
check "nothing in flight once done" test "$(g newsline_fetcher_transfers_in_flight '')" == 0
check "no seen-set skip yet" test "$(g newsline_fetcher_seen_skips_total '')" == 0

# The three raw records are out (acknowledged: their URLs are in the
# seen-set); one of them requested again is skipped, and counted.
"$NL_BIN/newsline" tail --count 3 --idle-ms 15000 "$NEWSLINE_TOPICS_RAW" >"$NL_WORK/raw.ndjson" 2>>"$NL_WORK/cli.log"
check "three raw records" test "$(wc -l <"$NL_WORK/raw.ndjson")" -eq 3
"$NL_BIN/newsline" fetch "$base/articles/8e432c11f5411c7c.html" 2>>"$NL_WORK/cli.log" ||
  not_ok "newsline fetch"
skipped() { scrape && [[ "$(metric newsline_fetcher_seen_skips_total '')" == 1 ]]; }
check "a URL requested again: newsline_fetcher_seen_skips_total 1" nl_wait_for 60 skipped
check "... and not fetched again" test "$(g newsline_fetcher_fetches_total '{kind="article",code="ok"}')" == 3

code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@"; }
check "GET /other: 404" test "$(code "http://127.0.0.1:$mport/other")" == 404
check "GET /: 404" test "$(code "http://127.0.0.1:$mport/")" == 404
check "POST /metrics: 405" test "$(code -X POST -d x "$murl")" == 405
check "content type is the text format 0.0.4" \
  bash -c "curl -sS -D - -o /dev/null --max-time 5 '$murl' | grep -qi '^content-type: text/plain; version=0.0.4'"

# Start-up errors: one line naming the key, exit 2, before any Kafka.
"$NL_BIN/newsline-fetcher" --set "metrics.listen=127.0.0.1:$mport" >/dev/null 2>"$NL_WORK/inuse.err"
rc=$?
check "metrics.listen on a port in use: exit 2 ($rc)" test $rc -eq 2
check "... one line naming metrics.listen and the address" \
  bash -c "test \$(wc -l <'$NL_WORK/inuse.err') -eq 1 && grep -q 'metrics.listen: 127.0.0.1:$mport: Address already in use' '$NL_WORK/inuse.err'"
for bad in nonsense 127.0.0.1:99999 :9464; do
  "$NL_BIN/newsline-fetcher" --set "metrics.listen=$bad" >/dev/null 2>"$NL_WORK/bad.err"
  rc=$?
  check "metrics.listen=$bad: exit 2 ($rc), one line naming the key" \
    bash -c "test $rc -eq 2 && test \$(wc -l <'$NL_WORK/bad.err') -eq 1 && grep -q 'metrics.listen' '$NL_WORK/bad.err'"
done

# listening PID: the TCP sockets of PID in LISTEN state (from /proc).
listening() {
  local pid=$1 inodes
  inodes=$(find "/proc/$pid/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null | tr -dc '0-9\n')
  [[ -n "$inodes" ]] || return 0
  awk 'NR > 1 && $4 == "0A" {print $10}' /proc/net/tcp /proc/net/tcp6 | grep -Fxf <(echo "$inodes")
}
check "metrics.listen set: the daemon has a listening socket (seen from /proc)" \
  test -n "$(listening "$NL_PID_fetcher")"
check "SIGTERM: exit 0" nl_stop fetcher
check "the port is closed after exit" bash -c "! curl -s --max-time 2 -o /dev/null '$murl'"

# Without metrics.listen: no listening socket in the daemon.
NEWSLINE_FETCHER_STATE_DIR="$NL_WORK/state2" "$NL_BIN/newsline-fetcher" >>"$NL_WORK/fetcher2.out" 2>>"$NL_WORK/fetcher2.log" &
NL_PID_fetcher2=$!
NL_PIDS+=("$NL_PID_fetcher2")
nl_wait_for 60 grep -q 'event=source_polled' "$NL_WORK/fetcher2.log" ||
  not_ok "second fetcher: its poller ran within 60 s"
check "metrics.listen unset: no metrics_listening line" bash -c "! grep -q metrics_listening '$NL_WORK/fetcher2.log'"
check "metrics.listen unset: the daemon listens on no TCP port" test -z "$(listening "$NL_PID_fetcher2")"
check "second fetcher: SIGTERM exit 0" nl_stop fetcher2

nl_summary
