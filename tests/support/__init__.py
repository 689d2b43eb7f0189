"""Test-support code shared by the test packages and benchmarks (not shipped in the wheel)."""
