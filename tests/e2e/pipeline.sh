#!/usr/bin/env bash
# End to end: four daemons as separate processes on a broker (mock or
# real), the seeds replayed, poison records dead-lettered, SIGTERM drains,
# and a second replay leaves the store unchanged.
# usage: pipeline.sh mock|real
source "$(dirname "$0")/lib.sh"
mode=${1:?mock or real}

nl_isolate
nl_broker "$mode"
nl_start_pipeline

# Poison first, then the seeds: the stage must go on after a bad record.
printf '%s\n' 'not json at all' '{"schema":"newsline.raw/99","id":"0123456789abcdef"}' \
  '{"schema":"newsline.raw/1","id":"NOT-AN-ID","source":"x","content_type":"text/plain","body":""}' |
  "$NL_BIN/newsline" produce "$NEWSLINE_TOPICS_RAW" 2>>"$NL_WORK/cli.log" ||
  die "could not produce poison records"
# ... and one record that is not JSON on every other stage's input topic.
for t in "$NEWSLINE_TOPICS_FETCH" "$NEWSLINE_TOPICS_PARSED" "$NEWSLINE_TOPICS_TAGGED"; do
  printf 'poison for %s\n' "$t" | "$NL_BIN/newsline" produce "$t" 2>>"$NL_WORK/cli.log" ||
    die "could not produce poison to $t"
done
"$NL_BIN/newsline" replay >"$NL_WORK/replay.out" 2>>"$NL_WORK/cli.log"
check "replay exits 0 with every document acknowledged" test $? -eq 0
check "replay prints a summary" grep -q 'replayed 5 document(s).*5 acknowledged, 0 failed' "$NL_WORK/cli.log"

# A multi-megabyte document (3 MiB of text) goes through every topic.
python3 - "$NL_WORK/big.txt" <<'PY'
import sys
para = "Phnom Penh and Pyongyang exchanged delegations while Moscow watched. " * 20
with open(sys.argv[1], "w") as f:
    f.write("A very long report on Cambodia\n\n")
    while f.tell() < 3 * 1024 * 1024:
        f.write(para + "\n\n")
PY
"$NL_BIN/newsline" replay "$NL_WORK/big.txt" >/dev/null 2>>"$NL_WORK/cli.log"
check "a 3 MiB document is accepted by the raw topic" test $? -eq 0

nl_wait_for 120 nl_sink_has 6 || not_ok "sink stored 6 documents within 120 s (has $(nl_sink_ids))"
check "the sink stored the five seeds and the big document" test "$(nl_sink_ids)" -eq 6
nl_check_corpus && ok "corpus checks" || not_ok "corpus checks"
check "the big document is stored whole, with its actors" python3 - "$NL_WORK/corpus" <<'PY'
import json, glob, sys
side = [json.load(open(p)) for p in glob.glob(sys.argv[1] + "/005_*.json")]
assert len(side) == 1, side
s = side[0]
assert s["text_bytes"] > 3 * 1024 * 1024 - 4096, s["text_bytes"]
ids = {a["id"]: a["count"] for a in s["record"]["tags"]["actors"]}
assert ids.keys() == {"cambodia", "north-korea", "russia"}, ids
assert ids["north-korea"] == ids["russia"] == ids["cambodia"] - 1 > 1000, ids
for a in s["record"]["tags"]["actors"]:
    assert a["mentions_truncated"] is True and len(a["mentions"]) == 1000, a["id"]
PY

# Per-tag topics: every document that carries an actor or event is on its
# topic (the event's seeds: 000, 002, 003 and 004 discuss the invasion).
for actor in kim-jong-un cambodia russia-invasion-of-ukraine; do
  want=$(python3 - "$NL_WORK/corpus" "$actor" "$NL_SRC/tests/fixtures/seed_actors.json" <<'PY'
import glob, json, sys
d, actor, fixture = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
def tag_ids(tags):
    return {a["id"] for a in tags["actors"]} | {e["id"] for e in tags["events"]}
ids = sorted(json.load(open(p))["id"] for p in glob.glob(d + "/*.json")
             if actor in tag_ids(json.load(open(p))["record"]["tags"]))
expected = sorted(k[4:] for k, v in fixture.items() if not k.startswith("_") and actor in v["expect"])
if actor == "russia-invasion-of-ukraine":
    expected = sorted(k[4:] for k in fixture if k[:3] in ("000", "002", "003", "004"))
assert expected and set(expected) <= set(ids), (expected, ids)
print(" ".join(ids))
PY
) || not_ok "stored documents carry $actor as the fixture expects"
  n=$(wc -w <<<"$want")
  "$NL_BIN/newsline" tail --count "$n" --idle-ms 30000 "$NEWSLINE_TAGGER_TAG_TOPIC_PREFIX$actor" \
    >"$NL_WORK/tag-$actor.ndjson" 2>>"$NL_WORK/cli.log"
  got=$(python3 -c 'import json,sys; print(" ".join(sorted({json.loads(l)["id"] for l in open(sys.argv[1])})))' \
    "$NL_WORK/tag-$actor.ndjson")
  check "topic ${NEWSLINE_TAGGER_TAG_TOPIC_PREFIX}$actor carries exactly the $n documents tagged $actor" \
    test "$got" = "$want"
