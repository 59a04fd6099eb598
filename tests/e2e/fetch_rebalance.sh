#!/usr/bin/env bash
# The seen-set follows the fetch topic's partitions through Kafka (the
# changelog topics.fetch_seen), with no shared storage: every fetcher has a
# state dir of its own. Real Kafka, a loopback multi-host site
# (multi_site.py, 200 ms a page; its log has one line per answered
# request), URLs produced with `newsline fetch` (keyed by normalised URL).
#
# 1. SIGTERM handover. Fetchers A and B in one group; 120 URLs; A gets
#    SIGTERM mid-run: it finishes what it started, gives back the rest,
#    flushes the changelog, stores and commits, exits 0. B takes A's
#    partitions and restores their seen-sets from the changelog (from the
#    beginning: B's state dir never had them). No crash happened, so the
#    contract is exact: every URL requested exactly once (a record A
#    completed past its stored offset is re-read by B and skipped).
#    Then all 120 URLs are requested again: B skips every one, the site
#    sees no new request (B holds A's seen-sets without A's files).
# 2. A crash. Fetcher C (a new state dir: a new host) joins and restores
#    its partitions from the changelog; 240 new URLs; C is SIGKILLed
#    mid-run; B takes C's partitions back and restores their seen-sets
#    from its own file's checkpoint (the tail C wrote). The contract after
#    a crash is at-least-once: C may have fetched a page whose raw record,
#    changelog record or offset was not yet durable, so B fetches it again.
#    Asserted precisely: every URL requested at least once and on the raw
#    topic; no URL more than twice; a URL requested twice had its first
#    request start before the SIGKILL (in C's crash window); B itself
#    never fetched a URL twice; no URL of part 1 requested again.
# 3. B restarts on the same host: every partition restored from its local
#    checkpoint, reading nothing (records=0); all 360 URLs requested again:
#    all skipped, no request.
# usage: fetch_rebalance.sh
source "$(dirname "$0")/lib.sh"
hosts=6
per_host=20 # part 1 (part 2: twice as many, so the kill lands mid-run)

nl_isolate
nl_broker real
python3 "$NL_SRC/tests/e2e/multi_site.py" $hosts 0.2 590 >"$NL_WORK/ports" 2>"$NL_WORK/site.log" &
NL_PIDS+=("$!")
nl_wait_for 30 test -s "$NL_WORK/ports" || die "site did not start"
read -r -a ports <"$NL_WORK/ports"
export NEWSLINE_FETCHER_ALLOW_PRIVATE=127.0.0.0/8
export NEWSLINE_FETCHER_MIN_DELAY_MS=1000

# urls PREFIX [N]: N (default per_host) URLs on every host, host-interleaved
urls() {
  local i p
  for ((i = 0; i < ${2:-$per_host}; i++)); do
    for p in "${ports[@]}"; do echo "http://127.0.0.1:$p/$1/$i"; done
  done
}
# requested PREFIX: distinct URLs of /PREFIX/ requested so far
requested() { grep "^req .*path=/$1/" "$NL_WORK/site.log" | awk '{print $2, $3}' | sort -u | wc -l; }
reqs() { grep -c '^req ' "$NL_WORK/site.log"; }
# start_fetcher NAME: a fetcher with state dir $NL_WORK/state-NAME
start_fetcher() {
  touch "$NL_WORK/fetcher$1.log"
  NEWSLINE_FETCHER_STATE_DIR="$NL_WORK/state-$1" "$NL_BIN/newsline-fetcher" \
    >>"$NL_WORK/fetcher$1.out" 2>>"$NL_WORK/fetcher$1.log" &
  printf -v "NL_PID_fetcher$1" '%s' "$!"
  NL_PIDS+=("$!")
}
# wait_assigned NAME N: NAME's log has at least N assignments
wait_assigned() {
  nl_wait_for 60 bash -c "[ \$(grep -c 'event=assigned' '$NL_WORK/fetcher$1.log') -ge $2 ]" ||
    die "fetcher $1 not assigned partitions within 60 s"
}
n_total=$((hosts * per_host))

# ---- 1. SIGTERM handover --------------------------------------------------
start_fetcher A
wait_assigned A 1
start_fetcher B
wait_assigned B 1
# A's assignment after B joined (eager: A gives all back and gets its share)
wait_assigned A 2
mapfile -t first < <(urls a)
"$NL_BIN/newsline" fetch "${first[@]}" 2>>"$NL_WORK/cli.log" || die "cannot produce fetch records"
nl_wait_for 120 bash -c "[ \$(grep -c '^req .*path=/a/' '$NL_WORK/site.log') -ge 30 ]" ||
  die "part 1 not started ($(reqs) requests)"
