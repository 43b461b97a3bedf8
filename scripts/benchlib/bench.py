#!/usr/bin/env python3
"""Side-by-side benchmark of a 3-node Roster and a 3-node etcd on loopback (driven by scripts/bench).

Runs one system after the other with the same settings (heartbeat 100 ms, election 1 s, fsync on every
write, data on the same disk), drives both with the same workload through their load generators
(roster-bench for Roster, etcd-loadgen on etcd's clientv3 for etcd; same modes, flags and JSON output),
samples each server's CPU time and RSS from /proc, and writes results.json and results.md.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")
STARTED = []  # every server process this run started, so exit can stop exactly those


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def http(method, url, body=None, timeout=2.0):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (OSError, urllib.error.URLError):
        return None, b""


def port_free(port):
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def proc_cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def proc_rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


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
    """Three local server processes; subclasses say how to start one and how to ask about it."""

    system = "?"

    def __init__(self, root, base_port):
        self.root = root
        self.nodes = [
            Node(f"n{i + 1}", base_port + 2 * i, base_port + 2 * i + 1,
                 os.path.join(root, f"n{i + 1}"), os.path.join(root, f"n{i + 1}.log"))
            for i in range(3)
        ]

    def endpoints(self, nodes=None):
        return ",".join(node.endpoint for node in (nodes or self.nodes))

    def start_node(self, node):
        os.makedirs(node.data_dir, mode=0o700, exist_ok=True)
        with open(node.log_path, "ab") as log_file:
            node.process = subprocess.Popen(self.command(node), stdout=log_file, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        STARTED.append(node.process)

    def start(self):
        for node in self.nodes:
            for port in (node.client_port, node.peer_port):
                if not port_free(port):
                    raise SystemExit(f"bench: port {port} is in use; is another benchmark running?")
        for node in self.nodes:
            self.start_node(node)
        self.wait_ready(self.nodes, 30)
        self.wait_leader(15)

    def wait_ready(self, nodes, limit):
        deadline = time.monotonic() + limit
        pending = list(nodes)
        while pending and time.monotonic() < deadline:
            for node in list(pending):
                if not node.alive:
                    raise SystemExit(f"bench: {self.system} {node.name} exited; see {node.log_path}")
                if self.ready(node):
                    pending.remove(node)
            if pending:
                time.sleep(0.02)
        if pending:
            raise SystemExit(f"bench: {self.system} not ready after {limit}s: {[n.name for n in pending]}")

    def wait_leader(self, limit):
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            leader = self.leader()
            if leader is not None:
                return leader
            time.sleep(0.05)
        raise SystemExit(f"bench: {self.system} has no leader after {limit}s")

    def followers(self):
        leader = self.wait_leader(15)
        return leader, [node for node in self.nodes if node is not leader and node.alive]

    def kill(self, node, sig=signal.SIGKILL):
        if node.alive:
            node.process.send_signal(sig)
            try:
                node.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                node.process.kill()
                node.process.wait(timeout=10)

    def stop(self):
        for node in self.nodes:
            self.kill(node, signal.SIGTERM)

    def cpu(self):
        return sum(proc_cpu_seconds(node.process.pid) for node in self.nodes if node.alive)

    def rss(self):
        return [round(proc_rss_mib(node.process.pid), 1) for node in self.nodes if node.alive]


class RosterCluster(Cluster):
    system = "roster"

    def __init__(self, root, base_port, binary):
        super().__init__(root, base_port)
        self.binary = binary

    def command(self, node):
        initial = ",".join(f"{n.name}=127.0.0.1:{n.peer_port}" for n in self.nodes)
        return [self.binary, "--name", node.name, "--data-dir", node.data_dir,
                "--client-addr", node.endpoint, "--peer-addr", f"127.0.0.1:{node.peer_port}",
                "--initial-cluster", initial, "--heartbeat-ms", "100", "--election-ms", "1000",
                "--log-level", "warning"]

    def ready(self, node):
        status, _ = http("GET", f"http://{node.endpoint}/readyz", timeout=0.5)
        return status == 200

    def answering(self, node):
        return http("GET", f"http://{node.endpoint}/healthz", timeout=0.5)[0] is not None

    def leader(self):
        for node in self.nodes:
            if not node.alive:
                continue
            status, body = http("GET", f"http://{node.endpoint}/v1/cluster/status", timeout=0.5)
            if status == 200 and json.loads(body).get("role") == "leader":
                return node
        return None

    def version(self):
        return "roster " + git_describe()


class RosterEtcdCluster(RosterCluster):
    """Roster driven through its etcd v3 API by the very load generator that drives etcd."""
    system = "roster-etcd"


class EtcdCluster(Cluster):
    system = "etcd"

    def command(self, node):
        initial = ",".join(f"{n.name}=http://127.0.0.1:{n.peer_port}" for n in self.nodes)
        return ["etcd", "--name", node.name, "--data-dir", node.data_dir,
                "--listen-client-urls", f"http://{node.endpoint}", "--advertise-client-urls", f"http://{node.endpoint}",
                "--listen-peer-urls", f"http://127.0.0.1:{node.peer_port}",
                "--initial-advertise-peer-urls", f"http://127.0.0.1:{node.peer_port}",
                "--initial-cluster", initial, "--initial-cluster-token", "roster-bench",
                "--initial-cluster-state", "new", "--heartbeat-interval", "100", "--election-timeout", "1000",
                "--logger", "zap", "--log-level", "warn"]

    def ready(self, node):
        status, body = http("GET", f"http://{node.endpoint}/health", timeout=0.5)
        return status == 200 and b'"true"' in body

    def answering(self, node):
        return http("GET", f"http://{node.endpoint}/version", timeout=0.5)[0] is not None

    def member_status(self, node):
        status, body = http("POST", f"http://{node.endpoint}/v3/maintenance/status", {}, timeout=0.5)
        return json.loads(body) if status == 200 else None

    def leader(self):
        for node in self.nodes:
            if not node.alive:
                continue
            answer = self.member_status(node)
            if answer and answer.get("leader") and answer["leader"] == answer.get("header", {}).get("member_id"):
                return node
        return None

    def version(self):
        output = subprocess.run(["etcd", "--version"], capture_output=True, text=True).stdout
        return "etcd " + output.split("\n")[0].split(":")[-1].strip()


def git_describe():
    here = os.path.dirname(os.path.abspath(__file__))
    result = subprocess.run(["git", "-C", here, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return result.stdout.strip() or "unknown"


class Runner:
    def __init__(self, cluster, loadgen, settings):
        self.cluster, self.loadgen, self.settings = cluster, loadgen, settings
        self.results = {}

    def run_loadgen(self, args, limit):
        command = [self.loadgen] + [str(arg) for arg in args]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=limit)
        except subprocess.TimeoutExpired:
            log(f"{self.cluster.system}: load generator timed out: {' '.join(command)}")
            return {"error": "timeout"}
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode != 0 or not lines:
            log(f"{self.cluster.system}: load generator failed ({done.returncode}): {done.stderr.strip()[-500:]}")
            return {"error": done.stderr.strip()[-500:] or f"exit {done.returncode}"}
        return json.loads(lines[-1])

    def measured(self, args, limit):
        """A load-generator run with the servers' CPU seconds per 1,000 operations added."""
        cpu_before = self.cluster.cpu()
        result = self.run_loadgen(args, limit)
        cpu = self.cluster.cpu() - cpu_before
        result["server_cpu_s"] = round(cpu, 3)
        if result.get("ops"):
            result["cpu_s_per_1k_ops"] = round(cpu / result["ops"] * 1000, 4)
        return result

    def record(self, name, result):
        self.results[name] = result
        brief = {k: result.get(k) for k in ("ops_per_sec", "p50_ms", "p99_ms", "errors", "cpu_s_per_1k_ops",
                                             "events", "missing_events", "seconds", "last_error") if k in result}
        log(f"{self.cluster.system} {name}: {brief}")

    def failover(self, how, count):
        """Kills (or freezes) the leader during steady writes through all nodes; time to the next success."""
        s, cluster = self.settings, self.cluster
        trials = []
        for trial in range(count):
            cluster.wait_ready(cluster.nodes, 120)
            cluster.wait_leader(15)
            time.sleep(1)  # let a restarted member settle, so the leader found below is the one killed
            mark = time.monotonic_ns() + int(s["failover_s"] / 3 * 1e9)
            command = [self.loadgen, "--mode", "failover", "--endpoints", cluster.endpoints(), "--clients", 16,
                       "--duration", s["failover_s"], "--timeout-ms", s["failover_timeout_ms"], "--service", f"fail{how}{trial}",
                       "--mark-ns", mark]
            process = subprocess.Popen([str(arg) for arg in command], stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)
            while time.monotonic_ns() < mark - 200_000_000:
                time.sleep(0.05)
            leader = cluster.wait_leader(5)  # asked just before the kill
            while time.monotonic_ns() < mark:
                time.sleep(max(0.0, min(0.01, (mark - time.monotonic_ns()) / 1e9)))
            killed_at = time.monotonic_ns()
            if how == signal.SIGKILL:
                cluster.kill(leader)
            else:
                leader.process.send_signal(signal.SIGSTOP)
            try:
                stdout, stderr = process.communicate(timeout=s["failover_s"] + 60)
            except subprocess.TimeoutExpired:
                process.kill()
                stdout, stderr = process.communicate()
            lines = [line for line in stdout.splitlines() if line.startswith("{")]
            outcome = json.loads(lines[-1]) if lines else {"error": stderr[-300:]}
            # Time from the kill to the first success of a write that began after it.
            recovered = outcome.get("recovered_ns") or 0
            recovery = round((recovered - mark) / 1e9, 3) if recovered > mark else None
            new_leader = cluster.wait_leader(15)
            nearby = [gap for gap in outcome.get("gaps_ns", []) if abs(gap[0] - killed_at) < 5e9]
            trials.append({"recovery_s": recovery, "killed": leader.name, "new_leader": new_leader.name,
                           "ops": outcome.get("ops"), "errors": outcome.get("errors"),
                           "mark_ns": mark, "killed_at_ns": killed_at, "gaps_near_kill_ns": nearby,
                           "last_error": outcome.get("last_error")})
            log(f"{cluster.system} failover ({signal.Signals(how).name}) trial {trial + 1}: "
                f"recovery {recovery} s, {leader.name} -> {new_leader.name}")
            if how != signal.SIGKILL:
                cluster.kill(leader)
            cluster.start_node(leader)
            cluster.wait_ready(cluster.nodes, 120)
        return trials

    def run_all(self):
        s, cluster = self.settings, self.cluster
        log(f"{cluster.system}: starting 3 nodes")
        started = time.monotonic()
        cluster.start()
        self.results["cluster_start_s"] = round(time.monotonic() - started, 2)
        time.sleep(2)
        self.results["rss_idle_mib"] = cluster.rss()
        leader, followers = cluster.followers()

        for clients in s["clients"]:
            for via in ("leader", "all"):
                endpoints = leader.endpoint if via == "leader" else cluster.endpoints()
                result = self.measured(["--mode", "put", "--endpoints", endpoints, "--clients", clients,
                                        "--duration", s["phase_s"], "--ttl", 60, "--service", f"reg{clients}{via}"],
                                       s["phase_s"] + 60)
                self.record(f"put_{via}_{clients}", result)
                leader, followers = cluster.followers()

        # Read targets: one instance, and one service of 100 instances (leases long enough to outlive the run).
        for service, count in (("bench", 1), ("bench100", 100)):
            self.run_loadgen(["--mode", "populate", "--endpoints", leader.endpoint, "--service", service,
                              "--count", count, "--clients", 4, "--lease-every", 100, "--ttl", 3600], 120)
        for target, service in (("instance", "bench"), ("service", "bench100")):
            for consistency in ("linearizable", "serializable"):
                result = self.measured(["--mode", "get", "--endpoints", cluster.endpoints(), "--clients", s["read_clients"],
                                        "--duration", s["phase_s"], "--target", target, "--service", service,
                                        "--consistency", consistency], s["phase_s"] + 60)
                self.record(f"get_{target}_{consistency}", result)

        leader, followers = cluster.followers()
        for watchers in (1, s["many_watchers"]):
            # Both sides carry up to 100 watches per client connection: etcd's loadgen puts 100 `Watch` calls
            # on each clientv3.Client, roster-bench 100 watches on each POST /v1/watch stream.
            layout = ["--watches-per-connection", WATCHES_PER_CONNECTION] if cluster.system == "roster" else []
            result = self.run_loadgen(["--mode", "watch", "--write-endpoint", leader.endpoint,
                                       "--watch-endpoint", followers[0].endpoint, "--watchers", watchers,
                                       "--duration", s["watch_s"], "--rate", s["watch_rate"],
                                       "--service", f"watch{watchers}"] + layout, s["watch_s"] + 90)
            self.record(f"watch_{watchers}", result)

        leader, followers = cluster.followers()
        result = self.run_loadgen(["--mode", "expiry", "--write-endpoint", leader.endpoint,
                                   "--watch-endpoint", followers[0].endpoint, "--leases", s["expiry_leases"],
                                   "--ttl", 3, "--service", "expiry"], 60)
        self.record("lease_expiry", result)

        # Memory with many registered instances, each batch of `lease_every` sharing one lease.
        have = 0
        for target in s["instance_steps"]:
            result = self.measured(["--mode", "populate", "--endpoints", cluster.endpoints(), "--clients", 64,
                                    "--service", f"pop{target}", "--services", max(1, (target - have) // 5000 + 1),
                                    "--count", target - have, "--lease-every", s["lease_every"], "--ttl", 3600,
                                    "--duration", 900], 1200)
            have = target
            self.record(f"populate_to_{target}", result)
            time.sleep(2)
            self.results[f"rss_{target}_mib"] = cluster.rss()
            log(f"{cluster.system} RSS with {target} instances: {self.results[f'rss_{target}_mib']} MiB")

        # Restart-to-ready of a follower holding every instance (graceful stop, then start).
        leader, followers = cluster.followers()
        node = followers[0]
        cluster.kill(node, signal.SIGTERM)
        time.sleep(1)
        began = time.monotonic()
        cluster.start_node(node)
        answering = None
        deadline = began + 300
        while time.monotonic() < deadline and node.alive:
            if answering is None and cluster.answering(node):
                answering = round(time.monotonic() - began, 3)
            if cluster.ready(node):
                answering = answering if answering is not None else round(time.monotonic() - began, 3)
                break
            time.sleep(0.01)
        cluster.wait_ready([node], 10)
        self.results["restart_to_answering_s"] = answering
        self.results["restart_to_ready_s"] = round(time.monotonic() - began, 3)
        self.results["restart_instances"] = have
        log(f"{cluster.system} restart-to-ready with {have} instances: {self.results['restart_to_ready_s']} s")

        self.results["failover"] = self.failover(signal.SIGKILL, s["failover_trials"])
        # The same with the leader frozen (SIGSTOP): its sockets stay open, so only the election timeout helps.
        self.results["failover_frozen"] = self.failover(signal.SIGSTOP, s["frozen_trials"])
        self.results["version"] = cluster.version()
        cluster.stop()
        return self.results


def fmt(value, digits=1):
    if value is None:
        return "—"
    if isinstance(value, list):
        return "/".join(fmt(v, digits) for v in value)
    if isinstance(value, float) and abs(value) < 10 and digits == 1:
        return f"{value:.2f}"
    return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


def median(values):
    values = sorted(v for v in values if v is not None)
    return values[len(values) // 2] if values else None


def table(results, settings):
    """Markdown rows: metric, Roster, etcd, Roster/etcd, and which direction is better."""
    roster, via_etcd_api, etcd = results.get("roster", {}), results.get("roster-etcd", {}), results.get("etcd", {})
    rows = []

    def ratio(a, b):
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b:
            return f"{a / b:.2f}×"
        return "—"

    def row(label, get, better):
        a, c, b = get(roster), get(via_etcd_api), get(etcd)
        rows.append(f"| {label} | {fmt(a)} | {fmt(c)} | {fmt(b)} | {ratio(a, b)} | {ratio(c, b)} | {better} |")

    def field(phase, key):
        return lambda r: r.get(phase, {}).get(key)

    for clients in settings["clients"]:
        for via in ("leader", "all"):
            phase = f"put_{via}_{clients}"
            where = "leader" if via == "leader" else "all nodes"
            row(f"Register with lease, {clients} client{'s' if clients > 1 else ''} via {where}: ops/s",
                field(phase, "ops_per_sec"), "higher")
            row("&nbsp;&nbsp;p50 / p99 latency ms", lambda r, p=phase: [r.get(p, {}).get("p50_ms"), r.get(p, {}).get("p99_ms")]
                if r.get(p) else None, "lower")
            row("&nbsp;&nbsp;server CPU s per 1,000 ops (3 nodes)", field(phase, "cpu_s_per_1k_ops"), "lower")
    for target, label in (("instance", "one instance"), ("service", "100-instance service")):
        for consistency in ("linearizable", "serializable"):
            phase = f"get_{target}_{consistency}"
            row(f"Read {label}, {consistency}, {settings['read_clients']} clients all nodes: ops/s",
                field(phase, "ops_per_sec"), "higher")
            row("&nbsp;&nbsp;p50 / p99 latency ms", lambda r, p=phase: [r.get(p, {}).get("p50_ms"), r.get(p, {}).get("p99_ms")]
                if r.get(p) else None, "lower")
            row("&nbsp;&nbsp;server CPU s per 1,000 ops", field(phase, "cpu_s_per_1k_ops"), "lower")
    for watchers in (1, settings["many_watchers"]):
        phase = f"watch_{watchers}"
        row(f"Watch latency, ack → event on a follower, {watchers:,} watcher{'s' if watchers > 1 else ''}: p50 ms",
            field(phase, "p50_ms"), "lower")
        row("&nbsp;&nbsp;p99 ms", field(phase, "p99_ms"), "lower")
    row(f"Failover: kill -9 leader → first success of a write begun after it (16 clients, all nodes, "
        f"{settings['failover_timeout_ms']} ms client timeout), median s", lambda r: median(
        [t["recovery_s"] for t in r.get("failover", [])]), "lower")
    row("&nbsp;&nbsp;each trial s", lambda r: [t["recovery_s"] for t in r.get("failover", [])] or None, "lower")
    row("Failover, leader frozen (SIGSTOP) → writes succeed again, median s", lambda r: median(
        [t["recovery_s"] for t in r.get("failover_frozen", [])]), "lower")
    row("&nbsp;&nbsp;each trial s", lambda r: [t["recovery_s"] for t in r.get("failover_frozen", [])] or None, "lower")
    row("Lease expiry: TTL end → delete event, p50 ms", field("lease_expiry", "p50_ms"), "lower")
    row("&nbsp;&nbsp;max ms", field("lease_expiry", "max_ms"), "lower")
    row("RSS per node idle, MiB (n1/n2/n3)", lambda r: r.get("rss_idle_mib"), "lower")
    row("&nbsp;&nbsp;mean", lambda r: sum(r["rss_idle_mib"]) / 3 if r.get("rss_idle_mib") else None, "lower")
    for step in settings["instance_steps"]:
        row(f"RSS per node with {step:,} instances, MiB", lambda r, s=step: r.get(f"rss_{s}_mib"), "lower")
        row("&nbsp;&nbsp;mean", lambda r, s=step: sum(r[f"rss_{s}_mib"]) / 3 if r.get(f"rss_{s}_mib") else None, "lower")
        row(f"&nbsp;&nbsp;bulk registration to {step:,}: ops/s (64 clients, all nodes)",
            field(f"populate_to_{step}", "ops_per_sec"), "higher")
    row(f"Restart-to-ready of a follower holding {settings['instance_steps'][-1]:,} instances, s",
        lambda r: r.get("restart_to_ready_s"), "lower")
    row("&nbsp;&nbsp;of which until its HTTP port answers, s", lambda r: r.get("restart_to_answering_s"), "lower")
    head = ["| Metric | Roster (HTTP API, roster-bench) | Roster (etcd API, etcd-loadgen) | etcd (etcd-loadgen) "
            "| Roster HTTP ÷ etcd | Roster etcd API ÷ etcd | better |",
            "|---|---:|---:|---:|---:|---:|---|"]
    return "\n".join(head + rows)


# Watches per client connection in the watch phases, etcd's loadgen layout (100 `Watch` calls per client).
WATCHES_PER_CONNECTION = 100


def machine():
    memory = 0
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) / 1024 / 1024
    model = ""
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    swift = subprocess.run(["swift", "--version"], capture_output=True, text=True)
    swift_version = (swift.stdout or swift.stderr).splitlines()[0] if (swift.stdout or swift.stderr) else "?"
    go = subprocess.run(["go", "version"], capture_output=True, text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "memory_gib": round(memory, 1), "cpu": model, "kernel": platform.release(),
            "swift": swift_version, "go": go, "disk": disk_of(os.getcwd())}


def disk_of(path):
    result = subprocess.run(["df", "-T", path], capture_output=True, text=True).stdout.splitlines()
    return " ".join(result[-1].split()[:2]) if len(result) > 1 else "?"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", choices=["roster", "roster-etcd", "etcd"])
    parser.add_argument("--out", required=True)
    parser.add_argument("--roster-bin", required=True)
    parser.add_argument("--roster-bench", required=True)
    parser.add_argument("--etcd-loadgen", required=True)
    parser.add_argument("--etcd-client", default="etcd-loadgen (Go, clientv3; watches: 100 `Watch` calls per client)")
    args = parser.parse_args()

    if args.quick:
        settings = {"phase_s": 4, "clients": [16], "read_clients": 16, "watch_s": 3, "watch_rate": 20,
                    "many_watchers": 1000, "expiry_leases": 3, "instance_steps": [10_000], "lease_every": 10,
                    "failover_trials": 1, "frozen_trials": 1, "failover_s": 6,
                    "failover_timeout_ms": 1000}
    else:
        settings = {"phase_s": 10, "clients": [1, 16, 64], "read_clients": 16, "watch_s": 10, "watch_rate": 20,
                    "many_watchers": 1000, "expiry_leases": 5, "instance_steps": [10_000, 100_000],
                    "lease_every": 1, "failover_trials": 5, "frozen_trials": 3, "failover_s": 9,
                    "failover_timeout_ms": 1000}
    os.makedirs(args.out, exist_ok=True)
    results = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               "quick": args.quick, "settings": settings, "machine": machine(),
               "clients": {"roster": "roster-bench (Swift, release, blocking keep-alive HTTP/1.1, one connection per client; "
                                     f"watches: {WATCHES_PER_CONNECTION} per POST /v1/watch stream)",
                           "etcd": args.etcd_client}}
    # The same etcd load generator binary drives etcd and Roster's etcd API, so those two columns compare
    # servers alone; the first column is Roster's own HTTP API with its own client.
    systems = [("roster", lambda: RosterCluster(os.path.join(args.out, "roster"), 31379, args.roster_bin), args.roster_bench),
               ("roster-etcd", lambda: RosterEtcdCluster(os.path.join(args.out, "roster-etcd"), 33379, args.roster_bin),
                args.etcd_loadgen),
               ("etcd", lambda: EtcdCluster(os.path.join(args.out, "etcd"), 32379), args.etcd_loadgen)]
    json_path = os.path.join(args.out, "results.json")
    for name, make, loadgen in systems:
        if args.only and args.only != name:
            continue
        cluster = make()
        try:
            results[name] = Runner(cluster, loadgen, settings).run_all()
        finally:
            cluster.stop()
            for node in cluster.nodes:
                shutil.rmtree(node.data_dir, ignore_errors=True)
        with open(json_path, "w") as handle:
            json.dump(results, handle, indent=2)

    m = results["machine"]
    header = (f"Roster vs etcd, 3 nodes each on loopback — {results['date']}{' (--quick)' if args.quick else ''}\n\n"
              f"Machine: {m['nproc']} cores ({m['cpu']}), {m['memory_gib']} GiB, Linux {m['kernel']}, data on {m['disk']}. "
              f"Versions: {results.get('roster', {}).get('version', 'roster')}, {results.get('etcd', {}).get('version', 'etcd')}, "
              f"{m['swift']}, {m['go']}.\n"
              f"Settings: heartbeat 100 ms, election 1 s, every write fsynced; ~{200}-byte instance record with a lease; "
              f"{settings['phase_s']} s per throughput phase.\n"
              f"Clients: Roster — {results['clients']['roster']}; etcd — {results['clients']['etcd']}.\n")
    markdown = header + "\n" + table(results, settings) + "\n"
    with open(os.path.join(args.out, "results.md"), "w") as handle:
        handle.write(markdown)
    with open(json_path, "w") as handle:
        json.dump(results, handle, indent=2)
    print(markdown)
    print(f"raw figures: {json_path}")


def stop_everything(*_):
    for process in STARTED:
        if process.poll() is None:
            process.kill()
    sys.exit(1)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, stop_everything)
    signal.signal(signal.SIGINT, stop_everything)
    try:
        main()
    finally:
        for process in STARTED:
            if process.poll() is None:
                process.kill()
