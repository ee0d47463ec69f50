"""Many short C calls: builtins and methods of built-in types in tight Python loops.

len, list.append, dict.get, str methods, min/max, isinstance, abs, math functions: each
does a few nanoseconds of work, so a tracer that reports native calls (the `all` mode)
pays its per-call cost here several times per Python-level line. In Python-only mode these
calls are invisible and this workload should cost almost nothing extra.
"""

import math

from _harness import run, scaled

WORDS = ("alpha", "Beta", "gamma", "DELTA", "epsilon", "zeta", "Eta", "theta",
         "iota", "kappa", "Lambda", "mu")


def word_stats(words, counts):
    """Fold a batch of words into counts (dict.get, str methods, len, max)."""
    longest = 0
    for w in words:
        key = w.lower()
        counts[key] = counts.get(key, 0) + 1
        if w.isupper() or w.startswith("e"):
            counts["!"] = counts.get("!", 0) + 1
        longest = max(longest, len(w))
    return longest


def numeric(values):
    """min/max/abs/isinstance/math on a batch of numbers (list.append, round)."""
    out = []
    lo, hi = min(values), max(values)
    for v in values:
        if isinstance(v, int):
            out.append(abs(v - lo) + math.isqrt(abs(hi - v)))
        else:
            out.append(round(math.sqrt(abs(v)), 3))
    return sum(out)


def text(lines):
    """Split, strip, join and search short strings."""
    n = 0
    for line in lines:
        parts = line.split(",")
        cleaned = [p.strip() for p in parts]
        joined = "-".join(cleaned)
        n += len(joined) + joined.find("ta") + joined.count("a")
        if hasattr(joined, "upper") and callable(joined.upper):
            n += ord(joined[0])
    return n


def main():
    counts = {}
    check = 0
    values = [i * 7 % 101 - 50 for i in range(40)] + [i * 0.37 for i in range(40)]
    lines = [", ".join(WORDS[i % 12:i % 12 + 4]) + " ," for i in range(24)]
    batch = list(WORDS) * 4
    for _ in range(scaled(6000)):
        check += word_stats(batch, counts)
        check += int(numeric(values))
        check += text(lines)
    return [check, sorted(counts.items())]


if __name__ == "__main__":
    run(main)