at_term=$(requested a)
nl_stop fetcherA
rc=$?
check "part 1: SIGTERM to fetcher A mid-run ($at_term of $n_total requested): exit 0 (got $rc)" \
  test $rc -eq 0 -a "$at_term" -lt $n_total
grep 'event=stopped' "$NL_WORK/fetcherA.log" | tail -1 | sed 's/^/# A: /'
nl_wait_for 180 bash -c "[ \$(grep '^req .*path=/a/' '$NL_WORK/site.log' | awk '{print \$2, \$3}' | sort -u | wc -l) -ge $n_total ]" ||
  not_ok "part 1: all $n_total URLs requested within 180 s ($(requested a))"
grep 'event=seen_restored' "$NL_WORK/fetcherB.log" | sed 's/^.*event=seen_restored /# B restored: /'
check "part 1: B restored A's partitions from the changelog from the beginning (records > 0)" \
  grep -q 'event=seen_restored .*from=beginning .*records=[1-9]' "$NL_WORK/fetcherB.log"
# exactly once: no crash happened
exactly_once() {
  python3 - "$NL_WORK/site.log" "$1" "$2" <<'PY'
import collections, sys
prefix, want = "path=/%s/" % sys.argv[2], int(sys.argv[3])
c = collections.Counter(tuple(l.split()[1:3]) for l in open(sys.argv[1])
                        if l.startswith("req ") and prefix in l)
twice = sorted(k for k, n in c.items() if n > 1)
print("# %s: distinct URLs requested %d, more than once %d %s" % (prefix, len(c), len(twice), twice[:5]))
sys.exit(0 if len(c) == want and not twice else 1)
PY
}
check "part 1: every URL requested exactly once across the handover" exactly_once a $n_total

before=$(reqs)
skipped_b() { grep -c 'event=already_seen' "$NL_WORK/fetcherB.log"; }
s0=$(skipped_b)
"$NL_BIN/newsline" fetch "${first[@]}" 2>>"$NL_WORK/cli.log" || die "cannot produce fetch records"
nl_wait_for 60 bash -c "[ \$(grep -c 'event=already_seen' '$NL_WORK/fetcherB.log') -ge $((s0 + n_total)) ]"
check "part 1: all $n_total URLs requested again: B skips each ($(($(skipped_b) - s0)) already_seen)" \
  test $(($(skipped_b) - s0)) -eq $n_total
check "part 1: ... and the site saw no new request" test "$(reqs)" -eq "$before"

# ---- 2. a crash -------------------------------------------------------------
nb=$(grep -c 'event=assigned' "$NL_WORK/fetcherB.log")
start_fetcher C
wait_assigned C 1
wait_assigned B $((nb + 1))
check "part 2: C (a new host) restored its partitions from the changelog's beginning" \
  grep -q 'event=seen_restored .*from=beginning .*records=[1-9]' "$NL_WORK/fetcherC.log"
n2=$((2 * n_total))
c0=$(cat "$NL_WORK"/state-C/seen.* | wc -c)
mapfile -t second < <(urls c $((2 * per_host)))
"$NL_BIN/newsline" fetch "${second[@]}" 2>>"$NL_WORK/cli.log" || die "cannot produce fetch records"
nl_wait_for 120 bash -c "[ \$(grep -c '^req .*path=/c/' '$NL_WORK/site.log') -ge 30 ]" ||
  die "part 2 not started ($(reqs) requests)"
# Killed once C has recorded 10 URLs as seen (its files grew by 10
# records: their raw records were acknowledged and their changelog records
# produced, the first of them more than a second before).
nl_wait_for 60 bash -c "[ \$(cat '$NL_WORK'/state-C/seen.* | wc -c) -ge $((c0 + 160)) ]" ||
  die "C recorded nothing within 60 s"
kill_time=$(date +%s.%N)
kill -KILL "$NL_PID_fetcherC"
nl_wait_pid "$NL_PID_fetcherC" 10
at_kill=$(requested c)
check "part 2: SIGKILL to fetcher C mid-run ($at_kill of $n2 requested)" test "$at_kill" -lt $n2
nl_wait_for 180 bash -c "[ \$(grep '^req .*path=/c/' '$NL_WORK/site.log' | awk '{print \$2, \$3}' | sort -u | wc -l) -ge $n2 ]" ||
  not_ok "part 2: all $n2 URLs requested within 180 s ($(requested c))"
