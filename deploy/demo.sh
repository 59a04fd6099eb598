#!/usr/bin/env bash
# The main job, from a fresh clone: install what is missing, build, start a
# broker, run the four daemons as separate processes, replay the seed
# corpus through them, print what was stored and which actors each document
# mentions, then stop everything this script started.
#
#   deploy/demo.sh              real Apache Kafka (KRaft) from deploy/kafka.sh
#   deploy/demo.sh --embedded   librdkafka's mock cluster (in memory, demo only)
#
# Documents are stored in corpus/ beside the seeds (sidecars NNN_<id>.json);
# logs go to .run/logs/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

broker=real
case "${1:-}" in
  --embedded) broker=embedded ;;
  "") ;;
  -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
  *) echo "usage: deploy/demo.sh [--embedded]" >&2; exit 2 ;;
esac

if [[ -t 2 ]]; then
  say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
else
  say() { printf '==> %s\n' "$*" >&2; }
fi

say "installing dependencies (Debian packages) if missing"
deploy/install-deps.sh
say "building (Release) into build/"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
bin=$root/build/bin

run=$root/.run
mkdir -p "$run/logs"
pids=()
started_kafka=0
# Daemons first (they drain and commit), the broker they talk to last.
stop_pids() {
  local pid
  for pid in "$@"; do [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null; done
  for pid in "$@"; do
    [[ -n $pid ]] || continue
    for _ in $(seq 450); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  done
}
cleanup() {
  if ((${#pids[@]} > 1)); then
    stop_pids "${pids[@]:1}"
  fi
  if ((${#pids[@]} > 0)); then
    stop_pids "${pids[0]}"
  fi
  if [[ $started_kafka == 1 ]]; then
    say "stopping Kafka"
    deploy/kafka.sh stop --dir "$root/.kafka" >&2 || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ $broker == real ]]; then
  pids+=("")   # slot 0 is the broker's; deploy/kafka.sh owns the real one
  if ! deploy/kafka.sh status --dir "$root/.kafka" >/dev/null 2>&1; then
    started_kafka=1
  fi
  say "starting Apache Kafka (first run fetches it from Maven Central)"
  NEWSLINE_BROKERS=$(deploy/kafka.sh start --dir "$root/.kafka" --port 0)
else
  say "starting the embedded broker (in memory: nothing is kept on disk)"
  rm -f "$run/bootstrap"
  "$bin/newsline" broker --bootstrap-file "$run/bootstrap" >/dev/null 2>"$run/logs/broker.log" &
  pids+=("$!")
  for _ in $(seq 100); do [[ -s $run/bootstrap ]] && break; sleep 0.1; done
  NEWSLINE_BROKERS=$(cat "$run/bootstrap")
fi
export NEWSLINE_BROKERS
export NEWSLINE_SINK_CORPUS_DIR=$root/corpus
export NEWSLINE_FETCHER_STATE_DIR=$run/fetcher-state  # the seen-set stays out of the tree
say "broker at $NEWSLINE_BROKERS"

say "starting newsline-fetcher, -parser, -tagger, -sink"
for d in fetcher parser tagger sink; do
  : >"$run/logs/$d.log"
  "$bin/newsline-$d" 2>"$run/logs/$d.log" &
  pids+=("$!")
done
for d in parser tagger sink; do
  for _ in $(seq 300); do grep -q 'event=assigned' "$run/logs/$d.log" && break; sleep 0.1; done
done

say "replaying the seed corpus into newsline.raw"
"$bin/newsline" replay

ids=$(ls corpus | sed -n 's/^[0-9]*_\([0-9a-f]\{16\}\)\.txt$/\1/p')
want=$(echo "$ids" | wc -l)
say "waiting for the sink to store $want documents"
for _ in $(seq 600); do
  have=$({ grep -o 'event=stored id=[0-9a-f]*' "$run/logs/sink.log" || true; } | sort -u | wc -l)
  [[ $have -ge $want ]] && break
  sleep 0.2
done
if [[ $have -lt $want ]]; then
  echo "demo: only $have of $want documents were stored; logs in $run/logs/" >&2
  exit 1
fi

say "stored in corpus/"
python3 - "$root/corpus" <<'PY'
import json, os, sys
d = sys.argv[1]
for n in sorted(os.listdir(d)):
    if not n.endswith(".json"):
        continue
    s = json.load(open(os.path.join(d, n)))
    r = s["record"]
    title = r.get("title", "")
    print(f"{s['file']}  ({s['text_bytes']} bytes of text)")
    print(f"  title : {title[:90] + ('...' if len(title) > 90 else '')}")
    actors = sorted(r["tags"]["actors"], key=lambda a: (-a["count"], a["id"]))
    line = ", ".join(f"{a['name']} ({a['count']})" for a in actors)
    print(f"  actors: {line}")
PY
say "stopping the daemons"
