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
"$NL_BIN/newsline" replay >"$NL_WORK/replay.out" 2>>"$NL_WORK/cli.log"
check "replay exits 0 with every document acknowledged" test $? -eq 0
check "replay prints a summary" grep -q 'replayed 5 document(s).*5 acknowledged, 0 failed' "$NL_WORK/cli.log"

nl_wait_for 120 nl_sink_has 5 || not_ok "sink stored 5 documents within 120 s (has $(nl_sink_ids))"
check "the sink stored all five seeds" test "$(nl_sink_ids)" -eq 5
nl_check_corpus && ok "corpus checks" || not_ok "corpus checks"

# Dead letters: three poison records, each with stage, reason and origin.
"$NL_BIN/newsline" tail --meta --count 3 --idle-ms 30000 "$NEWSLINE_TOPICS_DLQ" \
  >"$NL_WORK/dlq.ndjson" 2>>"$NL_WORK/cli.log"
check "three dead letters on the DLQ topic" test "$(wc -l <"$NL_WORK/dlq.ndjson")" -eq 3
check "dead letters carry stage, reason code and origin in record and headers" python3 - "$NL_WORK/dlq.ndjson" "$NEWSLINE_TOPICS_RAW" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
codes = sorted(r["value"]["reason_code"] for r in recs)
assert codes == ["bad_id", "not_json", "wrong_schema"], codes
for r in recs:
    v, h = r["value"], r["headers"]
    assert v["schema"] == "newsline.dlq/1" and v["stage"] == "parser", v
    assert v["origin"]["topic"] == sys.argv[2] and v["origin"]["offset"] >= 0, v
    assert h["nl-stage"] == "parser" and h["nl-reason-code"] == v["reason_code"], h
    assert h["nl-origin-topic"] == sys.argv[2], h
    assert int(h["nl-origin-offset"]) == v["origin"]["offset"], h
    assert v["payload"]["length"] > 0 and v["payload"]["prefix"], v
PY

# SIGTERM: every daemon drains, commits and exits 0.
for d in fetcher parser tagger sink; do
  nl_stop "$d"
  check "newsline-$d exits 0 on SIGTERM" test $? -eq 0
done
check "no daemon logged an error" bash -c "! grep -h 'level=error' '$NL_WORK'/*.log"

# Restart and replay again: the same records leave the store unchanged.
snapshot() { (cd "$NL_WORK/corpus" && sha256sum * | sort); }
snapshot >"$NL_WORK/before.sha"
nl_start_pipeline
"$NL_BIN/newsline" replay >/dev/null 2>>"$NL_WORK/cli.log"
nl_wait_for 120 bash -c "[ \$(grep -c 'status=unchanged' '$NL_WORK/sink.log') -ge 5 ]"
check "second replay: the sink reports all five unchanged" \
  test "$(grep -c 'status=unchanged' "$NL_WORK/sink.log")" -ge 5
snapshot >"$NL_WORK/after.sha"
check "second replay: the store is byte-for-byte unchanged" cmp -s "$NL_WORK/before.sha" "$NL_WORK/after.sha"
for d in fetcher parser tagger sink; do nl_stop "$d"; done

nl_summary
