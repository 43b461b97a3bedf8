"""Small builder for hand-written histories."""
import json

from checker import history, report


class H:
    def __init__(self):
        self.recs = []
        self.n = 0

    def op(self, op, client, inv, comp, status="ok", **kw):
        self.n += 1
        rec = {"id": self.n, "client": client, "op": op, "invoke_ns": inv,
               "complete_ns": None if status == "unknown" else comp, "status": status}
        rec.update(kw)
        self.recs.append(rec)
        return self.n

    def put(self, c, inv, comp, key, value, rev=None, status="ok", **kw):
        if rev is not None:
            kw["revision"] = rev
        return self.op("put", c, inv, comp, status, key=key, value=value, **kw)

    def get(self, c, inv, comp, key, value, rev, **kw):
        return self.op("get", c, inv, comp, "ok", key=key, value=value, revision=rev, **kw)

    def lst(self, c, inv, comp, prefix, pairs, rev, **kw):
        return self.op("list", c, inv, comp, "ok", prefix=prefix, pairs=pairs, revision=rev, **kw)

    def delete(self, c, inv, comp, key, rev=None, status="ok", **kw):
        if rev is not None:
            kw["revision"] = rev
        return self.op("delete", c, inv, comp, status, key=key, **kw)

    def raw(self, **kw):
        self.recs.append(kw)

    def watch(self, w, events, from_revision=1, prefix="", end=None, node="n1", prev=False):
        """events: list of (rev, type, key, value[, prev_value])."""
        self.raw(op="watch_start", watcher=w, node=node, prefix=prefix, from_revision=from_revision)
        for e in events:
            d = {"op": "watch_event", "watcher": w, "revision": e[0], "type": e[1], "key": e[2],
                 "recv_ns": 10_000 + e[0]}
            if e[1] == "put":
                d["value"] = e[3]
            if len(e) > 4:
                d["prev_value"] = e[4]
            self.raw(**d)
        if end is not None:
            self.raw(op="watch_end", watcher=w, reason="closed", revision=end)

    def final(self, node, rev, pairs, hash_=None):
        d = {"op": "final_state", "node": node, "revision": rev, "pairs": pairs}
        if hash_ is not None:
            d["hash"] = hash_
        self.raw(**d)

    def lines(self):
        return [json.dumps(r) for r in self.recs]

    def run(self, timeout_s=5.0, **kw):
        return report.run(history.parse_lines(self.lines()), timeout_s=timeout_s, **kw)
