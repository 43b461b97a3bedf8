"""Pure translations from Roster's JSON answers to the checker's history fields (unit-tested)."""
from __future__ import annotations

from typing import Any, Optional

INSTANCE_NAMESPACE = "default"


def instance_key(service: str, instance_id: str, namespace: str = INSTANCE_NAMESPACE) -> str:
    return f"{namespace}/{service}/{instance_id}"


def instance_record(service: str, instance_id: str, endpoint: str, metadata: dict,
                    lease: Optional[int], namespace: str = INSTANCE_NAMESPACE) -> dict:
    """The instance object Roster stores for a register request with only these fields set.

    It is the value recorded for the put, and what reads and watch events return, so the checker's
    canonical JSON comparison works on the whole object."""
    return {"namespace": namespace, "service": service, "id": instance_id, "version": "",
            "endpoints": [endpoint], "metadata": dict(metadata), "weight": 100, "status": "up",
            "lease": lease if lease else None, "incarnation": 0}


def kv_value(item: dict) -> Any:
    """The value of a kv item (range answer, resync item, watch event): string or instance object."""
    if "instance" in item:
        return item["instance"]
    if "value" in item:
        return item["value"]
    if "value_base64" in item:
        return {"base64": item["value_base64"]}
    return None


def watch_line(line: dict, watcher: int, node: str, recv_ns: int, prev_requested: bool = True) -> Optional[dict]:
    """One NDJSON watch line as a history record; None for lines that carry nothing to check."""
    if "progress" in line:
        return {"op": "watch_progress", "watcher": watcher, "revision": int(line["progress"]["revision"]),
                "recv_ns": recv_ns}
    if "resync" in line:
        body = line["resync"]
        pairs = sorted([item["key"], kv_value(item)] for item in body.get("items", []))
        return {"op": "watch_resync", "watcher": watcher, "revision": int(body["revision"]), "pairs": pairs}
    if "error" in line:
        return {"op": "watch_end", "watcher": watcher, "reason": "error " + str(line["error"].get("code"))}
    if "revision" in line and "type" in line:
        record = {"op": "watch_event", "watcher": watcher, "node": node, "revision": int(line["revision"]),
                  "type": line["type"], "key": line["key"], "recv_ns": recv_ns}
        if line["type"] == "put":
            record["value"] = kv_value(line)
        if prev_requested:
            if "prev_instance" in line:
                record["prev_value"] = line["prev_instance"]
            elif "prev_value" in line:
                record["prev_value"] = line["prev_value"]
            elif "prev_value_base64" in line:
                record["prev_value"] = {"base64": line["prev_value_base64"]}
            else:
                record["prev_value"] = None       # asked for, not sent: the key was absent
        return record
    return None


def range_pairs(body: dict) -> list:
    """[[key, value], ...] sorted by key from a range answer."""
    return sorted([item["key"], kv_value(item)] for item in body.get("kvs", []))


def choose_leader(statuses: dict) -> Optional[str]:
    """The leader from {node: status-json-or-None}: a node that says it is leader with the highest term."""
    best = None
    for name, status in statuses.items():
        if status and status.get("role") == "leader":
            if best is None or status.get("term", 0) > best[1]:
                best = (name, status.get("term", 0))
    return best[0] if best else None
