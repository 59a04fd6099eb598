#!/usr/bin/env bash
# The corpus index end to end: the seeds through parser | tagger | sink as
# filters, then `newsline query` against what the sidecars say (actors,
# both of two actors, full text, --count), a changed article kept as a
# second version, bad arguments (exit 2, one line), and the index deleted
# or overwritten with garbage: rebuilt on the next open with a log line.
source "$(dirname "$0")/lib.sh"
B=$NL_BIN
C="$NL_WORK/corpus"
export NEWSLINE_SINK_CORPUS_DIR="$C"
mkdir -p "$C"
cp "$NL_SRC"/corpus/*.txt "$C/"

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
seeds_ndjson | "$B/newsline-parser" --stdin 2>"$NL_WORK/parser.log" |
  "$B/newsline-tagger" --stdin 2>"$NL_WORK/tagger.log" >"$NL_WORK/tagged.ndjson"
"$B/newsline-sink" --stdin <"$NL_WORK/tagged.ndjson" >"$NL_WORK/stored.ndjson" 2>"$NL_WORK/sink.log"
check "sink stores the five seeds" test "$(grep -c '"status":"stored"' "$NL_WORK/stored.ndjson")" -eq 5
check "sink made the index at start, with a log line" grep -q 'event=index_rebuilt .*reason=missing' "$NL_WORK/sink.log"
check "index file exists" test -s "$C/.nl-index.db"

# expect.py MODE ARGS: the answer the sidecars and text files give.
cat >"$NL_WORK/expect.py" <<'PY'
import json, os, re, sys
c = os.environ["NEWSLINE_SINK_CORPUS_DIR"]
docs = {}
for n in sorted(os.listdir(c)):
    m = re.fullmatch(r"\d+_([0-9a-f]{16})(?:\.v(\d+))?\.json", n)
    if not m:
        continue
    side = json.load(open(os.path.join(c, n)))
    v = side.get("version", 1)
    if m.group(1) in docs and docs[m.group(1)]["version"] > v:
        continue
    txt = open(os.path.join(c, side["file"]), encoding="utf-8").read()
    side["_text"] = txt
    docs[m.group(1)] = side
mode, args = sys.argv[1], sys.argv[2:]
def actors(s):
    return {a["id"]: a["count"] for a in s["record"]["tags"]["actors"]}
if mode == "actors":
    out = sorted(i for i, s in docs.items() if all(a in actors(s) for a in args))
elif mode == "text":
    out = sorted(i for i, s in docs.items() if re.search(r"\b%s\b" % args[0], s["_text"], re.I))
elif mode == "count":
    out = [str(sum(actors(s).get(args[0], 0) for s in docs.values()))]
print(" ".join(out))
PY
expect() { python3 "$NL_WORK/expect.py" "$@"; }
ids() { python3 -c 'import json,sys; print(" ".join(sorted(json.loads(l)["id"] for l in sys.stdin)))'; }

got=$("$B/newsline" query --actor kim-jong-un --json 2>"$NL_WORK/q1.log" | ids)
want=$(expect actors kim-jong-un)
check "--actor kim-jong-un: the documents whose sidecars name Kim ($want)" test -n "$want" -a "$got" == "$want"
got=$("$B/newsline" query --actor kim-jong-un --actor hun-manet --json 2>>"$NL_WORK/q1.log" | ids)
want=$(expect actors kim-jong-un hun-manet)
check "--actor kim-jong-un --actor hun-manet: both ($want)" test -n "$want" -a "$got" == "$want"
got=$("$B/newsline" query --text sanctions --json 2>>"$NL_WORK/q1.log" | ids)
want=$(expect text sanctions)
check "--text sanctions: the documents containing the word ($want)" test -n "$want" -a "$got" == "$want"
got=$("$B/newsline" query --actor kim-jong-un --actor hun-manet --text sanctions --json 2>>"$NL_WORK/q1.log" | ids)
want=$(python3 -c 'import sys; a=set(sys.argv[1].split()); b=set(sys.argv[2].split()); print(" ".join(sorted(a&b)))' \
  "$(expect actors kim-jong-un hun-manet)" "$(expect text sanctions)")
check "both actors and full text: the intersection ($want)" test "$got" == "$want"
got=$("$B/newsline" query --count --actor kim-jong-un --json | python3 -c 'import json,sys; print(sum(json.loads(l)["mentions"] for l in sys.stdin))')
check "--count: Kim's mentions per day add up to the sidecars' count ($(expect count kim-jong-un))" \
  test "$got" == "$(expect count kim-jong-un)"
"$B/newsline" query --count --actor kim-jong-un >"$NL_WORK/count.txt"
check "--count table: header and a row per day" grep -q '^DATE .*ACTOR .*MENTIONS .*DOCUMENTS' "$NL_WORK/count.txt"
"$B/newsline" query --actor kim-jong-un >"$NL_WORK/table.txt"
check "table: header, then one line per document" \
  test "$(sed -n 1p "$NL_WORK/table.txt" | cut -c1-4)" == DATE -a "$(($(wc -l <"$NL_WORK/table.txt") - 1))" -eq "$(expect actors kim-jong-un | wc -w)"
got=$("$B/newsline" query --since 2024-01-01 --until 2024-12-31 --json | python3 -c 'import json,sys; print(all("2024-01-01" <= json.loads(l)["date"] <= "2024-12-31" for l in sys.stdin))')
check "--since/--until: only documents dated in the range" test "$got" == True
check "--source replay: all five" test "$("$B/newsline" query --source replay --json | wc -l)" -eq 5
check "--source fetch: none" test "$("$B/newsline" query --source fetch --json | wc -l)" -eq 0

# Bad arguments: exit 2 and one line on stderr.
bad() { # bad DESCRIPTION ARGS...
  local what=$1; shift
  "$B/newsline" query "$@" >"$NL_WORK/bad.out" 2>"$NL_WORK/bad.err"
  local rc=$?
  check "$what: exit 2 ($rc), one line ($(head -c 120 "$NL_WORK/bad.err"))" \
    test $rc -eq 2 -a "$(wc -l <"$NL_WORK/bad.err")" -eq 1 -a ! -s "$NL_WORK/bad.out"
}
bad "unknown actor" --actor kim-jong-unn
bad "unknown event" --event no-such-event
bad "bad date" --since 2024-02-30
bad "not a date" --until yesterday
bad "since after until" --since 2024-06-01 --until 2024-01-01
bad "bad full-text query" --text '"unterminated'
bad "bad limit" --limit -3
bad "unknown option" --acter kim-jong-un
# a watchlist actor no document mentions is known, and matches nothing
"$B/newsline" query --actor mikhail-mishustin --actor hun-manet --json >/dev/null 2>&1
check "a watchlist actor is not unknown" test $? -eq 0

# A changed article (same id, new text) is kept beside the first version.
python3 - "$NL_WORK/tagged.ndjson" >"$NL_WORK/changed.ndjson" <<'PY'
import json, sys
r = json.loads(open(sys.argv[1]).readline())
r["source"] = "fetch"
r["text"] = r["text"] + "\n\nUpdate: a correction about sanctions and Kim Jong Un."
r["published"] = {"value": "2024-07-01", "source": "meta"}
print(json.dumps(r))
PY
"$B/newsline-sink" --stdin <"$NL_WORK/changed.ndjson" >"$NL_WORK/changed.out" 2>>"$NL_WORK/sink.log"
check "changed article: status new_version, version 2" grep -q '"version":2,"status":"new_version"' "$NL_WORK/changed.out"
check "changed article: version 2 files beside version 1" test -s "$C/000_7fe72223c5b1d421.v2.txt" -a -s "$C/000_7fe72223c5b1d421.v2.json"
check "changed article: the seed text is byte for byte as shipped" cmp -s "$C/000_7fe72223c5b1d421.txt" "$NL_SRC/corpus/000_7fe72223c5b1d421.txt"
got=$("$B/newsline" query --since 2024-07-01 --json | python3 -c 'import json,sys; print(" ".join("%s/%d" % (r["id"], r["version"]) for r in map(json.loads, sys.stdin)))')
check "query sees the latest version ($got)" test "$got" == "7fe72223c5b1d421/2"
"$B/newsline-sink" --stdin <"$NL_WORK/changed.ndjson" >"$NL_WORK/changed2.out" 2>>"$NL_WORK/sink.log"
check "the changed article again: unchanged" grep -q '"version":2,"status":"unchanged"' "$NL_WORK/changed2.out"
"$B/newsline-sink" --stdin <"$NL_WORK/tagged.ndjson" >"$NL_WORK/again.out" 2>"$NL_WORK/sink2.log"
check "the seeds again: five unchanged" test "$(grep -c '"status":"unchanged"' "$NL_WORK/again.out")" -eq 5
check "the sink's second start found the index in step (no rebuild)" bash -c "! grep -q index_rebuilt '$NL_WORK/sink2.log'"

# The index deleted, or garbage: the next open rebuilds it, with a log line.
before=$("$B/newsline" query --actor kim-jong-un --json 2>/dev/null)
rm -f "$C/.nl-index.db" "$C/.nl-index.db-wal" "$C/.nl-index.db-shm"
after=$("$B/newsline" query --actor kim-jong-un --json 2>"$NL_WORK/rebuild.log")
check "index deleted: the query rebuilds it and logs it" grep -q 'event=index_rebuilt .*reason=missing.*versions=6' "$NL_WORK/rebuild.log"
check "index deleted: the same answer after the rebuild" test "$before" == "$after" -a -n "$after"
head -c 4096 /dev/urandom >"$C/.nl-index.db"
after=$("$B/newsline" query --actor kim-jong-un --json 2>"$NL_WORK/rebuild2.log")
check "index garbage: rebuilt with a log line" grep -q 'event=index_rebuilt .*reason=corrupt' "$NL_WORK/rebuild2.log"
check "index garbage: the same answer after the rebuild" test "$before" == "$after"
: >"$C/.nl-index.db"
"$B/newsline-sink" --stdin </dev/null >/dev/null 2>"$NL_WORK/sink3.log"
check "index truncated: the sink rebuilds it at start" grep -q 'event=index_rebuilt' "$NL_WORK/sink3.log"
"$B/newsline" reindex >"$NL_WORK/reindex.out" 2>&1
check "newsline reindex: 6 versions ($(cat "$NL_WORK/reindex.out"))" grep -q '^reindexed 6 versions' "$NL_WORK/reindex.out"
check "after reindex: the same answer" test "$before" == "$("$B/newsline" query --actor kim-jong-un --json 2>/dev/null)"
nl_check_corpus && ok "corpus checks" || not_ok "corpus checks"
nl_summary
