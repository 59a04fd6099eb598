"""The Prometheus text format (0.0.4) as the e2e tests read a scraped page.

parse(path) -> (text, typed, helped, names): the page, {family: type}, the
families with HELP, and the family of every sample line in order. It
asserts what any page must hold: a final newline, counter or gauge types,
sample lines whose label values are escaped, numeric values."""
import re

SERIES = re.compile(
    r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (\S+)$')


def parse(path):
    text = open(path, encoding="utf-8").read()
    assert text.endswith("\n")
    typed, helped, names = {}, set(), []
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helped.add(line.split()[2])
        elif line.startswith("# TYPE "):
            _, _, n, t = line.split(" ")
            assert t in ("counter", "gauge"), line
            typed[n] = t
        else:
            m = SERIES.match(line)
            assert m, "not a sample line: %r" % line
            float(m.group(3))
            names.append(m.group(1))
    return text, typed, helped, names
