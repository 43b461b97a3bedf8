"""Concurrent recorded clients: KV writers/readers, lease+instance holders, one watcher per node.

Every loop is bounded by the stop event and a wall-clock deadline; every request has a timeout.
A client whose call ended "unknown" takes a fresh client id (the old call may still be in flight).
"""
from __future__ import annotations

import itertools
import json
import random
import socket
import threading
import time
import http.client
import urllib.parse

from . import http as rhttp
from .mapping import instance_key, instance_record, range_pairs, watch_line
from .recorder import Recorder, now_ns

KV_PREFIX = "k/"
LEASE_KV_PREFIX = "l/"
_client_ids = itertools.count(1)
_client_lock = threading.Lock()


def new_client_id() -> int:
    with _client_lock:
        return next(_client_ids)


class Worker(threading.Thread):
    def __init__(self, name, recorder: Recorder, targets, stop: threading.Event, deadline: float,
                 seed: int, timeout: float):
        super().__init__(name=name, daemon=True)
        self.rec = recorder
        self.targets = targets           # callable -> [(node, addr)]
        self.stop_event = stop
        self.deadline = deadline
        self.rng = random.Random(seed)
        self.timeout = timeout
        self.client = new_client_id()
        self.seq = 0
        self.errors = 0

    def running(self) -> bool:
        return not self.stop_event.is_set() and time.monotonic() < self.deadline

    def pick(self):
        choices = self.targets()
        return self.rng.choice(choices) if choices else (None, None)

    def call(self, node, addr, method, path, body=None):
        reply = rhttp.request(addr, method, path, body, timeout=self.timeout)
        self.last_error = None if reply.ok else f"{reply.status} {reply.code}"
        if reply.outcome == "fail" and reply.status == 0:
            time.sleep(0.1)          # connection refused: do not spin on a dead node
        return reply

    def after(self, status: str) -> None:
        if status == "unknown":
            self.client = new_client_id()

    def unique(self) -> str:
        self.seq += 1
        return f"{self.name}-{self.seq}"


