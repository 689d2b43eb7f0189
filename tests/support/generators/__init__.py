"""Writers of synthetic wearable exports in their real layouts.

They feed the tests, the demo and the benchmarks: deterministic for a seed,
streaming (a gigabyte is never held in memory), and each returns the ground
truth of what it wrote so that tests can assert exact counts.
"""
