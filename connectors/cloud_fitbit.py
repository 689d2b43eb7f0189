"""Fitbit Web API records as a cloud sync fetches them: pure mappings, by endpoint.

==============================  ==================================================================
record (endpoint)               stored as
==============================  ==================================================================
``heart_intraday`` (one day of  ``heart_rate`` from ``activities-heart-intraday.dataset``: each
``activities/heart`` at 1min,   ``{"time": "HH:MM:SS", "value": bpm}`` on the record's ``date``;
asked with ``timezone=UTC``)    the sync asks for UTC, so the times are UTC
``heart_daily`` (a day of the   ``value.restingHeartRate`` as ``resting_heart_rate`` at 12:00 of
``activities/heart`` range)     ``dateTime`` in the person's zone (absent on days without one)
``hrv`` (daily summary)         ``value.dailyRmssd`` as ``hrv_rmssd`` at 12:00 of ``dateTime`` (the
                                main sleep's RMSSD, ms, as the export's daily summary);
                                ``deepRmssd`` not read
``sleep`` (v1.2 sleep log)      an ``in_bed`` episode ``startTime``-``endTime`` and each of
                                ``levels.data`` (``wake``, ``light``, ``deep``, ``rem``; classic
                                logs ``asleep``, ``restless``, ``awake``) as a stage episode;
                                times are the wall clock of the person's zone
==============================  ==================================================================

Source ``fitbit``, as the export connector's (:mod:`connectors.fitbit`), whose
sleep-level vocabulary this reuses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from .base import Episode, to_epoch_us
from .fitbit import SLEEP_LEVELS, SOURCE
from .oura import Mapped, RecordProblem, Sample
from .vendor import noon_us

PROVIDER = "fitbit"
DATA_TYPES = ("heart_intraday", "heart_daily", "hrv", "sleep")


def _day(value: Any, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise RecordProblem(f"unparseable {name}") from None


def _number(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RecordProblem(f"{name} is not a number")
    return float(value)


def _wall(value: Any, name: str, zone: dt.tzinfo) -> dt.datetime:
    """A Fitbit local time (``2024-03-01T23:10:30.000``) in ``zone``."""
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise RecordProblem(f"unparseable {name}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def heart_intraday(record: Mapping[str, Any]) -> Mapped:
    day = _day(record.get("date"), "date")
    intraday = record.get("activities-heart-intraday")
    dataset = intraday.get("dataset") if isinstance(intraday, Mapping) else None
    if not isinstance(dataset, list):
        raise RecordProblem("no activities-heart-intraday.dataset list")
    mapped = Mapped()
    for point in dataset:
        try:
            clock = dt.time.fromisoformat(str(point.get("time")))
            bpm = _number(point.get("value"), "value")
        except (AttributeError, ValueError, RecordProblem):
            mapped.rejected["Fitbit intraday heart rate point unreadable"] += 1
            continue
        if bpm is None:
            mapped.skipped["Fitbit intraday heart rate point without a value"] += 1
            continue
        moment = dt.datetime.combine(day, clock, dt.UTC)
        mapped.samples.append(Sample("heart_rate", to_epoch_us(moment), bpm, 0))
    return mapped


def heart_daily(record: Mapping[str, Any], zone: dt.tzinfo) -> Mapped:
    day = _day(record.get("dateTime"), "dateTime")
    value = record.get("value")
    resting = (
        _number(value.get("restingHeartRate"), "restingHeartRate") if isinstance(value, Mapping) else None
    )
    mapped = Mapped()
    if resting is None:
        mapped.skipped["Fitbit day without a resting heart rate"] += 1
        return mapped
    ts, offset = noon_us(day, zone)
    mapped.samples.append(Sample("resting_heart_rate", ts, resting, offset))
    return mapped


def hrv(record: Mapping[str, Any], zone: dt.tzinfo) -> Mapped:
    day = _day(record.get("dateTime"), "dateTime")
    value = record.get("value")
    if not isinstance(value, Mapping):
        raise RecordProblem("hrv record without a value object")
    rmssd = _number(value.get("dailyRmssd"), "dailyRmssd")
    mapped = Mapped()
    if rmssd is None:
        mapped.skipped["Fitbit HRV day without dailyRmssd"] += 1
        return mapped
    ts, offset = noon_us(day, zone)
    mapped.samples.append(Sample("hrv_rmssd", ts, rmssd, offset))
    return mapped


def sleep(record: Mapping[str, Any], zone: dt.tzinfo) -> Mapped:
    start = _wall(record.get("startTime"), "startTime", zone)
    end = _wall(record.get("endTime"), "endTime", zone)
    if end <= start:
        raise RecordProblem("sleep ends before it starts")
    mapped = Mapped(episodes=[Episode(SOURCE, "in_bed", start, end)])
    levels = record.get("levels")
    data = levels.get("data") if isinstance(levels, Mapping) else None
    for entry in data if isinstance(data, list) else []:
        try:
            begin = _wall(entry.get("dateTime"), "levels.data.dateTime", zone)
            seconds = _number(entry.get("seconds"), "levels.data.seconds")
        except (AttributeError, RecordProblem):
            mapped.rejected["Fitbit sleep level unreadable"] += 1
            continue
        stage = SLEEP_LEVELS.get(str(entry.get("level", "")).lower())
        if stage is None or not seconds or seconds <= 0:
            mapped.rejected["Fitbit sleep level unknown or without a duration"] += 1
            continue
        mapped.episodes.append(Episode(SOURCE, stage, begin, begin + dt.timedelta(seconds=seconds)))
    return mapped


def map_record(data_type: str, record: Mapping[str, Any], zone: dt.tzinfo = dt.UTC) -> Mapped:
    if data_type == "heart_intraday":
        return heart_intraday(record)
    if data_type == "heart_daily":
        return heart_daily(record, zone)
    if data_type == "hrv":
        return hrv(record, zone)
    if data_type == "sleep":
        return sleep(record, zone)
    raise RecordProblem(f"Fitbit endpoint {data_type!r} is not mapped")
