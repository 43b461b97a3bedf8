"""KV clients through Roster's etcd v3 gRPC API, with a real etcd client (python-etcd3 on gRPC C-core).

The one part of the suite that is not standard library: `etcd3` (Debian's python3-etcd3) is imported only
when etcd workers are on; `runner.ensure_etcd3` arranges an interpreter that has it. The history lines are
`KVWorker`'s (same ops, same fields, see `etcdmap`) plus `"api": "etcd"`, so the same checker reads both.
"""
from __future__ import annotations

import time

from .etcdmap import classify_rpc_error, delete_fields, get_fields, list_fields, put_fields, rpc_error_info
from .recorder import now_ns
from .workload import KV_PREFIX, Worker

ETCD_OWN_PREFIX = "e/"
# Channel options: no proxy from the environment (only loopback and the suite's namespaces are contacted),
# and reconnect quickly after a node restarts (gRPC's default backoff grows to two minutes).
# python3-etcd3's TLS arguments (ca_cert, cert_cert, cert_key), set by chaos --tls; its user and password
# (it logs in when the client is made), set by chaos --auth.
TLS_FILES: dict = {}
AUTH: dict = {}
GRPC_OPTIONS = [
    ("grpc.enable_http_proxy", 0),
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
]


def etcd3_version() -> str:
    import etcd3
    import grpc
    return f"python-etcd3 {getattr(etcd3, '__version__', '?')}, grpcio {getattr(grpc, '__version__', '?')}"


class EtcdKVWorker(Worker):
    """`KVWorker`'s mix (put with prev_kv, delete, linearizable/serializable get, prefix list) through etcd's
    KV service. One gRPC channel per node (so `node` is the member that served the call); a call is made
    only on a channel that is READY: while a node is down its calls are not attempted (and not recorded),
    instead of every write to it ending "unknown"."""

    API = "etcd"     # the history's `api` field, so the summary counts each client library apart

    def __init__(self, *args, prefix: str = KV_PREFIX, keys: int = 8, pause: float = 0.01,
                 ready_wait: float = 0.5, **kwargs):
        super().__init__(*args, **kwargs)
        self.require_client_library()
        self.prefix = prefix
        self.keys = [f"{prefix}{i}" for i in range(keys)]
        self.pause = pause
        self.ready_wait = ready_wait
        self.clients = {}          # (node, addr) -> etcd3 client
        self.not_ready = 0         # calls skipped because the node's channel was not READY
        self.last_error = None

    # --- channels -------------------------------------------------------------------------------------
    def require_client_library(self):
        import etcd3     # noqa: F401  (fails early, in the constructor, when it is missing)

    def client_for(self, node, addr):
        import etcd3
        key = (node, tuple(addr))
        client = self.clients.get(key)
        if client is None:
            client = etcd3.client(host=addr[0], port=addr[1], timeout=self.timeout, grpc_options=GRPC_OPTIONS,
                                  **TLS_FILES, **AUTH)
            self.clients[key] = client
        return client

    def ready(self, client) -> bool:
        import grpc
        future = grpc.channel_ready_future(client.channel)
        try:
            future.result(timeout=self.ready_wait)
            return True
        except grpc.FutureTimeoutError:
            future.cancel()
            return False

    def close(self):
        # Dropped, not closed: grpc's connectivity-polling thread (channel_ready_future) may still be in its
        # last 0.2 s round and fails loudly on a closed channel; the C channel goes when the last reference does.
        self.clients.clear()

    # --- one call ---------------------------------------------------------------------------------------
    def attempt(self, fn, write: bool):
        """(outcome, response or None); sets last_error."""
        try:
            response = fn()
        except Exception as error:        # grpc.RpcError, etcd3's wrappers, a closed channel...
            code, text = rpc_error_info(error)
            self.last_error = text
            return classify_rpc_error(code, write), None
        self.last_error = None
        return "ok", response

    def run(self):
        try:
            self.loop()
        finally:
            self.close()

    def loop(self):
        while self.running():
            node, addr = self.pick()
            if addr is None:
                time.sleep(0.1)
                continue
            try:
                client = self.client_for(node, addr)
            except Exception as error:      # with --auth, making a client logs in: the node may be down
                self.not_ready += 1
                self.last_error = f"client: {type(error).__name__}"
                time.sleep(0.1)
                continue
            if not self.ready(client):
                self.not_ready += 1
                continue
            r = self.rng.random()
            key = self.rng.choice(self.keys)
            invoke = now_ns()
            if r < 0.45:
                value = self.unique()
                outcome, resp = self.attempt(lambda: client.put(key, value, prev_kv=True), write=True)
                self.rec.op(self.client, node, "put", invoke, outcome, error=self.last_error, api=self.API,
                            **put_fields(key, value, resp))
            elif r < 0.60:
                outcome, resp = self.attempt(lambda: client.delete(key, return_response=True), write=True)
                self.rec.op(self.client, node, "delete", invoke, outcome, error=self.last_error, api=self.API,
                            **delete_fields(key, resp))
            elif r < 0.88:
                consistency = "linearizable" if r < 0.78 else "serializable"
                outcome, resp = self.attempt(
                    lambda: client.get_response(key, serializable=consistency == "serializable"), write=False)
                self.rec.op(self.client, node, "get", invoke, outcome, error=self.last_error, api=self.API,
                            **get_fields(key, consistency, resp))
            else:
                consistency = "linearizable" if r < 0.95 else "serializable"
                outcome, resp = self.attempt(
                    lambda: client.get_prefix_response(self.prefix, serializable=consistency == "serializable",
                                                       sort_order="ascend"), write=False)
                self.rec.op(self.client, node, "list", invoke, outcome, error=self.last_error, api=self.API,
                            **list_fields(self.prefix, consistency, resp))
            self.after(outcome)
            time.sleep(self.rng.uniform(0, self.pause))


def make_workers(n, rec, targets, stop, deadline, rng, timeout, shared: bool):
    prefix = KV_PREFIX if shared else ETCD_OWN_PREFIX
    return [EtcdKVWorker(f"etcd{i}", rec, targets, stop, deadline, rng.randrange(1 << 30), timeout, prefix=prefix)
            for i in range(n)]

