#!/usr/bin/env bash
# The seen-set changelog's start-up checks and bad records, on real Kafka:
# 1. topics.fetch_seen missing: the fetcher creates it, compacted, with the
#    fetch topic's partition count (checked with Kafka's own TopicCommand),
#    and works.
# 2. corrupt records on the changelog (a key that is not an id, a value
#    that is not JSON, the wrong schema, an id that is not the key; written
#    with Kafka's ConsoleProducer: a compacted topic refuses records without
#    a key): a fetcher on a new host skips each with a warning and counts
#    them; the
#    good records around them are still restored (a URL fetched in 1 is
#    skipped, not requested again). `newsline produce`, whose records have
#    no key, is refused there too and says so (exit 1).
# 3. a changelog whose partition count differs from the fetch topic's, and
#    a missing fetch topic: exit 2 at start with one line naming the topics.
# usage: fetch_changelog.sh
source "$(dirname "$0")/lib.sh"

nl_isolate
nl_broker real
python3 "$NL_SRC/tests/e2e/multi_site.py" 2 0 280 >"$NL_WORK/ports" 2>"$NL_WORK/site.log" &
NL_PIDS+=("$!")
nl_wait_for 30 test -s "$NL_WORK/ports" || die "site did not start"
read -r -a ports <"$NL_WORK/ports"
export NEWSLINE_FETCHER_ALLOW_PRIVATE=127.0.0.0/8
export NEWSLINE_FETCHER_MIN_DELAY_MS=0
reqs() { grep -c '^req ' "$NL_WORK/site.log"; }
kafka_version=$(sed -n 's/^KAFKA_VERSION=//p' "$NL_SRC/deploy/kafka.sh")
# kafka_tool CLASS ARGS...: one of Kafka's own command-line tools, from the
# jars deploy/kafka.sh fetched
kafka_tool() {
  timeout 120 java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dlog4j2.configurationFile="$NL_SRC/deploy/kafka/log4j2.properties" \
    -Dnewsline.kafka.loglevel=WARN \
    -cp "${NEWSLINE_CACHE:-$HOME/.cache/newsline}/kafka-$kafka_version/libs/*" "$@"
}
topic_command() {
  kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$NEWSLINE_BROKERS" "$@"
}

# ---- 1. created when missing ---------------------------------------------------
export NEWSLINE_TOPICS_FETCH_SEEN="$NL_RUN_ID.seen-auto"
NEWSLINE_FETCHER_STATE_DIR="$NL_WORK/state1" nl_start fetcher
nl_wait_for 60 grep -qs 'event=assigned' "$NL_WORK/fetcher.log" || die "fetcher not assigned"
check "missing changelog: created with the fetch topic's 3 partitions" \
  grep -q "event=seen_changelog_create topic=$NEWSLINE_TOPICS_FETCH_SEEN partitions=3" "$NL_WORK/fetcher.log"
topic_command --describe --topic "$NEWSLINE_TOPICS_FETCH_SEEN" >"$NL_WORK/describe.txt" 2>&1
sed 's/^/# /' "$NL_WORK/describe.txt" | head -2
check "... compacted, 3 partitions (TopicCommand --describe)" \
  bash -c "grep -q 'PartitionCount: 3' '$NL_WORK/describe.txt' && grep -q 'cleanup.policy=compact' '$NL_WORK/describe.txt'"
url1="http://127.0.0.1:${ports[0]}/one"
url2="http://127.0.0.1:${ports[1]}/two"
"$NL_BIN/newsline" fetch "$url1" "$url2" 2>>"$NL_WORK/cli.log" || die "cannot produce fetch records"
nl_wait_for 60 bash -c "[ \$(grep -c '^req ' '$NL_WORK/site.log') -ge 2 ]" || die "nothing fetched"
nl_stop fetcher
check "the fetcher exits 0 on SIGTERM" test $? -eq 0

# ---- 2. corrupt records ---------------------------------------------------------
printf '%s\n' 'not-an-id-at-all|{"schema":"newsline.seen/1","id":"not-an-id-at-all"}' \
  '0123456789abcde1|not json at all' \
  '0123456789abcde2|{"schema":"newsline.raw/1","id":"0123456789abcde2"}' \
  '0123456789abcde3|{"schema":"newsline.seen/1","id":"fedcba9876543210"}' |
  kafka_tool org.apache.kafka.tools.ConsoleProducer --bootstrap-server "$NEWSLINE_BROKERS" \
    --topic "$NEWSLINE_TOPICS_FETCH_SEEN" --property parse.key=true --property 'key.separator=|' \
    >>"$NL_WORK/cli.log" 2>&1 || die "cannot produce to the changelog: $(tail -3 "$NL_WORK/cli.log")"
