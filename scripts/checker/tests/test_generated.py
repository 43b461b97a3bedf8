"""Seeded simulations of a correct registry must pass; with an injected bug
they must be flagged every time."""
import os
import random
import unittest

from checker import history, report, simulate

# ROSTER_CHECKER_SEEDS=N runs N seeds in every test (longer soak); default 200
# correct seeds and 60 seeds per injected bug keep the suite well under 30 s.
_N = int(os.environ.get("ROSTER_CHECKER_SEEDS", "0"))
SEEDS = range(_N or 200)
BUG_SEEDS = range(_N or 60)


def check(recs, timeout_s=10.0):
    return report.run(history.parse_lines(simulate.to_lines(recs)), timeout_s=timeout_s)


class Generated(unittest.TestCase):
    def test_correct_histories_pass(self):
        for seed in SEEDS:
            res = check(simulate.generate(seed))
            with self.subTest(seed=seed):
                self.assertEqual(res.verdict, "ok",
                                 "\n".join(a.message for a in res.anomalies[:5]))
                self.assertTrue(res.linearizable)
        # the histories really exercise the interesting paths
        h = history.parse_lines(simulate.to_lines(simulate.generate(3)))
        self.assertTrue(any(o.status == "unknown" for o in h.ops))
        self.assertTrue(h.watch)

    def test_correct_histories_many_unknowns_no_watchers(self):
        for seed in range(40):
            res = check(simulate.generate(seed, watchers=0, p_unknown=0.15, n_ops=200))
            with self.subTest(seed=seed):
                self.assertEqual(res.verdict, "ok",
                                 "\n".join(a.message for a in res.anomalies[:5]))

    def _bug(self, inject, kinds, min_injected):
        injected = 0
        for seed in BUG_SEEDS:
            recs = simulate.generate(seed)
            if not inject(recs, random.Random(seed)):
                continue
            injected += 1
            res = check(recs)
            with self.subTest(seed=seed):
                self.assertEqual(res.verdict, "anomalies")
                self.assertTrue(set(res.kinds()) & kinds, f"{sorted(res.kinds())} lacks {kinds}")
        self.assertGreaterEqual(injected, min_injected)

    def test_stale_read_is_flagged(self):
        self._bug(simulate.inject_stale_read, {"stale_read", "read_mismatch"}, len(BUG_SEEDS) * 9 // 10)

    def test_lost_write_is_flagged(self):
        self._bug(simulate.inject_lost_write, {"lost_write"}, len(BUG_SEEDS) // 2)

    def test_skipped_watch_event_is_flagged(self):
        self._bug(simulate.inject_skipped_watch_event, {"watch_gap"}, len(BUG_SEEDS) * 9 // 10)


if __name__ == "__main__":
    unittest.main()
