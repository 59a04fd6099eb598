#!/usr/bin/env bash
# The sink's disk fills up mid-replay (fault matrix row 16): it logs one
# error line, stores no offset for what it did not write, retries with
# back-off, and once space returns stores everything exactly once.
#   A. space freed while the sink runs: it resumes by itself;
#   B. the sink is SIGKILLed while the disk is full, space freed, sink
#      restarted: nothing it had not written was acknowledged, so every
#      document comes again and is stored once.
# The corpus is a small tmpfs (the tests run as root); where mounting is not
# permitted it is an ordinary directory made immutable (chattr +i: creating
# files fails with EPERM) and the "full" state is that.
# usage: sink_disk_full.sh
source "$(dirname "$0")/lib.sh"
copies=30 # 150 documents under new ids per round

nl_isolate
corpus="$NL_WORK/corpus"
method=""
if mount -t tmpfs -o size=48m,mode=0755 tmpfs "$corpus" 2>/dev/null; then
  method=tmpfs
  cp "$NL_SRC"/corpus/*.txt "$corpus/"
elif chattr -i "$corpus" 2>/dev/null; then
  method=chattr
fi
echo "# fault injection: ${method:-none}"
[[ -n "$method" ]] || { echo "1..0 # SKIP neither mount nor chattr permitted"; exit 0; }
sink_cleanup() {
  local pid
  for pid in "${NL_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${NL_PIDS[@]}"; do nl_wait_pid "$pid" 15 || kill -KILL "$pid" 2>/dev/null; done
  if [[ $method == tmpfs ]]; then
    [[ $NL_FAIL -gt 0 ]] && cp -a "$corpus" "$NL_WORK/corpus.saved" 2>/dev/null
    umount -l "$corpus"
  else
    chattr -i "$corpus" 2>/dev/null
  fi
  nl_cleanup
}
trap sink_cleanup EXIT

# fill: leave the corpus no room (tmpfs: a ballast file over all but a few
# KiB; else: immutable). unfill: give it back.
fill() {
  if [[ $method == tmpfs ]]; then
    local avail
    avail=$(df -B1 --output=avail "$corpus" | tail -n 1)
    head -c $((avail - 8192)) /dev/zero >"$corpus/ballast" 2>/dev/null
  else
    chattr +i "$corpus"
  fi
}
unfill() {
  if [[ $method == tmpfs ]]; then rm -f "$corpus/ballast"; else chattr -i "$corpus"; fi
}
errors() { grep -c 'level=error' "$NL_WORK"/sink*.log | awk -F: '{s += $NF} END {print s + 0}'; }

nl_broker mock
nl_start_pipeline
"$NL_BIN/newsline" replay >/dev/null 2>>"$NL_WORK/cli.log" || die "replay failed"
nl_wait_for 120 nl_sink_has 5 || die "the seeds were not stored"

# ---- A: full, then space again while the sink runs ----
fill
"$NL_BIN/newsline" replay --copies $copies --salt fullA "$NL_SRC"/corpus/*.txt >/dev/null 2>>"$NL_WORK/cli.log" ||
  die "replay failed"
total=$((5 + copies * 5))
nl_wait_for 120 grep -q 'event=store_failed' "$NL_WORK/sink.log" || die "the sink never failed"
sleep 5 # several retries with back-off
grep 'event=store_failed' "$NL_WORK/sink.log" | head -n 1 | sed 's/^/# /'
check "A: the sink is still running while the disk is full" kill -0 "$NL_PID_sink"
check "A: one error line for the whole episode (got $(errors))" test "$(errors)" -eq 1
check "A: the error says why (no space / not permitted)" \
  grep -qE 'event=store_failed.*(No space left on device|Operation not permitted|database or disk is full)' \
  "$NL_WORK/sink.log"
stored_full=$(nl_sink_ids)
echo "# stored while full: $stored_full of $total"
check "A: not everything was stored while full" test "$stored_full" -lt $total
unfill
nl_wait_for 120 nl_sink_has $total
check "A: all $total stored once space returned (have $(nl_sink_ids))" test "$(nl_sink_ids)" -eq $total
check "A: the sink said it resumed" grep -q 'event=store_resumed' "$NL_WORK/sink.log"
check "A: every document exactly once, no temp files" \
  python3 "$NL_SRC/tests/e2e/corpus_once.py" "$corpus" $((total - 5))

# ---- B: full, SIGKILL, space again, restart ----
fill
"$NL_BIN/newsline" replay --copies $copies --salt fullB "$NL_SRC"/corpus/*.txt >/dev/null 2>>"$NL_WORK/cli.log" ||
  die "replay failed"
total=$((total + copies * 5))
nl_wait_for 120 bash -c "[[ \$(grep -c 'event=store_failed' '$NL_WORK/sink.log') -ge 2 ]]" ||
  die "the sink never failed in round B"
sleep 3
stored_full=$(nl_sink_ids)
kill -KILL "$NL_PID_sink"
wait "$NL_PID_sink" 2>/dev/null
echo "# sink killed with the disk full, $stored_full of $total stored"
check "B: killed before everything was stored" test "$stored_full" -lt $total
unfill
mv "$NL_WORK/sink.log" "$NL_WORK/sink1.log"
nl_start sink
nl_wait_for 180 nl_sink_has $total
check "B: after the restart all $total are stored (have $(nl_sink_ids))" \
  test "$(nl_sink_ids)" -eq $total
check "B: every document exactly once, no temp files" \
  python3 "$NL_SRC/tests/e2e/corpus_once.py" "$corpus" $((total - 5))
nl_check_corpus && ok "corpus checks: seeds unchanged, one sidecar each" || not_ok "corpus checks"
check "B: the restarted sink logged no error" bash -c "! grep -q 'level=error' '$NL_WORK/sink.log'"
for d in fetcher parser tagger sink; do
  nl_stop "$d"
  check "newsline-$d exits 0 on SIGTERM" test $? -eq 0
done
nl_summary
