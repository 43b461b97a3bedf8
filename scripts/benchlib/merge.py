#!/usr/bin/env python3
"""Combines full `scripts/bench` runs into one table and says whether they agree.

    scripts/bench --merge .build-bench/<run A> .build-bench/<run B> [...] [--capacity-of .build-bench/<run>]

A table that one run alone produced may have caught a noisy hour; two runs taken apart on the same machine give
a figure to publish. Every per-round row becomes the median over the rounds of all the runs (each ratio the
median of the per-round ratios, with their range over every round); capacity rows (measured once per run) are
the mean of the runs, or those of one run with `--capacity-of` (when a change after an earlier run touched only
what they measure). The agreement table then puts each run's median ratio beside the range of the other runs'
per-round ratios: a run whose median lies outside the others' spread did not reproduce.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


def load(directory):
    with open(os.path.join(directory, "results.json")) as handle:
        return json.load(handle)


def mean_of(values):
    """The mean of numbers, element-wise for lists and key-wise for dicts; None when nothing is there."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    first = present[0]
    if isinstance(first, bool) or isinstance(first, str):
        return first
    if isinstance(first, (int, float)):
        numbers = [v for v in present if isinstance(v, (int, float))]
        return round(sum(numbers) / len(numbers), 3)
    if isinstance(first, list):
        same = [v for v in present if isinstance(v, list) and len(v) == len(first)]
        return [mean_of([v[i] for v in same]) for i in range(len(first))]
    if isinstance(first, dict):
        keys = {key for v in present if isinstance(v, dict) for key in v}
        return {key: mean_of([v.get(key) for v in present if isinstance(v, dict)]) for key in keys}
    return first


def system_names(run):
    """The systems a run measured (each has a list of rounds; the settings hold a count of them)."""
    return [name for name, value in run.items() if isinstance(value, dict) and isinstance(value.get("rounds"), list)]


def merge(runs, capacity_of=None):
    """One results dict: rounds and failover trials of every run in sequence, capacity averaged (or taken
    from `capacity_of`, one of the runs)."""
    merged = dict(runs[0])
    systems = system_names(runs[0])
    for name in systems:
        present = [run[name] for run in runs if name in run]
        merged[name] = {
            "rounds": [r for system in present for r in system.get("rounds", [])],
            "failover": [t for system in present for t in system.get("failover", [])],
            "failover_frozen": [t for system in present for t in system.get("failover_frozen", [])],
            "capacity": (capacity_of.get(name, {}).get("capacity") if capacity_of is not None
                         else mean_of([system.get("capacity") for system in present])),
            "version": present[0].get("version"),
        }
    return merged


def per_round_ratios(results, system, phase, key):
    mine = [r.get(phase, {}).get(key) for r in results.get(system, {}).get("rounds", [])]
    theirs = [r.get(phase, {}).get(key) for r in results.get("etcd", {}).get("rounds", [])]
    return [a / b for a, b in zip(mine, theirs) if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b]


def agreement(runs, labels):
    """Markdown: per throughput or latency row, each run's median ratio to etcd and whether it lies within the
    other runs' per-round range."""
    settings = runs[0]["settings"]
    rows = []
    phases = []
    for target, _ in settings["read_targets"]:
        for consistency in ("linearizable", "serializable"):
            phases.append((f"get_{target}_{consistency}", "ops_per_sec",
                           f"read {'one instance' if target == 'instance' else '100-instance service'}, {consistency}, ops/s"))
    for clients in settings["clients"]:
        for via in settings["via"]:
            phases.append((f"put_{via}_{clients}", "ops_per_sec",
                           f"register, {clients} client{'s' if clients > 1 else ''} via {'leader' if via == 'leader' else 'all nodes'}, ops/s"))
            phases.append((f"put_{via}_{clients}", "cpu_s_per_1k_ops", "&nbsp;&nbsp;server CPU per op"))
    for watchers in settings["watchers"]:
        phases.append((f"watch_{watchers}", "p99_ms", f"watch p99, {watchers:,} watcher{'s' if watchers > 1 else ''}"))
    systems = [s for s in ("roster", "roster-etcd") if s in runs[0]]
    header = ["| Row (÷ etcd) | System | " + " | ".join(f"{label}: median (range)" for label in labels)
              + " | each run's median within the others' range |",
              "|---|---|" + "---:|" * len(labels) + "---|"]
    for phase, key, label in phases:
        for system in systems:
            each = [per_round_ratios(run, system, phase, key) for run in runs]
            if not all(each):
                continue
            medians = [bench.median(values) for values in each]
            cells = [f"{m:.2f}× ({min(v):.2f}–{max(v):.2f})" for m, v in zip(medians, each)]
            verdicts = []
            for index, m in enumerate(medians):
                others = [x for j, values in enumerate(each) if j != index for x in values]
                verdicts.append("yes" if min(others) <= m <= max(others) else "no")
            name = "HTTP API" if system == "roster" else "etcd API"
            rows.append(f"| {label} | {name} | {' | '.join(cells)} | {'/'.join(verdicts)} |")
    return "\n".join(header + rows)


def main():
    arguments = sys.argv[1:]
    capacity_directory = None
    if "--capacity-of" in arguments:
        at = arguments.index("--capacity-of")
        if at + 1 >= len(arguments):
            sys.exit("merge: --capacity-of needs a run directory")
        capacity_directory = arguments[at + 1]
        del arguments[at:at + 2]
    directories = arguments
    if len(directories) < 2:
        sys.exit("usage: merge.py RUN_DIR RUN_DIR [...] [--capacity-of RUN_DIR]   (full scripts/bench runs)")
    runs = [load(directory) for directory in directories]
    if any(run.get("quick") for run in runs) or len({json.dumps(run["settings"], sort_keys=True) for run in runs}) != 1:
        sys.exit("merge: the runs must be full runs with the same settings")
    capacity_run = load(capacity_directory) if capacity_directory else None
    merged = merge(runs, capacity_run)
    labels = [run["date"] for run in runs]
    foreign = sorted({f"{name} {phase}" for run in runs for name in system_names(run)
                      for r in run[name]["rounds"] for phase, value in r.items()
                      if isinstance(value, dict) and value.get("load", {}).get("foreign")})
    m = runs[0]["machine"]
    print(f"Roster vs etcd, 3 nodes each on loopback — {len(runs)} full runs ({', '.join(labels)}), "
          f"{sum(run['settings']['rounds'] for run in runs)} interleaved rounds in all\n")
    print(f"Machine: {m['nproc']} cores ({m['cpu']}), {m['memory_gib']} GiB, Linux {m['kernel']}, data on {m['disk']}. "
          f"Versions: {', '.join(str(run.get('roster', {}).get('version')) for run in runs)}, "
          f"{merged.get('etcd', {}).get('version')}, "
          f"{m['swift']}, {m['go']}.")
    print(f"Clients: Roster — {runs[0]['clients']['roster']}; etcd and Roster's etcd API — {runs[0]['clients']['etcd']}.")
    print(f"Phases under foreign load in any run (†): {', '.join(foreign) if foreign else 'none'}.")
    print(f"Capacity rows: {'the run of ' + capacity_run['date'] if capacity_run else 'mean of the runs'}.\n")
    print(bench.table(merged, runs[0]["settings"]))
    print("\nAgreement between the runs (per-round ratios to etcd):\n")
    print(agreement(runs, labels))


if __name__ == "__main__":
    main()
