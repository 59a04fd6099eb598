#!/usr/bin/env bash
# End-to-end benchmark of the newsline pipeline: N documents replayed into a
# fresh broker, through newsline-parser, -tagger and -sink as separate
# processes, into a temp corpus; then the same documents through the three
# stages as NDJSON filters (no Kafka) as the peer. See bench/README.md.
#
# usage: bench/e2e.sh [--docs N] [--broker real|mock] [--kafka PROP=VALUE]...
#                     [--keep] [--json FILE]
#   --docs N      documents to push through (rounded up to a multiple of 5,
#                 the seed count; default 2000)
#   --broker      real: a single-node Kafka from deploy/kafka.sh (default)
#                 mock: librdkafka's in-memory mock cluster (newsline broker)
#   --kafka P=V   librdkafka property for every daemon and the replay (the
#                 config file's "kafka" object; repeatable; default: none)
#   --keep        keep the temp work dir (logs, corpora) after the run
#   --json FILE   also write the figures as JSON to FILE
# Exit status: 0 clean run, 1 the pipeline lost/duplicated/errored or a wait
# timed out, 2 bad usage or no build.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/build/bin"
HELPER="$ROOT/bench/bench.py"
CMDLINE="bench/e2e.sh${*:+ $*}"
DOCS=2000
BROKER=real
KEEP=0
JSON_OUT=""
PARTITIONS=6
KAFKA_PROPS=()

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --docs) DOCS="${2:-}"; shift 2 || { usage >&2; exit 2; } ;;
    --docs=*) DOCS="${1#--docs=}"; shift ;;
    --broker) BROKER="${2:-}"; shift 2 || { usage >&2; exit 2; } ;;
    --broker=*) BROKER="${1#--broker=}"; shift ;;
    --kafka) [[ "${2:-}" == ?*=* ]] || { echo "e2e.sh: --kafka needs PROP=VALUE" >&2; exit 2; }
      KAFKA_PROPS+=("$2"); shift 2 ;;
    --keep) KEEP=1; shift ;;
    --json) JSON_OUT="${2:-}"; shift 2 || { usage >&2; exit 2; } ;;
    -h|--help) usage; exit 0 ;;
    *) echo "e2e.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
[[ "$DOCS" =~ ^[1-9][0-9]*$ ]] && ((DOCS <= 1000000)) ||
  { echo "e2e.sh: --docs must be 1..1000000" >&2; exit 2; }
[[ "$BROKER" == real || "$BROKER" == mock ]] ||
  { echo "e2e.sh: --broker must be real or mock" >&2; exit 2; }
