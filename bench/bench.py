#!/usr/bin/env python3
"""Helpers for bench/e2e.sh (Python 3 stdlib only).

  bench.py gen-ndjson SEED_DIR COPIES OUT
      Writes the newsline.raw/1 records `newsline replay --copies COPIES`
      would produce (same ids, same fields) as NDJSON, for the stdin peer.

  bench.py analyze --corpus DIR --seeds DIR --copies K --t0-ms MS --logs DIR
                   [--peer-corpus DIR --peer-out FILE --peer-secs S]
                   [--meta KEY=VALUE ...] [--json FILE]
      Checks the Kafka run's corpus and logs (every expected id stored exactly
      once, nothing dead-lettered, no errors), computes throughput and
      latencies, prints the table and the summary line. Exit 0 if the run is
      clean, 1 if anything was lost, duplicated or logged as an error.
"""
import argparse
import datetime
import glob
import json
import os
import re
import sys


def fnv1a64(data: bytes) -> int:
    """nl_hash64 in common/nl_text.c."""
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


SEED_RE = re.compile(r"^[0-9]+_([0-9a-f]{16})\.txt$")


def seeds(seed_dir):
    """The seed documents, sorted by name as `newsline replay` sorts them."""
    out = []
    for name in sorted(os.listdir(seed_dir)):
        m = SEED_RE.match(name)
        if m:
            out.append((name, m.group(1)))
    return out


def copy_id(seed_id, k, salt="copy"):
    """The id cli/replay.c gives copy k of a seed: hash of "<id>/<salt>/<k>"."""
    return "%016x" % fnv1a64(("%s/%s/%d" % (seed_id, salt, k)).encode())


def expected_ids(seed_dir, copies):
    return {copy_id(sid, k) for _, sid in seeds(seed_dir) for k in range(copies)}


def cmd_gen_ndjson(a):
    n = 0
    with open(a.out, "w", encoding="utf-8") as out:
        for name, sid in seeds(a.seed_dir):
            with open(os.path.join(a.seed_dir, name), encoding="utf-8") as f:
                body = f.read()
            for k in range(a.copies):
                rec = {"schema": "newsline.raw/1", "id": copy_id(sid, k), "source": "replay",
                       "path": name, "content_type": "text/plain; charset=utf-8", "body": body}
                out.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")
                n += 1
    print(n)


