#!/usr/bin/env bash
# Sources end to end, no Kafka: a loopback news site made of the seeds
# (seed_site.py: article pages with navigation, ads, byline, <time>,
# JSON-LD, related links, comments; RSS, Atom, a sitemap index and a news
# sitemap announced in robots.txt; a malformed feed) -> sources file ->
# `newsline-fetcher --once` -> `newsline-parser --stdin`: every seed's text
# recovered; the broken feed reported, the others fine; a second --once
# fetches nothing (state and conditional GET), nor a third without the
# state file (the seen-set); the page robots.txt forbids never requested.
source "$(dirname "$0")/lib.sh"
B=$NL_BIN

python3 "$NL_SRC/tests/e2e/seed_site.py" "$NL_SRC/corpus" 250 >"$NL_WORK/port" 2>"$NL_WORK/site.log" &
NL_PIDS+=("$!")
nl_wait_for 30 test -s "$NL_WORK/port" || die "site did not start"
base="http://127.0.0.1:$(cat "$NL_WORK/port")"

cat >"$NL_WORK/sources.json" <<JSON
{"defaults": {"delay_ms": 0, "poll_interval_s": 600, "min_poll_interval_s": 60,
              "max_poll_interval_s": 3600},
 "sources": [
  {"name": "rss", "kind": "rss", "url": "$base/feeds/rss.xml"},
  {"name": "atom", "kind": "atom", "url": "$base/feeds/atom.xml", "deny": ["/tag/"]},
  {"name": "site", "kind": "robots", "url": "$base/"},
  {"name": "broken", "kind": "rss", "url": "$base/feeds/broken.xml"},
  {"name": "list", "kind": "urls", "urls": ["$base/articles/c53c2fd0ceb509d0.html",
                                             "$base/drafts/unpublished.html"],
   "deny": ["/drafts/"]}
 ]}
JSON
ONCE=("$B/newsline-fetcher" --once --set "fetcher.sources=$NL_WORK/sources.json"
  --set "fetcher.state_dir=$NL_WORK/state" --set fetcher.allow_private=127.0.0.0/8
  --set fetcher.min_delay_ms=0)
# articles: how many article pages the site served so far
articles() { grep -c 'path=/articles/' "$NL_WORK/site.log"; }

timeout 120 "${ONCE[@]}" >"$NL_WORK/raw1.ndjson" 2>"$NL_WORK/once1.log"
check "first --once: exit 0 (one source broken, the others fine)" test $? -eq 0
check "five raw records, one per seed page" test "$(grep -c '"schema":"newsline.raw/1"' "$NL_WORK/raw1.ndjson")" -eq 5
check "each seed page requested exactly once (listed by several sources)" \
  test "$(articles)" -eq 5 -a "$(grep 'path=/articles/' "$NL_WORK/site.log" | sort -u | wc -l)" -eq 5
check "the malformed feed: one warning with the reason" \
  test "$(grep -c 'event=source_broken source="broken".*reason="not XML' "$NL_WORK/once1.log")" -eq 1
check "the malformed feed: health says failed" \
  grep -q 'event=source_polled source="broken".*ok=0 .*consecutive_failures=1' "$NL_WORK/once1.log"
for s in rss atom site list; do
  check "source $s polled fine" grep -q "event=source_polled source=\"$s\" .*ok=1 new=[1-9]" "$NL_WORK/once1.log"
done
check "robots source: sitemap index and news sitemap read" \
  bash -c "grep -q 'path=/sitemap_index.xml' '$NL_WORK/site.log' && grep -q 'path=/sitemaps/news.xml' '$NL_WORK/site.log'"
check "deny pattern: the draft neither fetched nor counted" \
  bash -c "! grep -q 'path=/drafts/' '$NL_WORK/site.log' && grep -q 'source=\"list\".*filtered=1' '$NL_WORK/once1.log'"
check "robots.txt disallow: /private/secret.html never requested" \
  bash -c "! grep -q 'path=/private/' '$NL_WORK/site.log' && grep -q 'secret.html.*robots_disallowed' '$NL_WORK/once1.log'"
check "seen-set file: 5 records of 16 bytes" test "$(stat -c %s "$NL_WORK/state/seen.local")" -eq 80

"$B/newsline-parser" --stdin <"$NL_WORK/raw1.ndjson" >"$NL_WORK/parsed.ndjson" 2>"$NL_WORK/parser.log"
check "parser --stdin: exit 0" test $? -eq 0
check "each seed's text recovered from its page (paragraphs in order), with byline and date" \
  python3 - "$NL_WORK/parsed.ndjson" "$NL_SRC/corpus" <<'PY'
