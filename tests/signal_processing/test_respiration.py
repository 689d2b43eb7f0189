"""Breathing rate from the RR series, and the slow-breathing flag on windows."""

from __future__ import annotations

import numpy as np
import pytest

from signal_processing.respiration import BAND_DEPENDENT_METRICS, estimate_breathing
from signal_processing.rr import clean_rr
from signal_processing.synthetic import simulate_rr
from signal_processing.windows import analyze_window


def breathing_rr(
    per_min: float, *, rsa_ms: float = 30.0, noise_ms: float = 10.0, seconds: float = 300.0, seed: int = 0
) -> np.ndarray:
    """RR with RSA at ``per_min`` breaths/min; Mayer waves (0.1 Hz, 40 ms) unless breathing is slow.

    At slow breathing the RSA itself sits near 0.1 Hz and is large (resonance), as in paced
    breathing at 6/min; at ordinary rates the Mayer wave is larger than the RSA (LF/HF ~ 1.8).
    """
    f = per_min / 60.0
    if f < 0.15:
        return simulate_rr(
            seconds, lf_amplitude_ms=2 * rsa_ms, lf_hz=f, hf_amplitude_ms=0.0, noise_ms=noise_ms, seed=seed
        )
    return simulate_rr(
        seconds,
        lf_amplitude_ms=40.0,
        lf_hz=0.1,
        hf_amplitude_ms=rsa_ms,
        hf_hz=f,
        noise_ms=noise_ms,
        seed=seed,
    )


@pytest.mark.parametrize("per_min", [6.0, 8.0, 12.0, 15.0, 20.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rate_recovered_within_half_a_breath(per_min, seed):
    est = estimate_breathing(breathing_rr(per_min, seed=seed))
    assert est.reason is None
    assert est.rate_per_min == pytest.approx(per_min, abs=0.5)
    assert est.below_hf_band == (per_min < 9.0)
    assert est.peak_share > 0.5


def test_rsa_peak_wins_over_a_larger_mayer_wave():
    """LF/HF ~ 5 at rest: the 0.1 Hz peak is larger, yet breathing is the 15/min peak."""
    est = estimate_breathing(breathing_rr(15.0, rsa_ms=18.0, seed=4))
    assert est.rate_per_min == pytest.approx(15.0, abs=0.5) and not est.below_hf_band


def test_two_minute_window_and_noisier_data():
    est = estimate_breathing(breathing_rr(12.0, seconds=130.0, noise_ms=15.0, seed=5))
    assert est.rate_per_min == pytest.approx(12.0, abs=1.0)


@pytest.mark.parametrize("seed", range(5))
def test_flat_spectrum_gives_no_rate(seed):
    nn = 850.0 + np.random.default_rng(seed).normal(0.0, 30.0, 400)  # white noise: no RSA
    est = estimate_breathing(nn)
    assert est.rate_per_min is None and est.reason == "no_clear_peak"
    assert est.peak_share < 0.35


def test_two_equal_peaks_are_ambiguous():
    nn = simulate_rr(300, lf_amplitude_ms=0.0, hf_amplitude_ms=25.0, hf_hz=0.2, noise_ms=5.0, seed=1)
    t = np.cumsum(nn) / 1000.0
    nn = nn + 25.0 * np.sin(2 * np.pi * 0.35 * t + 1.0)
    est = estimate_breathing(nn)
    assert est.rate_per_min is None and est.reason == "ambiguous"


def test_too_short_window():
    assert estimate_breathing(breathing_rr(12.0, seconds=90.0)).reason == "too_short"


def test_fast_breathing_above_the_hf_band_at_a_fast_heart_rate():
    """30/min (0.5 Hz) is above the 0.4 Hz HF edge but below half of 100 bpm: still found."""
    nn = simulate_rr(
        300, mean_ms=600.0, lf_amplitude_ms=15.0, hf_amplitude_ms=12.0, hf_hz=0.5, noise_ms=4.0, seed=2
    )
    est = estimate_breathing(nn)
    assert est.rate_per_min == pytest.approx(30.0, abs=0.5)


def _window(nn: np.ndarray):
    c = clean_rr(nn)
    return analyze_window(c, float(c.times_s[0]), float(c.times_s[0]) + 300.0)


def test_slow_breathing_window_flags_band_measures():
    r = _window(breathing_rr(6.0, seed=3))
    assert r.breathing.rate_per_min == pytest.approx(6.0, abs=0.5)
    assert "slow_breathing" in r.reasons and r.status == "partial"
    assert set(r.unreliable_metrics) == set(BAND_DEPENDENT_METRICS)
    assert r.hrv.hf is not None  # kept, but flagged
    assert r.as_dict()["breathing"]["below_hf_band"] is True


def test_ordinary_breathing_window_has_no_flag():
    r = _window(breathing_rr(14.0, seed=3))
    assert r.breathing.rate_per_min == pytest.approx(14.0, abs=0.5)
    assert "slow_breathing" not in r.reasons and r.unreliable_metrics == ()
