"""A whole chaos run: cluster + network + workload + nemesis + final state + checker + summary."""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time

from . import netns
from .cluster import Cluster, resolver
from .mapping import range_pairs
from .nemesis import ALL_FAULTS, Nemesis
from .recorder import Recorder, now_ns
from .workload import Expiries, KVWorker, LeaseWorker, Watcher, new_client_id

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LEASE_TTL = 3
# What acknowledging writes before commit must produce (watch-only anomalies do not count for the self-test).
WRITE_SAFETY_ANOMALIES = frozenset({"lost_write", "revision_reused", "stale_read", "read_mismatch",
                                    "final_state_mismatch", "final_state_behind", "write_result_mismatch",
                                    "unexplained_revision", "revision_backwards", "future_read"})


def parse_args(argv):
    p = argparse.ArgumentParser(prog="scripts/chaos", description="Roster chaos suite against real roster processes.")
    p.add_argument("--short", action="store_true", help="CI mode: 3 nodes, every fault kind once (~3 min)")
    p.add_argument("--minutes", type=float, default=None, help="soak length (random faults until then)")
    p.add_argument("--nodes", type=int, choices=(3, 5), default=3)
    p.add_argument("--unsafe", action="store_true", help="run nodes with --unsafe-ack-before-commit (self-test)")
    p.add_argument("--expect-anomalies", action="store_true", help="succeed only if the checker finds anomalies")
    p.add_argument("--faults", default="", help="comma-separated fault kinds to run (default: all)")
    p.add_argument("--no-netns", action="store_true", help="loopback only (partition faults are skipped)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--run-dir", default=None)
    p.add_argument("--kv-clients", type=int, default=5)
    p.add_argument("--lease-clients", type=int, default=2)
    p.add_argument("--etcd-workers", type=int, default=2,
                   help="KV clients through the etcd v3 gRPC API (python3-etcd3); 0 turns them off (default 2)")
    p.add_argument("--clientv3-workers", type=int, default=2,
                   help="KV clients through the etcd v3 gRPC API with etcd's Go client, clientv3 (built offline from "
                        "Debian's golang-etcd-server-dev); 0 turns them off (default 2)")
    p.add_argument("--etcd-keys", choices=("shared", "own"), default="shared",
                   help="etcd clients use the HTTP clients' keys k/0..k/7 (shared, default) or their own e/0..e/7")
    p.add_argument("--check-timeout", type=int, default=None,
                   help="linearizability search budget in seconds (default 120, or 60 per soak minute: a 30-minute "
                        "soak's 640,000 operations needed 355 s)")
    p.add_argument("--auth", action="store_true",
                   help="enable users and roles: every client (HTTP and etcd API) authenticates as root")
    p.add_argument("--tls", action="store_true",
                   help="HTTPS and gRPC over TLS with client certificates on the client ports, mutual TLS between "
                        "members (a throwaway CA from scripts/tls-certs)")
    return p.parse_args(argv)


ETCD3_INTERPRETER = "/usr/bin/python3"      # Debian's, where python3-etcd3 installs
REEXEC_ENV = "ROSTER_CHAOS_REEXEC"


def _has_etcd3(interpreter) -> bool:
    if not os.access(interpreter, os.X_OK):
        return False
    return subprocess.run([interpreter, "-c", "import etcd3"], capture_output=True, stdin=subprocess.DEVNULL).returncode == 0


def _apt_install_etcd3() -> None:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return
    print("chaos: installing python3-etcd3 (apt-get)...", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "python3-etcd3"]):
        subprocess.run(cmd, env=env, capture_output=True, stdin=subprocess.DEVNULL, timeout=600)


def ensure_etcd3(argv) -> None:
    """Makes `import etcd3` work for the etcd workers: here, or by re-executing scripts/chaos under Debian's
    /usr/bin/python3 (python3-etcd3, installed with apt-get when missing and root). The rest of the suite is
    standard library only and runs under either interpreter."""
    try:
        import etcd3  # noqa: F401
        import grpc  # noqa: F401
        return
    except ImportError:
        pass
    here = os.path.realpath(sys.executable)
    if not _has_etcd3(ETCD3_INTERPRETER):
        _apt_install_etcd3()
    if os.path.realpath(ETCD3_INTERPRETER) == here:
        import importlib
        importlib.invalidate_caches()
        try:
            import etcd3  # noqa: F401,F811
            return
        except ImportError:
            pass
    elif _has_etcd3(ETCD3_INTERPRETER) and not os.environ.get(REEXEC_ENV):
        print(f"chaos: etcd workers need python3-etcd3; re-executing under {ETCD3_INTERPRETER}", flush=True)
        env = dict(os.environ, **{REEXEC_ENV: "1"})
        script = os.path.join(ROOT, "scripts", "chaos")
        os.execve(ETCD3_INTERPRETER, [ETCD3_INTERPRETER, script] + list(argv), env)
    sys.exit("chaos: the etcd workload needs python-etcd3 (Debian: apt-get install -y python3-etcd3, importable "
             f"from {ETCD3_INTERPRETER}); or run with --etcd-workers 0")


