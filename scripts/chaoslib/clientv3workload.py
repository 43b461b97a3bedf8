"""KV clients through Roster's etcd v3 gRPC API with etcd's own Go client, clientv3 (the client kratos' and
kitex's etcd registries use), next to python-etcd3's: the same mix, the same history lines, the same checker.

`EtcdKVWorker` decides everything (member, key, operation, timing, outcome); each of these workers hands its
calls to its own `clientv3-worker` process (scripts/chaoslib/clientv3-worker, Go) one at a time, over a line of
JSON each way, and gets back what etcd's response messages hold. The answers are turned into objects with the
attributes of those messages, so `etcdmap` builds the records as it does for python-etcd3. The invoke time is
taken before the request line is written and the complete time after the answer is read, so each recorded
interval contains the real call (a wider interval only gives the checker more freedom, never a false anomaly).
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from types import SimpleNamespace

from .etcdworkload import AUTH, ETCD_OWN_PREFIX, TLS_FILES, EtcdKVWorker
from .workload import KV_PREFIX

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOURCE = os.path.join(ROOT, "scripts", "chaoslib", "clientv3-worker")
BINARY = os.path.join(ROOT, ".build-chaos", "clientv3-worker")
GOPATH = "/usr/share/gocode"     # Debian's golang-etcd-server-dev and its dependencies
DEBIAN_PACKAGES = ("golang-go", "golang-etcd-server-dev")


class Clientv3Error(Exception):
    """A failed call, shaped like a finished grpc.RpcError (`code().name`, `details()`) for `rpc_error_info`."""

    def __init__(self, code, details: str):
        super().__init__(f"{code} {details}")
        self._code = SimpleNamespace(name=code) if code else None
        self._details = details

    def code(self):
        if self._code is None:
            raise ValueError("no gRPC status")     # rpc_error_info then keeps looking, and reports the text
        return self._code

    def details(self):
        return self._details


def _bytes(text) -> bytes:
    return base64.b64decode(text) if text else b""


def key_value(record: dict) -> SimpleNamespace:
    """An etcd KeyValue from the worker's JSON (key and value base64, as Go's encoding/json writes []byte)."""
    return SimpleNamespace(key=_bytes(record.get("key")), value=_bytes(record.get("value")),
                           mod_revision=record.get("mod_revision", 0), create_revision=record.get("create_revision", 0),
                           version=record.get("version", 0))


def response(answer: dict) -> SimpleNamespace:
    """The attributes `etcdmap` reads from Put, DeleteRange and Range responses; raises for a failed call."""
    if not answer.get("ok"):
        raise Clientv3Error(answer.get("code"), answer.get("details", ""))
    prev = answer.get("prev_kv")
    return SimpleNamespace(header=SimpleNamespace(revision=answer.get("revision", 0)),
                           prev_kv=key_value(prev) if prev else None, deleted=answer.get("deleted", 0),
                           kvs=[key_value(kv) for kv in answer.get("kvs") or []])


class Clientv3Process:
    """One `clientv3-worker` process: requests in, answers out, one at a time."""

    def __init__(self, timeout: float, binary: str = BINARY):
        args = [binary, "--timeout-ms", str(int(timeout * 1000))]
        if TLS_FILES:
            args += ["--cacert", TLS_FILES["ca_cert"], "--cert", TLS_FILES["cert_cert"], "--key", TLS_FILES["cert_key"]]
        if AUTH:
            args += ["--user", AUTH["user"], "--password", AUTH["password"]]
        self.args = args
        self.process = None

    def call(self, request: dict) -> dict:
        if self.process is None or self.process.poll() is not None:
            self.process = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                            bufsize=1)
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        except (BrokenPipeError, OSError) as error:
            line, detail = "", f"{type(error).__name__}: {error}"
        else:
            detail = "the process ended"
        if not line:
            # No answer: the call's outcome is unknown (a write may have been applied).
            self.close()
            raise Clientv3Error(None, f"clientv3-worker gave no answer ({detail})")
        return json.loads(line)

    def close(self):
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            for pipe in (self.process.stdin, self.process.stdout):
                try:
                    pipe.close()
                except OSError:      # a write buffered for a process that is gone
                    pass
            self.process = None


class Clientv3Client:
    """python-etcd3's client methods that `EtcdKVWorker` calls, carried out by clientv3 on one member."""

    def __init__(self, process: Clientv3Process, endpoint: str):
        self.process = process
        self.endpoint = endpoint

    def _call(self, op: str, **fields) -> SimpleNamespace:
        return response(self.process.call({"op": op, "endpoint": self.endpoint, **fields}))

    def ready(self, wait: float) -> bool:
        answer = self.process.call({"op": "ready", "endpoint": self.endpoint, "wait_ms": int(wait * 1000)})
        return bool(answer.get("ok") and answer.get("ready"))

    def put(self, key, value, prev_kv=False):
        assert prev_kv, "the worker always asks for the previous value"
        return self._call("put", key=key, value=value)

    def delete(self, key, return_response=False):
        return self._call("delete", key=key)

    def get_response(self, key, serializable=False):
        return self._call("get", key=key, serializable=serializable)

    def get_prefix_response(self, prefix, serializable=False, sort_order="ascend"):
        assert sort_order == "ascend", "the worker lists in ascending key order"
        return self._call("list", prefix=prefix, serializable=serializable)


