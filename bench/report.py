#!/usr/bin/env python3
"""report.py — the Markdown report of bench/run from its raw records.

    report.py TIMES MICRO RSS "SYSTEMS" ROUNDS ELAPSED BIG_MB

TIMES lines: "workload system round t0 t1" (seconds since the epoch), or
"workload system round unsupported|n/a"; round 0 is the warm-up and is not counted.
MICRO lines: "system op ns". RSS lines: "system kib".

A ratio is the median of the per-round ratios system/native (the pair ran back to
back), shown with the min-max of those ratios; a time is the median of the rounds.
"""
import statistics
import sys

TARGETS = {
    "exec-loop": 1.10, "find": 1.25, "ls-lR": 1.25, "build": 1.05, "untar-rm": 1.30,
    "cow-tree": 2.5, "big-copy-up": 1.10, "changed-tree-lookups": 1.40, "commit": 1.50,
}
NATIVE_IS = {"big-copy-up": "native = cp of the file", "commit": "native = cp -a of the files"}
MICRO_TARGET = 1.25
RSS_TARGET_KIB = 512


def main():
    times_f, micro_f, rss_f, systems, rounds, elapsed, big_mb = sys.argv[1:8]
    systems = systems.split()
    peers = [s for s in systems if s != "native"]
    runs, flags, order = {}, {}, []
    for line in open(times_f):
        f = line.split()
        w, s, r = f[0], f[1], int(f[2])
        if w not in order:
            order.append(w)
        if r == 0:
            continue
        if len(f) == 4:
            flags[(w, s)] = f[3]
        else:
            runs.setdefault((w, s), {})[r] = float(f[4]) - float(f[3])

    out = []
    out.append("| workload | native median | " + " | ".join(
        "%s median | %s ratio (min–max)" % (p, p) for p in peers) + " | target |")
    out.append("|---|---:|" + "---:|---:|" * len(peers) + "---:|")
    for w in order:
        nat = runs.get((w, "native"), {})
        if flags.get((w, "native")) == "unsupported" or not nat:
            out.append("| %s | unsupported here (`fvm %s` missing) |" % (w, w) +
                       " |" * (2 * len(peers)) + " ≤ %.2f |" % TARGETS[w])
            continue
        row = ["%s%s" % (w, " (%s)" % NATIVE_IS[w] if w in NATIVE_IS else ""),
               "%.3f s" % statistics.median(nat.values())]
        for p in peers:
            mine = runs.get((w, p), {})
            if not mine:
                row += [flags.get((w, p), "—"), "—"]
                continue
            ratios = [mine[r] / nat[r] for r in mine if r in nat and nat[r] > 0]
            ok = "" if p != "fvm" else (" ✓" if statistics.median(ratios) <= TARGETS[w] else " ✗")
            row += ["%.3f s" % statistics.median(mine.values()),
                    "**%.2f**%s (%.2f–%.2f)" % (statistics.median(ratios), ok, min(ratios),
                                                max(ratios))]
        row.append("≤ %.2f" % TARGETS[w])
        out.append("| " + " | ".join(row) + " |")

    # TRACE=1: fvm-exec --trace against plain fvm, the pair run back to back (issue 19:
    # tracing costs at most 1.10 on the build workload).
    if "fvm-trace" in systems:
        out.append("")
        out.append("Tracing (`fvm-exec --trace` against `fvm-exec`, median of the per-round ratios):")
        for w in order:
            plain, traced = runs.get((w, "fvm"), {}), runs.get((w, "fvm-trace"), {})
            ratios = [traced[r] / plain[r] for r in traced if r in plain and plain[r] > 0]
            if not ratios:
                continue
            target = " (target ≤ 1.10 %s)" % ("✓" if statistics.median(ratios) <= 1.10 else "✗") \
                if w == "build" else ""
            out.append("- %s: fvm %.3f s, fvm --trace %.3f s: **×%.3f** (%.3f–%.3f)%s" % (
                w, statistics.median(plain.values()), statistics.median(traced.values()),
                statistics.median(ratios), min(ratios), max(ratios), target))

    micro = {}
    for line in open(micro_f):
        s, op, ns = line.split()
        micro.setdefault(op, {})[s] = float(ns)
    msys = list(dict.fromkeys(["native", "fvm", "fvm-dir-in-upper", "fvm-1-layer", "fvm-5-layers"]
                              + peers))
    out.append("")
    out.append("Micro-benchmark, ns per call (median of 1,000-call batches), ratio to native:")
    out.append("")
    out.append("| call | " + " | ".join(msys) + " |")
    out.append("|---|" + "---:|" * len(msys))
    for op, by in micro.items():
        cells = []
        for s in msys:
            if s not in by:
                cells.append("—")
            elif s == "native":
                cells.append("%.0f" % by[s])
            else:
                cells.append("%.0f (×%.2f)" % (by[s], by[s] / by["native"]))
        out.append("| %s | %s |" % (op, " | ".join(cells)))
    out.append("")
    out.append("Target: fvm with an unchanged tree ≤ ×%.2f per call." % MICRO_TARGET)
    if all("fvm-1-layer" in by and "fvm-5-layers" in by for by in micro.values()) and micro:
        worst = max(by["fvm-5-layers"] / by["fvm-1-layer"] for by in micro.values())
        out.append("Layers (issue 17): 5 layers cost at most ×%.2f of 1 layer (target ≤ ×1.10)%s."
                   % (worst, " ✓" if worst <= 1.10 else " ✗"))

    rss = {}
    for line in open(rss_f):
        f = line.split()
        if len(f) == 2:
            rss.setdefault(f[0], []).append(int(f[1]))
    if "native" in rss:
        base = statistics.median(rss["native"])
        out.append("")
        out.append("Resident memory of `sleep` (VmRSS, median of 5): native %d KiB; " % base +
                   "; ".join("%s %+d KiB" % (s, statistics.median(v) - base)
                             for s, v in rss.items() if s != "native") +
                   " (target: fvm ≤ +%d KiB)." % RSS_TARGET_KIB)
    out.append("")
    out.append("%s counted rounds after one warm-up, systems interleaved in each round; "
               "big file %s MiB; whole run %s s." % (rounds, big_mb, elapsed))
    print("\n".join(out))


if __name__ == "__main__":
    main()
