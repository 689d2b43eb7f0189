"""Synthetic beat-to-beat series with known properties, and artifacts to corrupt them.

One home for the test signals used by the validation tests, the benchmarks and the demo:
RR(t) = mean + an LF (Mayer-wave-like) and an HF (respiratory) sinusoid + white noise.
Not a physiological model: a series whose spectrum and variability are known.
"""

from __future__ import annotations

import numpy as np

ArtifactKind = str  # "ectopic" | "missed" | "extra"


def simulate_rr(
    duration_s: float | None = None,
    *,
    n_beats: int | None = None,
    mean_ms: float | np.ndarray = 850.0,
    lf_amplitude_ms: float = 40.0,
    lf_hz: float = 0.1,
    hf_amplitude_ms: float = 30.0,
    hf_hz: float = 0.25,
    noise_ms: float = 8.0,
    seed: int = 0,
    exact_timing: bool = True,
) -> np.ndarray:
    """A clean synthetic RR series (ms), ``duration_s`` long or ``n_beats`` beats.

    With ``exact_timing`` each interval takes the modulation's value at the time the
    interval starts, so the oscillations are in real time (Hz), like respiratory sinus
    arrhythmia. Without it the oscillations run on the mean beat clock: vectorised, for the
    millions of beats of benchmarks and the demo, where the exact loop would dominate.
    ``mean_ms`` may be an array (one mean per beat) with ``n_beats``.
    """
    base = float(np.mean(mean_ms))
    if n_beats is not None and duration_s is None:
        n = n_beats
    elif duration_s is not None and n_beats is None:
        n = int(duration_s * 1000.0 / base * 1.2) + 10
    else:
        raise ValueError("give exactly one of duration_s and n_beats")
    rng = np.random.default_rng(seed)
    means = np.broadcast_to(np.asarray(mean_ms, dtype=float), (n,))
    t0 = rng.uniform(0, 10.0)  # random phase
    if exact_timing:
        out = np.empty(n)
        t = t0
        for i in range(n):
            rr = (
                means[i]
                + lf_amplitude_ms * np.sin(2 * np.pi * lf_hz * t)
                + hf_amplitude_ms * np.sin(2 * np.pi * hf_hz * t)
            )
            out[i] = rr
            t += rr / 1000.0
    else:
        beat_times = t0 + np.arange(n) * (base / 1000.0)
        out = (
            means
            + lf_amplitude_ms * np.sin(2 * np.pi * lf_hz * beat_times)
            + hf_amplitude_ms * np.sin(2 * np.pi * hf_hz * beat_times)
        )
    out = out + rng.normal(0.0, noise_ms, n)
    if duration_s is not None:
        out = out[np.cumsum(out) <= duration_s * 1000.0]
    return out


def daily_mean_rr(hour_of_day: np.ndarray, *, day_ms: float = 800.0, night_ms: float = 1000.0) -> np.ndarray:
    """Mean RR by local hour: slowest around 04:00, fastest around 16:00."""
    phase = np.cos(2 * np.pi * (np.asarray(hour_of_day) - 4.0) / 24.0)
    return (day_ms + night_ms) / 2 + (night_ms - day_ms) / 2 * phase


def inject_artifacts(
    rr_ms: np.ndarray,
    rate: float,
    kinds: tuple[ArtifactKind, ...] = ("ectopic", "missed", "extra"),
    *,
    seed: int = 0,
    prematurity: float = 0.3,
) -> np.ndarray:
    """Corrupt ``rate`` of the beats with ectopic, missed or extra beats (kinds chosen at random).

    * ectopic: a premature beat shortens one interval by ``prematurity`` and the compensatory
      pause lengthens the next by the same amount (sum preserved);
    * missed: a beat is not detected, two intervals merge into one;
    * extra: a spurious detection splits one interval at a random point (30-70 %).

    Positions are at least 3 beats apart so artifacts do not overlap.
    """
    rng = np.random.default_rng(seed)
    rr = list(np.asarray(rr_ms, dtype=float))
    n_art = round(rate * len(rr))
    spacing = 4
    candidates = np.arange(2, len(rr) - 3, spacing)
    pos = np.sort(rng.choice(candidates, size=min(n_art, candidates.size), replace=False))[::-1]
    for p in pos:  # from the end, so earlier positions stay valid
        kind = kinds[rng.integers(len(kinds))]
        if kind == "ectopic":
            d = prematurity * rr[p]
            rr[p] -= d
            rr[p + 1] += d
        elif kind == "missed":
            rr[p : p + 2] = [rr[p] + rr[p + 1]]
        elif kind == "extra":
            f = rng.uniform(0.3, 0.7)
            rr[p : p + 1] = [f * rr[p], (1 - f) * rr[p]]
        else:
            raise ValueError(f"unknown artifact kind {kind!r}")
    return np.asarray(rr)