def pct(sorted_vals, p):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_vals:
        return float("nan")
    rank = max(1, -(-len(sorted_vals) * p // 100))  # ceil(n*p/100)
    return sorted_vals[int(rank) - 1]


def median(vals):
    return pct(sorted(vals), 50)


def parse_rfc3339_ms(s):
    dt = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")
    dt = dt.replace(tzinfo=datetime.timezone.utc)
    return int(round(dt.timestamp() * 1000))


KV_RE = re.compile(r'(\w[\w.-]*)=("(?:[^"\\]|\\.)*"|\S*)')


def kv(line):
    return {k: v.strip('"') for k, v in KV_RE.findall(line)}


def scan_logs(log_dir):
    """Warnings/errors per log, sink store statuses, stage 'stopped' summaries."""
    res = {"problems": {}, "sink_status": {}, "sink_ids": {}, "stopped": {},
           "dead_letters": 0}
    for path in sorted(glob.glob(os.path.join(log_dir, "*.log"))):
        name = os.path.basename(path)[:-4]
        probs = []
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if "level=warn" in line or "level=error" in line:
                    probs.append(line.rstrip("\n"))
                if " event=dead_letter " in line:
                    res["dead_letters"] += 1
                if name == "sink" and " event=stored " in line:
                    d = kv(line)
                    st = d.get("status", "?")
                    res["sink_status"][st] = res["sink_status"].get(st, 0) + 1
                    res["sink_ids"][d.get("id")] = res["sink_ids"].get(d.get("id"), 0) + 1
                if " event=stopped " in line:
                    res["stopped"][name] = kv(line)
        if probs:
            res["problems"][name] = probs
    return res


def cmd_analyze(a):
    meta = dict(m.split("=", 1) for m in a.meta)
    want = expected_ids(a.seeds, a.copies)
    n_want = len(want)
    issues = []

    # --- the Kafka pipeline's corpus ---------------------------------------
    got = {}
    bad_trace = 0
    lat, rp, pt, ts, stored_at = [], [], [], [], []
    replay_ts = []
    for path in glob.glob(os.path.join(a.corpus, "*.json")):
        with open(path, encoding="utf-8") as f:
            side = json.load(f)
        sid = side.get("id")
        got[sid] = got.get(sid, 0) + 1
        tr = side.get("trace") or {}
        stored_at.append(parse_rfc3339_ms(side["stored_at"]))
        if not all(k in tr for k in ("replay", "parser", "tagger", "sink")):
            bad_trace += 1
            continue
        replay_ts.append(tr["replay"])
        lat.append(tr["sink"] - tr["replay"])
        rp.append(tr["parser"] - tr["replay"])
        pt.append(tr["tagger"] - tr["parser"])
        ts.append(tr["sink"] - tr["tagger"])
    missing = want - set(got)
    unexpected = set(got) - want
    dup_files = {k: v for k, v in got.items() if v > 1}
    if missing:
        issues.append("%d of %d documents missing from the corpus (e.g. %s)"
                      % (len(missing), n_want, ", ".join(sorted(missing)[:3])))
    if unexpected:
        issues.append("%d unexpected sidecars (e.g. %s)"
                      % (len(unexpected), ", ".join(sorted(unexpected)[:3])))
    if dup_files:
        issues.append("%d ids with more than one sidecar" % len(dup_files))
    if bad_trace:
        issues.append("%d sidecars without a complete trace" % bad_trace)

    logs = scan_logs(a.logs)
    sink_ids = logs["sink_ids"]
    redelivered_ids = sum(1 for v in sink_ids.values() if v > 1)
    non_stored = {k: v for k, v in logs["sink_status"].items() if k != "stored"}
    if non_stored:
        issues.append("sink reported %s (records stored more than once / redelivered)"
                      % ", ".join("%s=%d" % kv_ for kv_ in sorted(non_stored.items())))
    if redelivered_ids:
        issues.append("%d ids reached the sink more than once" % redelivered_ids)
    if logs["dead_letters"]:
        issues.append("%d dead letters logged" % logs["dead_letters"])
    for stage in ("parser", "tagger", "sink"):
        s = logs["stopped"].get(stage)
        if s is None:
            issues.append("no event=stopped line from newsline-%s (did it exit cleanly?)" % stage)
            continue
        if s.get("records_in") != str(n_want):
            issues.append("newsline-%s records_in=%s, expected %d"
                          % (stage, s.get("records_in"), n_want))
        if s.get("exit", "0") != "0":
            issues.append("newsline-%s exit=%s" % (stage, s.get("exit")))
        if s.get("redelivered", "0") != "0":
            issues.append("newsline-%s redelivered=%s" % (stage, s.get("redelivered")))
    errors = {k: [l for l in v if "level=error" in l] for k, v in logs["problems"].items()}
    errors = {k: v for k, v in errors.items() if v}
    if errors:
        issues.append("error lines in logs: " +
                      ", ".join("%s=%d" % (k, len(v)) for k, v in sorted(errors.items())))
    warns = {k: [l for l in v if "level=warn" in l] for k, v in logs["problems"].items()}
    warns = {k: v for k, v in warns.items() if v}

    n_ok = len(lat)
    wall_ms = (max(stored_at) - a.t0_ms) if stored_at else float("nan")
    docs_s = len(got) / (wall_ms / 1000.0) if stored_at and wall_ms > 0 else float("nan")
    slat = sorted(lat)
    produce_ms = (max(replay_ts) - min(replay_ts)) if replay_ts else float("nan")
    first_replay_ms = (min(replay_ts) - a.t0_ms) if replay_ts else float("nan")

    # --- the stdin peer ------------------------------------------------------
    peer = None
    if a.peer_out:
        n_peer_stored = 0
        peer_status = {}
        with open(a.peer_out, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                r = json.loads(line)
                if r.get("schema") == "newsline.stored/1":
                    peer_status[r["status"]] = peer_status.get(r["status"], 0) + 1
                    if r["status"] == "stored":
                        n_peer_stored += 1
        peer_sidecars = len(glob.glob(os.path.join(a.peer_corpus, "*.json")))
        if n_peer_stored != n_want or peer_sidecars != n_want:
            issues.append("stdin peer stored %d (sidecars %d, statuses %s), expected %d"
                          % (n_peer_stored, peer_sidecars, peer_status, n_want))
        peer = {"docs": n_peer_stored, "secs": a.peer_secs,
                "docs_per_s": n_peer_stored / a.peer_secs if a.peer_secs > 0 else float("nan")}

    ratio = docs_s / peer["docs_per_s"] if peer and peer["docs_per_s"] else float("nan")

    # --- report ------------------------------------------------------------
    def f0(x):
        return "%.0f" % x if x == x else "n/a"

    print()
    print("newsline end-to-end benchmark")
    for k in ("command", "date", "commit", "cpus", "broker", "partitions", "kafka_overrides",
              "loadavg", "build"):
        if k in meta:
            print("  %-10s %s" % (k, meta[k]))
    print()
    rows = [
        ("documents expected / stored", "%d / %d" % (n_want, len(got))),
        ("replay produce span (first..last replay trace)", "%s ms" % f0(produce_ms)),
        ("wall: replay start -> last sidecar stored", "%.2f s" % (wall_ms / 1000.0)),
        ("Kafka pipeline throughput", "%.1f docs/s" % docs_s),
        ("end-to-end latency p50 (sink - replay)", "%s ms" % f0(pct(slat, 50))),
        ("end-to-end latency p99", "%s ms" % f0(pct(slat, 99))),
        ("end-to-end latency max", "%s ms" % f0(slat[-1] if slat else float("nan"))),
        ("median replay -> parser", "%s ms" % f0(median(rp) if rp else float("nan"))),
        ("median parser -> tagger", "%s ms" % f0(median(pt) if pt else float("nan"))),
        ("median tagger -> sink", "%s ms" % f0(median(ts) if ts else float("nan"))),
    ]
    if peer:
        rows += [
            ("stdin peer (parser|tagger|sink, no Kafka)",
             "%d docs in %.2f s = %.1f docs/s" % (peer["docs"], peer["secs"], peer["docs_per_s"])),
            ("ratio Kafka / stdin throughput", "%.2f" % ratio),
        ]
    w = max(len(r[0]) for r in rows)
    for k, v in rows:
        print("  %-*s  %s" % (w, k, v))
    if warns:
        print()
        print("  warnings in logs (not counted as failures):")
        for k, v in sorted(warns.items()):
            print("    %s: %d line(s), first: %s" % (k, len(v), v[0][:300]))
    if errors:
        print()
        for k, v in sorted(errors.items()):
            print("  errors in %s.log (first 5):" % k)
            for l in v[:5]:
                print("    " + l[:400])
    print()
    if issues:
        print("PROBLEMS:")
        for i in issues:
            print("  - " + i)
        print()
    summary = ("SUMMARY broker=%s docs=%d stored=%d docs/s=%.1f p50=%sms p99=%sms max=%sms "
               "stdin_docs/s=%s ratio=%s status=%s"
               % (meta.get("broker", "?"), n_want, len(got), docs_s, f0(pct(slat, 50)),
                  f0(pct(slat, 99)), f0(slat[-1] if slat else float("nan")),
                  "%.1f" % peer["docs_per_s"] if peer else "n/a",
                  "%.2f" % ratio if peer else "n/a", "FAIL" if issues else "ok"))
    print(summary)

    if a.json:
        out = {"meta": meta, "docs_expected": n_want, "docs_stored": len(got),
               "wall_s": wall_ms / 1000.0, "docs_per_s": docs_s,
               "first_replay_after_start_ms": first_replay_ms, "replay_span_ms": produce_ms,
               "latency_ms": {"p50": pct(slat, 50), "p99": pct(slat, 99),
                              "max": slat[-1] if slat else None, "n": n_ok},
               "stage_median_ms": {"replay_parser": median(rp) if rp else None,
                                   "parser_tagger": median(pt) if pt else None,
                                   "tagger_sink": median(ts) if ts else None},
               "sink_status": logs["sink_status"], "stopped": logs["stopped"],
               "peer": peer, "ratio": ratio, "issues": issues,
               "warnings": {k: len(v) for k, v in warns.items()}}
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=1, sort_keys=True)
            f.write("\n")
    return 1 if issues else 0


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen-ndjson")
    g.add_argument("seed_dir")
    g.add_argument("copies", type=int)
    g.add_argument("out")
    n = sub.add_parser("analyze")
    n.add_argument("--corpus", required=True)
    n.add_argument("--seeds", required=True)
    n.add_argument("--copies", type=int, required=True)
    n.add_argument("--t0-ms", type=int, required=True)
    n.add_argument("--logs", required=True)
    n.add_argument("--peer-corpus")
    n.add_argument("--peer-out")
    n.add_argument("--peer-secs", type=float, default=0.0)
    n.add_argument("--meta", action="append", default=[])
    n.add_argument("--json")
    a = p.parse_args()
    if a.cmd == "gen-ndjson":
        cmd_gen_ndjson(a)
        return 0
    return cmd_analyze(a)


if __name__ == "__main__":
    sys.exit(main())