done

# Dead letters: three poison records on the parser's input, one on each
# other stage's, each with stage, reason and origin.
"$NL_BIN/newsline" tail --meta --count 6 --idle-ms 30000 "$NEWSLINE_TOPICS_DLQ" \
  >"$NL_WORK/dlq.ndjson" 2>>"$NL_WORK/cli.log"
check "six dead letters on the DLQ topic" test "$(wc -l <"$NL_WORK/dlq.ndjson")" -eq 6
check "dead letters carry stage, reason code and origin in record and headers" \
  python3 - "$NL_WORK/dlq.ndjson" <<'PY'
import json, os, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
env = os.environ
by_stage = {}
for r in recs:
    v, h = r["value"], r["headers"]
    by_stage.setdefault(v["stage"], []).append(v["reason_code"])
    assert v["schema"] == "newsline.dlq/1", v
    assert h["nl-stage"] == v["stage"] and h["nl-reason-code"] == v["reason_code"], h
    assert h["nl-origin-topic"] == v["origin"]["topic"], h
    assert int(h["nl-origin-offset"]) == v["origin"]["offset"] >= 0, h
    assert int(h["nl-origin-partition"]) == v["origin"]["partition"] >= 0, h
    assert v["payload"]["length"] > 0 and v["payload"]["prefix"], v
    want_topic = {"fetcher": env["NEWSLINE_TOPICS_FETCH"], "parser": env["NEWSLINE_TOPICS_RAW"],
                  "tagger": env["NEWSLINE_TOPICS_PARSED"], "sink": env["NEWSLINE_TOPICS_TAGGED"]}
    assert v["origin"]["topic"] == want_topic[v["stage"]], v
assert sorted(by_stage["parser"]) == ["bad_id", "not_json", "wrong_schema"], by_stage
assert by_stage["fetcher"] == by_stage["tagger"] == by_stage["sink"] == ["not_json"], by_stage
PY

# SIGTERM: every daemon drains, commits and exits 0.
for d in fetcher parser tagger sink; do
  nl_stop "$d"
  check "newsline-$d exits 0 on SIGTERM" test $? -eq 0
done
check "no daemon logged an error" bash -c "! grep -h 'level=error' '$NL_WORK'/*.log"
check "consumer-only settings (kafka.consumer.*) raise no producer warnings" \
  bash -c "! grep -h 'CONFWARN' '$NL_WORK'/*.log"

# Restart and replay again: the same records leave the store unchanged.
snapshot() { (cd "$NL_WORK/corpus" && sha256sum * | sort); }
snapshot >"$NL_WORK/before.sha"
cp -a "$NL_WORK/corpus" "$NL_WORK/corpus.before"
nl_start_pipeline
# (the same six files as before: the default would now also replay the big
# document's stored copy, 005_<id>.txt, a record with another "path")
"$NL_BIN/newsline" replay "$NL_SRC"/corpus/*.txt "$NL_WORK/big.txt" >/dev/null 2>>"$NL_WORK/cli.log"
nl_wait_for 120 bash -c "[ \$(grep -c 'status=unchanged' '$NL_WORK/sink.log') -ge 6 ]"
check "second replay: the sink reports all six unchanged" \
  test "$(grep -c 'status=unchanged' "$NL_WORK/sink.log")" -ge 6
check "second replay: nothing updated" bash -c "! grep -q 'status=updated' '$NL_WORK/sink.log'"
snapshot >"$NL_WORK/after.sha"
check "second replay: the store is byte-for-byte unchanged" cmp -s "$NL_WORK/before.sha" "$NL_WORK/after.sha"
for d in fetcher parser tagger sink; do nl_stop "$d"; done

nl_summary
