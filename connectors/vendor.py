"""What the account-export connectors (Fitbit, Samsung Health, Oura, Whoop) share.

* plausibility bounds per metric, so every family rejects the same values;
* :func:`batches` - samples of one metric and source as :class:`SampleBatch`
  items, sorted by time and split by UTC offset (a batch carries one offset);
* :func:`noon_us` - where a value that has only a *date* is placed: 12:00 local
  time of that date, so that it falls on that date in any zone within 12 hours
  of the account's (midnight would slide to the previous day one zone west);
* :func:`file_kind` - a file name with its dates wildcarded, for counting the
  files a connector does not read.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import numpy as np

from .base import HEART_RATE_BOUNDS_BPM, Metric, SampleBatch, SourceInfo, to_epoch_us
from .tabular import FileProblems

#: Values outside are rejected and counted. Scores are the vendors' 0-100 scales.
BOUNDS: dict[str, tuple[float, float]] = {
    "heart_rate": HEART_RATE_BOUNDS_BPM,
    "resting_heart_rate": HEART_RATE_BOUNDS_BPM,
    "hrv_rmssd": (1.0, 1000.0),  # 0 is how several vendors write "not measured"
    "respiratory_rate": (2.0, 80.0),
    "spo2": (50.0, 100.0),
    "skin_temperature_delta": (-10.0, 10.0),
    "vendor_stress": (0.0, 100.0),
    "vendor_recovery": (0.0, 100.0),
    "vendor_readiness": (0.0, 100.0),
}

_DATES = re.compile(r"\d{4}-\d{2}(?:-\(?\d{2}\)?)?|\d{8,}")


def batches(
    source: SourceInfo,
    metric: Metric,
    ts_us: np.ndarray,
    values: np.ndarray,
    offsets_s: np.ndarray | None,
    problems: FileProblems,
    where: np.ndarray | list[int] | None = None,
    tags: dict[str, str] | None = None,
) -> Iterator[SampleBatch]:
    """Bounded, time-sorted batches of one metric, one per UTC offset present.

    ``offsets_s`` None means the format records none (``utc_offset_s`` None).
    ``where`` gives each sample's line or record number for the problem report.
    """
    ts_us = np.asarray(ts_us, np.int64)
    values = np.asarray(values, np.float64)
    low, high = BOUNDS[metric]
    ok = problems.bounds(values, low, high, f"{metric} out of plausible bounds", where, metric=metric)
    ts_us, values = ts_us[ok], values[ok]
    if offsets_s is None:
        if ts_us.size:
            order = np.argsort(ts_us, kind="stable")
            yield SampleBatch(source, metric, ts_us[order], values[order], None, tags)
        return
    offsets_s = np.asarray(offsets_s, np.int64)[ok]
    for offset in np.unique(offsets_s):
        same = offsets_s == offset
        order = np.argsort(ts_us[same], kind="stable")
        yield SampleBatch(source, metric, ts_us[same][order], values[same][order], int(offset), tags)


def noon_us(day: dt.date, zone: dt.tzinfo) -> tuple[int, int]:
    """12:00 wall clock on ``day`` in ``zone``: (Unix microseconds, UTC offset in seconds)."""
    moment = dt.datetime.combine(day, dt.time(12), tzinfo=zone)
    offset = moment.utcoffset()
    return to_epoch_us(moment), int(offset.total_seconds()) if offset is not None else 0


def file_kind(name: str) -> str:
    """``steps-2024-01-01.json`` -> ``steps-*.json``: the kind of a file, for skip counts."""
    return _DATES.sub("*", name.rsplit("/", 1)[-1])
