#!/usr/bin/env python3
"""Runs trafilatura over the benchmark pages in one process, timed.

Usage: extract_trafilatura.py HTML_DIR OUT_PREFIX [--rounds N] [--modes default,precision]

Every <id>.html.gz is read and decompressed into memory first (bytes, as
served: trafilatura detects the charset itself, as px_html does). Then, for
each mode, trafilatura.extract() runs over all pages, --rounds times (best
round kept, the first round's texts written to OUT_PREFIX-<mode>.jsonl).
Modes: default (extract's defaults), precision (favor_precision=True),
fast (fast=True). Prints "RESULT mode=<m> pps=<pages/s>" per mode.
"""
import gzip
import json
import sys
import time
from pathlib import Path

import trafilatura

MODES = {
    "default": {},
    "precision": {"favor_precision": True},
    "fast": {"fast": True},
}


def main(argv):
    rounds, modes = 1, ["default", "precision"]
    args = []
    i = 1
    while i < len(argv):
        if argv[i] == "--rounds":
            rounds = int(argv[i + 1])
            i += 2
        elif argv[i] == "--modes":
            modes = argv[i + 1].split(",")
            i += 2
        else:
            args.append(argv[i])
            i += 1
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    pages = []
    for path in sorted(Path(args[0]).glob("*.html.gz")):
        pages.append((path.name.split(".")[0], gzip.decompress(path.read_bytes())))
    for mode in modes:
        best, texts = None, None
        for r in range(rounds):
            out = []
            t0 = time.perf_counter()
            for key, html in pages:
                out.append((key, trafilatura.extract(html, **MODES[mode]) or ""))
            dt = time.perf_counter() - t0
            if best is None or dt < best:
                best = dt
            if texts is None:
                texts = out
        with open(f"{args[1]}-{mode}.jsonl", "w", encoding="utf-8") as f:
            for key, text in texts:
                f.write(json.dumps({"id": key, "text": text}) + "\n")
        print(f"RESULT mode={mode} pps={len(pages) / best:.2f} secs={best:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
