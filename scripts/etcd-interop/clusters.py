"""Three-node etcd 3.4 and Roster clusters on loopback for the interop checks (stdlib only).

Each cluster picks free ports, keeps its data and logs in one folder, reports the PID of each member (so a
check can kill the leader with SIGKILL) and stops every member it started.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from loopback_ports import free_ports  # noqa: E402


def http_get(url, timeout=0.5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, b""
    except Exception:
        return None, b""


class Node:
    def __init__(self, name, client_port, peer_port, data_dir, log_path):
        self.name, self.client_port, self.peer_port = name, client_port, peer_port
        self.data_dir, self.log_path = data_dir, log_path
        self.process = None

    @property
    def endpoint(self):
        return f"127.0.0.1:{self.client_port}"

    @property
    def alive(self):
        return self.process is not None and self.process.poll() is None


class Cluster:
    system = "?"

    def __init__(self, root, size=3):
        self.root = root
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(root)
        ports = free_ports(2 * size)
        self.nodes = [Node(f"n{i + 1}", ports[2 * i], ports[2 * i + 1], os.path.join(root, f"n{i + 1}.data"),
                           os.path.join(root, f"n{i + 1}.log")) for i in range(size)]

    def command(self, node):
        raise NotImplementedError

    def ready(self, node):
        raise NotImplementedError

    def start(self, limit=60):
        for node in self.nodes:
            log = open(node.log_path, "ab")
            node.process = subprocess.Popen(self.command(node), stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
            log.close()
        deadline = time.monotonic() + limit
        pending = list(self.nodes)
        while pending:
            for node in list(pending):
                if not node.alive:
                    raise RuntimeError(f"{self.system} {node.name} exited during start-up; see {node.log_path}:\n"
                                       + self.log_tail(node))
                if self.ready(node):
                    pending.remove(node)
            if pending and time.monotonic() > deadline:
                raise RuntimeError(f"{self.system}: {', '.join(n.name for n in pending)} not ready after {limit}s;"
                                   f" logs in {self.root}")
            if pending:
                time.sleep(0.05)

    def log_tail(self, node, lines=20):
        try:
            with open(node.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-lines:]).decode(errors="replace")
        except OSError:
            return ""

    stop_signal = signal.SIGTERM

    def stop(self, grace=3):
        for node in self.nodes:
            if node.alive:
                try:
                    os.killpg(node.process.pid, self.stop_signal)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace
        for node in self.nodes:
            if node.process is None:
                continue
            try:
                node.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(node.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                node.process.wait(timeout=10)

    @property
    def endpoints(self):
        return [node.endpoint for node in self.nodes]

    def pids(self):
        return {node.endpoint: node.process.pid for node in self.nodes if node.alive}

    def describe(self):
        return {"system": self.system, "nodes": [{"name": n.name, "client": n.endpoint,
                                                   "peer": f"127.0.0.1:{n.peer_port}"} for n in self.nodes]}


class EtcdCluster(Cluster):
    system = "etcd"
    stop_signal = signal.SIGKILL     # a stopping etcd member hands leadership over first; nothing here needs that

    def command(self, node):
        initial = ",".join(f"{n.name}=http://127.0.0.1:{n.peer_port}" for n in self.nodes)
        return ["etcd", "--name", node.name, "--data-dir", node.data_dir,
                "--listen-client-urls", f"http://{node.endpoint}", "--advertise-client-urls", f"http://{node.endpoint}",
                "--listen-peer-urls", f"http://127.0.0.1:{node.peer_port}",
                "--initial-advertise-peer-urls", f"http://127.0.0.1:{node.peer_port}",
                "--initial-cluster", initial, "--initial-cluster-token", "roster-interop",
                "--initial-cluster-state", "new", "--heartbeat-interval", "100", "--election-timeout", "1000",
                "--logger", "zap", "--log-level", "warn"]

    def ready(self, node):
        status, body = http_get(f"http://{node.endpoint}/health")
        return status == 200 and b'"true"' in body


class RosterCluster(Cluster):
    system = "roster"

    def __init__(self, root, binary, size=3):
        super().__init__(root, size)
        self.binary = binary

    def command(self, node):
        initial = ",".join(f"{n.name}=127.0.0.1:{n.peer_port}" for n in self.nodes)
        return [self.binary, "--name", node.name, "--data-dir", node.data_dir,
                "--client-addr", node.endpoint, "--peer-addr", f"127.0.0.1:{node.peer_port}",
                "--initial-cluster", initial, "--heartbeat-ms", "100", "--election-ms", "1000",
                "--etcd-layout", "kratos=/microservices,kitex=kitex/registry-etcd"]

    def ready(self, node):
        return http_get(f"http://{node.endpoint}/readyz")[0] == 200
