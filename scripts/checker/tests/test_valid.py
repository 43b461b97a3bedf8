"""Hand-written histories that MUST pass."""
import unittest

from checker.tests.util import H

S = 1_000_000_000


class Valid(unittest.TestCase):
    def assertOk(self, h, **kw):
        res = h.run(**kw)
        self.assertEqual(res.anomalies, [], "\n".join(a.message for a in res.anomalies))
        self.assertEqual(res.verdict, "ok")
        self.assertEqual(res.exit_code, 0)
        self.assertTrue(res.linearizable)
        return res

    def test_empty_history(self):
        self.assertOk(H())

    def test_concurrent_writes_in_either_order(self):
        for first in ("x", "y"):
            h = H()
            h.put(1, 0, 100, "a", "x", rev=1 if first == "x" else 2)
            h.put(2, 10, 90, "a", "y", rev=2 if first == "x" else 1)
            last = "y" if first == "x" else "x"
            h.get(3, 200, 210, "a", last, 2)
            h.final("n1", 2, [["a", last]])
            self.assertOk(h)

    def test_unknown_write_that_happened(self):
        h = H()
        h.put(1, 0, 10, "a", 1, status="unknown")
        h.put(2, 20, 30, "b", 2, rev=2)
        h.get(3, 40, 50, "a", 1, 2)
        h.final("n1", 2, [["a", 1], ["b", 2]])
        self.assertOk(h)

    def test_unknown_write_that_did_not_happen(self):
        h = H()
        h.put(1, 0, 10, "a", 1, status="unknown")
        h.put(2, 20, 30, "b", 2, rev=1)
        h.get(3, 40, 50, "a", None, 1)
        h.final("n1", 1, [["b", 2]])
        self.assertOk(h)

    def test_unknown_write_applied_long_after_client_gave_up(self):
        h = H()
        h.put(1, 0, 10, "a", "late", status="unknown")
        h.put(1, 20, 30, "b", 1, rev=1)
        h.get(2, 40, 50, "a", None, 1)
        h.get(2, 60, 70, "a", "late", 2)
        self.assertOk(h)

    def test_failed_write_did_not_happen(self):
        h = H()
        h.put(1, 0, 10, "a", 1, status="fail")
        h.get(2, 20, 30, "a", None, 0)
        h.final("n1", 0, [])
        self.assertOk(h)

    def test_reads_overlapping_writes(self):
        h = H()
        h.put(1, 10, 50, "a", 1, rev=1)
        h.get(2, 0, 60, "a", None, 0)
        h.get(3, 20, 40, "a", 1, 1, mod_revision=1, create_revision=1, version=1)
        h.get(4, 5, 45, "a", None, 0)
        h.lst(5, 15, 55, "", [["a", 1]], 1)
        self.assertOk(h)

    def test_delete_without_count_is_a_write_or_a_read(self):
        h = H()
        h.put(1, 0, 10, "a", 1, rev=1)
        h.delete(1, 20, 30, "a", rev=2)            # was the write at 2
        h.delete(2, 40, 50, "a", rev=2)            # no-op read at 2
        h.delete(2, 60, 70, "zz", rev=2, deleted=0)
        h.get(3, 80, 90, "a", None, 2)
        self.assertOk(h)

    def test_revoke_deletes_all_keys_at_one_revision(self):
        h = H()
        h.op("grant", 1, 0, 5, lease=9, ttl=60)
        h.put(1, 10, 20, "ns/a", 1, rev=1, lease=9)
        h.put(1, 30, 40, "ns/b", 2, rev=2, lease=9)
        h.op("revoke", 1, 50, 60, lease=9, revision=3, deleted=2)
        h.lst(2, 70, 80, "ns/", [], 3)
        h.watch(1, [(1, "put", "ns/a", 1), (2, "put", "ns/b", 2), (3, "delete", "ns/a", None, 1),
                    (3, "delete", "ns/b", None, 2)], prefix="ns/", end=3)
        self.assertOk(h)

    def test_unobserved_lease_expiry_fills_a_gap(self):
        h = H()
        h.op("grant", 1, 0, 5, lease=9, ttl=1)
        h.put(1, 10, 20, "ns/a", 1, rev=1, lease=9)
        h.put(2, 3 * S, 3 * S + 10, "ns/b", 2, rev=3)
        h.lst(2, 4 * S, 4 * S + 10, "ns/", [["ns/b", 2]], 3)
        h.final("n1", 3, [["ns/b", 2]])
        self.assertOk(h)

    def test_explicit_expire_line(self):
        h = H()
        h.op("grant", 1, 0, 5, lease=9, ttl=1)
        h.put(1, 10, 20, "ns/a", 1, rev=1, lease=9)
        h.raw(op="expire", lease=9, revision=2, deleted=1, observed_ns=2 * S)
        h.get(2, 3 * S, 3 * S + 10, "ns/a", None, 2)
        self.assertOk(h)

    def test_several_leases_expire_at_one_revision(self):
        # Roster expires every due lease in one log entry: one revision, keys of all of them deleted.
        h = H()
        h.op("grant", 1, 0, 5, lease=9, ttl=1)
        h.op("grant", 2, 0, 5, lease=10, ttl=1)
        h.put(1, 10, 20, "ns/a", 1, rev=1, lease=9)
        h.put(2, 10, 20, "ns/b", 2, rev=2, lease=10)
        h.raw(op="expire", lease=9, revision=3, observed_ns=2 * S)
        h.raw(op="expire", lease=10, revision=3, observed_ns=2 * S)
        h.watch(7, [(1, "put", "ns/a", 1), (2, "put", "ns/b", 2), (3, "delete", "ns/a"), (3, "delete", "ns/b")])
        h.lst(2, 3 * S, 3 * S + 10, "ns/", [], 3)
        h.final("n1", 3, [])
        self.assertOk(h)

    def test_serializable_read_of_an_old_revision(self):
        h = H()
        h.put(1, 0, 10, "a", 1, rev=1)
        h.put(1, 20, 30, "a", 2, rev=2)
        h.get(2, 40, 50, "a", 1, 1, consistency="serializable")
        h.get(2, 60, 70, "a", 2, 2, consistency="serializable")
        self.assertOk(h)

    def test_watchers_resume_and_resync(self):
        h = H()
        h.put(1, 0, 10, "ns/a", 1, rev=1)
        h.put(1, 20, 30, "ns/b", 2, rev=2)
        h.put(1, 40, 50, "ns/a", 3, rev=3)
        h.put(1, 60, 70, "x/other", 4, rev=4)
        h.watch(1, [(1, "put", "ns/a", 1, None), (2, "put", "ns/b", 2, None)], prefix="ns/", end=2)
        h.watch(1, [(3, "put", "ns/a", 3, 1)], from_revision=3, prefix="ns/", end=4)
        h.raw(op="watch_start", watcher=2, key="ns/a", from_revision=1)
        h.raw(op="watch_resync", watcher=2, revision=2, pairs=[["ns/a", 1]])
        h.raw(op="watch_event", watcher=2, revision=3, type="put", key="ns/a", value=3)
        res = self.assertOk(h)
        self.assertEqual(res.stats["watch_events"], 4)

    def test_watch_hints_pick_the_right_unknown_write(self):
        h = H()
        h.put(1, 0, 10, "ns/a", "x", status="unknown")
        h.put(2, 0, 10, "ns/a", "y", status="unknown")
        h.put(3, 20, 30, "ns/b", 1, rev=3)
        h.watch(1, [(1, "put", "ns/a", "y", None), (2, "put", "ns/a", "x", "y"),
                    (3, "put", "ns/b", 1, None)], prefix="ns/")
        h.final("n1", 3, [["ns/a", "x"], ["ns/b", 1]])
        self.assertOk(h)

    def test_unknown_write_seen_only_by_a_watcher(self):
        h = H()
        h.put(1, 0, 10, "ns/a", 1, rev=1)
        h.put(2, 5, 10, "ns/b", 2, status="unknown")
        h.watch(1, [(1, "put", "ns/a", 1), (2, "put", "ns/b", 2)], prefix="ns/")
        self.assertOk(h)

    def test_final_states_agree(self):
        h = H()
        h.put(1, 0, 10, "a", {"addr": "10.0.0.1", "port": 80}, rev=1)
        h.final("n1", 1, [["a", {"port": 80, "addr": "10.0.0.1"}]], "abc")
        h.final("n2", 1, [["a", {"addr": "10.0.0.1", "port": 80}]], "abc")
        self.assertOk(h)


if __name__ == "__main__":
    unittest.main()
