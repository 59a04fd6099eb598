#!/usr/bin/env bash
# The fetcher against a loopback fault site (site.py), one check per fault,
# through `newsline-fetcher --url` (the engine: robots.txt, retries, caps,
# the address guard). Timing checks have lower bounds only.
source "$(dirname "$0")/lib.sh"
B=$NL_BIN

python3 "$NL_SRC/tests/e2e/site.py" 200 >"$NL_WORK/port" 2>"$NL_WORK/site.log" &
NL_PIDS+=("$!")
nl_wait_for 30 test -s "$NL_WORK/port" || die "site did not start"
base="http://127.0.0.1:$(cat "$NL_WORK/port")"

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
# hits PATH: requests the site saw for PATH
hits() { grep -c "path=$1 " "$NL_WORK/site.log"; }
# times PATH: the site's request times for PATH, one a line
times() { grep "path=$1 " "$NL_WORK/site.log" | sed 's/.* t=\([0-9.]*\) .*/\1/'; }
gap_at_least() { # gap_at_least PATH SECONDS: 2nd request - 1st >= SECONDS
  times "$1" | python3 -c 'import sys; t=[float(x) for x in sys.stdin]; sys.exit(not (len(t) >= 2 and t[1]-t[0] >= float(sys.argv[1])))' "$2"
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
