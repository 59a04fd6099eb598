#!/usr/bin/env bash
# Bad configuration exits 2 with one line naming the key, before any
# connection; an unreachable broker exits 69 in seconds, never hangs.
source "$(dirname "$0")/lib.sh"

export NEWSLINE_BROKERS=127.0.0.1:1   # nothing listens there
cfg="$NL_WORK/c.json"

# expect_exit CODE PATTERN daemon args...: run it (hang guard 60 s), check
# the exit code and that stderr is one line matching PATTERN.
expect_exit() {
  local want=$1 pattern=$2; shift 2
  local err="$NL_WORK/err" rc
  timeout 60 "$@" </dev/null >/dev/null 2>"$err"
  rc=$?
  if [[ $rc -eq $want && $(grep -vc '^ts=' "$err") -eq 1 ]] && grep -q -- "$pattern" "$err"; then
    ok "$(basename "$1") ${*:2} -> exit $want: $(grep -v '^ts=' "$err")"
  else
    not_ok "$(basename "$1") ${*:2}: want exit $want and one line matching '$pattern', got $rc: $(cat "$err")"
  fi
}

for d in fetcher parser tagger sink; do
  echo '{"brokers": "127.0.0.1:1", "no_such_key": 1}' >"$cfg"
  expect_exit 2 'no_such_key: unknown configuration key' "$NL_BIN/newsline-$d" --config "$cfg"
done
echo '{"max_in_flight": "lots"}' >"$cfg"
expect_exit 2 'max_in_flight: "lots" is not an integer' "$NL_BIN/newsline-parser" --config "$cfg"
echo '{"max_in_flight": 0}' >"$cfg"
expect_exit 2 'max_in_flight: 0 is outside' "$NL_BIN/newsline-parser" --config "$cfg"
echo '{"log_level": "loud"}' >"$cfg"
expect_exit 2 'log_level' "$NL_BIN/newsline-tagger" --config "$cfg"
echo '{"sink": {"corpus_dir": ["a"]}}' >"$cfg"
expect_exit 2 'sink.corpus_dir: value must be' "$NL_BIN/newsline-sink" --config "$cfg"
echo '{"brokers": ' >"$cfg"
expect_exit 2 'line 2' "$NL_BIN/newsline-parser" --config "$cfg"
expect_exit 2 'No such file' "$NL_BIN/newsline-parser" --config "$NL_WORK/missing.json"
echo '{"kafka": {"acks": "maybe"}}' >"$cfg"
expect_exit 2 'kafka.acks' "$NL_BIN/newsline-sink" --config "$cfg"
expect_exit 2 'kafka.no.such.property' "$NL_BIN/newsline-parser" --set kafka.no.such.property=1
expect_exit 2 'kafka.consumer.no.such: No such configuration property' "$NL_BIN/newsline-sink" --set kafka.consumer.no.such=1
expect_exit 2 'kafka.producer.: empty librdkafka property name' "$NL_BIN/newsline-sink" --set kafka.producer.=1
expect_exit 2 'topics.raw: must not be empty' "$NL_BIN/newsline-parser" --set topics.raw=
expect_exit 2 'unknown or incomplete option' "$NL_BIN/newsline-parser" --bogus
NEWSLINE_MAX_IN_FLIGHT=x expect_exit 2 'NEWSLINE_MAX_IN_FLIGHT' "$NL_BIN/newsline-parser"
echo '{"watchlist_is_not_here": 1}' >"$NL_WORK/wl.json"
expect_exit 2 'needs a string "version"' "$NL_BIN/newsline-tagger" --set tagger.watchlist="$NL_WORK/wl.json"
echo '{"version": "1", "actors": [{"id": "x", "kind": "planet", "name": "X"}]}' >"$NL_WORK/wl.json"
expect_exit 2 'actors\[0\] (x).kind' "$NL_BIN/newsline-tagger" --set tagger.watchlist="$NL_WORK/wl.json"

# Broker unreachable: one clear line and exit 69 after connect_timeout_ms.
for d in fetcher parser tagger sink; do
  expect_exit 69 'cannot reach Kafka brokers 127.0.0.1:1 within 2000 ms' \
    "$NL_BIN/newsline-$d" --set connect_timeout_ms=2000 --log-level error
done
expect_exit 69 'cannot reach Kafka brokers' "$NL_BIN/newsline" --set connect_timeout_ms=2000 --log-level error replay
nl_summary
