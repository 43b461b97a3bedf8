#!/usr/bin/env python3
"""python3-etcd3 (gRPC C-core, a second HTTP/2 implementation) against a 3-member etcd v3 API.

    python_check.py --endpoints 127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3

python-etcd3 talks to one endpoint per client, so there is one client per member: writes go to one member,
watches sit on another, status() and members() are asked of every member. Checks: put/get/get_prefix/delete
(with prev_kv), a lease granted, a key put with it, refreshed (a one-request LeaseKeepAlive stream ended by a
half-close), get_lease_info (TimeToLive with keys), revoked (the key goes, with a DELETE event); a put with an
unknown lease (NotFound); transactions on value/version/create/mod with both branches; watch_prefix receiving
events live and from history, with prev_kv; two watches on one stream, one cancelled; status() and members()
on every member. Exit status 1 with one line per failed assertion.
"""
import argparse
import queue
import sys
import time

import etcd3
import grpc

failures = []
T0 = time.monotonic()


def log(message):
    print(f"[{time.monotonic() - T0:6.2f}s] {message}", flush=True)


def check(condition, message):
    if not condition:
        failures.append(message)
        log("FAIL: " + message)
    return condition


def expect_rpc_error(fn, code, text, what):
    try:
        fn()
    except grpc.RpcError as error:
        check(error.code() == code and text in (error.details() or ""),
              f"{what}: want {code.name} '{text}', got {error.code().name} '{error.details()}'")
        return
    except Exception as error:  # python-etcd3 translates some codes into its own exceptions
        check(False, f"{what}: want {code.name} '{text}', got {type(error).__name__}: {error}")
        return
    check(False, f"{what}: want {code.name} '{text}', got success")


class EventQueue:
    """Collects watch callback payloads (responses or errors)."""

    def __init__(self):
        self.q = queue.Queue()

    def __call__(self, response):
        self.q.put(response)

    def events(self, count, limit=10.0):
        """The next `count` events (flattened from responses), waiting at most `limit` seconds."""
        got, deadline = [], time.monotonic() + limit
        while len(got) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                item = self.q.get(timeout=left)
            except queue.Empty:
                break
            if isinstance(item, Exception):
                check(False, f"watch delivered an error: {item!r}")
                break
            got.extend(item.events)
        return got

    def empty(self):
        return self.q.empty()


