"""Personal baselines and daily recovery status from one morning/night measure per day.

The caller picks one window per day (the main sleep episode when there is one, otherwise the
first valid morning window) and passes that day's lnRMSSD and resting heart rate. For each day:

* ``rolling_7d``: mean of the last 7 calendar days including today, when at least
  ``MIN_DAYS_7D`` of them have a value (Plews et al. 2014: 3 of 7 days suffice);
* ``normal``: the 60 calendar days *before* today (today excluded, so a bad day does not move
  its own yardstick): mean +- SWC, with the smallest worthwhile change of a daily reading,
  SWC = 0.5 x SD of the daily values (Plews et al. 2012, 2013; the ``daily_reading`` rule of
  :mod:`signal_processing.metrics`), when at least ``MIN_DAYS_60D`` days have a value;
* ``status``: ``below`` / ``within`` / ``above`` comparing ``rolling_7d`` with the normal
  range, or ``insufficient_data`` with a reason.

For lnRMSSD, below normal means reduced vagal activity (poorer recovery); for resting heart
rate the same words describe the number, not the physiology (lower resting HR is better).
Vendor readiness/recovery scores are passed through beside the status, never blended in.

References
----------
* Plews, D. J., Laursen, P. B., Kilding, A. E., & Buchheit, M. (2012). Heart rate variability in
  elite triathletes: is variation in variability the key to effective training? A case
  comparison. European Journal of Applied Physiology, 112(11), 3729-3741.
* Plews, D. J., Laursen, P. B., Stanley, J., Kilding, A. E., & Buchheit, M. (2013). Training
  adaptation and heart rate variability in elite endurance athletes: opening the door to
  effective monitoring. Sports Medicine, 43(9), 773-781.
* Plews, D. J., Laursen, P. B., Le Meur, Y., Hausswirth, C., Kilding, A. E., & Buchheit, M.
  (2014). Monitoring training with heart rate variability: how much compliance is needed for
  valid assessment? Int J Sports Physiol Perform, 9(5), 783-790.
* Hopkins, W. G. (2004). How to interpret changes in an athletic performance test.
  Sportscience, 8, 1-7. (The 0.5 x SD "smallest worthwhile change" convention.)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np

from signal_processing.metrics import METRICS

ROLLING_DAYS = 7
NORMAL_DAYS = 60
MIN_DAYS_7D = 3
MIN_DAYS_60D = 14

RecoveryStatus = Literal["below", "within", "above", "insufficient_data"]


@dataclass(frozen=True)
class MeasureStatus:
    """One measure's day: the inputs that decided the status, and the status."""

    value: float | None
    rolling_7d: float | None
    n_days_7d: int
    normal_mean: float | None
    normal_low: float | None
    normal_high: float | None
    swc: float | None
    n_days_60d: int
    status: RecoveryStatus
    reason: str | None = None


@dataclass(frozen=True)
class DailyRecovery:
    date: np.datetime64
    ln_rmssd: MeasureStatus
    resting_hr: MeasureStatus
    #: Vendor scores as given (e.g. {"vendor_readiness": 78}); never used in ``status``.
    vendor: dict[str, float | None] = field(default_factory=dict)

    @property
    def status(self) -> RecoveryStatus:
        """The recovery status is lnRMSSD's (the primary measure)."""
        return self.ln_rmssd.status

    def as_dict(self) -> dict:
        d = asdict(self)
        d["date"] = str(self.date)
        d["status"] = self.status
        return d


def daily_recovery(
    dates: np.ndarray,
    ln_rmssd: np.ndarray,
    resting_hr: np.ndarray | None = None,
    vendor: dict[str, np.ndarray] | None = None,
) -> list[DailyRecovery]:
    """Baseline, normal range and status per day (one row per input date, in input order).

    Parameters
    ----------
    dates
        Local calendar dates (anything ``np.datetime64(..., "D")`` accepts), unique.
    ln_rmssd, resting_hr
        The day's measure, NaN (or None) when the day has no valid window.
    vendor
        Optional vendor scores per date, passed through unchanged.
    """
    days = np.asarray(dates, dtype="datetime64[D]")
    if np.unique(days).size != days.size:
        raise ValueError("dates must be unique: pass one measure per day")
    ln = _as_float(ln_rmssd, days.size)
    rhr = _as_float(resting_hr, days.size)
    ln_status = measure_status(days, ln, "morning_ln_rmssd")
    rhr_status = measure_status(days, rhr, "resting_hr")
    vendor = vendor or {}
    out = []
    for i, day in enumerate(days):
        scores = {k: _opt(np.asarray(v, dtype=float)[i]) for k, v in vendor.items()}
        out.append(DailyRecovery(day, ln_status[i], rhr_status[i], scores))
    return out


def measure_status(days: np.ndarray, values: np.ndarray, metric: str) -> list[MeasureStatus]:
    """Rolling 7-day mean, 60-day normal range (mean +- SWC) and status for one daily measure.

    ``metric`` names the measure in :data:`signal_processing.metrics.METRICS`; its SWC rule
    (``daily_reading``: 0.5 x SD) sets the width of the normal range.
    """
    swc_factor = METRICS[metric].swc.factor
    idx = (days - days.min()).astype(np.int64) if days.size else np.empty(0, dtype=np.int64)
    n = int(idx.max()) + 1 if idx.size else 0
    dense = np.full(n, np.nan)
    dense[idx] = values
    valid = np.isfinite(dense)
    x = np.where(valid, dense, 0.0)
    # Prefix sums make every window an O(1) lookup.
    c_n = np.concatenate(([0], np.cumsum(valid)))
    c_s = np.concatenate(([0.0], np.cumsum(x)))
    c_q = np.concatenate(([0.0], np.cumsum(x * x)))

    def window(lo: int, hi: int) -> tuple[int, float, float]:  # [lo, hi) clipped
        lo, hi = max(lo, 0), max(hi, 0)
        return int(c_n[hi] - c_n[lo]), float(c_s[hi] - c_s[lo]), float(c_q[hi] - c_q[lo])

    out = []
    for d, v in zip(idx, values, strict=True):
        n7, s7, _ = window(d - ROLLING_DAYS + 1, d + 1)
        n60, s60, q60 = window(d - NORMAL_DAYS, d)
        roll = s7 / n7 if n7 >= MIN_DAYS_7D else None
        mean = sd = None
        if n60 >= MIN_DAYS_60D:
            mean = s60 / n60
            sd = float(np.sqrt(max(q60 - n60 * mean * mean, 0.0) / (n60 - 1)))
        swc = swc_factor * sd if sd is not None else None
        low = mean - swc if mean is not None and swc is not None else None
        high = mean + swc if mean is not None and swc is not None else None
        status: RecoveryStatus
        if roll is None:
            status, reason = (
                "insufficient_data",
                f"fewer than {MIN_DAYS_7D} of the last {ROLLING_DAYS} days",
            )
        elif low is None or high is None:
            status, reason = (
                "insufficient_data",
                f"fewer than {MIN_DAYS_60D} of the previous {NORMAL_DAYS} days",
            )
        else:
            status = "below" if roll < low else "above" if roll > high else "within"
            reason = None
        out.append(MeasureStatus(_opt(v), roll, n7, mean, low, high, swc, n60, status, reason))
    return out


def _as_float(values: np.ndarray | None, n: int) -> np.ndarray:
    if values is None:
        return np.full(n, np.nan)
    arr = np.array([np.nan if v is None else v for v in values], dtype=float)
    if arr.size != n:
        raise ValueError("every series must have one value per date")
    return arr


def _opt(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None
