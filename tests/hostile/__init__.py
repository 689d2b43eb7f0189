"""Hostile input: a corpus of bad files with asserted outcomes, and fuzzing of every connector."""
