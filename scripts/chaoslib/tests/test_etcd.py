"""Unit tests for the etcd-API workload's pure parts (stdlib; a second class uses etcd's real protobuf
messages when python3-etcd3 is importable, e.g. under /usr/bin/python3)."""
import unittest
from types import SimpleNamespace as NS

from chaoslib.etcdmap import (classify_rpc_error, decode_value, delete_fields, get_fields, list_fields,
                              put_fields, rpc_error_info)
from chaoslib.runner import parse_args, summary_table


def header(revision):
    return NS(revision=revision)


def kv(key, value, mod=0, create=0, version=0):
    return NS(key=key, value=value, mod_revision=mod, create_revision=create, version=version, lease=0)


EMPTY_KV = kv(b"", b"")      # how protobuf shows an unset message field


class FakeCode:
    def __init__(self, name):
        self.name = name


class FakeRpcError(Exception):
    def __init__(self, code, details):
        super().__init__(details)
        self._code, self._details = code, details

    def code(self):
        return FakeCode(self._code)

    def details(self):
        return self._details


class Classification(unittest.TestCase):
    def test_reads_that_error_did_not_happen(self):
        for code in ("UNAVAILABLE", "DEADLINE_EXCEEDED", "INVALID_ARGUMENT", "UNKNOWN", None):
            self.assertEqual(classify_rpc_error(code, write=False), "fail")

    def test_definite_write_refusals(self):
        for code in ("INVALID_ARGUMENT", "NOT_FOUND", "FAILED_PRECONDITION"):
            self.assertEqual(classify_rpc_error(code, write=True), "fail")

    def test_every_other_write_error_may_have_happened(self):
        for code in ("UNAVAILABLE", "DEADLINE_EXCEEDED", "CANCELLED", "UNKNOWN", "INTERNAL", "RESOURCE_EXHAUSTED",
                     "OUT_OF_RANGE", None):
            self.assertEqual(classify_rpc_error(code, write=True), "unknown", code)

    def test_error_info_finds_the_grpc_error_behind_etcd3_wrappers(self):
        rpc = FakeRpcError("UNAVAILABLE", "etcdserver: no leader")
        try:
            try:
                raise rpc
            except FakeRpcError:
                raise ConnectionError("wrapped")      # as etcd3's _translate_exception does
        except ConnectionError as wrapped:
            self.assertEqual(rpc_error_info(wrapped), ("UNAVAILABLE", "UNAVAILABLE etcdserver: no leader"))
        self.assertEqual(rpc_error_info(FakeRpcError("DEADLINE_EXCEEDED", "Deadline Exceeded"))[0],
                         "DEADLINE_EXCEEDED")
        code, text = rpc_error_info(ValueError("Cannot invoke RPC on closed channel!"))
        self.assertIsNone(code)
        self.assertIn("closed channel", text)


class Records(unittest.TestCase):
    def test_put_with_and_without_a_previous_value(self):
        resp = NS(header=header(12), prev_kv=kv(b"k/1", b"kv0-3", 9, 4, 2))
        self.assertEqual(put_fields("k/1", "etcd0-1", resp),
                         {"key": "k/1", "value": "etcd0-1", "lease": 0, "revision": 12, "prev_value": "kv0-3"})
        self.assertIsNone(put_fields("k/1", "etcd0-2", NS(header=header(13), prev_kv=EMPTY_KV))["prev_value"])
        # an empty previous value is still a previous value
        self.assertEqual(put_fields("k/1", "x", NS(header=header(14), prev_kv=kv(b"k/1", b"")))["prev_value"], "")

    def test_failed_or_unknown_put_has_only_request_fields(self):
        self.assertEqual(put_fields("k/1", "v", None), {"key": "k/1", "value": "v", "lease": 0})

    def test_delete(self):
        self.assertEqual(delete_fields("k/2", NS(header=header(20), deleted=1)),
                         {"key": "k/2", "revision": 20, "deleted": 1})
        self.assertEqual(delete_fields("k/2", NS(header=header(20), deleted=0))["deleted"], 0)
        self.assertEqual(delete_fields("k/2"), {"key": "k/2"})

    def test_get_present_and_absent(self):
        resp = NS(header=header(30), kvs=[kv(b"k/3", b"etcd1-7", 28, 25, 3)])
        self.assertEqual(get_fields("k/3", "linearizable", resp),
                         {"key": "k/3", "consistency": "linearizable", "revision": 30, "value": "etcd1-7",
                          "mod_revision": 28, "create_revision": 25, "version": 3})
        self.assertEqual(get_fields("k/3", "serializable", NS(header=header(31), kvs=[])),
                         {"key": "k/3", "consistency": "serializable", "revision": 31, "value": None})
        self.assertEqual(get_fields("k/3", "serializable"), {"key": "k/3", "consistency": "serializable"})

    def test_list_sorted_like_the_http_answer(self):
        resp = NS(header=header(40), kvs=[kv(b"k/5", b"b"), kv(b"k/0", b"a")])
        self.assertEqual(list_fields("k/", "linearizable", resp),
                         {"prefix": "k/", "consistency": "linearizable", "revision": 40,
                          "pairs": [["k/0", "a"], ["k/5", "b"]]})

    def test_values_compare_like_the_http_api_shows_them(self):
        self.assertEqual(decode_value(b"kv0-1"), "kv0-1")
        self.assertEqual(decode_value(b"\xff\x00"), {"base64": "/wA="})   # HTTP: value_base64 -> {"base64": ...}


