"""Daily recovery: one measure per local day, against the person's own baseline.

The day's measure comes from the main sleep episode that ends that day (the
longest run of asleep stages, gaps under an hour merged): the median lnRMSSD
of its valid 5-minute windows, and the lowest 5-minute mean heart rate as
resting heart rate. Without sleep data it is the first valid 5-minute window
of the local morning (05:00-11:00). Baseline, normal range and status come
from ``signal_processing.baseline``; vendor scores are passed through beside.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from service.analysis import data as person_data
from service.analysis import windows
from service.core.db.types import Conn
from service.observations import repository as observations
from signal_processing.baseline import NORMAL_DAYS, ROLLING_DAYS, daily_recovery

WINDOW = dt.timedelta(minutes=5)
MORNING_HOURS = (5, 11)
#: How long after waking a morning window is looked for.
AFTER_WAKING = dt.timedelta(hours=2)
SLEEP_GAP = dt.timedelta(hours=1)
ASLEEP = ("asleep", "asleep_core", "asleep_deep", "asleep_rem")
#: Days of history needed before the first requested day for its baseline.
HISTORY_DAYS = NORMAL_DAYS + ROLLING_DAYS


@dataclass
class DayMeasure:
    day: dt.date
    ln_rmssd: float | None
    resting_hr: float | None
    measured_from: str | None  # "main_sleep" or "morning_window"
    window: tuple[dt.datetime, dt.datetime] | None
    source: dict[str, Any] | None


def main_sleep_blocks(rows: list[dict[str, Any]], tz: ZoneInfo) -> dict[dt.date, tuple]:
    """The longest merged asleep block per local end date."""
    spans = sorted((r["starts_at"], r["ends_at"]) for r in rows if r["stage"] in ASLEEP)
    if not spans:
        spans = sorted((r["starts_at"], r["ends_at"]) for r in rows if r["stage"] == "in_bed")
    blocks: list[list[dt.datetime]] = []
    for start, end in spans:
        if blocks and start - blocks[-1][1] <= SLEEP_GAP:
            blocks[-1][1] = max(blocks[-1][1], end)
        else:
            blocks.append([start, end])
    best: dict[dt.date, tuple] = {}
    for start, end in blocks:
        day = end.astimezone(tz).date()
        if day not in best or end - start > best[day][1] - best[day][0]:
            best[day] = (start, end)
    return best


def _tiles(start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    out = []
    while start + WINDOW <= end:
        out.append((start, start + WINDOW))
        start += WINDOW
    return out


def measure_block(
    pdata, start, end, source_id: int | None = None
) -> tuple[float | None, float | None, dict | None]:
    """Median lnRMSSD of the valid 5-minute windows in [start, end), the lowest window
    mean heart rate (resting HR), and the source of the HRV."""
    ln_values, hr_values, source = [], [], None
    for a, b in _tiles(start, end):
        w = windows.analyze(pdata, a, b, source_id=source_id)
        if w["hrv"] and w["hrv"]["ln_rmssd"] is not None:
            ln_values.append(w["hrv"]["ln_rmssd"])
            hr_values.append(w["hrv"]["mean_hr"])
            source = source or w["source"]
        elif w["heart_rate"]:
            hr_values.append(w["heart_rate"]["mean_hr"])
    ln = float(np.median(ln_values)) if ln_values else None
    rhr = float(min(hr_values)) if hr_values else None
    return ln, rhr, source


def morning_window(
    pdata, day: dt.date, tz: ZoneInfo, blocks: dict[dt.date, tuple], source_id: int | None = None
):
    """The first valid 5-minute window of the morning: after waking from the main sleep that
    ends on ``day`` (within ``AFTER_WAKING``), else in local 05:00-11:00. A measurement of its
    own, never a window of the night. Returns (lnRMSSD, mean HR, window, source) or None."""
    if day in blocks:
        start = blocks[day][1]
        end = start + AFTER_WAKING
    else:
        start = dt.datetime.combine(day, dt.time(MORNING_HOURS[0]), tzinfo=tz)
        end = dt.datetime.combine(day, dt.time(MORNING_HOURS[1]), tzinfo=tz)
    for a, b in _tiles(start, end):
        w = windows.analyze(pdata, a, b, source_id=source_id)
        if w["hrv"] and w["hrv"]["ln_rmssd"] is not None:
            return w["hrv"]["ln_rmssd"], w["hrv"]["mean_hr"], (a, b), w["source"]
    return None


def span(first: dt.date, last: dt.date, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The samples :func:`measures` needs for the days ``first``..``last``: from the noon
    before ``first`` (its night) to the end of the last morning."""
    return (
        dt.datetime.combine(first - dt.timedelta(days=1), dt.time(12), tzinfo=tz),
        dt.datetime.combine(last, dt.time(MORNING_HOURS[1]), tzinfo=tz) + AFTER_WAKING,
    )