import difflib, json, os, re, sys
norm = lambda s: re.sub(r"\s+", " ", s).strip()
seeds = {}
for n in sorted(os.listdir(sys.argv[2])):
    if n.endswith(".txt"):
        lines = [norm(l) for l in open(os.path.join(sys.argv[2], n), encoding="utf-8")]
        lines = [l for l in lines if l]
        seeds[n[4:20]] = (lines[0], lines[1:])
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 5 and all(r["schema"] == "newsline.parsed/1" for r in recs), recs
ok = True
for r in recs:
    sid = re.search(r"/articles/([0-9a-f]{16})\.html", r["url"]).group(1)
    title, paras = seeds[sid]
    text = norm(r["text"])
    if text.startswith(title):
        text = text[len(title):].strip()
    pos, found = 0, 0
    for p in paras:
        at = text.find(p, pos)
        if at >= 0:
            found += 1
            pos = at + len(p)
    want = " ".join(paras)
    ratio = difflib.SequenceMatcher(None, want, text, autojunk=False).quick_ratio()
    print("# seed %s: paragraphs in order %d/%d, similarity %.3f, extra chars %d, title %s, "
          "authors %s, published %s" % (sid, found, len(paras), ratio, len(text) - len(want),
          r["title"] == title, r["authors"], r.get("published", {}).get("source")))
    if found != len(paras) or ratio < 0.98 or r["title"] != title or not r["authors"] or \
            "published" not in r:
        ok = False
    for junk in ("Advertisement", "reader42", "Related stories", "Copyright", "Subscribe"):
        if junk in r["text"]:
            print("# seed %s: boilerplate kept: %s" % (sid, junk))
            ok = False
sys.exit(0 if ok else 1)
PY

n1=$(articles)
timeout 120 "${ONCE[@]}" >"$NL_WORK/raw2.ndjson" 2>"$NL_WORK/once2.log"
check "second --once: exit 0, nothing new" \
  bash -c "test $? -eq 0 && test ! -s '$NL_WORK/raw2.ndjson' && grep -q 'once_done.* articles_new=0 written=0' '$NL_WORK/once2.log'"
check "second --once: no article requested" test "$(articles)" -eq "$n1"
check "second --once: feeds asked with If-None-Match (conditional GET)" \
  test "$(grep 'path=/feeds/rss.xml' "$NL_WORK/site.log" | tail -1 | grep -c 'inm="')" -eq 1
check "second --once: the broken feed is still reported" \
  grep -q 'event=source_broken source="broken"' "$NL_WORK/once2.log"

rm -f "$NL_WORK/state/sources-state.json"
timeout 120 "${ONCE[@]}" >"$NL_WORK/raw3.ndjson" 2>"$NL_WORK/once3.log"
check "without the sources state: the seen-set alone skips all five" \
  bash -c "test ! -s '$NL_WORK/raw3.ndjson' && grep -q 'once_done.* written=0 .*skipped_seen=[5-9]' '$NL_WORK/once3.log'"
check "without the sources state: still no article requested" test "$(articles)" -eq "$n1"

# A torn append (a crash mid-write) is cut off with a warning, the rest kept.
printf 'torn' >>"$NL_WORK/state/seen.local"
timeout 120 "${ONCE[@]}" >"$NL_WORK/raw4.ndjson" 2>"$NL_WORK/once4.log"
check "corrupt seen-set tail: truncated with a warning, five URLs kept, nothing refetched" \
  bash -c "grep -q 'event=seen_truncated.*dropped_bytes=4' '$NL_WORK/once4.log' && test ! -s '$NL_WORK/raw4.ndjson' && test \$(stat -c %s '$NL_WORK/state/seen.local') -eq 80"

# Every source broken: exit 1.
cat >"$NL_WORK/bad.json" <<JSON
{"sources": [{"name": "b", "kind": "rss", "url": "$base/feeds/broken.xml"},
             {"name": "gone", "kind": "atom", "url": "$base/feeds/missing.xml"}]}
JSON
timeout 120 "${ONCE[@]}" --set "fetcher.sources=$NL_WORK/bad.json" --set fetcher.max_attempts=1 \
  >/dev/null 2>"$NL_WORK/once5.log"
check "every source failed: exit 1" test $? -eq 1
"$B/newsline-fetcher" --once --set fetcher.sources=/nonexistent.json >/dev/null 2>"$NL_WORK/once6.log"
check "missing sources file: exit 2 naming fetcher.sources" \
  bash -c "test $? -eq 2 && grep -q fetcher.sources '$NL_WORK/once6.log'"
nl_summary
