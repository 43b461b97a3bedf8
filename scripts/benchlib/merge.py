#!/usr/bin/env python3
"""Combines full `scripts/bench` runs into one table and says whether they agree.

    scripts/bench --merge .build-bench/<run A> .build-bench/<run B> [...] [--capacity-of .build-bench/<run>]

A table that one run alone produced may have caught a noisy hour; two runs taken apart on the same machine give
a figure to publish. Every per-round row becomes the median over the rounds of all the runs (each ratio the
median of the per-round ratios, with their range over every round); capacity rows (measured once per run) are
the mean of the runs, or those of one run with `--capacity-of` (when a change after an earlier run touched only
what they measure). The agreement table then puts each run's median ratio beside the range of the other runs'
per-round ratios: a run whose median lies outside the others' spread did not reproduce. Under the table, the
count of rows that agree every way, some way and no way stands beside what pure sampling noise gives: if every
run drew its per-round ratios from one and the same distribution, a median still falls outside another run's
few rounds often (with three rounds each, two runs agree both ways on only 40 % of rows), so the counts say
whether the runs differ by more than their rounds' own scatter.
"""
import functools
import itertools
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


def verdicts_of(each):
    """Per run, whether its median lies within the range of every other run's values pooled."""
    medians = [bench.median(values) for values in each]
    verdicts = []
    for index, m in enumerate(medians):
        others = [x for j, values in enumerate(each) if j != index for x in values]
        verdicts.append(min(others) <= m <= max(others))
    return verdicts


def rank_assignments(round_counts, ranks):
    """Every way to deal `ranks` (in order) to runs holding `round_counts` values each: the runs' sorted ranks."""
    if len(round_counts) == 1:
        yield [ranks]
        return
    for chosen in itertools.combinations(range(len(ranks)), round_counts[0]):
        picked = set(chosen)
        rest = [rank for index, rank in enumerate(ranks) if index not in picked]
        for others in rank_assignments(round_counts[1:], rest):
            yield [[ranks[index] for index in chosen]] + others


@functools.lru_cache(maxsize=None)
def expected_agreement(round_counts):
    """The probabilities that every run's, some run's and no run's median lies within the others' range, when
    all runs draw their values independently from one continuous distribution. Only the order of the values
    matters then, and every assignment of the pooled ranks to the runs is equally likely: enumerated exactly."""
    every = some = none = total = 0
    for each in rank_assignments(round_counts, list(range(sum(round_counts)))):
        verdicts = verdicts_of(each)
        total += 1
        if all(verdicts):
            every += 1
        elif any(verdicts):
            some += 1
        else:
            none += 1
    return every / total, some / total, none / total


def agreement_counts(rows):
    """Markdown: how many rows agree every way, some way and no way, beside what sampling noise alone gives.
    `rows` holds, per row, the runs' verdicts and their round counts."""
    if not rows:
        return ""
    tallies = [0, 0, 0]
    expected = [0.0, 0.0, 0.0]
    for verdicts, round_counts in rows:
        tallies[0 if all(verdicts) else 1 if any(verdicts) else 2] += 1
        for way, p in enumerate(expected_agreement(tuple(round_counts))):
            expected[way] += p
    runs = len(rows[0][1])
    ways = ("both ways", "one way", "neither way") if runs == 2 else ("every way", "some way", "no way")
    cells = [f"{way} {count} (expected {e:.1f})" for way, count, e in zip(ways, tallies, expected)]
    rounds = sorted({" and ".join(str(n) for n in counts) for _, counts in rows})
    return (f"Of {len(rows)} rows the runs agree {', '.join(cells)}. The expectation is what the rounds' own "
            f"scatter gives ({' or '.join(rounds)} rounds) if every run measured one and the same distribution: "
            f"counts near it mean the runs differ by no more than their rounds do.")


def agreement(runs, labels, summary=False):
    """Markdown: per throughput or latency row, each run's median ratio to etcd and whether it lies within the
    other runs' per-round range; with `summary`, the counts of `agreement_counts` under the table."""
    settings = runs[0]["settings"]
    rows = []
    verdict_rows = []
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
    for clients in settings.get("ttl_clients", []):
        for via in settings["via"]:
            phases.append((f"register_ttl_{via}_{clients}", "ops_per_sec",
                           f"register with a lease of its own, {clients} client{'s' if clients > 1 else ''} via "
                           f"{'leader' if via == 'leader' else 'all nodes'}, ops/s"))
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
            verdicts = verdicts_of(each)
            verdict_rows.append((verdicts, [len(values) for values in each]))
            name = "HTTP API" if system == "roster" else "etcd API"
            rows.append(f"| {label} | {name} | {' | '.join(cells)} | {'/'.join('yes' if v else 'no' for v in verdicts)} |")
    table = "\n".join(header + rows)
    if summary and verdict_rows:
        table += "\n\n" + agreement_counts(verdict_rows)
    return table


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
    print(agreement(runs, labels, summary=True))


if __name__ == "__main__":
    main()