"$NL_BIN/newsline" tail --count 100000 --idle-ms 8000 "$NEWSLINE_TOPICS_RAW" >"$NL_WORK/raw.ndjson" \
  2>>"$NL_WORK/cli.log"
check "part 2: at least once after the crash, duplicates only in C's crash window" \
  python3 - "$NL_WORK/site.log" "$NL_WORK/raw.ndjson" "$kill_time" $n2 <<'PY'
import collections, json, sys
site, raw, kill_t, want = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
starts = collections.defaultdict(list)
for l in open(site):
    if l.startswith("req ") and "path=/c/" in l:
        f = l.split()
        starts[(f[1], f[2])].append(float(f[3].split("=")[1]))
twice = {k: sorted(v) for k, v in starts.items() if len(v) > 1}
ok = len(starts) == want
for k, v in twice.items():
    if len(v) > 2 or v[0] >= kill_t:
        print("# not allowed: %s requested at %s (kill at %.3f)" % (k, v, kill_t))
        ok = False
urls = {json.loads(l)["url"] for l in open(raw)}
c_urls = {u for u in urls if "/c/" in u}
print("# /c/: distinct URLs requested %d, twice %d (all first requested before the SIGKILL: %s); "
      "on the raw topic %d" % (len(starts), len(twice), ok, len(c_urls)))
sys.exit(0 if ok and len(c_urls) == want else 1)
PY
# C's writes: the records of C's partitions past the end C restored them
# to. B's restores after the kill start from B's own checkpoint (taken
# when C joined: where C began) and must read every record to the end, C's
# writes, at least one of them.
check "part 2: B restored C's partitions from its own checkpoint, reading what C wrote" \
  python3 - "$NL_WORK/fetcherC.log" "$NL_WORK/fetcherB.log" <<'PY'
import re, sys
c_log, b_log = open(sys.argv[1]).read(), open(sys.argv[2]).read()
c_end = {int(p): int(e) for p, e in re.findall(r"event=seen_restored .*?partition=(\d+) .*?end=(\d+)", c_log)}
b = {}  # B's last restore of each partition: the one after the kill
for p, frm, fo, end, rec in re.findall(r"event=seen_restored .*?partition=(\d+) from=(\w+) "
                                       r"from_offset=(\d+) end=(\d+) records=(\d+)", b_log):
    b[int(p)] = (frm, int(fo), int(end), int(rec))
print("# C restored (partition: end) %s; B after the kill (from, from_offset, end, records): %s" %
      (c_end, {p: b.get(p) for p in c_end}))
ok = sum(b[p][3] for p in c_end if p in b) > 0
for p, e in c_end.items():
    frm, fo, end, rec = b.get(p, ("none", -1, -1, -1))
    ok = ok and frm == "checkpoint" and fo == e and rec == end - fo
sys.exit(0 if ok else 1)
PY
check "B never fetched a URL twice itself" \
  bash -c "! grep -ho 'event=fetched id=[0-9a-f]*' '$NL_WORK/fetcherB.log' | sort | uniq -d | grep -q ."
check "part 2: no URL of part 1 requested again" exactly_once a $n_total

# ---- 3. restart on the same host --------------------------------------------
nl_stop fetcherB
check "B exits 0 on SIGTERM" test $? -eq 0
: >"$NL_WORK/fetcherB.log"
start_fetcher B
wait_assigned B 1
grep 'event=seen_restored' "$NL_WORK/fetcherB.log" | sed 's/^.*event=seen_restored /# B restarted: /'
check "part 3: restart on the same host: every partition read from its checkpoint, nothing to read" \
  bash -c "[ \$(grep -c 'event=seen_restored .*from=checkpoint .*records=0 ' '$NL_WORK/fetcherB.log') -eq 3 ]"
before=$(reqs)
"$NL_BIN/newsline" fetch "${first[@]}" "${second[@]}" 2>>"$NL_WORK/cli.log" ||
  die "cannot produce fetch records"
nl_wait_for 60 bash -c "[ \$(grep -c 'event=already_seen' '$NL_WORK/fetcherB.log') -ge $((n_total + n2)) ]"
check "part 3: all $((n_total + n2)) URLs requested again: all skipped ($(skipped_b))" \
  test "$(skipped_b)" -eq $((n_total + n2))
check "part 3: ... and the site saw no new request" test "$(reqs)" -eq "$before"
nl_stop fetcherB
check "B exits 0 on SIGTERM" test $? -eq 0
check "no error logged" bash -c "! grep -h 'level=error' '$NL_WORK'/fetcher[AB].log"
nl_summary
