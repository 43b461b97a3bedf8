"""Unit tests for the pure parts of the chaos harness (python3 -m unittest discover -s scripts/chaoslib/tests -t scripts)."""
import unittest

from chaoslib.http import classify, classify_exception
from chaoslib.mapping import choose_leader, instance_record, range_pairs, watch_line
from chaoslib.nemesis import ALL_FAULTS, NET_FAULTS, ROOT_FAULTS


class Classification(unittest.TestCase):
    def test_success_and_rejections(self):
        self.assertEqual(classify(200, ""), "ok")
        self.assertEqual(classify(202, ""), "ok")
        for status, code in [(400, "unknown_field"), (404, "lease_not_found"), (409, "stale_incarnation"),
                             (429, "overloaded")]:
            self.assertEqual(classify(status, code), "fail")

    def test_definite_503_codes_did_not_happen(self):
        for code in ("no_leader", "not_applied", "read_not_confirmed", "leader_busy", "shutting_down"):
            self.assertEqual(classify(503, code), "fail")

    def test_indeterminate_answers(self):
        self.assertEqual(classify(500, "indeterminate"), "unknown")
        self.assertEqual(classify(504, "timed_out"), "unknown")
        self.assertEqual(classify(503, "something_new"), "unknown")

    def test_transport_errors(self):
        self.assertEqual(classify_exception(sent=False), "fail")
        self.assertEqual(classify_exception(sent=True), "unknown")


class Mapping(unittest.TestCase):
    def test_kv_put_event_without_previous_means_absent(self):
        rec = watch_line({"revision": 1, "type": "put", "cause": "put", "key": "k/a", "value": "v1"}, 7, "n1", 5)
        self.assertEqual(rec, {"op": "watch_event", "watcher": 7, "node": "n1", "revision": 1, "type": "put",
                               "key": "k/a", "recv_ns": 5, "value": "v1", "prev_value": None})

    def test_instance_delete_event_uses_the_instance_object(self):
        inst = instance_record("web", "i1", "http://10.0.0.1:80", {}, 77)
        rec = watch_line({"revision": 10, "type": "delete", "cause": "lease_revoked", "key": "default/web/i1",
                          "prev_instance": inst}, 1, "n2", 9)
        self.assertEqual(rec["prev_value"], inst)
        self.assertNotIn("value", rec)

    def test_progress_resync_error(self):
        self.assertEqual(watch_line({"progress": {"revision": 5}}, 1, "n1", 3),
                         {"op": "watch_progress", "watcher": 1, "revision": 5, "recv_ns": 3})
        rec = watch_line({"resync": {"revision": 9, "items": [{"key": "b", "value": "2"}, {"key": "a", "value": "1"}]}},
                         1, "n1", 3)
        self.assertEqual(rec, {"op": "watch_resync", "watcher": 1, "revision": 9, "pairs": [["a", "1"], ["b", "2"]]})
        self.assertEqual(watch_line({"error": {"code": "no_leader"}}, 1, "n1", 3)["op"], "watch_end")

    def test_instance_record_matches_the_server_shape(self):
        # as returned by a real node for PUT /v1/services/web/instances/i3 {"endpoints": [...], "lease": 77, ...}
        server = {"namespace": "default", "service": "web", "id": "i3", "version": "",
                  "endpoints": ["http://10.0.0.1:80"], "metadata": {"v": "c1-1"}, "weight": 100, "status": "up",
                  "lease": 77, "incarnation": 0}
        self.assertEqual(instance_record("web", "i3", "http://10.0.0.1:80", {"v": "c1-1"}, 77), server)
        self.assertIsNone(instance_record("web", "i3", "e", {}, None)["lease"])

    def test_range_pairs_sorted(self):
        body = {"kvs": [{"key": "k/2", "value": "b"}, {"key": "default/x/y", "instance": {"id": "y"}}]}
        self.assertEqual(range_pairs(body), [["default/x/y", {"id": "y"}], ["k/2", "b"]])

    def test_choose_leader_prefers_highest_term(self):
        self.assertEqual(choose_leader({1: {"role": "leader", "term": 3}, 2: {"role": "leader", "term": 4},
                                        3: None}), 2)
        self.assertIsNone(choose_leader({1: {"role": "follower", "term": 3}, 2: None}))


class Faults(unittest.TestCase):
    def test_every_required_fault_kind_is_scheduled(self):
        for kind in NET_FAULTS + ROOT_FAULTS + ("snapshot_catchup",):
            self.assertIn(kind, ALL_FAULTS)
        self.assertEqual(len(set(ALL_FAULTS)), len(ALL_FAULTS))


if __name__ == "__main__":
    unittest.main()
