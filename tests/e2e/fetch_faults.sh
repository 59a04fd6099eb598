#!/usr/bin/env bash
# The fetcher against a loopback fault site (site.py: two hosts, A and B),
# one check per fault, through `newsline-fetcher --url` (the engine:
# robots.txt, retries, caps, the address guard, redirects), and through
# --stdin for what needs several requests in one engine (a redirect
# target's Crawl-delay, one transfer for a URL requested twice). Timing
# checks have lower bounds only, on the site's own request times.
source "$(dirname "$0")/lib.sh"
B=$NL_BIN

python3 "$NL_SRC/tests/e2e/site.py" 200 >"$NL_WORK/port" 2>"$NL_WORK/site.log" &
NL_PIDS+=("$!")
nl_wait_for 30 test -s "$NL_WORK/port" || die "site did not start"
read -r port portb <"$NL_WORK/port"
base="http://127.0.0.1:$port"
baseb="http://127.0.0.1:$portb"

# The loopback site is private: allow it, no politeness delay, fast back-off.
FETCH=("$B/newsline-fetcher" --set fetcher.allow_private=127.0.0.0/8
  --set fetcher.min_delay_ms=0 --set fetcher.backoff_base_ms=100 --set max_record_bytes=1048576)

# fetch NAME PATH [flags...]: runs --url with a 60 s bound; NAME.json holds
# the record, NAME.rc the exit status.
fetch() {
  local name=$1 path=$2
  shift 2
  timeout 60 "${FETCH[@]}" "$@" --url "$base$path" >"$NL_WORK/$name.json" 2>"$NL_WORK/$name.log"
  echo $? >"$NL_WORK/$name.rc"
}
# field NAME KEY: a top-level field of NAME.json
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' \
  "$NL_WORK/$1.json" "$2"; }
rc() { cat "$NL_WORK/$1.rc"; }
# hits PATH: requests the site (both hosts) saw for PATH
hits() { grep -c "path=$1 " "$NL_WORK/site.log"; }
# hits_b PATH: requests host B saw for PATH
hits_b() { grep -c "port=$portb path=$1 " "$NL_WORK/site.log"; }
# times PATH: the site's request times for PATH, one a line
times() { grep "path=$1 " "$NL_WORK/site.log" | sed 's/.* t=\([0-9.]*\) .*/\1/'; }
gap_at_least() { # gap_at_least PATH SECONDS: 2nd request - 1st >= SECONDS
  times "$1" | python3 -c 'import sys; t=[float(x) for x in sys.stdin]; sys.exit(not (len(t) >= 2 and t[1]-t[0] >= float(sys.argv[1])))' "$2"
}
# stdin_fetch NAME URL...: the URLs as fetch records through --stdin (one
# engine, all at once) with a 60 s bound; NAME.ndjson holds the output
stdin_fetch() {
  local name=$1 u
  shift
  for u in "$@"; do printf '{"schema":"newsline.fetch/1","url":"%s"}\n' "$u"; done |
    timeout 60 "${FETCH[@]}" --stdin >"$NL_WORK/$name.ndjson" 2>"$NL_WORK/$name.log"
  echo $? >"$NL_WORK/$name.rc"
}

fetch ok /ok
check "a page: exit 0, raw record with status, type, final URL and id" python3 - "$NL_WORK/ok.json" "$base" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["schema"] == "newsline.raw/1" and r["http_status"] == 200, r
assert r["final_url"] == sys.argv[2] + "/ok" and len(r["id"]) == 16, r
assert r["content_type"].startswith("text/html") and "fine" in r["body"], r
PY
check "robots.txt fetched once before the page, with the User-Agent" \
  grep -q 'path=/robots.txt ua=newsline/' "$NL_WORK/site.log"

fetch e404 /status/404
check "404: exit 1, dead letter http_status" test "$(rc e404)/$(field e404 reason_code)" = "1/http_status"
check "404: not retried" test "$(hits /status/404)" -eq 1

