"""WHOOP API (v2) records as a cloud sync fetches them: pure mappings, by endpoint.

===========================  ===================================================================
record (endpoint)            stored as
===========================  ===================================================================
recovery (``/recovery``)     ``score.recovery_score`` as ``vendor_recovery`` (WHOOP's 0-100),
                             ``score.resting_heart_rate`` as ``resting_heart_rate``,
                             ``score.hrv_rmssd_milli`` as ``hrv_rmssd`` (ms), ``score.spo2_
                             percentage`` as ``spo2``; ``skin_temp_celsius`` skipped (absolute,
                             not the vocabulary's delta). Only ``score_state`` ``SCORED``.
sleep (``/activity/sleep``)  the sleep (naps too) as an ``in_bed`` episode ``start``-``end``;
                             ``score.respiratory_rate`` of a night (not a nap) as
                             ``respiratory_rate`` at ``end``
===========================  ===================================================================

**When a recovery is.** WHOOP scores recovery from the night's sleep, on waking;
the export connector (:mod:`connectors.whoop`) times it at the row's wake onset.
Here it is timed at the ``end`` of its sleep (``sleep_id``) when that sleep is in
the same batch of records (a sync fetches both endpoints over one range), else at
``created_at`` (when WHOOP scored it, shortly after waking), counted as a note.
The recovery record has no offset of its own; the sleep's ``timezone_offset``
(``+02:00``) is used when known. Cycles (strain, energy, average heart rate over a
whole day) carry nothing of the vocabulary and are not fetched.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .base import Episode, Metric, to_epoch_us
from .oura import Mapped, RecordProblem, Sample, parse_time
from .whoop import SOURCE

PROVIDER = "whoop"
DATA_TYPES = ("sleep", "recovery")
#: Recovery score fields read, with their metric.
RECOVERY_FIELDS: tuple[tuple[str, Metric], ...] = (
    ("recovery_score", "vendor_recovery"),
    ("resting_heart_rate", "resting_heart_rate"),
    ("hrv_rmssd_milli", "hrv_rmssd"),
    ("spo2_percentage", "spo2"),
)


@dataclass(frozen=True, slots=True)
class Wake:
    """Where a sleep ended: the instant and its UTC offset (seconds)."""

    at: dt.datetime
    offset_s: int | None


def _number(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RecordProblem(f"{name} is not a number")
    return float(value)


def _offset_s(text: Any) -> int | None:
    """``"-05:00"`` -> -18000; None when absent or unreadable."""
    if not isinstance(text, str) or len(text) < 6 or text[0] not in "+-":
        return None
    try:
        hours, minutes = int(text[1:3]), int(text[4:6])
    except ValueError:
        return None
    sign = -1 if text[0] == "-" else 1
    return sign * (hours * 3600 + minutes * 60)


def _score(record: Mapping[str, Any], kind: str, mapped: Mapped) -> Mapping[str, Any] | None:
    state = record.get("score_state")
    if state != "SCORED":
        mapped.skipped[f"WHOOP {kind} not scored ({state or 'no score_state'})"] += 1
        return None
    score = record.get("score")
    if not isinstance(score, Mapping):
        raise RecordProblem(f"scored {kind} without a score object")
    return score


def wakes(records: Iterable[tuple[str, Mapping[str, Any]]]) -> dict[str, Wake]:
    """Each sleep's end by its id, from the batch's ``sleep`` records (bad ones ignored)."""
    found: dict[str, Wake] = {}
    for data_type, record in records:
        if data_type != "sleep" or record.get("id") is None:
            continue
        try:
            end = parse_time(record.get("end"), "end")
        except RecordProblem:
            continue
        found[str(record["id"])] = Wake(end, _offset_s(record.get("timezone_offset")))
    return found


def sleep(record: Mapping[str, Any]) -> Mapped:
    start = parse_time(record.get("start"), "start")
    end = parse_time(record.get("end"), "end")
    if end <= start:
        raise RecordProblem("sleep ends before it starts")
    mapped = Mapped(episodes=[Episode(SOURCE, "in_bed", start, end)])
    score = _score(record, "sleep", mapped)
    rate = _number(score.get("respiratory_rate"), "respiratory_rate") if score else None
    if rate is not None:
        if record.get("nap"):
            mapped.skipped["WHOOP respiratory rate of a nap"] += 1
        else:
            mapped.samples.append(
                Sample("respiratory_rate", to_epoch_us(end), rate, _offset_s(record.get("timezone_offset")))
            )
    return mapped


def recovery(record: Mapping[str, Any], sleep_ends: Mapping[str, Wake]) -> Mapped:
    mapped = Mapped()
    score = _score(record, "recovery", mapped)
    if score is None:
        return mapped
    wake = sleep_ends.get(str(record.get("sleep_id")))
    if wake is None:
        created = parse_time(record.get("created_at"), "created_at")
        wake = Wake(created, None)
        mapped.notes["WHOOP recovery timed at created_at (its sleep not in this batch)"] += 1
    ts = to_epoch_us(wake.at)
    for name, metric in RECOVERY_FIELDS:
        value = _number(score.get(name), f"score.{name}")
        if value is not None:
            mapped.samples.append(Sample(metric, ts, value, wake.offset_s))
    if score.get("skin_temp_celsius") is not None:
        mapped.skipped["WHOOP skin temperature (absolute, not a delta)"] += 1
    if score.get("user_calibrating"):
        mapped.notes["WHOOP recovery scored while calibrating"] += 1
    return mapped


def map_record(data_type: str, record: Mapping[str, Any], sleep_ends: Mapping[str, Wake]) -> Mapped:
    if data_type == "sleep":
        return sleep(record)
    if data_type == "recovery":
        return recovery(record, sleep_ends)
    raise RecordProblem(f"WHOOP endpoint {data_type!r} is not mapped")
