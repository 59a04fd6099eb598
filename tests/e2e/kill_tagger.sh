#!/usr/bin/env bash
# SIGKILL the tagger in the middle of a replay, restart it, and still end
# with the five seeds stored exactly once.
# usage: kill_tagger.sh mock|real
source "$(dirname "$0")/lib.sh"
mode=${1:?mock or real}

nl_isolate
nl_broker "$mode"
nl_start fetcher
nl_start parser
nl_start sink
# A slow tagger (1.5 s a record) so the kill lands mid-batch for sure.
nl_start tagger --set debug.process_delay_ms=1500

"$NL_BIN/newsline" replay >/dev/null 2>>"$NL_WORK/cli.log" || die "replay failed"
nl_wait_for 120 nl_sink_has 1 || die "nothing stored before the kill"
stored_before=$(nl_sink_ids)
kill -KILL "$NL_PID_tagger"
wait "$NL_PID_tagger" 2>/dev/null
echo "# tagger killed with $stored_before of 5 stored"
check "the tagger was killed mid-batch (fewer than 5 stored)" test "$stored_before" -lt 5

nl_start tagger
nl_wait_for 180 nl_sink_has 5
check "after the restart all five are stored" test "$(nl_sink_ids)" -eq 5
nl_check_corpus && ok "corpus checks: exactly one copy of each, tags intact" || not_ok "corpus checks"
redelivered=$(grep -c 'status=unchanged' "$NL_WORK/sink.log")
echo "# records the restarted tagger re-sent and the sink found unchanged: $redelivered"
for d in fetcher parser tagger sink; do
  nl_stop "$d"
  check "newsline-$d exits 0 on SIGTERM" test $? -eq 0
done
nl_summary
