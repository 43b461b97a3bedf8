"""The history file: thread-safe JSONL writer with one monotonic clock and unique op ids."""
from __future__ import annotations

import collections
import json
import threading
import time


def now_ns() -> int:
    return time.monotonic_ns()


class Recorder:
    def __init__(self, path: str):
        self.path = path
        self._file = open(path, "w", buffering=1)
        self._lock = threading.Lock()
        self._next_id = 1
        self.counts = collections.Counter()     # (op, status) -> n
        self.api_counts = collections.Counter() # (api, op, status) -> n; api "http" unless the line names one

    def next_id(self) -> int:
        with self._lock:
            value = self._next_id
            self._next_id += 1
            return value

    def write(self, record: dict) -> None:
        line = json.dumps(record, separators=(",", ":"))
        with self._lock:
            self._file.write(line + "\n")
            if "status" in record:
                self.counts[(record["op"], record["status"])] += 1
                self.api_counts[(record.get("api", "http"), record["op"], record["status"])] += 1

    def op(self, client: int, node: str, op: str, invoke_ns: int, status: str, error=None, **fields) -> None:
        record = {"id": self.next_id(), "client": client, "node": node, "op": op,
                  "invoke_ns": invoke_ns, "complete_ns": now_ns() if status != "unknown" else None,
                  "status": status}
        record.update(fields)
        if error and status != "ok":
            record["error"] = error
        self.write(record)

    def close(self) -> None:
        with self._lock:
            self._file.close()
