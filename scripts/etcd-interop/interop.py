"""Driver of the etcd v3 interop checks (called by scripts/etcd-interop/run; stdlib only).

For each target (etcd, roster) it starts a fresh 3-member cluster on loopback, runs the selected parts in this
order: etcdctl (differential script), python (python3-etcd3), clientv3 (Go registry check, which kills the
leader, so it runs last), then stops the cluster. The etcdctl transcripts are normalised and compared with
expected-etcdctl.txt and, with --against both, with each other. Exit status 1 when anything failed.
"""
import argparse
import difflib
import json
import os
import signal
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import clusters  # noqa: E402
import etcdctl_diff  # noqa: E402

GOLDEN = os.path.join(HERE, "expected-etcdctl.txt")
PARTS = ["etcdctl", "python", "clientv3"]


def say(message):
    print(f"[interop {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def write(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def diff(a, b, name_a, name_b, limit=200):
    lines = list(difflib.unified_diff(a, b, name_a, name_b, lineterm="", n=3))
    if len(lines) > limit:
        lines = lines[:limit] + [f"... ({len(lines) - limit} more diff lines)"]
    return lines


class Target:
    def __init__(self, name, out, args):
        self.name, self.out, self.args = name, out, args
        self.failures = []
        self.normalised = None

    def cluster(self):
        root = os.path.join(self.out, "cluster")
        if self.name == "etcd":
            return clusters.EtcdCluster(root)
        return clusters.RosterCluster(root, self.args.roster_bin)

    def run(self, parts):
        cluster = self.cluster()
        say(f"{self.name}: starting 3 members ({', '.join(cluster.endpoints)})")
        try:
            started = time.monotonic()
            cluster.start()
            say(f"{self.name}: ready in {time.monotonic() - started:.1f}s")
            for part in parts:
                dead = [n for n in cluster.nodes if not n.alive]
                if dead:
                    self.fail(part, "not run: member(s) exited unexpectedly: " + ", ".join(
                        f"{n.name} (exit {n.process.returncode}; log {n.log_path})" for n in dead))
                    continue
                started = time.monotonic()
                try:
                    getattr(self, "part_" + part)(cluster)
                except Exception as error:  # a broken part is a failure, the other parts still run
                    self.fail(part, f"{type(error).__name__}: {error}\n{traceback.format_exc()}")
                say(f"{self.name}: {part} {'FAILED' if any(p == part for p, _ in self.failures) else 'ok'}"
                    f" ({time.monotonic() - started:.1f}s)")
        except Exception as error:
            self.fail("cluster", f"{error}")
            for part in parts:
                if not any(p == part for p, _ in self.failures):
                    self.failures.append((part, "not run: the cluster failed"))
        finally:
            cluster.stop()
            for node in cluster.nodes:
                if node.process is not None and node.process.returncode not in (0, -15, -9, 143):
                    say(f"{self.name}: {node.name} exited with {node.process.returncode}; log {node.log_path}")
        return not self.failures

    def fail(self, part, reason):
        self.failures.append((part, reason))
        say(f"{self.name}: {part} FAILED:\n{reason}")

    # -- parts
    def part_etcdctl(self, cluster):
        runner = etcdctl_diff.Runner(cluster.endpoints, [n.name for n in cluster.nodes],
                                     log=lambda m: say(f"{self.name}: {m}"))
        runner.dead_members = lambda: ", ".join(f"{n.name} (exit {n.process.returncode}; log {n.log_path})"
                                                for n in cluster.nodes if not n.alive)
        transcript = []
        try:
            transcript = runner.run(etcdctl_diff.parse_script())
        finally:
            transcript = runner.transcript
            write(os.path.join(self.out, "etcdctl.raw.txt"), transcript)
        if self.name == "roster":
            self.check_snapshot_restores(cluster)
        normaliser = etcdctl_diff.Normaliser(cluster.describe(), {**runner.member_ids, **runner.added_members},
                                                 runner.cluster_id)
        self.normalised = etcdctl_diff.normalise(transcript, normaliser)
        path = os.path.join(self.out, "etcdctl.normalised.txt")
        write(path, self.normalised)
        if self.args.update_golden and self.name == "etcd":
            write(GOLDEN, self.normalised)
            say(f"{self.name}: wrote {GOLDEN}")
            return
        if not os.path.exists(GOLDEN):
            self.fail("etcdctl", f"no {GOLDEN}; record it with --update-golden against etcd")
            return
        with open(GOLDEN) as f:
            golden = f.read().rstrip("\n").split("\n")
        if golden != self.normalised:
            print(f"===== expected-etcdctl.txt (etcd 3.4.23, normalised) =====\n" + "\n".join(golden)
                  + f"\n===== {self.name} (normalised) =====\n" + "\n".join(self.normalised) + "\n=====",
                  file=sys.stderr, flush=True)
            self.fail("etcdctl", f"normalised transcript differs from expected-etcdctl.txt (real etcd 3.4):\n"
                      + "\n".join(diff(golden, self.normalised, "expected (etcd)", self.name))
                      + f"\nfull transcripts: {GOLDEN} and {path} (raw: {self.out}/etcdctl.raw.txt)")

    def check_snapshot_restores(self, cluster):
        """The file `etcdctl snapshot save` wrote from Roster is a Roster backup: `roster restore` builds a member from it."""
        snapshot = "/tmp/roster-etcd-interop-snapshot.db"
        data_dir = os.path.join(self.out, "restored-from-etcdctl-snapshot")
        command = [cluster.binary, "restore", snapshot, "--name", "r1", "--data-dir", data_dir,
                   "--client-addr", "127.0.0.1:1", "--peer-addr", "127.0.0.1:2", "--initial-cluster", "r1=127.0.0.1:2"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if done.returncode != 0 or "restored" not in done.stdout + done.stderr:
            self.fail("etcdctl", f"`roster restore` of the file etcdctl's snapshot save wrote failed (exit {done.returncode}): "
                      f"{done.stdout}{done.stderr}")
        else:
            say(f"{self.name}: etcdctl's snapshot file restored with roster restore")

    def part_python(self, cluster):
        command = [self.args.python, os.path.join(HERE, "python_check.py"), "--endpoints", ",".join(cluster.endpoints)]
        self.subprocess_part("python", command, 120)

    def part_clientv3(self, cluster):
        pids = ",".join(f"{ep}={pid}" for ep, pid in cluster.pids().items())
        command = [self.args.registry_check, "-endpoints", ",".join(cluster.endpoints), "-pids", pids]
        if self.name == "roster":  # its framework layouts, through its native HTTP API on the same ports
            command.append("-layouts")
        self.subprocess_part("clientv3", command, 150)

    def subprocess_part(self, part, command, limit):
        log_path = os.path.join(self.out, f"{part}.log")
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=limit)
            output, rc = done.stdout + done.stderr, done.returncode
        except subprocess.TimeoutExpired as e:
            output = (e.stdout or b"").decode(errors="replace") + (e.stderr or b"").decode(errors="replace")
            rc = f"timeout after {limit}s"
        with open(log_path, "w") as f:
            f.write(output)
        if rc != 0:
            tail = "\n".join(output.rstrip().split("\n")[-40:])
            self.fail(part, f"`{' '.join(command)}` exited {rc}; last lines (full log {log_path}):\n{tail}")


def main():
    # SIGTERM (the runner's trap) unwinds like Ctrl-C, so every cluster's `finally: stop()` runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser()
    parser.add_argument("--against", choices=["etcd", "roster", "both"], default="both")
    parser.add_argument("--only", choices=PARTS, action="append")
    parser.add_argument("--out", required=True)
    parser.add_argument("--roster-bin")
    parser.add_argument("--registry-check")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--update-golden", action="store_true")
    args = parser.parse_args()
    parts = [p for p in PARTS if not args.only or p in args.only]
    targets = ["etcd", "roster"] if args.against == "both" else [args.against]
    started = time.monotonic()
    results = {}
    for name in targets:
        out = os.path.join(args.out, name)
        os.makedirs(out, exist_ok=True)
        target = Target(name, out, args)
        target.run(parts)
        results[name] = target
    ok = all(not t.failures for t in results.values())
    if len(results) == 2 and "etcdctl" in parts:
        a, b = results["etcd"].normalised, results["roster"].normalised
        if a is not None and b is not None and a != b and not results["roster"].failures:
            ok = False
            say("etcdctl: etcd and roster transcripts differ:\n" + "\n".join(diff(a, b, "etcd", "roster")))
    print("", file=sys.stderr)
    say(f"summary ({time.monotonic() - started:.0f}s, outputs in {args.out}):")
    for name, target in results.items():
        for part in parts:
            failed = [r for p, r in target.failures if p == part]
            say(f"  {name:6} {part:8} {'FAIL' if failed else 'ok'}")
        for p, r in target.failures:
            if p not in parts:
                say(f"  {name:6} {p:8} FAIL: {r.splitlines()[0] if r else ''}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
