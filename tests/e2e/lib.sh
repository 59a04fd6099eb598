# Shared helpers for the end-to-end tests. Source it; it expects
#   NL_BIN   the build's bin/ directory
#   NL_SRC   the source tree
# Every test runs in its own temp dir, with its own topic names and groups,
# and kills what it started by PID when it exits.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/wait.sh"

NL_WORK=$(mktemp -d "${TMPDIR:-/tmp}/newsline-e2e.XXXXXX")
NL_PIDS=()
NL_PASS=0
NL_FAIL=0
NL_RUN_ID="t$$-$RANDOM"

nl_cleanup() {
  local pid
  for pid in "${NL_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${NL_PIDS[@]}"; do
    nl_wait_pid "$pid" 15 || kill -KILL "$pid" 2>/dev/null
  done
  if [[ "${NL_KEEP:-0}" == 1 || $NL_FAIL -gt 0 ]]; then
    echo "# work dir kept: $NL_WORK" >&2
  else
    rm -rf "$NL_WORK"
  fi
}
trap nl_cleanup EXIT

ok() { NL_PASS=$((NL_PASS + 1)); echo "ok - $*"; }
not_ok() { NL_FAIL=$((NL_FAIL + 1)); echo "not ok - $*"; }
check() { # check "description" command...
  local what="$1"; shift
  if "$@"; then ok "$what"; else not_ok "$what"; fi
}
nl_summary() {
  echo "$NL_PASS passed, $NL_FAIL failed"
  [[ $NL_FAIL -eq 0 ]]
}
die() { echo "Bail out! $*"; nl_dump_logs; exit 1; }

nl_dump_logs() {
  local f
  for f in "$NL_WORK"/*.log; do
    [[ -f "$f" ]] || continue
    echo "# --- tail of $(basename "$f")"
    tail -n 15 "$f" | sed 's/^/# /'
  done
}

# Per-test topic and group names, so tests sharing a broker never meet.
nl_isolate() {
  export NEWSLINE_TOPICS_FETCH="$NL_RUN_ID.fetch"
  export NEWSLINE_TOPICS_RAW="$NL_RUN_ID.raw"
  export NEWSLINE_TOPICS_PARSED="$NL_RUN_ID.parsed"
  export NEWSLINE_TOPICS_TAGGED="$NL_RUN_ID.tagged"
  export NEWSLINE_TOPICS_DLQ="$NL_RUN_ID.dlq"
  export NEWSLINE_TOPICS_FETCH_SEEN="$NL_RUN_ID.fetch.seen"
  export NEWSLINE_TAGGER_TAG_TOPIC_PREFIX="$NL_RUN_ID.tag."
  export NEWSLINE_GROUP_PREFIX="$NL_RUN_ID-"
  export NEWSLINE_SINK_CORPUS_DIR="$NL_WORK/corpus"
  export NEWSLINE_FETCHER_STATE_DIR="$NL_WORK/fetcher-state"
  export NEWSLINE_CONNECT_TIMEOUT_MS=30000
  mkdir -p "$NL_WORK/corpus"
  cp "$NL_SRC"/corpus/*.txt "$NL_WORK/corpus/"
  # A killed member must be replaced in seconds, not the default 45 s.
  cat >"$NL_WORK/config.json" <<JSON
{"kafka": {"consumer": {"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000},
           "topic.metadata.refresh.interval.ms": 2000}}
JSON
  export NEWSLINE_CONFIG="$NL_WORK/config.json"
}

# nl_broker MODE: mock starts `newsline broker`; real uses the broker the
# ctest fixture started (its bootstrap file) and creates this test's topics.
nl_broker() {
  local mode=$1
  if [[ "$mode" == mock ]]; then
    "$NL_BIN/newsline" broker --partitions 3 --bootstrap-file "$NL_WORK/bootstrap" \
      >/dev/null 2>"$NL_WORK/broker.log" &
    NL_PIDS+=("$!")
    nl_wait_for 30 test -s "$NL_WORK/bootstrap" || die "mock broker did not start"
    NEWSLINE_BROKERS=$(cat "$NL_WORK/bootstrap")
  else
    local f="${NL_KAFKA_BOOTSTRAP_FILE:-}"
    [[ -n "$f" && -s "$f" ]] || die "real Kafka not running (no bootstrap file '$f')"
    NEWSLINE_BROKERS=$(cat "$f")
    export NEWSLINE_BROKERS
    "$NL_BIN/newsline" topics --partitions 3 >"$NL_WORK/topics.log" 2>&1 ||
      die "cannot create topics: $(cat "$NL_WORK/topics.log")"
  fi
  export NEWSLINE_BROKERS
  echo "# broker ($mode): $NEWSLINE_BROKERS"
}

# nl_start NAME [args...]: start daemon newsline-NAME; its PID in NL_PID_<NAME>.
nl_start() {
  local name=$1; shift
  "$NL_BIN/newsline-$name" "$@" >>"$NL_WORK/$name.out" 2>>"$NL_WORK/$name.log" &
  local pid=$!
  NL_PIDS+=("$pid")
  printf -v "NL_PID_$name" '%s' "$pid"
}

# nl_stop NAME: SIGTERM the daemon and return its exit status (124 if it
# did not exit within 60 s).
nl_stop() {
  local var="NL_PID_$1" rc
  local pid=${!var}
  kill -TERM "$pid" 2>/dev/null
  if ! nl_wait_pid "$pid" 60; then
    kill -KILL "$pid"
    return 124
  fi
  wait "$pid"
  rc=$?
  return $rc
}

nl_start_pipeline() {
  local d
  for d in fetcher parser tagger sink; do
    nl_start "$d"
  done
}

# Number of distinct ids the sink has reported stored/updated/unchanged.
nl_sink_ids() {
  grep -ho 'event=stored id=[0-9a-f]*' "$NL_WORK"/sink*.log 2>/dev/null |
    sort -u | wc -l
}
nl_sink_has() { [[ $(nl_sink_ids) -ge $1 ]]; }

# Checks the corpus: every seed text unchanged, one sidecar per seed, each
# with the expected actors and offsets that slice to the surface form.
nl_check_corpus() {
  python3 "$NL_SRC/tests/e2e/check_corpus.py" "$NL_WORK/corpus" "$NL_SRC/corpus" \
    "$NL_SRC/tests/fixtures/seed_actors.json"
}
