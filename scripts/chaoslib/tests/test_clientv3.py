"""Unit tests for the clientv3 workload's Python half (stdlib): the Go worker's answers become the attributes
`etcdmap` reads, failures become the outcomes python-etcd3's failures get, and a worker process that dies
mid-call makes the call's outcome unknown, not a crash."""
import base64
import os
import stat
import sys
import tempfile
import unittest

from chaoslib.clientv3workload import Clientv3Error, Clientv3Process, response
from chaoslib.etcdmap import classify_rpc_error, delete_fields, get_fields, list_fields, put_fields, rpc_error_info


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class Answers(unittest.TestCase):
    def test_put_with_a_previous_value(self):
        answer = {"ok": True, "revision": 12, "prev_kv": {"key": b64("k/1"), "value": b64("kv0-3")}, "deleted": 0}
        self.assertEqual(put_fields("k/1", "v3c0-1", response(answer)),
                         {"key": "k/1", "value": "v3c0-1", "lease": 0, "revision": 12, "prev_value": "kv0-3"})

    def test_put_of_an_absent_key(self):
        fields = put_fields("k/1", "v", response({"ok": True, "revision": 5, "deleted": 0}))
        self.assertIsNone(fields["prev_value"])

    def test_delete(self):
        self.assertEqual(delete_fields("k/2", response({"ok": True, "revision": 9, "deleted": 1})),
                         {"key": "k/2", "revision": 9, "deleted": 1})

    def test_get_of_a_present_and_an_absent_key(self):
        present = {"ok": True, "revision": 20, "deleted": 0, "kvs": [
            {"key": b64("k/3"), "value": b64("x"), "mod_revision": 18, "create_revision": 7, "version": 4}]}
        self.assertEqual(get_fields("k/3", "linearizable", response(present)),
                         {"key": "k/3", "consistency": "linearizable", "revision": 20, "value": "x",
                          "mod_revision": 18, "create_revision": 7, "version": 4})
        absent = get_fields("k/3", "serializable", response({"ok": True, "revision": 21, "deleted": 0}))
        self.assertIsNone(absent["value"])
        self.assertNotIn("mod_revision", absent)

    def test_list(self):
        answer = {"ok": True, "revision": 30, "deleted": 0, "kvs": [
            {"key": b64("k/0"), "value": b64("a"), "mod_revision": 3, "create_revision": 3, "version": 1},
            {"key": b64("k/5"), "value": b64("b"), "mod_revision": 4, "create_revision": 4, "version": 1}]}
        self.assertEqual(list_fields("k/", "linearizable", response(answer))["pairs"], [["k/0", "a"], ["k/5", "b"]])


class Failures(unittest.TestCase):
    def outcome(self, answer, write):
        with self.assertRaises(Clientv3Error) as raised:
            response(answer)
        code, text = rpc_error_info(raised.exception)
        return code, text, classify_rpc_error(code, write)

    def test_no_leader_write_is_unknown_and_read_failed(self):
        answer = {"ok": False, "code": "UNAVAILABLE", "details": "etcdserver: no leader"}
        self.assertEqual(self.outcome(answer, write=True), ("UNAVAILABLE", "UNAVAILABLE etcdserver: no leader", "unknown"))
        self.assertEqual(self.outcome(answer, write=False)[2], "fail")

    def test_definite_refusal_of_a_write_is_fail(self):
        answer = {"ok": False, "code": "FAILED_PRECONDITION", "details": "etcdserver: requested lease not found"}
        self.assertEqual(self.outcome(answer, write=True)[2], "fail")

    def test_answer_without_a_code_is_unknown_for_a_write(self):
        code, text, outcome = self.outcome({"ok": False, "details": "?"}, write=True)
        self.assertIsNone(code)
        self.assertEqual(outcome, "unknown")


FAKE_WORKER = """#!{python}
import json, sys
for line in sys.stdin:
    request = json.loads(line)
    if request["op"] == "die":
        sys.exit(3)
    print(json.dumps({{"ok": True, "revision": 1, "echo": request["op"]}}), flush=True)
"""


class Process(unittest.TestCase):
    def test_answers_in_order_and_a_dead_worker_is_an_unknown_outcome_then_restarted(self):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "fake-worker")
            with open(path, "w") as handle:
                handle.write(FAKE_WORKER.format(python=sys.executable))
            os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
            process = Clientv3Process(2.5, binary=path)
            try:
                self.assertEqual(process.call({"op": "get"})["echo"], "get")
                self.assertEqual(process.call({"op": "put"})["echo"], "put")
                with self.assertRaises(Clientv3Error) as raised:
                    process.call({"op": "die"})
                self.assertEqual(classify_rpc_error(rpc_error_info(raised.exception)[0], write=True), "unknown")
                self.assertEqual(process.call({"op": "list"})["echo"], "list")     # a new process
            finally:
                process.close()


if __name__ == "__main__":
    unittest.main()
