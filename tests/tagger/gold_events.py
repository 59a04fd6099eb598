#!/usr/bin/env python3
"""Event tagging against the hand-made gold annotation of the seeds.

usage: gold_events.py TAGGER_BIN GOLD_DIR SEED_DIR [MIN_P MIN_R]

The gold lists, per seed, the (event, sentence) pairs in which a sentence
refers to an event. Runs `newsline-tagger --text SEED` on every seed and
compares its (event, evidence sentence) pairs with the gold ones; a tagged
sentence counts as the gold sentence it overlaps by at least half of the
shorter of the two (the tagger's sentence splitter and the annotator's may
differ at a quote or an abbreviation). Prints per-event and total precision
and recall, the misses and false pairs; exits 1 if precision or recall is
under its minimum (defaults 0.0: report only).
"""
import collections
import json
import os
import subprocess
import sys

tagger, gold_dir, seed_dir = sys.argv[1:4]
min_p = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
min_r = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
verbose = os.environ.get("VERBOSE") == "1"
tp = fp = fn = 0
per_event = collections.defaultdict(lambda: [0, 0, 0])


def overlap(a, b):
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    return hi - lo >= 0.5 * min(a[1] - a[0], b[1] - b[0])


for name in sorted(os.listdir(gold_dir)):
    if not name.endswith(".json") or name == "actors.json":
        continue
    gold = json.load(open(os.path.join(gold_dir, name)))
    path = os.path.join(seed_dir, gold["file"])
    data = open(path, "rb").read()
    out = subprocess.run([tagger, "--text", path, "--log-level", "error"], check=True,
                         capture_output=True).stdout
    rec = json.loads(out)
    title, text = rec["title"].encode(), rec["text"].encode()
    title_at = data.find(title)
    text_at = data.find(text, title_at + len(title))
    want = []
    for g in gold["events"]:
        s = g["sentence"].encode()
        at = data.find(s)
        if at < 0:
            sys.exit(f"{name}: gold sentence not in the seed: {g['sentence'][:60]!r}")
        want.append((g["event"], (at, at + len(s))))
    got = []
    for e in rec["tags"]["events"]:
        if e.get("evidence_truncated"):
            sys.exit(f"{name}: {e['id']}: evidence truncated")
        for ev in e["evidence"]:
            base = title_at if ev["field"] == "title" else text_at
            got.append((e["id"], (base + ev["start"], base + ev["end"])))
    matched_want = set()
    d_tp = d_fp = 0
    for ev, span in got:
        hit = [i for i, (we, ws) in enumerate(want) if we == ev and overlap(span, ws)
               and i not in matched_want]
        if hit:
            matched_want.add(hit[0])
            d_tp += 1
            per_event[ev][0] += 1
        else:
            d_fp += 1
            per_event[ev][1] += 1
            if verbose:
                print(f"  false  {ev:40} {data[span[0]:span[1]].decode()[:90]!r}")
    for i, (ev, span) in enumerate(want):
        if i not in matched_want:
            per_event[ev][2] += 1
            if verbose:
                print(f"  missed {ev:40} {data[span[0]:span[1]].decode()[:90]!r}")
    d_fn = len(want) - len(matched_want)
    tp, fp, fn = tp + d_tp, fp + d_fp, fn + d_fn
    print(f"{gold['file']}: gold {len(want)}, tagged {len(got)}, right {d_tp}, false {d_fp}, "
          f"missed {d_fn}")
for ev, (t, p, n) in sorted(per_event.items()):
    print(f"  {ev:42} right {t:3} false {p:3} missed {n:3}")
precision = tp / (tp + fp) if tp + fp else 0.0
recall = tp / (tp + fn) if tp + fn else 0.0
f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
print(f"events: precision {precision:.4f} recall {recall:.4f} F1 {f1:.4f} "
      f"(minimum precision {min_p}, recall {min_r})")
ok = precision >= min_p and recall >= min_r
print(f"{int(ok)} passed, {int(not ok)} failed")
sys.exit(0 if ok else 1)
