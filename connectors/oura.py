"""Oura ring data: records in the Oura API v2 shapes, from JSON files or the CSV export.

The module has two layers:

1. **Mapping** (:func:`map_record` and the functions it dispatches to): pure
   functions from one already-parsed record (a ``dict`` as the API v2 returns
   it, or a CSV row turned into one) to :class:`Sample` values and sleep
   :class:`Episode` items. No files, no I/O: a cloud-sync provider for the Oura
   API v2 reuses exactly these.
2. **Files** (:class:`Oura`): finds the records in an export (JSON files,
   streamed record by record; the semicolon CSV files of the Oura export's
   ``App Data/`` folder, whose nested objects are JSON text in a cell) and
   batches the mapped samples.

===========================  ==============================================================
record (API v2 endpoint)     stored as
===========================  ==============================================================
heart rate (``heartrate``)   ``heart_rate`` at ``timestamp``; ``source`` (awake, rest, sleep,
``{bpm, source, timestamp}``  workout, session, live) kept as the batch tag ``oura_source``
sleep period (``sleep``)     ``heart_rate`` and ``hrv_rmssd`` from the ``heart_rate`` and
                             ``hrv`` series ``{interval, items, timestamp}`` (item *i* at
                             timestamp + *i* x interval; ``null`` items are gaps, counted);
                             ``lowest_heart_rate`` of a ``long_sleep`` as
                             ``resting_heart_rate`` at ``bedtime_end``; ``average_hrv`` as
                             ``hrv_rmssd`` at ``bedtime_end`` only when the period has no
                             ``hrv`` items; ``sleep_phase_5_min`` as sleep stage episodes and
                             the period as ``in_bed``
daily readiness              ``vendor_readiness`` (``score``) at 12:00 of ``day``
===========================  ==============================================================

Oura's HRV is RMSSD (ms). All API times carry a UTC offset; one without is refused.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .base import (
    ConnectorError,
    Episode,
    EpisodeKind,
    Item,
    Metric,
    ReadContext,
    ReadReport,
    SourceInfo,
    requires_data,
    to_epoch_us,
)
from .export_tree import ExportFile, is_lone_file, list_names, open_export
from .jsonstream import iter_json
from .localtime import possible_offset, zone_or_none
from .tabular import FileProblems, csv_rows, normalise
from .vendor import batches, file_kind, noon_us

RING = SourceInfo(key="oura:ring", name="Oura Ring", kind="ring", device="Oura ring")

RecordKind = Literal["heart_rate", "sleep", "daily_readiness"]
#: ``sleep_phase_5_min`` digits (Oura API v2 documentation).
SLEEP_PHASES: dict[str, EpisodeKind] = {
    "1": "asleep_deep",
    "2": "asleep_core",
    "3": "asleep_rem",
    "4": "awake",
}
PHASE_SECONDS = 300


# -- mapping: records to samples (pure) -------------------------------------------------


class RecordProblem(ValueError):
    """A record that cannot be mapped; ``str(problem)`` is the counted reason."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One value: metric, UTC instant (µs), value, the record's UTC offset, Oura's context."""

    metric: Metric
    ts_us: int
    value: float
    utc_offset_s: int | None
    context: str | None = None


@dataclass
class Mapped:
    """What one record gives: samples, episodes, and counted skips, rejections and notes."""

    samples: list[Sample] = field(default_factory=list)
    episodes: list[Episode] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    notes: Counter[str] = field(default_factory=Counter)


def record_kind(record: Mapping[str, Any]) -> RecordKind | None:
    """Which API v2 document a record is, from its fields."""
    if "bpm" in record and "timestamp" in record:
        return "heart_rate"
    if "bedtime_start" in record and "bedtime_end" in record:
        return "sleep"
    contributors = record.get("contributors")
    if (
        "score" in record
        and "day" in record
        and (
            "temperature_deviation" in record
            or (isinstance(contributors, Mapping) and "hrv_balance" in contributors)
        )
    ):
        return "daily_readiness"
    return None


def parse_time(value: Any, name: str) -> dt.datetime:
    """An API time (ISO 8601 with an offset or ``Z``) as an aware datetime."""
    if not isinstance(value, str) or not value.strip():
        raise RecordProblem(f"missing {name}")
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise RecordProblem(f"unparseable {name}") from None
    if moment.tzinfo is None:
        raise RecordProblem(f"{name} without a UTC offset")
    try:
        return possible_offset(moment)
    except ValueError:
        raise RecordProblem(f"{name} with a UTC offset beyond ±14 hours") from None