fetch flaky /flaky/a
check "500 then 200: retried, success" test "$(rc flaky)/$(field flaky http_status)" = "0/200"
check "500 then 200: two requests" test "$(hits /flaky/a)" -eq 2

fetch e500 /status/503 --set fetcher.max_attempts=3
check "503 always: dead letter after 3 attempts" test "$(field e500 reason_code)" = "http_status"
check "503 always: exactly 3 requests" test "$(hits /status/503)" -eq 3

fetch ra /429/a/2
check "429 + Retry-After: 2: success after the retry" test "$(rc ra)/$(field ra http_status)" = "0/200"
check "429 + Retry-After: 2: second request >= 2 s after the first" gap_at_least /429/a/2 1.95
fetch rad /429date/b/3
check "429 + Retry-After HTTP-date: success" test "$(rc rad)" = 0
check "429 + Retry-After HTTP-date (+3 s): second request >= 2 s later" gap_at_least /429date/b/3 2.0
fetch ralong /429/c/3600
check "429 + Retry-After over fetcher.max_retry_after_ms: fails at once" \
  test "$(field ralong reason_code)" = "http_status"

fetch loop /loop
check "redirect loop: too_many_redirects" test "$(rc loop)/$(field loop reason_code)" = "1/too_many_redirects"
check "redirect loop: bounded (max_redirects 5 -> 6 requests)" test "$(hits /loop)" -eq 6

fetch priv /to-private
check "redirect to 10.255.255.1: private_address" test "$(field priv reason_code)" = "private_address"
check "the reason names the address" grep -q '10.255.255.1' "$NL_WORK/priv.json"
fetch narrow /ok --set fetcher.allow_private=127.0.0.2/32
check "allowlist narrowed: 127.0.0.1 refused" test "$(field narrow reason_code)" = "private_address"
fetch noallow /ok --set fetcher.allow_private=
check "no allowlist: loopback refused" test "$(field noallow reason_code)" = "private_address"
check "refused addresses were never requested" test "$(hits /ok)" -eq 1

fetch file /to-file
check "redirect to file://: bad_redirect" test "$(field file reason_code)" = "bad_redirect"

# Redirects are followed by the engine, each hop queued for its own host:
# that host's robots.txt and delays apply to it.
fetch xok "/to/$portb/ok"
check "redirect to host B: success, final URL on B" \
  test "$(rc xok)/$(field xok final_url)" = "0/$baseb/ok"
check "redirect to host B: the record's url is the one requested" \
  test "$(field xok url)" = "$base/to/$portb/ok"
check "redirect to host B: one redirect counted" grep -q 'event=fetched .*redirects=1' "$NL_WORK/xok.log"
check "redirect to host B: B's robots.txt requested before the page" python3 - "$NL_WORK/site.log" "$portb" <<'PY'
import sys
b = [l.split()[3] for l in open(sys.argv[1]) if l.startswith("req ") and "port=%s " % sys.argv[2] in l]
assert b[:2] == ["path=/robots.txt", "path=/ok"], b
PY
fetch xrobots "/to/$portb/private/x"
check "redirect to a path B's robots.txt disallows: robots_disallowed" \
  test "$(rc xrobots)/$(field xrobots reason_code)" = "1/robots_disallowed"
check "the reason names the redirect target" grep -q "redirect 1 to $baseb/private/x" "$NL_WORK/xrobots.json"
check "the disallowed target was never requested" test "$(hits /private/x)" -eq 0
fetch srobots /redir/private/y
check "relative redirect on the same host to a disallowed path: robots_disallowed" \
  test "$(field srobots reason_code)" = "robots_disallowed"
check "the disallowed path was never requested" test "$(hits /private/y)" -eq 0

# B's robots.txt says Crawl-delay: 2; A has no delay (min_delay_ms=0). Two
# pages of A redirecting to B at once: B sees them >= 2 s apart.
stdin_fetch xcd "$base/to/$portb/cd/1" "$base/to/$portb/cd/2"
check "two redirects to B at once: two raw records" \
  test "$(rc xcd)/$(grep -c '"schema":"newsline.raw/1"' "$NL_WORK/xcd.ndjson")" = "0/2"
