"""RR cleaning: bounds, gaps, first-pass artifact share, artifact robustness."""

from __future__ import annotations

import numpy as np
import pytest

from signal_processing.hrv import compute_hrv
from signal_processing.rr import (
    PHYSIOLOGICAL_MAX_MS,
    clean_rr,
)
from signal_processing.synthetic import inject_artifacts, simulate_rr


def test_clean_series_passes_through_unchanged():
    rr = np.round(simulate_rr(300, seed=0))
    c = clean_rr(rr)
    assert c.n_segments == 1
    assert np.allclose(c.nn_ms, rr, atol=1.0)  # peak positions are whole ms
    assert c.flagged_times_s.size <= 0.01 * rr.size


def test_too_short_interval_is_merged_into_the_next():
    rr = np.full(60, 800.0)
    rr = np.concatenate((rr[:30], [150.0, 650.0], rr[30:]))  # a spurious beat 150 ms in
    c = clean_rr(rr, correct=False)
    assert c.counts["too_short"] == 1
    assert c.nn_ms.size == rr.size - 1 and np.allclose(c.nn_ms, 800.0)
    assert c.n_segments == 1


def test_too_long_interval_splits_into_segments_and_is_a_gap():
    rr = np.concatenate((np.full(50, 800.0), [PHYSIOLOGICAL_MAX_MS + 1500.0], np.full(50, 800.0)))
    c = clean_rr(rr)
    assert c.n_segments == 2
    assert c.counts["too_long"] == 1
    gap = c.segment_spans[1, 0] - c.segment_spans[0, 1]
    assert gap == pytest.approx(3.5, abs=0.01)
    assert np.all(np.diff(c.segment_id) >= 0)


def test_timestamp_gap_splits_and_is_not_interpolated():
    rr = np.full(200, 800.0)
    t = np.cumsum(rr) / 1000.0
    t[100:] += 30.0  # 30 s of lost data between beat 99 and 100
    c = clean_rr(rr, t)
    assert c.n_segments == 2
    assert c.segment_spans[1, 0] - c.segment_spans[0, 1] == pytest.approx(30.0, abs=0.01)
    # No interval was invented for the gap.
    assert c.nn_ms.max() <= 800.5 and c.nn_ms.size == rr.size  # every real interval kept


def test_first_pass_artifact_share_counts_injected_beats():
    rr = simulate_rr(600, seed=1)
    bad = inject_artifacts(rr, 0.03, ("ectopic",), seed=1)
    c = clean_rr(bad)
    share = c.flagged_times_s.size / c.input_times_s.size
    # Each ectopic beat is flagged (at one or two peaks); clean beats almost never are.
    assert 0.025 <= share <= 0.08


@pytest.mark.parametrize("kinds", [("ectopic",), ("missed",), ("extra",), ("ectopic", "missed", "extra")])
@pytest.mark.parametrize("rate", [0.01, 0.03, 0.05])
def test_artifact_robustness_rmssd_sdnn_within_5_percent(kinds, rate):
    for seed in range(3):
        rr = simulate_rr(300, seed=seed)
        truth = compute_hrv(rr)
        bad = inject_artifacts(rr, rate, kinds, seed=seed)
        raw = compute_hrv(bad)
        c = clean_rr(bad)
        fixed = compute_hrv(c.nn_ms, c.times_s, c.segment_id)
        assert abs(raw.rmssd / truth.rmssd - 1) > 0.10  # the injection really hurts
        assert fixed.rmssd == pytest.approx(truth.rmssd, rel=0.05)
        assert fixed.sdnn == pytest.approx(truth.sdnn, rel=0.05)


def test_inject_artifacts_kinds_change_the_beat_count_as_expected():
    rr = simulate_rr(300, seed=2)
    assert inject_artifacts(rr, 0.02, ("missed",), seed=0).size < rr.size
    assert inject_artifacts(rr, 0.02, ("extra",), seed=0).size > rr.size
    ect = inject_artifacts(rr, 0.02, ("ectopic",), seed=0)
    assert ect.size == rr.size and ect.sum() == pytest.approx(rr.sum())


@pytest.mark.parametrize("rate", [0.0, 0.02, 0.10])
def test_fast_detection_identical_to_neurokit2(rate):
    import neurokit2 as nk

    from signal_processing.rr import detect_artifacts, detect_artifacts_neurokit

    for seed in range(4):
        rr = inject_artifacts(simulate_rr(600, seed=seed), rate, seed=seed)
        peaks = np.asarray(nk.intervals_to_peaks(rr, sampling_rate=1000))
        ours, theirs = detect_artifacts(peaks), detect_artifacts_neurokit(peaks)
        for kind in ("ectopic", "missed", "extra", "longshort"):
            assert list(ours[kind]) == list(theirs[kind]), (seed, kind)


def test_neurokit2_own_correction_is_worse_on_ectopic_beats():
    """Why correct_peaks exists: nk moves both flagged peaks of one premature beat."""
    from signal_processing.rr import fixpeaks_reference

    rr = simulate_rr(300, seed=7)
    truth = compute_hrv(rr).rmssd
    bad = inject_artifacts(rr, 0.02, ("ectopic",), seed=7)
    nk_err = abs(compute_hrv(fixpeaks_reference(bad)).rmssd / truth - 1)
    c = clean_rr(bad)
    ours_err = abs(compute_hrv(c.nn_ms, c.times_s, c.segment_id).rmssd / truth - 1)
    assert ours_err < 0.05 < nk_err
