"""Pure numerics for beat-to-beat data: cleaning, HRV, indices, baselines, statistics (DESIGN.md section 5).

No database, no web, no file formats: numpy arrays in, numbers out.
"""