def measures(
    pdata, sleep_rows: list[dict[str, Any]], tz: ZoneInfo, first: dt.date, last: dt.date
) -> list[DayMeasure]:
    """One measure per local day from loaded samples and sleep episodes: the main sleep
    ending that day, else the first valid morning window."""
    blocks = main_sleep_blocks(sleep_rows, tz)
    out = []
    day = first
    while day <= last:
        measure = DayMeasure(day, None, None, None, None, None)
        if day in blocks:
            a, b = blocks[day]
            ln, rhr, source = measure_block(pdata, a, b)
            if ln is not None or rhr is not None:
                measure = DayMeasure(day, ln, rhr, "main_sleep", (a, b), source)
        if measure.ln_rmssd is None:
            found = morning_window(pdata, day, tz, {})
            if found:
                ln, rhr, window, source = found
                measure = DayMeasure(day, ln, rhr, "morning_window", window, source)
        out.append(measure)
        day += dt.timedelta(days=1)
    return out


def daily_measures(
    conn: Conn, person_id: str, tz_name: str, first: dt.date, last: dt.date
) -> list[DayMeasure]:
    tz = ZoneInfo(tz_name)
    start, end = span(first, last, tz)
    pdata = person_data.load(conn, person_id, start, end)
    return measures(pdata, observations.sleep_episodes(conn, person_id, start, end), tz, first, last)


def vendor_scores(
    conn: Conn, person_id: str, tz_name: str, first: dt.date, last: dt.date
) -> dict[str, dict[dt.date, float]]:
    """The vendor's own daily scores (last value of each local day), as recorded."""
    rows = observations.daily_last_values(
        conn,
        person_id,
        ("vendor_readiness", "vendor_recovery"),
        tz_name,
        dt.datetime.combine(first, dt.time(), tzinfo=ZoneInfo(tz_name)),
        dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=ZoneInfo(tz_name)),
    )
    scores: dict[str, dict[dt.date, float]] = {}
    for row in rows:
        scores.setdefault(row["metric"], {})[row["day"]] = row["value"]
    return scores


def recovery(conn: Conn, person_id: str, tz_name: str, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    """Daily baseline and status for ``first``..``last`` (local dates)."""
    history_start = first - dt.timedelta(days=HISTORY_DAYS)
    measures = daily_measures(conn, person_id, tz_name, history_start, last)
    vendor = vendor_scores(conn, person_id, tz_name, history_start, last)
    days = np.array([m.day for m in measures], dtype="datetime64[D]")
    vendor_arrays = {
        k: np.array([v.get(m.day, np.nan) for m in measures], dtype=float) for k, v in vendor.items()
    }
    statuses = daily_recovery(
        days,
        np.array([np.nan if m.ln_rmssd is None else m.ln_rmssd for m in measures]),
        np.array([np.nan if m.resting_hr is None else m.resting_hr for m in measures]),
        vendor_arrays,
    )
    out = []
    for measure, status in zip(measures, statuses, strict=True):
        if measure.day < first:
            continue
        body = status.as_dict()
        body["date"] = measure.day.isoformat()
        body["measured_from"] = measure.measured_from
        body["window"] = {"start": measure.window[0], "end": measure.window[1]} if measure.window else None
        body["source"] = measure.source
        out.append(body)
    return out
