#!/usr/bin/env bash
# Installs what newsline builds and tests with, from Debian's packages, if
# anything is missing. Safe to run again: it does nothing when all is there.
set -euo pipefail

pkgs=(build-essential cmake pkg-config librdkafka-dev libcurl4-openssl-dev libidn2-dev libxml2-dev
      libjansson-dev libxxhash-dev libmicrohttpd-dev libsqlite3-dev libhyperscan-dev libuchardet-dev zlib1g-dev check python3 clang-format clang-14 libclang-rt-14-dev ca-certificates
      chromium python3-venv # chromium: e2e_report renders the report page; python3-venv: the Python client test
      openssl python3-h2 python3-brotli) # e2e_fetch_tls: a throw-away CA, an HTTP/2 + TLS site, brotli bodies
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "install-deps: installing ${missing[*]}" >&2
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo for apt-get" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
