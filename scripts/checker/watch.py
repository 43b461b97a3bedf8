"""Watch checks, per watcher and segment, against the canonical write sequence.

Canonical history: when the linearizability search succeeded, the write it
placed at each revision (with the changed keys, new values and previous
values) is authoritative.  Otherwise a best-effort canonical history is built
from acknowledged puts/deletes plus the union of all watchers' events (the
first watcher to report (revision, key) wins; previous values unknown).

Checks (etcd's watch guarantees, adapted):
* filter      every event matches the watched key / prefix;
* ordered     revisions never go down within a segment, and never to or
              below a progress notification (bookmark) already received;
* unique      no (revision, key) delivered twice within a segment;
* start       no event below the segment's start revision;
* agreement   event type and value equal the canonical change at that
              revision (so all watchers agree with each other); an event at
              a revision/key the canonical history never touched is a phantom;
* prev_value  when present, equals the value before that revision;
* gapless     every canonical change to a watched key in [start, last seen
              (or the progress revision of watch_end)] was delivered -- this
              includes atomicity: all keys of a multi-key revision;
* resumable   a segment started from last+1 after a break is checked like any
              other segment, so a resumed stream must continue exactly;
* causality   no event is received before the call that wrote it was invoked;
* resync      the pairs of a watch_resync equal the canonical state at its
              revision (restricted to the watched keys); events must then
              continue from revision+1 without gaps.
"""

from __future__ import annotations

from .history import History, in_prefix
from .linearizability import Anomaly, _pairs_diff

UNK = object()


class Canon:
    def __init__(self, changes: list, complete: list, authoritative: bool, invoked=None):
        # changes[r] : dict key -> (type, value, prev_value or UNK)
        self.changes = changes
        self.complete = complete
        self.authoritative = authoritative
        # invoked[r]: invoke_ns of the client call that made revision r (None
        # for expiries / unknown)
        self.invoked = invoked or [None] * len(changes)

    @property
    def rmax(self):
        return len(self.changes) - 1


def canon_from_search(res) -> Canon:
    ch = [dict()]
    for r in range(1, len(res.changes)):
        ch.append({c.key: (c.type, c.value, c.prev_value) for c in res.changes[r]})
    # only acknowledged writes name their revision themselves; an
    # indeterminate one placed by the search may be one of several lookalikes
    inv = [None] + [w.op.invoke_ns if w.op is not None and w.op.op != "expire" and w.op.ok
                    and (w.op.op == "put" or w.op.deleted) else None
                    for w in res.writers[1:]]
    return Canon(ch, [True] * len(ch), True, inv)


def canon_fallback(h: History, rmax: int) -> Canon:
    top = rmax
    for recs in h.watch.values():
        for w in recs:
            if w.kind == "event":
                top = max(top, w.revision)
    ch = [dict() for _ in range(top + 1)]
    complete = [False] * (top + 1)
    inv = [None] * (top + 1)
    for o in h.ops:
        if o.ok and (o.op == "put" or o.op in ("delete", "revoke") and o.deleted):
            inv[o.revision] = o.invoke_ns
        if o.ok and o.op == "put":
            ch[o.revision][o.key] = ("put", o.value, o.prev_value if o.has_prev else UNK)
            complete[o.revision] = True
        elif o.ok and o.op == "delete" and o.deleted:
            ch[o.revision][o.key] = ("delete", None, o.prev_value if o.has_prev else UNK)
            complete[o.revision] = True
    for recs in h.watch.values():
        for w in recs:
            if w.kind == "event" and not complete[w.revision]:
                ch[w.revision].setdefault(w.key, (w.type, w.value, UNK))
    return Canon(ch, complete, False, inv)


def _fmt(v):
    return "absent" if v is None else v


