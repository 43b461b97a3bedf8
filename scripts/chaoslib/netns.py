"""Per-node network namespaces on a bridge, and partitions inside them.

Layout: bridge `rosterbr0` (10.77.0.254/24, root namespace, where clients run); node slot i lives in
namespace `roster-c{i}` at 10.77.0.{i}. A partition drops, inside a node's namespace, packets from
(nftables input rule) or, without nft, to (blackhole route) the cut-off peers' addresses. Client
traffic comes from 10.77.0.254 and is never dropped. Only these namespaces and addresses are touched.
"""
from __future__ import annotations

import os
import shutil
import subprocess

BRIDGE = "rosterbr0"
SUBNET = "10.77.0"
HOST_IP = f"{SUBNET}.254"


def ns_name(slot: int) -> str:
    return f"roster-c{slot}"


def node_ip(slot: int) -> str:
    return f"{SUBNET}.{slot}"


def _run(*cmd, check=True):
    return subprocess.run(list(cmd), check=check, capture_output=True, text=True, timeout=20)


def available() -> tuple[bool, str]:
    if os.geteuid() != 0:
        return False, "not root"
    if not shutil.which("ip"):
        return False, "iproute2 (`ip`) is missing"
    return True, ""


def ensure_nft() -> bool:
    if shutil.which("nft"):
        return True
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "install", "-y", "-q", "nftables"], env=env, capture_output=True, timeout=180)
    return bool(shutil.which("nft"))


class Network:
    """Namespaces for slots 1..n (more can be added for membership changes)."""

    def __init__(self, log):
        self.log = log
        self.slots = []
        self.use_nft = False
        self.cuts = set()            # (dst_slot, src_slot): dst drops what src sends

    def setup(self, slots) -> None:
        self.teardown_stale()
        _run("ip", "link", "add", BRIDGE, "type", "bridge")
        _run("ip", "addr", "add", f"{HOST_IP}/24", "dev", BRIDGE)
        _run("ip", "link", "set", BRIDGE, "up")
        for slot in slots:
            self.add_slot(slot)
        self.use_nft = ensure_nft()
        self.log(f"network: namespaces on bridge {BRIDGE}, partitions with "
                 f"{'nftables input drops' if self.use_nft else 'blackhole routes (nft unavailable)'}")

    def add_slot(self, slot: int) -> None:
        ns, host_if, node_if = ns_name(slot), f"rv{slot}", f"rv{slot}n"
        # A namespace deleted just before (the previous run's teardown) takes its veth pair down asynchronously, so
        # the host end may still exist and `ip link add` would fail ("File exists"), dropping the whole run to
        # loopback without partitions: CI's second and third chaos runs did exactly that (2026-12-06). Deleting the
        # host end removes the pair at once.
        _run("ip", "link", "del", host_if, check=False)
        _run("ip", "netns", "add", ns)
        _run("ip", "link", "add", host_if, "type", "veth", "peer", "name", node_if)
        _run("ip", "link", "set", node_if, "netns", ns)
        _run("ip", "link", "set", host_if, "master", BRIDGE, "up")
        _run("ip", "-n", ns, "addr", "add", f"{node_ip(slot)}/24", "dev", node_if)
        _run("ip", "-n", ns, "link", "set", node_if, "up")
        _run("ip", "-n", ns, "link", "set", "lo", "up")
        self.slots.append(slot)

    def teardown_stale(self) -> None:
        listing = _run("ip", "netns", "list", check=False).stdout
        for line in listing.splitlines():
            name = line.split()[0] if line.strip() else ""
            if name.startswith("roster-c"):
                _run("ip", "netns", "del", name, check=False)
        _run("ip", "link", "del", BRIDGE, check=False)

    def teardown(self) -> None:
        for slot in list(self.slots):
            _run("ip", "link", "del", f"rv{slot}", check=False)
            _run("ip", "netns", "del", ns_name(slot), check=False)
        _run("ip", "link", "del", BRIDGE, check=False)
        self.slots = []

    # -- partitions ---------------------------------------------------------------------------
    def drop(self, dst: int, src: int) -> None:
        """`dst` stops receiving (nft) / `src` stops sending (routes) packets between src -> dst."""
        if (dst, src) in self.cuts:
            return
        self.cuts.add((dst, src))
        if self.use_nft:
            ns = ns_name(dst)
            _run("ip", "netns", "exec", ns, "nft", "add", "table", "inet", "chaos")
            _run("ip", "netns", "exec", ns, "nft", "add", "chain", "inet", "chaos", "input",
                 "{ type filter hook input priority 0 ; policy accept ; }")
            _run("ip", "netns", "exec", ns, "nft", "add", "rule", "inet", "chaos", "input",
                 "ip", "saddr", node_ip(src), "drop")
        else:
            _run("ip", "-n", ns_name(src), "route", "add", "blackhole", f"{node_ip(dst)}/32")

    def cut(self, a: int, b: int) -> None:
        self.drop(a, b)
        self.drop(b, a)

    def heal(self) -> None:
        for dst, src in list(self.cuts):
            if self.use_nft:
                _run("ip", "netns", "exec", ns_name(dst), "nft", "delete", "table", "inet", "chaos", check=False)
            else:
                _run("ip", "-n", ns_name(src), "route", "del", "blackhole", f"{node_ip(dst)}/32", check=False)
        self.cuts.clear()
