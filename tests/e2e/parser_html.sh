#!/usr/bin/env bash
# The parser's metadata end to end: `newsline-parser --html FILE --url URL`
# prints the parsed record, and an HTML page sent through
# parser --stdin | tagger --stdin | sink --stdin is stored with its
# metadata and its tags (a role alias resolved on the page's date).
source "$(dirname "$0")/lib.sh"
B=$NL_BIN
PAGE="$NL_SRC/tests/fixtures/article_meta.html"
URL="https://news.example.org/2024/06/21/cambodia-treaty?ref=home"

"$B/newsline-parser" --html "$PAGE" --url "$URL" >"$NL_WORK/one.json" 2>"$NL_WORK/parser.log"
check "--html exits 0" test $? -eq 0
check "--html prints title, text, authors, dates, lang, canonical_url, site and description" \
  python3 - "$NL_WORK/one.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["schema"] == "newsline.parsed/1" and r["content_type"] == "text/html", r
assert r["title"] == "Cambodia watches the Pyongyang treaty", r["title"]
assert r["text"].startswith("The Cambodian Prime Minister said") and "Copyright" not in r["text"], r["text"]
assert r["authors"] == ["Jane Doe"], r["authors"]  # the organisation is not an author
assert r["published"] == {"value": "2024-06-21T09:30:00+07:00", "source": "json-ld"}, r["published"]
assert r["modified"] == {"value": "2024-06-22T08:00:00+07:00", "source": "json-ld"}, r["modified"]
assert r["lang"] == "en-GB" and r["site_name"] == "Example News", r
assert r["canonical_url"] == "https://news.example.org/world/cambodia-treaty", r["canonical_url"]
assert r["description"] == "Phnom Penh weighs the new pact." and "reason" not in r, r
PY

# Usage errors exit 2; a missing file exits 1.
"$B/newsline-parser" --url "$URL" >/dev/null 2>&1
check "--url without --html exits 2" test $? -eq 2
"$B/newsline-parser" --html "$NL_WORK/none.html" >/dev/null 2>&1
check "--html of a missing file exits 1" test $? -eq 1

# A page with no date anywhere gets no published field: never the fetch time.
printf '<html><body><h1>T</h1><p>%s</p></body></html>' \
  "$(printf 'A sentence of the article that is long enough to count. %.0s' 1 2 3 4)" >"$NL_WORK/nodate.html"
"$B/newsline-parser" --html "$NL_WORK/nodate.html" --url "https://example.org/a" >"$NL_WORK/nodate.json" 2>>"$NL_WORK/parser.log"
check "a page without a date has no published" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert "published" not in r and "modified" not in r and r["authors"] == [], r' "$NL_WORK/nodate.json"

# The page as a fetched raw record through parser | tagger | sink.
export NEWSLINE_SINK_CORPUS_DIR="$NL_WORK/corpus"
mkdir -p "$NL_WORK/corpus"
python3 - "$PAGE" "$URL" >"$NL_WORK/raw.ndjson" <<'PY'
import json, sys
body = open(sys.argv[1], encoding="utf-8").read()
print(json.dumps({"schema": "newsline.raw/1", "id": "00112233aabbccdd", "source": "fetch",
                  "url": sys.argv[2], "final_url": sys.argv[2], "http_status": 200,
                  "fetched_at": "2024-07-01T00:00:00Z", "content_type": "text/html; charset=utf-8",
                  "body": body}))
PY
"$B/newsline-parser" --stdin <"$NL_WORK/raw.ndjson" 2>>"$NL_WORK/parser.log" |
  "$B/newsline-tagger" --stdin 2>"$NL_WORK/tagger.log" |
  "$B/newsline-sink" --stdin >"$NL_WORK/stored.ndjson" 2>"$NL_WORK/sink.log"
check "pipeline exits 0" test $? -eq 0
check "the sidecar holds the metadata and the tags" python3 - "$NL_WORK" <<'PY'
import json, os, sys
w = sys.argv[1]
recs = [json.loads(l) for l in open(os.path.join(w, "stored.ndjson"))]
assert len(recs) == 1 and recs[0]["schema"] == "newsline.stored/1", recs
side = json.load(open(os.path.join(w, "corpus", recs[0]["sidecar"])))
r = side["record"]
assert r["published"]["value"] == "2024-06-21T09:30:00+07:00" and r["published"]["source"] == "json-ld", r
assert r["authors"] == ["Jane Doe"] and r["lang"] == "en-GB" and r["site_name"] == "Example News", r
assert r["canonical_url"] == "https://news.example.org/world/cambodia-treaty", r
assert r["title"] == "Cambodia watches the Pyongyang treaty" and "text" not in r, r
tags = r["tags"]
ids = {a["id"] for a in tags["actors"]}
assert {"vladimir-putin", "kim-jong-un", "cambodia", "north-korea", "russia"} <= ids, ids
# "The Cambodian Prime Minister" names Hun Manet on 2024-06-21: the tagger
# read the parsed record's published.value
roles = [m for a in tags["actors"] if a["id"] == "hun-manet" for m in a["mentions"] if m.get("role")]
assert roles and roles[0]["surface"] == "Cambodian Prime Minister", tags["actors"]
txt = open(os.path.join(w, "corpus", recs[0]["file"]), encoding="utf-8").read()
assert txt.startswith("Cambodia watches the Pyongyang treaty\n\nThe Cambodian Prime Minister"), txt[:120]
PY

