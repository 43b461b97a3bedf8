"""Seeded simulator of a *correct* linearizable Roster registry, producing a
history in the checker's format, plus bug injectors.  Used by the tests and
handy for harness development:

    python3 -c "import sys; sys.path.insert(0,'scripts'); \
from checker import simulate; simulate.write('/tmp/h.jsonl', simulate.generate(1))"

Model: every client issues one call at a time; each call takes effect at a
random instant inside [invoke, complete] (the linearization point), except
indeterminate calls, which take effect later or never.  Leases expire on the
server side once no keepalive refreshed them for their TTL (plus slack).
Watchers are replayed from the resulting change log with random start
revisions, breaks, resumptions (from last+1) and resyncs.
"""

from __future__ import annotations

import hashlib
import json
import random

from .history import in_prefix

MS = 1_000_000      # one simulated tick = 1 ms, recorded in ns


def _state_hash(pairs):
    return hashlib.sha256(json.dumps(pairs, sort_keys=True).encode()).hexdigest()[:16]


def generate(seed: int, n_ops: int = 300, clients: int = 4, keys: int = 6, watchers: int = 3,
             p_unknown: float = 0.05, p_fail: float = 0.03, leases: bool = True,
             p_serializable: float = 0.15) -> list:
    rng = random.Random(seed)
    key_names = [f"ns/svc{k % 2}/i{k}" for k in range(keys)]
    lease_ids = iter(range(100, 100000))
    plans = []   # (lin_time or None, tie, record, client)
    per_client = max(1, n_ops // clients)
    for c in range(clients):
        t = rng.randint(0, 30)
        my_leases: list = []
        retry = None
        for _ in range(per_client):
            oid = len(plans) + 1
            inv = t
            comp = inv + rng.randint(1, 60)
            lin = rng.randint(inv, comp)
            x = rng.random()
            rec = {"id": oid, "client": c, "node": f"n{rng.randint(1, 3)}"}
            if retry is not None:
                # idempotent re-registration after an indeterminate put
                rec.update(op="put", key=retry["key"], value=retry["value"], lease=retry["lease"])
                retry = None
            elif x < 0.35:
                rec.update(op="put", key=rng.choice(key_names),
                           value={"addr": f"10.0.{c}.{oid % 250}", "op": oid})
                rec["lease"] = rng.choice(my_leases) if (leases and my_leases and rng.random() < 0.4) else 0
            elif x < 0.45:
                rec.update(op="delete", key=rng.choice(key_names))
            elif x < 0.70:
                rec.update(op="get", key=rng.choice(key_names))
            elif x < 0.82:
                rec.update(op="list", prefix=rng.choice(["ns/", "ns/svc0/", "ns/svc1/"]))
            elif leases and x < 0.86:
                lid = next(lease_ids)
                my_leases.append(lid)
                rec.update(op="grant", lease=lid, ttl=rng.choice([0.2, 0.3, 0.5]))
            elif leases and x < 0.95 and my_leases:
                rec.update(op="keepalive", lease=rng.choice(my_leases))
            elif leases and my_leases and x < 0.97:
                rec.update(op="revoke", lease=rng.choice(my_leases))
            else:
                rec.update(op="get", key=rng.choice(key_names))
            if rec["op"] in ("get", "list") and rng.random() < p_serializable:
                rec["consistency"] = "serializable"
            y = rng.random()
            status = "ok"
            if y < p_fail:
                status, lin = "fail", None
            elif y < p_fail + p_unknown:
                status = "unknown"
                z = rng.random()
                if z < 0.3:
                    lin = None
                elif z < 0.6:
                    lin = comp + rng.randint(0, 400)
            rec["status"] = status
            if status == "unknown" and rec["op"] == "put" and rng.random() < 0.5:
                retry = rec
            rec["invoke_ns"] = inv * MS
            rec["complete_ns"] = comp * MS if status != "unknown" else None
            plans.append((lin, oid, rec))
            t = comp + rng.randint(0, 15)
    # ---- the server: apply in linearization order, with lease expiry ------
    kv: dict = {}                    # key -> (value, lease, create, mod, version)
    lease_st: dict = {}              # lease -> [ttl_ticks, deadline]
    rev = 0
    snaps = [dict()]                 # revision -> kv copy
    changes = [None]                 # revision -> (time, [(key, type, value, prev)], cause)
    expires = []
    last_ser: dict = {}

    def bump(tm, chs, cause):
        nonlocal rev
        rev += 1
        changes.append((tm, chs, cause))
        snaps.append(dict(kv))

    def expire_due(tm):
        while True:
            due = [(d[1], lid) for lid, d in lease_st.items() if d[1] < tm]
            if not due:
                return
            dl, lid = min(due)
            del lease_st[lid]
            ks = sorted(k for k, e in kv.items() if e[1] == lid)
            if ks:
                chs = [(k, "delete", None, kv[k][0]) for k in ks]
                for k in ks:
                    del kv[k]
                bump(dl, chs, ("expire", lid))
                expires.append({"op": "expire", "lease": lid, "revision": rev, "deleted": len(ks),
                                "observed_ns": (dl + 1) * MS})

    for lin, oid, rec in sorted((p for p in plans if p[0] is not None), key=lambda p: (p[0], p[1])):
        expire_due(lin)
        op, ok = rec["op"], rec["status"] == "ok"
        res: dict = {}
        if op == "put":
            lid = rec["lease"]
            if lid and lid not in lease_st:
                if ok:
                    rec["status"] = "fail"
                continue
            val = json.dumps(rec["value"], sort_keys=True)
            old = kv.get(rec["key"])
            kv[rec["key"]] = (val, lid, old[2] if old else rev + 1, rev + 1, old[4] + 1 if old else 1)
            bump(lin, [(rec["key"], "put", val, old[0] if old else None)], oid)
            res = {"revision": rev}
            if rng.random() < 0.5:
                res["prev_value"] = json.loads(old[0]) if old else None
        elif op == "delete":
            old = kv.pop(rec["key"], None)
            if old:
                bump(lin, [(rec["key"], "delete", None, old[0])], oid)
            res = {"revision": rev}
            if rng.random() < 0.7:
                res["deleted"] = 1 if old else 0
        elif op == "get":
            r = rev
            if rec.get("consistency") == "serializable":
                r = rng.randint(max(last_ser.get(rec["client"], 0), rev - 5, 0), rev)
                last_ser[rec["client"]] = r
            e = snaps[r].get(rec["key"])
            res = {"revision": r, "value": json.loads(e[0]) if e else None}
            if rng.random() < 0.8:
                res.update(mod_revision=e[3] if e else 0, create_revision=e[2] if e else 0,
                           version=e[4] if e else 0)
        elif op == "list":
            r = rev
            if rec.get("consistency") == "serializable":
                r = rng.randint(max(last_ser.get(rec["client"], 0), rev - 5, 0), rev)
                last_ser[rec["client"]] = r
            res = {"revision": r, "pairs": [[k, json.loads(e[0])] for k, e in sorted(snaps[r].items())
                                            if in_prefix(k, rec["prefix"])]}
        elif op == "grant":
            ttl = int(rec["ttl"] * 1000)
            lease_st[rec["lease"]] = [ttl, lin + ttl + rng.randint(0, 30)]
            res = {"ttl": rec["ttl"]}
        elif op == "keepalive":
            st = lease_st.get(rec["lease"])
            if st is None:
                if ok:
                    rec["status"] = "fail"
                continue
            st[1] = lin + st[0] + rng.randint(0, 30)
            res = {"ttl": st[0] / 1000}
        elif op == "revoke":
            if rec["lease"] not in lease_st:
                if ok:
                    rec["status"] = "fail"
                continue
            del lease_st[rec["lease"]]
            ks = sorted(k for k, e in kv.items() if e[1] == rec["lease"])
            if ks:
                chs = [(k, "delete", None, kv[k][0]) for k in ks]
                for k in ks:
                    del kv[k]
                bump(lin, chs, oid)
            res = {"revision": rev}
            if rng.random() < 0.7:
                res["deleted"] = len(ks)
        if rec["status"] == "ok":
            rec.update(res)
    end_t = max([p[0] for p in plans if p[0] is not None] + [0]) + 1000
    expire_due(end_t)
    out = [p[2] for p in plans]
    if rng.random() < 0.5:
        out.extend(expires)
    # ---- watchers -----------------------------------------------------------
    R = rev
    wid = 0
    for _ in range(watchers):
        wid += 1
        node = f"n{rng.randint(1, 3)}"
        if rng.random() < 0.3:
            sel = {"key": rng.choice(key_names)}
            match = (lambda k, _k=sel["key"]: k == _k)
        else:
            sel = {"prefix": rng.choice(["ns/", "ns/svc0/", ""])}
            match = (lambda k, _p=sel["prefix"]: in_prefix(k, _p))
        delay = rng.randint(1, 20)
        f = rng.randint(1, max(1, R // 2))
        nseg = rng.randint(1, 3)
        for s in range(nseg):
            if f > R:
                break
            start = {"op": "watch_start", "watcher": wid, "node": node, "from_revision": f}
            start.update(sel)
            out.append(start)
            e = R if s == nseg - 1 else rng.randint(f, R)
            r0 = f
            if rng.random() < 0.2 and f > 1:
                # resync: full (filtered) state at f+k, then events after it
                rs = min(R, f + rng.randint(0, 5))
                out.append({"op": "watch_resync", "watcher": wid, "revision": rs,
                            "pairs": [[k, json.loads(v[0])] for k, v in sorted(snaps[rs].items()) if match(k)]})
                r0 = rs + 1
                e = max(e, rs)
            prev_kv = rng.random() < 0.5
            for r in range(r0, e + 1):
                tm, chs, _ = changes[r]
                for k, typ, v, pv in chs:
                    if match(k):
                        ev = {"op": "watch_event", "watcher": wid, "node": node, "revision": r,
                              "type": typ, "key": k, "recv_ns": (tm + delay) * MS}
                        if typ == "put":
                            ev["value"] = json.loads(v)
                        if prev_kv:
                            ev["prev_value"] = json.loads(pv) if pv is not None else None
                        out.append(ev)
            out.append({"op": "watch_end", "watcher": wid, "reason": "disconnect", "revision": e})
            f = e + 1
    pairs = [[k, json.loads(e[0])] for k, e in sorted(kv.items())]
    for n in (1, 2, 3):
        out.append({"op": "final_state", "node": f"n{n}", "revision": R, "hash": _state_hash(pairs),
                    "pairs": pairs})
    return out


# ---------------------------------------------------------------- injectors
def inject_stale_read(recs: list, rng: random.Random) -> bool:
    """Make a linearizable get return the value before a write that had
    completed before the get was invoked (with that older revision)."""
    ops = [r for r in recs if "id" in r]
    writes = [w for w in ops if w["op"] == "put" and w["status"] == "ok"]
    gets = [g for g in ops if g["op"] == "get" and g["status"] == "ok" and
            g.get("consistency", "linearizable") == "linearizable"]
    rng.shuffle(gets)
    for g in gets:
        for w in writes:
            if w["key"] == g["key"] and w["complete_ns"] < g["invoke_ns"] and w["revision"] <= g["revision"]:
                g["revision"] = w["revision"] - 1
                g["value"] = {"stale": True}
                for f in ("mod_revision", "create_revision", "version"):
                    g.pop(f, None)
                return True
    return False


def inject_lost_write(recs: list, rng: random.Random) -> bool:
    """Drop from every final state a key whose last acknowledged put nothing
    later removed (no lease, no later write or unknown write on the key)."""
    ops = [r for r in recs if "id" in r]
    finals = [r for r in recs if r["op"] == "final_state"]
    cands = []
    for k in sorted({o["key"] for o in ops if o["op"] == "put"}):
        on_k = [o for o in ops if o.get("key") == k and o["op"] in ("put", "delete")]
        last = max((o for o in on_k if o["status"] == "ok" and o["op"] == "put"),
                   key=lambda o: o["revision"], default=None)
        if last is None or last["lease"]:
            continue
        if any(o["status"] == "unknown" for o in on_k):
            continue
        if any(o["status"] == "ok" and o["revision"] > last["revision"] for o in on_k):
            continue
        cands.append(k)
    if not cands or not finals:
        return False
    k = rng.choice(cands)
    for f in finals:
        f["pairs"] = [p for p in f["pairs"] if p[0] != k]
        f["hash"] = _state_hash(f["pairs"])
    return True


def inject_skipped_watch_event(recs: list, rng: random.Random) -> bool:
    """Remove one watch event that is not the last of its segment."""
    idx = []
    for i, r in enumerate(recs):
        if r["op"] == "watch_event":
            nxt = recs[i + 1] if i + 1 < len(recs) else None
            if nxt is not None and nxt["op"] == "watch_event" and nxt["watcher"] == r["watcher"]:
                idx.append(i)
    if not idx:
        return False
    del recs[rng.choice(idx)]
    return True


def to_lines(recs: list) -> list:
    return [json.dumps(r) for r in recs]


def write(path: str, recs: list):
    with open(path, "w") as f:
        for line in to_lines(recs):
            f.write(line + "\n")
