#!/usr/bin/env python3
"""Scale rows of the benchmark (issue 19), Roster and etcd side by side (driven by `scripts/bench --scale`).

For each system, on a fresh 3-member cluster of its own, one after the other:
  1. registers `--instances` instances across `--services` services with 64 clients through all members
     (instances share a lease per `--lease-every`), and records the rate;
  2. the RSS and data directory of every member;
  3. restart-to-ready of a follower holding all of it (SIGTERM, start, until it says ready);
  4. a new member: added as a learner, started empty, and the time until a promotion succeeds (both systems
     refuse to promote a learner that has not caught up), which includes sending it the whole state;
  5. `--watchers` watchers spread evenly over the three members (one load generator per member, 100 watches
     per connection for Roster, 100 `Watch` calls per clientv3 client for etcd), each generator writing
     `--watch-rate` times a second (to the leader) to the service its watchers follow: event latency p50/p99
     on every member, missing events, and each member's RSS while they watch.
Nothing is asserted; figures go to .build-bench/<timestamp>-scale/results.json and results.md.
"""
import argparse
import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
from bench import log  # noqa: E402


def directory_mib(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return round(total / (1 << 20), 1)


class RosterScale:
    system = "roster"

    def __init__(self, out, binary, loadgen):
        self.cluster = bench.RosterCluster(os.path.join(out, "roster"), 31379, binary)
        self.binary, self.loadgen = binary, loadgen

    def add_member(self, node, leader):
        status, body = self.cluster.get(leader, "/v1/cluster/members",
                                        {"name": node.name, "peer_address": f"127.0.0.1:{node.peer_port}"})
        if status is None or not 200 <= status < 300:
            raise SystemExit(f"scale: roster refused to add {node.name}: {status} {body[:300]!r}")

    def new_member_command(self, node, leader):
        return [self.binary, "--name", node.name, "--data-dir", node.data_dir, "--client-addr", node.endpoint,
                "--peer-addr", f"127.0.0.1:{node.peer_port}", "--join", leader.endpoint,
                "--heartbeat-ms", "100", "--election-ms", "1000", "--log-level", "warning"]

    def promote(self, node, leader):
        status, _ = bench.http("POST", self.cluster.url(leader, f"/v1/cluster/members/{node.name}/promote"), None,
                               timeout=5)
        return status == 200

    def raft_view(self, node):
        """(term, milliseconds since the member last heard from its leader), or None when it does not answer."""
        status, body = bench.http("GET", self.cluster.url(node, "/v1/cluster/status"), None, timeout=2)
        if status != 200:
            return None
        view = json.loads(body)
        return view.get("term"), view.get("leader_contact_ms")


class EtcdScale:
    system = "etcd"

    def __init__(self, out, loadgen):
        self.cluster = bench.EtcdCluster(os.path.join(out, "etcd"), 32379)
        self.loadgen = loadgen
        self.member_id = None

    def add_member(self, node, leader):
        # etcd refuses a member change as "unhealthy cluster" until every member has been connected for a while
        # (its strict reconfiguration check), as right after the restart measured before: retry for a minute.
        deadline = time.monotonic() + 60
        while True:
            status, body = self.cluster.get(leader, "/v3/cluster/member/add",
                                            {"peerURLs": [f"http://127.0.0.1:{node.peer_port}"], "isLearner": True})
            if status == 200 or b"unhealthy cluster" not in (body or b"") or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        if status != 200:
            raise SystemExit(f"scale: etcd refused to add {node.name}: {status} {body[:300]!r}")
        self.member_id = json.loads(body)["member"]["ID"]

    def new_member_command(self, node, leader):
        """The founders' command (`EtcdCluster.command`), joining an existing cluster that now lists `node` too."""
        command = self.cluster.command(node)
        command[command.index("--initial-cluster") + 1] = ",".join(
            f"{n.name}=http://127.0.0.1:{n.peer_port}" for n in self.cluster.nodes + [node])
        command[command.index("--initial-cluster-state") + 1] = "existing"
        return command

    def promote(self, node, leader):
        status, _ = self.cluster.get(leader, "/v3/cluster/member/promote", {"ID": self.member_id})
        return status == 200

    def raft_view(self, node):
        """(term, None): etcd reports no leader-contact age."""
        status, body = bench.http("POST", self.cluster.url(node, "/v3/maintenance/status"), {}, timeout=2)
        if status != 200:
            return None
        return int(json.loads(body).get("raftTerm", 0)), None


class LeaderWatch:
    """Samples every member's Raft term (and, on Roster, how long ago it heard from its leader) twice a second
    while a load runs, in a thread: a stall of the leader shows as a long contact age and, past the election
    timeout, as new terms."""

    def __init__(self, system):
        self.system, self.terms, self.max_contact_ms = system, set(), 0
        self.running = True
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while self.running:
            for node in self.system.cluster.nodes:
                if not node.alive:
                    continue
                try:
                    view = self.system.raft_view(node)
                except Exception:
                    view = None
                if view is None:
                    continue
                term, contact = view
                if term is not None:
                    self.terms.add(int(term))
                if contact is not None:
                    self.max_contact_ms = max(self.max_contact_ms, int(contact))
            time.sleep(0.5)

    def stop(self):
        self.running = False
        self.thread.join()
        return {"elections": max(self.terms) - min(self.terms) if self.terms else None,
                "max_leader_contact_ms": self.max_contact_ms if self.system.system == "roster" else None}


def run_loadgen(system, args, limit):
    command = [system.loadgen] + [str(arg) for arg in args]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return {"error": "timeout"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"error": done.stderr.strip()[-500:] or f"exit {done.returncode}"}
    return json.loads(lines[-1])


def measure(system, settings):
    cluster = system.cluster
    result = {}
    log(f"{system.system}: starting 3 members")
    cluster.start()
    try:
        leader, followers = cluster.followers()
        began = time.monotonic()
        stability = LeaderWatch(system)
        populate = run_loadgen(system, ["--mode", "populate", "--endpoints", cluster.endpoints(), "--clients", 64,
                                        "--service", "scale", "--services", settings["services"],
                                        "--count", settings["instances"], "--lease-every", settings["lease_every"],
                                        "--ttl", 36000, "--duration", 7200], 7800)
        populate["wall_s"] = round(time.monotonic() - began, 1)
        populate.update(stability.stop())
        result["populate"] = populate
        log(f"{system.system}: populate {populate}")
        time.sleep(3)
        result["rss_mib"] = cluster.rss()
        result["data_mib"] = [directory_mib(node.data_dir) for node in cluster.nodes]
        log(f"{system.system}: RSS {result['rss_mib']} MiB, data {result['data_mib']} MiB")

        # Restart-to-ready of a follower holding everything (graceful stop, then start).
        leader, followers = cluster.followers()
        node = followers[0]
        cluster.kill(node, signal.SIGTERM)
        began = time.monotonic()
        cluster.start_node(node)
        cluster.wait_ready([node], 900)
        result["restart_to_ready_s"] = round(time.monotonic() - began, 2)
        log(f"{system.system}: restart-to-ready {result['restart_to_ready_s']} s")

        # A new member: added as a learner, started empty, promoted once it has caught up.
        leader, followers = cluster.followers()
        fourth = bench.Node("n4", cluster.nodes[-1].client_port + 2, cluster.nodes[-1].peer_port + 2,
                            os.path.join(cluster.root, "n4"), os.path.join(cluster.root, "n4.log"))
        system.add_member(fourth, leader)
        os.makedirs(fourth.data_dir, mode=0o700, exist_ok=True)
        began = time.monotonic()
        with open(fourth.log_path, "ab") as log_file:
            fourth.process = subprocess.Popen(system.new_member_command(fourth, leader), stdout=log_file,
                                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                              start_new_session=True)
        bench.STARTED.append(fourth.process)
        promoted = None
        while time.monotonic() - began < 1800 and fourth.alive:
            if system.promote(fourth, cluster.wait_leader(30)):
                promoted = round(time.monotonic() - began, 2)
                break
            time.sleep(0.1)
        result["new_member_promoted_s"] = promoted
        result["new_member_rss_mib"] = round(bench.proc_rss_mib(fourth.process.pid), 1) if fourth.alive else None
        log(f"{system.system}: new member promoted after {promoted} s")
        fourth.process.send_signal(signal.SIGTERM)
        fourth.process.wait(timeout=60)

        # Watchers spread over the three members, one load generator per member (none with --watchers 0).
        if settings["watchers"] > 0:
            leader, followers = cluster.followers()
            per_member = settings["watchers"] // len(cluster.nodes)
            layout = ["--watches-per-connection", 100] if system.system == "roster" else []
            outcomes = [None] * len(cluster.nodes)
            peak = [0.0] * len(cluster.nodes)

            def watch(index, node):
                outcomes[index] = run_loadgen(system, ["--mode", "watch", "--write-endpoint", leader.endpoint,
                                                       "--watch-endpoint", node.endpoint, "--watchers", per_member,
                                                       "--duration", settings["watch_s"], "--rate", settings["watch_rate"],
                                                       "--service", f"watch{index}"] + layout, settings["watch_s"] + 900)

            threads = [threading.Thread(target=watch, args=(i, node)) for i, node in enumerate(cluster.nodes)]
            for thread in threads:
                thread.start()
            while any(thread.is_alive() for thread in threads):
                for i, node in enumerate(cluster.nodes):
                    if node.alive:
                        peak[i] = max(peak[i], bench.proc_rss_mib(node.process.pid))
                time.sleep(0.5)
            result["watch"] = {"per_member": per_member, "outcomes": outcomes,
                               "peak_rss_mib": [round(value, 1) for value in peak]}
            log(f"{system.system}: watchers {outcomes}, peak RSS {result['watch']['peak_rss_mib']} MiB")
    finally:
        cluster.stop()
        for node in cluster.nodes:
            shutil.rmtree(node.data_dir, ignore_errors=True)
        shutil.rmtree(os.path.join(cluster.root, "n4"), ignore_errors=True)
    return result


def fmt(value):
    return bench.fmt(value)


def table(results, settings):
    systems = ("roster", "etcd")
    get = lambda path: [path(results.get(name, {})) for name in systems]

    def row(label, path, better):
        values = get(path)
        ratio = (f"{values[0] / values[1]:.2f}×" if all(isinstance(v, (int, float)) and v for v in values) else "—")
        return f"| {label} | {fmt(values[0])} | {fmt(values[1])} | {ratio} | {better} |"

    mean = lambda values: round(sum(values) / len(values), 1) if values else None
    watch = lambda key: (lambda r: [o.get(key) if isinstance(o, dict) else None
                                    for o in r.get("watch", {}).get("outcomes", [])] or None)
    n = f"{settings['instances']:,}"
    lines = ["| Metric | Roster | etcd | Roster ÷ etcd | better |", "|---|---:|---:|---:|---|",
             row(f"Registration to {n} instances across {settings['services']:,} services: ops/s (64 clients, all "
                 f"members)", lambda r: r.get("populate", {}).get("ops_per_sec"), "higher"),
             row("&nbsp;&nbsp;wall time s", lambda r: r.get("populate", {}).get("wall_s"), "lower"),
             row("&nbsp;&nbsp;leader elections during it (term changes)", lambda r: r.get("populate", {}).get("elections"),
                 "lower"),
             row("&nbsp;&nbsp;longest a member went without hearing from its leader, ms",
                 lambda r: r.get("populate", {}).get("max_leader_contact_ms"), "lower"),
             row(f"RSS per member with {n} instances, mean MiB", lambda r: mean(r.get("rss_mib", [])), "lower"),
             row("&nbsp;&nbsp;each member MiB", lambda r: r.get("rss_mib"), "lower"),
             row("Data directory per member, mean MiB", lambda r: mean(r.get("data_mib", [])), "lower"),
             row("Restart-to-ready of a follower, s", lambda r: r.get("restart_to_ready_s"), "lower"),
             row("New member: start (empty) → promoted (has the whole state), s",
                 lambda r: r.get("new_member_promoted_s"), "lower"),
             row("&nbsp;&nbsp;its RSS then, MiB", lambda r: r.get("new_member_rss_mib"), "lower"),
             row(f"{settings['watchers']:,} watchers over 3 members: event p50 ms (each member)", watch("p50_ms"),
                 "lower"),
             row("&nbsp;&nbsp;p99 ms (each member)", watch("p99_ms"), "lower"),
             row("&nbsp;&nbsp;missing events (each member)", watch("missing_events"), "lower"),
             row("&nbsp;&nbsp;peak RSS per member while watching, MiB", lambda r: r.get("watch", {}).get("peak_rss_mib"),
                 "lower")]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--roster-bin", required=True)
    parser.add_argument("--roster-bench", required=True)
    parser.add_argument("--etcd-loadgen", required=True)
    parser.add_argument("--only", choices=["roster", "etcd"])
    parser.add_argument("--instances", type=int, default=1_000_000)
    parser.add_argument("--services", type=int, default=1_000)
    parser.add_argument("--lease-every", type=int, default=1_000)
    parser.add_argument("--watchers", type=int, default=100_000)
    parser.add_argument("--watch-seconds", type=int, default=20)
    parser.add_argument("--watch-rate", type=float, default=1.0,
                        help="writes per second to each member's watched service (each write reaches a third of the watchers)")
    args = parser.parse_args()
    settings = {"instances": args.instances, "services": args.services, "lease_every": args.lease_every,
                "watchers": args.watchers, "watch_s": args.watch_seconds, "watch_rate": args.watch_rate}
    os.makedirs(args.out, exist_ok=True)
    results = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               "settings": settings, "machine": bench.machine()}
    systems = {"roster": lambda: RosterScale(args.out, args.roster_bin, args.roster_bench),
               "etcd": lambda: EtcdScale(args.out, args.etcd_loadgen)}
    for name in ([args.only] if args.only else ["roster", "etcd"]):
        results[name] = measure(systems[name](), settings)
        with open(os.path.join(args.out, "results.json"), "w") as handle:
            json.dump(results, handle, indent=2)
    m = results["machine"]
    markdown = (f"Scale: Roster vs etcd, 3 members each on loopback — {results['date']}\n\n"
                f"Machine: {m['nproc']} cores ({m['cpu']}), {m['memory_gib']} GiB, Linux {m['kernel']}, data on "
                f"{m['disk']}. Versions: roster {bench.git_describe()}, {bench.EtcdCluster('/tmp', 0).version()}.\n"
                f"Instances share a lease per {args.lease_every:,}; watchers: Roster 100 per POST /v1/watch stream, "
                f"etcd 100 `Watch` calls per clientv3 client; {args.watch_rate:g} write/s for each member's third of them, "
                f"{args.watch_seconds} s.\n\n" + table(results, settings) + "\n")
    with open(os.path.join(args.out, "results.md"), "w") as handle:
        handle.write(markdown)
    print(markdown)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, bench.stop_everything)
    signal.signal(signal.SIGINT, bench.stop_everything)
    try:
        main()
    finally:
        for process in bench.STARTED:
            if process.poll() is None:
                process.kill()
