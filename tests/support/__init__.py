"""Support code for the tests: synthetic export writers and helpers."""
