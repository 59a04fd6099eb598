#!/usr/bin/env python3
"""Precision and recall of the tagger against the hand-made gold annotation.

usage: gold_eval.py TAGGER_BIN GOLD_DIR SEED_DIR [MIN]

Runs `newsline-tagger --text SEED` on every seed that has a gold file,
turns each mention's field offsets into byte offsets in the seed file, and
compares (actor, start, end) triples with the gold mentions. Prints one line
per document, the misses and false mentions, and the totals; exits 1 if
precision or recall is under MIN (default 0.98).
"""
import json
import os
import subprocess
import sys

tagger, gold_dir, seed_dir = sys.argv[1:4]
minimum = float(sys.argv[4]) if len(sys.argv) > 4 else 0.98
tp = fp = fn = 0
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
    got = set()
    for a in rec["tags"]["actors"]:
        for m in a["mentions"]:
            base = title_at if m["field"] == "title" else text_at
            got.add((a["id"], base + m["start"], base + m["end"]))
    want = {(m["actor"], m["start"], m["end"]) for m in gold["mentions"]}
    t, p, n = len(got & want), len(got - want), len(want - got)
    tp, fp, fn = tp + t, fp + p, fn + n
    print(f"{gold['file']}: gold {len(want)}, tagged {len(got)}, right {t}, false {p}, missed {n}")
    for actor, s, e in sorted(want - got, key=lambda x: x[1]):
        print(f"  missed {actor:22} {s:6} {data[s:e].decode('utf-8', 'replace')!r}")
    for actor, s, e in sorted(got - want, key=lambda x: x[1]):
        print(f"  false  {actor:22} {s:6} {data[s:e].decode('utf-8', 'replace')!r}")
precision = tp / (tp + fp) if tp + fp else 0.0
recall = tp / (tp + fn) if tp + fn else 0.0
print(f"precision {precision:.4f} recall {recall:.4f} (minimum {minimum})")
ok = precision >= minimum and recall >= minimum
print(f"{int(ok)} passed, {int(not ok)} failed")
sys.exit(0 if ok else 1)
