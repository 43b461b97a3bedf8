"""Pure parts of the etcd-API workload (unit-tested; no gRPC or etcd3 import here).

gRPC errors become outcomes, etcd responses become the checker's history fields, exactly as `KVWorker`
writes them for the HTTP API, so one checker reads both. Responses are used duck-typed (the attributes of
etcd's protobuf messages: `header.revision`, `prev_kv.key`/`.value`, `kvs[i].key/value/mod_revision/
create_revision/version`, `deleted`), so tests can pass simple stand-ins.
"""
from __future__ import annotations

import base64
from typing import Any, Optional, Tuple

# gRPC codes that say a write was refused before anything could be applied. Everything else a write can
# end with (Unavailable "no leader", "request timed out", "leader changed", DeadlineExceeded, Cancelled,
# Unknown, a broken connection, ...) may have been applied: "unknown", the checker's indeterminate rule.
DEFINITE_WRITE_CODES = frozenset({"INVALID_ARGUMENT", "NOT_FOUND", "FAILED_PRECONDITION"})


def classify_rpc_error(code: Optional[str], write: bool) -> str:
    """The outcome of a call that raised: reads that error did not happen ("fail"); writes are "fail" only
    for a definite refusal (`DEFINITE_WRITE_CODES`), otherwise "unknown" (timeouts included)."""
    if not write:
        return "fail"
    return "fail" if code in DEFINITE_WRITE_CODES else "unknown"


def rpc_error_info(error: BaseException) -> Tuple[Optional[str], str]:
    """(gRPC status code name or None, description) of an exception raised by an etcd3 call.

    python-etcd3 re-raises some `grpc.RpcError`s as its own exceptions (ConnectionFailedError for
    Unavailable, ConnectionTimeoutError for DeadlineExceeded, ...) from inside the `except`, so the
    original call error is the exception's `__context__`/`__cause__`."""
    seen = set()
    current: Any = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        code_fn = getattr(current, "code", None)
        if callable(code_fn):
            try:
                code = code_fn()
                name = getattr(code, "name", None) or str(code)
                details_fn = getattr(current, "details", None)
                details = details_fn() if callable(details_fn) else ""
                return name, f"{name} {details or ''}".strip()
            except Exception:       # not a finished gRPC call: keep looking
                pass
        current = current.__cause__ or current.__context__
    return None, f"{type(error).__name__}: {error}"


def decode_value(raw: bytes) -> Any:
    """Bytes as the HTTP API shows them (and the checker compares them): UTF-8 text as a string, anything
    else as {"base64": ...} (`mapping.kv_value`'s form for `value_base64`)."""
    if isinstance(raw, str):
        return raw
    try:
        return bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(bytes(raw)).decode("ascii")}


def decode_key(raw: bytes) -> Any:
    value = decode_value(raw)
    return value if isinstance(value, str) else raw.hex()


def put_fields(key: str, value: str, response: Any = None) -> dict:
    """A put with `prev_kv` asked: revision of this write and the previous value (None = was absent)."""
    fields = {"key": key, "value": value, "lease": 0}
    if response is not None:
        fields["revision"] = int(response.header.revision)
        prev = getattr(response, "prev_kv", None)
        # an unset message field reads as an empty KeyValue; etcd keys are never empty
        fields["prev_value"] = decode_value(prev.value) if prev is not None and prev.key else None
    return fields


def delete_fields(key: str, response: Any = None) -> dict:
    """deleted 1: revision is this delete's; deleted 0: the revision the key was seen absent at."""
    fields = {"key": key}
    if response is not None:
        fields["revision"] = int(response.header.revision)
        fields["deleted"] = int(response.deleted)
    return fields


def get_fields(key: str, consistency: str, response: Any = None) -> dict:
    fields = {"key": key, "consistency": consistency}
    if response is not None:
        fields["revision"] = int(response.header.revision)
        kvs = list(response.kvs)
        item = kvs[0] if kvs else None       # a Range of one key; another key here shows as a wrong value
        fields["value"] = decode_value(item.value) if item is not None else None
        if item is not None:
            fields["mod_revision"] = int(item.mod_revision)
            fields["create_revision"] = int(item.create_revision)
            fields["version"] = int(item.version)
    return fields


def list_fields(prefix: str, consistency: str, response: Any = None) -> dict:
    fields = {"prefix": prefix, "consistency": consistency}
    if response is not None:
        fields["revision"] = int(response.header.revision)
        fields["pairs"] = sorted([decode_key(kv.key), decode_value(kv.value)] for kv in response.kvs)
    return fields
