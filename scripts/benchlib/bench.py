#!/usr/bin/env python3
"""Side-by-side benchmark of a 3-node Roster and a 3-node etcd on loopback (driven by scripts/bench).

Runs one system after the other with the same settings (heartbeat 100 ms, election 1 s, fsync on every
write, data on the same disk), drives both with the same workload through their load generators
(roster-bench for Roster, etcd-loadgen on etcd's clientv3 for etcd; same modes, flags and JSON output),
samples each server's CPU time and RSS from /proc, and writes results.json and results.md.
With --tls it runs Roster's etcd API and etcd each in plaintext and with TLS (see TlsMaterial).
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

from machine_load import LoadProbe
from tls_overhead import overhead_table

CLK_TCK = os.sysconf("SC_CLK_TCK")
STARTED = []  # every server process this run started, so exit can stop exactly those


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def http(method, url, body=None, timeout=2.0, context=None):
    """One request; `context` (an ssl.SSLContext) for https:// URLs."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
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


def thread_cpu_seconds(pid):
    """CPU seconds (user + system) of each thread of a process, by thread name (/proc/<pid>/task/*/stat);
    threads of one name are summed, so the Raft loop (the process's name), the client I/O threads
    (roster-io-N) and the others (snapshot workers) show apart."""
    seconds = {}
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return seconds
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/stat") as handle:
                text = handle.read()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        seconds[name] = seconds.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / CLK_TCK
    return seconds


