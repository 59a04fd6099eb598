#!/usr/bin/env bash
# Article extraction quality and speed: px_html (build/bin/bench-extract)
# against trafilatura (default and favor_precision) on the same pages, in the
# same run, each on one pinned core. Scores with bench/extract_score.py.
#
# Usage: bench/extract.sh [--data DIR] [--rounds N] [--cpu K] [--venv DIR] [--charset] [--keep]
#   --data    the benchmark (default /work/shared/datasets/aeb: html/, ground-truth.json)
#   --rounds  timed rounds per extractor, best kept (default 3 for ours, 1 for trafilatura
#             unless --traf-rounds is given)
#   --cpu     the core both run on (default: the last one)
#   --venv    trafilatura's virtual environment, created if missing
#             (default build/venv-trafilatura); used for the benchmark only
#   --charset also time the parser daemon's path, px_to_utf8 + px_html_utf8
#             (bench-extract --charset), as a row of its own
#   --keep    keep the temp dir with the JSON lines and per-page scores
# Needs a build (cmake --build build); the script builds nothing but the venv.
# Exit 0, 1 if bench-extract failed, 2 on bad usage or setup failure.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
data=/work/shared/datasets/aeb
rounds=3
traf_rounds=1
cpu=$(($(nproc) - 1))
venv=$root/build/venv-trafilatura
keep=0
charset=()
while (($#)); do
  case $1 in
    --data) data=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --traf-rounds) traf_rounds=$2; shift 2 ;;
    --cpu) cpu=$2; shift 2 ;;
    --venv) venv=$2; shift 2 ;;
    --charset) charset=(--charset); shift ;;
    --keep) keep=1; shift ;;
    *) sed -n '2,17p' "$0" >&2; exit 2 ;;
  esac
done
bin=$root/build/bin/bench-extract
[[ -x $bin ]] || { echo "extract.sh: no $bin; build first" >&2; exit 2; }
[[ -f $data/ground-truth.json && -d $data/html ]] || { echo "extract.sh: no benchmark in $data" >&2; exit 2; }

if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/python" -c 'import trafilatura' 2>/dev/null; then
  echo "extract.sh: creating $venv (pip install trafilatura)" >&2
  python3 -m venv "$venv"
  # lxml >= 5.2 split html.clean out; jusText (a trafilatura dependency) still imports it.
  "$venv/bin/pip" install -q trafilatura lxml_html_clean >&2
fi
traf_version=$("$venv/bin/python" -c 'import trafilatura, lxml; print(trafilatura.__version__, "lxml", lxml.__version__)')

tmp=$(mktemp -d /tmp/extract-bench.XXXXXX)
cleanup() { if ((keep)); then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi; }
trap cleanup EXIT

commit=$(git -C "$root" rev-parse --short HEAD)
git -C "$root" diff --quiet HEAD -- . ':!bench' || commit+="+dirty"
echo "# bench/extract.sh $(date -u +%FT%TZ) commit $commit nproc $(nproc) cpu $cpu"
echo "# trafilatura $traf_version; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

rc=0
taskset -c "$cpu" "$bin" --pages "$data/html" --rounds "$rounds" --out "$tmp/ours.jsonl" \
  "${charset[@]}" >"$tmp/ours.log" || rc=$?
cat "$tmp/ours.log" | sed 's/^/# /'
taskset -c "$cpu" "$venv/bin/python" "$root/bench/extract_trafilatura.py" --rounds "$traf_rounds" \
  "$data/html" "$tmp/traf" >"$tmp/traf.log"
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 "$root/bench/extract_score.py" --per-page "$tmp/per-page.tsv" "$data/ground-truth.json" \
  "$tmp/ours.jsonl" "$tmp/traf-default.jsonl" "$tmp/traf-precision.jsonl" >"$tmp/scores.txt"

python3 - "$tmp" <<'EOF'
import re, sys
tmp = sys.argv[1]
scores = {}
for line in open(f"{tmp}/scores.txt"):
    path, p, r, f, a, _ = line.split()
    scores[path.rsplit("/", 1)[1]] = tuple(map(float, (p, r, f, a)))
log = open(f"{tmp}/ours.log").read()
m = re.search(r"RESULT parse_pps=([\d.]+) ours_pps=([\d.]+)(?: charset_pps=([\d.]+))?", log)
parse_pps, ours_pps = float(m.group(1)), float(m.group(2))
cs_pps = float(m.group(3)) if m.group(3) else None
# the charset row's texts are px_html's when bench-extract says none differ
cs_same = re.search(r"charset: \d+ characters replaced; 0 of \d+ texts differ", log) is not None
pps = {m.group(1): float(m.group(2))
       for m in re.finditer(r"RESULT mode=(\w+) pps=([\d.]+)", open(f"{tmp}/traf.log").read())}
rows = [("px_html (ours)", "ours.jsonl", ours_pps),
        ("trafilatura (default)", "traf-default.jsonl", pps["default"]),
        ("trafilatura (favor_precision)", "traf-precision.jsonl", pps["precision"])]
print(f"| extractor | precision | recall | F1 | accuracy | pages/s |")
print(f"|---|---|---|---|---|---|")
for name, key, s in rows:
    p, r, f, a = scores[key]
    print(f"| {name} | {p:.3f} | {r:.3f} | {f:.3f} | {a:.3f} | {s:.1f} |")
if cs_pps is not None:
    p, r, f, a = scores["ours.jsonl"] if cs_same else (float("nan"),) * 4
    print(f"| px_to_utf8 + px_html_utf8 (daemon path) | {p:.3f} | {r:.3f} | {f:.3f} | {a:.3f} | {cs_pps:.1f} |")
print(f"| libxml2 parse only (floor) | | | | | {parse_pps:.1f} |")
o = scores["ours.jsonl"]
for name, key, mode in rows[1:]:
    t = scores[key]
    print(f"ours / {name}: F1 {o[2] - t[2]:+.3f}, pages/s x{ours_pps / pps[key.split('-')[1].split('.')[0]]:.1f}")
print(f"ours / libxml2 parse: pages/s x{ours_pps / parse_pps:.2f}")
if cs_pps is not None:
    for name, key, mode in rows[1:]:
        print(f"daemon path / {name}: pages/s x{cs_pps / pps[key.split('-')[1].split('.')[0]]:.1f}")
EOF
exit $rc