# The seeds: 004's dateline and byline reach its sidecar.
python3 - "$NL_SRC/corpus" >"$NL_WORK/seeds.ndjson" <<'PY'
import json, os, sys
d = sys.argv[1]
for n in sorted(os.listdir(d)):
    if n.endswith(".txt"):
        print(json.dumps({"schema": "newsline.raw/1", "id": n[4:20], "source": "replay", "path": n,
                          "content_type": "text/plain; charset=utf-8",
                          "body": open(os.path.join(d, n), encoding="utf-8").read()}))
PY
"$B/newsline-parser" --stdin <"$NL_WORK/seeds.ndjson" 2>>"$NL_WORK/parser.log" |
  "$B/newsline-tagger" --stdin 2>>"$NL_WORK/tagger.log" |
  "$B/newsline-sink" --stdin >"$NL_WORK/seeds_stored.ndjson" 2>>"$NL_WORK/sink.log"
check "seed 004: published 2024-06-21 from the text, author Rekha J" python3 - "$NL_WORK" <<'PY'
import glob, json, os, sys
w = sys.argv[1]
(path,) = glob.glob(os.path.join(w, "corpus", "*_8e432c11f5411c7c.json"))
side = json.load(open(path))["record"]
assert side["published"] == {"value": "2024-06-21", "source": "text"}, side.get("published")
assert side["authors"] == ["Rekha J"], side["authors"]
assert side["title"] == "21 June 2024, NIICE Commentary 9282", side["title"]
PY
# Charsets: a windows-1252 page declared in <meta>, and one whose HTTP header
# lies (says UTF-8): both reach the tagger as UTF-8 with the right letters;
# a binary body is dead-lettered as undecodable.
python3 - "$NL_WORK/cs.ndjson" <<'PY'
import json, sys, base64
p = ("A sentence about Phnom Penh and the caf\xe9 that is long enough to be kept. " * 4).encode("cp1252")
meta = b'<html><head><meta charset="windows-1252"><title>T</title></head><body><h1>T</h1><p>' + p + b"</p></body></html>"
lie = b"<html><head><title>T</title></head><body><h1>T</h1><p>" + p + b"</p></body></html>"
with open(sys.argv[1], "w") as f:
    for i, (ct, body) in enumerate([("text/html", meta), ("text/html; charset=utf-8", lie),
                                    ("text/html", bytes(range(256)) * 64)]):
        f.write(json.dumps({"schema": "newsline.raw/1", "id": "00000000000000c%d" % i, "source": "test",
                            "content_type": ct, "body_base64": base64.b64encode(body).decode()}) + "\n")
PY
"$B/newsline-parser" --stdin <"$NL_WORK/cs.ndjson" >"$NL_WORK/cs.out" 2>>"$NL_WORK/parser.log"
check "charsets: meta and a lying header decode to UTF-8, binary is undecodable" python3 - "$NL_WORK/cs.out" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 3, recs
a, b, c = recs
assert "caf\u00e9" in a["text"] and a["charset"] == "windows-1252" and a["charset_source"] == "meta", a
assert "caf\u00e9" in b["text"] and b["charset_rejected"].startswith("http:utf-8"), b
assert c["schema"] == "newsline.dlq/1" and c["reason_code"] == "undecodable", c
PY
# parser.max_page_bytes: a page over it is dead-lettered as too_big, a page
# under it goes through.
python3 - "$NL_WORK/big.ndjson" <<'PY'
import json, sys
para = "<p>" + "A sentence of the article that is long enough to count. " * 8 + "</p>"
with open(sys.argv[1], "w") as f:
    for i, n in enumerate((2, 200)):
        body = "<html><body><h1>T</h1>" + para * n + "</body></html>"
        f.write(json.dumps({"schema": "newsline.raw/1", "id": "00000000000000b%d" % i,
                            "source": "test", "content_type": "text/html", "body": body}) + "\n")
PY
"$B/newsline-parser" --stdin --set parser.max_page_bytes=16384 <"$NL_WORK/big.ndjson" \
  >"$NL_WORK/big.out" 2>>"$NL_WORK/parser.log"
check "parser.max_page_bytes: the small page parsed, the big one dead-lettered as too_big" \
  python3 - "$NL_WORK/big.out" <<'PY'
import json, sys
a, b = [json.loads(l) for l in open(sys.argv[1])]
assert a["schema"] == "newsline.parsed/1" and a["text"], a
assert b["schema"] == "newsline.dlq/1" and b["reason_code"] == "too_big", b
PY
nl_summary