def roster_binary(log):
    env = os.environ.get("ROSTER_BIN")
    if env:
        if not os.access(env, os.X_OK):
            sys.exit(f"chaos: ROSTER_BIN={env} is not executable")
        return env
    built = os.path.join(ROOT, ".build", "release", "roster")
    if not os.access(built, os.X_OK):
        log("building roster (release)...")
        subprocess.run(["swift", "build", "-c", "release", "--product", "roster"], cwd=ROOT, check=True)
    return built


class Run:
    def __init__(self, args):
        self.args = args
        self.seed = args.seed if args.seed is not None else random.randrange(1 << 30)
        self.rng = random.Random(self.seed)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.dir = os.path.abspath(args.run_dir or os.path.join(ROOT, ".build-chaos", stamp))
        os.makedirs(self.dir, exist_ok=True)
        self.log_file = open(os.path.join(self.dir, "chaos.log"), "a", buffering=1)
        self.net = None
        self.tmpfs = None
        self.cluster = None
        self.notices = []
        self.local_reads = {}
        self.etcd_workers = []

    def log(self, message):
        line = f"[{time.strftime('%H:%M:%S')}] {message}"
        print(line, flush=True)
        self.log_file.write(line + "\n")

    def setup(self, binary):
        a = self.args
        use_netns = False
        if not a.no_netns:
            ok, why = netns.available()
            if ok:
                try:
                    self.net = netns.Network(self.log)
                    self.net.setup(range(1, a.nodes + 1))
                    use_netns = True
                except Exception as error:      # fall back to loopback
                    self.notices.append(f"network namespaces failed ({error}); loopback mode, partitions SKIPPED")
                    try:
                        self.net.teardown()
                    except Exception:
                        pass
                    self.net = None
            else:
                self.notices.append(f"partitions SKIPPED: network namespaces need root and iproute2 ({why})")
        else:
            self.notices.append("partitions SKIPPED: --no-netns")
        for notice in self.notices:
            self.log("NOTICE: " + notice)
        # Tokens outlive the run: python-etcd3 logs in once per client and never again.
        extra = (self.tls_flags() if a.tls else []) + (["--auth-token-ttl", "3600"] if a.auth else [])
        self.cluster = Cluster(binary, self.dir, a.nodes, use_netns, self.log, unsafe=a.unsafe, snapshot_entries=200,
                               extra_flags=extra)
        disk_slot = None
        if os.geteuid() == 0:
            slot = a.nodes
            node = self.cluster.nodes[slot]
            node.data_dir = os.path.join(self.dir, f"tmpfs-{node.name}")
            os.makedirs(node.data_dir, exist_ok=True)
            r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", node.data_dir], capture_output=True)
            if r.returncode == 0:
                self.tmpfs = node.data_dir
                disk_slot = slot
            else:
                self.log("NOTICE: disk_full SKIPPED: cannot mount a tmpfs")
        else:
            self.log("NOTICE: disk_full SKIPPED: needs root for a small tmpfs")
        self.nemesis = Nemesis(self.cluster, self.net, self.rng, self.log, LEASE_TTL, disk_slot)
        self.cluster.start_all()
        if not self.cluster.wait_converged(30):
            dead = [n.name for n in self.cluster.members() if not n.alive]
            raise RuntimeError(f"the cluster did not come up within 30 s (dead: {dead}); see {self.dir}/n*.log")
        if a.auth:
            self.enable_auth()

    def tls_flags(self) -> list:
        """A throwaway CA, one member certificate valid for every address a node may get (loopback and the
        namespaces' 10.77.0.x), one client certificate; the node flags for HTTPS + client certificates and
        peer mTLS, and the same trust for the suite's HTTP and etcd clients."""
        from . import etcdworkload, http as chaos_http
        tls = os.path.join(self.dir, "tls")
        certs = os.path.join(ROOT, "scripts", "tls-certs")
        sans = ",".join(f"IP:{netns.node_ip(slot)}" for slot in range(1, 40))
        subprocess.run([certs, tls, "ca"], check=True)
        subprocess.run([certs, tls, "leaf", "member", "roster-member"], check=True, env={**os.environ, "TLS_EXTRA_SAN": sans})
        subprocess.run([certs, tls, "leaf", "client", "roster-client"], check=True)
        ca, member, member_key = (os.path.join(tls, f) for f in ("ca.pem", "member.pem", "member.key"))
        client, client_key = os.path.join(tls, "client.pem"), os.path.join(tls, "client.key")
        chaos_http.use_tls(ca, client, client_key)
        etcdworkload.TLS_FILES.update(ca_cert=ca, cert_cert=client, cert_key=client_key)
        self.log(f"TLS: HTTPS + client certificates on client ports, mutual TLS between members (CA {ca})")
        return ["--cert-file", member, "--key-file", member_key, "--trusted-ca-file", ca, "--client-cert-auth",
                "--peer-cert-file", member, "--peer-key-file", member_key, "--peer-trusted-ca-file", ca,
                "--peer-client-cert-auth", "--peer-cert-allowed-cn", "roster-member"]

    def enable_auth(self):
        """A root user with the root role, then auth on; from here every client sends root's credentials."""
        from . import etcdworkload, http as chaos_http
        password = "chaos-root-" + str(self.seed)
        leader = self.cluster.leader()
        steps = [("POST", "/v1/auth/users", {"name": "root", "password": password}),
                 ("PUT", "/v1/auth/users/root/roles/root", None),
                 ("POST", "/v1/auth/enable", None)]
        for method, path, body in steps:
            reply = self.cluster.request(leader, method, path, body, timeout=30)
            if not reply.ok:
                raise RuntimeError(f"auth setup {method} {path}: {reply.status} {reply.code} {reply.body}")
        chaos_http.use_credentials("root", password)
        etcdworkload.AUTH.update(user="root", password=password)
        self.log("auth: enabled; every client authenticates as root (HTTP tokens, etcd API user/password)")

    def cleanup(self):
        if self.cluster:
            # Before the members stop: how many reads their I/O loops answered (the paths reused read connections
            # reach; none with auth on), so a run shows whether it put those paths under the faults.
            from . import http as chaos_http
            for slot, node in sorted(self.cluster.nodes.items()):
                if node.alive and not node.paused:
                    value = chaos_http.metric(node.client, "roster_local_reads_total")
                    self.local_reads[node.name] = None if value is None else int(value)
            self.cluster.stop_all()
        if self.net:
            self.net.teardown()
        if self.tmpfs:
            subprocess.run(["umount", "-l", self.tmpfs], capture_output=True)

    def schedule(self):
        a = self.args
        default = ALL_FAULTS
        if a.unsafe:       # the self-test: the faults that expose writes acknowledged before commit
            default = ("stall_majority_kill_leader", "kill_leader", "isolate_leader", "stall_majority_kill_leader")
        kinds = [k for k in (a.faults.split(",") if a.faults else default) if k]
        for k in kinds:
            if k not in ALL_FAULTS:
                sys.exit(f"chaos: unknown fault {k}; choose from {', '.join(ALL_FAULTS)}")
        return kinds

    def execute(self):
        a = self.args
        history = os.path.join(self.dir, "history.jsonl")
        rec = Recorder(history)
        self.cluster.recorder = rec
        stop_workers = threading.Event()
        stop_watchers = threading.Event()
        hard_deadline = time.monotonic() + 60 * ((a.minutes or 4) + 5)
        targets = self.cluster.targets
        workers = [KVWorker(f"kv{i}", rec, targets, stop_workers, hard_deadline, self.rng.randrange(1 << 30), 2.5)
                   for i in range(a.kv_clients)]
        leasers = [LeaseWorker(f"ls{i}", rec, targets, stop_workers, hard_deadline, self.rng.randrange(1 << 30), 2.5,
                               index=i, ttl=LEASE_TTL) for i in range(a.lease_clients)]
        expiries = Expiries()
        watchers = [Watcher(100 + slot, slot, rec, resolver(self.cluster), targets, stop_watchers, hard_deadline,
                            expiries) for slot in self.cluster.nodes]
        if a.etcd_workers > 0:       # own seed source: the other clients' seeds and the faults do not depend on it
            from .etcdworkload import make_workers
            self.etcd_workers = make_workers(a.etcd_workers, rec, targets, stop_workers, hard_deadline,
                                             random.Random(self.seed * 31 + 7), 2.5, shared=a.etcd_keys == "shared")
            workers += self.etcd_workers
        if a.clientv3_workers > 0:   # their own seed source too
            from . import clientv3workload
            clientv3_workers = clientv3workload.make_workers(
                a.clientv3_workers, rec, targets, stop_workers, hard_deadline, random.Random(self.seed * 37 + 11), 2.5,
                shared=a.etcd_keys == "shared")
            self.etcd_workers += clientv3_workers
            workers += clientv3_workers
        for t in watchers + workers + leasers:
            t.start()
        started = time.monotonic()
        time.sleep(3)
        kinds = self.schedule()
        if a.minutes and not a.short:
            end = started + 60 * a.minutes
            while time.monotonic() < end:
                self.nemesis.run(self.rng.choice(kinds))
                time.sleep(self.rng.uniform(1, 4))
        else:
            for kind in kinds:
                self.nemesis.run(kind)
                if not a.unsafe:
                    time.sleep(3)          # steady-state traffic between faults
        time.sleep(2)
        stop_workers.set()
        for t in workers + leasers:
            t.join(timeout=15)
        self.nemesis.heal()
        self.final_state(rec, leasers, watchers)
        stop_watchers.set()
        for t in watchers:
            t.join(timeout=10)
        for record in expiries.records():
            rec.write(record)
        rec.close()
        elapsed = time.monotonic() - started
        return history, rec, elapsed, watchers

    def final_state(self, rec, leasers, watchers):
        c = self.cluster
        if not c.wait_converged(60):
            self.log("WARNING: the cluster did not converge within 60 s after healing")
        # revoke every lease that may still be alive, so the final key space is stable
        client = new_client_id()
        for worker in leasers:
            for lease in list(worker.granted):
                for _ in range(5):
                    leader = c.leader(10)
                    if leader is None:
                        break
                    invoke = now_ns()
                    reply = c.request(leader, "DELETE", f"/v1/leases/{lease}")
                    fields = {"lease": lease}
                    if reply.ok:
                        fields.update(revision=int(reply.body["revision"]), deleted=int(reply.body.get("deleted_keys", 0)))
                    rec.op(client, c.nodes[leader].name, "revoke", invoke, reply.outcome, **fields)
                    if reply.outcome == "unknown":
                        client = new_client_id()
                    if reply.outcome == "ok" or reply.code == "lease_not_found":
                        break
                    time.sleep(0.5)
        time.sleep(1)
        c.wait_converged(30)
        revision = max((c.status(n.slot) or {}).get("revision", 0) for n in c.members())
        self.final_revision = revision
        for node in c.members():
            body = None
            for _ in range(10):
                reply = c.request(node.slot, "GET",
                                  f"/v1/kv/?prefix=true&consistency=serializable&min_revision={revision}")
                if reply.ok:
                    body = reply.body
                    break
                time.sleep(0.5)
            hash_reply = c.request(node.slot, "GET", f"/v1/cluster/hash?revision={revision}")
            if body is None:
                self.log(f"WARNING: no final read from {node.name}")
                continue
            record = {"op": "final_state", "node": node.name, "revision": int(body["revision"]),
                      "pairs": range_pairs(body)}
            if hash_reply.ok and hash_reply.body.get("hash_revision") == int(body["revision"]):
                record["hash"] = hash_reply.body["hash"]
            rec.write(record)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(w.last < revision for w in watchers):
            time.sleep(0.3)
        self.log(f"final revision {revision}; watchers at {[w.last for w in watchers]}")

    def check(self, history):
        budget = self.args.check_timeout or max(120, int(60 * (self.args.minutes or 0)))
        cmd = [os.path.join(ROOT, "scripts", "check-history"), history, "--timeout-s", str(budget),
               "--serializable-scope", "node"]
        started = time.monotonic()
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=budget * 3 + 120)
        with open(os.path.join(self.dir, "check.txt"), "w") as f:
            f.write(result.stdout + result.stderr)
        summary = {}
        for line in result.stdout.splitlines():
            if line.startswith("SUMMARY "):
                try:
                    summary = json.loads(line[len("SUMMARY "):])
                except ValueError:
                    pass
        return result.returncode, summary, result.stdout, time.monotonic() - started


