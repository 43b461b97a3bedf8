"""Parser validation and the command-line entry point."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

from checker import history
from checker.tests.util import H

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "check-history")


class Parse(unittest.TestCase):
    def bad(self, *lines):
        with self.assertRaises(history.HistoryError):
            history.parse_lines(lines)

    def test_bad_inputs(self):
        self.bad("{not json")
        self.bad("[1, 2]")
        self.bad('{"op": "frobnicate"}')
        self.bad('{"id": 1, "client": 1, "op": "put", "key": "a", "value": 1, "invoke_ns": 0, '
                 '"complete_ns": 5, "status": "ok"}')                       # ok put without revision
        self.bad('{"id": 1, "client": 1, "op": "get", "key": "a", "invoke_ns": 0, '
                 '"complete_ns": 5, "status": "maybe"}')                    # bad status
        self.bad('{"id": 1, "client": 1, "op": "get", "key": "a", "invoke_ns": 9, '
                 '"complete_ns": 5, "status": "fail"}')                     # completes before invoke
        self.bad('{"id": 1, "client": 1, "op": "get", "key": "a", "invoke_ns": 0, "complete_ns": 1, '
                 '"status": "fail"}',
                 '{"id": 1, "client": 2, "op": "get", "key": "a", "invoke_ns": 0, "complete_ns": 1, '
                 '"status": "fail"}')                                       # duplicate id
        self.bad('{"op": "watch_event", "watcher": 1, "revision": 1, "type": "put", "key": "a", "value": 1}')
        self.bad('{"op": "watch_start", "watcher": 1, "from_revision": 1}')  # neither key nor prefix
        self.bad('{"op": "final_state", "node": "n1", "revision": "3"}')

    def test_canonical_values_and_comments(self):
        h = history.parse_lines([
            "# comment", "",
            '{"id": 1, "client": 1, "op": "put", "key": "a", "value": {"b": 1, "a": 2}, '
            '"invoke_ns": 0, "complete_ns": 5, "status": "ok", "revision": 1, "extra": true}',
            '{"id": 2, "client": 1, "op": "put", "key": "a", "value": 1, "invoke_ns": 0, '
            '"status": "unknown", "complete_ns": 7}'])
        self.assertEqual(h.ops[0].value, '{"a":2,"b":1}')
        self.assertEqual(h.ops[1].complete_ns, history.INF)


class Cli(unittest.TestCase):
    def run_cli(self, h, *args):
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
            f.write("\n".join(h.lines() if isinstance(h, H) else h) + "\n")
        try:
            p = subprocess.run([sys.executable, SCRIPT, f.name, *args],
                               capture_output=True, text=True, timeout=60)
        finally:
            os.unlink(f.name)
        return p

    def test_exit_codes_and_summary(self):
        h = H()
        h.put(1, 0, 10, "a", 1, rev=1)
        h.get(2, 20, 30, "a", 1, 1)
        p = self.run_cli(h)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        summary = json.loads(p.stdout.strip().splitlines()[-1].split(" ", 1)[1])
        self.assertEqual(summary["result"], "ok")
        self.assertEqual(summary["stats"]["ops"]["put"], {"ok": 1})

        h.get(3, 40, 50, "a", 2, 1)
        p = self.run_cli(h)
        self.assertEqual(p.returncode, 1)
        self.assertIn("read_mismatch", p.stdout)

        p = self.run_cli(["{broken"])
        self.assertEqual(p.returncode, 3)
        self.assertIn("bad input", p.stderr)

    def test_dump_canonical(self):
        h = H()
        h.put(1, 0, 10, "a", 1, status="unknown")
        h.get(2, 20, 30, "a", 1, 1)
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "canon.jsonl")
            p = self.run_cli(h, "--dump-canonical", out)
            self.assertEqual(p.returncode, 0, p.stdout)
            with open(out) as f:
                rows = [json.loads(line) for line in f]
        self.assertEqual(rows, [{"revision": 1, "writer": 1, "kind": "put", "lease": None,
                                 "status": "unknown", "changes": [["a", "put", 1]]}])

    def test_help_names_the_test_command(self):
        p = subprocess.run([sys.executable, SCRIPT, "--help"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0)
        self.assertIn("python3 -m unittest discover -s scripts/checker/tests -t scripts", p.stdout)


if __name__ == "__main__":
    unittest.main()


class SystemKeys(unittest.TestCase):
    """Roster's member directory (keys starting with 0x01) is outside every prefix that does not start
    with 0x01, exactly as the server scopes reads, deletes and watches."""

    def test_in_prefix(self):
        member = "\x01roster/members/n4"
        self.assertFalse(history.in_prefix(member, ""))
        self.assertTrue(history.in_prefix(member, "\x01"))
        self.assertTrue(history.in_prefix(member, "\x01roster/"))
        self.assertTrue(history.in_prefix("k/1", ""))
        self.assertFalse(history.in_prefix("k/1", "\x01"))
