"""Oura API v2 records as a cloud sync fetches them: pure mappings, by endpoint.

The heart rate, sleep and daily readiness documents are mapped by the functions
of :mod:`connectors.oura` (the same shapes as the JSON export). This module adds
the ``session`` endpoint (guided and unguided sessions: breathing, meditation,
relaxation, rest, nap, body status), which the export connector does not read:

========================  ==================================================================
``session`` field         stored as
========================  ==================================================================
``heart_rate``            ``heart_rate`` series ``{interval, items, timestamp}``
``heart_rate_variability``  ``hrv_rmssd`` series (Oura's HRV is RMSSD, ms)
the session itself        a ``mindful`` episode for breathing, meditation and relaxation
                          sessions (the other types are not mindfulness), counted otherwise
========================  ==================================================================

Here the endpoint names the record's kind (the sync writes it beside the record),
so a record is never sniffed: one missing its fields is refused, not skipped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from .base import Episode
from .oura import (
    RING,
    Mapped,
    RecordProblem,
    heart_rate_sample,
    parse_time,
    readiness_sample,
    series_samples,
    sleep_period,
)

PROVIDER = "oura"
#: The batch tag carrying Oura's heart-rate ``source`` (as the export connector names it).
CONTEXT_TAG = "oura_source"
DATA_TYPES = ("heartrate", "sleep", "daily_readiness", "session")
MINDFUL_SESSIONS = frozenset({"breathing", "meditation", "relaxation"})


def session(record: Mapping[str, Any]) -> Mapped:
    """One record of the ``session`` endpoint."""
    start = parse_time(record.get("start_datetime"), "start_datetime")
    end = parse_time(record.get("end_datetime"), "end_datetime")
    if end <= start:
        raise RecordProblem("session ends before it starts")
    mapped = Mapped()
    series_samples(record.get("heart_rate"), "heart_rate", "heart_rate", mapped)
    series_samples(record.get("heart_rate_variability"), "hrv_rmssd", "heart_rate_variability", mapped)
    kind = str(record.get("type") or "")
    if kind in MINDFUL_SESSIONS:
        mapped.episodes.append(Episode(RING, "mindful", start, end))
    else:
        mapped.skipped[f"Oura session of type {kind or 'unknown'!r} (not an episode)"] += 1
    return mapped


def map_record(data_type: str, record: Mapping[str, Any], zone: dt.tzinfo = dt.UTC) -> Mapped:
    """The samples and episodes of one record of endpoint ``data_type``.

    Raises :class:`RecordProblem` for a malformed record, and for an endpoint
    this module does not know (a caller's mistake, never the vendor's).
    """
    if data_type == "heartrate":
        return Mapped(samples=[heart_rate_sample(record)])
    if data_type == "sleep":
        return sleep_period(record, RING)
    if data_type == "daily_readiness":
        return Mapped(samples=[readiness_sample(record, zone)])
    if data_type == "session":
        return session(record)
    raise RecordProblem(f"Oura endpoint {data_type!r} is not mapped")
