#!/usr/bin/python3
"""Compare two results files of tests/bench/run.py, e.g. before and after a change:

    /usr/bin/python3 tests/bench/compare.py OLD.json NEW.json

For each interpreter version found in both (matched by minor version, so 3.12.1 and 3.12.3
compare), it prints every configuration's geomean ratio (traced/untraced) and each
workload's ratio old → new, then bytes/event and ft-convert's throughput. Ratios, not
seconds, are compared: they cancel most of the difference between two machines or two
noisy moments. Only information: the exit status is 0 whatever changed.
"""

import json
import sys


def by_minor(res):
    out = {}
    for py in res["pythons"]:
        minor = ".".join(py["version"].split(".")[:2])
        out.setdefault(minor, res["results"][py["key"]])
    return out


def change(old, new):
    if old is None or new is None:
        return "%8s → %-8s" % (fmt(old), fmt(new))
    return "%8s → %-8s %+6.1f%%" % (fmt(old), fmt(new), (new / old - 1) * 100)


def fmt(x):
    return "-" if x is None else "%.2fx" % x


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__.strip().splitlines()[2].strip())
    with open(argv[1]) as f:
        old = json.load(f)
    with open(argv[2]) as f:
        new = json.load(f)
    print("old: %s (%s)  new: %s (%s)" % (old["git"]["describe"], old["started"],
                                          new["git"]["describe"], new["started"]))
    # Results written before --metric existed measured wall time.
    defaults = {"metric": "wall"}
    for key in ("workloads", "scale", "metric"):
        o, n = (r["settings"].get(key, defaults.get(key)) for r in (old, new))
        if o != n:
            print("warning: the runs differ in %s (%s vs %s): the ratios are not comparable"
                  % (key, o, n))
    o_all, n_all = by_minor(old), by_minor(new)
    for minor in sorted(set(o_all) & set(n_all)):
        o, n = o_all[minor], n_all[minor]
        print("\nPython %s" % minor)
        configs = [c for c in n["geomean"] if "bytes" not in c and c != "untraced"]
        for c in configs:
            print("  %-18s geomean %s" % (c, change(o["geomean"].get(c), n["geomean"][c])))
            for w, row in n["workloads"].items():
                old_cell = o["workloads"].get(w, {}).get(c, {})
                print("    %-16s %s" % (w, change(old_cell.get("ratio"), row[c].get("ratio"))))
        for key in [k for k in n["geomean"] if "bytes" in k]:
            print("  %-18s %s → %.2f" % (key, "%.2f" % o["geomean"][key]
                                         if key in o["geomean"] else "-", n["geomean"][key]))
    for name, res in (("old", old), ("new", new)):
        conv = res.get("convert", {})
        if "events_per_s" in conv:
            print("%s ft-convert: %.1fM events/s, peak RSS %.0f MB (%.1fM events)"
                  % (name, conv["events_per_s"] / 1e6, conv["peak_rss_kb"] / 1024,
                     conv["trace"]["events"] / 1e6))


if __name__ == "__main__":
    main(sys.argv)
