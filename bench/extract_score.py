#!/usr/bin/env python3
"""Scores extracted article texts against the article-extraction benchmark.

Usage: extract_score.py GROUND_TRUTH.json PRED.jsonl [PRED.jsonl ...] [--per-page FILE]

Each PRED.jsonl holds one JSON object a line with "id" (the page's sha256)
and "text"; a page missing from it counts as an empty text. Scoring, as the
benchmark's README describes it (and its evaluate.py does):

1. tokens are the runs of \\w (Unicode) in the text;
2. shingles are the consecutive 4-token tuples, a text of fewer than 4 tokens
   being one shingle (the empty text: the empty tuple); multisets per side;
3. tp += min(true, pred), fp += pred surplus, fn += true surplus per shingle;
4. tp, fp, fn of a page are divided by their sum;
5. precision: mean over pages of tp/(tp+fp) (1 when fp = fn = 0), recall
   likewise with fn; F1 = 2PR/(P+R) of the means; accuracy: share of pages
   whose token lists are equal.

Prints one line per file: name precision recall f1 accuracy pages.
"""
import json
import re
import statistics
import sys
from collections import Counter

TOKEN_RE = re.compile(r"\w+", re.UNICODE)


def tokenize(text):
    return TOKEN_RE.findall(text or "")


def shingles(tokens, n=4):
    if len(tokens) < n:
        return Counter([tuple(tokens)])
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def page_counts(true_text, pred_text):
    ts, ps = shingles(tokenize(true_text)), shingles(tokenize(pred_text))
    tp = fp = fn = 0
    for key in ts.keys() | ps.keys():
        t, p = ts.get(key, 0), ps.get(key, 0)
        tp += min(t, p)
        fp += max(0, p - t)
        fn += max(0, t - p)
    s = tp + fp + fn
    if s > 0:
        tp, fp, fn = tp / s, fp / s, fn / s
    return tp, fp, fn


def precision(tp, fp, fn):
    if fp == fn == 0:
        return 1.0
    if tp == fp == 0:
        return None  # no prediction: not in the mean
    return tp / (tp + fp)


def recall(tp, fp, fn):
    if fp == fn == 0:
        return 1.0
    if tp == fn == 0:
        return None
    return tp / (tp + fn)


def score(truth, pred):
    """truth: id -> text, pred: id -> text. Returns (P, R, F1, accuracy, rows)."""
    ps, rs, exact, rows = [], [], 0, []
    for key in sorted(truth):
        t, p = truth[key], pred.get(key, "")
        tp, fp, fn = page_counts(t, p)
        pr, rc = precision(tp, fp, fn), recall(tp, fp, fn)
        if pr is not None:
            ps.append(pr)
        if rc is not None:
            rs.append(rc)
        if tokenize(t) == tokenize(p):
            exact += 1
        rows.append((key, pr, rc))
    P, R = statistics.mean(ps), statistics.mean(rs)
    F1 = 2 * P * R / (P + R) if P + R > 0 else 0.0
    return P, R, F1, exact / len(truth), rows


def load_pred(path):
    pred = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                o = json.loads(line)
                pred[o["id"]] = o.get("text") or ""
    return pred


def main(argv):
    per_page = None
    if "--per-page" in argv:
        i = argv.index("--per-page")
        per_page = argv[i + 1]
        del argv[i : i + 2]
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        truth = {k: v.get("articleBody", "") for k, v in json.load(f).items()}
    out = open(per_page, "w") if per_page else None
    for path in argv[2:]:
        P, R, F1, acc, rows = score(truth, load_pred(path))
        print(f"{path} {P:.4f} {R:.4f} {F1:.4f} {acc:.4f} {len(truth)}")
        if out:
            for key, pr, rc in rows:
                out.write(f"{path}\t{key}\t{pr}\t{rc}\n")
    if out:
        out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