def summary_table(api_counts) -> list:
    """Ops by API and kind, then per-API and overall totals, from {(api, op, status): n} (pure)."""
    lines = []
    statuses = ("ok", "fail", "unknown")

    apis = sorted({api for api, _, _ in api_counts}, key=lambda a: (a != "http", a))
    width = max([14] + [len(f"{api} {op}") for api, op, _ in api_counts] + [len(f"{api} total") for api in apis])

    def row(label, counts):
        return f"  {label:{width}s} ok {counts['ok']:6d}  failed {counts['fail']:5d}  unknown {counts['unknown']:5d}"

    for api in apis:
        for op in sorted({o for a, o, _ in api_counts if a == api}):
            lines.append(row(f"{api} {op}", {s: api_counts.get((api, op, s), 0) for s in statuses}))
    for api in apis:
        lines.append(row(f"{api} total", {s: sum(v for (a, _, st), v in api_counts.items() if a == api and st == s)
                                          for s in statuses}))
    if len(apis) > 1:
        lines.append(row("total", {s: sum(v for (_, _, st), v in api_counts.items() if st == s) for s in statuses}))
    return lines


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.etcd_workers > 0:
        ensure_etcd3(argv)
    if args.short:
        args.nodes = 3
    if args.minutes is None and not args.short:
        args.short = True
    run = Run(args)
    run.log(f"chaos: {args.nodes} nodes, {'short' if args.short else f'{args.minutes} min soak'}, seed {run.seed}"
            f"{', UNSAFE (ack before commit)' if args.unsafe else ''}; run dir {run.dir}")
    if args.etcd_workers > 0:
        from .etcdworkload import etcd3_version
        run.log(f"etcd workload: {args.etcd_workers} clients on {'k/ (shared with HTTP)' if args.etcd_keys == 'shared' else 'e/'}"
                f" through the etcd v3 API; {etcd3_version()}, {sys.executable} {sys.version.split()[0]}")
    if args.clientv3_workers > 0:
        from .clientv3workload import build_worker
        client = build_worker(run.log)
        run.log(f"clientv3 workload: {args.clientv3_workers} clients on "
                f"{'k/ (shared with HTTP)' if args.etcd_keys == 'shared' else 'e/'} through the etcd v3 API; {client}")
    binary = roster_binary(run.log)
    try:
        run.setup(binary)
        history, rec, elapsed, watchers = run.execute()
    finally:
        run.cleanup()
    code, summary, report, check_s = run.check(history)
    verdict = {0: "ok", 1: "ANOMALIES", 2: "unknown (search budget exhausted)", 3: "bad input"}.get(code, f"exit {code}")
    lines = ["", "== chaos summary", f"workload {elapsed:.0f} s, checker {check_s:.0f} s, seed {run.seed}"]
    lines += summary_table(rec.api_counts)
    lines.append(f"  watch: {sum(w.events for w in watchers)} events over {sum(w.segments for w in watchers)} segments")
    if run.etcd_workers:
        for api in sorted({w.API for w in run.etcd_workers}):
            skipped = sum(w.not_ready for w in run.etcd_workers if w.API == api)
            lines.append(f"  {api}: {skipped} calls not attempted (node's channel not ready)")
    if run.local_reads:
        lines.append("  reads answered on I/O loops (roster_local_reads_total of the members running at the end): "
                     + ", ".join(f"{name} {count}" for name, count in run.local_reads.items()))
    lines.append("faults injected: " + (", ".join(f"{k} x{v}" for k, v in sorted(run.nemesis.counts.items())) or "none"))
    if run.nemesis.skipped:
        lines.append("faults skipped: " + ", ".join(f"{k} x{v}" for k, v in sorted(run.nemesis.skipped.items())))
    for notice in run.notices:
        lines.append("NOTICE: " + notice)
    anomalies = summary.get("anomalies", summary.get("anomaly_count"))
    if isinstance(anomalies, list):
        anomalies = len(anomalies)
    lines.append(f"checker: {verdict}; anomalies: {anomalies if anomalies is not None else '?'}")
    if code != 0:
        lines += [l for l in report.splitlines() if l.strip()][:40]
    lines.append(f"history: {history}")
    lines.append(f"logs: {run.dir}/n*.log, chaos.log, check.txt")
    for line in lines:
        run.log(line)
    if args.expect_anomalies:
        kinds = set(summary.get("anomalies", {})) if isinstance(summary.get("anomalies"), dict) else set()
        caught = kinds & WRITE_SAFETY_ANOMALIES
        if code == 1 and caught:
            run.log(f"unsafe-server anomalies found: {', '.join(sorted(caught))}")
            run.log("self-test PASSED: the checker caught the unsafe server")
            return 0
        run.log("self-test FAILED: the unsafe server was not caught")
        return 1
    return 0 if code == 0 else 1
