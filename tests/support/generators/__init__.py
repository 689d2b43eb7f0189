"""Synthetic-export generators for tests: realistic fake files with known contents."""
