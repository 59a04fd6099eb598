#!/usr/bin/env bash
# The tag topics from outside, on real Kafka: the four daemons replay the
# seeds, then
# - a Python client (confluent-kafka, tests/e2e/tag_consumer.py: the
#   README's example) subscribed by regex to this run's tag topics gets
#   exactly the (topic, document) pairs the sidecars say, in particular
#   the seeds tagged kim-jong-un on <prefix>kim-jong-un;
# - `newsline tail --tag kim-jong-un`, started before the replay (from the
#   end), prints those records as they arrive, in --brief form;
# - --from-beginning and --tag-regex read them again afterwards; a tail from
#   the end started after the replay prints nothing.
# The venv (confluent-kafka from PyPI) is made once under the build tree
# and reused; if it cannot be made, the test fails with pip's reason.
source "$(dirname "$0")/lib.sh"
B=$NL_BIN
VENV=${NL_VENV:-$NL_BIN/../py-venv}

# ---- the venv, once (a lock, so two runs do not build it together)
exec 9>"$VENV.lock"
flock -w 300 9 || die "could not lock $VENV.lock within 300 s"
if ! "$VENV/bin/python" -c 'import confluent_kafka' 2>/dev/null; then
  rm -rf "$VENV"
  python3 -m venv "$VENV" >"$NL_WORK/venv.log" 2>&1 ||
    die "python3 -m venv $VENV failed: $(tail -n 3 "$NL_WORK/venv.log")"
  timeout 300 "$VENV/bin/pip" install --disable-pip-version-check -q confluent-kafka \
    >"$NL_WORK/pip.log" 2>&1 ||
    die "pip install confluent-kafka failed (PyPI unreachable?): $(tail -n 5 "$NL_WORK/pip.log" | tr '\n' ' ')"
fi
exec 9>&-
echo "# confluent-kafka $("$VENV/bin/python" -c 'import confluent_kafka as c; print(c.version()[0], "librdkafka", c.libversion()[0])')"

nl_isolate
nl_broker real
P=$NEWSLINE_TAGGER_TAG_TOPIC_PREFIX
P_RE=$(sed 's/[.^$*+?()[{}|\\]/\\&/g' <<<"$P")

# From the end, before anything is tagged: the topic does not exist yet.
"$B/newsline" tail --tag kim-jong-un --brief >"$NL_WORK/live.txt" 2>"$NL_WORK/tail-live.log" &
live=$!
NL_PIDS+=("$live")

nl_start_pipeline
"$B/newsline" replay >"$NL_WORK/replay.out" 2>>"$NL_WORK/cli.log" || die "replay failed"
nl_wait_for 90 nl_sink_has 5 || die "sink stored $(nl_sink_ids) of 5 documents within 90 s"

# What the sidecars say: every (tag topic, id) pair, and the documents tagged kim-jong-un.
python3 - "$NL_WORK/corpus" "$P" "$NL_SRC/tests/fixtures/seed_actors.json" >"$NL_WORK/expected.json" <<'PY'
import glob, json, sys
d, prefix, fixture = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
pairs = set()
for p in glob.glob(d + "/*.json"):
    s = json.load(open(p))
    tags = s["record"]["tags"]
    for t in [a["id"] for a in tags["actors"]] + [e["id"] for e in tags["events"]]:
        pairs.add((prefix + t, s["id"]))
kim = sorted(i for t, i in pairs if t == prefix + "kim-jong-un")
want = sorted(k[4:] for k, v in fixture.items() if not k.startswith("_") and "kim-jong-un" in v["expect"])
assert want and set(want) <= set(kim), (kim, want)  # as the hand-made fixture says (and more: pipeline.sh)
json.dump({"pairs": sorted(pairs), "kim": kim}, sys.stdout)
PY
[[ -s "$NL_WORK/expected.json" ]] || die "sidecars do not carry kim-jong-un as the fixture expects"
kim=$(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["kim"]))' "$NL_WORK/expected.json")
npairs=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["pairs"]))' "$NL_WORK/expected.json")
nkim=$(wc -w <<<"$kim")
echo "# $npairs (tag topic, document) pairs; kim-jong-un: $kim"

