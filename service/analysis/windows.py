"""Per-window HRV for a person: the best source with beats, else device HRV and heart rate.

One fallback policy, :func:`signal_processing.windows.summarize_window`: beat-to-beat HRV
when a source has beats in the window that pass the quality gate, otherwise the device's own
HRV readings (with the heart-rate summary beside them), otherwise heart rate alone, each
labelled as such and keeping the reasons beat-to-beat HRV was not computed. Every
series comes from its highest-priority source with samples in the window.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from service.analysis.data import PersonData
from service.observations.repository import Series
from signal_processing.windows import summarize_window

MIN_BEATS_TO_CHOOSE = 3


def analyze(
    data: PersonData, start: dt.datetime, end: dt.datetime, *, source_id: int | None = None
) -> dict[str, Any]:
    """One window as a JSON-ready dict, naming the source it was computed from.

    With ``source_id``, only that source's samples are used (a session's windows must all
    come from one device).
    """
    start_s, end_s = start.timestamp(), end.timestamp()
    beats = _beat_source(data, start_s, end_s, source_id)
    hr = _in_window(data, data.heart_rate, start_s, end_s, source_id)
    rmssd = _in_window(data, data.device_rmssd, start_s, end_s, source_id)
    sdnn = _in_window(data, data.device_sdnn, start_s, end_s, source_id)
    result = summarize_window(
        start_s,
        end_s,
        clean=data.cleaned(beats) if beats is not None else None,
        heart_rate=hr[1],
        device_rmssd=rmssd[1],
        device_sdnn=sdnn[1],
    )
    used = {
        "beat_to_beat": beats,
        "device_hrv": rmssd[0] if rmssd[0] is not None else sdnn[0],
        "heart_rate_only": hr[0],
    }.get(result.data_kind)
    body = result.as_dict()
    for key in ("start_s", "end_s", "extra"):
        body.pop(key)
    return {
        "start": start,
        "end": end,
        "source": data.describe(used) if used is not None else None,
        **body,
    }


def _beat_source(data: PersonData, start_s: float, end_s: float, only: int | None) -> int | None:
    """The best source with at least a few beats in the window."""
    for source_id, _ in data.by_source(data.rr):
        if only is not None and source_id != only:
            continue
        clean = data.cleaned(source_id)
        i0, i1 = np.searchsorted(clean.input_times_s, [start_s, end_s])
        if i1 - i0 >= MIN_BEATS_TO_CHOOSE:
            return source_id
    return None


def _in_window(
    data: PersonData, series: Series, start_s: float, end_s: float, only: int | None
) -> tuple[int | None, tuple[np.ndarray, np.ndarray] | None]:
    """The best source's samples of ``series`` inside the window, as (times_s, values)."""
    for source_id, own in data.by_source(series):
        if only is not None and source_id != only:
            continue
        i0, i1 = np.searchsorted(own.ts_us, [start_s * 1e6, end_s * 1e6])
        if i1 > i0:
            return source_id, (own.ts_us[i0:i1] / 1e6, own.value[i0:i1])
    return None, None
