"""DFA alpha1 (Peng et al. 1995) against an independent implementation (fathon) and by hand."""

from __future__ import annotations

import fitdecode
import numpy as np
import pytest
from fathon import DFA
from fathon.fathonUtils import toAggregated

from signal_processing import hrv
from signal_processing.synthetic import simulate_rr
from tests.signal_processing.test_hrv import PYHRV_FILES


def fathon_alpha1(nn: np.ndarray) -> float:
    """fathon's DFA: profile of the mean-removed series, boxes from the start only, linear fit."""
    dfa = DFA(toAggregated(np.asarray(nn, dtype=float)))
    dfa.computeFlucVec(hrv.DFA_ALPHA1_SCALES, polOrd=1, revSeg=False)
    alpha, _ = dfa.fitFlucVec()
    return float(alpha)


def peng_alpha1(nn: np.ndarray) -> float:
    """Peng 1995 written out loop by loop: F(n)^2 = mean squared residual over all boxes."""
    y = np.cumsum(nn - np.mean(nn))
    log_n, log_f = [], []
    for n in hrv.DFA_ALPHA1_SCALES:
        residuals = []
        for b in range(len(y) // n):
            box = y[b * n : (b + 1) * n]
            x = np.arange(n)
            line = np.polyval(np.polyfit(x, box, 1), x)
            residuals.extend(box - line)
        log_n.append(np.log(n))
        log_f.append(0.5 * np.log(np.mean(np.square(residuals))))
    return float(np.polyfit(log_n, log_f, 1)[0])


def fit_beat_intervals(path) -> np.ndarray:
    """Every valid value of the FIT ``hrv.time`` arrays (s -> ms), read with fitdecode directly."""
    out: list[float] = []
    with fitdecode.FitReader(path) as fit:
        for frame in fit:
            if isinstance(frame, fitdecode.FitDataMessage) and frame.name == "hrv":
                out.extend(v for v in frame.get_value("time") if v is not None)
    return np.asarray(out) * 1000.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_alpha1_equals_fathon_and_hand_written_peng_on_synthetic_rr(seed):
    nn = simulate_rr(300, seed=seed)
    assert hrv.dfa_alpha1(nn) == pytest.approx(fathon_alpha1(nn), rel=1e-9)
    assert hrv.dfa_alpha1(nn) == pytest.approx(peng_alpha1(nn), rel=1e-9)


def test_alpha1_keeps_boxes_with_zero_fluctuation():
    """A series with long flat runs has boxes with zero residual: they count, as in Peng 1995."""
    rng = np.random.default_rng(4)
    nn = np.repeat(rng.choice([800.0, 850.0, 900.0], size=40), rng.integers(1, 12, size=40))[:200]
    assert nn.size >= hrv.MIN_BEATS_DFA
    assert hrv.dfa_alpha1(nn) == pytest.approx(peng_alpha1(nn), rel=1e-9)
    assert hrv.dfa_alpha1(nn) == pytest.approx(fathon_alpha1(nn), rel=1e-9)


def test_alpha1_of_white_noise_and_of_a_random_walk():
    """Known scaling: ~0.5 for uncorrelated intervals, ~1.5 for their running sum."""
    rng = np.random.default_rng(7)
    noise = np.mean([hrv.dfa_alpha1(800 + 30 * rng.normal(size=600)) for _ in range(20)])
    walk = np.mean([hrv.dfa_alpha1(800 + np.cumsum(rng.normal(size=600))) for _ in range(20)])
    assert 0.4 < noise < 0.6
    assert 1.35 < walk < 1.65


def test_alpha1_undefined_for_flat_or_short_series():
    assert hrv.dfa_alpha1(np.full(100, 800.0)) is None
    assert hrv.dfa_alpha1(simulate_rr(300, seed=1)[: hrv.MIN_BEATS_DFA - 1]) is None


@pytest.mark.skipif(
    not (PYHRV_FILES / "SampleNNISeriesLong.npy").exists(), reason="pyhrv sample files absent"
)
def test_alpha1_equals_fathon_on_pyhrv_sample_series():
    nn = np.load(PYHRV_FILES / "SampleNNISeriesLong.npy").astype(float)[:300]
    assert hrv.dfa_alpha1(nn) == pytest.approx(fathon_alpha1(nn), rel=1e-9)


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["garmin-edge-820-bike.fit", "garmin-fenix-5-run.fit"])
def test_alpha1_equals_fathon_on_garmin_beat_intervals(shared_data, name):
    nn = fit_beat_intervals(shared_data / "fit" / name)
    assert nn.size >= hrv.MIN_BEATS_DFA
    assert hrv.dfa_alpha1(nn) == pytest.approx(fathon_alpha1(nn), rel=1e-9)
    assert hrv.dfa_alpha1(nn) == pytest.approx(peng_alpha1(nn), rel=1e-9)


@pytest.mark.shared_data
def test_edge_820_recording_with_few_distinct_values(shared_data):
    """The recording from issue 11: 126 intervals, 15 distinct values; dropping boxes gave 0.63."""
    nn = fit_beat_intervals(shared_data / "fit" / "garmin-edge-820-bike.fit")
    assert nn.size == 126 and np.unique(nn).size == 15
    assert hrv.dfa_alpha1(nn) == pytest.approx(0.9189, abs=5e-4)
