"""Linearizability and revision checks for a Roster history.

Why the usual WGL search is not needed in full
----------------------------------------------
Roster has one cluster-wide revision that every effective write bumps by
exactly one.  An ok write that returned revision r is therefore *the* r-th
write of any valid linearization, and an ok read that returned revision r sits
after write r and before write r+1.  So the responses already give a total
order of almost everything; the only freedom left is

* which indeterminate ("unknown") writes happened, and at which of the
  revisions that no acknowledged write claims ("gaps");
* which server-side lease expiries (observed or not) fill the other gaps;
* ok deletes/revokes that did not report a deleted count: were they the
  write at their revision, or a no-op read at it?
* the relative order of reads at the same revision, which never matters
  (they do not change state and any real-time-respecting order works).

The check runs in two layers.

1. Real-time sweep (O(n log n)).  Give every op with a known place a position:
   write at r -> 2r, read at r -> 2r+1 (an ok delete/revoke without a deleted
   count may be either).  If A completed before B was invoked, then pos(A) <=
   pos(B) must hold (strictly for two writes, which a unique revision gives).
   A sweep over invocations in time order, keeping the largest position of
   the ops completed so far, finds every violation (stale read, revision
   going backwards) and gives each unknown write its lower bound: it may only
   take a gap revision r with 2r greater than that maximum.  Its completion is
   +inf, so there is no upper bound.  Serializable reads take no part.

2. Revision-directed WGL search.  A depth-first search walks revisions
   1..R (R = the largest revision any op or final state mentions).  At r, the
   write is forced when an acknowledged write claims r; otherwise the
   candidates are the unused unknown writes whose lower bound allows r and
   which would have an effect in the current state, ok deletes/revokes at r
   without a count, and expiries of leases that own keys.  After applying the
   write, every read at revision r (linearizable and serializable get/list,
   absence-reads, final states) is checked against the model state; an
   illegal step backtracks.  Like Lowe's just-in-time linearization, the
   configuration (revision, set of flexible ops already linearized, hash of
   the model state) of every dead end is memoized, so no configuration is
   explored twice.  The search is iterative (histories have 10^5 revisions),
   has a time budget, and reports "unknown" -- never "ok" -- when the budget
   runs out.

Before searching, a static pass proves impossible reads directly: a value no
put could have left in place at the read's revision (never written, or every
writer overwritten by an acknowledged write before it), an absence nothing
could have caused, or a mod_revision that belongs to another write.  Such a
history is reported without any search.

Pruning and ordering inside the search (all sound for a correct history):

* backjumping -- when a read at r fails on keys K, the search jumps back to
  the newest revision whose flexible candidates could write a key of K; the
  revisions in between cannot change K whatever they choose.  If there is no
  such revision, no choice can fix the read and the search stops at once;
* value pinning -- when the only non-failed put of (key, value) is an
  indeterminate one and some read saw that value at revision r', the put
  must take a revision in (lo, r'], where lo is the last known write to the
  key or read that saw the key with another value before r'.  A branch that
  passes r' without placing it is abandoned at once.  For a group of
  indeterminate retries of one value, at least one must be placed by r';
* next-observation filter -- an indeterminate write to key k at revision m
  must produce exactly what the first read covering k at r' >= m saw, unless
  some revision in (m, r'] may also write k;
* a lease cannot expire before the last acknowledged put attached to it;
* a gap tries, in order: ok deletes/revokes without a count, pinned puts
  (earliest deadline first), indeterminate deletes/revokes, lease expiries,
  other indeterminate puts (most recently invoked first);
* of several indeterminate writes with the same effect (same kind, key,
  value, lease -- e.g. retries), only the one invoked last is tried: any
  solution using a more flexible twin can swap the two.

Histories with many indeterminate writes and no watchers can still make the
search exponential; it then stops at the time budget with "unknown".

Watch events give extra information about gaps (what key/value changed at
revision r).  The search first runs in *strict* mode: the write at r must
produce every event reported at r (type, value, prev_value), must not touch
a key that a watcher covering r watches but did not report, and resync
snapshots must match.  If that fails it reruns with reported events only,
then without watch information, so that a wrong watch event is reported by
the watch checker and not as a linearizability failure.  Gets that report a
mod_revision also pin the put that made the value.  The write sequence found is
the *canonical history* the watch, durability and lease checks use.
"""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass, field
from typing import Optional

from .history import History, Op, INF, in_prefix, watch_coverage
from .model import State


@dataclass
class Anomaly:
    kind: str
    ops: list
    message: str
    category: str = ""

    def to_dict(self):
        return {"kind": self.kind, "category": self.category, "ops": self.ops,
                "message": self.message}


@dataclass
class SearchResult:
    verdict: str                       # "ok" | "fail" | "unknown"
    strict: bool = False
    writers: list = field(default_factory=list)    # index r -> description
    changes: list = field(default_factory=list)    # index r -> [Change]
    expiries: list = field(default_factory=list)   # (revision, lease, explicit)
    anomaly: Optional[Anomaly] = None
    explored: int = 0
    max_revision: int = 0