check "redirect target's Crawl-delay honoured: B saw the hops >= 1.95 s apart" python3 - \
  "$NL_WORK/site.log" "$portb" <<'PY'
import sys
t = [float(l.split()[1][2:]) for l in open(sys.argv[1])
     if l.startswith("req ") and "port=%s path=/cd/" % sys.argv[2] in l]
assert len(t) == 2 and t[1] - t[0] >= 1.95, t
PY

# The same URL twice at once: one transfer, both records answered with it.
stdin_fetch dup "$base/slowok/dup" "$base/slowok/dup"
check "the same URL twice at once: requested once" test "$(hits /slowok/dup)" -eq 1
check "the same URL twice at once: both records answered (two raw records, one id)" python3 - \
  "$NL_WORK/dup.ndjson" <<'PY'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
assert len(r) == 2 and all(x["schema"] == "newsline.raw/1" for x in r), r
assert r[0]["id"] == r[1]["id"] and r[0]["body"] == r[1]["body"], r
PY
check "the second request joined the first's transfer" grep -q 'event=fetch_joined' "$NL_WORK/dup.log"
# A URL that fails: both records become the same dead letter.
stdin_fetch dupfail "$base/status/404" "$base/status/404"
check "the same failing URL twice: requested once, two dead letters" python3 - \
  "$NL_WORK/dupfail.ndjson" "$(grep -c 'path=/status/404 ' "$NL_WORK/site.log")" <<'PY'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
assert len(r) == 2 and all(x["reason_code"] == "http_status" for x in r), r
assert int(sys.argv[2]) == 2, sys.argv[2]  # one earlier (/status/404 above) and this one
PY

fetch slow /slow --set fetcher.low_speed_time_s=2 --set fetcher.max_attempts=1
check "slow-loris body: low-speed timeout" test "$(field slow reason_code)" = "timeout"

fetch big /big
check "2 MiB chunked, no Content-Length: body_too_large" test "$(field big reason_code)" = "body_too_large"
fetch bigcl /big-cl
check "2 MiB with Content-Length: body_too_large" test "$(field bigcl reason_code)" = "body_too_large"
fetch bomb /gzip-bomb
check "gzip bomb (64 MiB decoded): body_too_large at the decoded cap" \
  test "$(field bomb reason_code)" = "body_too_large"

fetch latin /latin1
check "wrong charset header: kept as sent, bytes exact in body_base64" python3 - "$NL_WORK/latin.json" <<'PY'
import base64, json, sys
r = json.load(open(sys.argv[1]))
assert "charset=utf-8" in r["content_type"] and "body" not in r, r
assert base64.b64decode(r["body_base64"]) == "<p>caf\u00e9 na\u00efve</p>".encode("latin-1"), r
PY

fetch robots /private/secret
check "robots.txt disallow: robots_disallowed" test "$(field robots reason_code)" = "robots_disallowed"
check "robots.txt disallow: the site never saw the request" test "$(hits /private/secret)" -eq 0
fetch norobots /private/other --set fetcher.robots=false
check "fetcher.robots=false: fetched" test "$(rc norobots)" = 0

timeout 60 "${FETCH[@]}" --url "javascript:alert(1)" >"$NL_WORK/badurl.json" 2>"$NL_WORK/badurl.log"
check "not http(s): bad_url" test "$(field badurl reason_code)" = "bad_url"

"$B/newsline-fetcher" --set fetcher.allow_private=10.0.0.0/33 --url "$base/ok" \
  >/dev/null 2>"$NL_WORK/badcfg.log"
check "bad fetcher.allow_private: exit 2 naming the key" \
  bash -c "test $? -eq 2 && grep -q 'fetcher.allow_private' '$NL_WORK/badcfg.log'"

nl_summary