def proc_rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class TlsMaterial:
    """A throwaway CA, one certificate per member name (CN roster-member, for 127.0.0.1 and localhost) and a
    client certificate (CN roster-client), made by scripts/tls-certs in `directory`. Roster and etcd get the
    very same files and flags: HTTPS/gRPC on the client port with a client certificate required, mutual TLS
    between members with the member CN required (scripts/tls-check and scripts/cluster up --tls use this set)."""

    MEMBER_CN = "roster-member"

    def __init__(self, directory, member_names):
        self.directory = directory
        certs = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tls-certs")
        steps = [["ca"]] + [["leaf", name, self.MEMBER_CN] for name in member_names] + \
            [["leaf", "client", "roster-client"]]
        for step in steps:
            done = subprocess.run([certs, directory] + step, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"bench: tls-certs {' '.join(step)} failed: {done.stderr.strip()}")
        self.context = ssl.create_default_context(cafile=self.pem("ca"))
        self.context.load_cert_chain(self.pem("client"), self.key("client"))

    def pem(self, name):
        return os.path.join(self.directory, f"{name}.pem")

    def key(self, name):
        return os.path.join(self.directory, f"{name}.key")

    def server_flags(self, name):
        """etcd's flag names, which Roster shares."""
        return ["--cert-file", self.pem(name), "--key-file", self.key(name), "--trusted-ca-file", self.pem("ca"),
                "--client-cert-auth",
                "--peer-cert-file", self.pem(name), "--peer-key-file", self.key(name),
                "--peer-trusted-ca-file", self.pem("ca"), "--peer-client-cert-auth",
                "--peer-cert-allowed-cn", self.MEMBER_CN]

    def loadgen_flags(self):
        return ["--cacert", self.pem("ca"), "--cert", self.pem("client"), "--key", self.key("client")]


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
    """Local server processes (three, or one with --single-member); subclasses say how to start one and how
    to ask about it."""

    system = "?"

    def __init__(self, root, base_port, size=3, tls=None):
        self.root = root
        self.tls = tls  # a TlsMaterial, or None for plaintext
        self.nodes = [
            Node(f"n{i + 1}", base_port + 2 * i, base_port + 2 * i + 1,
                 os.path.join(root, f"n{i + 1}"), os.path.join(root, f"n{i + 1}.log"))
            for i in range(size)
        ]

    def endpoints(self, nodes=None):
        return ",".join(node.endpoint for node in (nodes or self.nodes))

    def url(self, node, path):
        return f"{'https' if self.tls else 'http'}://{node.endpoint}{path}"

    def get(self, node, path, body=None):
        """An HTTP probe of one node (readiness, leader), over TLS with the client certificate when the
        cluster runs TLS; a POST when there is a body."""
        return http("GET" if body is None else "POST", self.url(node, path), body, timeout=0.5,
                    context=self.tls.context if self.tls else None)

    def loadgen_flags(self):
        """What the etcd load generator needs to reach this cluster (nothing in plaintext); roster-bench
        drives only plaintext clusters."""
        return self.tls.loadgen_flags() if self.tls else []

    def start_node(self, node):
        os.makedirs(node.data_dir, mode=0o700, exist_ok=True)
        with open(node.log_path, "ab") as log_file:
            node.process = subprocess.Popen(self.command(node), stdout=log_file, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        STARTED.append(node.process)

    def start(self):
        # Every system's ports sit below Linux's ephemeral range (32768–60999), where no client connection can hold
        # one as its local port (a run stopped on 33382 twice, when roster-etcd used 33379–33384); a port just
        # released may still be settling, so wait a little before calling it taken.
        deadline = time.monotonic() + 30
        for node in self.nodes:
            for port in (node.client_port, node.peer_port):
                while not port_free(port):
                    if time.monotonic() > deadline:
                        raise SystemExit(f"bench: port {port} is in use; is another benchmark running?")
                    time.sleep(0.2)
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

    def agreed_leader(self, limit, excluding=None):
        """The leader every live member names, in one term, and that term: what a failover trial kills or freezes, so
        that a trial never starts from a leader that already lost its place (one in about 30 trials did, on either
        system, and recovered within milliseconds because nothing had failed)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            views = {node.name: self.leadership(node) for node in self.nodes if node.alive and node is not excluding}
            if views and None not in views.values() and len({(leader, term) for leader, term, _ in views.values()}) == 1:
                leader, term, _ = next(iter(views.values()))
                for node in self.nodes:
                    if node.name in views and views[node.name][2] == leader:
                        return node, term
            time.sleep(0.02)
        raise SystemExit(f"bench: {self.system}'s members do not agree on a leader after {limit}s")

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

    def thread_cpu(self):
        """CPU seconds per thread name, summed over the nodes (see thread_cpu_seconds)."""
        total = {}
        for node in self.nodes:
            if node.alive:
                for name, seconds in thread_cpu_seconds(node.process.pid).items():
                    total[name] = total.get(name, 0.0) + seconds
        return total

    def rss(self):
        return [round(proc_rss_mib(node.process.pid), 1) for node in self.nodes if node.alive]


class RosterCluster(Cluster):
    system = "roster"

    def __init__(self, root, base_port, binary, size=3, extra_flags=(), tls=None):
        super().__init__(root, base_port, size, tls)
        self.binary = binary
        self.extra_flags = list(extra_flags)

    def command(self, node):
        initial = ",".join(f"{n.name}=127.0.0.1:{n.peer_port}" for n in self.nodes)
        return [self.binary, "--name", node.name, "--data-dir", node.data_dir,
                "--client-addr", node.endpoint, "--peer-addr", f"127.0.0.1:{node.peer_port}",
                "--initial-cluster", initial, "--heartbeat-ms", "100", "--election-ms", "1000",
                "--log-level", "warning"] + self.extra_flags + (self.tls.server_flags(node.name) if self.tls else [])

    def ready(self, node):
        status, _ = self.get(node, "/readyz")
        return status == 200

    def answering(self, node):
        return self.get(node, "/healthz")[0] is not None

    def leader(self):
        for node in self.nodes:
            if not node.alive:
                continue
            status, body = self.get(node, "/v1/cluster/status")
            if status == 200 and json.loads(body).get("role") == "leader":
                return node
        return None

    def leadership(self, node):
        """(the leader this member names, its term, the member's own name), or None."""
        status, body = self.get(node, "/v1/cluster/status")
        if status != 200:
            return None
        answer = json.loads(body)
        return answer.get("leader"), int(answer.get("term", 0)), answer.get("name")

    def version(self):
        return "roster " + git_describe()


class RosterEtcdCluster(RosterCluster):
    """Roster driven through its etcd v3 API by the very load generator that drives etcd."""
    system = "roster-etcd"


class RosterEtcdTlsCluster(RosterCluster):
    """roster-etcd with TLS on the client and peer ports (--tls)."""
    system = "roster-etcd-tls"


class RosterBaselineCluster(RosterCluster):
    """Another Roster build (or the same one with other flags), interleaved with the first for before/after."""
    system = "roster-baseline"


class EtcdCluster(Cluster):
    system = "etcd"

    def command(self, node):
        scheme = "https" if self.tls else "http"
        initial = ",".join(f"{n.name}={scheme}://127.0.0.1:{n.peer_port}" for n in self.nodes)
        return ["etcd", "--name", node.name, "--data-dir", node.data_dir,
                "--listen-client-urls", self.url(node, ""), "--advertise-client-urls", self.url(node, ""),
                "--listen-peer-urls", f"{scheme}://127.0.0.1:{node.peer_port}",
                "--initial-advertise-peer-urls", f"{scheme}://127.0.0.1:{node.peer_port}",
                "--initial-cluster", initial, "--initial-cluster-token", "roster-bench",
                "--initial-cluster-state", "new", "--heartbeat-interval", "100", "--election-timeout", "1000",
                "--logger", "zap", "--log-level", "warn"] + (self.tls.server_flags(node.name) if self.tls else [])

    def ready(self, node):
        status, body = self.get(node, "/health")
        return status == 200 and b'"true"' in body

    def answering(self, node):
        return self.get(node, "/version")[0] is not None

    def member_status(self, node):
        status, body = self.get(node, "/v3/maintenance/status", {})
        return json.loads(body) if status == 200 else None

    def leadership(self, node):
        """(the leader this member names, its term, the member's own ID), or None."""
        answer = self.member_status(node)
        if not answer or not answer.get("leader"):
            return None
        header = answer.get("header", {})
        return answer["leader"], int(header.get("raft_term", 0)), header.get("member_id")

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


class EtcdTlsCluster(EtcdCluster):
    """etcd with TLS on the client and peer ports (--tls)."""
    system = "etcd-tls"


def git_describe():
    """The commit checked out when this run started (the binaries were built from it just before), not at the
    end of the run, when more commits may have landed."""
    global COMMIT_AT_START
    if COMMIT_AT_START is None:
        here = os.path.dirname(os.path.abspath(__file__))
        result = subprocess.run(["git", "-C", here, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        COMMIT_AT_START = result.stdout.strip() or "unknown"
    return COMMIT_AT_START


COMMIT_AT_START = None


class Runner:
    """Runs one system's phases. A round is one fresh cluster; `run_round` is called once per alternation."""

    def __init__(self, make_cluster, loadgen, settings):
        self.make_cluster, self.loadgen, self.settings = make_cluster, loadgen, settings
        self.cluster = None
        self.phases = {}
        self.results = {"rounds": [], "failover": [], "failover_frozen": []}

    def run_loadgen(self, args, limit):
        command = [self.loadgen] + [str(arg) for arg in args + self.cluster.loadgen_flags()]
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
        """A load-generator run with the servers' CPU seconds per 1,000 operations and the machine's
        foreign load (see machine_load) added."""
        probe = LoadProbe(self.cluster.cpu, self.cluster.root)
        probe.start()
        cpu_before = self.cluster.cpu()
        threads_before = self.cluster.thread_cpu()
        result = self.run_loadgen(args, limit)
        cpu = self.cluster.cpu() - cpu_before
        threads_after = self.cluster.thread_cpu()
        result["load"] = probe.finish()
        result["server_cpu_s"] = round(cpu, 3)
        result["thread_cpu_s"] = {name: round(seconds - threads_before.get(name, 0.0), 3)
                                  for name, seconds in sorted(threads_after.items())
                                  if seconds - threads_before.get(name, 0.0) > 0}
        if result.get("ops"):
            result["cpu_s_per_1k_ops"] = round(cpu / result["ops"] * 1000, 4)
            result["client_cpu_s_per_1k_ops"] = round(result["load"]["client_cpu_s"] / result["ops"] * 1000, 4)
        return result

    def record(self, name, result):
        self.phases[name] = result
        brief = {k: result.get(k) for k in ("ops_per_sec", "p50_ms", "p99_ms", "errors", "cpu_s_per_1k_ops",
                                             "thread_cpu_s", "events", "missing_events", "seconds", "last_error")
                 if k in result}
        if result.get("load", {}).get("foreign"):
            brief["foreign_load"] = result["load"]
        log(f"{self.cluster.system} {name}: {brief}")

    def start_cluster(self, label):
        self.cluster = self.make_cluster(label)
        log(f"{self.cluster.system} {label}: starting {len(self.cluster.nodes)} node(s)")
        started = time.monotonic()
        self.cluster.start()
        return time.monotonic() - started

    def stop_cluster(self):
        self.cluster.stop()
        for node in self.cluster.nodes:
            shutil.rmtree(node.data_dir, ignore_errors=True)

    def failover(self, how, count, label):
        """Kills (or freezes) the leader during steady writes through all nodes; time to the next success."""
        s, cluster = self.settings, self.cluster
        trials = []
        trial, attempts = 0, 0
        while trial < count:
            attempts += 1
            cluster.wait_ready(cluster.nodes, 120)
            cluster.wait_leader(15)
            time.sleep(1)  # let a restarted member settle, so the leader found below is the one killed
            mark = time.monotonic_ns() + int(s["failover_s"] / 3 * 1e9)
            command = [self.loadgen, "--mode", "failover", "--endpoints", cluster.endpoints(), "--clients", 16,
                       "--duration", s["failover_s"], "--timeout-ms", s["failover_timeout_ms"],
                       "--service", f"fail{how}{label}{trial}", "--mark-ns", mark] + cluster.loadgen_flags()
            process = subprocess.Popen([str(arg) for arg in command], stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)
            while time.monotonic_ns() < mark - 100_000_000:
                time.sleep(0.02)
            leader, term = cluster.agreed_leader(5)  # asked just before the kill
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
            new_leader, new_term = cluster.agreed_leader(15, excluding=leader)
            nearby = [gap for gap in outcome.get("gaps_ns", []) if abs(gap[0] - killed_at) < 5e9]
            record = {"recovery_s": recovery, "killed": leader.name, "new_leader": new_leader.name,
                      "term": term, "new_term": new_term, "round": label, "ops": outcome.get("ops"),
                      "errors": outcome.get("errors"), "mark_ns": mark, "killed_at_ns": killed_at,
                      "gaps_near_kill_ns": nearby, "last_error": outcome.get("last_error")}
            # A trial counts only if the members elected another leader in a later term: otherwise the member
            # stopped was not leading when it stopped, and nothing failed over. It is kept aside and run again.
            valid = new_leader is not leader and new_term > term
            log(f"{cluster.system} failover ({signal.Signals(how).name}) trial {label}.{trial + 1}: "
                f"recovery {recovery} s, {leader.name} (term {term}) -> {new_leader.name} (term {new_term})"
                + ("" if valid else ": no new leader in a later term, not counted; run again"))
            if valid or attempts > 3 * count:
                trials.append(dict(record, valid=valid))
                trial += 1
            else:
                self.results.setdefault("failover_not_counted", []).append(record)
            if how != signal.SIGKILL:
                cluster.kill(leader)
            cluster.start_node(leader)
            cluster.wait_ready(cluster.nodes, 120)
        return trials

    def run_round(self, number):
        """One alternation on a fresh cluster: reads first, on the same clean state for every system (only
        the read targets written), then registrations (via the leader first in odd rounds, via all nodes first in
        even ones), watches and this round's share of failover trials."""
        s = self.settings
        self.phases = {"cluster_start_s": round(self.start_cluster(f"round{number}"), 2)}
        cluster = self.cluster
        try:
            time.sleep(2)
            self.phases["rss_idle_mib"] = cluster.rss()
            leader, followers = cluster.followers()
            # Read targets: one instance, and one service of 100 instances (leases that outlive the run); only
            # those this run reads.
            read_services = {service for _, service in s["read_targets"]}
            for service, count in (("bench", 1), ("bench100", 100)):
                if service not in read_services:
                    continue
                self.run_loadgen(["--mode", "populate", "--endpoints", leader.endpoint, "--service", service,
                                  "--count", count, "--clients", 4, "--lease-every", 100, "--ttl", 3600], 120)
            for target, service in s["read_targets"]:
                for consistency in ("linearizable", "serializable"):
                    result = self.measured(["--mode", "get", "--endpoints", cluster.endpoints(), "--clients",
                                            s["read_clients"], "--duration", s["phase_s"], "--target", target,
                                            "--service", service, "--consistency", consistency], s["phase_s"] + 60)
                    self.record(f"get_{target}_{consistency}", result)

            # Each registration phase adds its writes to the state the next one starts from (and snapshots), so
            # via the leader and via all nodes take turns going first: neither always meets the larger state.
            vias = s["via"] if number % 2 == 1 else list(reversed(s["via"]))
            self.phases["via_order"] = ",".join(vias)
            for clients in s["clients"]:
                for via in vias:
                    leader, followers = cluster.followers()
                    endpoints = leader.endpoint if via == "leader" else cluster.endpoints()
                    result = self.measured(["--mode", "put", "--endpoints", endpoints, "--clients", clients,
                                            "--duration", s["phase_s"], "--ttl", 60, "--service", f"reg{clients}{via}"],
                                           s["phase_s"] + 60)
                    self.record(f"put_{via}_{clients}", result)

            # Registrations as service frameworks make them: each with a lease of its own (Roster: one PUT with
            # "ttl"; etcd: LeaseGrant, then Put under it). The TTL outlives the round, so no expiry runs meanwhile.
            for clients in s["ttl_clients"]:
                for via in vias:
                    leader, followers = cluster.followers()
                    endpoints = leader.endpoint if via == "leader" else cluster.endpoints()
                    result = self.measured(["--mode", "register-ttl", "--endpoints", endpoints, "--clients", clients,
                                            "--duration", s["phase_s"], "--ttl", 3600,
                                            "--service", f"ttl{clients}{via}"], s["phase_s"] + 60)
                    self.record(f"register_ttl_{via}_{clients}", result)

            for watchers in s["watchers"]:
                leader, followers = cluster.followers()
                # Both sides carry up to 100 watches per client connection: etcd's loadgen puts 100 `Watch`
                # calls on each clientv3.Client, roster-bench 100 watches on each POST /v1/watch stream.
                layout = ["--watches-per-connection", WATCHES_PER_CONNECTION] if cluster.system == "roster" else []
                result = self.measured(["--mode", "watch", "--write-endpoint", leader.endpoint,
                                        "--watch-endpoint", followers[0].endpoint, "--watchers", watchers,
                                        "--duration", s["watch_s"], "--rate", s["watch_rate"],
                                        "--service", f"watch{watchers}"] + layout, s["watch_s"] + 90)
                self.record(f"watch_{watchers}", result)

            self.results["rounds"].append(self.phases)
            self.results["failover"] += self.failover(signal.SIGKILL, s["failover_per_round"], number)
            # The same with the leader frozen (SIGSTOP): its sockets stay open, so only the election timeout helps.
            self.results["failover_frozen"] += self.failover(signal.SIGSTOP, s["frozen_per_round"], number)
            self.results["version"] = cluster.version()
        finally:
            self.stop_cluster()

    def run_capacity(self):
        """Once per system, on its own fresh cluster: lease expiry, memory with many instances, and a
        follower's restart-to-ready. These measure capacity, not a rate that machine noise swings."""
        s = self.settings
        self.phases = {}
        self.start_cluster("capacity")
        cluster = self.cluster
        try:
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
                self.phases[f"rss_{target}_mib"] = cluster.rss()
                log(f"{cluster.system} RSS with {target} instances: {self.phases[f'rss_{target}_mib']} MiB")

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
            self.phases["restart_to_answering_s"] = answering
            self.phases["restart_to_ready_s"] = round(time.monotonic() - began, 3)
            self.phases["restart_instances"] = have
            log(f"{cluster.system} restart-to-ready with {have} instances: {self.phases['restart_to_ready_s']} s")
            self.results["capacity"] = self.phases
        finally:
            self.stop_cluster()


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


def default_layout(results):
    """The usual columns (Roster HTTP, Roster etcd API or the baseline, etcd) and their ratios to etcd."""
    second = "roster-baseline" if "roster-baseline" in results else "roster-etcd"
    second_label = ("Roster baseline (HTTP API, roster-bench)", "Roster baseline ÷ etcd") if second == "roster-baseline" \
        else ("Roster (etcd API, etcd-loadgen)", "Roster etcd API ÷ etcd")
    columns = [("roster", "Roster (HTTP API, roster-bench)"), (second, second_label[0]), ("etcd", "etcd (etcd-loadgen)")]
    ratio_columns = [("roster", "etcd", "Roster HTTP ÷ etcd, median (range)"), (second, "etcd", second_label[1])]
    return columns, ratio_columns


# --tls: plaintext and TLS of each server, all four driven by etcd-loadgen; each TLS column against its own
# plaintext column (the overhead as a ratio), then the two TLS columns against each other.
TLS_LAYOUT = ([("roster-etcd", "Roster (etcd API)"), ("roster-etcd-tls", "Roster (etcd API), TLS"),
               ("etcd", "etcd"), ("etcd-tls", "etcd, TLS")],
              [("roster-etcd-tls", "roster-etcd", "Roster TLS ÷ plaintext, median (range)"),
               ("etcd-tls", "etcd", "etcd TLS ÷ plaintext"), ("roster-etcd-tls", "etcd-tls", "Roster TLS ÷ etcd TLS")])


def table(results, settings, layout=None):
    """Markdown rows: metric, one column per system, and the ratio columns.

    `layout` is ([(system, header)], [(numerator system, denominator system, header)]); by default the
    three usual columns and their ratios to etcd. A rate row's value is the median over the rounds; its
    ratio is the median of the per-round ratios (round i of one system against round i of the other, run
    back to back) with their range, so a reader sees how far machine noise moved it. † marks a row where
    some round ran under foreign load."""
    columns, ratio_columns = layout or default_layout(results)
    systems = [results.get(system, {}) for system, _ in columns]
    position = {system: index for index, (system, _) in enumerate(columns)}
    rows = []

    def value_median(values):
        values = [v for v in values if v is not None]
        if not values:
            return None
        if isinstance(values[0], list):
            return [median([v[i] for v in values]) for i in range(len(values[0]))]
        return median(values)

    def ratios(a_values, b_values):
        pairs = [(a, b) for a, b in zip(a_values, b_values)
                 if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b]
        if not pairs:
            return "—"
        each = sorted(a / b for a, b in pairs)
        if len(each) == 1:
            return f"{each[0]:.2f}×"
        return f"{median(each):.2f}× ({each[0]:.2f}–{each[-1]:.2f})"

    def round_row(label, phase, get, better):
        per_system = [[get(r.get(phase, {})) if r.get(phase) else None for r in system.get("rounds", [])]
                      for system in systems]
        foreign = any(r.get(phase, {}).get("load", {}).get("foreign") for system in systems
                      for r in system.get("rounds", []))
        cells = [fmt(value_median(values)) for values in per_system]
        # A row that is context, not a result (better "—"), gets no ratio.
        ratio_cells = [ratios(per_system[position[a]], per_system[position[b]]) if better != "—" else "—"
                       for a, b, _ in ratio_columns]
        rows.append(f"| {label}{' †' if foreign else ''} | {' | '.join(cells + ratio_cells)} | {better} |")

    def single_row(label, get, better):
        values = [get(system) for system in systems]
        ratio_cells = [ratios([values[position[a]]], [values[position[b]]]) for a, b, _ in ratio_columns]
        rows.append(f"| {label} | {' | '.join([fmt(v) for v in values] + ratio_cells)} | {better} |")

    def latency_rows(phase):
        round_row("&nbsp;&nbsp;p50 / p99 latency ms", phase, lambda r: [r.get("p50_ms"), r.get("p99_ms")], "lower")
        if settings.get("tls"):
            # The overhead table subtracts means; etcd-loadgen reports them (roster-bench does not).
            round_row("&nbsp;&nbsp;mean latency ms", phase, lambda r: r.get("mean_ms"), "lower")

    def client_rows(phase):
        # The load generator shares the machine: when the cores are all busy, the phase's rate is the machine's.
        round_row("&nbsp;&nbsp;load generator CPU s per 1,000 ops", phase, lambda r: r.get("client_cpu_s_per_1k_ops"), "—")
        round_row("&nbsp;&nbsp;cores busy, % of the machine", phase,
                  lambda r: None if r.get("load", {}).get("busy_share") is None else round(r["load"]["busy_share"] * 100, 1), "—")

    for target, service in settings["read_targets"]:
        label = "one instance" if target == "instance" else "100-instance service"
        for consistency in ("linearizable", "serializable"):
            phase = f"get_{target}_{consistency}"
            round_row(f"Read {label}, {consistency}, {settings['read_clients']} clients all nodes: ops/s", phase,
                      lambda r: r.get("ops_per_sec"), "higher")
            latency_rows(phase)
            round_row("&nbsp;&nbsp;server CPU s per 1,000 ops", phase, lambda r: r.get("cpu_s_per_1k_ops"), "lower")
            client_rows(phase)
    for clients in settings["clients"]:
        for via in settings["via"]:
            phase = f"put_{via}_{clients}"
            where = "leader" if via == "leader" else "all nodes"
            round_row(f"Register with lease, {clients} client{'s' if clients > 1 else ''} via {where}: ops/s", phase,
                      lambda r: r.get("ops_per_sec"), "higher")
            latency_rows(phase)
            round_row(f"&nbsp;&nbsp;server CPU s per 1,000 ops ({settings['nodes']} node{'s' if settings['nodes'] > 1 else ''})",
                      phase, lambda r: r.get("cpu_s_per_1k_ops"), "lower")
            client_rows(phase)
    for clients in settings.get("ttl_clients", []):
        for via in settings["via"]:
            phase = f"register_ttl_{via}_{clients}"
            where = "leader" if via == "leader" else "all nodes"
            round_row(f"Register with a lease of its own (etcd: grant + put), {clients} client{'s' if clients > 1 else ''} "
                      f"via {where}: ops/s", phase, lambda r: r.get("ops_per_sec"), "higher")
            latency_rows(phase)
            round_row("&nbsp;&nbsp;server CPU s per 1,000 ops", phase, lambda r: r.get("cpu_s_per_1k_ops"), "lower")
            client_rows(phase)
    for watchers in settings["watchers"]:
        phase = f"watch_{watchers}"
        round_row(f"Watch latency, ack → event on a follower, {watchers:,} watcher{'s' if watchers > 1 else ''}: p50 ms",
                  phase, lambda r: r.get("p50_ms"), "lower")
        round_row("&nbsp;&nbsp;p99 ms", phase, lambda r: r.get("p99_ms"), "lower")
    if settings["nodes"] > 1 and (settings["failover_per_round"] or settings["frozen_per_round"]):
        single_row(f"Failover: kill -9 leader → first success of a write begun after it (16 clients, all nodes, "
                   f"{settings['failover_timeout_ms']} ms client timeout, 10 ms retry pause), median s", lambda r: median(
                       [t["recovery_s"] for t in r.get("failover", [])]), "lower")
        single_row("&nbsp;&nbsp;each trial s", lambda r: [t["recovery_s"] for t in r.get("failover", [])] or None, "lower")
        single_row("Failover, leader frozen (SIGSTOP) → writes succeed again, median s", lambda r: median(
            [t["recovery_s"] for t in r.get("failover_frozen", [])]), "lower")
        single_row("&nbsp;&nbsp;each trial s", lambda r: [t["recovery_s"] for t in r.get("failover_frozen", [])] or None,
                   "lower")
    single_row("RSS per node idle, mean MiB", lambda r: median(
        [sum(x["rss_idle_mib"]) / len(x["rss_idle_mib"]) for x in r.get("rounds", []) if x.get("rss_idle_mib")]), "lower")
    capacity = lambda key: (lambda r: r.get("capacity", {}).get(key))
    if any(system.get("capacity") for system in systems):
        single_row("Lease expiry: TTL end → delete event, p50 ms",
                   lambda r: r.get("capacity", {}).get("lease_expiry", {}).get("p50_ms"), "lower")
        single_row("&nbsp;&nbsp;max ms", lambda r: r.get("capacity", {}).get("lease_expiry", {}).get("max_ms"), "lower")
        for step in settings["instance_steps"]:
            single_row(f"RSS per node with {step:,} instances, MiB", capacity(f"rss_{step}_mib"), "lower")
            single_row(f"&nbsp;&nbsp;bulk registration to {step:,}: ops/s (64 clients, all nodes)",
                       lambda r, s=step: r.get("capacity", {}).get(f"populate_to_{s}", {}).get("ops_per_sec"), "higher")
        single_row(f"Restart-to-ready of a follower holding {settings['instance_steps'][-1]:,} instances, s",
                   capacity("restart_to_ready_s"), "lower")
        single_row("&nbsp;&nbsp;of which until its client port answers, s", capacity("restart_to_answering_s"), "lower")
    headers = [header for _, header in columns] + [header for _, _, header in ratio_columns]
    head = [f"| Metric | {' | '.join(headers)} | better |", "|---|" + "---:|" * len(headers) + "---|"]
    return "\n".join(head + rows)


def tls_phases(settings):
    """(phase key, label) of the rows a --tls run measures, for the overhead table."""
    phases = []
    for target, _ in settings["read_targets"]:
        label = "one instance" if target == "instance" else "100-instance service"
        for consistency in ("linearizable", "serializable"):
            phases.append((f"get_{target}_{consistency}", f"Read {label}, {consistency}, {settings['read_clients']} clients"))
    for clients in settings["clients"]:
        for via in settings["via"]:
            phases.append((f"put_{via}_{clients}", f"Register with lease, {clients} clients via "
                                                   f"{'leader' if via == 'leader' else 'all nodes'}"))
    return phases


def thread_split(results, settings):
    """Per-thread CPU of Roster's phases (median over rounds of each thread's seconds per 1,000 ops), so a
    reader sees what the Raft loop still does and what moved to the client I/O threads."""
    rounds = results.get("roster", {}).get("rounds", [])
    phases = [phase for phase in (rounds[0] if rounds else {}) if isinstance(rounds[0].get(phase), dict)
              and rounds[0][phase].get("thread_cpu_s")]
    lines = ["| Roster phase | CPU ms per 1,000 ops, by thread (median over rounds) |", "|---|---|"]
    for phase in phases:
        names = sorted({name for r in rounds for name in r.get(phase, {}).get("thread_cpu_s", {})})
        cells = []
        for name in names:
            per_k = [r[phase]["thread_cpu_s"].get(name, 0.0) / r[phase]["ops"] * 1e6
                     for r in rounds if r.get(phase, {}).get("ops")]
            if per_k and median(per_k) >= 1:
                cells.append(f"{name} {median(per_k):,.0f}")
        lines.append(f"| {phase} | {', '.join(cells)} |")
    return "\n".join(lines) if phases else ""


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
    parser.add_argument("--only", help="systems to run, comma-separated: roster, roster-etcd, etcd "
                                       "(roster-etcd,etcd compares the two etcd APIs alone)")
    parser.add_argument("--tls", action="store_true",
                        help="Roster's etcd API and etcd, each in plaintext and with TLS (client certificates, mutual "
                             "TLS between members), all driven by etcd-loadgen: reads and registrations at 16 clients "
                             "and each server's TLS overhead per operation")
    parser.add_argument("--failover", action="store_true",
                        help="only failover: one kill -9 and one frozen-leader trial per round (default 5 rounds)")
    parser.add_argument("--single-member", action="store_true",
                        help="one-member clusters (registrations at 1/16/64 clients, reads at 16): one node's use of "
                             "the machine's cores, Roster against etcd")
    parser.add_argument("--roster-flags", default="", help="extra flags for every Roster node, e.g. '--io-threads 0'")
    parser.add_argument("--baseline-bin", help="a second Roster binary run as system roster-baseline, interleaved")
    parser.add_argument("--baseline-flags", default="", help="extra flags for the roster-baseline nodes")
    parser.add_argument("--rounds", type=int, help="alternations per row (default 3)")
    parser.add_argument("--clients", help="comma-separated registration client counts instead of the mode's, e.g. 1,16")
    parser.add_argument("--out", required=True)
    parser.add_argument("--roster-bin", required=True)
    parser.add_argument("--roster-bench", required=True)
    parser.add_argument("--etcd-loadgen", required=True)
    parser.add_argument("--etcd-client", default="etcd-loadgen (Go, clientv3; watches: 100 `Watch` calls per client)")
    args = parser.parse_args()
    git_describe()  # the commit now, before the run

    # Failover clients use a short timeout and retry after 10 ms, so neither side's recovery time is
    # quantised by a long client timeout.
    if args.quick:
        settings = {"phase_s": 2, "clients": [16], "ttl_clients": [], "read_clients": 16, "read_targets": [("instance", "bench")],
                    "watch_s": 2, "watch_rate": 20, "watchers": [1000], "failover_per_round": [1, 0, 0],
                    "frozen_per_round": [0, 0, 0], "failover_s": 5, "failover_timeout_ms": 200,
                    "systems": ["roster", "etcd"], "capacity": False, "rounds": 3,
                    "expiry_leases": 3, "instance_steps": [10_000], "lease_every": 10}
    else:
        settings = {"phase_s": 8, "clients": [1, 16, 64], "ttl_clients": [1, 16], "read_clients": 16,
                    "read_targets": [("instance", "bench"), ("service", "bench100")],
                    "watch_s": 8, "watch_rate": 20, "watchers": [1, 1000], "failover_per_round": [2, 2, 1],
                    "frozen_per_round": [1, 1, 1], "failover_s": 8, "failover_timeout_ms": 200,
                    # Five rounds: with three, two runs of one and the same distribution put each other's
                    # medians inside their ranges on only 40 % of rows (merge.py's expected_agreement), so
                    # three rounds cannot show a rerun reproducing; with five, 71 %.
                    "systems": ["roster", "roster-etcd", "etcd"], "capacity": True, "rounds": 5,
                    "expiry_leases": 5, "instance_steps": [10_000, 100_000], "lease_every": 1}
    settings["via"], settings["nodes"] = ["leader", "all"], 3
    if args.single_member:
        # One member: nothing to fail over to and no follower to watch on; "via all nodes" is "via the leader".
        settings.update({"phase_s": 2 if args.quick else 5, "clients": [1, 16, 64], "ttl_clients": [1, 16], "read_clients": 16,
                         "read_targets": [("instance", "bench")], "watchers": [], "via": ["leader"], "nodes": 1,
                         "failover_per_round": [], "frozen_per_round": [], "systems": ["roster", "etcd"],
                         "capacity": False, "rounds": 3})
    if args.failover:
        if args.single_member or args.tls:
            parser.error("--failover needs a 3-member cluster; it does not combine with --single-member or --tls")
        # Failover alone, one trial of each kind per round, for a before/after of the election path: no throughput
        # phases. The per-round trial counts are set once the number of rounds is known (below).
        settings.update({"clients": [], "ttl_clients": [], "read_targets": [], "watchers": [], "capacity": False,
                         "rounds": 5})
    if args.tls:
        if args.only or args.single_member or args.baseline_bin:
            parser.error("--tls runs its own four systems; it does not combine with --only, --single-member or --baseline-bin")
        # Only the rows TLS touches on every operation: every request and every member-to-member message is
        # encrypted. Each client keeps one connection for the whole phase, so its handshake falls inside the
        # phase's server CPU but in no operation's latency, and 16 handshakes weigh little against thousands
        # of operations.
        settings.update({"phase_s": 2 if args.quick else 8, "clients": [16], "ttl_clients": [], "read_clients": 16,
                         "read_targets": [("instance", "bench")], "watchers": [], "via": ["all"],
                         "failover_per_round": [], "frozen_per_round": [], "capacity": False, "tls": True, "rounds": 3,
                         "systems": ["roster-etcd", "roster-etcd-tls", "etcd", "etcd-tls"]})
    if args.rounds:
        settings["rounds"] = args.rounds
    if args.failover:
        settings["failover_per_round"] = settings["frozen_per_round"] = [1] * settings["rounds"]
    if args.clients:
        settings["clients"] = [int(count) for count in args.clients.split(",")]
    rounds = settings["rounds"]
    per_round = lambda key, number: settings[key][number] if number < len(settings[key]) else 0
    os.makedirs(args.out, exist_ok=True)
    results = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               "quick": args.quick, "settings": settings, "machine": machine(),
               "clients": {"roster": "roster-bench (Swift, release, blocking keep-alive HTTP/1.1, one connection per client; "
                                     f"watches: {WATCHES_PER_CONNECTION} per POST /v1/watch stream)",
                           "etcd": args.etcd_client}}
    # The same etcd load generator binary drives etcd and Roster's etcd API, so those two columns compare
    # servers alone; the first column is Roster's own HTTP API with its own client.
    size = settings["nodes"]
    tls = TlsMaterial(os.path.join(args.out, "tls"), [f"n{i + 1}" for i in range(size)]) if args.tls else None
    if tls:
        tls_client = f"etcd-loadgen with --cacert --cert --key (CA {os.path.basename(tls.pem('ca'))}, client certificate CN roster-client)"
        results["clients"].update({"roster-etcd": args.etcd_client, "roster-etcd-tls": tls_client, "etcd-tls": tls_client})
    makers = {"roster": (lambda label: RosterCluster(os.path.join(args.out, "roster", label), 31379, args.roster_bin,
                                                     size, args.roster_flags.split()), args.roster_bench),
              "roster-etcd": (lambda label: RosterEtcdCluster(os.path.join(args.out, "roster-etcd", label), 30379,
                                                              args.roster_bin, size, args.roster_flags.split()),
                              args.etcd_loadgen),
              "roster-baseline": (lambda label: RosterBaselineCluster(os.path.join(args.out, "roster-baseline", label), 29379,
                                                              args.baseline_bin, size, args.baseline_flags.split()),
                                  args.roster_bench),
              "etcd": (lambda label: EtcdCluster(os.path.join(args.out, "etcd", label), 32379, size), args.etcd_loadgen),
              "roster-etcd-tls": (lambda label: RosterEtcdTlsCluster(os.path.join(args.out, "roster-etcd-tls", label),
                                                                     28379, args.roster_bin, size,
                                                                     args.roster_flags.split(), tls),
                                  args.etcd_loadgen),
              "etcd-tls": (lambda label: EtcdTlsCluster(os.path.join(args.out, "etcd-tls", label), 27379, size, tls),
                           args.etcd_loadgen)}
    names = args.only.split(",") if args.only else list(settings["systems"])
    unknown = [name for name in names if name not in ("roster", "roster-etcd", "etcd")] if args.only else []
    if unknown:
        parser.error(f"--only takes roster, roster-etcd and etcd, not {', '.join(unknown)}")
    if args.baseline_bin:
        # Beside whatever --only chose, just after Roster's own column.
        names.insert(names.index("roster") + 1 if "roster" in names else 0, "roster-baseline")
        results["clients"]["roster-baseline"] = f"as Roster, binary {args.baseline_bin} {args.baseline_flags}".strip()
    runners = {name: Runner(makers[name][0], makers[name][1], settings) for name in names}
    json_path = os.path.join(args.out, "results.json")

    def save():
        for name, runner in runners.items():
            results[name] = runner.results
        with open(json_path, "w") as handle:
            json.dump(results, handle, indent=2)

    # Interleaved: round i runs every system back to back (the order rotating each round), so noise that
    # lasts minutes hits all of them, and each row's ratio is taken within a round.
    for number in range(rounds):
        order = names[number % len(names):] + names[:number % len(names)]
        for name in order:
            settings_now = dict(settings, failover_per_round=per_round("failover_per_round", number),
                                frozen_per_round=per_round("frozen_per_round", number))
            runners[name].settings = settings_now
            runners[name].run_round(number + 1)
            save()
    if settings["capacity"]:
        for name in names:
            runners[name].settings = settings
            runners[name].run_capacity()
            save()

    m = results["machine"]
    foreign = [f"{name} {phase}" for name in names for r in results[name]["rounds"] for phase, value in r.items()
               if isinstance(value, dict) and value.get("load", {}).get("foreign")]
    roster_version = next((results[name]["version"] for name in ("roster", "roster-etcd", "roster-baseline")
                           if results.get(name, {}).get("version")), "roster")
    title = "Roster (etcd API) vs etcd, plaintext and TLS" if args.tls else "Roster vs etcd"
    clients = (f"etcd-loadgen for all four columns (Go, clientv3); TLS columns: {results['clients']['etcd-tls']}"
               if args.tls else f"Roster — {results['clients']['roster']}; etcd — {results['clients']['etcd']}")
    header = (f"{title}, {size} node{'s' if size > 1 else ''} each on loopback — {results['date']}{' (--quick)' if args.quick else ''}, "
              f"{rounds} interleaved rounds\n\n"
              f"Machine: {m['nproc']} cores ({m['cpu']}), {m['memory_gib']} GiB, Linux {m['kernel']}, data on {m['disk']}. "
              f"Versions: {roster_version}, {results.get('etcd', {}).get('version', 'etcd')}, "
              f"{m['swift']}, {m['go']}.\n"
              f"Settings: heartbeat 100 ms, election 1 s, every write fsynced; ~{200}-byte instance record with a lease; "
              f"{settings['phase_s']} s per throughput phase; each round a fresh cluster per system, reads first, "
              f"then registrations via the leader first in odd rounds and via all nodes first in even ones.\n"
              + (f"TLS: one throwaway P-256 CA (scripts/tls-certs) for both servers; client ports require a client "
                 f"certificate (--client-cert-auth), members use mutual TLS (--peer-client-cert-auth, "
                 f"--peer-cert-allowed-cn {TlsMaterial.MEMBER_CN}).\n" if args.tls else "") +
              f"Clients: {clients}.\n"
              f"Foreign load (other processes or steal > 10 % of a core during a phase, †): "
              f"{', '.join(foreign) if foreign else 'none'}.\n")
    if args.tls:
        body = (table(results, settings, TLS_LAYOUT) + "\n\nTLS overhead per operation: Roster vs etcd "
                "(each server's TLS figure minus its plaintext figure in the same round):\n\n"
                + overhead_table(results, tls_phases(settings)) + "\n")
    else:
        split = thread_split(results, settings)
        body = table(results, settings) + "\n" + ("\nPer-thread CPU (Roster):\n\n" + split + "\n" if split else "")
    markdown = header + "\n" + body
    with open(os.path.join(args.out, "results.md"), "w") as handle:
        handle.write(markdown)
    save()
    if tls:
        # Every cluster has stopped; the throwaway keys have no further use.
        shutil.rmtree(tls.directory, ignore_errors=True)
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
