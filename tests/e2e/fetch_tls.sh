#!/usr/bin/env bash
# The fetcher over HTTPS against loopback TLS sites (tls_site.py) with a
# throw-away CA made here by openssl: HTTP/2 negotiated by ALPN, HTTP/1.1
# over TLS, verification failures (unknown CA, wrong host name) dead-lettered
# and never fetched, and gzip/deflate/br bodies decoded, through
# `newsline-fetcher --url`.
source "$(dirname "$0")/lib.sh"
B=$NL_BIN
# The site needs Debian's python3-h2 and python3-brotli (deploy/install-deps.sh):
# Debian's interpreter, not whatever python3 comes first on PATH.
PY=/usr/bin/python3
$PY -c 'import h2, brotli' 2>"$NL_WORK/py.log" ||
  die "$PY cannot import h2 and brotli: run deploy/install-deps.sh"

# ---- A CA, a server certificate for 127.0.0.1 and localhost, and one for
# another name, both signed by the CA; all in the work dir, gone after.
pki() { openssl "$@" >>"$NL_WORK/openssl.log" 2>&1; }
cd "$NL_WORK" || die "no work dir"
EC=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
pki req -x509 "${EC[@]}" -keyout ca.key -out ca.pem -days 2 -subj "/CN=newsline test CA" ||
  die "openssl: CA"
# server NAME SAN: NAME.pem/NAME.key for subjectAltName SAN, signed by the CA
server_cert() {
  pki req "${EC[@]}" -keyout "$1.key" -out "$1.csr" -subj "/CN=$1" &&
    printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
      "$2" >"$1.ext" &&
    pki x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$1.pem" -days 2 \
      -extfile "$1.ext"
}
server_cert good "DNS:localhost,IP:127.0.0.1" || die "openssl: server certificate"
server_cert wrong "DNS:wrong.example" || die "openssl: wrong-name certificate"

# site NAME CERT ALPN: starts a TLS site; its port in NAME.port, log NAME.log
site() {
  $PY "$NL_SRC/tests/e2e/tls_site.py" "$2.pem" "$2.key" "$3" 200 >"$1.port" 2>"$1.log" &
  NL_PIDS+=("$!")
  nl_wait_for 30 test -s "$1.port" || die "TLS site $1 did not start"
}
site h2 good h2,http/1.1
site h1 good http/1.1
site wrong wrong h2,http/1.1
h2="https://127.0.0.1:$(cat h2.port)"
h1="https://127.0.0.1:$(cat h1.port)"
wrong="https://127.0.0.1:$(cat wrong.port)"

# Loopback sites are private: allow them; no politeness delay; one attempt.
FETCH=("$B/newsline-fetcher" --set fetcher.allow_private=127.0.0.0/8,::1/128
  --set fetcher.min_delay_ms=0 --set fetcher.max_attempts=1)
CA=(--set "fetcher.ca_file=$NL_WORK/ca.pem")

