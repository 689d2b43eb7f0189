"""Synthetic beat-to-beat series for tests, the demo and benchmarks.

RR(t) = mean + LF and HF oscillations + white noise, with the mean following a
daily rhythm (slower heart at night). Not a physiological model: a series with
known, controllable properties.
"""

from __future__ import annotations

import numpy as np


def rr_series(n_beats: int, *, mean_ms: float = 900.0, lf_ms: float = 25.0, hf_ms: float = 20.0,
              noise_ms: float = 8.0, seed: int = 0) -> np.ndarray:
    """``n_beats`` RR intervals in ms with 0.1 Hz (LF) and 0.25 Hz (HF) oscillations."""
    rng = np.random.default_rng(seed)
    rr = np.empty(n_beats)
    t = 0.0
    lf_phase, hf_phase = rng.uniform(0, 2 * np.pi, 2)
    noise = rng.normal(0.0, noise_ms, n_beats)
    for i in range(n_beats):  # each beat's interval depends on the time it starts
        rr[i] = (mean_ms + lf_ms * np.sin(2 * np.pi * 0.1 * t + lf_phase)
                 + hf_ms * np.sin(2 * np.pi * 0.25 * t + hf_phase) + noise[i])
        t += rr[i] / 1000.0
    return rr


def rr_series_fast(n_beats: int, *, mean_ms: float = 900.0, lf_ms: float = 25.0,
                   hf_ms: float = 20.0, noise_ms: float = 8.0, seed: int = 0) -> np.ndarray:
    """Like :func:`rr_series` but vectorised, timing the oscillations on the mean beat clock.

    For millions of beats (benchmarks), where the loop above would dominate.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n_beats) * (mean_ms / 1000.0)
    lf_phase, hf_phase = rng.uniform(0, 2 * np.pi, 2)
    return (mean_ms + lf_ms * np.sin(2 * np.pi * 0.1 * t + lf_phase)
            + hf_ms * np.sin(2 * np.pi * 0.25 * t + hf_phase) + rng.normal(0, noise_ms, n_beats))


def daily_mean_rr(hour_of_day: np.ndarray, *, day_ms: float = 800.0,
                  night_ms: float = 1000.0) -> np.ndarray:
    """Mean RR by local hour: slowest around 04:00, fastest around 16:00."""
    phase = np.cos(2 * np.pi * (np.asarray(hour_of_day) - 4.0) / 24.0)
    return (day_ms + night_ms) / 2 + (night_ms - day_ms) / 2 * phase