# The Python consumer, by regex, from the beginning.
timeout 60 "$VENV/bin/python" "$NL_SRC/tests/e2e/tag_consumer.py" --brokers "$NEWSLINE_BROKERS" \
  --max "$npairs" --idle 20 "^${P_RE}.*" >"$NL_WORK/py.ndjson" 2>"$NL_WORK/py.log"
check "the Python consumer exits 0 (rc $?)" test $? -eq 0
check "the Python consumer gets the kim-jong-un seeds from ${P}kim-jong-un ($kim)" python3 - \
  "$NL_WORK/py.ndjson" "${P}kim-jong-un" "$kim" <<'PY'
import json, sys
got = sorted({r["id"] for r in map(json.loads, open(sys.argv[1])) if r["topic"] == sys.argv[2]})
assert got == sys.argv[3].split(), got
PY
check "the Python consumer gets exactly the $npairs (tag topic, document) pairs of the sidecars" \
  python3 - "$NL_WORK/py.ndjson" "$NL_WORK/expected.json" <<'PY'
import json, sys
got = [(r["topic"], r["id"]) for r in map(json.loads, open(sys.argv[1]))]
want = {tuple(p) for p in json.load(open(sys.argv[2]))["pairs"]}
assert len(got) == len(set(got)), "duplicates"
assert set(got) == want, (sorted(set(got) - want)[:5], sorted(want - set(got))[:5])
PY

# The tail started before the replay saw the records as they came.
nl_wait_for 30 bash -c "[ \$(wc -l <'$NL_WORK/live.txt') -ge $nkim ]"
kill -TERM "$live"
nl_wait_pid "$live" 15
wait "$live"
check "tail --tag (from the end, before the topic existed) exits 0 on SIGTERM" test $? -eq 0
check "tail --tag --brief printed the $nkim kim-jong-un documents as they arrived" \
  test "$(awk '{print $2}' "$NL_WORK/live.txt" | sort -u | xargs)" = "$kim"
check "--brief lines: date, id, tag, title" \
  grep -Eq '^(undated|[0-9]{4}-[0-9]{2}-[0-9]{2}) +[0-9a-f]{16}  kim-jong-un  .+' "$NL_WORK/live.txt"

ids() { python3 -c 'import json,sys; print(" ".join(sorted({json.loads(l)["id"] for l in sys.stdin})))'; }
got=$("$B/newsline" tail --tag kim-jong-un --from-beginning --count "$nkim" --idle-ms 30000 \
  2>>"$NL_WORK/cli.log" | ids)
check "tail --tag kim-jong-un --from-beginning: the same documents" test "$got" = "$kim"
nhun=$(python3 -c 'import json,sys; print(sum(1 for t, i in json.load(open(sys.argv[1]))["pairs"] if t.endswith(".hun-manet")))' "$NL_WORK/expected.json")
"$B/newsline" tail --tag-regex 'kim-jong-un|hun-manet' --from-beginning --meta \
  --count $((nkim + nhun)) --idle-ms 30000 >"$NL_WORK/regex.ndjson" 2>>"$NL_WORK/cli.log"
check "tail --tag-regex 'kim-jong-un|hun-manet': $nkim + $nhun records from those two topics only" \
  python3 - "$NL_WORK/regex.ndjson" "$P" "$nkim" "$nhun" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
p = sys.argv[2]
topics = [r["topic"] for r in recs]
assert topics.count(p + "kim-jong-un") == int(sys.argv[3]), topics
assert topics.count(p + "hun-manet") == int(sys.argv[4]), topics
assert len(topics) == int(sys.argv[3]) + int(sys.argv[4]), topics
PY
"$B/newsline" tail --tag kim-jong-un --idle-ms 6000 >"$NL_WORK/late.txt" 2>>"$NL_WORK/cli.log"
check "tail --tag from the end after the replay: exit 0, nothing printed" \
  test $? -eq 0 -a ! -s "$NL_WORK/late.txt"

for d in fetcher parser tagger sink; do nl_stop "$d"; done
nl_summary