def describe(events):
    return [(type(e).__name__, e.key.decode(), e.value.decode()) for e in events]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoints", required=True)
    args = parser.parse_args()
    endpoints = args.endpoints.split(",")
    clients = []
    for ep in endpoints:
        host, port = ep.rsplit(":", 1)
        clients.append(etcd3.client(host=host, port=int(port), timeout=5))
    a, b = clients[0], clients[1 % len(clients)]
    watcher = clients[2 % len(clients)]
    log(f"python-etcd3 {etcd3.__version__}, grpcio {grpc.__version__}, endpoints {endpoints}")

    # ---- KV
    a.delete_prefix("/py/")
    a.put("/py/a", "1")
    a.put("/py/b", "2")
    value, meta = b.get("/py/a")
    check(value == b"1", f"get /py/a through another member: want b'1', got {value!r}")
    check(meta is not None and meta.key == b"/py/a" and meta.version == 1 and meta.create_revision == meta.mod_revision,
          f"get /py/a metadata: {meta and (meta.key, meta.version, meta.create_revision, meta.mod_revision)}")
    value, meta = a.get("/py/none")
    check(value is None and meta is None, f"get of a missing key: want (None, None), got {(value, meta)}")
    response = a.put("/py/a", "10", prev_kv=True)
    check(response.prev_kv.value == b"1", f"put prev_kv: want b'1', got {response.prev_kv.value!r}")
    revision_after_a10 = response.header.revision
    got = [(v, m.key) for v, m in b.get_prefix("/py/")]
    check(got == [(b"10", b"/py/a"), (b"2", b"/py/b")], f"get_prefix /py/: {got}")
    got = [m.key for v, m in a.get_prefix("/py/", sort_order="descend", sort_target="key")]
    check(got == [b"/py/b", b"/py/a"], f"get_prefix sorted descending by key: {got}")
    got = [v for v, m in a.get_range("/py/a", "/py/b")]
    check(got == [b"10"], f"get_range [/py/a, /py/b): {got}")
    value, _ = watcher.get("/py/a", serializable=False)
    check(value == b"10", f"linearizable get on the third member: {value!r}")
    check(a.delete("/py/b") is True, "delete /py/b: want True")
    check(a.delete("/py/b") is False, "delete of a deleted key: want False")
    response = a.delete("/py/a", prev_kv=True, return_response=True)
    check(response.deleted == 1 and response.prev_kvs[0].value == b"10",
          f"delete prev_kv: deleted {response.deleted}, prev {[kv.value for kv in response.prev_kvs]}")

    # ---- watch: two watches on one stream, live events, cancel one
    live, other = EventQueue(), EventQueue()
    live_id = watcher.add_watch_prefix_callback("/py/w/", live)
    other_id = watcher.add_watch_prefix_callback("/py/o/", other)
    a.put("/py/w/x", "1")
    b.put("/py/w/x", "2")
    a.delete("/py/w/x")
    b.put("/py/o/y", "y")
    events = live.events(3)
    check(describe(events) == [("PutEvent", "/py/w/x", "1"), ("PutEvent", "/py/w/x", "2"), ("DeleteEvent", "/py/w/x", "")],
          f"watch_prefix /py/w/ events: {describe(events)}")
    events = other.events(1)
    check(describe(events) == [("PutEvent", "/py/o/y", "y")], f"second watch on the same stream: {describe(events)}")
    watcher.cancel_watch(live_id)
    a.put("/py/w/after-cancel", "z")
    a.put("/py/o/z", "z")
    events = other.events(1)
    check(describe(events) == [("PutEvent", "/py/o/z", "z")], f"remaining watch after the other's cancel: {describe(events)}")
    check(live.empty(), "a cancelled watch still delivered events")
    watcher.cancel_watch(other_id)

    # ---- watch from history, with prev_kv, through the iterator API
    iterator, cancel = watcher.watch_prefix("/py/", start_revision=revision_after_a10, prev_kv=True)
    first = next(iterator)
    check(type(first).__name__ == "PutEvent" and first.key == b"/py/a" and first.value == b"10"
          and first.prev_value == b"1", f"history watch from revision {revision_after_a10}: first event {first}")
    second = next(iterator)
    check(type(second).__name__ == "DeleteEvent" and second.key == b"/py/b" and second.prev_value == b"2",
          f"history watch: second event {second}")
    cancel()

    # ---- leases
    lease = a.lease(10)
    check(lease.ttl == 10, f"lease grant 10: TTL {lease.ttl}")
    put_revision = a.put("/py/l/k", "leased", lease=lease).header.revision
    lease_watch = EventQueue()
    # From the put's revision + 1: a watch created on another member must not depend on when that member applies it.
    lease_watch_id = watcher.add_watch_prefix_callback("/py/l/", lease_watch, start_revision=put_revision + 1)
    _, meta = b.get("/py/l/k")
    check(meta is not None and meta.lease_id == lease.id, f"key lease: want {lease.id}, got {meta and meta.lease_id}")
    refreshed = list(lease.refresh())
    check(len(refreshed) == 1 and refreshed[0].TTL == 10 and refreshed[0].ID == lease.id,
          f"refresh_lease: {[(r.ID, r.TTL) for r in refreshed]}")
    info = b.get_lease_info(lease.id)
    check(info.grantedTTL == 10 and 0 < info.TTL <= 10 and list(info.keys) == [b"/py/l/k"],
          f"get_lease_info: granted {info.grantedTTL}, ttl {info.TTL}, keys {list(info.keys)}")
    check(lease.granted_ttl == 10 and list(lease.keys) == [b"/py/l/k"], "Lease.granted_ttl / Lease.keys")
    expect_rpc_error(lambda: a.put("/py/l/bad", "x", lease=0x1234abcd), grpc.StatusCode.NOT_FOUND,
                     "etcdserver: requested lease not found", "put with an unknown lease")
    lease.revoke()
    events = lease_watch.events(1)
    check(describe(events) == [("DeleteEvent", "/py/l/k", "")], f"revoke: DELETE event for the leased key: {describe(events)}")
    check(a.get("/py/l/k") == (None, None), "the leased key survived the revoke")
    info = a.get_lease_info(lease.id)
    check(info.TTL == -1, f"get_lease_info of a revoked lease: TTL {info.TTL} (want -1)")
    expect_rpc_error(lambda: a.revoke_lease(lease.id), grpc.StatusCode.NOT_FOUND,
                     "etcdserver: requested lease not found", "revoke of a revoked lease")
    refreshed = list(a.refresh_lease(lease.id))
    check(len(refreshed) == 1 and refreshed[0].TTL <= 0, f"refresh of a revoked lease: want TTL <= 0, got "
          f"{[(r.ID, r.TTL) for r in refreshed]}")
    watcher.cancel_watch(lease_watch_id)

    # ---- transactions
    a.put("/py/t/a", "1")
    response = a.put("/py/t/a", "2")
    _, meta = a.get("/py/t/a")
    t = a.transactions
    ok, responses = a.transaction(
        compare=[t.value("/py/t/a") == "2", t.version("/py/t/a") == 2, t.create("/py/t/a") < meta.mod_revision,
                 t.mod("/py/t/a") == meta.mod_revision, t.create("/py/t/none") == 0],
        success=[t.put("/py/t/b", "yes"), t.get("/py/t/b"), t.delete("/py/t/none")],
        failure=[t.put("/py/t/b", "no")])
    check(ok is True, "txn on value/version/create/mod: want success")
    if check(len(responses) == 3, f"txn: {len(responses)} responses (want 3)"):
        got = [(v, m.key) for v, m in responses[1]]
        check(got == [(b"yes", b"/py/t/b")], f"get inside a txn sees the txn's put: {got}")
    ok, responses = b.transaction(compare=[t.value("/py/t/a") != "2"],
                                  success=[t.put("/py/t/c", "wrong")],
                                  failure=[t.put("/py/t/c", "right"), t.get("/py/t/a")])
    check(ok is False, "txn value != 2: want failure branch")
    check(b.get("/py/t/c")[0] == b"right", f"txn failure branch put: {b.get('/py/t/c')[0]!r}")
    check(a.put_if_not_exists("/py/t/c", "x") is False, "put_if_not_exists on an existing key: want False")
    check(a.replace("/py/t/a", "2", "3") is True and a.get("/py/t/a")[0] == b"3", "replace 2 -> 3")

    # ---- cluster
    leaders = set()
    for ep, c in zip(endpoints, clients):
        status = c.status()
        check(status.leader is not None, f"status() on {ep}: no leader among members()")
        check(status.db_size > 0 and status.raft_index > 0 and status.raft_term > 0 and status.version,
              f"status() on {ep}: version {status.version!r} db {status.db_size} index {status.raft_index} term {status.raft_term}")
        leaders.add(status.leader.id if status.leader else None)
        members = sorted(c.members, key=lambda m: m.name)
        check([m.name for m in members] == [f"n{i + 1}" for i in range(len(endpoints))],
              f"members() on {ep}: names {[m.name for m in members]}")
        urls = sorted(u for m in members for u in m.client_urls)
        check(urls == sorted(f"http://{e}" for e in endpoints), f"members() client URLs on {ep}: {urls}")
        check(all(m.peer_urls and m.id for m in members), f"members() on {ep}: ids/peer URLs missing")
    check(len(leaders) == 1, f"members disagree about the leader: {leaders}")

    a.delete_prefix("/py/")
    if failures:
        print(f"python_check: {len(failures)} failure(s):")
        for f in failures:
            print("  - " + f)
        return 1
    print("python_check: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
