"""Window quality gates: insufficient windows carry reasons and never numbers."""

from __future__ import annotations

import numpy as np
import pytest

from signal_processing.hrv import ALGORITHM_VERSION
from signal_processing.rr import clean_rr
from signal_processing.synthetic import inject_artifacts, simulate_rr
from signal_processing.windows import (
    QualityThresholds,
    analyze_window,
    analyze_windows,
    longest_gap,
    summarize_device_hrv,
    summarize_heart_rate,
    tile_starts,
)


@pytest.fixture(scope="module")
def clean_series():
    return clean_rr(simulate_rr(900, seed=0))


def test_good_window_is_ok_with_all_metrics(clean_series):
    r = analyze_window(clean_series, 10.0, 310.0)
    assert r.status == "ok" and r.reasons == ()
    assert r.data_kind == "beat_to_beat"
    assert r.quality.coverage >= 0.9 and r.quality.longest_gap_s == pytest.approx(0.0, abs=1e-6)
    assert r.hrv is not None and r.hrv.lf_hf is not None and r.indices.stress_index is not None
    assert r.algorithm_version == ALGORITHM_VERSION


def _assert_no_numbers(r):
    assert r.status == "insufficient" and r.hrv is None and r.indices is None


def test_window_without_beats_is_no_data(clean_series):
    r = analyze_window(clean_series, 5000.0, 5300.0)
    _assert_no_numbers(r)
    assert r.reasons == ("no_data",)


def test_short_window_is_too_short(clean_series):
    r = analyze_window(clean_series, 10.0, 100.0)
    _assert_no_numbers(r)
    assert "too_short" in r.reasons


def test_low_coverage(clean_series):
    r = analyze_window(clean_series, 700.0, 1000.0)  # data ends at 900 s
    _assert_no_numbers(r)
    assert "low_coverage" in r.reasons


def test_too_many_artifacts():
    bad = inject_artifacts(simulate_rr(400, seed=3), 0.10, ("ectopic", "extra"), seed=3)
    r = analyze_window(clean_rr(bad), 20.0, 320.0)
    assert r.quality.artifact_share > 0.05
    _assert_no_numbers(r)
    assert "too_many_artifacts" in r.reasons


def test_long_gap_withholds_frequency_measures_only():
    rr = simulate_rr(400, seed=4)
    t = np.cumsum(rr) / 1000.0
    cut = np.searchsorted(t, 150.0)
    keep = np.ones(rr.size, bool)
    keep[cut : cut + 15] = False  # ~13 s missing
    c = clean_rr(rr[keep], t[keep])
    r = analyze_window(c, 20.0, 320.0, thresholds=QualityThresholds(min_coverage=0.9))
    assert r.quality.longest_gap_s > 10.0
    assert r.status == "partial" and "gap_too_long" in r.reasons
    assert r.hrv.rmssd is not None and r.hrv.lf is None and r.hrv.hf is None and r.hrv.lf_hf is None


def test_two_minute_window_has_no_lf_hf():
    c = clean_rr(simulate_rr(200, seed=5))
    r = analyze_window(c, 10.0, 160.0)
    assert r.status == "partial" and "lf_hf_needs_5_min" in r.reasons
    assert r.hrv.lf is not None and r.hrv.lf_hf is None and r.hrv.hf_nu is None


def test_longest_gap_counts_uncovered_edges():
    spans = np.array([[10.0, 20.0], [25.0, 40.0]])
    assert longest_gap(spans, 0.0, 50.0) == pytest.approx(10.0)
    assert longest_gap(spans, 12.0, 38.0) == pytest.approx(5.0)
    assert longest_gap(spans, 100.0, 200.0) == pytest.approx(100.0)


def test_heart_rate_only_window_is_labelled_and_has_no_hrv():
    t = np.arange(0, 300, 5.0)
    bpm = 60 + 5 * np.sin(t / 30)
    r = summarize_heart_rate(t, bpm, 0.0, 300.0)
    assert r.data_kind == "heart_rate_only" and r.status == "limited" and r.hrv is None
    assert r.heart_rate.mean_hr == pytest.approx(bpm.mean()) and r.heart_rate.min_hr == pytest.approx(
        bpm.min()
    )
    assert "heart_rate_only" in r.reasons
    assert summarize_heart_rate(t, bpm, 400.0, 700.0).reasons == ("no_data",)


def test_device_hrv_keeps_its_kind():
    t = np.array([10.0, 200.0])
    r = summarize_device_hrv(t, np.array([40.0, 50.0]), "sdnn", 0.0, 300.0)
    assert r.data_kind == "device_hrv" and r.hrv is None
    assert r.device_hrv.sdnn == pytest.approx(45.0) and r.device_hrv.rmssd is None
    with pytest.raises(ValueError):
        summarize_device_hrv(t, np.array([40.0, 50.0]), "lnrmssd", 0.0, 300.0)


def test_analyze_windows_tiles(clean_series):
    starts = tile_starts(0.0, 900.0, 300.0)
    assert list(starts) == [0.0, 300.0, 600.0]
    results = analyze_windows(clean_series, starts, 300.0)
    assert len(results) == 3 and all(r.end_s - r.start_s == 300.0 for r in results)


def test_summarize_window_falls_back_and_keeps_reasons():
    from signal_processing.windows import summarize_window

    bad = clean_rr(inject_artifacts(simulate_rr(400, seed=6), 0.10, ("ectopic", "extra"), seed=6))
    t = np.arange(0, 400, 5.0)
    hr = (t, np.full(t.size, 70.0))
    r = summarize_window(20.0, 320.0, clean=bad, heart_rate=hr)
    assert r.status == "limited" and r.data_kind == "heart_rate_only" and r.hrv is None
    assert r.reasons == ("too_many_artifacts", "heart_rate_only")
    r = summarize_window(
        20.0, 320.0, clean=bad, heart_rate=hr, device_rmssd=(np.array([100.0]), np.array([35.0]))
    )
    assert r.data_kind == "device_hrv" and r.device_hrv.rmssd == 35.0 and r.device_hrv.sdnn is None
    assert r.heart_rate.mean_hr == 70.0
    good = clean_rr(simulate_rr(400, seed=6))
    assert summarize_window(20.0, 320.0, clean=good, heart_rate=hr).data_kind == "beat_to_beat"
    assert summarize_window(20.0, 320.0).reasons == ("no_data",)
