#!/usr/bin/env bash
# The stage runner's HTTP endpoint (metrics.listen) in the parser, tagger
# and sink, on a mock broker: each is started with metrics.listen on port 0
# (the port is read from its metrics_listening line), /healthz is waited
# for (bounded), the five seeds are replayed and stored, then for each
# daemon: /healthz is 200 "ok" (GET and HEAD); /metrics parses as the text
# format and its stage counters say what the daemon did: 5 records in, no
# dead letters, 3 partitions assigned, nothing pending or in flight once
# idle (a bounded wait: the in-flight gauge is set by the poll loop). After
# SIGTERM each exits 0 and its port is closed. A poison record then
# given to the parser is counted as a dead letter with its reason code. A daemon started without
# metrics.listen has no metrics_listening line and listens on nothing.
# No timing assertions.
# usage: stage_metrics.sh
source "$(dirname "$0")/lib.sh"

nl_isolate
nl_broker mock

daemons=(parser tagger sink)
declare -A port
for d in "${daemons[@]}"; do
  nl_start "$d" --set metrics.listen=127.0.0.1:0
done
for d in "${daemons[@]}"; do
  nl_wait_for 60 grep -q 'event=metrics_listening' "$NL_WORK/$d.log" ||
    die "$d: no metrics_listening line within 60 s"
  port[$d]=$(grep -o 'event=metrics_listening.* port=[0-9]*' "$NL_WORK/$d.log" | head -1 |
    sed 's/.*port=//')
  echo "# $d: http://127.0.0.1:${port[$d]}/"
done

# healthz D: the body of /healthz, with " <status>" appended.
healthz() { curl -sS --max-time 5 -w ' %{http_code}' "http://127.0.0.1:${port[$1]}/healthz"; }
healthy() { [[ "$(healthz "$1")" == $'ok\n 200' ]]; }
for d in "${daemons[@]}"; do
  nl_wait_for 60 healthy "$d" || die "$d: /healthz not ok within 60 s (last: $(healthz "$d"))"
done

"$NL_BIN/newsline" replay >"$NL_WORK/replay.out" 2>>"$NL_WORK/cli.log"
check "replay exits 0" test $? -eq 0
nl_wait_for 120 nl_sink_has 5 || not_ok "sink stored 5 documents within 120 s (has $(nl_sink_ids))"
check "the sink stored the five seeds" test "$(nl_sink_ids)" -eq 5

