#!/usr/bin/env python3
"""Checks a corpus directory after a replay of the seeds.

usage: check_corpus.py WORK_CORPUS SEED_DIR EXPECTED_JSON

Asserts, printing one TAP line per check:
  - every seed's text file is byte-identical to the shipped seed;
  - every seed has exactly one sidecar, named like its text file, and no
    document id appears under two names; no temp files are left;
  - each sidecar's actors include the expected ones and none of the absent
    ones;
  - every mention's offsets slice its field to exactly the surface form.
Exit status 0 only if every check passed.
"""
import json
import os
import re
import sys

work, seeds, expected_path = sys.argv[1:4]
expected = json.load(open(expected_path))
failed = 0


def check(cond, what):
    global failed
    print(("    ok - " if cond else "    not ok - ") + what)
    if not cond:
        failed += 1


names = sorted(os.listdir(work))
check(not any(n.startswith(".nl-tmp.") for n in names), "no temp files left in the corpus")
ids = {}
for n in names:
    m = re.fullmatch(r"(\d+)_([0-9a-f]{16})\.(txt|json)", n)
    if m:
        ids.setdefault(m.group(2), set()).add(m.group(1))
check(all(len(v) == 1 for v in ids.values()), "every document id is stored under one name only")

for seed in sorted(os.listdir(seeds)):
    if not seed.endswith(".txt"):
        continue
    stem = seed[:-4]
    key = stem
    seed_bytes = open(os.path.join(seeds, seed), "rb").read()
    txt_path = os.path.join(work, seed)
    check(os.path.exists(txt_path) and open(txt_path, "rb").read() == seed_bytes,
          f"{stem}: seed text unchanged")
    side_path = os.path.join(work, stem + ".json")
    if not os.path.exists(side_path):
        check(False, f"{stem}: sidecar exists")
        continue
    side = json.load(open(side_path))
    rec = side["record"]
    check(side["id"] == stem[4:] and rec["id"] == stem[4:], f"{stem}: sidecar id matches the file name")
    actors = {a["id"]: a for a in rec["tags"]["actors"]}
    exp = expected.get(key, {})
    missing = [a for a in exp.get("expect", []) if a not in actors]
    check(not missing, f"{stem}: expected actors tagged" + (f" (missing {missing})" if missing else ""))
    wrong = [a for a in exp.get("absent", []) if a in actors]
    check(not wrong, f"{stem}: no actor the seed never names" + (f" (found {wrong})" if wrong else ""))
    text = seed_bytes[side["text_offset"]:] if side["text_offset"] >= 0 else None
    title = rec["title"].encode()
    bad = []
    for a in actors.values():
        check_count = len(a["mentions"]) == a["count"] or (
            a.get("mentions_truncated") and len(a["mentions"]) < a["count"])
        if not check_count:
            bad.append(f"{a['id']} count")
        for m in a["mentions"]:
            src = title if m["field"] == "title" else text
            if src is None or src[m["start"]:m["end"]].decode("utf-8", "replace") != m["surface"]:
                bad.append(f"{a['id']}@{m['start']}")
    check(text is not None and not bad, f"{stem}: every mention's offsets slice to its surface form"
          + (f" (bad: {bad[:5]})" if bad else ""))

print(f"    # corpus checks: {failed} failed")
sys.exit(1 if failed else 0)
