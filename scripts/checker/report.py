"""Runs every check over a history and renders the report."""

from __future__ import annotations

import json
import time
from collections import Counter

from . import checks, linearizability, watch
from .history import History

EXIT_OK, EXIT_ANOMALIES, EXIT_UNKNOWN, EXIT_BAD_INPUT = 0, 1, 2, 3


class Result:
    def __init__(self):
        self.anomalies: list = []
        self.search = None
        self.stats: dict = {}
        self.elapsed = 0.0

    @property
    def linearizable(self):
        if self.search is None or self.search.verdict == "unknown":
            return None
        lin = [a for a in self.anomalies if a.category == "linearizability"]
        return self.search.verdict == "ok" and not lin

    @property
    def verdict(self) -> str:
        if self.anomalies:
            return "anomalies"
        if self.search is not None and self.search.verdict == "unknown":
            return "unknown"
        return "ok"

    @property
    def exit_code(self) -> int:
        return {"ok": EXIT_OK, "anomalies": EXIT_ANOMALIES, "unknown": EXIT_UNKNOWN}[self.verdict]

    def kinds(self) -> Counter:
        return Counter(a.kind for a in self.anomalies)

    def summary(self) -> dict:
        return {"result": self.verdict, "linearizable": self.linearizable,
                "search": None if self.search is None else self.search.verdict,
                "anomalies": dict(sorted(self.kinds().items())),
                "stats": self.stats, "elapsed_s": round(self.elapsed, 3)}


def run(h: History, timeout_s: float = 60.0, serializable_scope: str = "client") -> Result:
    t0 = time.monotonic()
    res = Result()
    anomalies, search = linearizability.check(h, timeout_s, serializable_scope)
    res.search = search
    res.anomalies.extend(anomalies)
    if search.verdict == "ok":
        canon = watch.canon_from_search(search)
    else:
        canon = watch.canon_fallback(h, search.max_revision)
    wa, wstats = watch.check_watches(h, canon)
    res.anomalies.extend(wa)
    res.anomalies.extend(checks.check_durability(h))
    la, lstats = checks.check_leases(h, search)
    res.anomalies.extend(la)
    res.anomalies.extend(checks.check_convergence(h))
    per_kind: dict = {}
    for o in h.ops:
        per_kind.setdefault(o.op, Counter())[o.status] += 1
    res.stats = {
        "ops": {k: dict(v) for k, v in sorted(per_kind.items())},
        "max_revision": search.max_revision,
        "search_steps": search.explored,
        "search_strict": search.strict,
        "canonical": "search" if canon.authoritative else "fallback",
        "watchers": wstats["watchers"], "watch_segments": wstats["segments"],
        "watch_events": wstats["events"], "final_states": len(h.finals),
        "lease_expiries": lstats["expiries"], "lease_expiries_timed": lstats["expiries_timed"],
    }
    res.elapsed = time.monotonic() - t0
    return res


def render(res: Result, max_per_kind: int = 10) -> str:
    s = res.stats
    lines = ["Roster history check", "===================="]
    lines.append("operations (ok/fail/unknown):")
    for k, c in s["ops"].items():
        lines.append(f"  {k:<10} {c.get('ok', 0):>7} / {c.get('fail', 0):>5} / {c.get('unknown', 0):>5}")
    lines.append(f"max revision {s['max_revision']}; search {res.search.verdict} after "
                 f"{s['search_steps']} steps (watch hints {'used' if s['search_strict'] else 'not used'}); "
                 f"canonical history from {s['canonical']}")
    lines.append(f"watchers {s['watchers']} ({s['watch_segments']} segments), events checked "
                 f"{s['watch_events']}; final states {s['final_states']}; lease expiries "
                 f"{s['lease_expiries']} ({s['lease_expiries_timed']} with a time bound)")
    lin = res.linearizable
    lines.append("linearizable: " + ("yes" if lin else "UNKNOWN (time budget exceeded)" if lin is None else "NO"))
    if lin is None and res.search is not None and res.search.anomaly is not None \
            and res.search.anomaly.kind != "watch_hint":
        lines.append(f"  search was stuck near: {res.search.anomaly.message}")
    if res.anomalies:
        lines.append(f"ANOMALIES: {len(res.anomalies)}")
        by: dict = {}
        for a in res.anomalies:
            by.setdefault((a.category, a.kind), []).append(a)
        for (cat, kind), lst in sorted(by.items()):
            lines.append(f"  [{cat}] {kind}: {len(lst)}")
            for a in lst[:max_per_kind]:
                ids = f" ops {a.ops}" if a.ops else ""
                lines.append(f"    -{ids} {a.message}")
            if len(lst) > max_per_kind:
                lines.append(f"    ... {len(lst) - max_per_kind} more")
    else:
        lines.append("no anomalies")
    lines.append(f"result: {res.verdict} ({res.elapsed:.2f}s)")
    lines.append("SUMMARY " + json.dumps(res.summary(), sort_keys=True))
    return "\n".join(lines)


def dump_canonical(res: Result, path: str):
    """Write the write sequence the search found (empty file if none)."""
    with open(path, "w", encoding="utf-8") as f:
        s = res.search
        if s is None or s.verdict != "ok":
            return
        for r in range(1, len(s.writers)):
            w = s.writers[r]
            d = {"revision": r,
                 "writer": w.op.id if w.op is not None and w.op.op != "expire" else None,
                 "kind": w.kind, "lease": w.lease or None,
                 "status": w.op.status if w.op is not None else "inferred",
                 "changes": [[c.key, c.type, None if c.value is None else json.loads(c.value)]
                             for c in s.changes[r]]}
            f.write(json.dumps(d) + "\n")
