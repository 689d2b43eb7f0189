"""HRV metrics: known answers, equality with neurokit2's formulas, reference agreement with pyhrv."""

from __future__ import annotations

import re
from pathlib import Path

import neurokit2 as nk
import numpy as np
import pytest

from signal_processing import hrv
from signal_processing.hrv import (
    ALGORITHM_VERSION,
    METRIC_NAMES,
    HRVMetrics,
    compute_hrv,
)
from signal_processing.rr import clean_rr
from signal_processing.synthetic import simulate_rr


def _pyhrv_files() -> Path:
    """pyhrv's package folder without importing pyhrv (its import pulls in biosppy/peakutils)."""
    import importlib.util

    spec = importlib.util.find_spec("pyhrv")
    return Path(spec.origin).parent / "files" if spec and spec.origin else Path("/nonexistent")


PYHRV_FILES = _pyhrv_files()


def _nk_peaks(nn: np.ndarray) -> np.ndarray:
    return nk.intervals_to_peaks(nn, sampling_rate=1000)


def test_time_domain_exact_on_hand_computable_series():
    nn = np.array([800.0, 900.0, 800.0, 900.0, 800.0])
    m = compute_hrv(nn)
    assert m.mean_rr == pytest.approx(840.0)
    assert m.sdnn == pytest.approx(np.sqrt((3 * 40**2 + 2 * 60**2) / 4))  # deviations -40/+60
    assert m.rmssd == pytest.approx(100.0)  # every successive difference is +-100
    assert m.ln_rmssd == pytest.approx(np.log(100.0))
    assert m.pnn50 == pytest.approx(100.0 * 4 / 5)  # 4 differences > 50 ms, N = 5 intervals
    assert m.mean_hr == pytest.approx(np.mean(60000.0 / nn))
    # SD1 = std of +-100/sqrt2 with ddof=1 over 4 pairs, all |x| equal, mean 0.
    x1 = np.array([-100, 100, -100, 100]) / np.sqrt(2)
    assert m.sd1 == pytest.approx(np.std(x1, ddof=1))


def test_successive_differences_never_cross_a_gap():
    nn = np.array([800.0, 810.0, 820.0, 1200.0, 1210.0, 1220.0])
    seg = np.array([0, 0, 0, 1, 1, 1])
    m = compute_hrv(nn, segment_id=seg, frequency=False)
    assert m.rmssd == pytest.approx(10.0)  # the 820 -> 1200 jump is not a difference
    assert m.pnn50 == 0.0


def test_schema_is_fixed_and_versioned():
    short = compute_hrv(np.array([800.0, 810.0]))
    full = compute_hrv(simulate_rr(300, seed=1))
    assert set(short.as_dict()) == set(full.as_dict())
    assert all(short.as_dict()[k] is None for k in METRIC_NAMES)
    assert all(full.as_dict()[k] is not None for k in METRIC_NAMES)
    assert full.algorithm_version == ALGORITHM_VERSION and re.fullmatch(r"hrv-\d+", ALGORITHM_VERSION)


def test_lf_and_lf_hf_need_window_length():
    nn = simulate_rr(300, seed=2)
    two_min = nn[np.cumsum(nn) <= 150_000]
    m = compute_hrv(two_min, duration_s=150.0)
    assert m.hf is not None and m.lf is not None and m.lf_hf is None and m.hf_nu is None
    m = compute_hrv(two_min[:100], duration_s=90.0)
    assert m.hf is not None and m.lf is None


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_time_domain_and_poincare_equal_neurokit2(seed):
    nn = np.round(simulate_rr(300, seed=seed))
    ours = compute_hrv(nn)
    peaks = _nk_peaks(nn)
    t = nk.hrv_time(peaks, sampling_rate=1000).iloc[0]
    n = nk.hrv_nonlinear(peaks, sampling_rate=1000).iloc[0]
    for mine, theirs in [
        (ours.mean_rr, t["HRV_MeanNN"]),
        (ours.sdnn, t["HRV_SDNN"]),
        (ours.rmssd, t["HRV_RMSSD"]),
        (ours.pnn50, t["HRV_pNN50"]),
        (ours.sd1, n["HRV_SD1"]),
        (ours.sd2, n["HRV_SD2"]),
    ]:
        assert mine == pytest.approx(theirs, rel=1e-9)