_TRACE = None    # set to a list to record (revision, candidate, #choices) per step


class _Cand:
    """A write that may be placed at some revision."""
    __slots__ = ("op", "kind", "key", "value", "lease", "bit", "only_rev", "lb", "ub", "lo", "due")

    def __init__(self, op, kind, key, value, lease, bit=0, only_rev=None, lb=-1):
        self.op, self.kind, self.key, self.value, self.lease = op, kind, key, value, lease
        self.bit, self.only_rev, self.lb = bit, only_rev, lb
        self.ub = INF     # latest revision it may take (its value was read there)
        self.lo = -1      # it must take a revision > lo (value-based bound)
        self.due = INF    # its group (retries of one value) is needed by this revision

    def describe(self):
        if self.op is None:
            return f"implicit expiry of lease {self.lease}"
        return self.op.describe()


def _is_definite_write(o: Op) -> bool:
    if o.op == "put":
        return True
    if o.op in ("delete", "revoke"):
        return bool(o.deleted)
    if o.op == "expire":
        return o.deleted is None or o.deleted > 0
    return False


def _merge_expires(expires: list) -> list:
    """Roster expires every due lease in ONE log entry (up to 500 leases): several ``expire`` lines
    with the same revision are one write deleting the keys of all of them.  Merged into one Op whose
    ``lease`` is the sorted tuple of lease IDs (the model accepts a tuple for revoke/expire)."""
    by_rev: dict = {}
    for e in expires:
        by_rev.setdefault(e.revision, []).append(e)
    out = []
    for rev, group in by_rev.items():
        if len(group) == 1:
            out.append(group[0])
            continue
        first = group[0]
        merged = Op(line=first.line, id=first.id, op="expire", status="ok", revision=rev,
                    lease=tuple(sorted({e.lease for e in group})),
                    deleted=(sum(e.deleted for e in group) if all(e.deleted is not None for e in group) else None),
                    observed_ns=min((e.observed_ns for e in group if e.observed_ns is not None), default=None))
        merged.invoke_ns, merged.complete_ns = first.invoke_ns, first.complete_ns
        out.append(merged)
    return out


def _is_maybe_write(o: Op) -> bool:
    return o.op in ("delete", "revoke") and o.deleted is None


def _is_read(o: Op) -> bool:
    return o.op in ("get", "list") or (o.op in ("delete", "revoke") and o.deleted == 0)


