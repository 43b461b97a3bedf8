"""Roster client/watch history format (JSON Lines) and its parser.

A history file holds one JSON object per line.  Blank lines and lines whose
first non-blank character is ``#`` are ignored.  Every object has an ``"op"``
field; unknown ops, missing required fields or wrong types are *bad input*
(``HistoryError``, exit code 3).  Extra fields are allowed and ignored.

Times (``*_ns``) are integers from ONE monotonic clock shared by the whole
harness (the recorder's clock, not the servers').  Values may be any JSON
value (string, object, ...); they are compared after canonical JSON encoding
(sorted keys, no whitespace), so ``{"a":1,"b":2}`` equals ``{"b":2,"a":1}``.
``null`` as a value means "absent".

Assumptions: the key space is empty at revision 0; every call of every
client is recorded (including failed and indeterminate ones); a client has
at most one call in flight; written values are preferably unique per key
(not required for correctness, but it lets the search pin indeterminate
writes).  Lines may appear in any order, except that each watcher's lines
must be in the order the watcher saw them.

Client operations (one line per completed-or-abandoned call)
-------------------------------------------------------------
Common fields: ``id`` (int, unique over the file), ``client`` (int; a
client has at most one call in flight), ``node`` (str, optional),
``op``, ``invoke_ns`` (int), ``complete_ns`` (int; may be null/absent when
``status`` is ``"unknown"``), ``status``:

* ``"ok"``      the call took effect and returned the recorded result;
* ``"fail"``    the call definitely did NOT take effect (rejected);
* ``"unknown"`` indeterminate (timeout, leader change...): it may take effect
  at any time after ``invoke_ns`` or never; its completion is treated as +inf
  and its result fields are ignored.

Reads (get/list) that failed or are indeterminate are ignored.

Per op (result fields are required only when ``status`` is ``"ok"``):

=========== ==================================== =================================================
op          request fields                        result fields (status ok)
=========== ==================================== =================================================
put         key, value, lease (int, 0 = none)    revision (of this write); prev_value (optional,
                                                  checked only if the field is present; null =
                                                  key was absent)
delete      key                                   revision; deleted (optional 0/1).  deleted>=1:
                                                  revision is this write's revision.  deleted=0:
                                                  no write happened; revision is the store
                                                  revision at which the key was seen absent.
                                                  Missing ``deleted``: either, the checker decides.
get         key, consistency (optional,           value (null = absent), revision (store revision
            "linearizable" | "serializable")      the read was served at); mod_revision,
                                                  create_revision, version (optional, checked
                                                  when present; 0 or null when absent)
list        prefix, consistency (optional)        pairs: [[key, value], ...] sorted by key (all
                                                  live keys starting with prefix); revision
grant       lease, ttl (seconds)                  ttl (optional granted seconds).  No revision
                                                  bump (lease ops other than revoke do not change
                                                  the key space, as in etcd).
keepalive   lease                                 ttl (seconds the lease now has)
revoke      lease                                 revision; deleted (optional count).  Deletes
                                                  every key attached to the lease at ONE revision
                                                  (no bump when the lease owns no key).
=========== ==================================== =================================================

Server-side events
------------------
``{"op": "expire", "lease": L, "revision": r, "deleted": n?, "observed_ns": t?}``
    a lease expiry the harness learned about (e.g. from a server log).  It is a
    write at revision r deleting every key attached to L.  Optional: expiries
    may also be completely absent from the file; the checker then infers them
    (a revision that no client op explains may be an expiry of a lease that
    owns keys at that point).

Watches (``watcher`` is an int naming one logical watch consumer)
-----------------------------------------------------------------
``{"op": "watch_start", "watcher": w, "node": n, "key": k | "prefix": p,
   "from_revision": f, "start_revision": s?, "ts_ns": t?}``
    a (re)subscription.  ``key`` watches one key, ``prefix`` every key that
    starts with it ("" = everything).  ``from_revision`` 0 means "from now";
    then ``start_revision`` (the server's revision when the watch was created,
    if known) makes events from s+1 on mandatory.  A watcher may have several
    watch_start lines (resumption); each starts a new *segment*.
``{"op": "watch_event", "watcher": w, "node": n?, "revision": r,
   "type": "put" | "delete", "key": k, "value": v?, "prev_value": pv?,
   "recv_ns": t}``
    one event, in the order the watcher received it.  ``prev_value`` is
    checked only when the field is present (null = key was absent before).
``{"op": "watch_resync", "watcher": w, "revision": r, "pairs": [[k, v], ...]}``
    the server replaced the watcher's history with the full (filtered) state
    at revision r; events must continue gaplessly from r+1.
``{"op": "watch_progress", "watcher": w, "revision": r, "recv_ns": t?}``
    a progress notification / bookmark: every event up to r was delivered,
    and no later event may carry a revision <= r.
``{"op": "watch_end", "watcher": w, "reason": "...", "revision": r?}``
    the segment ended; ``revision`` (optional) is a progress revision: the
    watcher claims to have seen every event up to r.

Final state
-----------
``{"op": "final_state", "node": n, "revision": R, "hash": h?, "pairs": [[k, v], ...]?}``
    recorded after all traffic stopped (quiescent cluster).  All final states
    must agree; ``pairs`` (if given) must equal the linearized state at R.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

CLIENT_OPS = ("put", "delete", "get", "list", "grant", "keepalive", "revoke")
WRITE_OPS = ("put", "delete", "revoke")
READ_OPS = ("get", "list")
OTHER_OPS = ("expire", "watch_start", "watch_event", "watch_end",
             "watch_resync", "watch_progress", "final_state")
STATUSES = ("ok", "fail", "unknown")


SYSTEM_KEY_BYTE = "\x01"


def in_prefix(key: str, prefix: str) -> bool:
    """Whether a prefix read or watch covers `key`. Roster's own keys (first byte 0x01, the member
    directory) belong only to prefixes that start with 0x01: `prefix ""` means every user key."""
    return key.startswith(prefix) and (not key.startswith(SYSTEM_KEY_BYTE) or prefix.startswith(SYSTEM_KEY_BYTE))
INF = float("inf")


class HistoryError(ValueError):
    """The history file is malformed (exit code 3)."""


def canon(value: Any) -> Optional[str]:
    """Canonical string form of a JSON value; None stays None (= absent)."""
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


@dataclass
class Op:
    """A client operation or an ``expire`` event."""
    line: int
    id: int
    op: str
    client: Optional[int] = None
    node: Optional[str] = None
    status: str = "ok"
    invoke_ns: float = 0
    complete_ns: float = INF
    key: Optional[str] = None
    prefix: Optional[str] = None
    value: Optional[str] = None          # canonical JSON or None
    lease: int = 0
    revision: Optional[int] = None
    prev_value: Optional[str] = None
    has_prev: bool = False
    deleted: Optional[int] = None
    pairs: Optional[list] = None         # list of (key, canonical value)
    consistency: str = "linearizable"
    ttl: Optional[float] = None
    mod_revision: Optional[int] = None
    create_revision: Optional[int] = None
    version: Optional[int] = None
    observed_ns: Optional[int] = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def describe(self) -> str:
        what = self.key if self.key is not None else (
            repr(self.prefix) if self.prefix is not None else f"lease {self.lease}")
        return f"op {self.id} ({self.op} {what}, client {self.client}, {self.status})"


@dataclass
class WatchRecord:
    line: int
    kind: str                 # start | event | end | resync
    watcher: int
    node: Optional[str] = None
    revision: Optional[int] = None
    type: Optional[str] = None
    key: Optional[str] = None
    prefix: Optional[str] = None
    value: Optional[str] = None
    prev_value: Optional[str] = None
    has_prev: bool = False
    recv_ns: Optional[int] = None
    from_revision: int = 0
    start_revision: Optional[int] = None
    pairs: Optional[list] = None
    reason: Optional[str] = None


@dataclass
class FinalState:
    line: int
    node: Optional[str]
    revision: int
    hash: Optional[str]
    pairs: Optional[list]


@dataclass
class History:
    ops: list = field(default_factory=list)          # client ops, file order
    expires: list = field(default_factory=list)      # Op(op="expire")
    watch: dict = field(default_factory=dict)        # watcher -> [WatchRecord]
    finals: list = field(default_factory=list)
    by_id: dict = field(default_factory=dict)


def _int(d, name, line, required=True, default=None, minimum=None):
    v = d.get(name, None)
    if v is None:
        if required:
            raise HistoryError(f"line {line}: missing integer field {name!r}")
        return default
    if isinstance(v, bool) or not isinstance(v, int):
        raise HistoryError(f"line {line}: field {name!r} must be an integer, got {v!r}")
    if minimum is not None and v < minimum:
        raise HistoryError(f"line {line}: field {name!r} must be >= {minimum}, got {v}")
    return v


def _str(d, name, line, required=True):
    v = d.get(name, None)
    if v is None:
        if required:
            raise HistoryError(f"line {line}: missing string field {name!r}")
        return None
    if not isinstance(v, str):
        raise HistoryError(f"line {line}: field {name!r} must be a string, got {v!r}")
    return v


def _num(d, name, line, required=True):
    v = d.get(name, None)
    if v is None:
        if required:
            raise HistoryError(f"line {line}: missing number field {name!r}")
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise HistoryError(f"line {line}: field {name!r} must be a number, got {v!r}")
    return v


def _pairs(d, name, line, required=True):
    v = d.get(name, None)
    if v is None:
        if required:
            raise HistoryError(f"line {line}: missing field {name!r} (list of [key, value])")
        return None
    if not isinstance(v, list):
        raise HistoryError(f"line {line}: field {name!r} must be a list of [key, value]")
    out = []
    for p in v:
        if not (isinstance(p, list) and len(p) == 2 and isinstance(p[0], str)):
            raise HistoryError(f"line {line}: bad pair {p!r} in {name!r}")
        out.append((p[0], canon(p[1])))
    return out


def _parse_client_op(d: dict, line: int) -> Op:
    kind = d["op"]
    status = d.get("status")
    if status not in STATUSES:
        raise HistoryError(f"line {line}: status must be one of {STATUSES}, got {status!r}")
    o = Op(line=line, id=_int(d, "id", line), op=kind, status=status,
           client=_int(d, "client", line),
           node=d.get("node") if isinstance(d.get("node"), str) else None)
    o.invoke_ns = _int(d, "invoke_ns", line)
    c = _int(d, "complete_ns", line, required=(status != "unknown"))
    o.complete_ns = INF if status == "unknown" else c
    if status != "unknown" and c < o.invoke_ns:
        raise HistoryError(f"line {line}: complete_ns < invoke_ns")
    ok = status == "ok"
    cons = d.get("consistency", "linearizable")
    if cons not in ("linearizable", "serializable"):
        raise HistoryError(f"line {line}: bad consistency {cons!r}")
    o.consistency = cons
    if kind == "put":
        o.key = _str(d, "key", line)
        if d.get("value") is None:
            raise HistoryError(f"line {line}: put needs a non-null value")
        o.value = canon(d["value"])
        o.lease = _int(d, "lease", line, required=False, default=0, minimum=0)
        if ok and "prev_value" in d:
            o.has_prev, o.prev_value = True, canon(d["prev_value"])
    elif kind == "delete":
        o.key = _str(d, "key", line)
        if ok:
            o.deleted = _int(d, "deleted", line, required=False, minimum=0)
            if o.deleted is not None and o.deleted > 1:
                raise HistoryError(f"line {line}: a single-key delete cannot delete {o.deleted} keys")
            if "prev_value" in d:
                o.has_prev, o.prev_value = True, canon(d["prev_value"])
    elif kind == "get":
        o.key = _str(d, "key", line)
        if ok:
            if "value" not in d:
                raise HistoryError(f"line {line}: ok get needs a value (null = absent)")
            o.value = canon(d["value"])
            o.mod_revision = _int(d, "mod_revision", line, required=False)
            o.create_revision = _int(d, "create_revision", line, required=False)
            o.version = _int(d, "version", line, required=False)
    elif kind == "list":
        o.prefix = _str(d, "prefix", line)
        if ok:
            o.pairs = _pairs(d, "pairs", line)
    elif kind in ("grant", "keepalive", "revoke"):
        o.lease = _int(d, "lease", line, minimum=1)
        o.ttl = _num(d, "ttl", line, required=False)
        if kind == "revoke" and ok:
            o.deleted = _int(d, "deleted", line, required=False, minimum=0)
    if ok and kind in ("put", "delete", "get", "list", "revoke"):
        o.revision = _int(d, "revision", line, minimum=0)
        if kind == "put" or (kind in ("delete", "revoke") and o.deleted):
            if o.revision < 1:
                raise HistoryError(f"line {line}: a write's revision must be >= 1")
    return o


def parse_lines(lines: Iterable[str]) -> History:
    h = History()
    seen_ids: dict = {}
    for n, raw in enumerate(lines, 1):
        s = raw.strip()
        if not s or s.startswith("#"):
            continue
        try:
            d = json.loads(s)
        except json.JSONDecodeError as e:
            raise HistoryError(f"line {n}: invalid JSON: {e}") from None
        if not isinstance(d, dict):
            raise HistoryError(f"line {n}: expected a JSON object")
        kind = d.get("op")
        if kind in CLIENT_OPS:
            o = _parse_client_op(d, n)
            if o.id in seen_ids:
                raise HistoryError(f"line {n}: duplicate op id {o.id} (first on line {seen_ids[o.id]})")
            seen_ids[o.id] = n
            h.ops.append(o)
            h.by_id[o.id] = o
        elif kind == "expire":
            o = Op(line=n, id=-n, op="expire", status="ok",
                   lease=_int(d, "lease", n, minimum=1),
                   revision=_int(d, "revision", n, minimum=1),
                   deleted=_int(d, "deleted", n, required=False, minimum=0),
                   observed_ns=_int(d, "observed_ns", n, required=False))
            o.invoke_ns, o.complete_ns = -INF, INF
            h.expires.append(o)
        elif kind in ("watch_start", "watch_event", "watch_end", "watch_resync", "watch_progress"):
            w = _int(d, "watcher", n)
            r = WatchRecord(line=n, kind=kind[6:], watcher=w,
                            node=d.get("node") if isinstance(d.get("node"), str) else None)
            if kind == "watch_start":
                r.key = _str(d, "key", n, required=False)
                r.prefix = _str(d, "prefix", n, required=False)
                if (r.key is None) == (r.prefix is None):
                    raise HistoryError(f"line {n}: watch_start needs exactly one of key / prefix")
                r.from_revision = _int(d, "from_revision", n, required=False, default=0, minimum=0)
                r.start_revision = _int(d, "start_revision", n, required=False, minimum=0)
            elif kind == "watch_event":
                r.revision = _int(d, "revision", n, minimum=1)
                r.type = d.get("type")
                if r.type not in ("put", "delete"):
                    raise HistoryError(f"line {n}: watch_event type must be put or delete")
                r.key = _str(d, "key", n)
                r.value = canon(d.get("value")) if r.type == "put" else None
                if r.type == "put" and r.value is None:
                    raise HistoryError(f"line {n}: put event needs a value")
                if "prev_value" in d:
                    r.has_prev, r.prev_value = True, canon(d["prev_value"])
                r.recv_ns = _int(d, "recv_ns", n, required=False)
            elif kind == "watch_resync":
                r.revision = _int(d, "revision", n, minimum=0)
                r.pairs = _pairs(d, "pairs", n)
            elif kind == "watch_progress":
                r.revision = _int(d, "revision", n, minimum=0)
            else:
                r.reason = d.get("reason") if isinstance(d.get("reason"), str) else None
                r.revision = _int(d, "revision", n, required=False, minimum=0)
            recs = h.watch.setdefault(w, [])
            if not recs and kind != "watch_start":
                raise HistoryError(f"line {n}: watcher {w} has a {kind} before its watch_start")
            recs.append(r)
        elif kind == "final_state":
            h.finals.append(FinalState(line=n, node=d.get("node"),
                                       revision=_int(d, "revision", n, minimum=0),
                                       hash=d.get("hash") if d.get("hash") is not None else None,
                                       pairs=_pairs(d, "pairs", n, required=False)))
        else:
            raise HistoryError(f"line {n}: unknown op {kind!r}")
    return h


def load(path: str) -> History:
    try:
        with open(path, "r", encoding="utf-8") as f:
            return parse_lines(f)
    except OSError as e:
        raise HistoryError(f"cannot read {path}: {e}") from None
    except UnicodeDecodeError as e:
        raise HistoryError(f"{path}: not UTF-8: {e}") from None


def watch_coverage(h: History) -> list:
    """For every watch segment: (match(key) -> bool, [(lo, hi)], received set
    of (revision, key), [(resync revision, pairs)]).  [lo, hi] are the revision ranges over which the
    segment claims to have every event for its keys (same rules as the watch
    checker: from the start revision to the last event / progress revision,
    split by resyncs)."""
    out = []
    for recs in h.watch.values():
        segs, cur = [], None
        for w in recs:
            if w.kind == "start":
                cur = [w]
                segs.append(cur)
            else:
                cur.append(w)
        for seg in segs:
            st = seg[0]
            if st.key is not None:
                match = (lambda k, _k=st.key: k == _k)
            else:
                match = (lambda k, _p=st.prefix: in_prefix(k, _p))
            lo = st.from_revision if st.from_revision > 0 else (
                st.start_revision + 1 if st.start_revision is not None else None)
            ranges, received, last, upper = [], set(), None, None
            for w in seg[1:]:
                if w.kind == "event":
                    received.add((w.revision, w.key))
                    if lo is None:
                        lo = w.revision
                    last = w.revision if last is None else max(last, w.revision)
                elif w.kind == "resync":
                    if lo is not None and last is not None and last >= lo:
                        ranges.append((lo, last))
                    lo, last = w.revision + 1, w.revision
                elif w.kind in ("end", "progress") and w.revision is not None:
                    upper = w.revision if upper is None else max(upper, w.revision)
            hi = max(last if last is not None else -1, upper if upper is not None else -1)
            if lo is not None and hi >= lo:
                ranges.append((lo, hi))
            resyncs = [(w.revision, sorted(w.pairs)) for w in seg[1:] if w.kind == "resync"]
            out.append((match, ranges, received, resyncs))
    return out
