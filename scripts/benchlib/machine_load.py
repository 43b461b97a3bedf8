"""What else the machine was doing while a benchmark phase ran, read from /proc.

A ratio between two systems means something only if both ran on the same quiet machine. Each phase records
the CPU time that neither the servers nor the load generator used (another process's work), the time the
hypervisor stole, and the disk's fsync latency measured just before it; a phase where foreign work or steal
took more than a tenth of one core is marked, so a reader can discount it instead of guessing.
"""
import os
import resource
import statistics
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
# A phase is marked when other processes used more than this share of one core, or steal exceeded it.
FOREIGN_SHARE_LIMIT = 0.10


def cpu_jiffies():
    """(busy, steal) jiffies over all CPUs since boot; busy excludes idle and iowait, includes steal."""
    with open("/proc/stat") as handle:
        fields = [int(value) for value in handle.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq = fields[:7]
    steal = fields[7] if len(fields) > 7 else 0
    return user + nice + system + irq + softirq + steal, steal


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def fsync_latency_ms(directory, samples=10):
    """Median time of a 4 KiB write plus fsync in `directory`: the disk as the servers are about to see it."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, ".fsync-probe")
    timings = []
    block = b"\0" * 4096
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for _ in range(samples):
            began = time.perf_counter()
            os.write(descriptor, block)
            os.fsync(descriptor)
            timings.append((time.perf_counter() - began) * 1000)
    finally:
        os.close(descriptor)
        os.unlink(path)
    return round(statistics.median(timings), 3)


class LoadProbe:
    """Brackets one phase: call `start` just before it and `finish` just after.

    `own_cpu` returns the CPU seconds used so far by the processes under test (the servers); the load
    generator's CPU is counted through RUSAGE_CHILDREN, which covers every child the benchmark waited for, and
    reported too (`client_cpu_s`), with the share of all cores that was busy (`busy_share`): on a small machine
    the load generator's own CPU can cap a phase, and these two show when it did.
    """

    def __init__(self, own_cpu, probe_directory):
        self.own_cpu = own_cpu
        self.probe_directory = probe_directory

    def start(self):
        self.fsync_ms = fsync_latency_ms(self.probe_directory)
        self.began = time.monotonic()
        self.busy, self.steal = cpu_jiffies()
        self.own = self.own_cpu()
        self.children = children_cpu_seconds()

    def finish(self):
        wall = max(time.monotonic() - self.began, 1e-6)
        busy, steal = cpu_jiffies()
        busy_s = (busy - self.busy) / CLK_TCK
        steal_s = (steal - self.steal) / CLK_TCK
        client_s = children_cpu_seconds() - self.children
        ours = (self.own_cpu() - self.own) + client_s
        foreign_s = max(0.0, busy_s - steal_s - ours)
        foreign_share, steal_share = foreign_s / wall, steal_s / wall
        # How much of the machine was busy: near 1.0 the phase measured the machine, not the slower system.
        busy_share = busy_s / (wall * (os.cpu_count() or 1))
        return {"fsync_ms_before": self.fsync_ms, "foreign_cpu_share": round(foreign_share, 3),
                "steal_share": round(steal_share, 3), "client_cpu_s": round(client_s, 3),
                "busy_share": round(min(busy_share, 1.0), 3),
                "foreign": foreign_share > FOREIGN_SHARE_LIMIT or steal_share > FOREIGN_SHARE_LIMIT}