class Checker:
    def __init__(self, h: History, serializable_scope: str = "client"):
        self.h = h
        self.scope = serializable_scope
        self.anomalies: list = []
        self.lb: dict = {}       # unknown op id -> max position that precedes it
        ok = [o for o in h.ops if o.ok]
        self.ok_ops = ok
        self.definite = [o for o in ok if _is_definite_write(o)] + \
            _merge_expires([e for e in h.expires if _is_definite_write(e)])
        self.maybe = [o for o in ok if _is_maybe_write(o)]
        self.reads = [o for o in ok if _is_read(o)]
        self.unknown_writes = [o for o in h.ops if o.status == "unknown" and o.op in ("put", "delete", "revoke")]
        revs = [o.revision for o in ok if o.revision is not None] + \
            [e.revision for e in h.expires] + [f.revision for f in h.finals]
        self.rmax = max(revs) if revs else 0

    def add(self, kind, ops, msg, category):
        self.anomalies.append(Anomaly(kind, ops, msg, category))

    # ------------------------------------------------------------------ sweep
    def sweep(self):
        """Real-time order check among ops with known positions; lower bounds
        for unknown writes."""
        timed = []
        for o in self.definite:
            if o.op != "expire":
                timed.append((o, 2 * o.revision, 2 * o.revision))
        for o in self.maybe:
            timed.append((o, 2 * o.revision, 2 * o.revision + 1))
        for o in self.reads:
            if o.consistency == "linearizable":
                timed.append((o, 2 * o.revision + 1, 2 * o.revision + 1))
        completions = sorted(((o.complete_ns, lo, o) for o, lo, _ in timed), key=lambda t: (t[0], t[1]))
        invokes = [(o.invoke_ns, 0, o, hi) for o, _, hi in timed] + \
                  [(o.invoke_ns, 1, o, None) for o in self.unknown_writes]
        invokes.sort(key=lambda t: (t[0], t[1], t[2].id))
        best_pos, best_op = -1, None
        i = 0
        reported_a: dict = {}
        for inv, _, b, hi in invokes:
            while i < len(completions) and completions[i][0] < inv:
                if completions[i][1] > best_pos:
                    best_pos, best_op = completions[i][1], completions[i][2]
                i += 1
            if hi is None:
                self.lb[b.id] = best_pos
                continue
            if best_op is not None and best_pos > hi:
                a = best_op
                n = reported_a.get(a.id, 0)
                reported_a[a.id] = n + 1
                if n >= 3:
                    continue
                a_write = best_pos % 2 == 0
                if _is_read(b):
                    kind, cat = "stale_read", "linearizability"
                    msg = (f"{b.describe()} was invoked after {a.describe()} completed with revision "
                           f"{a.revision}, but read revision {b.revision}")
                    if not a_write:
                        msg += " (linearizable reads went backwards)"
                else:
                    kind, cat = "revision_backwards", "revision"
                    msg = (f"{b.describe()} was invoked after {a.describe()} completed with revision "
                           f"{a.revision}, but got revision {b.revision}; revisions must grow in real time")
                self.add(kind, [a.id, b.id], msg, cat)

    # ------------------------------------------------------- revision sanity
    def revision_sanity(self):
        by_rev: dict = {}
        for o in self.definite:
            by_rev.setdefault(o.revision, []).append(o)
        for r, os_ in sorted(by_rev.items()):
            if len(os_) > 1:
                self.add("revision_reused", [o.id for o in os_],
                         f"revision {r} returned by {len(os_)} writes: " +
                         "; ".join(o.describe() for o in os_), "revision")
        # No revision from the future: a response's revision cannot exceed the
        # number of writes that could have happened before it completed.
        write_inv = sorted([o.invoke_ns for o in self.definite if o.op != "expire"] +
                           [o.invoke_ns for o in self.maybe] +
                           [o.invoke_ns for o in self.unknown_writes])
        first_lease: dict = {}
        for o in self.h.ops:
            if o.op == "put" and o.lease and o.status != "fail":
                first_lease[o.lease] = min(first_lease.get(o.lease, INF), o.invoke_ns)
        lease_inv = sorted(first_lease.values())
        extra = len(self.h.expires)
        for o in self.ok_ops:
            if o.revision is None:
                continue
            bound = bisect.bisect_left(write_inv, o.complete_ns) + \
                bisect.bisect_left(lease_inv, o.complete_ns) + extra
            if o.revision > bound:
                kind = "future_read" if _is_read(o) else "future_revision"
                self.add(kind, [o.id],
                         f"{o.describe()} returned revision {o.revision}, but at most {bound} writes "
                         f"(including unknown ones and possible lease expiries) were invoked before it "
                         f"completed", "revision")
        # Serializable reads: monotonic per client (or per client+node).
        last: dict = {}
        for o in sorted((o for o in self.reads if o.consistency == "serializable"),
                        key=lambda o: (o.invoke_ns, o.id)):
            k = (o.client, o.node) if self.scope == "node" else o.client
            prev = last.get(k)
            if prev is not None and o.revision < prev.revision:
                self.add("serializable_non_monotonic", [prev.id, o.id],
                         f"client {o.client}: serializable read {o.describe()} at revision {o.revision} "
                         f"after op {prev.id} at revision {prev.revision}", "revision")
            if prev is None or o.revision >= prev.revision:
                last[k] = o

    # ------------------------------------------------------- static reads
    def static_reads(self) -> list:
        """Reads that no linearization can explain, found without searching:
        a value that no put could have left in place at the read's revision
        (never written, or every writer of it was overwritten by an
        acknowledged write before the read), an absent key that nothing could
        have removed, or a mod_revision whose write is a different one."""
        out = []
        dw: dict = {}
        for o in self.definite:
            if o.op in ("put", "delete"):
                dw.setdefault(o.key, []).append((o.revision, o))
        for lst in dw.values():
            lst.sort(key=lambda t: t[0])
        dw_revs = {k: [t[0] for t in lst] for k, lst in dw.items()}
        claim: dict = {}
        for o in self.definite:
            claim.setdefault(o.revision, []).append(o)
        unk_puts: dict = {}
        unk_dels: dict = {}
        for o in self.unknown_writes:
            if o.op == "put":
                unk_puts.setdefault((o.key, o.value), []).append(o)
            elif o.op == "delete":
                unk_dels.setdefault(o.key, []).append(o)
        maybe_del: dict = {}
        for o in self.maybe:
            if o.op == "delete":
                maybe_del.setdefault(o.key, []).append(o.revision)
        has_lease_ops = bool(self.h.expires) or any(o.op == "revoke" for o in self.h.ops) or \
            any(o.op == "put" and o.lease for o in self.h.ops)

        def last_def(k, r):
            i = bisect.bisect_right(dw_revs.get(k, ()), r) - 1
            return dw[k][i] if i >= 0 else (0, None)

        def explain(k, v, r, read):
            """None if (k = v at revision r) is possible, else a reason."""
            w, wo = last_def(k, r)
            if v is None:
                if wo is None or wo.op == "delete" or (wo.lease and has_lease_ops):
                    return None
                if any(self.lb.get(d.id, -1) < 2 * r for d in unk_dels.get(k, ())):
                    return None
                if any(w < m <= r for m in maybe_del.get(k, ())):
                    return None
                if has_lease_ops and any(o.key == k and o.lease for o in self.unknown_writes):
                    return None
                return f"the key was written by {wo.describe()} at revision {w} and nothing can have removed it by revision {r}"
            if wo is not None and wo.op == "put" and wo.value == v:
                return None
            if any(self.lb.get(u.id, -1) < 2 * r for u in unk_puts.get((k, v), ())):
                return None
            # a definite put of v earlier, with no definite write to k since?
            # (then wo would be that put) -> impossible
            if wo is None:
                return f"no write of that value to {k} could have taken effect by revision {r}"
            return (f"the value is not written by {wo.describe()}, the last acknowledged write to {k} "
                    f"before revision {r} (revision {w}), nor by any indeterminate put that could follow it")

        for o in self.reads:
            reason = None
            if o.op == "get":
                reason = explain(o.key, o.value, o.revision, o)
                if reason is None and o.mod_revision and o.value is not None:
                    m = o.mod_revision
                    cl = claim.get(m, ())
                    if m > o.revision:
                        reason = f"mod_revision {m} is above the read's revision {o.revision}"
                    elif cl and not any(c.op == "put" and c.key == o.key and c.value == o.value for c in cl):
                        reason = f"mod_revision {m} belongs to {cl[0].describe()}, which did not write this value"
            elif o.op == "list":
                got = dict(o.pairs)
                for k, v in o.pairs:
                    reason = explain(k, v, o.revision, o)
                    if reason:
                        reason = f"{k}: {reason}"
                        break
                if reason is None:
                    for k in dw:
                        if in_prefix(k, o.prefix) and k not in got:
                            r2 = explain(k, None, o.revision, o)
                            if r2:
                                reason = f"{k} missing: {r2}"
                                break
            if reason:
                shown = o.value if o.op == "get" else "its pairs"
                out.append(Anomaly("read_mismatch", [o.id],
                                   f"{o.describe()} [{o.consistency}] at revision {o.revision} returned "
                                   f"{shown}, impossible: {reason}", "linearizability"))
        return out

    # ----------------------------------------------------------------- search
    def search(self, deadline: float, hints: Optional["WatchHints"]) -> SearchResult:
        rmax = self.rmax
        if hints is not None:
            # in strict mode every revision a watcher reports must be explained
            rmax = max(rmax, hints.rmax)
        claim: dict = {}
        for o in self.definite:
            claim.setdefault(o.revision, []).append(o)
        maybe_at: dict = {}
        flex: list = []
        for o in self.maybe:
            c = _Cand(o, o.op, o.key, None, o.lease, bit=1 << len(flex), only_rev=o.revision)
            flex.append(c)
            maybe_at.setdefault(o.revision, []).append(c)
        unk: list = []
        for o in sorted(self.unknown_writes, key=lambda o: (o.invoke_ns, o.id)):
            c = _Cand(o, o.op, o.key, o.value, o.lease, bit=1 << len(flex), lb=self.lb.get(o.id, -1))
            flex.append(c)
            unk.append(c)
        # Value pinning: when every non-failed put of (key, value) is
        # indeterminate (one op, or a group of retries), a read that saw the
        # value at revision r' proves one of them took a revision <= r'.  The
        # search then (a) tries such puts first, (b) abandons a branch as soon
        # as r' has passed with none of the group placed.
        writers: dict = {}
        ok_writers: set = set()
        for o in self.h.ops:
            if o.op == "put" and o.status != "fail":
                writers[(o.key, o.value)] = writers.get((o.key, o.value), 0) + 1
                if o.ok:
                    ok_writers.add((o.key, o.value))
        seen: dict = {}

        def saw(k, v, r):
            if v is not None and r < seen.get((k, v), INF):
                seen[(k, v)] = r
        for o in self.reads:
            if o.op == "get":
                saw(o.key, o.value, o.revision)
            elif o.op == "list":
                for k, v in o.pairs:
                    saw(k, v, o.revision)
        for f in self.h.finals:
            for k, v in f.pairs or ():
                saw(k, v, f.revision)
        pinned_at: dict = {}      # ub -> {(key, value): [group members]}
        pinned_keys: dict = {}
        for c in unk:
            kv = (c.key, c.value)
            if c.kind == "put" and kv in seen and kv not in ok_writers:
                c.due = seen[kv]
                pinned_at.setdefault(c.due, {}).setdefault(kv, []).append(c)
                if writers.get(kv) == 1:
                    # a single writer is bounded itself; a retry of a group
                    # may still land after the read
                    c.ub = c.due
                    pinned_keys.setdefault(c.key, []).append(c)
        # ...and since nothing overwrote the value between the put and that
        # read, the put comes after every known write to the key and every
        # read that saw the key with another value before ub.
        if pinned_keys:
            per_key: dict = {k: [] for k in pinned_keys}
            for o in self.reads:
                if o.op == "get" and o.key in per_key:
                    per_key[o.key].append((o.revision, o.value))
                elif o.op == "list":
                    d = None
                    for k in per_key:
                        if in_prefix(k, o.prefix):
                            if d is None:
                                d = dict(o.pairs)
                            per_key[k].append((o.revision, d.get(k)))
            for o in self.definite:
                if o.op in ("put", "delete") and o.key in per_key:
                    per_key[o.key].append((o.revision - 1, object()))
            for k, cs in pinned_keys.items():
                for c in cs:
                    c.lo = max([r for r, v in per_key[k] if r < c.ub and v != c.value] + [-1])
        # A lease cannot expire before an acknowledged put attached a key to
        # it (a correct server rejects puts on a dead lease).
        lease_used: dict = {}
        for o in self.definite:
            if o.op == "put" and o.lease:
                lease_used[o.lease] = max(lease_used.get(o.lease, 0), o.revision)
        # Next-observation filter.  If an unknown write to key k took revision
        # m, the first read covering k at a revision r' >= m sees exactly its
        # effect unless something may write k in (m, r'] (a gap, a known
        # write to k, or a revoke/expiry).  Checked statically per (op, m).
        gap_revs = [r for r in range(1, rmax + 1) if r not in claim]
        touch: dict = {}
        obs: dict = {}
        ukeys = {c.key for c in unk if c.key is not None}
        for o in self.definite:
            if o.op in ("revoke", "expire"):
                for k in ukeys:
                    touch.setdefault(k, []).append(o.revision)
            elif o.key in ukeys:
                touch.setdefault(o.key, []).append(o.revision)
        for o in self.reads:
            if o.op == "get" and o.key in ukeys:
                obs.setdefault(o.key, []).append((o.revision, o.value))
            elif o.op == "list":
                d = None
                for k in ukeys:
                    if in_prefix(k, o.prefix):
                        if d is None:
                            d = dict(o.pairs)
                        obs.setdefault(k, []).append((o.revision, d.get(k)))
        for f in self.h.finals:
            if f.pairs is not None:
                d = dict(f.pairs)
                for k in ukeys:
                    obs.setdefault(k, []).append((f.revision, d.get(k)))
        for lst in touch.values():
            lst.sort()
        for lst in obs.values():
            lst.sort(key=lambda t: t[0])
        obs_revs = {k: [t[0] for t in lst] for k, lst in obs.items()}

        def allowed(c, m):
            k = c.key
            if k is None:
                return True
            orv = obs_revs.get(k)
            if not orv:
                return True
            i = bisect.bisect_left(orv, m)
            if i == len(orv):
                return True
            r2, seen_v = obs[k][i]
            g = bisect.bisect_right(gap_revs, m)
            if g < len(gap_revs) and gap_revs[g] <= r2:
                return True
            t = touch.get(k)
            if t:
                j = bisect.bisect_right(t, m)
                if j < len(t) and t[j] <= r2:
                    return True
            return seen_v == (c.value if c.kind == "put" else None)

        pinned = sorted((c for c in unk if c.due != INF), key=lambda c: (c.due, -c.lb))
        # unobserved ones: most recently invoked first (an indeterminate write
        # that happens at all usually happens soon after its invocation)
        unpinned = sorted((c for c in unk if c.due == INF), key=lambda c: -c.lb)
        unpinned_del = [c for c in unpinned if c.kind != "put"]
        unpinned_put = [c for c in unpinned if c.kind == "put"]

        def overdue(r, used):
            """Pinned puts that had to be placed at or before r but were not."""
            for group in pinned_at.get(r, {}).values():
                if not any(used & c.bit for c in group):
                    c = group[0]
                    fail(r, "read_mismatch", [g.op.id for g in group],
                         f"the value written by {c.op.describe()} was read at revision {r}, but "
                         f"no placement of it at or before {r} is consistent with the history")
                    return True
            return False

        reads_at: dict = {}
        for o in self.reads:
            reads_at.setdefault(o.revision, []).append(o)
        finals_at: dict = {}
        for f in self.h.finals:
            if f.pairs is not None:
                finals_at.setdefault(f.revision, []).append(f)
        # revisions observed by ops, for diagnostics of unexplained gaps
        observers = sorted(((o.revision, o.id) for o in self.ok_ops if o.revision is not None))
        st = State()
        res = SearchResult(verdict="fail", strict=hints is not None, max_revision=rmax)
        deepest = [-1, None]     # revision, Anomaly

        def fail(r, kind, ops, msg):
            if r > deepest[0]:
                deepest[0], deepest[1] = r, Anomaly(kind, ops, msg, "linearizability")

        def check_write_result(c, r):
            o = c.op
            if o is None or o.status != "ok":
                return None
            if o.has_prev:
                old = st.kv.get(o.key)
                oldv = None if old is None else old.value
                if oldv != o.prev_value:
                    return ("write_result_mismatch", [o.id],
                            f"{o.describe()} at revision {r} reported prev_value {o.prev_value}, "
                            f"but the value before it was {oldv}")
            if o.op in ("revoke", "expire") and o.deleted is not None:
                n = st.lease_key_count(o.lease)
                if n != o.deleted:
                    return ("write_result_mismatch", [o.id],
                            f"{o.describe()} at revision {r} reported {o.deleted} deleted keys, "
                            f"but lease {o.lease} owned {n}")
            return None

        # Definitive failures.  The value of key k at revision r is fixed in
        # every linearization when the last acknowledged put/delete of k at
        # w <= r leaves k without a lease and nothing flexible (indeterminate
        # write to k that could land in (w, r], ok delete of k without a count
        # in (w, r]) can change it.  A read contradicting such a value needs no
        # backtracking: the history is not linearizable, whatever the choices.
        dw: dict = {}
        for o in self.definite:
            if o.op in ("put", "delete"):
                dw.setdefault(o.key, []).append((o.revision, o.op, o.lease))
        for lst in dw.values():
            lst.sort()
        dw_revs = {k: [t[0] for t in lst] for k, lst in dw.items()}
        flex_on: dict = {}
        for c in flex:
            if c.key is not None:
                flex_on.setdefault(c.key, []).append(c)

        def definitive(k, r):
            lst = dw.get(k, ())
            i = bisect.bisect_right(dw_revs.get(k, ()), r) - 1
            w, kind, lease = lst[i] if i >= 0 else (0, "delete", 0)
            if kind == "put" and lease:
                return False
            for c in flex_on.get(k, ()):
                if c.only_rev is not None:
                    if w < c.only_rev <= r:
                        return False
                elif c.lb < 2 * r and c.ub > w:
                    return False
            return True

        def check_reads(r, used):
            for o in reads_at.get(r, ()):
                bad = None
                diff = None
                if o.op == "get":
                    e = st.kv.get(o.key)
                    v = None if e is None else e.value
                    if v != o.value:
                        bad = f"returned {o.value} but the value at revision {r} is {v}"
                        if definitive(o.key, r):
                            return ("read_mismatch", [o.id], f"{o.describe()} [{o.consistency}] {bad}",
                                    True, None)
                    else:
                        for fld in ("mod_revision", "create_revision", "version"):
                            want = getattr(o, fld)
                            if want is not None:
                                have = 0 if e is None else getattr(e, fld)
                                if want != have:
                                    bad = f"returned {fld} {want} but it is {have} at revision {r}"
                                    break
                elif o.op == "list":
                    have = st.prefix_pairs(o.prefix)
                    if have != o.pairs:
                        bad = f"returned {_pairs_diff(o.pairs, have)} at revision {r}"
                        g, hv = dict(o.pairs), dict(have)
                        diff = {k for k in set(g) | set(hv) if g.get(k) != hv.get(k)}
                        if any(definitive(k, r) for k in diff):
                            return ("read_mismatch", [o.id], f"{o.describe()} [{o.consistency}] {bad}",
                                    True, None)
                elif o.op == "delete":
                    if o.key in st.kv:
                        bad = f"deleted nothing at revision {r}, but the key exists there"
                else:  # revoke with deleted=0
                    if st.effective("revoke", None, o.lease):
                        bad = f"deleted nothing at revision {r}, but lease {o.lease} owns keys there"
                if bad:
                    if o.op == "get" or o.op == "delete":
                        keys = {o.key}
                    elif o.op == "list":
                        keys = diff if diff else None
                    else:
                        keys = None
                    return ("read_mismatch", [o.id], f"{o.describe()} [{o.consistency}] {bad}",
                            False, keys)
            for c in maybe_at.get(r, ()):
                if not used & c.bit and st.effective(c.kind, c.key, c.lease):
                    return ("read_mismatch", [c.op.id],
                            f"{c.op.describe()} returned revision {r}; it must either be the write at "
                            f"{r} or have deleted nothing there, but neither fits", False, None)
            for f in finals_at.get(r, ()):
                have = st.prefix_pairs("")
                if have != sorted(f.pairs):
                    g, hv = dict(f.pairs), dict(have)
                    diff = {k for k in set(g) | set(hv) if g.get(k) != hv.get(k)}
                    return ("final_state_mismatch", [],
                            f"final state of node {f.node} (line {f.line}) at revision {r}: "
                            f"{_pairs_diff(sorted(f.pairs), have)}",
                            any(definitive(k, r) for k in diff), diff or None)
            return None

        def candidates(r, used):
            cl = claim.get(r, ())
            if len(cl) > 1:
                fail(r, "revision_reused", [o.id for o in cl],
                     f"revision {r} claimed by {len(cl)} writes")
                return []
            if cl:
                o = cl[0]
                kind = o.op
                if not st.effective(kind, o.key, o.lease):
                    what = "key is absent" if kind == "delete" else f"lease {o.lease} owns no keys"
                    fail(r, "write_result_mismatch", [o.id],
                         f"{o.describe()} claims revision {r}, but the {what} before it")
                    return []
                return [_Cand(o, kind, o.key, o.value, o.lease)]
            out = []
            for c in maybe_at.get(r, ()):
                if st.effective(c.kind, c.key, c.lease):
                    out.append(c)
            # Lookalikes (same kind, key, value, lease) have the same effect;
            # using the one with the latest lower bound dominates using a more
            # flexible twin, so only that one is tried (lists are sorted by
            # lower bound, latest first).
            twins = set()
            for c in pinned:
                if c.ub < r:
                    continue
                if not used & c.bit and c.lb < 2 * r and c.lo < r and \
                        (c.key, c.value, c.lease) not in twins and allowed(c, r):
                    twins.add((c.key, c.value, c.lease))
                    out.append(c)
            for c in unpinned_del:
                if not used & c.bit and c.lb < 2 * r and (c.kind, c.key, c.lease) not in twins \
                        and st.effective(c.kind, c.key, c.lease) and allowed(c, r):
                    twins.add((c.kind, c.key, c.lease))
                    out.append(c)
            for lease in sorted(st.lease_keys):
                if lease_used.get(lease, 0) < r:
                    out.append(_Cand(None, "expire", None, None, lease))
            for c in unpinned_put:
                if not used & c.bit and c.lb < 2 * r and (c.key, c.value, c.lease) not in twins \
                        and allowed(c, r):
                    twins.add((c.key, c.value, c.lease))
                    out.append(c)
            if not out:
                nxt = observers[bisect.bisect_left(observers, (r, -INF)):][:3]
                fail(r, "unexplained_revision", [i for _, i in nxt],
                     f"no acknowledged write returned revision {r} and no unknown write or lease "
                     f"expiry can explain it, yet ops observed revision(s) >= {r}: " +
                     ", ".join(f"op {i} at {rv}" for rv, i in nxt))
            return out

        # revision 0: the empty initial state
        bad = check_reads(0, 0)
        if bad or overdue(0, 0):
            if bad:
                fail(0, *bad[:3])
            res.anomaly = deepest[1]
            return res
        if rmax == 0:
            res.verdict = "ok"
            res.writers, res.changes = [None], [[]]
            return res
        memo: set = set()

        def new_frame(r, used):
            """[r, cands, idx, undo, bit, changes, cand, touch]: touch = keys
            that a flexible candidate of this frame may write (empty for a
            frame forced by an acknowledged write)."""
            cands = candidates(r, used)
            touch = set()
            if not (len(cands) == 1 and cands[0].bit == 0 and cands[0].op is not None
                    and cands[0].op.revision == r and cands[0].op.ok and cands[0].only_rev is None
                    and r in claim):
                for c in cands:
                    if c.kind in ("put", "delete"):
                        touch.add(c.key)
                    else:
                        for one in (c.lease if isinstance(c.lease, tuple) else (c.lease,)):
                            touch.update(st.lease_keys.get(one, ()))
            return [r, cands, 0, None, 0, None, None, touch]

        stack = [new_frame(1, 0)]
        used = 0
        steps = 0
        while stack:
            fr = stack[-1]
            if fr[3] is not None:
                st.undo(fr[3])
                used &= ~fr[4]
                fr[3] = None
            r = fr[0]
            if fr[2] >= len(fr[1]):
                memo.add((r, used, st.hash))
                stack.pop()
                continue
            steps += 1
            if steps & 255 == 0 and time.monotonic() > deadline:
                res.verdict = "unknown"
                res.explored = steps
                res.anomaly = deepest[1]      # where it got stuck (a hint only)
                return res
            c = fr[1][fr[2]]
            fr[2] += 1
            if _TRACE is not None:
                _TRACE.append((r, c.describe(), len(fr[1])))
            bad = check_write_result(c, r)
            if bad:
                fail(r, *bad)
                continue
            undo, changes = st.apply(c.kind, c.key, c.value, c.lease)
            fr[3], fr[4], fr[5], fr[6] = undo, c.bit, changes, c
            used |= c.bit
            if hints is not None and not hints.ok(r, changes):
                fail(r, "watch_hint", [], "")
                continue
            bad = check_reads(r, used)
            if bad:
                fail(r, *bad[:3])
                if bad[3]:          # no choice can fix this read
                    deepest[1] = Anomaly(*bad[:3], "linearizability")
                    break
                if bad[4] is not None:
                    # Backjump: only a frame with a flexible candidate that
                    # touches one of the conflicting keys can change them.
                    j = len(stack) - 1
                    while j >= 0 and not (stack[j][7] & bad[4]):
                        j -= 1
                    if j < 0:
                        deepest[1] = Anomaly(*bad[:3], "linearizability")
                        break
                    while len(stack) - 1 > j:
                        f = stack.pop()
                        if f[3] is not None:
                            st.undo(f[3])
                            used &= ~f[4]
                            f[3] = None
                continue
            if hints is not None and not hints.state_ok(r, st):
                fail(r, "watch_hint", [], "")
                continue
            if overdue(r, used):
                continue
            if r == rmax:
                res.verdict = "ok"
                res.explored = steps
                res.writers = [None] + [f[6] for f in stack]
                res.changes = [[]] + [f[5] for f in stack]
                for f in stack:
                    if f[6].kind == "expire":
                        res.expiries.append((f[0], f[6].lease, f[6].op is not None))
                return res
            key = (r + 1, used, st.hash)
            if key in memo:
                continue
            stack.append(new_frame(r + 1, used))
        res.explored = steps
        res.anomaly = deepest[1]
        return res