def check_watches(h: History, canon: Canon):
    anomalies: list = []
    stats = {"watchers": len(h.watch), "segments": 0, "events": 0}

    def add(kind, recs, msg):
        anomalies.append(Anomaly(kind, [], msg + " (lines " + ", ".join(str(r.line) for r in recs) + ")",
                                 "watch"))

    # canonical states for resync checks, replayed in revision order
    resyncs = sorted((w.revision, w.line, w) for recs in h.watch.values() for w in recs
                     if w.kind == "resync")
    resync_state: dict = {}
    if canon.authoritative and resyncs:
        state: dict = {}
        r = 0
        for rv, line, w in resyncs:
            while r < min(rv, canon.rmax):
                r += 1
                for k, (t, v, _) in canon.changes[r].items():
                    if t == "put":
                        state[k] = v
                    else:
                        state.pop(k, None)
            resync_state[line] = dict(state) if rv <= canon.rmax else None

    for wid, recs in sorted(h.watch.items()):
        segs, cur = [], None
        for w in recs:
            if w.kind == "start":
                cur = [w]
                segs.append(cur)
            else:
                cur.append(w)
        for seg in segs:
            stats["segments"] += 1
            st = seg[0]
            if st.key is not None:
                matches = (lambda k, _k=st.key: k == _k)
                what = f"key {st.key}"
            else:
                matches = (lambda k, _p=st.prefix: in_prefix(k, _p))
                what = f"prefix {st.prefix!r}"
            name = f"watcher {wid} ({what}, node {st.node})"
            lo = st.from_revision if st.from_revision > 0 else (
                st.start_revision + 1 if st.start_revision is not None else None)
            ranges = []          # (lo, hi) ranges that must be gapless
            received = set()
            last = None          # (revision, record)
            upper = None
            floor = None         # last progress notification (revision, record)
            for w in seg[1:]:
                if w.kind == "event":
                    stats["events"] += 1
                    rv = w.revision
                    if not matches(w.key):
                        add("watch_filter", [w], f"{name} got an event for {w.key} which it does not watch")
                    if lo is not None and rv < lo:
                        add("watch_before_start", [w],
                            f"{name} got revision {rv} below its start revision {lo}")
                    if last is not None and rv < last[0]:
                        add("watch_out_of_order", [last[1], w],
                            f"{name} got revision {rv} after revision {last[0]}")
                    elif floor is not None and rv <= floor[0]:
                        add("watch_out_of_order", [floor[1], w],
                            f"{name} got revision {rv} after a progress notification for {floor[0]}")
                    if (rv, w.key) in received:
                        add("watch_duplicate", [w], f"{name} got revision {rv} key {w.key} twice")
                        continue
                    received.add((rv, w.key))
                    if lo is None:
                        lo = rv
                    if last is None or rv > last[0]:
                        last = (rv, w)
                    t0 = canon.invoked[rv] if rv <= canon.rmax else None
                    if t0 is not None and w.recv_ns is not None and w.recv_ns < t0:
                        add("watch_event_before_write", [w],
                            f"{name} received revision {rv} at t={w.recv_ns}, before the write that "
                            f"made it was invoked (t={t0})")
                    c = canon.changes[rv].get(w.key) if rv <= canon.rmax else None
                    if c is None:
                        if rv > canon.rmax or canon.complete[rv]:
                            add("watch_unknown_event", [w],
                                f"{name} got {w.type} {w.key} at revision {rv}, but no write at that "
                                f"revision touched that key")
                    elif (c[0], c[1]) != (w.type, w.value):
                        add("watch_mismatch", [w],
                            f"{name} got {w.type} {w.key}={_fmt(w.value)} at revision {rv}, but the "
                            f"canonical history has {c[0]} {w.key}={_fmt(c[1])}")
                    elif w.has_prev and c[2] is not UNK and c[2] != w.prev_value:
                        add("watch_wrong_prev_value", [w],
                            f"{name} event at revision {rv} key {w.key} has prev_value "
                            f"{_fmt(w.prev_value)}, but the previous value was {_fmt(c[2])}")
                elif w.kind == "resync":
                    # the snapshot replaces the events after the last one
                    # received; only the range before that must be gapless
                    if lo is not None and last is not None and last[0] >= lo:
                        ranges.append((lo, last[0]))
                    want = resync_state.get(w.line)
                    if want is not None:
                        have = sorted(w.pairs)
                        exp = sorted((k, v) for k, v in want.items() if matches(k))
                        if have != exp:
                            add("watch_resync_mismatch", [w],
                                f"{name} resync at revision {w.revision}: {_pairs_diff(have, exp)}")
                    lo = w.revision + 1
                    last = (w.revision, w)
                elif w.kind in ("end", "progress"):
                    if w.revision is not None:
                        upper = w.revision if upper is None else max(upper, w.revision)
                    if w.kind == "progress":
                        floor = (w.revision, w)
            hi = max(last[0] if last else -1, upper if upper is not None else -1)
            if lo is not None and hi >= lo:
                ranges.append((lo, hi))
            for a, b in ranges:
                for r in range(max(a, 1), min(b, canon.rmax) + 1):
                    for k, c in canon.changes[r].items():
                        if matches(k) and (r, k) not in received:
                            add("watch_gap", [st],
                                f"{name} missed {c[0]} {k} at revision {r} (watched range {a}..{b})")
    return anomalies, stats
