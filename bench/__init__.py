"""Benchmarks of First Step: `make bench` (or `python -m bench --quick`).

Numbers from a shared, noisy machine only mean something next to each other, so every
comparison here is a ratio taken inside one run (median of alternating rounds), never an
absolute figure checked against a fixed line. Nothing here is part of `make test`; the
smoke test (tests/ops/test_bench_smoke.py) runs these code paths with tiny sizes so they
cannot rot.
"""
