"""Unit tests for the TLS overhead arithmetic of scripts/bench --tls
(python3 -m unittest discover -s scripts/benchlib/tests -t scripts).

Hand-made rounds with known figures go in; the per-round differences, their spread and the round count
that the README's claim rests on must come out exactly."""
import unittest

from benchlib.tls_overhead import cpu_us_per_op, overhead_table, per_round_differences, rounds_not_larger, spread


def phase(mean, p50, cpu_s, ops):
    return {"mean_ms": mean, "p50_ms": p50, "server_cpu_s": cpu_s, "ops": ops}


class Differences(unittest.TestCase):
    def test_pairs_round_i_with_round_i(self):
        plain = [{"put": phase(1.0, 0.9, 1.0, 1000)}, {"put": phase(2.0, 1.8, 1.0, 1000)}]
        tls = [{"put": phase(1.5, 1.0, 1.2, 1000)}, {"put": phase(2.25, 2.0, 1.5, 1000)}]
        self.assertEqual(per_round_differences(plain, tls, "put", lambda r: r["mean_ms"]), [0.5, 0.25])

    def test_missing_phase_or_figure_gives_none(self):
        plain = [{"put": phase(1.0, 1.0, 1.0, 10)}, {}, {"put": {"error": "timeout"}}]
        tls = [{"put": {"error": "timeout"}}, {"put": phase(1.0, 1.0, 1.0, 10)}, {"put": phase(1.0, 1.0, 1.0, 10)}]
        self.assertEqual(per_round_differences(plain, tls, "put", lambda r: r.get("mean_ms")), [None, None, None])

    def test_cpu_per_op_in_microseconds(self):
        self.assertAlmostEqual(cpu_us_per_op(phase(0, 0, 0.5, 10_000)), 50.0)
        self.assertIsNone(cpu_us_per_op({"ops": 0, "server_cpu_s": 1.0}))


class Summary(unittest.TestCase):
    def test_spread_is_median_low_high(self):
        self.assertEqual(spread([3.0, None, 1.0, 2.0]), (2.0, 1.0, 3.0))
        self.assertIsNone(spread([None]))

    def test_rounds_not_larger_counts_ties_and_skips_gaps(self):
        self.assertEqual(rounds_not_larger([1.0, 2.0, None, 3.0], [1.0, 1.0, 5.0, 4.0]), (2, 3))

    def test_table_row_per_metric(self):
        results = {"roster-etcd": {"rounds": [{"put": phase(1.0, 1.0, 1.0, 1000)}]},
                   "roster-etcd-tls": {"rounds": [{"put": phase(1.2, 1.1, 1.1, 1000)}]},
                   "etcd": {"rounds": [{"put": phase(2.0, 2.0, 2.0, 1000)}]},
                   "etcd-tls": {"rounds": [{"put": phase(2.5, 2.5, 2.3, 1000)}]}}
        lines = overhead_table(results, [("put", "Register")]).splitlines()
        self.assertEqual(len(lines), 2 + 3)
        self.assertIn("| Register | mean latency, ms | +0.200 | +0.500 | 1/1 |", lines[2])
        self.assertIn("| +100.0 | +300.0 | 1/1 |", lines[4])


if __name__ == "__main__":
    unittest.main()
