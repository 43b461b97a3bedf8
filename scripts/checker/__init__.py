"""Roster history checkers: linearizability (revision-directed WGL search),
revision sanity, durability, watch guarantees, lease safety and convergence.

Python 3.11 standard library only.  Entry point: scripts/check-history.
Tests: python3 -m unittest discover -s scripts/checker/tests -t scripts
"""
