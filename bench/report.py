#!/usr/bin/env python3
"""report.py — the Markdown report of bench/run from its raw records.

    report.py TIMES MICRO RSS SAMPLES "SYSTEMS" ROUNDS ELAPSED BIG_MB

TIMES lines: "workload system round t0 t1" (seconds since the epoch), or
"workload system round unsupported|n/a"; round 0 is the warm-up and is not counted.
MICRO lines: "system op ns". RSS lines: "system kib". SAMPLES lines: "workload key
index value" (µs for times, ns for micro calls, KiB for disk) or "workload note - TEXT"
(a reason, e.g. why a workload was skipped), for the workloads bench/run samples itself.

Targets are issue 15's (speed) and issue 14's (static programs, go build); the
workloads neither names keep issue 8's. Every row with a target says ✓ or ✗.

A ratio is the median of the per-round ratios system/native (the pair ran back to
back), shown with the min-max of those ratios; a time is the median of the rounds.
"""
import statistics
import sys

TARGETS = {
    "exec-loop": 1.12, "find": 1.10, "ls-lR": 1.10, "build": 1.03, "untar-rm": 1.30,
    "cow-tree": 2.5, "cow-tree-tmpfs": 2.0, "big-copy-up": 1.10,
    "changed-tree-lookups": 1.25, "commit": 1.50, "git-status": 1.10,
    "python-import": 1.05, "go-build": 2.0,
}
NATIVE_IS = {"big-copy-up": "native = cp of the file", "commit": "native = cp -a of the files"}
MICRO_TARGETS = {"stat": 1.10, "open+close": 1.10, "access": 1.10, "stat-missing": 1.15}
STATIC_TARGETS = {"stat": 15.0, "open+close": 10.0}
RSS_TARGET_KIB = 384
VM_START_EXISTING_MS, VM_START_FRESH_MS, VM_DISK_KIB = 2.0, 4.0, 64
LIST_MS, SCALE_RATIO, UPPER_LOOKUP_RATIO = 100.0, 1.10, 1.10


def mark(ok):
    return " ✓" if ok else " ✗"


def load_samples(path):
    """{workload: {key: {index: value}}} and {workload: [notes]}."""
    data, notes = {}, {}
    for line in open(path):
        f = line.split(None, 3)
        if len(f) < 4:
            continue
        if f[1] == "note":
            notes.setdefault(f[0], []).append(f[3].strip())
        else:
            data.setdefault(f[0], {}).setdefault(f[1], {})[f[2]] = float(f[3])
    return data, notes


def med(d):
    return statistics.median(d.values())


def paired(a, b):
    """Per-index values of a and b (dicts index -> value) that both have."""
    return [(a[i], b[i]) for i in a if i in b]


def sampled(data, notes, peers):
    """The rows of the workloads bench/run samples itself (issues 14 and 15)."""
    out = []
    def row(what, value, target, ok):
        out.append("| %s | %s | %s |%s |" % (what, value, target, "" if ok is None else mark(ok)))
    for w, ns in notes.items():
        for n in ns:
            out.append("| %s | %s | | |" % (w, n))
    vs = data.get("vm-start")
    if vs and "native" in vs:
        nat = vs["native"]
        for sys, label, target in (("fvm", "existing VM", VM_START_EXISTING_MS),
                                   ("fvm-fresh", "fresh VM", VM_START_FRESH_MS),
                                   ("bwrap", "bubblewrap", None), ("overlayfs", "unshare + overlay", None)):
            if sys not in vs:
                continue
            added = [(s - n) / 1000 for n, s in paired(nat, vs[sys])]
            row("vm-start: %s, ms added to /bin/true (%d runs, native %.2f ms)" % (
                label, len(added), med(nat) / 1000),
                "+%.2f ms (%.2f–%.2f)" % (statistics.median(added), min(added), max(added)),
                "≤ +%.0f ms" % target if target else "peer",
                statistics.median(added) <= target if target else None)
        if "disk-kib" in vs:
            d = med(vs["disk-kib"])
            row("vm-start: disk per idle VM (du of vms/NAME + ctl/NAME, median)", "%.0f KiB" % d,
                "≤ %d KiB" % VM_DISK_KIB, d <= VM_DISK_KIB)
        if "disk-kib-used" in vs:
            row("vm-start: disk of the existing VM after its runs", "%.0f KiB" % med(vs["disk-kib-used"]),
                "", None)
    sc = data.get("vm-scale")
    if sc and "list-big" in sc:
        n = int(med(sc.get("vms", {"1": 0})))
        lb, lo = med(sc["list-big"]) / 1000, med(sc["list-one"]) / 1000
        row("vm-scale: `fvm list`, %d VMs (1 VM: %.1f ms)" % (n, lo), "%.1f ms" % lb,
            "≤ %.0f ms" % LIST_MS, lb <= LIST_MS)
        r = [b / o for b, o in paired(sc["exec-big"], sc["exec-one"])]
        row("vm-scale: run in the middle VM of %d / in the only VM (%.1f ms / %.1f ms)" % (
            n, med(sc["exec-big"]) / 1000, med(sc["exec-one"]) / 1000),
            "**%.2f** (%.2f–%.2f)" % (statistics.median(r), min(r), max(r)),
            "≤ %.2f" % SCALE_RATIO, statistics.median(r) <= SCALE_RATIO)
    up = data.get("upper-scale")
    if up:
        for op in ("stat", "open+close", "access", "stat-missing"):
            e, f = up.get("lookup-empty:" + op), up.get("lookup-full:" + op)
            if not e or not f:
                continue
            sizes = sorted(int(k.split(":")[1]) for k in up if k.startswith("diff:"))
            r = [b / a for a, b in paired(e, f)]
            row("upper-scale: %s of an unchanged host name, upper/ of %s files / empty (%.0f / %.0f ns)" % (
                op, "{:,}".format(max(sizes)) if sizes else "?", med(f), med(e)),
                "**%.2f** (%.2f–%.2f)" % (statistics.median(r), min(r), max(r)),
                "≤ %.2f" % UPPER_LOOKUP_RATIO, statistics.median(r) <= UPPER_LOOKUP_RATIO)
        for kind in ("diff", "commit"):
            keys = sorted((k for k in up if k.startswith(kind + ":")), key=lambda k: int(k.split(":")[1]))
            per = []
            for k in keys:
                n = int(k.split(":")[1])
                t = med(up[k])
                per.append(t * 1000 / n)
                row("upper-scale: `fvm %s`, %s files%s" % (
                    kind + (" --stat" if kind == "diff" else ""), "{:,}".format(n),
                    "" if kind == "diff" else " (once, into the scratch tree)"),
                    "%.3f s, %.0f ns per file" % (t / 1e6, t * 1000 / n), "linear", None)
            if len(per) >= 2:
                g = per[-1] / per[0]
                row("upper-scale: `fvm %s` ns per file, largest / smallest" % kind, "**%.2f**" % g,
                    "≤ %.2f (linear)" % SCALE_RATIO, g <= SCALE_RATIO)
    st = data.get("static-micro")
    if st:
        for op in ("stat", "open+close", "access", "stat-missing"):
            nat = st.get("native:" + op)
            if not nat:
                continue
            for p in peers:
                mine = st.get("%s:%s" % (p, op))
                if not mine:
                    continue
                r = [b / a for a, b in paired(nat, mine)]
                t = STATIC_TARGETS.get(op) if p == "fvm" else None
                row("static-micro: %s, %s (native %.0f ns, %s %.0f ns)" % (op, p, med(nat), p, med(mine)),
                    "**×%.1f** (%.1f–%.1f)" % (statistics.median(r), min(r), max(r)),
                    "≤ ×%.0f" % t if t else ("issue 14 names none" if p == "fvm" else "peer"),
                    statistics.median(r) <= t if t else None)
    if out:
        out = ["", "Workloads of issues 14 and 15 (medians; a ratio is the median of per-round pairs):",
               "", "| workload | measured | target | |", "|---|---:|---:|---|"] + out
    return out


