"""Baevsky stress index and Kubios-style PNS/SNS indices."""

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


def test_pns_sns_are_zero_at_the_norms():
    n = NORMS
    assert pns_index(n["mean_rr"].mean, n["rmssd"].mean, n["sd1"].mean) == pytest.approx(0.0)
    assert sns_index(n["mean_hr"].mean, n["sqrt_si"].mean, n["sd2"].mean) == pytest.approx(0.0)
    # One SD above on every PNS input gives +1.
    assert pns_index(n["mean_rr"].mean + n["mean_rr"].sd, n["rmssd"].mean + n["rmssd"].sd,
                     n["sd1"].mean + n["sd1"].sd) == pytest.approx(1.0)


def test_derived_norms_follow_their_formulas():
    assert NORMS["sd1"].mean == pytest.approx(NORMS["rmssd"].mean / math.sqrt(2))
    sd2 = math.sqrt(2 * NORMS["sdnn"].mean ** 2 - NORMS["sd1"].mean ** 2)
    assert NORMS["sd2"].mean == pytest.approx(sd2)
    assert NORMS["mean_hr"].mean == pytest.approx(60000.0 / NORMS["mean_rr"].mean)


def test_stress_indices_move_in_opposite_directions():
    calm_nn = simulate_rr(300, mean_ms=1000, hf_amplitude_ms=50, lf_amplitude_ms=50, seed=1)
    tense_nn = simulate_rr(300, mean_ms=600, hf_amplitude_ms=8, lf_amplitude_ms=10, seed=1)
    calm = stress_indices(calm_nn, compute_hrv(calm_nn))
    tense = stress_indices(tense_nn, compute_hrv(tense_nn))
    assert calm.pns_index > tense.pns_index
    assert calm.sns_index < tense.sns_index
    assert calm.sqrt_stress_index == pytest.approx(math.sqrt(calm.stress_index))
    assert "Kubios-style" in calm.label
