"""Unit tests for combining full benchmark runs (scripts/bench --merge)
(python3 -m unittest discover -s scripts/benchlib/tests -t scripts).

Hand-made runs with known figures go in; the merged rounds, the averaged capacity figures and the agreement
verdicts the README's table rests on must come out exactly."""
import unittest

from benchlib.merge import agreement, agreement_counts, expected_agreement, mean_of, merge

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

    def test_counts_beside_sampling_noise(self):
        # The CPU row is a tie (1× in every round), inside every range.
        table = agreement([run([10, 20], [5, 5], [1.0]), run([15, 25], [5, 5], [1.0])], ["A", "B"], summary=True)
        self.assertIn("Of 2 rows the runs agree both ways 1 (expected 0.0), one way 1 (expected 1.3), "
                      "neither way 0 (expected 0.7)", table)


class ExpectedAgreement(unittest.TestCase):
    def test_three_rounds_each(self):
        # Of the 20 ways to deal six ranks three and three, 8 put each median inside the other's range
        # (e.g. A 0,2,4 / B 1,3,5), 8 one median only (A 0,2,3 / B 1,4,5: A's 2 is inside 1–5, B's 4 is
        # outside 0–3), 4 neither (A 0,1,2 / B 3,4,5; A 0,1,3 / B 2,4,5, whose medians 1 and 4 lie outside
        # 2–5 and 0–3; and the two mirrored).
        self.assertEqual(expected_agreement((3, 3)), (0.4, 0.4, 0.2))

    def test_more_rounds_agree_more_often(self):
        every5, _, none5 = expected_agreement((5, 5))
        self.assertAlmostEqual(every5, 180 / 252)
        self.assertAlmostEqual(none5, 12 / 252)

    def test_counts_sum_expectations_per_row(self):
        text = agreement_counts([([True, True], [3, 3]), ([False, False], [3, 3]), ([True, False], [5, 5])])
        self.assertIn("both ways 1 (expected 1.5), one way 1 (expected 1.0), neither way 1 (expected 0.4)", text)
        self.assertIn("(3 and 3 or 5 and 5 rounds)", text)


if __name__ == "__main__":
    unittest.main()
