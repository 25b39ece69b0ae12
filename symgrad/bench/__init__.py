"""Benchmarks behind `symgrad bench` (see `suite` for what is measured).

Timings never go into the test suite: these machines are shared and noisy,
so results are medians reported as ratios against peers measured in one run.
"""