def _pairs_diff(got: list, want: list) -> str:
    g, w = dict(got), dict(want)
    parts = []
    for k in sorted(set(g) | set(w)):
        if k not in g:
            parts.append(f"missing {k}={w[k]}")
        elif k not in w:
            parts.append(f"extra {k}={g[k]}")
        elif g[k] != w[k]:
            parts.append(f"{k}={g[k]} (expected {w[k]})")
    if not parts and got != want:
        parts.append("pairs not sorted / duplicated")
    return "; ".join(parts[:5]) + (f" (+{len(parts) - 5} more)" if len(parts) > 5 else "")


class WatchHints:
    """What the watchers say about each revision, used to steer the search in
    strict mode: the write at r must produce every event reported at r (same
    type, value and, when reported, prev_value) and must not touch a key that a
    watcher covering r watches but did not report."""

    def __init__(self, h: History):
        self.pos: dict = {}
        for recs in h.watch.values():
            for w in recs:
                if w.kind == "event":
                    d = self.pos.setdefault(w.revision, {})
                    if w.key not in d:
                        d[w.key] = (w.type, w.value, w.has_prev, w.prev_value)
        self.cov = watch_coverage(h)
        self.resyncs: dict = {}
        for match, _, _, rs in self.cov:
            for rv, pairs in rs:
                self.resyncs.setdefault(rv, []).append((match, pairs))
        # an ok get that reports mod_revision m pins the put of that value to m
        for o in h.ops:
            if o.ok and o.op == "get" and o.value is not None and o.mod_revision:
                self.pos.setdefault(o.mod_revision, {}).setdefault(o.key, ("put", o.value, False, None))

    def positive_only(self) -> "WatchHints":
        other = WatchHints.__new__(WatchHints)
        other.pos, other.resyncs, other.cov = self.pos, self.resyncs, []
        return other

    @property
    def rmax(self) -> int:
        return max(list(self.pos) + list(self.resyncs) + [0])

    def __bool__(self):
        return bool(self.pos) or bool(self.cov)

    def state_ok(self, r, st) -> bool:
        for match, pairs in self.resyncs.get(r, ()):
            if sorted((k, e.value) for k, e in st.kv.items() if match(k)) != pairs:
                return False
        return True

    def ok(self, r, changes) -> bool:
        got = {ch.key: ch for ch in changes}
        for k, (t, v, hp, pv) in self.pos.get(r, {}).items():
            ch = got.get(k)
            if ch is None or ch.type != t or ch.value != v or (hp and ch.prev_value != pv):
                return False
        for match, ranges, received, _ in self.cov:
            for lo, hi in ranges:
                if lo <= r <= hi:
                    for k in got:
                        if match(k) and (r, k) not in received:
                            return False
        return True


