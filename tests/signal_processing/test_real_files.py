"""Cleaning and window gates on a real wrist recording with gaps (Empatica E4 IBI.csv)."""

from __future__ import annotations

import numpy as np
import pytest

from signal_processing.rr import clean_rr
from signal_processing.windows import QualityThresholds, analyze_windows, tile_starts

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def e4_ibi(shared_data):
    # First row: session start (Unix s), "IBI"; then "seconds since start, IBI in s".
    data = np.loadtxt(shared_data / "empatica" / "IBI.csv", delimiter=",", skiprows=1)
    return data[:, 0], data[:, 1] * 1000.0


def test_gaps_split_segments_and_no_interval_spans_one(e4_ibi):
    t, ibi = e4_ibi
    c = clean_rr(ibi, t)
    lost = np.diff(t) - ibi[1:] / 1000.0
    assert c.n_segments >= np.sum(lost > 0.25) // 2  # many real gaps in a wrist PPG recording
    # Within a segment, beat times advance exactly by the interval (nothing bridged a gap).
    same = c.segment_id[1:] == c.segment_id[:-1]
    step = np.diff(c.times_s)[same] - c.nn_ms[1:][same] / 1000.0
    assert np.max(np.abs(step)) < 0.002
    assert c.nn_ms.max() <= 2000.0


def test_windows_are_gated_on_real_data(e4_ibi):
    t, ibi = e4_ibi
    c = clean_rr(ibi, t)
    th = QualityThresholds()
    results = analyze_windows(c, tile_starts(0.0, float(t[-1]), 300.0), 300.0, thresholds=th)
    statuses = {r.status for r in results}
    assert "insufficient" in statuses and statuses & {"ok", "partial"}
    for r in results:
        if r.status == "insufficient":
            assert r.hrv is None and r.reasons
        else:
            assert r.quality.coverage >= th.min_coverage
            assert r.quality.artifact_share <= th.max_artifact_share
            if r.hrv.lf is not None:
                assert r.quality.longest_gap_s <= th.max_gap_s
