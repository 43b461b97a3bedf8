"""Roster processes: start, kill -9, SIGSTOP/SIGCONT, restart, membership, status and leader lookup."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from typing import Optional

from . import http as rhttp
from . import netns
from .mapping import choose_leader


MEMBER_KEY_PREFIX = "\x01roster/members/"


@dataclass
class Node:
    slot: int
    name: str
    client: tuple
    peer: tuple
    data_dir: str
    log_path: str
    netns: Optional[str] = None
    proc: Optional[subprocess.Popen] = None
    paused: bool = False
    member: bool = True
    tmpfs: bool = False
    joined: bool = False                    # added at run time: starts with --join <a live member's client address>
    learner: bool = False                   # added, not yet promoted (the next membership fault promotes it first)
    exit_codes: list = field(default_factory=list)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Cluster:
    def __init__(self, binary, run_dir, size, use_netns, log, unsafe=False, snapshot_entries=200,
                 base_port=None, extra_flags=()):
        self.binary = binary
        self.run_dir = run_dir
        self.size = size
        self.use_netns = use_netns
        self.log = log
        self.unsafe = unsafe
        self.snapshot_entries = snapshot_entries
        self.base_port = base_port or (24000 + (os.getpid() % 200) * 20)
        self.extra_flags = list(extra_flags)
        self.nodes: dict[int, Node] = {}
        self.generation = 0
        self.recorder = None
        for slot in range(1, size + 1):
            self.nodes[slot] = self._make(slot, f"n{slot}", 0)
        self.initial_cluster = ",".join(f"{n.name}={n.peer[0]}:{n.peer[1]}" for n in self.nodes.values())

    def _make(self, slot, name, gen) -> Node:
        if self.use_netns:
            ip = netns.node_ip(slot)
            client, peer = (ip, 2379), (ip, 2380 + 10 * gen)
        else:
            port = self.base_port + 2 * slot + 40 * gen
            client, peer = ("127.0.0.1", port), ("127.0.0.1", port + 1)
        return Node(slot, name, client, peer, os.path.join(self.run_dir, name), os.path.join(self.run_dir, name + ".log"),
                    netns.ns_name(slot) if self.use_netns else None)

    # -- processes ------------------------------------------------------------------------------
    def start(self, slot, join: bool = False) -> None:
        node = self.nodes[slot]
        if node.alive:
            return
        node.joined = node.joined or join
        os.makedirs(node.data_dir, exist_ok=True)
        cmd = [self.binary, "--name", node.name, "--data-dir", node.data_dir,
               "--client-addr", f"{node.client[0]}:{node.client[1]}", "--peer-addr", f"{node.peer[0]}:{node.peer[1]}",
               "--heartbeat-ms", "100", "--election-ms", "1000",
               "--snapshot-entries", str(self.snapshot_entries), "--request-timeout-ms", "2000",
               # Two I/O loops each, as on a machine of its own, also when the members share loopback (where the
               # default gives none): the runs check the reads those loops answer (views, read barriers).
               "--io-threads", "2",
               ] + self.extra_flags
        if node.joined:
            # As an operator would: learn the cluster from any running member (a restart needs none: its data
            # records the members). The founders' list would name members long replaced, whose successors'
            # Raft traffic a newcomer refuses.
            others = [n for n in self.nodes.values() if n.slot != slot and n.member and n.alive and not n.paused]
            via = others[0] if others else None
            cmd += ["--join", f"{via.client[0]}:{via.client[1]}" if via else f"{node.client[0]}:{node.client[1]}"]
        else:
            cmd += ["--initial-cluster", self.initial_cluster]
        if self.unsafe:
            cmd.append("--unsafe-ack-before-commit")
        if node.netns:
            cmd = ["ip", "netns", "exec", node.netns] + cmd
        with open(node.log_path, "a") as log:
            log.write(f"--- {time.strftime('%H:%M:%S')} starting: {' '.join(cmd)}\n")
            log.flush()
            node.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        node.paused = False

    def start_all(self) -> None:
        for slot, node in self.nodes.items():
            if node.member:
                self.start(slot)

    def signal(self, slot, sig) -> None:
        node = self.nodes[slot]
        if node.alive:
            try:
                os.kill(node.proc.pid, sig)
            except ProcessLookupError:
                pass

    def kill(self, slot) -> None:
        node = self.nodes[slot]
        if node.proc is None:
            return
        self.signal(slot, signal.SIGKILL)
        try:
            node.exit_codes.append(node.proc.wait(timeout=10))
        except subprocess.TimeoutExpired:
            pass
        node.proc = None
        node.paused = False

    def pause(self, slot) -> None:
        self.signal(slot, signal.SIGSTOP)
        self.nodes[slot].paused = True

    def resume(self, slot) -> None:
        self.signal(slot, signal.SIGCONT)
        self.nodes[slot].paused = False

    def stop_all(self) -> None:
        for slot in list(self.nodes):
            if self.nodes[slot].paused:
                self.resume(slot)
            self.kill(slot)

    # -- queries --------------------------------------------------------------------------------
    def members(self) -> list:
        return [n for n in self.nodes.values() if n.member]

    def targets(self) -> list:
        return [(n.name, n.client) for n in self.members()]

    def addr_of(self, name) -> Optional[tuple]:
        for n in self.members():
            if n.name == name:
                return n.client
        return None

    def names(self) -> list:
        return [n.name for n in self.members()]

    def slot_of(self, name) -> Optional[int]:
        for n in self.nodes.values():
            if n.name == name:
                return n.slot
        return None

    def status(self, slot, timeout=1.0) -> Optional[dict]:
        node = self.nodes[slot]
        if not node.alive or node.paused:
            return None
        reply = rhttp.request(node.client, "GET", "/v1/cluster/status", timeout=timeout)
        return reply.body if reply.ok else None

    def leader(self, wait: float = 15.0) -> Optional[int]:
        """Slot of the current leader, waiting up to `wait` seconds for one."""
        deadline = time.monotonic() + wait
        while True:
            statuses = {n.slot: self.status(n.slot) for n in self.members()}
            found = choose_leader(statuses)
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.2)

    def wait_converged(self, wait: float = 30.0) -> bool:
        """Every member is up, agrees on a leader and has applied the same revision."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            statuses = [self.status(n.slot) for n in self.members()]
            if all(statuses):
                leaders = {s.get("leader") for s in statuses}
                revisions = {s.get("revision") for s in statuses}
                if len(leaders) == 1 and None not in leaders and len(revisions) == 1:
                    return True
            time.sleep(0.3)
        return False

    def request(self, slot, method, path, body=None, timeout=3.0):
        return rhttp.request(self.nodes[slot].client, method, path, body, timeout=timeout)

    # -- membership -----------------------------------------------------------------------------
    def record_member_write(self, kind, name, peer=None, invoke_ns=0):
        """Membership changes write an internal key (\x01roster/members/NAME = "NAME\nPEER\n") in the
        key space, bumping the revision. They are recorded as indeterminate writes (no revision is
        returned), so the checker can place them."""
        if self.recorder is None:
            return
        from .workload import new_client_id
        key = MEMBER_KEY_PREFIX + name
        if kind == "put":
            self.recorder.op(new_client_id(), "nemesis", "put", invoke_ns, "unknown", key=key,
                             value=f"{name}\n{peer[0]}:{peer[1]}\n", lease=0)
        else:
            self.recorder.op(new_client_id(), "nemesis", "delete", invoke_ns, "unknown", key=key)

    def replace_member(self, slot) -> bool:
        """Removes member `slot` under load, wipes it, and adds it back under a new name as a learner,
        then promotes it. Returns True when the new member is a voter."""
        old = self.nodes[slot]
        leader = self.leader()
        if leader is None:
            return False
        if leader == slot:
            return False
        invoke = time.monotonic_ns()
        reply = self.request(leader, "DELETE", f"/v1/cluster/members/{old.name}")
        if reply.outcome != "fail":
            self.record_member_write("delete", old.name, invoke_ns=invoke)
        self.log(f"  remove {old.name}: {reply.status} {reply.code}")
        if not reply.ok:
            return False
        old.member = False
        self.kill(slot)
        self.generation += 1
        new = self._make(slot, f"{old.name.split('g')[0]}g{self.generation}", self.generation)
        shutil.rmtree(new.data_dir, ignore_errors=True)
        self.nodes[slot] = new
        new.member = False
        deadline = time.monotonic() + 20
        added = False
        while time.monotonic() < deadline and not added:
            leader = self.leader()
            if leader is not None:
                invoke = time.monotonic_ns()
                reply = self.request(leader, "POST", "/v1/cluster/members",
                                     {"name": new.name, "peer_address": f"{new.peer[0]}:{new.peer[1]}"})
                if reply.outcome != "fail":
                    self.record_member_write("put", new.name, new.peer, invoke_ns=invoke)
                added = reply.ok
                if not added:
                    self.log(f"  add {new.name}: {reply.status} {reply.code} {refusal(reply)}")
            if not added:
                time.sleep(0.5)
        if not added:
            return False
        self.start(slot, join=True)
        new.member = True       # a learner at least; keep it in the target list
        new.learner = True
        return self.promote(slot, deadline + 20)

    def promote(self, slot, deadline) -> bool:
        """Promotes the learner in `slot`, retrying (it must catch up first) until `deadline`."""
        node = self.nodes[slot]
        last = None
        while time.monotonic() < deadline:
            leader = self.leader()
            if leader is not None:
                reply = self.request(leader, "POST", f"/v1/cluster/members/{node.name}/promote")
                if reply.ok:
                    node.learner = False
                    self.log(f"  {node.name} joined and was promoted")
                    return True
                said = f"{reply.status} {reply.code} {refusal(reply)}"
                if said != last:                 # each new refusal once, not every retry
                    self.log(f"  promote {node.name}: {said}")
                    last = said
            time.sleep(0.5)
        return False


def refusal(reply) -> str:
    """The message of a refused request's error body, for the log."""
    if isinstance(reply.body, dict) and isinstance(reply.body.get("error"), dict):
        return str(reply.body["error"].get("message", ""))
    return ""


def resolver(cluster: Cluster):
    def resolve(slot):
        node = cluster.nodes.get(slot)
        if node is None or not node.member:
            return None, None
        return node.name, node.client
    return resolve
