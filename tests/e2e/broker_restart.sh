#!/usr/bin/env bash
# Fault matrix row 1: all brokers down for 10 s in the middle of a stream,
# then back. The daemons stay up, warn, resume; every document is stored
# exactly once. Runs its own Kafka (so the shared one is never disturbed).
source "$(dirname "$0")/lib.sh"
copies=40 # 200 documents under new ids
kdir="$NL_WORK/kafka"

nl_isolate
NEWSLINE_BROKERS=$("$NL_SRC/deploy/kafka.sh" start --dir "$kdir" --port 0 2>"$NL_WORK/kafka-start.log") ||
  die "cannot start Kafka: $(tail -5 "$NL_WORK/kafka-start.log")"
export NEWSLINE_BROKERS
stop_kafka() { "$NL_SRC/deploy/kafka.sh" reset --dir "$kdir" >/dev/null 2>&1; }
trap 'stop_kafka; nl_cleanup' EXIT
"$NL_BIN/newsline" topics --partitions 3 >"$NL_WORK/topics.log" 2>&1 || die "topics: $(cat "$NL_WORK/topics.log")"

# A slow tagger keeps records in flight across the outage.
nl_start fetcher
nl_start parser
nl_start tagger --set debug.process_delay_ms=20
nl_start sink
"$NL_BIN/newsline" replay --copies $copies --salt outage >/dev/null 2>>"$NL_WORK/cli.log" ||
  die "replay failed"
total=$((copies * 5))
nl_wait_for 120 nl_sink_has 10 || die "nothing stored before the outage"

"$NL_SRC/deploy/kafka.sh" stop --dir "$kdir" >>"$NL_WORK/kafka-start.log" 2>&1 || die "cannot stop Kafka"
before=$(nl_sink_ids)
echo "# Kafka stopped with $before of $total stored; down for 10 s"
sleep 10
alive=0
for d in fetcher parser tagger sink; do
  var="NL_PID_$d"
  kill -0 "${!var}" 2>/dev/null && alive=$((alive + 1))
done
check "all four daemons stay up while the brokers are down" test $alive -eq 4
check "the outage came mid-stream (fewer than $total stored)" test "$before" -lt $total
"$NL_SRC/deploy/kafka.sh" start --dir "$kdir" >/dev/null 2>>"$NL_WORK/kafka-start.log" ||
  die "cannot restart Kafka"

nl_wait_for 240 nl_sink_has $total || nl_dump_logs
check "after the brokers return all $total documents are stored (have $(nl_sink_ids))" \
  test "$(nl_sink_ids)" -eq $total
check "the daemons warned about the outage" grep -q 'level=warn.*\(kafka_error\|librdkafka\)' "$NL_WORK/parser.log"
check "one text file and one sidecar per document" python3 - "$NL_WORK/corpus" $total <<'PY'
import os, re, sys, collections
d, total = sys.argv[1], int(sys.argv[2])
per_id = collections.Counter(m.group(1) for n in os.listdir(d)
                             for m in [re.fullmatch(r"\d+_([0-9a-f]{16})\.json", n)] if m)
assert len(per_id) == total and set(per_id.values()) == {1}, per_id.most_common(2)
PY
for d in fetcher parser tagger sink; do
  nl_stop "$d"
  check "newsline-$d exits 0 on SIGTERM after the outage" test $? -eq 0
done
nl_summary