[[ -z "$JSON_OUT" || "$JSON_OUT" == /* ]] || JSON_OUT="$PWD/$JSON_OUT"

for b in newsline newsline-fetcher newsline-parser newsline-tagger newsline-sink; do
  if [[ ! -x "$BIN/$b" ]]; then
    echo "e2e.sh: $BIN/$b not found; build first:" >&2
    echo "  cmake -S $ROOT -B $ROOT/build -DCMAKE_BUILD_TYPE=Release && cmake --build $ROOT/build -j2" >&2
    exit 2
  fi
done
command -v python3 >/dev/null || { echo "e2e.sh: python3 is required" >&2; exit 2; }

NSEEDS=$(find "$ROOT/corpus" -maxdepth 1 -name '[0-9]*_????????????????.txt' | wc -l)
((NSEEDS > 0)) || { echo "e2e.sh: no seed documents in $ROOT/corpus" >&2; exit 2; }
COPIES=$(((DOCS + NSEEDS - 1) / NSEEDS))
TOTAL=$((COPIES * NSEEDS))

# Every wait is bounded; the bounds grow with the document count.
clamp() { local v=$1 lo=$2 hi=$3; ((v < lo)) && v=$lo; ((v > hi)) && v=$hi; echo "$v"; }
T_REPLAY=$(clamp $((60 + TOTAL / 20)) 60 900)      # replay must have every ack
T_STORE=$(clamp $((120 + TOTAL / 10)) 120 1800)    # sink must hold every sidecar
T_STALL=120                                        # ... and progress at least this often
T_PEER=$(clamp $((60 + TOTAL / 10)) 60 1800)       # stdin peer
T_STOP=60                                          # SIGTERM -> exit

WORK=$(mktemp -d "${TMPDIR:-/tmp}/newsline-bench.XXXXXX")
LOGS="$WORK/logs"
mkdir -p "$LOGS"
PIDS=()
FAILED=0
KAFKA_DIR=""

log() { printf '# %s\n' "$*" >&2; }
now_ms() { date +%s%3N; }

source "$ROOT/tests/e2e/wait.sh"

# forget_pid PID: a reaped child; cleanup must not signal its (reusable) PID.
forget_pid() {
  local i
  for i in "${!PIDS[@]}"; do [[ "${PIDS[$i]}" == "$1" ]] && unset 'PIDS[i]'; done
}

cleanup() {
  local pid i idx=("${!PIDS[@]}")
  # Newest first: daemons drain while their broker is still up, then the broker.
  for ((i = ${#idx[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[${idx[i]}]}
    kill -TERM "$pid" 2>/dev/null
    nl_wait_pid "$pid" 45 || { log "pid $pid ignored SIGTERM for 45 s: SIGKILL"; kill -KILL "$pid" 2>/dev/null; }
  done
  if [[ -n "$KAFKA_DIR" && -d "$KAFKA_DIR" ]]; then
    [[ -f "$KAFKA_DIR/kafka.log" ]] && cp "$KAFKA_DIR/kafka.log" "$LOGS/kafka-broker.txt" 2>/dev/null
    timeout 90 "$ROOT/deploy/kafka.sh" reset --dir "$KAFKA_DIR" >/dev/null 2>>"$LOGS/kafka-stop.txt" ||
      log "deploy/kafka.sh reset --dir $KAFKA_DIR failed; see $LOGS/kafka-stop.txt"
  fi
  if ((KEEP || FAILED)); then
    log "work dir kept: $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'FAILED=1; exit 130' INT TERM

fail() {
  FAILED=1
  echo "e2e.sh: FAILED: $*" >&2
  local f
  for f in "$LOGS"/*.log; do
    [[ -s "$f" ]] || continue
    echo "# --- tail of $(basename "$f")" >&2
    tail -n 15 "$f" | sed 's/^/#   /' >&2
  done
  exit 1
}

# ---------------------------------------------------------- environment
# Only this run's settings: no inherited NEWSLINE_* (but the Kafka jar cache).
while IFS='=' read -r name _; do
  [[ "$name" == NEWSLINE_* && "$name" != NEWSLINE_CACHE ]] && unset "$name"
done < <(env)
RUN_ID="bench$$-$RANDOM"
export NEWSLINE_TOPICS_FETCH="$RUN_ID.fetch"
export NEWSLINE_TOPICS_RAW="$RUN_ID.raw"
export NEWSLINE_TOPICS_PARSED="$RUN_ID.parsed"
export NEWSLINE_TOPICS_TAGGED="$RUN_ID.tagged"
export NEWSLINE_TOPICS_DLQ="$RUN_ID.dlq"
export NEWSLINE_GROUP_PREFIX="$RUN_ID-"
export NEWSLINE_SINK_CORPUS_DIR="$WORK/corpus"
export NEWSLINE_CONNECT_TIMEOUT_MS=30000
# Stock settings unless --kafka: no kafka.* overrides (linger.ms=5, auto
# commit every 5 s).
python3 - "$WORK/config.json" "${KAFKA_PROPS[@]}" <<'PY' || exit 2
import json, sys
props = dict(a.split("=", 1) for a in sys.argv[2:])
json.dump({"kafka": props}, open(sys.argv[1], "w"))
PY
export NEWSLINE_CONFIG="$WORK/config.json"
mkdir -p "$WORK/corpus" "$WORK/corpus-stdin"
cp "$ROOT"/corpus/*.txt "$WORK/corpus/"
cp "$ROOT"/corpus/*.txt "$WORK/corpus-stdin/"

CPUS=$(nproc)
DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
# +dirty: tracked files other than bench/ differ from HEAD
if [[ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no -- . ':!bench' 2>/dev/null)" ]]; then
  COMMIT="$COMMIT+dirty"
fi
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)
bin_stamp() { stat -c '%n %Y' "$BIN"/newsline* 2>/dev/null | md5sum | cut -c1-12; }
BIN_STAMP=$(bin_stamp)
# Is build/bin older than some source? (The commit below would then overstate.)
STALE=$(find "$ROOT" \( -path "$ROOT/build*" -o -path "$ROOT/.git" \) -prune -o \
  \( -name '*.c' -o -name '*.h' -o -name CMakeLists.txt \) -newer "$BIN/newsline-sink" -print 2>/dev/null |
  sed "s|^$ROOT/||" | head -n 3 | tr '\n' ' ')
BUILD_NOTE="build/bin newer than every source"
[[ -z "$STALE" ]] || BUILD_NOTE="build/bin OLDER than: $STALE(rebuild for exact provenance)"
log "newsline e2e benchmark: $TOTAL documents ($NSEEDS seeds x $COPIES copies), broker=$BROKER"
log "command: $CMDLINE | date: $DATE | commit: $COMMIT | cpus: $CPUS | work: $WORK"

# --------------------------------------------------------------- broker
if [[ "$BROKER" == mock ]]; then
  "$BIN/newsline" broker --partitions "$PARTITIONS" --bootstrap-file "$WORK/bootstrap" \
    >/dev/null 2>"$LOGS/broker.log" &
  BROKER_PID=$!
  PIDS+=("$BROKER_PID")
  nl_wait_for 30 test -s "$WORK/bootstrap" || fail "mock broker did not start within 30 s"
  NEWSLINE_BROKERS=$(head -n1 "$WORK/bootstrap")
  export NEWSLINE_BROKERS
else
  KAFKA_DIR="$WORK/kafka"
  log "starting Kafka (deploy/kafka.sh start --dir $KAFKA_DIR --port 0)"
  timeout 600 "$ROOT/deploy/kafka.sh" start --dir "$KAFKA_DIR" --port 0 \
    >"$WORK/bootstrap" 2>"$LOGS/kafka-start.txt" ||
    fail "deploy/kafka.sh start failed: $(tail -n 20 "$LOGS/kafka-start.txt")"
  NEWSLINE_BROKERS=$(head -n1 "$WORK/bootstrap")
  [[ -n "$NEWSLINE_BROKERS" ]] || fail "deploy/kafka.sh start printed no bootstrap address"
  export NEWSLINE_BROKERS
  timeout 120 "$BIN/newsline" topics --partitions "$PARTITIONS" >"$LOGS/topics.txt" 2>&1 ||
    fail "newsline topics failed: $(cat "$LOGS/topics.txt")"
fi
log "broker ($BROKER): $NEWSLINE_BROKERS, topics $RUN_ID.* with $PARTITIONS partitions"

# -------------------------------------------------------------- daemons
declare -A DPID
for d in fetcher parser tagger sink; do
  "$BIN/newsline-$d" >"$LOGS/$d.out" 2>"$LOGS/$d.log" &
  DPID[$d]=$!
  PIDS+=("$!")
done
joined() {
  local d
  for d in fetcher parser tagger sink; do
    kill -0 "${DPID[$d]}" 2>/dev/null || fail "newsline-$d exited during start-up"
    grep -q 'event=assigned' "$LOGS/$d.log" || return 1
  done
}
nl_wait_for 90 joined || fail "the daemons did not all get partitions (event=assigned) within 90 s"
log "all four daemons joined their groups"

# --------------------------------------------------------------- replay
# --salt copy (replay's default salt for --copies > 1, explicit so that even
# one copy gets new ids): copy k of seed <id> is hash("<id>/copy/<k>").
sidecars() { find "$WORK/corpus" -maxdepth 1 -name '*.json' | wc -l; }
T0=$(now_ms)
timeout "$T_REPLAY" "$BIN/newsline" replay --copies "$COPIES" --salt copy >"$LOGS/replay.out" 2>"$LOGS/replay.log"
rc=$?
T_REPLAYED=$(now_ms)
((rc == 0)) || fail "newsline replay exited $rc (124: timeout after ${T_REPLAY}s)"
log "$(grep 'replayed' "$LOGS/replay.log" | tail -n1)"

deadline=$((SECONDS + T_STORE))
last_n=-1
last_change=$SECONDS
while :; do
  n=$(sidecars)
  ((n >= TOTAL)) && break
  if ((n != last_n)); then last_n=$n; last_change=$SECONDS; fi
  for d in parser tagger sink; do
    kill -0 "${DPID[$d]}" 2>/dev/null || fail "newsline-$d died with $n of $TOTAL stored"
  done
  ((SECONDS - last_change > T_STALL)) && fail "no progress for ${T_STALL}s: $n of $TOTAL stored"
  ((SECONDS > deadline)) && fail "timeout after ${T_STORE}s: $n of $TOTAL stored"
  sleep 0.2
done
T_SEEN=$(now_ms)
log "all $TOTAL sidecars present $((T_SEEN - T0)) ms after the replay started"
# A short grace period, so late duplicates (if any) show up in the logs.
sleep 3

# SIGTERM: every daemon drains, commits and exits 0.
for d in fetcher parser tagger sink; do kill -TERM "${DPID[$d]}" 2>/dev/null; done
STOP_FAIL=""
for d in fetcher parser tagger sink; do
  if nl_wait_pid "${DPID[$d]}" "$T_STOP"; then
    wait "${DPID[$d]}"; rc=$?
    ((rc == 0)) || STOP_FAIL+=" newsline-$d exit=$rc"
  else
    kill -KILL "${DPID[$d]}" 2>/dev/null
    wait "${DPID[$d]}" 2>/dev/null
    STOP_FAIL+=" newsline-$d did not exit within ${T_STOP}s"
  fi
  forget_pid "${DPID[$d]}"
done
# Free the CPUs for the peer: stop the broker now (reset deletes it at exit).
if [[ "$BROKER" == mock ]]; then
  kill -TERM "$BROKER_PID" 2>/dev/null
  nl_wait_pid "$BROKER_PID" 15 || kill -KILL "$BROKER_PID" 2>/dev/null
  wait "$BROKER_PID" 2>/dev/null
  forget_pid "$BROKER_PID"
else
  timeout 90 "$ROOT/deploy/kafka.sh" stop --dir "$KAFKA_DIR" >/dev/null 2>>"$LOGS/kafka-stop.txt"
fi

# ------------------------------------------------------------ stdin peer
log "stdin peer: the same $TOTAL documents through parser | tagger | sink --stdin"
python3 "$HELPER" gen-ndjson "$ROOT/corpus" "$COPIES" "$WORK/raw.ndjson" >/dev/null ||
  fail "could not generate the peer's NDJSON"
mkfifo "$WORK/p1" "$WORK/p2"
P0=$(now_ms)
"$BIN/newsline-parser" --stdin <"$WORK/raw.ndjson" >"$WORK/p1" 2>"$LOGS/stdin-parser.txt" &
SPID[0]=$!
"$BIN/newsline-tagger" --stdin <"$WORK/p1" >"$WORK/p2" 2>"$LOGS/stdin-tagger.txt" &
SPID[1]=$!
NEWSLINE_SINK_CORPUS_DIR="$WORK/corpus-stdin" \
  "$BIN/newsline-sink" --stdin <"$WORK/p2" >"$WORK/stored-stdin.ndjson" 2>"$LOGS/stdin-sink.txt" &
SPID[2]=$!
PIDS+=("${SPID[@]}")
PEER_RCS=""
peer_deadline=$((SECONDS + T_PEER))
for pid in "${SPID[@]}"; do
  if nl_wait_pid "$pid" $((peer_deadline - SECONDS > 1 ? peer_deadline - SECONDS : 1)); then
    wait "$pid"; PEER_RCS+=" $?"
    forget_pid "$pid"
  else
    PEER_RCS+=" timeout"
  fi
done
PEER_MS=$(($(now_ms) - P0))
PEER_RCS="${PEER_RCS# }"
[[ "$PEER_RCS" == "0 0 0" ]] ||
  fail "stdin peer stages (parser tagger sink) exited: $PEER_RCS (timeout ${T_PEER}s)"
PEER_SECS=$(python3 -c "print($PEER_MS / 1000.0)")

# --------------------------------------------------------------- report
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)
BIN_CHANGED=""
[[ "$(bin_stamp)" == "$BIN_STAMP" ]] ||
  BIN_CHANGED="build/bin was rebuilt during the run: figures mix two builds"
ANALYZE=(python3 "$HELPER" analyze --corpus "$WORK/corpus" --seeds "$ROOT/corpus"
  --copies "$COPIES" --t0-ms "$T0" --logs "$LOGS"
  --peer-corpus "$WORK/corpus-stdin" --peer-out "$WORK/stored-stdin.ndjson"
  --peer-secs "$PEER_SECS"
  --meta "command=$CMDLINE" --meta "date=$DATE" --meta "commit=$COMMIT"
  --meta "cpus=$CPUS" --meta "broker=$BROKER" --meta "partitions=$PARTITIONS"
  --meta "kafka_overrides=$(tr -d '\n' <"$WORK/config.json")"
  --meta "loadavg=$LOAD_START at start, $LOAD_END at end" --meta "build=$BUILD_NOTE")
[[ -n "$JSON_OUT" ]] && ANALYZE+=(--json "$JSON_OUT")
"${ANALYZE[@]}"
arc=$?
if [[ -n "$BIN_CHANGED" ]]; then
  echo "PROBLEM: $BIN_CHANGED" >&2
  arc=1
fi
if [[ -n "$STOP_FAIL" ]]; then
  echo "PROBLEM: on SIGTERM:$STOP_FAIL" >&2
  arc=1
fi
if ((arc != 0)); then
  FAILED=1
  echo "e2e.sh: the run was not clean (see PROBLEMS above); logs kept in $LOGS" >&2
  exit 1
fi
exit 0
