#!/usr/bin/env bash
# The four daemons as NDJSON filters with no Kafka: a local HTTP server,
# fetcher | parser | tagger | sink, and the seeds through parser | tagger | sink.
source "$(dirname "$0")/lib.sh"
B=$NL_BIN
export NEWSLINE_SINK_CORPUS_DIR="$NL_WORK/corpus"
mkdir -p "$NL_WORK/corpus"
cp "$NL_SRC"/corpus/*.txt "$NL_WORK/corpus/"

python3 "$NL_SRC/tests/e2e/http_server.py" "$NL_SRC/tests/fixtures" 120 \
  >"$NL_WORK/port" 2>"$NL_WORK/http.log" &
NL_PIDS+=("$!")
nl_wait_for 30 test -s "$NL_WORK/port" || die "http server did not start"
base="http://127.0.0.1:$(cat "$NL_WORK/port")"

# Fetch: one article (through 3 redirects), a 404, a body over the cap, a file:// URL.
printf '{"schema":"newsline.fetch/1","url":"%s"}\n' "$base/redirect/3" "$base/status/404" \
  "$base/big" "file:///etc/passwd" >"$NL_WORK/requests.ndjson"
"$B/newsline-fetcher" --stdin --set max_record_bytes=1048576 \
  --set fetcher.allow_private=127.0.0.0/8 --set fetcher.min_delay_ms=0 <"$NL_WORK/requests.ndjson" \
  >"$NL_WORK/raw.ndjson" 2>"$NL_WORK/fetcher.log"
check "fetcher --stdin exits 0" test $? -eq 0
check "fetcher: one page and three dead letters, with reasons" python3 - "$NL_WORK/raw.ndjson" "$base" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 4, len(recs)
raw = [r for r in recs if r["schema"] == "newsline.raw/1"]
dlq = {json.loads(r["payload"]["prefix"])["url"].rsplit("/", 1)[-1]: r["reason_code"]
       for r in recs if r["schema"] == "newsline.dlq/1"}
assert len(raw) == 1 and raw[0]["final_url"] == sys.argv[2] + "/pages/article.html", raw
assert raw[0]["http_status"] == 200 and "<article>" in raw[0]["body"], raw
assert dlq == {"404": "http_status", "big": "body_too_large", "passwd": "bad_url"}, dlq
PY

# Parse and tag the page, store it: a new document in the corpus.
"$B/newsline-parser" --stdin <"$NL_WORK/raw.ndjson" 2>"$NL_WORK/parser.log" |
  "$B/newsline-tagger" --stdin 2>"$NL_WORK/tagger.log" >"$NL_WORK/tagged.ndjson"
check "html: text kept, scripts, navigation, asides and footers dropped; actors tagged" \
  python3 - "$NL_WORK/tagged.ndjson" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
t = [r for r in recs if r["schema"] == "newsline.tagged/1"]
assert len(t) == 1 and len(recs) == 4, recs
r = t[0]
assert r["title"] == "Putin and Kim Jong Un sign a treaty in Pyongyang", r["title"]
text = r["text"]
for want in ["Russian President Vladimir Putin", "Officials in Phnom Penh watched", "Mutual assistance clause"]:
    assert want in text, (want, text)
for unwanted in ["tracking", "Home", "Vietnam desk", "Related", "Copyright", "font-family"]:
    assert unwanted not in text, (unwanted, text)
assert "\n" in text, "paragraphs are separated by newlines"
ids = {a["id"] for a in r["tags"]["actors"]}
assert {"vladimir-putin", "kim-jong-un", "russia", "north-korea", "cambodia"} <= ids, ids
assert not ({"vietnam", "japan"} & ids), ids
for a in r["tags"]["actors"]:
    for m in a["mentions"]:
        src = (r["title"] if m["field"] == "title" else text).encode()
        assert src[m["start"]:m["end"]].decode() == m["surface"], m
PY
"$B/newsline-sink" --stdin <"$NL_WORK/tagged.ndjson" >"$NL_WORK/stored.ndjson" 2>"$NL_WORK/sink.log"
check "sink stores the page as 005_<id>.txt with a sidecar, and passes dead letters on" python3 - "$NL_WORK" <<'PY'
import json, os, sys
w = sys.argv[1]
recs = [json.loads(l) for l in open(os.path.join(w, "stored.ndjson"))]
stored = [r for r in recs if r["schema"] == "newsline.stored/1"]
assert len(stored) == 1 and len([r for r in recs if r["schema"] == "newsline.dlq/1"]) == 3, recs
s = stored[0]
assert s["file"].startswith("005_") and s["status"] == "stored", s
txt = open(os.path.join(w, "corpus", s["file"]), encoding="utf-8").read()
assert txt.startswith("Putin and Kim Jong Un sign a treaty in Pyongyang\n\n"), txt[:80]
side = json.load(open(os.path.join(w, "corpus", s["sidecar"])))
assert side["record"]["url"].endswith("/redirect/3") and "text" not in side["record"], side
PY

# The seeds through the filters, twice: stored once, unchanged the second time.
seeds_ndjson() {
  python3 - "$NL_SRC/corpus" <<'PY'
import json, os, sys
d = sys.argv[1]
for n in sorted(os.listdir(d)):
    if n.endswith(".txt"):
        print(json.dumps({"schema": "newsline.raw/1", "id": n[4:20], "source": "replay", "path": n,
                          "content_type": "text/plain; charset=utf-8",
                          "body": open(os.path.join(d, n), encoding="utf-8").read()}))
PY
}
for pass in 1 2; do
  seeds_ndjson | "$B/newsline-parser" --stdin 2>>"$NL_WORK/parser.log" |
    "$B/newsline-tagger" --stdin 2>>"$NL_WORK/tagger.log" |
    "$B/newsline-sink" --stdin >"$NL_WORK/seeds$pass.ndjson" 2>>"$NL_WORK/sink.log"
done
check "seeds: first pass stores five" test "$(grep -c '"status":"stored"' "$NL_WORK/seeds1.ndjson")" -eq 5
check "seeds: second pass changes nothing" test "$(grep -c '"status":"unchanged"' "$NL_WORK/seeds2.ndjson")" -eq 5
rm -f "$NL_WORK"/corpus/005_*
nl_check_corpus && ok "corpus checks" || not_ok "corpus checks"
nl_summary
