"""Hand-written histories that MUST be flagged."""
import unittest

from checker.tests.util import H


class Flagged(unittest.TestCase):
    def assertFlagged(self, h, *kinds, **kw):
        res = h.run(**kw)
        got = set(res.kinds())
        self.assertEqual(res.verdict, "anomalies", f"expected {kinds}, report ok")
        self.assertEqual(res.exit_code, 1)
        for k in kinds:
            self.assertIn(k, got, f"expected {k} in {sorted(got)}")
        for a in res.anomalies:
            self.assertTrue(a.message)
        return res

    def test_stale_read_after_completed_write(self):
        h = H()
        h.put(1, 0, 10, "ns/s/a", "v1", rev=1)
        w = h.put(1, 20, 30, "ns/s/a", "v2", rev=2)
        r = h.get(2, 40, 50, "ns/s/a", "v1", 1)
        res = self.assertFlagged(h, "stale_read")
        a = [a for a in res.anomalies if a.kind == "stale_read"][0]
        self.assertEqual(a.ops, [w, r])
        self.assertFalse(res.linearizable)

    def test_stale_value_at_current_revision(self):
        h = H()
        h.put(1, 0, 10, "a", "v1", rev=1)
        h.put(1, 20, 30, "a", "v2", rev=2)
        r = h.get(2, 40, 50, "a", "v1", 2)
        res = self.assertFlagged(h, "read_mismatch")
        self.assertIn(r, [i for a in res.anomalies for i in a.ops])

    def test_stale_list(self):
        h = H()
        h.put(1, 0, 10, "ns/a", 1, rev=1)
        h.delete(1, 20, 30, "ns/a", rev=2, deleted=1)
        h.lst(2, 40, 50, "ns/", [["ns/a", 1]], 2)
        self.assertFlagged(h, "read_mismatch")

    def test_linearizable_reads_going_backwards(self):
        h = H()
        h.put(1, 0, 10, "a", 1, rev=1)
        h.put(1, 20, 100, "a", 2, rev=2)
        h.get(2, 30, 40, "a", 2, 2)       # saw the new value
        h.get(3, 50, 60, "a", 1, 1)       # later read sees the old one
        self.assertFlagged(h, "stale_read")

    def test_lost_acknowledged_write(self):
        h = H()
        p = h.put(1, 0, 10, "ns/s/a", "v1", rev=1)
        h.put(1, 20, 30, "ns/s/b", "v2", rev=2)
        h.final("n1", 2, [["ns/s/b", "v2"]])
        res = self.assertFlagged(h, "lost_write")
        self.assertEqual([a for a in res.anomalies if a.kind == "lost_write"][0].ops, [p])

    def test_lost_leased_write_seen_by_watcher(self):
        h = H()
        h.op("grant", 1, 0, 5, lease=9, ttl=60)
        p = h.put(1, 10, 20, "ns/a", 1, rev=1, lease=9)
        h.put(1, 30, 40, "ns/b", 2, rev=2)
        h.watch(1, [(1, "put", "ns/a", 1), (2, "put", "ns/b", 2)], prefix="ns/", end=2)
        h.final("n1", 2, [["ns/b", 2]])
        res = self.assertFlagged(h, "lost_write")
        self.assertEqual([a for a in res.anomalies if a.kind == "lost_write"][0].ops, [p])

    def test_final_state_behind_acknowledged_write(self):
        h = H()
        h.put(1, 0, 10, "a", 1, rev=1)
        h.put(1, 20, 30, "b", 2, rev=2)
        h.final("n1", 1, [["a", 1]])
        self.assertFlagged(h, "final_state_behind")

    def test_revision_reused(self):
        h = H()
        a = h.put(1, 0, 10, "a", 1, rev=1)
        b = h.put(2, 0, 10, "b", 2, rev=1)
        res = self.assertFlagged(h, "revision_reused")
        self.assertEqual(sorted([x for x in res.anomalies if x.kind == "revision_reused"][0].ops), [a, b])

    def test_revision_backwards_in_real_time(self):
        h = H()
        h.put(1, 0, 10, "a", 1, rev=2)
        h.put(2, 20, 30, "b", 2, rev=1)
        self.assertFlagged(h, "revision_backwards")

    def test_write_after_read_gets_older_revision(self):
        h = H()
        h.put(1, 0, 10, "a", 1, rev=1)
        h.put(3, 0, 100, "c", 1, rev=2)
        h.get(1, 20, 30, "a", 1, 2)
        h.put(2, 40, 50, "b", 2, rev=2)
        self.assertFlagged(h, "revision_backwards")

    def test_read_from_the_future(self):
        h = H()
        h.put(1, 0, 10, "a", 1, rev=1)
        r = h.get(2, 20, 30, "a", 1, 5)
        res = self.assertFlagged(h, "future_read")
        self.assertEqual([a for a in res.anomalies if a.kind == "future_read"][0].ops, [r])

    def test_failed_write_observed(self):
        h = H()
        h.put(1, 0, 10, "a", 1, status="fail")
        h.get(2, 20, 30, "a", 1, 1)
        self.assertFlagged(h, "future_read")

    def test_wrong_prev_value_in_put_response(self):
        h = H()
        h.put(1, 0, 10, "a", 1, rev=1)
        h.put(1, 20, 30, "a", 2, rev=2, prev_value=7)
        self.assertFlagged(h, "write_result_mismatch")

    def test_delete_of_absent_key_claims_a_revision(self):
        h = H()
        h.put(1, 0, 10, "a", 1, rev=1)
        h.delete(1, 20, 30, "b", rev=2, deleted=1)
        self.assertFlagged(h, "write_result_mismatch")

    def _three_puts(self, h):
        h.put(1, 0, 10, "ns/a", 1, rev=1)
        h.put(1, 20, 30, "ns/b", 2, rev=2)
        h.put(1, 40, 50, "ns/a", 3, rev=3)

    def test_watch_gap(self):
        h = H()
        self._three_puts(h)
        h.watch(1, [(1, "put", "ns/a", 1), (3, "put", "ns/a", 3)], prefix="ns/")
        res = self.assertFlagged(h, "watch_gap")
        self.assertTrue(res.linearizable)

    def test_watch_gap_at_tail_with_progress_revision(self):
        h = H()
        self._three_puts(h)
        h.watch(1, [(1, "put", "ns/a", 1), (2, "put", "ns/b", 2)], prefix="ns/", end=3)
        self.assertFlagged(h, "watch_gap")

    def test_watch_duplicate(self):
        h = H()
        self._three_puts(h)
        h.watch(1, [(1, "put", "ns/a", 1), (2, "put", "ns/b", 2), (2, "put", "ns/b", 2),
                    (3, "put", "ns/a", 3)], prefix="ns/")
        self.assertFlagged(h, "watch_duplicate")

    def test_watch_out_of_order(self):
        h = H()
        self._three_puts(h)
        h.watch(1, [(1, "put", "ns/a", 1), (3, "put", "ns/a", 3), (2, "put", "ns/b", 2)], prefix="ns/")
        self.assertFlagged(h, "watch_out_of_order")

    def test_watch_wrong_prev_value(self):
        h = H()
        self._three_puts(h)
        h.watch(1, [(1, "put", "ns/a", 1, None), (3, "put", "ns/a", 3, 2)], prefix="ns/a")
        self.assertFlagged(h, "watch_wrong_prev_value")

    def test_watchers_disagree_on_known_write(self):
        h = H()
        self._three_puts(h)
        h.watch(1, [(1, "put", "ns/a", 1), (2, "put", "ns/b", 2), (3, "put", "ns/a", 3)], prefix="ns/")
        h.watch(2, [(1, "put", "ns/a", 1), (2, "put", "ns/b", 99), (3, "put", "ns/a", 3)], prefix="ns/")
        self.assertFlagged(h, "watch_mismatch")

    def test_watchers_disagree_on_unknown_write(self):
        h = H()
        h.put(1, 0, 10, "ns/a", 1, rev=1)
        h.put(2, 0, 10, "ns/b", "x", status="unknown")
        h.put(3, 0, 10, "ns/b", "y", status="unknown")
        h.get(1, 20, 30, "ns/a", 1, 2)
        h.watch(1, [(1, "put", "ns/a", 1), (2, "put", "ns/b", "x")], prefix="ns/")
        h.watch(2, [(1, "put", "ns/a", 1), (2, "put", "ns/b", "y")], prefix="ns/")
        res = self.assertFlagged(h, "watch_mismatch")
        self.assertTrue(res.linearizable)

    def test_watch_phantom_event(self):
        h = H()
        self._three_puts(h)
        h.watch(1, [(1, "put", "ns/a", 1), (2, "put", "ns/c", 5), (2, "put", "ns/b", 2)], prefix="ns/")
        self.assertFlagged(h, "watch_unknown_event")

    def test_watch_resumed_with_gap(self):
        h = H()
        self._three_puts(h)
        h.watch(1, [(1, "put", "ns/a", 1)], prefix="ns/", end=1)
        # resumed from last+1 = 2, but revision 2 is missing
        h.watch(1, [(3, "put", "ns/a", 3)], from_revision=2, prefix="ns/")
        self.assertFlagged(h, "watch_gap")

    def test_watch_progress_then_older_event(self):
        h = H()
        self._three_puts(h)
        h.raw(op="watch_start", watcher=1, prefix="ns/", from_revision=1)
        h.raw(op="watch_event", watcher=1, revision=1, type="put", key="ns/a", value=1)
        h.raw(op="watch_progress", watcher=1, revision=2)
        h.raw(op="watch_event", watcher=1, revision=2, type="put", key="ns/b", value=2)
        h.raw(op="watch_event", watcher=1, revision=3, type="put", key="ns/a", value=3)
        self.assertFlagged(h, "watch_out_of_order")

    def test_watch_progress_claims_missing_event(self):
        h = H()
        self._three_puts(h)
        h.raw(op="watch_start", watcher=1, prefix="ns/", from_revision=1)
        h.raw(op="watch_event", watcher=1, revision=1, type="put", key="ns/a", value=1)
        h.raw(op="watch_progress", watcher=1, revision=3)
        self.assertFlagged(h, "watch_gap")

    def test_watch_event_received_before_its_write(self):
        h = H()
        h.put(1, 0, 10, "ns/a", 1, rev=1)
        h.put(1, 50_000, 50_010, "ns/a", 2, rev=2)
        h.watch(1, [(1, "put", "ns/a", 1), (2, "put", "ns/a", 2)], prefix="ns/")  # recv 10_002
        self.assertFlagged(h, "watch_event_before_write")

    def test_watch_resync_wrong_state(self):
        h = H()
        self._three_puts(h)
        h.raw(op="watch_start", watcher=1, prefix="ns/", from_revision=1)
        h.raw(op="watch_resync", watcher=1, revision=2, pairs=[["ns/a", 1]])
        h.raw(op="watch_event", watcher=1, revision=3, type="put", key="ns/a", value=3)
        self.assertFlagged(h, "watch_resync_mismatch")

    def test_watch_filter(self):
        h = H()
        self._three_puts(h)
        h.watch(1, [(2, "put", "ns/b", 2)], prefix="ns/b", from_revision=2)
        h.watch(2, [(1, "put", "ns/a", 1)], prefix="ns/b", from_revision=3)
        self.assertFlagged(h, "watch_filter")

    def test_two_final_states_disagree(self):
        h = H()
        h.put(1, 0, 10, "a", 1, rev=1)
        h.final("n1", 1, [["a", 1]], "h1")
        h.final("n2", 1, [["a", 2]], "h2")
        self.assertFlagged(h, "divergence")

    def test_final_states_disagree_on_revision(self):
        h = H()
        h.put(1, 0, 10, "a", 1, rev=1)
        h.raw(op="final_state", node="n1", revision=1, hash="x")
        h.raw(op="final_state", node="n2", revision=0, hash="x")
        self.assertFlagged(h, "divergence")

    def test_serializable_reads_not_monotonic(self):
        h = H()
        h.put(1, 0, 10, "a", 1, rev=1)
        h.put(1, 20, 30, "a", 2, rev=2)
        h.get(2, 40, 50, "a", 2, 2, consistency="serializable")
        h.get(2, 60, 70, "a", 1, 1, consistency="serializable")
        self.assertFlagged(h, "serializable_non_monotonic")

    def test_serializable_read_with_wrong_state(self):
        h = H()
        h.put(1, 0, 10, "a", 1, rev=1)
        h.put(1, 20, 30, "a", 2, rev=2)
        h.get(2, 40, 50, "a", 2, 1, consistency="serializable")
        self.assertFlagged(h, "read_mismatch")

    def test_lease_expired_while_kept_alive(self):
        s = 1_000_000_000
        h = H()
        h.op("grant", 1, 0, 10, lease=7, ttl=10)
        h.put(1, 20, 30, "ns/a", 1, rev=1, lease=7)
        h.op("keepalive", 1, 5 * s, 5 * s + 10, lease=7, ttl=10)
        # the key disappears at revision 2 with no client op explaining it
        h.get(2, 6 * s, 6 * s + 10, "ns/a", None, 2)
        h.raw(op="watch_start", watcher=1, prefix="ns/", from_revision=1)
        h.raw(op="watch_event", watcher=1, revision=1, type="put", key="ns/a", value=1, recv_ns=40)
        h.raw(op="watch_event", watcher=1, revision=2, type="delete", key="ns/a", recv_ns=6 * s)
        res = self.assertFlagged(h, "lease_early_expiry")
        self.assertTrue(res.linearizable)

    def test_key_without_lease_disappears(self):
        h = H()
        h.put(1, 0, 10, "a", 1, rev=1)
        h.get(2, 20, 30, "a", None, 2)
        self.assertFlagged(h, "read_mismatch", "future_read")

    def test_revision_nothing_can_explain(self):
        h = H()
        h.put(1, 0, 10, "a", 1, rev=1)
        h.delete(3, 0, 10, "nope1", status="unknown")   # would not bump: key absent
        h.delete(4, 0, 10, "nope2", status="unknown")
        h.get(2, 20, 30, "b", None, 3)
        res = self.assertFlagged(h, "unexplained_revision")
        self.assertNotIn("future_read", res.kinds())

    def test_stale_value_at_current_revision_with_unknowns_around(self):
        # the old value was overwritten by an acknowledged write; indeterminate
        # puts of other values cannot bring it back
        h = H()
        h.put(1, 0, 10, "a", "old", rev=1)
        h.put(1, 20, 30, "a", "new", rev=2)
        for i in range(30):
            h.put(3 + i, 0, 10, "a", f"u{i}", status="unknown")
        h.put(1, 40, 50, "b", 1, rev=40)
        r = h.get(2, 60, 70, "a", "old", 40)
        res = self.assertFlagged(h, "read_mismatch")
        self.assertIn(r, [i for a in res.anomalies for i in a.ops])


if __name__ == "__main__":
    unittest.main()
