#!/usr/bin/env bash
# SIGHUP reloads the tagger's watchlist between two records; a watchlist
# with an error is refused with one error line and the old one stays.
source "$(dirname "$0")/lib.sh"

nl_isolate
nl_broker mock
wl="$NL_WORK/watchlist.json"
cp "$NL_SRC/tagger/watchlist.json" "$wl"
nl_start parser
nl_start tagger --set tagger.watchlist="$wl"
nl_start sink
old_version=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$wl")

# replay_and_wait SEED N: replay one seed, wait until N documents are stored.
replay_and_wait() {
  local seed=$1 want=$2
  "$NL_BIN/newsline" replay "$NL_SRC/corpus/$seed.txt" >/dev/null 2>>"$NL_WORK/cli.log" || die "replay"
  nl_wait_for 60 nl_sink_has "$want" || die "$seed not stored"
}
tags_of() {
  python3 - "$NL_WORK/corpus/$1.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["record"]["tags"]
print(r["watchlist_version"], " ".join(sorted(a["id"] for a in r["actors"])))
PY
}

replay_and_wait 003_71da34d2efd11cf3 1
read -r v actors <<<"$(tags_of 003_71da34d2efd11cf3)"
check "before any reload: version $old_version, no korean-peninsula" \
  bash -c "[[ '$v' == '$old_version' && ' $actors ' != *' korean-peninsula '* ]]"

# A broken watchlist: refused, the old one stays in force.
echo '{"version": "broken", "actors": [' >"$wl"
kill -HUP "$NL_PID_tagger"
replay_and_wait 002_12f7d87ddb492726 2
read -r v actors <<<"$(tags_of 002_12f7d87ddb492726)"
check "a broken watchlist is refused and the old one tags the next record" test "$v" = "$old_version"
check "one error line names the reload failure" \
  test "$(grep -c 'event=watchlist_reload_failed' "$NL_WORK/tagger.log")" -eq 1

# A good new watchlist: the next record is tagged with it.
python3 - "$NL_SRC/tagger/watchlist.json" "$wl" <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))
w["version"] = "reloaded-2"
w["actors"].append({"id": "korean-peninsula", "kind": "place", "name": "Korean Peninsula"})
json.dump(w, open(sys.argv[2], "w"))
PY
kill -HUP "$NL_PID_tagger"
replay_and_wait 004_8e432c11f5411c7c 3
read -r v actors <<<"$(tags_of 004_8e432c11f5411c7c)"
check "after SIGHUP the new watchlist tags the next record (version $v)" \
  bash -c "[[ '$v' == 'reloaded-2' && ' $actors ' == *' korean-peninsula '* ]]"
check "the reload is logged with both versions" grep -q 'event=watchlist_reloaded old=.* new="reloaded-2"' "$NL_WORK/tagger.log"
check "every record was tagged exactly once (3 in, 3 out)" \
  test "$(nl_sink_ids)" -eq 3
for d in parser tagger sink; do
  nl_stop "$d"
  check "newsline-$d exits 0 on SIGTERM" test $? -eq 0
done
nl_summary
