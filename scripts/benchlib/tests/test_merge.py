"""Unit tests for combining full benchmark runs (scripts/bench --merge)
(python3 -m unittest discover -s scripts/benchlib/tests -t scripts).

Hand-made runs with known figures go in; the merged rounds, the averaged capacity figures and the agreement
verdicts the README's table rests on must come out exactly."""
import unittest

from benchlib.merge import agreement, mean_of, merge

SETTINGS = {"read_targets": [], "clients": [16], "via": ["leader"], "watchers": [], "rounds": 2}


def run(roster_ops, etcd_ops, rss):
    rounds = lambda values: [{"put_leader_16": {"ops_per_sec": v, "cpu_s_per_1k_ops": 1.0}} for v in values]
    return {"settings": SETTINGS, "date": "d",
            "roster": {"rounds": rounds(roster_ops), "failover": [{"recovery_s": 0.1}], "failover_frozen": [],
                       "capacity": {"rss_10000_mib": rss, "lease_expiry": {"p50_ms": 2.0}}, "version": "roster x"},
            "etcd": {"rounds": rounds(etcd_ops), "failover": [{"recovery_s": 1.0}], "failover_frozen": [],
                     "capacity": {"rss_10000_mib": [200.0, 200.0, 200.0], "lease_expiry": {"p50_ms": 300.0}}}}


class Merge(unittest.TestCase):
    def test_rounds_and_trials_of_every_run_in_sequence(self):
        merged = merge([run([10, 20], [5, 5], [60.0, 60.0, 60.0]), run([30, 40], [5, 5], [70.0, 70.0, 70.0])])
        self.assertEqual([r["put_leader_16"]["ops_per_sec"] for r in merged["roster"]["rounds"]], [10, 20, 30, 40])
        self.assertEqual(len(merged["etcd"]["failover"]), 2)
        self.assertEqual(merged["roster"]["version"], "roster x")

    def test_capacity_is_the_mean_of_the_runs(self):
        merged = merge([run([1, 1], [1, 1], [60.0, 62.0, 64.0]), run([1, 1], [1, 1], [70.0, 72.0, 74.0])])
        self.assertEqual(merged["roster"]["capacity"]["rss_10000_mib"], [65.0, 67.0, 69.0])
        self.assertEqual(merged["roster"]["capacity"]["lease_expiry"], {"p50_ms": 2.0})

    def test_capacity_of_one_run(self):
        later = run([1, 1], [1, 1], [70.0, 72.0, 74.0])
        merged = merge([run([1, 1], [1, 1], [60.0, 62.0, 64.0]), later], later)
        self.assertEqual(merged["roster"]["capacity"]["rss_10000_mib"], [70.0, 72.0, 74.0])

    def test_mean_skips_missing_figures(self):
        self.assertIsNone(mean_of([None, None]))
        self.assertEqual(mean_of([None, 4, 6]), 5.0)


class Agreement(unittest.TestCase):
    def test_each_median_against_the_other_runs_range(self):
        # Run A: ratios 2× and 4× (median 4×, the upper of two); run B: 3× and 5× (median 5×).
        table = agreement([run([10, 20], [5, 5], [1.0]), run([15, 25], [5, 5], [1.0])], ["A", "B"])
        row = next(line for line in table.splitlines() if line.startswith("| register"))
        self.assertIn("4.00× (2.00–4.00)", row)
        self.assertIn("5.00× (3.00–5.00)", row)
        self.assertTrue(row.endswith("| yes/no |"), row)


if __name__ == "__main__":
    unittest.main()
