"""A 20,000-op correct history with 8 clients checks in a few seconds."""
import time
import unittest

from checker import history, report, simulate


class Perf(unittest.TestCase):
    def test_20000_ops_8_clients(self):
        recs = simulate.generate(7, n_ops=20000, clients=8, keys=10, watchers=4)
        h = history.parse_lines(simulate.to_lines(recs))
        self.assertEqual(len(h.ops), 20000)
        t0 = time.monotonic()
        res = report.run(h, timeout_s=30)
        elapsed = time.monotonic() - t0
        self.assertEqual(res.verdict, "ok", "\n".join(a.message for a in res.anomalies[:5]))
        self.assertLess(elapsed, 8.0)

    def test_timeout_reports_unknown_never_ok(self):
        # 400 indeterminate puts and two reads at one revision that no subset
        # explains (k0 cannot be 7 and 14 at once), though each alone could
        # be: the search cannot finish in 0.2 s and must say "unknown".
        lines = []
        for i in range(1, 401):
            lines.append('{"id": %d, "client": %d, "op": "put", "key": "k%d", "value": %d, '
                         '"invoke_ns": 0, "status": "unknown"}' % (i, i, i % 7, i))
        for i, v in ((1000, 7), (1001, 14)):
            lines.append('{"id": %d, "client": %d, "op": "get", "key": "k0", "value": %d, '
                         '"revision": 300, "invoke_ns": 10, "complete_ns": 20, "status": "ok"}' % (i, i, v))
        res = report.run(history.parse_lines(lines), timeout_s=0.2)
        self.assertEqual(res.search.verdict, "unknown")
        self.assertIsNone(res.linearizable)
        self.assertEqual(res.verdict, "unknown")
        self.assertEqual(res.exit_code, 2)


if __name__ == "__main__":
    unittest.main()
