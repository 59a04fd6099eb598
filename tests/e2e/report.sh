#!/usr/bin/env bash
# newsline report end to end: the seeds and two hostile documents (a
# <script> title, an <img onerror> sentence) through parser | tagger | sink
# as filters, `newsline report`, then the page in headless Chromium: the
# DOM has the charts with as many series, nodes and edges as the sidecars
# say, no script or image element came from the corpus, nothing external is
# loaded, and a screenshot is not blank (coloured pixels: the charts).
source "$(dirname "$0")/lib.sh"
B=$NL_BIN
C="$NL_WORK/corpus"
export NEWSLINE_SINK_CORPUS_DIR="$C"
mkdir -p "$C"
cp "$NL_SRC"/corpus/*.txt "$C/"
CHROMIUM=$(command -v chromium || command -v chromium-browser) ||
  die "chromium is not installed (deploy/install-deps.sh installs Debian's chromium)"

python3 - "$NL_SRC/corpus" >"$NL_WORK/raw.ndjson" <<'PY'
import json, os, sys
d = sys.argv[1]
def raw(i, path, body):
    print(json.dumps({"schema": "newsline.raw/1", "id": i, "source": "replay", "path": path,
                      "content_type": "text/plain; charset=utf-8", "body": body}))
for n in sorted(os.listdir(d)):
    if n.endswith(".txt"):
        raw(n[4:20], n, open(os.path.join(d, n), encoding="utf-8").read())
raw("0badc0de00000001", "hostile1.txt",
    "<script>alert(1)</script> Kim Jong Un meets Hun Manet\n\n5 July 2024, Test Commentary 1\n\n"
    "Kim Jong Un met Hun Manet in Pyongyang to sign a treaty with Russia. Vladimir Putin said "
    "\"<img src=x onerror=alert(2)>\" about North Korea and Cambodia.\n")
raw("0badc0de00000002", "hostile2.txt",
    "Putin & Kim: the 'treaty' <b>bold</b>\n\n2 August 2024, Test Commentary 2\n\n"
    "Vladimir Putin and Kim Jong Un signed a comprehensive strategic partnership treaty between "
    "Russia and North Korea.\n")
PY
"$B/newsline-parser" --stdin <"$NL_WORK/raw.ndjson" 2>"$NL_WORK/parser.log" |
  "$B/newsline-tagger" --stdin 2>"$NL_WORK/tagger.log" |
  "$B/newsline-sink" --stdin >"$NL_WORK/stored.ndjson" 2>"$NL_WORK/sink.log"
check "sink stores the five seeds and two hostile documents" \
  test "$(grep -c '"status":"stored"' "$NL_WORK/stored.ndjson")" -eq 7

R="$NL_WORK/report.html"
"$B/newsline" report --corpus "$C" --out "$R" --top 10 2>"$NL_WORK/report.log"
check "newsline report exits 0 and writes the page" test $? -eq 0 -a -s "$R"
check "no .tmp file left beside it" bash -c "! ls '$NL_WORK' | grep -q 'report.html.tmp'"
check "the hostile title is escaped in the HTML" \
  grep -qF '&lt;script&gt;alert(1)&lt;/script&gt; Kim Jong Un meets Hun Manet' "$R"
check "no raw <script> or <img> from the corpus in the HTML" \
  bash -c "! grep -qiE '<script|<img|<b>bold' '$R'"
check "a Content-Security-Policy forbids scripts and loads" \
  grep -qF "content=\"default-src 'none'; style-src 'unsafe-inline'\"" "$R"

# What the sidecars say: top actors (mentions over latest versions, ties
# by id), those with dated mentions, and the pairs among them.
python3 - "$C" 10 >"$NL_WORK/expected.json" <<'PY'
import glob, json, re, sys
d, top = sys.argv[1], int(sys.argv[2])
latest = {}
for p in glob.glob(d + "/*.json"):
    s = json.load(open(p))
    if s["id"] not in latest or latest[s["id"]]["version"] < s["version"]:
        latest[s["id"]] = s
total, dated, pairs = {}, set(), set()
for s in latest.values():
    rec = s["record"]
    pub = (rec.get("published") or {}).get("value", "")
    for a in rec["tags"]["actors"]:
        total[a["id"]] = total.get(a["id"], 0) + a["count"]
        if re.match(r"\d{4}-\d\d-\d\d", pub):
            dated.add(a["id"])
    for r in rec["tags"]["relations"]:
        pairs.add(tuple(sorted(r["actors"])))
tops = sorted(total, key=lambda a: (-total[a], a))[:top]
edges = sorted(p for p in pairs if p[0] in tops and p[1] in tops)
json.dump({"top": tops, "series": sorted(a for a in tops if a in dated), "edges": edges},
          sys.stdout)
PY

# The DOM as Chromium built it.
chrome() {
  timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --hide-scrollbars --user-data-dir="$NL_WORK/chrome" "$@" 2>>"$NL_WORK/chromium.log"
}
chrome --dump-dom "file://$R" >"$NL_WORK/dom.html"
check "chromium dumps the DOM" test -s "$NL_WORK/dom.html"
check "the DOM: series, nodes and edges as the sidecars say; axes, labels; nothing hostile" \
  python3 - "$NL_WORK/dom.html" "$NL_WORK/expected.json" <<'PY'
import json, sys
from html.parser import HTMLParser
want = json.load(open(sys.argv[2]))
class P(HTMLParser):
    def __init__(s):
        super().__init__(); s.stack = []; s.svg = None; s.found = {}; s.tags = {}; s.text = []
    def handle_starttag(s, tag, attrs):
        a = dict(attrs); cls = (a.get("class") or "").split()
        s.tags[tag] = s.tags.get(tag, 0) + 1
        if tag == "svg":
            s.svg = a.get("id")
        key = (s.svg, tag, cls[0] if cls else "")
        s.found.setdefault(key, []).append(a)
        for k, v in a.items():
            assert not k.startswith("on"), (tag, k)
            assert k not in ("src", "href") or not v, (tag, k, v)
    def handle_endtag(s, tag):
        if tag == "svg":
            s.svg = None
    def handle_data(s, data):
        s.text.append(data)
p = P(); p.feed(open(sys.argv[1]).read())
f = p.found
series = sorted(g["data-actor"] for g in f.get(("mentions-chart", "g", "series"), []))
assert series == want["series"], (series, want["series"])
lines = f.get(("mentions-chart", "polyline", "line"), [])
assert len(lines) == len(series) and all(l["points"].strip() for l in lines), lines
assert len(f.get(("mentions-chart", "circle", "point"), [])) >= len(series)
assert len(f.get(("mentions-chart", "line", "axis"), [])) >= 2, "no axes"
assert len(f.get(("mentions-chart", "text", "tick"), [])) >= 3, "no tick labels"
nodes = sorted(n["data-actor"] for n in f.get(("network-chart", "g", "node"), []))
assert nodes == sorted(want["top"]), (nodes, want["top"])
assert len(f.get(("network-chart", "circle", "node"), [])) == len(want["top"])
edges = sorted(tuple(sorted((e["data-a"], e["data-b"]))) for e in f.get(("network-chart", "line", "edge"), []))
assert edges == [tuple(e) for e in want["edges"]], (len(edges), len(want["edges"]))
assert f.get(("undated-chart", "rect", "bar")), "no undated bars (four seeds are undated)"
arts = [a["data-actor"] for a in f.get((None, "article", "actor"), [])]
assert arts == want["top"], arts
for t in ("script", "img", "iframe", "link", "object", "embed", "b"):
    assert t not in p.tags, "element <%s> in the DOM" % t
text = "".join(p.text)
assert "<script>alert(1)</script> Kim Jong Un meets Hun Manet" in text, "hostile title not shown as text"
assert '"<img src=x onerror=alert(2)>"' in text, "hostile sentence not shown as text"
print("# %d series, %d nodes, %d edges" % (len(series), len(nodes), len(edges)))
PY

chrome --window-size=1000,1500 --screenshot="$NL_WORK/shot.png" "file://$R" >/dev/null
read -r w h nonwhite coloured < <(python3 "$NL_SRC/tests/e2e/png_pixels.py" "$NL_WORK/shot.png")
echo "# screenshot ${w}x${h}: $nonwhite non-white pixels, $coloured coloured"
check "the screenshot is not blank: the charts are drawn in colour" \
  test "${coloured:-0}" -gt 20000 -a "${nonwhite:-0}" -gt 40000

# --since: only dated documents; --by week; stdout.
"$B/newsline" report --corpus "$C" --out - --since 2024-07-01 --by week >"$NL_WORK/since.html" \
  2>>"$NL_WORK/report.log"
check "--since 2024-07-01 --by week: two documents, weekly points, no undated chart" \
  bash -c "grep -q '2 documents (latest versions)' '$NL_WORK/since.html' &&
           grep -q 'one point per week' '$NL_WORK/since.html' &&
           ! grep -q 'id=\"undated-chart\"' '$NL_WORK/since.html'"

# Bad arguments: exit 2 and one line, before anything is read.
for args in "--since 2024-13-01" "--top 0" "--top 41" "--docs x" "--by month" "--bogus" "extra"; do
  # shellcheck disable=SC2086
  "$B/newsline" report --corpus "$C" --out "$NL_WORK/bad.html" $args >/dev/null 2>"$NL_WORK/bad.err"
  rc=$?
  check "report $args: exit 2 with one line ($(head -c 80 "$NL_WORK/bad.err"))" \
    test $rc -eq 2 -a "$(wc -l <"$NL_WORK/bad.err")" -eq 1 -a ! -e "$NL_WORK/bad.html"
done
"$B/newsline" report --corpus "$NL_WORK/nowhere" --out "$NL_WORK/bad.html" 2>"$NL_WORK/bad.err"
check "report of a missing corpus: exit 1 with the reason" test $? -eq 1 -a -s "$NL_WORK/bad.err"

# tail's arguments are checked before any broker is asked (no broker here).
export NEWSLINE_BROKERS=127.0.0.1:1
for args in "--tag Kim/Jong" "--tag ''" "--tag-regex '('" "--brief --meta --tag x" "" "--count 0 --tag x" "--bogus"; do
  eval "\"$B/newsline\" tail $args" >/dev/null 2>"$NL_WORK/bad.err"
  rc=$?
  check "tail $args: exit 2 ($(head -n 1 "$NL_WORK/bad.err" | head -c 80))" test $rc -eq 2
done

nl_summary
