"""Pure numerics for beat-to-beat data: cleaning, HRV, indices, baselines, statistics; see docs/method.md.

No database, no web, no file formats: numpy arrays in, numbers out.
"""