class Clientv3KVWorker(EtcdKVWorker):
    """`EtcdKVWorker`'s mix through clientv3: one process per worker, one client per member inside it."""

    API = "etcd-clientv3"
    process = None       # the worker's Clientv3Process, started on its first call

    def require_client_library(self):
        if not os.access(BINARY, os.X_OK):
            raise RuntimeError(f"{BINARY} is missing: build_worker() builds it")

    def client_for(self, node, addr):
        if self.process is None:
            self.process = Clientv3Process(self.timeout)
        key = (node, tuple(addr))
        client = self.clients.get(key)
        if client is None:
            client = Clientv3Client(self.process, f"{addr[0]}:{addr[1]}")
            self.clients[key] = client
        return client

    def ready(self, client) -> bool:
        try:
            return client.ready(self.ready_wait)
        except Clientv3Error:
            return False

    def close(self):
        self.clients.clear()
        if self.process is not None:
            self.process.close()


def make_workers(n, rec, targets, stop, deadline, rng, timeout, shared: bool):
    prefix = KV_PREFIX if shared else ETCD_OWN_PREFIX
    return [Clientv3KVWorker(f"v3c{i}", rec, targets, stop, deadline, rng.randrange(1 << 30), timeout, prefix=prefix)
            for i in range(n)]


def _newest_source_mtime() -> float:
    return max(os.path.getmtime(os.path.join(SOURCE, name)) for name in os.listdir(SOURCE))


def build_worker(log) -> str:
    """Builds clientv3-worker offline from Debian's Go packages (installed with apt-get when missing and root),
    unless the binary is newer than its source. Returns a description of the client for the run log."""
    have_sources = os.path.isdir(os.path.join(GOPATH, "src", "go.etcd.io", "etcd", "clientv3"))
    if (not shutil.which("go") or not have_sources) and os.geteuid() == 0 and shutil.which("apt-get"):
        log(f"installing {' '.join(DEBIAN_PACKAGES)} (apt-get) for the clientv3 workers...")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", *DEBIAN_PACKAGES]):
            subprocess.run(cmd, env=env, capture_output=True, stdin=subprocess.DEVNULL, timeout=900)
    if not shutil.which("go"):
        raise SystemExit("chaos: the clientv3 workers need Go and etcd's client sources (Debian: apt-get install "
                         "-y golang-go golang-etcd-server-dev); or run with --clientv3-workers 0")
    if not os.access(BINARY, os.X_OK) or os.path.getmtime(BINARY) < _newest_source_mtime():
        log("building clientv3-worker (Go, clientv3 from golang-etcd-server-dev)...")
        os.makedirs(os.path.dirname(BINARY), exist_ok=True)
        env = dict(os.environ, GO111MODULE="off", GOPATH=GOPATH, GOFLAGS="", GOPROXY="off",
                   GOCACHE=os.path.join(ROOT, ".build-chaos", "gocache"))
        subprocess.run(["go", "build", "-o", BINARY + ".tmp", "."], cwd=SOURCE, env=env, check=True)
        os.replace(BINARY + ".tmp", BINARY)
    version = subprocess.run(["go", "version"], capture_output=True, text=True).stdout.strip()
    return f"etcd clientv3 ({GOPATH}), {version}"
