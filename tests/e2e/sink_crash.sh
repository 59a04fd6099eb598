#!/usr/bin/env bash
# SIGKILL the sink in the middle of a large replay, while it holds a batch
# written but not yet durable (temp files, offsets not stored), restart it,
# and end with every document stored exactly once and no temp file left.
# usage: sink_crash.sh mock|real
source "$(dirname "$0")/lib.sh"
mode=${1:?mock or real}
copies=80 # 400 documents under new ids

nl_isolate
nl_broker "$mode"
for d in fetcher parser tagger; do nl_start "$d"; done
# A sink slowed to ~200 records/s (5 ms each, ~20 a batch) so both kills land
# mid-replay with a batch written but not synced.
nl_start sink --set debug.process_delay_ms=5
"$NL_BIN/newsline" replay >/dev/null 2>>"$NL_WORK/cli.log" || die "replay failed"
"$NL_BIN/newsline" replay --copies $copies --salt crash "$NL_SRC"/corpus/*.txt >/dev/null 2>>"$NL_WORK/cli.log" ||
  die "replay failed"
total=$((5 + copies * 5))
corpus="$NL_WORK/corpus"
has_tmp() { compgen -G "$corpus/.nl-tmp.*" >/dev/null; }
stored_here() { [[ $(grep -c 'event=stored' "$NL_WORK/sink.log") -ge $1 ]]; }

for round in 1 2; do
  nl_wait_for 180 stored_here 50 || die "too little stored before kill $round"
  nl_wait_for 10 has_tmp # land the kill while a batch is written but not synced
  kill -KILL "$NL_PID_sink"
  wait "$NL_PID_sink" 2>/dev/null
  left=$(compgen -G "$corpus/.nl-tmp.*" | wc -l)
  echo "# kill $round: $(nl_sink_ids) of $total stored, $left temp files left by the killed sink"
  check "kill $round lands mid-replay" test "$(nl_sink_ids)" -lt $total
  mv "$NL_WORK/sink.log" "$NL_WORK/sink$round.log"
  if [[ $round == 1 ]]; then nl_start sink --set debug.process_delay_ms=5; else nl_start sink; fi
done
nl_wait_for 240 nl_sink_has $total
check "after the restarts all $total are stored (have $(nl_sink_ids))" \
  test "$(nl_sink_ids)" -eq $total
check "every document exactly once, no temp files" \
  python3 "$NL_SRC/tests/e2e/corpus_once.py" "$corpus" $((total - 5))
nl_check_corpus && ok "corpus checks: seeds unchanged, one sidecar each" || not_ok "corpus checks"
indexed=$("$NL_BIN/newsline" query --corpus "$corpus" --json --limit 0 2>"$NL_WORK/query.log" | wc -l)
check "the index lists every document once (have $indexed)" test "$indexed" -eq $total
check "no daemon logged an error" bash -c "! grep -h 'level=error' '$NL_WORK'/*.log"
for d in fetcher parser tagger sink; do
  nl_stop "$d"
  check "newsline-$d exits 0 on SIGTERM" test $? -eq 0
done
nl_summary
