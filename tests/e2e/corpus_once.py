#!/usr/bin/env python3
"""Checks that a corpus holds every document exactly once.

usage: corpus_once.py CORPUS TOTAL [SEEDS]

TOTAL documents stored by the sink (each a NNN_<id>.txt and its
NNN_<id>.json sidecar, no other version, one number per id), SEEDS (default
5) shipped text files, no temp files left. Exit 0 if so, else 1 with why.
"""
import collections
import os
import re
import sys

d, total = sys.argv[1], int(sys.argv[2])
seeds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
names = os.listdir(d)
tmp = [n for n in names if n.startswith(".nl-tmp.")]
per_id = collections.Counter()
nums = collections.defaultdict(set)
versions = [n for n in names if re.fullmatch(r"\d+_[0-9a-f]{16}\.v\d+\.(txt|json)", n)]
for n in names:
    m = re.fullmatch(r"(\d+)_([0-9a-f]{16})\.(txt|json)", n)
    if m:
        per_id[m.group(2)] += 1
        nums[m.group(2)].add(m.group(1))
sidecars = len([n for n in names if re.fullmatch(r"\d+_[0-9a-f]{16}\.json", n)])
problems = []
if tmp:
    problems.append(f"{len(tmp)} temp files left")
if versions:
    problems.append(f"second versions stored: {versions[:3]}")
if sidecars != total + seeds:
    problems.append(f"{sidecars} sidecars, expected {total + seeds}")
if len(per_id) != total + seeds:
    problems.append(f"{len(per_id)} ids, expected {total + seeds}")
if any(c != 2 for c in per_id.values()):
    problems.append(f"ids without exactly a text file and a sidecar: "
                    f"{[i for i, c in per_id.items() if c != 2][:3]}")
if any(len(v) != 1 for v in nums.values()):
    problems.append("an id under two numbers")
if problems:
    print("# " + "; ".join(problems))
    sys.exit(1)