class Runner(unittest.TestCase):
    def test_etcd_workers_default_on(self):
        self.assertEqual(parse_args(["--short"]).etcd_workers, 2)
        self.assertEqual(parse_args(["--short", "--etcd-workers", "0"]).etcd_workers, 0)
        self.assertEqual(parse_args([]).etcd_keys, "shared")

    def test_summary_by_api(self):
        lines = summary_table({("http", "put", "ok"): 5, ("etcd", "put", "ok"): 3, ("etcd", "put", "unknown"): 1,
                               ("http", "get", "fail"): 2})
        text = "\n".join(lines)
        self.assertIn("http put", text)
        self.assertIn("etcd put", text)
        self.assertTrue(any(l.split()[:2] == ["etcd", "total"] and "ok      3" in l and "unknown     1" in l
                            for l in lines), text)
        self.assertTrue(any(l.split()[0] == "total" and "ok      8" in l for l in lines), text)
        self.assertLess(text.index("http put"), text.index("etcd put"))


try:
    from etcd3.etcdrpc import rpc_pb2
except ImportError:          # not under this interpreter: python3-etcd3 is Debian's /usr/bin/python3
    rpc_pb2 = None


@unittest.skipIf(rpc_pb2 is None, "python-etcd3 not importable here")
class RealMessages(unittest.TestCase):
    def test_put_response_without_prev_kv(self):
        resp = rpc_pb2.PutResponse()
        resp.header.revision = 7
        self.assertEqual(put_fields("k/1", "v", resp)["prev_value"], None)
        resp.prev_kv.key, resp.prev_kv.value = b"k/1", b"old"
        self.assertEqual(put_fields("k/1", "v", resp), {"key": "k/1", "value": "v", "lease": 0, "revision": 7,
                                                        "prev_value": "old"})

    def test_range_and_delete_responses(self):
        resp = rpc_pb2.RangeResponse()
        resp.header.revision = 9
        item = resp.kvs.add()
        item.key, item.value, item.mod_revision, item.create_revision, item.version = b"k/2", b"x", 8, 5, 2
        self.assertEqual(get_fields("k/2", "linearizable", resp)["mod_revision"], 8)
        self.assertEqual(list_fields("k/", "serializable", resp)["pairs"], [["k/2", "x"]])
        d = rpc_pb2.DeleteRangeResponse()
        d.header.revision, d.deleted = 10, 1
        self.assertEqual(delete_fields("k/2", d), {"key": "k/2", "revision": 10, "deleted": 1})


class RealMessagesElsewhere(unittest.TestCase):
    """scripts/test runs these tests under the first python3 on PATH; run RealMessages where etcd3 is."""

    @unittest.skipIf(rpc_pb2 is not None, "RealMessages ran in this interpreter")
    def test_real_messages_under_debian_python(self):
        import os
        import subprocess
        interpreter = "/usr/bin/python3"
        probe = subprocess.run([interpreter, "-c", "import etcd3"], capture_output=True) \
            if os.access(interpreter, os.X_OK) else None
        if probe is None or probe.returncode != 0:
            self.skipTest("python3-etcd3 is not installed")
        scripts = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        result = subprocess.run([interpreter, "-m", "unittest", "chaoslib.tests.test_etcd.RealMessages"],
                                cwd=scripts, capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn("skipped", result.stderr)


if __name__ == "__main__":
    unittest.main()
