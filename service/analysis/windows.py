"""Per-window HRV for a person: the best source with beats, else heart rate, else device HRV."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

import numpy as np

from service.analysis.data import PersonData
from signal_processing.windows import (
    WindowQuality,
    WindowResult,
    analyze_window,
    summarize_device_hrv,
    summarize_heart_rate,
)

MIN_BEATS_TO_CHOOSE = 3


def analyze(data: PersonData, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """One window as a JSON-ready dict, naming the source it was computed from."""
    start_s, end_s = start.timestamp(), end.timestamp()
    result, source_id = _beat_to_beat(data, start_s, end_s)
    if result is None:
        result, source_id = _fallback(data, start_s, end_s)
    body = result.as_dict()
    body.pop("start_s")
    body.pop("end_s")
    body.pop("extra")
    return {"start": start, "end": end,
            "source": data.describe(source_id) if source_id is not None else None, **body}


def _beat_to_beat(data: PersonData, start_s: float, end_s: float):
    for source_id, _ in data.by_source(data.rr):
        clean = data.cleaned(source_id)
        i0, i1 = np.searchsorted(clean.input_times_s, [start_s, end_s])
        if i1 - i0 >= MIN_BEATS_TO_CHOOSE:
            return analyze_window(clean, start_s, end_s), source_id
    return None, None


def _fallback(data: PersonData, start_s: float, end_s: float) -> tuple[WindowResult, int | None]:
    """Heart-rate-only, then device-HRV-only measures, each labelled as such."""
    for series, summarize in ((data.heart_rate, summarize_heart_rate),
                              (data.device_rmssd, partial(summarize_device_hrv, kind="rmssd")),
                              (data.device_sdnn, partial(summarize_device_hrv, kind="sdnn"))):
        for source_id, own in data.by_source(series):
            i0, i1 = np.searchsorted(own.ts_us, [start_s * 1e6, end_s * 1e6])
            result = summarize(own.ts_us[i0:i1] / 1e6, own.value[i0:i1], start_s=start_s,
                               end_s=end_s)
            if result.status != "insufficient":
                return result, source_id
    quality = WindowQuality(duration_s=end_s - start_s)
    return WindowResult(start_s, end_s, "none", "insufficient", ("no_data",), quality), None
