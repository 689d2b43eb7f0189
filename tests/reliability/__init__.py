"""Reliability: the red team defects of issue 16, each pinned by a test, and fault suites."""
