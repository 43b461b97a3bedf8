"""Sequential model of the Roster key space, with cheap undo and an
incremental state hash (used as the memo key of the linearizability search).

State: key -> Entry(value, lease, create_revision, mod_revision, version) and
the current revision.  Every effective write bumps the revision by exactly
one; a write with no effect (delete of an absent key, revoke/expire of a
lease that owns no key) does not bump it and can therefore never be the
write at a given revision.
"""

from __future__ import annotations

from typing import NamedTuple, Optional
from .history import in_prefix


class Entry(NamedTuple):
    value: str
    lease: int
    create_revision: int
    mod_revision: int
    version: int


class Change(NamedTuple):
    key: str
    type: str                 # "put" | "delete"
    value: Optional[str]
    prev_value: Optional[str]


class State:
    __slots__ = ("kv", "lease_keys", "revision", "hash")

    def __init__(self):
        self.kv: dict = {}
        self.lease_keys: dict = {}
        self.revision = 0
        self.hash = 0

    # -- primitive mutations (all undoable) ---------------------------------
    def _set(self, key: str, new: Optional[Entry], undo: list):
        old = self.kv.get(key)
        undo.append((key, old))
        if old is not None:
            self.hash ^= hash((key, old))
            if old.lease:
                s = self.lease_keys[old.lease]
                s.discard(key)
                if not s:
                    del self.lease_keys[old.lease]
            del self.kv[key]
        if new is not None:
            self.kv[key] = new
            self.hash ^= hash((key, new))
            if new.lease:
                self.lease_keys.setdefault(new.lease, set()).add(key)

    def undo(self, undo: list):
        scratch: list = []
        for key, old in reversed(undo):
            self._set(key, old, scratch)
        self.revision -= 1

    # -- writes: return (undo, changes) or None when the write has no effect --
    def effective(self, op: str, key: Optional[str], lease: int) -> bool:
        if op == "put":
            return True
        if op == "delete":
            return key in self.kv
        if isinstance(lease, tuple):          # one expiry entry covering several leases
            return any(one in self.lease_keys for one in lease)
        return lease in self.lease_keys       # revoke / expire

    def apply(self, op: str, key: Optional[str], value: Optional[str], lease: int):
        """Apply an effective write as revision self.revision+1."""
        rev = self.revision + 1
        undo: list = []
        changes: list = []
        if op == "put":
            old = self.kv.get(key)
            if old is None:
                new = Entry(value, lease, rev, rev, 1)
            else:
                new = Entry(value, lease, old.create_revision, rev, old.version + 1)
            changes.append(Change(key, "put", value, None if old is None else old.value))
            self._set(key, new, undo)
        elif op == "delete":
            old = self.kv[key]
            changes.append(Change(key, "delete", None, old.value))
            self._set(key, None, undo)
        else:  # revoke / expire (of one lease, or of a tuple of leases expired by one entry)
            keys = set()
            for one in (lease if isinstance(lease, tuple) else (lease,)):
                keys |= self.lease_keys.get(one, set())
            for k in sorted(keys):
                changes.append(Change(k, "delete", None, self.kv[k].value))
                self._set(k, None, undo)
        self.revision = rev
        return undo, changes

    # -- reads ---------------------------------------------------------------
    def prefix_pairs(self, prefix: str) -> list:
        return sorted((k, e.value) for k, e in self.kv.items() if in_prefix(k, prefix))

    def lease_key_count(self, lease) -> int:
        """Keys attached to a lease, or to any lease of a tuple."""
        if isinstance(lease, tuple):
            return sum(len(self.lease_keys.get(one, ())) for one in lease)
        return len(self.lease_keys.get(lease, ()))
