#!/usr/bin/env bash
# The fetcher daemon's own poller thread on real Kafka (not --once): the
# loopback seed site (seed_site.py) is polled by the thread (RSS: seeds 0
# and 1, Atom: 2 and 3, a URL list: 4), which produces each new article URL
# to the fetch topic keyed by its normalised URL; the consumer side of the
# same daemon fetches them. Checks: every seed page requested exactly once
# (from the site's log) across two rounds of polls; five raw records, one
# per seed; the seen-set changelog holds exactly those five ids, each in
# the partition of its fetch record. Then all five URLs are requested again
# through `newsline fetch` (one in another spelling, with a tracking
# parameter): same key, same partition, so the seen-set skips all five and
# the site sees no new request. SIGTERM exits 0.
# No two sources list the same URL here: two fetch records of one URL in
# flight at once are both fetched until the engine dedups in-flight
# requests (work in progress elsewhere); the seen-set covers a URL once its
# first fetch is acknowledged, which the re-request phase checks.
# usage: fetch_poller.sh
source "$(dirname "$0")/lib.sh"

nl_isolate
nl_broker real
python3 "$NL_SRC/tests/e2e/seed_site.py" "$NL_SRC/corpus" 280 >"$NL_WORK/port" 2>"$NL_WORK/site.log" &
NL_PIDS+=("$!")
nl_wait_for 30 test -s "$NL_WORK/port" || die "site did not start"
base="http://127.0.0.1:$(cat "$NL_WORK/port")"

# Polled every 10 s (the floor), so the test sees a second round.
cat >"$NL_WORK/sources.json" <<JSON
{"defaults": {"delay_ms": 0, "poll_interval_s": 10, "min_poll_interval_s": 10,
              "max_poll_interval_s": 60},
 "sources": [
  {"name": "rss", "kind": "rss", "url": "$base/feeds/rss.xml"},
  {"name": "atom", "kind": "atom", "url": "$base/feeds/atom.xml", "deny": ["/tag/"]},
  {"name": "list", "kind": "urls", "urls": ["$base/articles/8e432c11f5411c7c.html"]}
 ]}
JSON
articles() { grep -c 'path=/articles/' "$NL_WORK/site.log"; }
polled() { grep -c 'event=source_polled source="rss"' "$NL_WORK/fetcher.log"; }

nl_start fetcher --set "fetcher.sources=$NL_WORK/sources.json" \
  --set fetcher.allow_private=127.0.0.0/8 --set fetcher.min_delay_ms=0
nl_wait_for 120 bash -c "[ \$(grep -c 'path=/articles/' '$NL_WORK/site.log') -ge 5 ]" ||
  die "the five seed pages were not requested within 120 s ($(articles) so far)"
# A second round of polls finds nothing new; give any stray duplicate the
# time of that round to show up before counting.
nl_wait_for 60 bash -c "[ \$(grep -c 'event=source_polled source=\"rss\"' '$NL_WORK/fetcher.log') -ge 2 ]" ||
  not_ok "a second round of polls within 60 s ($(polled) rss polls)"

"$NL_BIN/newsline" tail --count 100 --idle-ms 5000 "$NEWSLINE_TOPICS_FETCH" >"$NL_WORK/fetch.ndjson" \
  2>>"$NL_WORK/cli.log"
"$NL_BIN/newsline" tail --count 100 --idle-ms 5000 "$NEWSLINE_TOPICS_RAW" >"$NL_WORK/raw.ndjson" \
  2>>"$NL_WORK/cli.log"
"$NL_BIN/newsline" tail --meta --count 100 --idle-ms 5000 "$NEWSLINE_TOPICS_FETCH_SEEN" \
  >"$NL_WORK/seen.ndjson" 2>>"$NL_WORK/cli.log"
"$NL_BIN/newsline" tail --meta --count 100 --idle-ms 3000 "$NEWSLINE_TOPICS_RAW" \
  >"$NL_WORK/raw-meta.ndjson" 2>>"$NL_WORK/cli.log"

echo "# fetch records: $(wc -l <"$NL_WORK/fetch.ndjson"), raw: $(wc -l <"$NL_WORK/raw.ndjson"), changelog: $(wc -l <"$NL_WORK/seen.ndjson"); rss polls: $(polled)"
check "the poller thread produced the five discovered article URLs to the fetch topic" \
  python3 - "$NL_WORK/fetch.ndjson" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
urls = {r["url"] for r in recs if "/articles/" in r["url"]}
assert all(r["schema"] == "newsline.fetch/1" and r.get("source") for r in recs), recs
print("# fetch records: %d, distinct article URLs: %d, sources: %s" %
      (len(recs), len(urls), sorted({r["source"] for r in recs})))
sys.exit(0 if len(urls) == 5 else 1)
PY
check "each seed page requested exactly once (sources polled at least twice)" \
  python3 - "$NL_WORK/site.log" <<'PY'
import collections, sys
c = collections.Counter(l.split()[2] for l in open(sys.argv[1]) if "path=/articles/" in l)
print("# article requests: %s" % dict(c))
sys.exit(0 if len(c) == 5 and set(c.values()) == {1} else 1)
PY
check "five raw records, one per seed page" python3 - "$NL_WORK/raw.ndjson" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
ok = len(recs) == 5 and len({r["id"] for r in recs}) == 5 and \
     all(r["schema"] == "newsline.raw/1" and r["http_status"] == 200 for r in recs)
sys.exit(0 if ok else 1)
PY
check "the seen-set changelog holds exactly the five raw ids, each once" \
  python3 - "$NL_WORK/seen.ndjson" "$NL_WORK/raw.ndjson" <<'PY'
import json, sys
seen = [json.loads(l) for l in open(sys.argv[1])]
raw = {json.loads(l)["id"] for l in open(sys.argv[2])}
ids = [m["value"]["id"] for m in seen]
assert all(m["value"]["schema"] == "newsline.seen/1" for m in seen), seen
# the value names the fetch partition; it was written to the same partition
assert all(m["value"]["partition"] == m["partition"] for m in seen), seen
print("# changelog records: %d" % len(seen))
sys.exit(0 if sorted(ids) == sorted(raw) and len(ids) == 5 else 1)
PY
check "the daemon's partitions were restored from the changelog before consuming" \
  grep -q 'event=seen_restored .*from=beginning' "$NL_WORK/fetcher.log"

# The same five URLs requested again (seed 0 as the RSS feed spells it).
n1=$(articles)
skipped() { grep -c 'event=already_seen' "$NL_WORK/fetcher.log"; }
"$NL_BIN/newsline" fetch "$base/articles/7fe72223c5b1d421.html?utm_source=rss" \
  "$base/articles/c53c2fd0ceb509d0.html" "$base/articles/12f7d87ddb492726.html" \
  "$base/articles/71da34d2efd11cf3.html" "$base/articles/8e432c11f5411c7c.html" \
  2>>"$NL_WORK/cli.log" || die "cannot produce fetch records"
nl_wait_for 60 bash -c "[ \$(grep -c 'event=already_seen' '$NL_WORK/fetcher.log') -ge 5 ]"
check "requested again: all five skipped by the seen-set ($(skipped) already_seen)" test "$(skipped)" -eq 5
check "requested again: no article requested from the site" test "$(articles)" -eq "$n1"
nl_stop fetcher
check "newsline-fetcher exits 0 on SIGTERM" test $? -eq 0
check "no error logged" bash -c "! grep -h 'level=error' '$NL_WORK/fetcher.log'"
nl_summary
