"""Roster chaos suite: real `roster` processes, a recorded workload, injected faults, checked history.

Modules: `http` (requests and ok/fail/unknown classification), `recorder` (the JSONL history),
`netns` (per-node network namespaces and nftables partitions), `cluster` (processes and their
control), `workload` (clients and watchers), `etcdworkload` + `etcdmap` (KV clients through the etcd v3
gRPC API with python-etcd3, and their pure record building), `nemesis` (faults), `runner` (a whole run).
"""
