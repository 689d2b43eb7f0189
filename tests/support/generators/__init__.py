"""Writers of synthetic wearable exports in their real layouts.

They feed the tests and the benchmarks (the demo writes its own data with
``signal_processing.synthetic``): deterministic for a seed,
streaming (a gigabyte is never held in memory), and each returns the ground
truth of what it wrote so that tests can assert exact counts.
"""
