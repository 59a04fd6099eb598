#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (AddressSanitizer + UBSan) and runs
# each for a short time. usage: run.sh SECONDS [target...]
# Exit 0 if no target crashed, leaked or timed out; the crashing input is
# left in the work dir and its path printed.
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
secs=${1:-30}
shift || true
targets=("${@:-tagger}")
cc=$(command -v clang-14 || command -v clang || true)
[[ -n "$cc" ]] || { echo "fuzz: clang not found (deploy/install-deps.sh installs clang-14)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/newsline-fuzz.XXXXXX")
flags=(-std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
       -D_GNU_SOURCE -DNL_VERSION="\"fuzz\"" -DNL_DATADIR="\"$src\""
       -I"$src/common" -I"$src/tagger" -I"$src/parser")
# shellcheck disable=SC2207
pc=($(pkg-config --cflags --libs rdkafka jansson libhs libxml-2.0 uchardet libmicrohttpd))
# Seeds for the parser: "<Content-Type>\n<body>". The fixture page, a few
# pages of the extraction benchmark (AEB_DIR, if present) cut to max_len, and
# small bodies in other charsets, with BOMs, meta tags and lying headers.
parser_seeds() {
  local dir=$1 aeb=${AEB_DIR:-$src/../shared/datasets/aeb} i=0 f
  { printf 'text/html\n'; cat "$src/tests/fixtures/article.html"; } >"$dir/article"
  { printf 'text/html; charset=utf-8\n'; cat "$src/tests/fixtures/article.html"; } >"$dir/article_u8"
  if [[ -d $aeb/html ]]; then
    for f in "$aeb"/html/*.html.gz; do
      ((i++ < 8)) || break
      { printf 'text/html; charset=UTF-8\n'; { gzip -dc "$f" || true; } | head -c 60000; } >"$dir/aeb_$i"
    done
  fi
  local p='<html><head><meta charset="%s"><title>T</title></head><body><p>%s</p></body></html>'
  # script and style contents that px_html_utf8 removes before the parse, and
  # the markup around them it must read as libxml2 does
  printf 'text/html; charset=utf-8\n<!DOCTYPE html><html><head><title>T <script>x</script></title><style>p{}</style><script type="application/ld+json">{"@type":"NewsArticle","headline":"H","datePublished":"2024-05-01"}</script></head><body><h1>Head<script>document.write("<h1>")</script></h1><!-- <script>c</script> --><p a=1 b="2"c=\x27>\x27>%s</p><script>var s="</div>";</script><script src=x /><p>after</p><style>a{}</style ><script>if(a<b){}</scriptx></script><p>%s</p></body></html>\n' "$(printf '%.0s word' {1..40})" "$(printf '%.0s more' {1..40})" >"$dir/raw_text"
  local fr='Le café était fermé, mais l’hôtel proposait déjà un menu réduit.'
  local ja='市議会は火曜日、路面電車網を十二キロ延長することを決めた。'
  { printf 'text/html; charset=utf-8\n'; printf "$p" windows-1252 "$fr" | iconv -t WINDOWS-1252; } >"$dir/lying_header"
  { printf 'text/html\n'; printf "$p" shift_jis "$ja" | iconv -t SHIFT_JIS; } >"$dir/meta_sjis"
  { printf 'text/html; charset=euc-kr\n'; printf "$p" x "$ja" | iconv -t EUC-JP; } >"$dir/eucjp"
  { printf 'text/plain\n'; printf '\xff\xfe'; printf "$p" utf-16 "$ja" | iconv -t UTF-16LE; } >"$dir/bom16"
  { printf 'text/html\n'; printf "$p" utf-8 "$fr" | iconv -t UTF-16BE; } >"$dir/nobom16"
  { printf 'text/html;charset="koi8-r"\n'; printf "<meta http-equiv=content-type content='text/html;charset=koi8-r'>%s" 'Городской совет' | iconv -t KOI8-R; } >"$dir/koi8"
}

status=0
for t in "${targets[@]}"; do
  case $t in
    tagger) sources=("$src/tests/fuzz/fuzz_tagger.c" "$src"/tagger/watchlist.c "$src"/tagger/tag.c "$src"/tagger/matcher.c
                     "$src"/common/*.c) ;;
    parser) sources=("$src/tests/fuzz/fuzz_parser.c" "$src"/parser/extract.c "$src"/parser/meta.c "$src"/parser/charset.c "$src"/parser/xmlarena.c
                     "$src"/common/*.c) ;;
    *) echo "fuzz: unknown target $t" >&2; exit 2 ;;
  esac
  "$cc" "${flags[@]}" "${sources[@]}" "${pc[@]}" -lstdc++ -lm -o "$work/fuzz_$t"
  mkdir -p "$work/corpus_$t"
  case $t in
    tagger) cp "$src"/corpus/*.txt "$work/corpus_$t/" ;;
    parser) parser_seeds "$work/corpus_$t" ;;
  esac
  echo "fuzz: $t for $secs s"
  if (cd "$work" && "./fuzz_$t" -max_total_time="$secs" -max_len=65536 -timeout=10 \
        -rss_limit_mb=2048 "corpus_$t" 2>"$work/fuzz_$t.log"); then
    tail -n 2 "$work/fuzz_$t.log"
    echo "fuzz: $t: no crash in $secs s"
  else
    tail -n 40 "$work/fuzz_$t.log"
    echo "fuzz: $t FAILED; inputs and log kept in $work"
    status=1
  fi
done
[[ $status -eq 0 ]] && rm -rf "$work"
echo "$([[ $status -eq 0 ]] && echo 1 || echo 0) passed, $([[ $status -eq 0 ]] && echo 0 || echo 1) failed"
exit $status