def _offset_s(moment: dt.datetime) -> int:
    offset = moment.utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _number(value: Any, name: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RecordProblem(f"{name} is not a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise RecordProblem(f"{name} is not a number") from None


def heart_rate_sample(record: Mapping[str, Any]) -> Sample:
    """``{"bpm": 61, "source": "awake", "timestamp": "2024-01-15T08:00:00+00:00"}``."""
    moment = parse_time(record.get("timestamp"), "timestamp")
    bpm = _number(record.get("bpm"), "bpm")
    if bpm is None:
        raise RecordProblem("missing bpm")
    context = record.get("source")
    return Sample(
        "heart_rate", to_epoch_us(moment), bpm, _offset_s(moment), str(context) if context else None
    )


def series_samples(series: Any, metric: Metric, name: str, mapped: Mapped) -> int:
    """Samples from ``{"interval": 300, "items": [...], "timestamp": ...}``; returns how many.

    Item *i* is at ``timestamp`` + *i* x ``interval`` seconds; ``null`` items
    are intervals without a measurement (counted as skipped, not rejected).
    """
    if not series:
        return 0
    if not isinstance(series, Mapping):
        raise RecordProblem(f"{name} is not an object with interval, items and timestamp")
    start = parse_time(series.get("timestamp"), f"{name}.timestamp")
    interval = _number(series.get("interval"), f"{name}.interval")
    items = series.get("items")
    if interval is None or interval <= 0 or not isinstance(items, list):
        raise RecordProblem(f"{name} without a positive interval and an items list")
    start_us, offset = to_epoch_us(start), _offset_s(start)
    step_us = round(interval * 1_000_000)
    count = 0
    for index, item in enumerate(items):
        if item is None:
            mapped.skipped[f"Oura {name} item without a value (null)"] += 1
            continue
        try:
            value = float(item)
        except (TypeError, ValueError):
            mapped.rejected[f"Oura {name} item is not a number"] += 1
            continue
        mapped.samples.append(Sample(metric, start_us + index * step_us, value, offset))
        count += 1
    return count


def sleep_period(record: Mapping[str, Any], source: SourceInfo = RING) -> Mapped:
    """One sleep period of the API v2 ``sleep`` endpoint."""
    mapped = Mapped()
    kind = str(record.get("type") or "")
    if kind == "deleted":
        mapped.skipped["Oura sleep period of type 'deleted'"] += 1
        return mapped
    start = parse_time(record.get("bedtime_start"), "bedtime_start")
    end = parse_time(record.get("bedtime_end"), "bedtime_end")
    if end <= start:
        raise RecordProblem("sleep period ends before it starts")
    series_samples(record.get("heart_rate"), "heart_rate", "heart_rate", mapped)
    hrv_items = series_samples(record.get("hrv"), "hrv_rmssd", "hrv", mapped)
    end_us, end_offset = to_epoch_us(end), _offset_s(end)
    average_hrv = _number(record.get("average_hrv"), "average_hrv")
    if average_hrv is not None:
        if hrv_items:
            # The mean of the 5-minute items just read: storing it would count them twice.
            mapped.skipped["Oura average_hrv of a period whose hrv items were read"] += 1
        else:
            mapped.samples.append(Sample("hrv_rmssd", end_us, average_hrv, end_offset))
    lowest = _number(record.get("lowest_heart_rate"), "lowest_heart_rate")
    if lowest is not None:
        if kind == "long_sleep":
            mapped.samples.append(Sample("resting_heart_rate", end_us, lowest, end_offset))
        else:  # a nap's lowest heart rate is not the night's resting rate
            mapped.skipped[f"Oura lowest_heart_rate of a {kind or 'untyped'} period"] += 1
    if record.get("readiness"):
        mapped.skipped["Oura sleep.readiness (read from daily readiness instead)"] += 1
    mapped.episodes.append(Episode(source, "in_bed", start, end))
    mapped.episodes.extend(_phases(record.get("sleep_phase_5_min"), start, end, source, mapped))
    return mapped


def _phases(
    phases: Any, start: dt.datetime, end: dt.datetime, source: SourceInfo, mapped: Mapped
) -> Iterator[Episode]:
    """Runs of equal digits in ``sleep_phase_5_min``, each 5 minutes, from ``bedtime_start``."""
    if not phases:
        return
    text = str(phases)
    for match in re.finditer(r"(.)\1*", text):
        stage = SLEEP_PHASES.get(match.group(1))
        if stage is None:
            mapped.rejected[f"Oura sleep phase {match.group(1)!r} unknown"] += len(match.group())
            continue
        begin = start + dt.timedelta(seconds=PHASE_SECONDS * match.start())
        finish = min(start + dt.timedelta(seconds=PHASE_SECONDS * match.end()), end)
        if finish > begin:
            yield Episode(source, stage, begin, finish)


def readiness_sample(record: Mapping[str, Any], zone: dt.tzinfo = dt.UTC) -> Sample:
    """``{"day": "2024-01-15", "score": 82, "timestamp": ..., ...}`` at 12:00 of ``day``.

    12:00 in the offset of the record's ``timestamp`` (Oura writes the day's
    start with the account offset), else in ``zone``.
    """
    score = _number(record.get("score"), "score")
    if score is None:
        raise RecordProblem("readiness without a score")
    try:
        day = dt.date.fromisoformat(str(record.get("day"))[:10])
    except ValueError:
        raise RecordProblem("unparseable day") from None
    stamp = record.get("timestamp")
    where = parse_time(stamp, "timestamp").tzinfo if stamp else zone
    ts_us, offset = noon_us(day, where)  # type: ignore[arg-type]
    return Sample("vendor_readiness", ts_us, score, offset)


def map_record(record: Mapping[str, Any], zone: dt.tzinfo = dt.UTC, source: SourceInfo = RING) -> Mapped:
    """Any supported API v2 record; an unsupported one is counted as skipped.

    Raises :class:`RecordProblem` for a record of a known kind that is malformed.
    """
    kind = record_kind(record)
    if kind == "heart_rate":
        return Mapped(samples=[heart_rate_sample(record)])
    if kind == "sleep":
        return sleep_period(record, source)
    if kind == "daily_readiness":
        return Mapped(samples=[readiness_sample(record, zone)])
    mapped = Mapped()
    mapped.skipped["Oura record of a kind not read"] += 1
    return mapped


# -- files ------------------------------------------------------------------------------

#: CSV files of the Oura export read, by normalised base name.
CSV_NAMES = (
    "heartrate.csv",
    "heart_rate.csv",
    "sleepmodel.csv",
    "sleep.csv",
    "dailyreadiness.csv",
    "daily_readiness.csv",
)
#: The columns that make a row of each CSV file a record of its kind.
CSV_REQUIRED: dict[str, tuple[str, ...]] = {
    "heartrate.csv": ("timestamp", "bpm"),
    "heart_rate.csv": ("timestamp", "bpm"),
    "sleepmodel.csv": ("bedtime_start", "bedtime_end"),
    "sleep.csv": ("bedtime_start", "bedtime_end"),
    "dailyreadiness.csv": ("day", "score"),
    "daily_readiness.csv": ("day", "score"),
}
_JSON_MARKERS = (b'"bedtime_start"', b'"hrv_balance"', b'"sleep_phase_5_min"')
_HR_MARKER = re.compile(rb'"bpm"\s*:.*?"source"\s*:', re.S)
CHUNK = 50_000


def looks_like_oura(path: Path, head: bytes) -> bool:
    names = list_names(path)
    lowered = [n.lower() for n in names]
    if is_lone_file(path):
        name = lowered[0].rsplit("/", 1)[-1]
        if name.endswith(".json"):
            return _oura_json_head(head)
        if name in CSV_NAMES:
            first = head.split(b"\n", 1)[0].lower()
            return (
                b"bedtime_start" in first
                or b"contributors" in first
                or (b"bpm" in first and b"source" in first)
            )
        return False
    if any(n.rsplit("/", 1)[-1] in ("sleepmodel.csv", "dailyreadiness.csv") for n in lowered):
        return True
    return _json_member_looks_oura(path, names)


def _oura_json_head(head: bytes) -> bool:
    return any(marker in head for marker in _JSON_MARKERS) or bool(_HR_MARKER.search(head[:4096]))


def _json_member_looks_oura(path: Path, names: list[str]) -> bool:
    """Peek at the first bytes of up to five JSON files of a folder or zip."""
    candidates = [n for n in names if n.lower().endswith(".json")][:5]
    if not candidates:
        return False
    try:
        with open_export(path) as files:
            by_path = {f.path: f for f in files}
            for name in candidates:
                file = by_path.get(name)
                if file is not None:
                    with file.open() as handle:
                        if _oura_json_head(handle.read(16384)):
                            return True
    except (ConnectorError, OSError):
        return False
    return False


class _Batcher:
    """Samples waiting per (metric, offset, context), yielded as batches."""

    def __init__(self) -> None:
        self.waiting: dict[tuple[Metric, int | None, str | None], list[Sample]] = {}
        self.count = 0

    def add(self, samples: list[Sample]) -> None:
        for sample in samples:
            self.waiting.setdefault((sample.metric, sample.utc_offset_s, sample.context), []).append(sample)
        self.count += len(samples)

    def flush(self, problems: FileProblems) -> Iterator[Item]:
        for (metric, offset, context), samples in self.waiting.items():
            ts = np.fromiter((s.ts_us for s in samples), np.int64, len(samples))
            values = np.fromiter((s.value for s in samples), np.float64, len(samples))
            offsets = None if offset is None else np.full(len(samples), offset)
            tags = {"oura_source": context} if context else None
            yield from batches(RING, metric, ts, values, offsets, problems, tags=tags)
        self.waiting.clear()
        self.count = 0


class Oura:
    """The Oura connector: JSON in API v2 shapes and the CSV export (see the docstring)."""

    name = "oura"
    description = "Oura export: JSON in the API v2 shapes or the CSV export's App Data folder"

    def sniff(self, path: Path, head: bytes) -> bool:
        return looks_like_oura(path, head)

    @requires_data
    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[Item]:
        zone = zone_or_none(ctx.tz)
        if zone is None:
            raise ConnectorError(ctx.tz, "unknown time zone given for the import")
        with open_export(path) as files:
            chosen = []
            for file in files:
                lowered = file.name.lower()
                if lowered.endswith(".json") or lowered in CSV_NAMES:
                    chosen.append(file)
                else:
                    report.skip(f"Oura file not read: {file_kind(file.path)}")
            if not chosen:
                raise ConnectorError(path, "no Oura JSON or CSV files in this export")
            report.bytes_total = sum(f.size for f in chosen)
            done = 0
            for file in chosen:
                is_json = file.name.lower().endswith(".json")
                problems = FileProblems(file, "record" if is_json else "line")
                records = _json_records(file) if is_json else _csv_records(file)
                yield from _map_file(records, zone, problems, report)
                problems.flush(report)
                done += file.size
                report.progress(done)


def _json_records(file: ExportFile) -> Iterator[tuple[int, str | None, Any]]:
    index = 0
    for kind, key, value in iter_json(file):
        if kind == "item":
            index += 1
            yield index, key, value
        elif isinstance(value, Mapping) and record_kind(value) is not None:
            index += 1
            yield index, key, value  # a single record under a key


def _csv_records(file: ExportFile) -> Iterator[tuple[int, str | None, Any]]:
    """Rows as dicts by lower-case column name; cells holding JSON objects decoded."""
    names: list[str] | None = None
    for header, line, fields in csv_rows(file):
        if names is None:
            for required in CSV_REQUIRED.get(file.name.lower(), ()):
                header.require(required)
            names = [normalise(n) for n in header.names]
        record: dict[str, Any] = {}
        for name, text in zip(names, fields, strict=False):
            text = text.strip()
            if text[:1] in ("{", "["):
                try:
                    record[name] = json.loads(text)
                except json.JSONDecodeError:
                    record[name] = text  # left for the mapping to refuse, counted
            else:
                record[name] = text or None
        yield line, None, record


def _map_file(
    records: Iterator[tuple[int, str | None, Any]],
    zone: dt.tzinfo,
    problems: FileProblems,
    report: ReadReport,
) -> Iterator[Item]:
    batcher = _Batcher()
    for where, _key, record in records:
        if not isinstance(record, Mapping):
            problems.add("record is not a JSON object", where)
            continue
        if record_kind(record) is None:
            report.skip(f"Oura record of a kind not read ({problems.file.name})")
            continue
        try:
            mapped = map_record(record, zone)
        except RecordProblem as problem:
            problems.add(str(problem), where)
            continue
        for reason, count in mapped.rejected.items():
            problems.add(reason, where, count)
        for reason, count in mapped.skipped.items():
            report.skip(reason, count)
        yield from mapped.episodes
        batcher.add(mapped.samples)
        if batcher.count >= CHUNK:
            yield from batcher.flush(problems)
    yield from batcher.flush(problems)
