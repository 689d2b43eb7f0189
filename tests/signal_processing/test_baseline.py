"""Daily baselines, 60-day normal range, smallest worthwhile change and recovery status."""

from __future__ import annotations

import numpy as np
import pytest

from signal_processing.baseline import MIN_DAYS_60D, daily_recovery

PLEWS_FACTOR = 0.5  # SWC of a daily lnRMSSD reading: 0.5 x SD (Plews et al. 2012)


def _days(n: int) -> np.ndarray:
    return np.datetime64("2026-01-01") + np.arange(n)


def test_status_below_within_above():
    rng = np.random.default_rng(0)
    n = 80
    ln = 4.0 + rng.normal(0, 0.1, n)
    ln[-7:] = 3.5  # a bad week
    out = daily_recovery(_days(n), ln)
    last = out[-1]
    assert last.status == "below"
    hist = ln[n - 1 - 60 : n - 1]
    assert last.ln_rmssd.normal_mean == pytest.approx(hist.mean())
    assert last.ln_rmssd.swc == pytest.approx(PLEWS_FACTOR * hist.std(ddof=1))
    assert last.ln_rmssd.rolling_7d == pytest.approx(ln[-7:].mean())
    assert last.ln_rmssd.normal_low == pytest.approx(hist.mean() - PLEWS_FACTOR * hist.std(ddof=1))
    ln2 = ln.copy()
    ln2[-7:] = 4.6
    assert daily_recovery(_days(n), ln2)[-1].status == "above"
    steady = 4.0 + 0.1 * (-1.0) ** np.arange(n)  # mean 4.0, SD 0.1: every 7-day mean is ~4.0
    assert daily_recovery(_days(n), steady)[-1].status == "within"


def test_insufficient_history_says_why():
    out = daily_recovery(_days(10), np.full(10, 4.0))
    assert all(d.status == "insufficient_data" for d in out)
    assert str(MIN_DAYS_60D) in out[-1].ln_rmssd.reason


def test_missing_days_and_gaps_in_dates():
    days = np.concatenate((_days(40), _days(40)[-1] + 10 + np.arange(30)))
    ln = np.full(days.size, 4.0) + np.linspace(0, 0.2, days.size)
    ln[5] = np.nan
    out = daily_recovery(days, ln)
    assert out[5].ln_rmssd.value is None
    # After a 10-day hole the 7-day mean needs 3 fresh days again.
    assert out[40].ln_rmssd.rolling_7d is None and out[42].ln_rmssd.rolling_7d is not None


def test_vendor_scores_pass_through_unblended():
    n = 70
    ln = np.full(n, 4.0) + np.random.default_rng(1).normal(0, 0.05, n)
    vendor = {"vendor_readiness": np.linspace(10, 90, n)}
    with_vendor = daily_recovery(_days(n), ln, vendor=vendor)
    without = daily_recovery(_days(n), ln)
    assert [d.status for d in with_vendor] == [d.status for d in without]
    assert with_vendor[-1].vendor["vendor_readiness"] == pytest.approx(90.0)
    assert with_vendor[-1].as_dict()["status"] == with_vendor[-1].status


def test_resting_hr_tracked_separately():
    n = 70
    rhr = np.full(n, 55.0) + np.random.default_rng(2).normal(0, 1, n)
    rhr[-7:] = 65.0
    out = daily_recovery(_days(n), np.full(n, 4.0) + np.random.default_rng(3).normal(0, 0.05, n), rhr)
    assert out[-1].resting_hr.status == "above"


def test_duplicate_dates_rejected():
    with pytest.raises(ValueError):
        daily_recovery(np.array(["2026-01-01", "2026-01-01"]), np.array([4.0, 4.1]))