def test_dfa_alpha1_equals_neurokit2_fractal_dfa():
    nn = simulate_rr(300, seed=3)
    expected, _ = nk.fractal_dfa(nn, scale=hrv.DFA_ALPHA1_SCALES, overlap=False)
    assert hrv.dfa_alpha1(nn) == pytest.approx(expected, rel=1e-9)
    assert hrv.dfa_alpha1(nn[: hrv.MIN_BEATS_DFA - 1]) is None


def test_spectrum_core_equals_neurokit2_with_same_settings():
    """Without our detrending and with neurokit2's quadratic spline, LF/HF equal nk's at 4 Hz."""
    nn = np.round(simulate_rr(300, seed=4))
    lf, hf = hrv.band_powers(nn, np.cumsum(nn) / 1000.0, detrend="none", interpolation="quadratic")
    ref = nk.hrv_frequency(_nk_peaks(nn), sampling_rate=1000, interpolation_rate=4, normalize=False)
    assert lf == pytest.approx(ref["HRV_LF"].iloc[0], rel=1e-3)
    assert hf == pytest.approx(ref["HRV_HF"].iloc[0], rel=1e-3)


def test_neurokit2_detrend_argument_is_broken_in_this_version():
    """Why we detrend ourselves: nk 0.3.0 forwards detrend= to scipy's welch twice."""
    peaks = _nk_peaks(np.round(simulate_rr(120, seed=5)))
    with pytest.raises(TypeError, match="detrend"):
        nk.hrv_frequency(
            peaks, sampling_rate=1000, interpolation_rate=4, normalize=False, detrend="tarvainen2002"
        )


def test_smoothness_priors_equals_neurokit2():
    x = np.random.default_rng(0).normal(size=600).cumsum()
    ref = nk.signal_detrend(x, method="tarvainen2002", regularization=500)
    assert np.allclose(hrv.smoothness_priors_detrend(x), ref, atol=1e-6)


@pytest.mark.parametrize("lf_amp,hf_amp", [(40.0, 30.0), (20.0, 45.0)])
def test_known_lf_hf_power_from_sinusoids(lf_amp, hf_amp):
    """A sinusoid of amplitude A has power A^2 / 2: LF and HF within 10 % of truth."""
    nn = simulate_rr(300, lf_amplitude_ms=lf_amp, hf_amplitude_ms=hf_amp, noise_ms=0.0, seed=6)
    m = compute_hrv(nn)
    assert m.lf == pytest.approx(lf_amp**2 / 2, rel=0.10)
    assert m.hf == pytest.approx(hf_amp**2 / 2, rel=0.10)
    assert m.lf_hf == pytest.approx(lf_amp**2 / hf_amp**2, rel=0.15)


def _pyhrv_report() -> dict[str, float]:
    text = (PYHRV_FILES / "SampleReport.txt").read_text()
    out = {}
    for key, pattern in {
        "sdnn": r"^SDNN \(ms\)\s*;\s*([\d.]+)",
        "rmssd": r"^RMSSD \(ms\)\s*;\s*([\d.]+)",
        "sd1": r"^SD1 \(ms\)\s*;\s*([\d.]+)",
        "sd2": r"^SD2 \(ms\)\s*;\s*([\d.]+)",
        "lf_hf": r"^LF/HF Ratio \(-\)\s*;\s*([\d.]+)",  # first one: Welch
        "n": r"^Number of NNIs \(-\)\s*;\s*([\d.]+)",
    }.items():
        match = re.search(pattern, text, flags=re.MULTILINE)
        assert match, f"{key} not found in SampleReport.txt"
        out[key] = float(match.group(1))
    return out


@pytest.mark.skipif(not (PYHRV_FILES / "SampleReport.txt").exists(), reason="pyhrv sample files absent")
@pytest.mark.parametrize("cleaning", [True, False])
def test_agrees_with_pyhrv_report(cleaning):
    report = _pyhrv_report()
    nn = np.load(PYHRV_FILES / "SampleNNISeriesLong.npy").astype(float)
    assert nn.size == report["n"]
    if cleaning:
        c = clean_rr(nn)
        m = compute_hrv(c.nn_ms, c.times_s, c.segment_id)
    else:
        m = compute_hrv(nn)
    for key in ("sdnn", "rmssd", "sd1", "sd2"):
        assert getattr(m, key) == pytest.approx(report[key], rel=0.005), key
    assert m.lf_hf == pytest.approx(report["lf_hf"], rel=0.05)


def test_metrics_dataclass_defaults_to_none():
    empty = HRVMetrics()
    assert all(getattr(empty, k) is None for k in METRIC_NAMES)
