"""Baevsky stress index and Kubios-style PNS/SNS indices.

The derived sqrt(SI) norm is re-derived here; to print it with more people::

    .venv/bin/python -m tests.signal_processing.test_indices
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from signal_processing.hrv import compute_hrv
from signal_processing.indices import (
    NORMS,
    baevsky_stress_index,
    pns_index,
    sns_index,
    stress_indices,
    z_score,
)
from signal_processing.synthetic import simulate_rr


def test_stress_index_by_hand():
    # Bins of 50 ms: [800, 850) holds 3 of 5 intervals -> Mo = 0.825 s, AMo = 60 %.
    nn = np.array([700.0, 810.0, 820.0, 840.0, 900.0])
    mxdmn = 0.200
    assert baevsky_stress_index(nn) == pytest.approx(60.0 / (2 * 0.825 * mxdmn))


def test_stress_index_undefined_without_variation():
    assert baevsky_stress_index(np.full(10, 800.0)) is None


def test_stress_index_rises_when_variability_falls():
    calm = simulate_rr(300, hf_amplitude_ms=40, lf_amplitude_ms=40, seed=0)
    tense = simulate_rr(300, mean_ms=650, hf_amplitude_ms=8, lf_amplitude_ms=10, seed=0)
    assert baevsky_stress_index(tense) > 2 * baevsky_stress_index(calm)


def derive_sqrt_si_norm(n_people: int, seed: int = 2010) -> tuple[float, float, float]:
    """Mean and SD of sqrt(SI), and median SI, over 5-minute windows of a simulated population.

    Each person: mean RR ~ N(926, 90) ms and SDNN ~ N(50, 16) ms (the Nunan 2010 norms,
    SDNN floored at 10 ms); the variance is split 75 % LF (0.1 Hz), 15 % HF (0.25 Hz) and
    10 % white noise, which reproduces the RMSSD norm too (about 42 +- 14 ms).
    """
    rng = np.random.default_rng(seed)
    roots, sis = [], []
    for _ in range(n_people):
        mean_rr, sdnn = rng.normal(926.0, 90.0), max(rng.normal(50.0, 16.0), 10.0)
        nn = simulate_rr(
            300,
            mean_ms=mean_rr,
            lf_amplitude_ms=math.sqrt(1.5) * sdnn,
            hf_amplitude_ms=math.sqrt(0.3) * sdnn,
            noise_ms=math.sqrt(0.1) * sdnn,
            seed=int(rng.integers(2**31)),
        )
        si = baevsky_stress_index(nn)
        sis.append(si)
        roots.append(math.sqrt(si))
    return float(np.mean(roots)), float(np.std(roots, ddof=1)), float(np.median(sis))


def test_sqrt_si_norm_matches_its_derivation():
    mean, sd, median_si = derive_sqrt_si_norm(300)
    assert NORMS["sqrt_si"].mean == pytest.approx(mean, abs=0.4)
    assert NORMS["sqrt_si"].sd == pytest.approx(sd, abs=0.4)
    assert 50.0 <= median_si <= 150.0  # inside Baevsky's normal resting range


def test_every_norm_says_what_was_verified():
    for name, norm in NORMS.items():
        assert norm.source and norm.verified, name
        assert norm.sd > 0, name
    assert "sd1" not in NORMS


def test_pns_sns_are_zero_at_the_norms():
    n = NORMS
    assert pns_index(n["mean_rr"].mean, n["rmssd"].mean) == pytest.approx(0.0)
    assert sns_index(n["mean_hr"].mean, n["sqrt_si"].mean, n["sd2"].mean) == pytest.approx(0.0)
    # One SD above on every PNS input gives +1.
    assert pns_index(n["mean_rr"].mean + n["mean_rr"].sd, n["rmssd"].mean + n["rmssd"].sd) == pytest.approx(
        1.0
    )


def test_rmssd_counts_once_in_the_pns_index():
    """One SD more RMSSD moves PNS by 1/2 (one of two inputs), the same as one SD more mean RR."""
    n = NORMS
    base = pns_index(n["mean_rr"].mean, n["rmssd"].mean)
    assert pns_index(n["mean_rr"].mean, n["rmssd"].mean + n["rmssd"].sd) - base == pytest.approx(0.5)
    assert pns_index(n["mean_rr"].mean + n["mean_rr"].sd, n["rmssd"].mean) - base == pytest.approx(0.5)
    # SD1 is RMSSD / sqrt 2 on real windows: the two carry the same information.
    m = compute_hrv(simulate_rr(300, seed=3))
    assert m.sd1 == pytest.approx(m.rmssd / math.sqrt(2), rel=0.01)


def test_z_scores_are_sane_on_ordinary_resting_windows():
    """No input dominates: over a healthy-looking population every z stays within +-3.

    The old sqrt(SI) norm (10 +- 1.25) put it at z -3.4 to -3.8 on windows where z(RMSSD)
    was +0.8 to +2.9.
    """
    rng = np.random.default_rng(11)
    rows = []
    for _ in range(60):
        mean_rr, sdnn = rng.normal(926.0, 90.0), max(rng.normal(50.0, 16.0), 15.0)
        nn = simulate_rr(
            300,
            mean_ms=mean_rr,
            lf_amplitude_ms=math.sqrt(1.5) * sdnn,
            hf_amplitude_ms=math.sqrt(0.3) * sdnn,
            noise_ms=math.sqrt(0.1) * sdnn,
            seed=int(rng.integers(2**31)),
        )
        m = compute_hrv(nn)
        si = stress_indices(nn, m)
        rows.append(
            [
                z_score(m.mean_rr, NORMS["mean_rr"]),
                z_score(m.rmssd, NORMS["rmssd"]),
                z_score(m.mean_hr, NORMS["mean_hr"]),
                z_score(si.sqrt_stress_index, NORMS["sqrt_si"]),
                z_score(m.sd2, NORMS["sd2"]),
                si.pns_index,
                si.sns_index,
            ]
        )
    z = np.array(rows)
    assert np.mean(np.abs(z) < 3.0) > 0.97
    assert np.all(np.abs(np.median(z, axis=0)) < 0.6)  # centred: the norms fit the population
    # A high-HRV window (z RMSSD ~ +2): sqrt SI is low but not off the scale.
    nn = simulate_rr(300, mean_ms=1000, lf_amplitude_ms=70, hf_amplitude_ms=70, seed=5)
    m = compute_hrv(nn)
    si = stress_indices(nn, m)
    assert z_score(m.rmssd, NORMS["rmssd"]) > 1.0
    assert -3.0 < z_score(si.sqrt_stress_index, NORMS["sqrt_si"]) < 0.0


def test_indices_are_flagged_population_referenced_and_not_diagnostic():
    nn = simulate_rr(300, seed=2)
    idx = stress_indices(nn, compute_hrv(nn))
    assert idx.population_referenced is True and idx.diagnostic is False


def test_stress_indices_move_in_opposite_directions():
    calm_nn = simulate_rr(300, mean_ms=1000, hf_amplitude_ms=50, lf_amplitude_ms=50, seed=1)
    tense_nn = simulate_rr(300, mean_ms=600, hf_amplitude_ms=8, lf_amplitude_ms=10, seed=1)
    calm = stress_indices(calm_nn, compute_hrv(calm_nn))
    tense = stress_indices(tense_nn, compute_hrv(tense_nn))
    assert calm.pns_index > tense.pns_index
    assert calm.sns_index < tense.sns_index
    assert calm.sqrt_stress_index == pytest.approx(math.sqrt(calm.stress_index))
    assert "Kubios-style" in calm.label


if __name__ == "__main__":
    mean, sd, median_si = derive_sqrt_si_norm(2000)
    print(f"sqrt SI norm from 2000 simulated people: {mean:.2f} +- {sd:.2f} (median SI {median_si:.0f})")