# newsline produce sends records without a key: the compacted changelog
# refuses them, and produce must say so (exit 1), not "produced"
echo '{"schema":"newsline.seen/1"}' |
  "$NL_BIN/newsline" produce "$NEWSLINE_TOPICS_FETCH_SEEN" 2>"$NL_WORK/produce.log"
rc=$?
check "newsline produce: a record the broker refuses exits 1" test $rc -eq 1
check "... and is counted as failed, not produced" grep -q '0 acknowledged, 1 failed' \
  "$NL_WORK/produce.log"
: >"$NL_WORK/fetcher.log"
NEWSLINE_FETCHER_STATE_DIR="$NL_WORK/state2" nl_start fetcher
nl_wait_for 60 grep -qs 'event=assigned' "$NL_WORK/fetcher.log" || die "fetcher not assigned"
check "corrupt records: a warning each" \
  test "$(grep -c 'level=warn .*event=seen_corrupt_record .*note="skipped"' "$NL_WORK/fetcher.log")" -eq 4
check "... counted in the restores (corrupt=4 in all)" \
  test "$(grep -o 'event=seen_restored .* corrupt=[0-9]*' "$NL_WORK/fetcher.log" | awk -F'corrupt=' '{n += $2} END {print n + 0}')" -eq 4
before=$(reqs)
"$NL_BIN/newsline" fetch "$url1" "$url2" 2>>"$NL_WORK/cli.log" || die "cannot produce fetch records"
nl_wait_for 60 bash -c "[ \$(grep -c 'event=already_seen' '$NL_WORK/fetcher.log') -ge 2 ]"
check "... the good records restored around them: both URLs skipped" \
  test "$(grep -c 'event=already_seen' "$NL_WORK/fetcher.log")" -eq 2
check "... and not requested again" test "$(reqs)" -eq "$before"
nl_stop fetcher
check "the fetcher exits 0 on SIGTERM" test $? -eq 0
check "... and its summary counts the corrupt records" \
  grep -q 'event=seen_summary .*changelog_corrupt=4' "$NL_WORK/fetcher.log"

# ---- 3. start-up errors -----------------------------------------------------------
export NEWSLINE_TOPICS_FETCH_SEEN="$NL_RUN_ID.seen-two"
"$NL_BIN/newsline" topics --partitions 2 >"$NL_WORK/topics2.log" 2>&1 ||
  die "cannot create topics: $(cat "$NL_WORK/topics2.log")"
timeout 60 "$NL_BIN/newsline-fetcher" --set "fetcher.state_dir=$NL_WORK/state3" \
  >/dev/null 2>"$NL_WORK/mismatch.log"
rc=$?
sed 's/^/# /' "$NL_WORK/mismatch.log" | grep -v 'level=' | head -3
check "partition counts differ: exit 2 (got $rc), naming both topics and counts" \
  bash -c "test $rc -eq 2 && grep -q 'topics.fetch_seen $NEWSLINE_TOPICS_FETCH_SEEN has 2 partitions but topics.fetch $NEWSLINE_TOPICS_FETCH has 3' '$NL_WORK/mismatch.log'"
check "... before consuming anything" bash -c "! grep -q 'event=started' '$NL_WORK/mismatch.log'"
# (waited for connect_timeout_ms first: it may have been created a moment ago)
NEWSLINE_TOPICS_FETCH="$NL_RUN_ID.no-such-topic" timeout 60 "$NL_BIN/newsline-fetcher" \
  --set "fetcher.state_dir=$NL_WORK/state3" --set connect_timeout_ms=3000 \
  >/dev/null 2>"$NL_WORK/nofetch.log"
rc=$?
check "fetch topic missing: exit 2 (got $rc), naming it" \
  bash -c "test $rc -eq 2 && grep -q 'topics.fetch $NL_RUN_ID.no-such-topic does not exist' '$NL_WORK/nofetch.log'"
nl_summary