def main():
    times_f, micro_f, rss_f, samples_f, systems, rounds, elapsed, big_mb = sys.argv[1:9]
    systems = systems.split()
    samples, notes = load_samples(samples_f)
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
    if order:
        # "fastest" (issue 15: the table says who is fastest) when there are peers.
        fast = len(peers) > 1
        out.append("| workload | native median | " + " | ".join(
            "%s median | %s ratio (min–max)" % (p, p) for p in peers) + " | target |" +
            (" fastest |" if fast else ""))
        out.append("|---|---:|" + "---:|---:|" * len(peers) + "---:|" + ("---|" if fast else ""))
    for w in order:
        nat = runs.get((w, "native"), {})
        if flags.get((w, "native")) == "unsupported" or not nat:
            why = "; ".join(notes.pop(w, [])) or "unsupported here (`fvm %s` missing)" % w
            out.append("| %s | %s |" % (w, why) +
                       " |" * (2 * len(peers)) + " ≤ %.2f |" % TARGETS[w] + (" |" if fast else ""))
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
        meds = {p: statistics.median(runs[(w, p)].values()) for p in peers if runs.get((w, p))}
        meds["native"] = statistics.median(nat.values())
        # Who is fastest among the tools (native is the reference, not a contender).
        if fast:
            row.append(min((p for p in meds if p != "native"), key=meds.get, default="—"))
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
    if micro:
        out.append("")
        out.append("Micro-benchmark, ns per call (median of 1,000-call batches), ratio to native:")
        out.append("")
        out.append("| call | " + " | ".join(msys) + " | target |")
        out.append("|---|" + "---:|" * len(msys) + "---:|")
    for op, by in micro.items():
        cells = []
        for s in msys:
            if s not in by:
                cells.append("—")
            elif s == "native":
                cells.append("%.0f" % by[s])
            else:
                cells.append("%.0f (×%.2f)%s" % (by[s], by[s] / by["native"], "" if s != "fvm" else
                             mark(by[s] / by["native"] <= MICRO_TARGETS.get(op, 1.10))))
        out.append("| %s | %s | fvm ≤ ×%.2f |" % (op, " | ".join(cells), MICRO_TARGETS.get(op, 1.10)))
    if micro:
        out.append("")
        out.append("Targets (issue 15): fvm with an unchanged tree ≤ ×1.10 per call, stat of a "
                   "missing file ≤ ×1.15.")
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
        extra = statistics.median(rss["fvm"]) - base if "fvm" in rss else None
        out.append("Resident memory of `sleep` (VmRSS, median of 5): native %d KiB; " % base +
                   "; ".join("%s %+d KiB" % (s, statistics.median(v) - base)
                             for s, v in rss.items() if s != "native") +
                   " (target: fvm ≤ +%d KiB%s)." % (RSS_TARGET_KIB, "" if extra is None else
                                                     mark(extra <= RSS_TARGET_KIB)))
    out += sampled(samples, notes, peers)
    out.append("")
    out.append("%s counted rounds after one warm-up, systems interleaved in each round; "
               "big file %s MiB; whole run %s s." % (rounds, big_mb, elapsed))
    print("\n".join(out))


if __name__ == "__main__":
    main()