def check(h: History, timeout_s: float = 60.0, serializable_scope: str = "client"):
    """Run sweep, revision sanity and the search.  Returns (anomalies, SearchResult)."""
    ck = Checker(h, serializable_scope)
    ck.sweep()
    ck.revision_sanity()
    static = ck.static_reads()
    if static:
        # already proven non-linearizable; the search would only backtrack
        ck.anomalies.extend(static)
        return ck.anomalies, SearchResult(verdict="fail", max_revision=ck.rmax)
    start = time.monotonic()
    deadline = start + timeout_s
    hints = WatchHints(h)
    res = None
    if hints:
        # Strict mode (all watch information), then positive events only (a
        # watcher that skipped an event must not hide the write), then no
        # hints.  Each of the first two gets a third of the budget; the last
        # search's answer is the one that counts.
        for i, hs in enumerate((hints, hints.positive_only())):
            res = ck.search(start + timeout_s * (i + 1) / 3, hs)
            if res.verdict == "ok":
                break
            res = None
    if res is None:
        res = ck.search(deadline, None)
    if res.verdict == "fail":
        a = res.anomaly or Anomaly("not_linearizable", [], "no valid linearization", "linearizability")
        a.message = "no linearization exists; furthest point: " + a.message
        ck.anomalies.append(a)
    return ck.anomalies, res