# scrape D: the page into $NL_WORK/D.metrics; metric D NAME LABELS: a value.
scrape() {
  curl -sS --max-time 5 "http://127.0.0.1:${port[$1]}/metrics" >"$NL_WORK/$1.metrics.tmp" &&
    mv "$NL_WORK/$1.metrics.tmp" "$NL_WORK/$1.metrics"
}
metric() { K="$2$3 " awk 'index($0, ENVIRON["K"]) == 1 {print $NF; exit}' "$NL_WORK/$1.metrics"; }
idle() {
  scrape "$1" || return 1
  [[ "$(metric "$1" newsline_stage_records_in_total "{stage=\"$1\"}")" == 5 &&
    "$(metric "$1" newsline_stage_records_in_flight "{stage=\"$1\"}")" == 0 ]]
}

for d in "${daemons[@]}"; do
  nl_wait_for 60 idle "$d" ||
    not_ok "$d: 5 records in and none in flight within 60 s; last scrape: $(tr '\n' '|' <"$NL_WORK/$d.metrics" 2>/dev/null)"
  sed "s/^/# $d | /" "$NL_WORK/$d.metrics"
  check "$d: the page parses as the text format, every family has HELP and TYPE" \
    python3 - "$NL_WORK/$d.metrics" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
assert text.endswith("\n")
typed, helped, names = {}, set(), []
series = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (\S+)$')
for line in text.splitlines():
    if line.startswith("# HELP "):
        helped.add(line.split()[2])
    elif line.startswith("# TYPE "):
        _, _, n, t = line.split(" ")
        assert t in ("counter", "gauge"), line
        typed[n] = t
    else:
        m = series.match(line)
        assert m, "not a sample line: %r" % line
        float(m.group(3))
        names.append(m.group(1))
assert set(names) <= set(typed) and set(typed) == helped, (names, typed, helped)
for n in ("newsline_stage_records_in_total", "newsline_stage_records_out_total",
          "newsline_stage_dead_letters_total", "newsline_stage_records_pending",
          "newsline_stage_records_in_flight", "newsline_stage_assigned_partitions"):
    assert n in typed, n
PY
  l="{stage=\"$d\"}"
  check "$d: records in = the 5 seeds it processed" \
    test "$(metric "$d" newsline_stage_records_in_total "$l")" == 5
  check "$d: no dead letters" bash -c "! grep -q '^newsline_stage_dead_letters_total{' '$NL_WORK/$d.metrics'"
  check "$d: 3 partitions assigned (one member, 3 partitions)" \
    test "$(metric "$d" newsline_stage_assigned_partitions "$l")" == 3
  check "$d: nothing pending" test "$(metric "$d" newsline_stage_records_pending "$l")" == 0
  check "$d: /healthz is 200 ok" healthy "$d"
  check "$d: HEAD /healthz is 200, no body" bash -c \
    "[[ \"\$(curl -sS --max-time 5 -I -w '|%{http_code}|%{size_download}' http://127.0.0.1:${port[$d]}/healthz | tail -1)\" == *'|200|0' ]]"
done
# what the parser and tagger produced: one parsed record per seed; the
# tagger's tagged records plus their per-tag copies (at least one each).
check "parser: 5 records out" test "$(metric parser newsline_stage_records_out_total '{stage="parser"}')" == 5
check "tagger: at least 5 records out (fan-out copies included)" \
  test "$(metric tagger newsline_stage_records_out_total '{stage="tagger"}')" -ge 5

# One poison record for the parser: dead-lettered, counted by its code
# (the one its dead_letter log line gives).
printf 'not json at all\n' | "$NL_BIN/newsline" produce "$NEWSLINE_TOPICS_RAW" 2>>"$NL_WORK/cli.log" ||
  die "could not produce the poison record"
dead_counted() {
  scrape parser || return 1
  [[ "$(metric parser newsline_stage_records_in_total '{stage="parser"}')" == 6 &&
    $(grep -c '^newsline_stage_dead_letters_total{' "$NL_WORK/parser.metrics") -eq 1 ]]
}
nl_wait_for 60 dead_counted || not_ok "parser: the poison record counted within 60 s"
code=$(grep -o 'event=dead_letter.* reason_code=[a-z_]*' "$NL_WORK/parser.log" | head -1 | sed 's/.*reason_code=//')
check "parser: one dead letter counted, labelled with its reason code ($code)" \
  test "$(metric parser newsline_stage_dead_letters_total "{stage=\"parser\",code=\"$code\"}")" == 1
check "parser: the dead letter is not a record out" \
  test "$(metric parser newsline_stage_records_out_total '{stage="parser"}')" == 5

# listening PID: the TCP sockets of PID in LISTEN state (from /proc).
listening() {
  local pid=$1 inodes
  inodes=$(find "/proc/$pid/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null | tr -dc '0-9\n')
  [[ -n "$inodes" ]] || return 0
  awk 'NR > 1 && $4 == "0A" {print $10}' /proc/net/tcp /proc/net/tcp6 | grep -Fxf <(echo "$inodes")
}
for d in "${daemons[@]}"; do
  check "$d: SIGTERM: exit 0" nl_stop "$d"
  check "$d: the port is closed after exit" \
    bash -c "! curl -s --max-time 2 -o /dev/null http://127.0.0.1:${port[$d]}/healthz"
done

# Without metrics.listen: nothing listens.
"$NL_BIN/newsline-parser" >>"$NL_WORK/parser2.out" 2>>"$NL_WORK/parser2.log" &
NL_PID_parser2=$!
NL_PIDS+=("$NL_PID_parser2")
nl_wait_for 60 grep -q 'event=started' "$NL_WORK/parser2.log" ||
  not_ok "second parser: started within 60 s"
check "metrics.listen unset: no metrics_listening line" \
  bash -c "! grep -q metrics_listening '$NL_WORK/parser2.log'"
check "metrics.listen unset: the daemon listens on no TCP port" \
  test -z "$(listening "$NL_PID_parser2")"
check "second parser: SIGTERM exit 0" nl_stop parser2

nl_summary