class KVWorker(Worker):
    """Puts (unique values, prev asked), deletes, linearizable/serializable gets and lists on a few keys."""

    def __init__(self, *args, keys: int = 8, pause: float = 0.01, burst: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.keys = [f"{KV_PREFIX}{i}" for i in range(keys)]
        self.pause = pause

    def run(self):
        while self.running():
            node, addr = self.pick()
            if addr is None:
                time.sleep(0.1)
                continue
            r = self.rng.random()
            key = self.rng.choice(self.keys)
            path = "/v1/kv/" + urllib.parse.quote(key, safe="/")
            invoke = now_ns()
            if r < 0.45:
                value = self.unique()
                reply = self.call(node, addr, "PUT", path, {"value": value, "prev": True})
                fields = {"key": key, "value": value, "lease": 0}
                if reply.ok:
                    fields["revision"] = int(reply.body["revision"])
                    prev = reply.body.get("previous")
                    fields["prev_value"] = prev.get("value") if prev else None
                self.rec.op(self.client, node, "put", invoke, reply.outcome, error=self.last_error, **fields)
            elif r < 0.60:
                reply = self.call(node, addr, "DELETE", path)
                fields = {"key": key}
                if reply.ok:
                    fields["revision"] = int(reply.body["revision"])
                    fields["deleted"] = int(reply.body.get("deleted", 0))
                self.rec.op(self.client, node, "delete", invoke, reply.outcome, error=self.last_error, **fields)
            elif r < 0.88:
                consistency = "linearizable" if r < 0.78 else "serializable"
                reply = self.call(node, addr, "GET", f"{path}?consistency={consistency}")
                fields = {"key": key, "consistency": consistency}
                if reply.ok:
                    kvs = reply.body.get("kvs", [])
                    item = kvs[0] if kvs else None
                    fields["revision"] = int(reply.body["revision"])
                    fields["value"] = item.get("value") if item else None
                    if item:
                        fields["mod_revision"] = item.get("mod_revision")
                        fields["create_revision"] = item.get("create_revision")
                        fields["version"] = item.get("version")
                self.rec.op(self.client, node, "get", invoke, reply.outcome, error=self.last_error, **fields)
            else:
                consistency = "linearizable" if r < 0.95 else "serializable"
                reply = self.call(node, addr, "GET", f"/v1/kv/{KV_PREFIX}?prefix=true&consistency={consistency}")
                fields = {"prefix": KV_PREFIX, "consistency": consistency}
                if reply.ok:
                    fields["revision"] = int(reply.body["revision"])
                    fields["pairs"] = range_pairs(reply.body)
                self.rec.op(self.client, node, "list", invoke, reply.outcome, error=self.last_error, **fields)
            self.after(reply.outcome)
            time.sleep(self.rng.uniform(0, self.pause))


class LeaseWorker(Worker):
    """Grants a lease (unique id), registers instances on it, keeps it alive, then revokes it or lets it
    expire; also registers and deregisters plain instances with unique metadata."""

    SERVICE = "svc"
    PLAIN = "plain"

    def __init__(self, *args, index: int, ttl: int = 3, **kwargs):
        super().__init__(*args, **kwargs)
        self.index = index
        self.ttl = ttl
        self.lease_seq = 0
        self.granted = []          # lease ids that may be alive (revoked at the end)

    def grant(self):
        node, addr = self.pick()
        if addr is None:
            return None
        self.lease_seq += 1
        lease = (self.index + 1) * 1_000_000 + self.lease_seq
        invoke = now_ns()
        reply = self.call(node, addr, "POST", "/v1/leases", {"ttl": self.ttl, "id": lease})
        fields = {"lease": lease, "ttl": self.ttl}
        if reply.ok:
            fields["ttl"] = reply.body["lease"]["ttl_ms"] / 1000.0
        self.rec.op(self.client, node, "grant", invoke, reply.outcome, error=self.last_error, **fields)
        self.after(reply.outcome)
        if reply.outcome != "fail":
            self.granted.append(lease)
        return lease if reply.ok else None

    def register(self, service, instance_id, lease):
        node, addr = self.pick()
        if addr is None:
            return "fail"
        tag = self.unique()
        metadata = {"tag": tag}
        endpoint = f"http://10.0.0.{self.index + 1}:{8000 + self.seq % 1000}"
        body = {"endpoints": [endpoint], "metadata": metadata}
        if lease:
            body["lease"] = lease
        record = instance_record(service, instance_id, endpoint, metadata, lease)
        invoke = now_ns()
        reply = self.call(node, addr, "PUT", f"/v1/services/{service}/instances/{instance_id}", body)
        fields = {"key": instance_key(service, instance_id), "value": record, "lease": lease or 0}
        if reply.ok:
            fields["revision"] = int(reply.body["revision"])
            if reply.body.get("created") is True:
                fields["prev_value"] = None
            if reply.body.get("instance") != record:
                fields["server_instance"] = reply.body.get("instance")
        self.rec.op(self.client, node, "put", invoke, reply.outcome, error=self.last_error, **fields)
        self.after(reply.outcome)
        return reply.outcome

    def deregister(self, service, instance_id):
        node, addr = self.pick()
        if addr is None:
            return
        invoke = now_ns()
        reply = self.call(node, addr, "DELETE", f"/v1/services/{service}/instances/{instance_id}")
        fields = {"key": instance_key(service, instance_id)}
        if reply.ok:
            fields["revision"] = int(reply.body["revision"])
            fields["deleted"] = 1
        self.rec.op(self.client, node, "delete", invoke, reply.outcome, error=self.last_error, **fields)
        self.after(reply.outcome)

    def keepalive(self, lease):
        node, addr = self.pick()
        if addr is None:
            return "fail"
        invoke = now_ns()
        reply = self.call(node, addr, "POST", f"/v1/leases/{lease}/keepalive")
        fields = {"lease": lease}
        if reply.ok:
            fields["ttl"] = reply.body["ttl_ms"] / 1000.0
        self.rec.op(self.client, node, "keepalive", invoke, reply.outcome, error=self.last_error, **fields)
        self.after(reply.outcome)
        return reply.outcome if reply.code != "lease_not_found" else "gone"

    def revoke(self, lease):
        node, addr = self.pick()
        if addr is None:
            return "fail"
        invoke = now_ns()
        reply = self.call(node, addr, "DELETE", f"/v1/leases/{lease}")
        fields = {"lease": lease}
        if reply.ok:
            fields["revision"] = int(reply.body["revision"])
            fields["deleted"] = int(reply.body.get("deleted_keys", 0))
        self.rec.op(self.client, node, "revoke", invoke, reply.outcome, error=self.last_error, **fields)
        self.after(reply.outcome)
        return reply.outcome

    def run(self):
        while self.running():
            lease = self.grant()
            if lease is None:
                time.sleep(0.2)
                continue
            ids = [f"c{self.index}-{lease}-{j}" for j in range(self.rng.randint(1, 3))]
            for instance_id in ids:
                self.register(self.SERVICE, instance_id, lease)
            # keep alive for a few rounds at about TTL/3
            for _ in range(self.rng.randint(1, 4)):
                if not self.running():
                    break
                time.sleep(self.ttl / 3.0)
                if self.keepalive(lease) == "gone":
                    break
            # plain instances: register / deregister from a small pool
            plain = f"p{self.index}-{self.rng.randint(0, 2)}"
            if self.rng.random() < 0.6:
                self.register(self.PLAIN, plain, None)
            else:
                self.deregister(self.PLAIN, plain)
            if self.rng.random() < 0.5:
                if self.revoke(lease) == "ok":
                    self.granted.remove(lease)
            # else: abandon it; it expires after its TTL


class Expiries:
    """Lease expiries seen by any watcher (cause lease_expired): revision -> {lease: first recv_ns}."""

    def __init__(self):
        self.lock = threading.Lock()
        self.seen: dict = {}

    def note(self, line: dict, recv_ns: int) -> None:
        if line.get("cause") != "lease_expired":
            return
        prev = line.get("prev_instance")
        lease = prev.get("lease") if isinstance(prev, dict) else None
        if not lease:
            return
        with self.lock:
            leases = self.seen.setdefault(int(line["revision"]), {})
            leases[lease] = min(leases.get(lease, recv_ns), recv_ns)

    def records(self) -> list:
        with self.lock:
            return [{"op": "expire", "lease": lease, "revision": rev, "observed_ns": t}
                    for rev, leases in sorted(self.seen.items()) for lease, t in sorted(leases.items())]


class Watcher(threading.Thread):
    """Watches everything from one node, resuming (same node, else another) after any disconnect."""

    def __init__(self, watcher_id: int, home: int, recorder: Recorder, resolve, targets, stop: threading.Event,
                 deadline: float, expiries: Expiries = None):
        super().__init__(name=f"watch-{home}", daemon=True)
        self.expiries = expiries
        self.id = watcher_id
        self.home = home                # slot
        self.rec = recorder
        self.resolve = resolve          # callable slot -> (name, addr) of the member there, or (None, None)
        self.targets = targets          # callable -> [(name, addr)]
        self.stop_event = stop
        self.deadline = deadline
        self.last = 0                   # highest revision known delivered (event or progress)
        self.events = 0
        self.segments = 0

    def running(self):
        return not self.stop_event.is_set() and time.monotonic() < self.deadline

    def run(self):
        attempt = 0
        while self.running():
            node, addr = self.resolve(self.home)
            if addr is None or attempt % 3 == 2:
                choices = self.targets()
                if choices:
                    node, addr = random.choice(choices)
            attempt += 1
            if addr is None:
                time.sleep(0.3)
                continue
            self.segment(node, addr)
            time.sleep(0.2)

    def segment(self, node, addr):
        start = self.last + 1
        path = f"/v1/watch?prefix=&from_revision={start}&prev_value=true&progress_interval=1s"
        try:
            conn, response = rhttp.open_stream(addr, path, timeout=4.0)
        except (OSError, http.client.HTTPException):
            return
        if response.status != 200:
            conn.close()
            return
        self.segments += 1
        self.rec.write({"op": "watch_start", "watcher": self.id, "node": node, "prefix": "",
                        "from_revision": start, "ts_ns": now_ns()})
        reason = "stopped"
        try:
            while self.running():
                raw = response.readline()
                if not raw:
                    reason = "closed"
                    break
                raw = raw.strip()
                if not raw:
                    continue
                try:
                    line = json.loads(raw)
                except ValueError:
                    reason = "bad line"
                    break
                record = watch_line(line, self.id, node, now_ns())
                if record is None:
                    continue
                if self.expiries is not None and record["op"] == "watch_event":
                    self.expiries.note(line, record["recv_ns"])
                self.rec.write(record)
                if record["op"] == "watch_end":
                    return self._closed(conn)
                if record["op"] in ("watch_event", "watch_progress", "watch_resync"):
                    if record["op"] == "watch_event":
                        self.events += 1
                    self.last = max(self.last, record["revision"])
        except (OSError, http.client.HTTPException, ValueError) as error:
            reason = f"transport {type(error).__name__}"
        self.rec.write({"op": "watch_end", "watcher": self.id, "reason": reason})
        self._closed(conn)

    @staticmethod
    def _closed(conn):
        try:
            conn.close()
        except OSError:
            pass
