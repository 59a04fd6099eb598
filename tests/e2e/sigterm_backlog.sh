#!/usr/bin/env bash
# SIGTERM each stage while it still has a backlog of fetched records: it
# must drain what it started, commit, leave the group and exit 0; after a
# restart every document is stored exactly once.
# usage: sigterm_backlog.sh mock|real
source "$(dirname "$0")/lib.sh"
mode=${1:?mock or real}
copies=60 # 300 documents under new ids

nl_isolate
nl_broker "$mode"
# Slow stages (10 ms a record) so every SIGTERM below lands mid-stream.
nl_start fetcher
for d in parser tagger sink; do
  nl_start "$d" --set debug.process_delay_ms=10
done
"$NL_BIN/newsline" replay --copies $copies --salt backlog >/dev/null 2>>"$NL_WORK/cli.log" ||
  die "replay failed"
total=$((copies * 5))

for d in parser tagger sink; do
  nl_wait_for 120 bash -c "grep -q 'event=stored' '$NL_WORK/sink.log'" || die "nothing stored"
  check "SIGTERM to newsline-$d comes mid-stream ($(nl_sink_ids) of $total stored)" \
    test "$(nl_sink_ids)" -lt $total
  nl_stop "$d"
  rc=$?
  check "newsline-$d exits 0 on SIGTERM with a backlog (got $rc)" test $rc -eq 0
  nl_start "$d"
done
nl_wait_for 240 nl_sink_has $total
check "all $total documents stored after the restarts (have $(nl_sink_ids))" test "$(nl_sink_ids)" -eq $total
check "one text file and one sidecar per document, no temp files" python3 - "$NL_WORK/corpus" $total <<'PY'
import os, re, sys, collections
d, total = sys.argv[1], int(sys.argv[2])
names = os.listdir(d)
assert not [n for n in names if n.startswith(".nl-tmp.")], "temp files left"
per_id = collections.Counter()
for n in names:
    m = re.fullmatch(r"\d+_([0-9a-f]{16})\.(txt|json)", n)
    if m:
        per_id[m.group(1)] += 1
new = {i: c for i, c in per_id.items() if c == 2}
seeds = 5  # shipped .txt files without a sidecar: replayed copies have new ids
assert len([n for n in names if n.endswith(".json")]) == total, "sidecar count"
assert len(new) == total and all(c in (1, 2) for c in per_id.values()), per_id.most_common(3)
assert len(per_id) == total + seeds, len(per_id)
PY
check "no daemon logged an error" bash -c "! grep -h 'level=error' '$NL_WORK'/*.log"
for d in fetcher parser tagger sink; do nl_stop "$d"; done
nl_summary
