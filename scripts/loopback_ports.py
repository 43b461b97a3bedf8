"""Loopback ports for the checks' throwaway clusters (Python standard library only).

A port found by binding port 0 and closing the probe is a poor choice: it comes from the kernel's ephemeral
range, so the next probe may be handed the same number, and any outgoing connection (a member dialling its
peers) may take it as its source port before the member that was given it binds. Both happened in CI (a member
refused to start with "Address already in use"). The ports here come from below the ephemeral range, which
neither probes nor outgoing connections use, are probed free by binding them, and are never handed out twice
by one process.
"""
import random
import socket

_handed_out = set()
_LOWEST = 10000


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as ranges:
            return int(ranges.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port():
    """A port on 127.0.0.1 that is free now, outside the ephemeral range, and new to this process."""
    highest = max(_ephemeral_low(), _LOWEST + 1000)
    for _ in range(10000):
        port = random.randrange(_LOWEST, highest)
        if port in _handed_out:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free loopback port in {_LOWEST}..{highest - 1}")


def free_ports(count):
    """`count` distinct ports, each as `free_port` gives them."""
    return [free_port() for _ in range(count)]


if __name__ == "__main__":
    import sys
    print(" ".join(str(port) for port in free_ports(int(sys.argv[1]) if len(sys.argv) > 1 else 1)))
