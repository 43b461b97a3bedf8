"""Faults. Each takes a Nemesis and returns a short description, or None when it could not run."""
from __future__ import annotations

import collections
import errno
import os
import signal
import time

NET_FAULTS = ("isolate_leader", "split", "bridge", "one_way")   # snapshot_catchup kills instead without netns
ROOT_FAULTS = ("disk_full",)
ALL_FAULTS = ("stall_majority_kill_leader", "kill_random", "kill_leader", "pause_leader_election", "isolate_leader",
              "split", "bridge", "one_way", "kill_majority", "pause_leader_lease", "snapshot_catchup",
              "leader_transfers", "membership", "disk_full", "kill_all")


class Nemesis:
    def __init__(self, cluster, network, rng, log, lease_ttl: float, disk_slot=None):
        self.cluster = cluster
        self.net = network
        self.rng = rng
        self.log = log
        self.lease_ttl = lease_ttl
        self.disk_slot = disk_slot
        self.counts = collections.Counter()
        self.skipped = collections.Counter()

    def supported(self, kind) -> bool:
        if kind in NET_FAULTS and self.net is None:
            return False
        if kind in ROOT_FAULTS and self.disk_slot is None:
            return False
        return True

    def run(self, kind) -> None:
        if not self.supported(kind):
            self.skipped[kind] += 1
            self.log(f"nemesis: SKIP {kind} (needs {'network namespaces' if kind in NET_FAULTS else 'root/tmpfs'})")
            return
        started = time.monotonic()
        try:
            what = getattr(self, kind)()
        finally:
            self.heal()
        if what is None:
            self.skipped[kind] += 1
            self.log(f"nemesis: {kind} could not run")
        else:
            self.counts[kind] += 1
            self.log(f"nemesis: {kind}: {what} ({time.monotonic() - started:.1f}s)")
        self.settle()

    # -- helpers ---------------------------------------------------------------------------------
    def slots(self):
        return [n.slot for n in self.cluster.members()]

    def leader(self, wait=15.0):
        return self.cluster.leader(wait)

    def heal(self):
        if self.net is not None:
            self.net.heal()
        for node in list(self.cluster.nodes.values()):
            if node.paused:
                self.cluster.resume(node.slot)
            if node.member and not node.alive:
                self.cluster.start(node.slot)

    def settle(self):
        self.cluster.leader(20.0)
        time.sleep(1.5)

    def name(self, slot):
        return self.cluster.nodes[slot].name

    def partition(self, groups):
        """Cuts every pair of slots in different groups."""
        for i, a in enumerate(groups):
            for b in groups[i + 1:]:
                for x in a:
                    for y in b:
                        self.net.cut(x, y)

    # -- faults ----------------------------------------------------------------------------------
    def kill_random(self):
        slot = self.rng.choice(self.slots())
        self.cluster.kill(slot)
        time.sleep(3)
        return f"kill -9 {self.name(slot)}, restart after 3 s"

    def kill_leader(self):
        slot = self.leader()
        if slot is None:
            return None
        self.cluster.kill(slot)
        time.sleep(3)
        return f"kill -9 leader {self.name(slot)}, restart after 3 s"

    def kill_majority(self):
        slots = self.slots()
        victims = self.rng.sample(slots, len(slots) // 2 + 1)
        for slot in victims:
            self.cluster.kill(slot)
        time.sleep(3)
        return f"kill -9 {', '.join(self.name(s) for s in victims)}, restart after 3 s"

    def kill_all(self):
        for slot in self.slots():
            self.cluster.kill(slot)
        time.sleep(2)
        return "kill -9 every node, restart after 2 s"

    def _pause_leader(self, seconds):
        slot = self.leader()
        if slot is None:
            return None
        self.cluster.pause(slot)
        time.sleep(seconds)
        self.cluster.resume(slot)
        return f"SIGSTOP leader {self.name(slot)} for {seconds:.1f} s, SIGCONT"

    def pause_leader_election(self):
        return self._pause_leader(2.5)

    def pause_leader_lease(self):
        return self._pause_leader(self.lease_ttl + 1.5)

    def stall_majority_kill_leader(self):
        """SIGSTOP every follower while writes flow to the leader, then kill -9 the leader and resume the
        followers: only writes acknowledged before they committed can be lost here."""
        slot = self.leader()
        if slot is None:
            return None
        followers = [s for s in self.slots() if s != slot]
        for s in followers:
            self.cluster.pause(s)
        time.sleep(2.0)
        self.cluster.kill(slot)
        for s in followers:
            self.cluster.resume(s)
        time.sleep(2.5)
        return f"SIGSTOP followers {', '.join(self.name(s) for s in followers)} 2 s, kill -9 leader {self.name(slot)}"

    def isolate_leader(self):
        slot = self.leader()
        if slot is None:
            return None
        self.partition([[slot], [s for s in self.slots() if s != slot]])
        time.sleep(4)
        return f"isolate leader {self.name(slot)} from its peers for 4 s"

    def split(self):
        slots = self.slots()
        self.rng.shuffle(slots)
        minority = slots[: (len(slots) - 1) // 2]
        majority = slots[len(minority):]
        self.partition([minority, majority])
        time.sleep(4)
        return (f"split minority [{', '.join(self.name(s) for s in minority)}] | "
                f"majority [{', '.join(self.name(s) for s in majority)}] for 4 s")

    def bridge(self):
        slots = self.slots()
        self.rng.shuffle(slots)
        middle = slots[0]
        rest = slots[1:]
        left, right = rest[: len(rest) // 2], rest[len(rest) // 2:]
        self.partition([left, right])          # the middle node reaches both sides
        time.sleep(5)
        return (f"bridge: [{', '.join(self.name(s) for s in left)}] and [{', '.join(self.name(s) for s in right)}] "
                f"reach each other only through {self.name(middle)} for 5 s")

    def one_way(self):
        slot = self.leader()
        if slot is None:
            return None
        others = [s for s in self.slots() if s != slot]
        if self.rng.random() < 0.5:
            for s in others:
                self.net.drop(s, slot)           # followers stop hearing the leader
            what = f"drop {self.name(slot)} (leader) -> others"
        else:
            for s in others:
                self.net.drop(slot, s)           # the leader stops hearing the followers
            what = f"drop others -> {self.name(slot)} (leader)"
        time.sleep(4)
        return what + " for 4 s"

    def snapshot_catchup(self):
        leader = self.leader()
        if leader is None:
            return None
        victim = self.rng.choice([s for s in self.slots() if s != leader])
        installs_before = self._installs(victim)
        if self.net is not None:
            self.partition([[victim], [s for s in self.slots() if s != victim]])
            how = "cut off"
        else:
            self.cluster.kill(victim)          # loopback mode: a stopped follower falls behind the same way
            how = "killed"
        start = self.cluster.status(leader) or {}
        target = start.get("applied_index", 0) + 2 * self.cluster.snapshot_entries + 10
        deadline = time.monotonic() + 40
        reached = False
        while time.monotonic() < deadline:
            leader_now = self.cluster.leader(2.0)
            status = self.cluster.status(leader_now) if leader_now else None
            if status and status.get("applied_index", 0) >= target:
                reached = True
                break
            time.sleep(0.5)
        if self.net is not None:
            self.net.heal()
        else:
            self.cluster.start(victim)
        caught = self.cluster.wait_converged(30)
        installed = self._installs(victim) - installs_before
        return (f"{how} follower {self.name(victim)} until the leader applied "
                f"{2 * self.cluster.snapshot_entries}+ entries ({'reached' if reached else 'NOT reached'}), "
                f"healed; snapshots installed: {installed}; caught up: {caught}")

    def _installs(self, slot):
        try:
            with open(self.cluster.nodes[slot].log_path, errors="replace") as f:
                return sum(1 for line in f if "installed snapshot" in line)
        except OSError:
            return 0

    def leader_transfers(self):
        done = []
        for _ in range(3):
            slot = self.leader()
            if slot is None:
                continue
            to = self.rng.choice([s for s in self.slots() if s != slot])
            reply = self.cluster.request(slot, "POST", "/v1/cluster/transfer-leadership", {"to": self.name(to)})
            done.append(f"{self.name(slot)}->{self.name(to)}:{reply.status}")
            time.sleep(1.5)
        return "transfers " + " ".join(done) if done else None

    def membership(self):
        leader = self.leader()
        if leader is None:
            return None
        waiting = [s for s in self.slots() if self.cluster.nodes[s].learner]
        if waiting:      # finish an earlier replacement before starting another, so the cluster never shrinks
            slot = waiting[0]
            ok = self.cluster.promote(slot, time.monotonic() + 20)
            return f"promoted the learner {self.name(slot)} left by an earlier replacement: {ok}"
        candidates = [s for s in self.slots() if s != leader and s != self.disk_slot]
        if not candidates:
            return None
        slot = self.rng.choice(candidates)
        old = self.name(slot)
        ok = self.cluster.replace_member(slot)
        return f"removed {old}, joined {self.name(slot)} as learner, promoted: {ok}"

    def disk_full(self):
        slot = self.disk_slot
        node = self.cluster.nodes[slot]
        if not node.alive:
            return None
        filler = os.path.join(node.data_dir, "chaos-filler")
        try:
            with open(filler, "wb") as f:
                chunk = b"\0" * 65536
                for _ in range(4096):              # bounded: at most 256 MiB
                    f.write(chunk)
                    f.flush()
        except OSError as error:
            if error.errno != errno.ENOSPC:
                raise
        deadline = time.monotonic() + 20
        while node.proc is not None and node.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        code = node.proc.poll() if node.proc is not None else None
        if code is not None:
            node.exit_codes.append(code)
        else:
            self.cluster.kill(slot)
        os.remove(filler)
        node.proc = None
        self.cluster.start(slot)
        return (f"filled {node.name}'s tmpfs data dir: node exited with code {code}"
                f"{' (fail-stop, as expected)' if code == 70 else ' (EXPECTED 70)'}; freed and restarted")
