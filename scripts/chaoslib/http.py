"""HTTP requests to Roster nodes, classified as ok / fail / unknown.

Only loopback and the suite's own namespace addresses are ever contacted (the caller passes
addresses it got from the cluster). Writes get one connection each. Reads (GETs) reuse one keep-alive
connection per thread and node, as discovery clients do: a node answers a connection's later reads on its I/O
loops (serializable ones from a published view, linearizable ones after a read barrier), so only reused
connections put those paths under the faults and the checker. A reused connection that fails is dropped, and a
read that failed after it was sent is "unknown", which costs a read nothing.
"""
from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Optional

# Set by `use_tls` (chaos --tls): every request then goes over HTTPS with a client certificate.
_tls_context: Optional[ssl.SSLContext] = None


def use_tls(ca_file: str, cert_file: str, key_file: str) -> None:
    """Trust `ca_file` and present the client certificate on every later request."""
    global _tls_context
    context = ssl.create_default_context(cafile=ca_file)
    context.load_cert_chain(cert_file, key_file)
    _tls_context = context


# Set by `use_credentials` (chaos --auth): a token from POST /v1/auth/authenticate goes with every request. One
# token for every client and node (the signing key is replicated, so any member verifies it), refreshed after
# TOKEN_REFRESH_S or as soon as a node refuses it.
_credentials: Optional[tuple] = None
_token: Optional[str] = None
_token_at = 0.0
_token_lock = threading.Lock()
TOKEN_REFRESH_S = 120.0
# The 401 codes after which the next request logs in again.
STALE_TOKEN = frozenset({"invalid_token", "auth_old_revision", "unauthenticated"})


def use_credentials(name: str, password: str) -> None:
    global _credentials
    _credentials = (name, password)


def _auth_headers(host: str, port: int, timeout: float) -> dict:
    """The Authorization header, logging in at this node when there is no fresh token (none when that fails:
    the request is then refused with 401, a definite failure)."""
    global _token, _token_at
    if _credentials is None:
        return {}
    with _token_lock:
        if _token is not None and time.monotonic() - _token_at < TOKEN_REFRESH_S:
            return {"Authorization": f"Bearer {_token}"}
    conn = _connection(host, port, timeout)
    try:
        body = json.dumps({"name": _credentials[0], "password": _credentials[1]}).encode()
        conn.request("POST", "/v1/auth/authenticate", body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        parsed = json.loads(response.read() or b"{}")
        if response.status != 200 or not isinstance(parsed, dict) or "token" not in parsed:
            return {}
        with _token_lock:
            _token, _token_at = parsed["token"], time.monotonic()
            return {"Authorization": f"Bearer {_token}"}
    except (OSError, http.client.HTTPException, ValueError):
        return {}
    finally:
        conn.close()


def _forget_token() -> None:
    global _token
    with _token_lock:
        _token = None


def _connection(host: str, port: int, timeout: float) -> http.client.HTTPConnection:
    if _tls_context is None:
        return http.client.HTTPConnection(host, port, timeout=timeout)
    return http.client.HTTPSConnection(host, port, timeout=timeout, context=_tls_context)


# 503 codes that guarantee nothing was applied.
DEFINITE_503 = frozenset({"no_leader", "not_applied", "read_not_confirmed", "leader_busy", "shutting_down"})


@dataclass
class Reply:
    outcome: str                 # ok | fail | unknown
    status: int = 0              # HTTP status, 0 when there was no answer
    code: str = ""               # Roster error code, or a transport description
    body: Any = None             # parsed JSON body (ok answers)
    headers: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    def header_int(self, name: str) -> Optional[int]:
        try:
            return int(self.headers.get(name.lower(), ""))
        except ValueError:
            return None


def classify(status: int, code: str) -> str:
    """The outcome of an answered request (pure; see the checker's fail/unknown rules)."""
    if 200 <= status < 300:
        return "ok"
    if 400 <= status < 500:
        return "fail"                       # rejected: nothing happened (429 overloaded included)
    if status == 503 and code in DEFINITE_503:
        return "fail"
    return "unknown"                        # 500 indeterminate, 504 timed_out, anything else


def classify_exception(sent: bool) -> str:
    """A transport error: before the request left, nothing happened; afterwards, anything may have."""
    return "unknown" if sent else "fail"


# Per thread: (host, port, timeout) -> an open keep-alive connection for reads.
_read_connections = threading.local()


def request(addr: tuple, method: str, path: str, body: Any = None, timeout: float = 3.0) -> Reply:
    host, port = addr
    reuse = method == "GET"
    if reuse and not hasattr(_read_connections, "pool"):
        _read_connections.pool = {}
    pool = _read_connections.pool if reuse else {}
    key = (host, port, timeout)
    conn = pool.pop(key, None)
    keep = False
    sent = False
    try:
        if conn is None:
            conn = _connection(host, port, timeout)
            try:
                conn.connect()
            except OSError as error:
                return Reply("fail", 0, f"connect: {type(error).__name__}")
        payload = None
        headers = _auth_headers(host, port, timeout)
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=payload, headers=headers)
            sent = True
            response = conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as error:
            return Reply(classify_exception(sent), 0, f"transport: {type(error).__name__}")
        hdrs = {k.lower(): v for k, v in response.getheaders()}
        parsed = None
        code = ""
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
            code = str(parsed["error"].get("code", ""))
        if response.status == 401 and code in STALE_TOKEN:
            _forget_token()
        keep = reuse and not response.will_close
        return Reply(classify(response.status, code), response.status, code, parsed, hdrs)
    finally:
        if keep:
            pool[key] = conn
        else:
            conn.close()


def metric(addr: tuple, name: str, timeout: float = 3.0) -> Optional[float]:
    """The value of an unlabelled metric in the node's /metrics, or None (no answer, no such line)."""
    host, port = addr
    conn = _connection(host, port, timeout)
    try:
        conn.request("GET", "/metrics", headers=_auth_headers(host, port, timeout))
        response = conn.getresponse()
        text = response.read().decode(errors="replace")
        if response.status != 200:
            return None
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
        return None
    except (OSError, http.client.HTTPException, ValueError):
        return None
    finally:
        conn.close()


def open_stream(addr: tuple, path: str, timeout: float):
    """Starts a streaming GET; returns (connection, response) or raises OSError/HTTPException."""
    host, port = addr
    headers = _auth_headers(host, port, timeout)
    conn = _connection(host, port, timeout)
    conn.request("GET", path, headers=headers)
    return conn, conn.getresponse()
