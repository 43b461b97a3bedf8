"""TLS overhead per operation, Roster against etcd, from interleaved benchmark rounds (scripts/bench --tls).

A server's overhead in a round is its TLS system's figure minus its plaintext system's figure in that same
round: the two ran back to back on fresh clusters, so noise that lasts minutes hits both. The table reports
the median of those per-round differences with their range, for each server, and in how many rounds Roster's
overhead was no larger than etcd's (issue 16 asks for exactly that comparison).
"""

# The four systems of a --tls run: (plaintext system, TLS system) per server.
SERVERS = (("Roster", "roster-etcd", "roster-etcd-tls"), ("etcd", "etcd", "etcd-tls"))


def median(values):
    values = sorted(v for v in values if v is not None)
    return values[len(values) // 2] if values else None


def per_round_differences(plain_rounds, tls_rounds, phase, get):
    """TLS minus plaintext for each round where both systems have a figure for `phase`; `get` reads one
    figure from a phase's result and may return None. Round i is paired with round i."""
    differences = []
    for plain, tls in zip(plain_rounds, tls_rounds):
        a = get(plain[phase]) if isinstance(plain.get(phase), dict) else None
        b = get(tls[phase]) if isinstance(tls.get(phase), dict) else None
        differences.append(b - a if a is not None and b is not None else None)
    return differences


def spread(values):
    """(median, lowest, highest) of the numbers among `values`, or None when there are none."""
    numbers = sorted(v for v in values if v is not None)
    if not numbers:
        return None
    return median(numbers), numbers[0], numbers[-1]


def rounds_not_larger(roster, etcd):
    """(rounds where Roster's overhead <= etcd's, rounds where both have one)."""
    pairs = [(r, e) for r, e in zip(roster, etcd) if r is not None and e is not None]
    return sum(1 for r, e in pairs if r <= e), len(pairs)


def mean_ms(result):
    return result.get("mean_ms")


def p50_ms(result):
    return result.get("p50_ms")


def cpu_us_per_op(result):
    """Server CPU (utime + stime of every member, /proc) per completed operation, in microseconds."""
    ops, cpu = result.get("ops"), result.get("server_cpu_s")
    return cpu / ops * 1e6 if ops and cpu is not None else None


METRICS = (("mean latency, ms", mean_ms, 3), ("p50 latency, ms", p50_ms, 3),
           ("server CPU per op, µs (all members)", cpu_us_per_op, 1))


def cell(values, digits):
    summary = spread(values)
    if summary is None:
        return "—"
    middle, low, high = summary
    if low == high:
        return f"{middle:+.{digits}f}"
    return f"{middle:+.{digits}f} ({low:+.{digits}f} to {high:+.{digits}f})"


def overhead_table(results, phases):
    """Markdown: per phase and metric, each server's TLS − plaintext (median over rounds, range) and the
    rounds in which Roster's overhead was no larger than etcd's. `phases` is [(phase key, label)]."""
    rounds = {system: results.get(system, {}).get("rounds", [])
              for _, plain, tls in SERVERS for system in (plain, tls)}
    lines = ["| Phase | Overhead (TLS − plaintext) | Roster, median (range) | etcd, median (range) "
             "| Roster ≤ etcd, rounds |", "|---|---|---:|---:|---:|"]
    for phase, label in phases:
        for name, get, digits in METRICS:
            overhead = [per_round_differences(rounds[plain], rounds[tls], phase, get) for _, plain, tls in SERVERS]
            not_larger, paired = rounds_not_larger(*overhead)
            lines.append(f"| {label} | {name} | {cell(overhead[0], digits)} | {cell(overhead[1], digits)} "
                         f"| {f'{not_larger}/{paired}' if paired else '—'} |")
    return "\n".join(lines)
