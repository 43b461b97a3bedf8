"""Durability, lease-safety and convergence checks."""

from __future__ import annotations

from .history import History, watch_coverage
from .linearizability import Anomaly, _pairs_diff


def check_durability(h: History) -> list:
    """Every acknowledged put must be in the final state unless something
    (a later acknowledged or indeterminate write to the key, a revoke or
    expiry of its lease, a delete event seen by a watcher) may have removed
    or replaced it.  A key with a lease may have expired without anyone
    noticing, so it is only checked when a watcher covered it from the put to
    the final revision (and saw no delete) and its lease was never revoked."""
    out = []
    finals = [f for f in h.finals if f.pairs is not None]
    acked = [o for o in h.ops if o.ok and o.op in ("put", "delete", "revoke") and
             (o.op == "put" or o.deleted)]
    max_ack = max((o.revision for o in acked), default=0)
    for f in h.finals:
        if f.revision < max_ack:
            top = max(acked, key=lambda o: o.revision)
            out.append(Anomaly("final_state_behind", [top.id],
                               f"final state of node {f.node} is at revision {f.revision}, below the "
                               f"acknowledged revision {max_ack} of {top.describe()}", "durability"))
    if not finals:
        return out
    final = dict(finals[0].pairs)
    last_put: dict = {}
    touch: dict = {}          # key -> max revision of any known write/event touching it
    maybe_keys = set()
    for o in h.ops:
        if o.op == "put" and o.ok:
            if o.key not in last_put or o.revision > last_put[o.key].revision:
                last_put[o.key] = o
        if o.ok and o.op == "delete":
            touch[o.key] = max(touch.get(o.key, 0), o.revision)
        if o.status == "unknown" and o.op in ("put", "delete"):
            maybe_keys.add(o.key)
    for recs in h.watch.values():
        for w in recs:
            if w.kind == "event" and w.type == "delete":
                touch[w.key] = max(touch.get(w.key, 0), w.revision)
    cov = watch_coverage(h)
    revoked = {o.lease for o in h.ops if o.op == "revoke" and o.status != "fail"} | \
        {e.lease for e in h.expires}

    def watched(key, lo, hi):
        """Some watcher saw every event for key in [lo, hi]."""
        for match, ranges, _, _ in cov:
            if match(key) and any(a <= lo and hi <= b for a, b in ranges):
                return True
        return False

    for key, p in sorted(last_put.items()):
        if key in maybe_keys or touch.get(key, 0) > p.revision:
            continue
        # a leased key may have expired unobserved, unless a watcher covered
        # it up to the final revision (it would have seen the delete)
        if p.lease and (p.lease in revoked or not watched(key, p.revision + 1, finals[0].revision)):
            continue
        if final.get(key) != p.value:
            have = final.get(key)
            out.append(Anomaly("lost_write", [p.id],
                               f"{p.describe()} was acknowledged at revision {p.revision} and nothing "
                               f"later removed or replaced it, but the final state of node "
                               f"{finals[0].node} has {key}={'absent' if have is None else have}",
                               "durability"))
    return out


def check_leases(h: History, res) -> tuple:
    """No lease expires while an ok grant/keepalive guarantees it is alive.

    An ok keepalive (or grant) K with ttl T refreshed the lease at some point
    after K.invoke_ns, so a correct server cannot expire it before
    K.invoke_ns + T.  An expiry at revision r happened no later than the
    earliest recv_ns of any watch event at r (or the expire line's
    observed_ns).  If that is earlier than K.invoke_ns + T: violation."""
    out = []
    recv: dict = {}
    for recs in h.watch.values():
        for w in recs:
            if w.kind == "event" and w.recv_ns is not None:
                recv[w.revision] = min(recv.get(w.revision, w.recv_ns), w.recv_ns)
    # an inferred expiry is only trusted when no indeterminate revoke of the
    # lease or delete of one of its keys could have made the same change
    unknown_revokes = {o.lease for o in h.ops if o.op == "revoke" and o.status == "unknown"}
    unknown_deletes = {o.key for o in h.ops if o.op == "delete" and o.status == "unknown"}
    expiries = []
    for e in h.expires:
        t = e.observed_ns if e.observed_ns is not None else recv.get(e.revision)
        expiries.append((e.revision, e.lease, t, True))
    if res is not None and res.verdict == "ok":
        for r, lease, explicit in res.expiries:
            keys = {c.key for c in res.changes[r]}
            if not explicit and lease not in unknown_revokes and not keys & unknown_deletes:
                expiries.append((r, lease, recv.get(r), False))
    alive: dict = {}
    for o in h.ops:
        if o.ok and o.op in ("grant", "keepalive") and o.ttl:
            alive.setdefault(o.lease, []).append(o)
    checked = 0
    for r, lease, t, explicit in expiries:
        if t is None:
            continue
        checked += 1
        ks = sorted(alive.get(lease, ()), key=lambda k: -(k.invoke_ns + k.ttl * 1e9))
        for k in ks[:1]:
            until = k.invoke_ns + k.ttl * 1e9
            if t < until:
                how = "expire line" if explicit else "inferred from an unexplained delete"
                out.append(Anomaly("lease_early_expiry", [k.id],
                                   f"lease {lease} expired at revision {r} ({how}) no later than "
                                   f"t={t}, but {k.describe()} with ttl {k.ttl}s keeps it alive "
                                   f"until at least t={int(until)}", "lease"))
                break
    return out, {"expiries": len(expiries), "expiries_timed": checked}


def check_convergence(h: History) -> list:
    out = []
    fs = h.finals
    if len(fs) < 2:
        return out
    a = fs[0]
    for b in fs[1:]:
        diffs = []
        if a.revision != b.revision:
            diffs.append(f"revision {a.revision} vs {b.revision}")
        if a.hash is not None and b.hash is not None and a.hash != b.hash:
            diffs.append(f"hash {a.hash} vs {b.hash}")
        if a.pairs is not None and b.pairs is not None and sorted(a.pairs) != sorted(b.pairs):
            diffs.append("pairs: " + _pairs_diff(sorted(b.pairs), sorted(a.pairs)))
        if diffs:
            out.append(Anomaly("divergence", [],
                               f"final state of node {b.node} (line {b.line}) differs from node "
                               f"{a.node} (line {a.line}): " + "; ".join(diffs), "convergence"))
    return out