# fetch NAME URL [flags...]: NAME.json holds the record, NAME.rc the exit status
fetch() {
  local name=$1 url=$2
  shift 2
  timeout 60 "${FETCH[@]}" "$@" --url "$url" >"$name.json" 2>"$name.err"
  echo $? >"$name.rc"
}
field() { $PY -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' \
  "$1.json" "$2"; }
rc() { cat "$1.rc"; }
# seen SITE PATH PROTO: SITE's log has a request for PATH over PROTO (h2, http/1.1)
seen() { grep -q "alpn=$3 proto=$3 path=$2 " "$1.log"; }
# unseen SITE PATH: SITE never answered a request for PATH
unseen() { ! grep -q "path=$2 " "$1.log"; }

curl_has() { curl --version | grep -qi "^Features:.* $1\b"; }

# ---- HTTP/2 over TLS
fetch ok2 "$h2/ok" "${CA[@]}"
check "h2 site, test CA: fetched, exit 0" test "$(rc ok2)/$(field ok2 http_status)" = "0/200"
check "h2 site: the raw record says http_version 2" test "$(field ok2 http_version)" = 2
check "h2 site: body and final URL" $PY - ok2.json "$h2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["schema"] == "newsline.raw/1" and r["final_url"] == sys.argv[2] + "/ok", r
assert "fine over tls" in r["body"], r
PY
check "h2 site: ALPN agreed on h2 and the page came over HTTP/2" seen h2 /ok h2
check "h2 site: robots.txt too, over HTTP/2" seen h2 /robots.txt h2
fetch name2 "https://localhost:$(cat h2.port)/by-name" "${CA[@]}"
check "h2 site by host name (DNS:localhost in the certificate): fetched" \
  test "$(rc name2)/$(field name2 http_version)" = "0/2"

# ---- HTTP/1.1 over TLS (the site offers only http/1.1 by ALPN)
fetch ok1 "$h1/ok" "${CA[@]}"
check "http/1.1 site, test CA: fetched, exit 0" test "$(rc ok1)/$(field ok1 http_status)" = "0/200"
check "http/1.1 site: the raw record says http_version 1.1" test "$(field ok1 http_version)" = 1.1
check "http/1.1 site: ALPN agreed on http/1.1" seen h1 /ok http/1.1

# ---- Verification stays on
fetch noca "$h2/noca"
check "no fetcher.ca_file (system CAs only): exit 1, dead letter tls_verify_failed" \
  test "$(rc noca)/$(field noca reason_code)" = "1/tls_verify_failed"
check "no fetcher.ca_file: the reason names the certificate problem" \
  bash -c "$PY -c 'import json,sys; print(json.load(open(sys.argv[1]))[\"reason\"])' noca.json |
    grep -qi 'certificate'"
check "no fetcher.ca_file: one clear line on stderr" grep -q 'tls_verify_failed: TLS certificate verification failed' noca.err
check "no fetcher.ca_file: the site never answered the request" unseen h2 /noca
check "no fetcher.ca_file: the client ended the handshake (unknown CA)" \
  grep -q 'handshake failed.*unknown_ca' h2.log
fetch noca_norobots "$h2/noca-page" --set fetcher.robots=false
check "no fetcher.ca_file, robots.txt off (the page's own handshake): tls_verify_failed" \
  test "$(rc noca_norobots)/$(field noca_norobots reason_code)" = "1/tls_verify_failed"
check "no fetcher.ca_file, robots.txt off: the site never answered the request" \
  unseen h2 /noca-page
fetch badname "$wrong/badname" "${CA[@]}"
check "certificate for another host name (trusted CA): tls_verify_failed" \
  test "$(rc badname)/$(field badname reason_code)" = "1/tls_verify_failed"
check "wrong host name: the reason says the name does not match" \
  bash -c "$PY -c 'import json,sys; print(json.load(open(sys.argv[1]))[\"reason\"])' badname.json |
    grep -qi 'name'"
check "wrong host name: the site never answered the request" unseen wrong /badname
fetch h1noca "$h1/noca" --set fetcher.ca_file=
check "http/1.1 site without the CA: tls_verify_failed too" \
  test "$(field h1noca reason_code)" = "tls_verify_failed"

"$B/newsline-fetcher" --set fetcher.ca_file="$NL_WORK/missing.pem" --url "$h2/ok" \
  >/dev/null 2>badcfg.log
check "unreadable fetcher.ca_file: exit 2 naming the key" \
  bash -c "test $? -eq 2 && grep -q 'fetcher.ca_file' badcfg.log"

# ---- Content-Encoding: decoded whatever the HTTP version
expect=$($PY -c 'print(("<html><body>" + "<p>encoded body, the same bytes after decoding</p>" * 40 + "</body></html>"))')
for enc in gzip deflate br; do
  if [[ $enc == br ]] && ! curl_has brotli; then
    echo "ok - # SKIP this libcurl has no brotli"
    continue
  fi
  for v in h2 h1; do
    fetch "enc-$enc-$v" "$(eval echo "\$$v")/enc/$enc" "${CA[@]}"
    proto=$([[ $v == h2 ]] && echo h2 || echo http/1.1)
    check "$enc over $proto: sent encoded (Accept-Encoding offered it)" \
      grep -q "proto=$proto path=/enc/$enc enc=$enc " "$v.log"
    check "$enc over $proto: the body in the raw record is the decoded page" \
      test "$(field "enc-$enc-$v" body)" = "$expect"
  done
done

nl_summary
