"""Polar Flow account exports: 24/7 PPI beats and training sessions.

A Polar Flow data export (account.polar.com, "download your data") is a folder
or zip of JSON files. Vagus reads two kinds (every other file is skipped,
counted by its kind, such as ``activity`` or ``account-data``):

* ``ppi_*.json`` - the watch's 24/7 pulse-to-pulse intervals: a list of days,
  each ``{"date", "devicePpiSamplesList": [{"deviceId", "ppiSamples":
  [{"sampleDateTime", "pulseLength"}, ...]}]}``. ``pulseLength`` is the
  interval in ms, stored as ``rr_interval`` at ``sampleDateTime`` (taken as the
  beat that ends it). ``sampleDateTime`` is *local* wall-clock time with no
  offset, rendered like Java's ``LocalDateTime``: the seconds are left out
  when they are zero (``2024-03-31T01:15``). It is read in the person's zone
  (``ReadContext.tz``) by :mod:`connectors.localtime`, which places the
  repeated hour of a daylight-saving change by the order of the samples and
  refuses (counts) times in the skipped hour.
* ``training-session-*.json`` - ``{"exercises": [{"startTime",
  "timezoneOffset", "samples": {"heartRate": [{"dateTime", "value"}],
  "rr": [{"dateTime", "value"}]}}]}``. ``timezoneOffset`` is the offset of the
  session's wall-clock times in minutes; a ``dateTime`` that carries its own
  offset (or ``Z``) keeps it. Heart rate goes to ``heart_rate``, RR to
  ``rr_interval``. An RR list without ``dateTime`` is placed by summing the
  intervals from ``startTime``.

Sources: the watch by its ``deviceId``; RR recorded in a training session
comes from the paired heart-rate sensor (Polar watches record RR in training
only from a strap), kept as its own source so it never mixes with the wrist's
PPI. Each JSON file is loaded whole (:func:`connectors.export_files.load_json`;
memory is bounded by the largest file) and its batches are yielded before the
next file is read.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from . import archive, localtime
from .base import (
    AFTER_CLOCK_BROKEN,
    CLOCK_BROKEN,
    ConnectorError,
    Item,
    ReadContext,
    ReadReport,
    SampleBatch,
    SourceInfo,
    clock_usable,
    heart_rate_batch,
    requires_data,
    rr_batch,
    to_epoch_us,
)
from .export_files import ExportFile, list_names, load_json, open_export

PPI_FILE = re.compile(r"(?:^|/)ppi[_-][^/]*\.json$", re.IGNORECASE)
SESSION_FILE = re.compile(r"(?:^|/)training-session-[^/]*\.json$", re.IGNORECASE)
#: The largest offset any zone uses (UTC+14); a session offset beyond it is a misread.
MAX_OFFSET_MIN = 14 * 60
#: A file's kind for the skip count: its name up to the first digit.
_FAMILY = re.compile(r"^([A-Za-z][A-Za-z_\-]*?)[_\-]?(?:\d|$)")


def file_kind(name: str) -> str | None:
    """``"ppi"``, ``"session"`` or None, from a file name inside the export."""
    if PPI_FILE.search(name):
        return "ppi"
    if SESSION_FILE.search(name):
        return "session"
    return None


def _parent(name: str) -> str:
    return name.rpartition("/")[0]


def _family(basename: str) -> str:
    match = _FAMILY.match(basename)
    return match.group(1) if match else basename


class PolarFlow:
    """The Polar Flow account export connector (see the module docstring)."""

    name = "polar_flow"
    description = "Polar Flow account export (folder or zip): 24/7 PPI ppi_*.json and training-session-*.json"

    def sniff(self, path: Path, head: bytes) -> bool:
        if path.is_dir() or archive.is_zip(path):
            return any(file_kind(name) for name in list_names(path))
        return b'"devicePpiSamplesList"' in head or (
            SESSION_FILE.search(path.name) is not None and b'"exercises"' in head
        )

    @requires_data
    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[Item]:
        try:
            localtime.zone(ctx.tz)
        except ValueError as exc:
            raise ConnectorError(
                path, f"{exc}: Polar PPI times are local and need the person's zone"
            ) from None
        with open_export(path) as files:
            # The export is the folders holding PPI or session files; other
            # files there are counted, files elsewhere (another export in
            # the same zip or folder) are not this connector's business.
            homes = {_parent(f.name) for f in files if file_kind(f.name)}
            wanted: list[tuple[ExportFile, str | None]] = []
            for file in files:
                kind = file_kind(file.name)
                if kind is None and len(files) > 1:
                    if _parent(file.name) in homes:
                        report.skip(f"Polar Flow file not read ({_family(file.basename)})")
                    continue
                wanted.append((file, kind))
            report.bytes_total = sum(file.size for file, _ in wanted)
            done = 0
            for file, kind in wanted:
                data = load_json(file)
                kind = kind or _kind_of(data, file.label)
                if kind == "ppi":
                    yield from read_ppi(data, file.label, ctx.tz, report)
                else:
                    yield from read_session(data, file.label, report)
                done += file.size
                report.progress(done)


def _kind_of(data: Any, label: str) -> str:
    """A lone file with an unusual name: decide by its content."""
    first = data[0] if isinstance(data, list) and data else data
    if isinstance(first, dict) and "devicePpiSamplesList" in first:
        return "ppi"
    if isinstance(data, dict) and "exercises" in data:
        return "session"
    raise ConnectorError(
        label, "neither a Polar PPI file (devicePpiSamplesList) nor a training session (exercises)"
    )


# -- 24/7 PPI -----------------------------------------------------------------


def _device_source(device_id: str) -> SourceInfo:
    # The same in PPI and session files (sessions also name the model, PPI
    # files do not), so that one watch is one source.
    return SourceInfo(
        key=f"polar_flow:{device_id}",
        name=f"Polar {device_id}",
        kind="watch",
        device=f"Polar device {device_id}",
    )


def read_ppi(data: Any, label: str, tz: str, report: ReadReport) -> Iterator[SampleBatch]:
    """``rr_interval`` batches from a parsed ``ppi_*.json``."""
    days = data if isinstance(data, list) else [data]
    for day_index, day in enumerate(days):
        where = f"day {day_index}"
        if not isinstance(day, dict) or not isinstance(day.get("devicePpiSamplesList"), list):
            raise ConnectorError(label, "expected an object with a devicePpiSamplesList", record=where)
        for list_index, device in enumerate(day["devicePpiSamplesList"]):
            record = f"{where}, devicePpiSamplesList[{list_index}]"
            if not isinstance(device, dict):
                raise ConnectorError(label, "expected an object", record=record)
            samples = device.get("ppiSamples")
            if samples is None:
                report.skip("Polar PPI device list without ppiSamples", where=f"{label} ({record})")
                continue
            if not isinstance(samples, list):
                raise ConnectorError(label, "ppiSamples is not a list", record=record)
            source = _device_source(str(device.get("deviceId") or "unknown"))
            yield from _ppi_batches(samples, f"{label} ({record})", source, tz, report)


def _ppi_samples(samples: list[Any], where: str, report: ReadReport) -> tuple[list[str], np.ndarray]:
    """The times and lengths of well-formed samples; the rest rejected, counted."""
    try:  # the common case, in bulk: every sample an object with both fields
        texts = [sample["sampleDateTime"] for sample in samples]
        values = np.array([sample["pulseLength"] for sample in samples], dtype=np.float64)
        if all(type(text) is str for text in texts) and not np.isnan(values).any():
            return texts, values
    except (TypeError, KeyError, ValueError):
        pass
    texts, kept = [], []
    for sample in samples:
        if not isinstance(sample, dict):
            report.reject("Polar PPI sample that is not an object", where=where)
            continue
        text, value = sample.get("sampleDateTime"), sample.get("pulseLength")
        if not isinstance(text, str):
            report.reject("Polar PPI sample without sampleDateTime", where=where)
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            report.reject("Polar PPI sample without a numeric pulseLength", where=where)
            continue
        texts.append(text)
        kept.append(float(value))
    return texts, np.asarray(kept, dtype=np.float64)


def _ppi_batches(
    samples: list[Any], where: str, source: SourceInfo, tz: str, report: ReadReport
) -> Iterator[SampleBatch]:
    texts, values = _ppi_samples(samples, where, report)
    if not texts:
        return
    wall, parsed = localtime.parse_local(texts)
    report.reject(
        "Polar PPI sampleDateTime unreadable (expected local ISO time)",
        int(parsed.size - np.count_nonzero(parsed)),
        where=where,
    )
    rr = values[parsed]
    utc, offset, exists = localtime.to_utc(wall[parsed], tz)
    report.reject(
        f"Polar PPI local time in the daylight-saving gap of {tz}",
        int(exists.size - np.count_nonzero(exists)),
        where=where,
    )
    utc, offset, rr = utc[exists], offset[exists], rr[exists]
    order = np.argsort(utc, kind="stable")
    utc, offset, rr = utc[order], offset[order], rr[order]
    for value in np.unique(offset):
        same = offset == value
        yield rr_batch(source, utc[same], rr[same], report, utc_offset_s=int(value))


# -- training sessions ----------------------------------------------------------


def read_session(data: Any, label: str, report: ReadReport) -> Iterator[SampleBatch]:
    """``heart_rate`` and ``rr_interval`` batches from a parsed training session."""
    if not isinstance(data, dict) or not isinstance(data.get("exercises"), list):
        raise ConnectorError(label, "expected a training session object with an exercises list")
    device_id = str(data.get("deviceId") or _nested(data, "device", "id") or "unknown")
    watch = _device_source(device_id)
    strap = SourceInfo(
        key=f"{watch.key}:hr_sensor",
        name=f"HR sensor paired with {watch.name}",
        kind="chest_strap",
        device=f"heart-rate sensor paired with {watch.device}",
    )
    for index, exercise in enumerate(data["exercises"]):
        record = f"exercises[{index}]"
        if not isinstance(exercise, dict):
            raise ConnectorError(label, "expected an exercise object", record=record)
        offset_s = _session_offset(exercise, data, label, record)
        samples = exercise.get("samples") or {}
        if not isinstance(samples, dict):
            raise ConnectorError(label, "samples is not an object", record=record)
        for kind in samples:
            if kind not in ("heartRate", "rr"):
                report.skip(f"Polar training session samples not read ({kind})")
        heart = samples.get("heartRate") or []
        if heart:
            ts, bpm = _timed_values(
                heart, offset_s, f"{label} ({record}.samples.heartRate)", "heartRate", report
            )
            if ts.size:
                yield heart_rate_batch(watch, ts, bpm, report, utc_offset_s=offset_s)
        rr = samples.get("rr") or []
        if rr:
            ts, ms = _rr_values(rr, exercise, offset_s, f"{label} ({record}.samples.rr)", report)
            if ts.size:
                yield rr_batch(strap, ts, ms, report, utc_offset_s=offset_s)


def _nested(data: dict[str, Any], outer: str, inner: str) -> Any:
    value = data.get(outer)
    return value.get(inner) if isinstance(value, dict) else None


def _session_offset(exercise: dict[str, Any], session: dict[str, Any], label: str, record: str) -> int:
    """``timezoneOffset`` (minutes) of an exercise, else of the session, in seconds."""
    for holder in (exercise, session):
        for key in ("timezoneOffset", "timeZoneOffset"):
            if key in holder:
                value = holder[key]
                if (
                    isinstance(value, bool)
                    or not isinstance(value, int)
                    or abs(value) > MAX_OFFSET_MIN
                    or value % 15
                ):
                    raise ConnectorError(
                        label,
                        f"timezoneOffset {value!r} is not a whole number of quarter hours within ±14 h",
                        record=record,
                    )
                return value * 60
    raise ConnectorError(
        label, "no timezoneOffset: the session's local times cannot be placed", record=record
    )


def _session_times(texts: list[str], offset_s: int) -> tuple[np.ndarray, np.ndarray]:
    """UTC microseconds of session times: wall clock at ``offset_s`` unless they carry one."""
    wall, ok = localtime.parse_local(texts)
    utc = wall - offset_s * 1_000_000
    for index in np.flatnonzero(~ok).tolist():
        try:
            moment = localtime.possible_offset(dt.datetime.fromisoformat(texts[index]))
        except (TypeError, ValueError):
            continue
        if moment.tzinfo is not None:
            utc[index] = to_epoch_us(moment)
            ok[index] = True
    return utc, ok


def _timed_values(
    entries: list[Any], offset_s: int, where: str, what: str, report: ReadReport
) -> tuple[np.ndarray, np.ndarray]:
    texts: list[str] = []
    values: list[float] = []
    for entry in entries:
        text = entry.get("dateTime") if isinstance(entry, dict) else None
        value = entry.get("value") if isinstance(entry, dict) else None
        if not isinstance(text, str):
            report.reject(f"Polar {what} sample without dateTime", where=where)
            continue
        if value is None:
            report.skip(f"Polar {what} sample without a value (no reading)", where=where)
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            report.reject(f"Polar {what} value is not a number", where=where)
            continue
        texts.append(text)
        values.append(float(value))
    if not texts:
        return np.zeros(0, np.int64), np.zeros(0)
    utc, ok = _session_times(texts, offset_s)
    report.reject(f"Polar {what} dateTime unreadable", int(ok.size - np.count_nonzero(ok)), where=where)
    order = np.argsort(utc[ok], kind="stable")
    return utc[ok][order], np.asarray(values, dtype=np.float64)[ok][order]


def _rr_values(
    entries: list[Any], exercise: dict[str, Any], offset_s: int, where: str, report: ReadReport
) -> tuple[np.ndarray, np.ndarray]:
    """RR with their own times, or (no ``dateTime``) summed from the exercise start."""
    if all(isinstance(e, dict) and "dateTime" in e for e in entries):
        return _timed_values(entries, offset_s, where, "rr", report)
    start_text = exercise.get("startTime")
    start, ok = _session_times([start_text] if isinstance(start_text, str) else [""], offset_s)
    if not ok[0]:
        raise ConnectorError(
            where,
            f"RR without dateTime and an unreadable startTime {start_text!r}: the beats cannot be placed",
        )
    values = []
    for entry in entries:
        value = entry.get("value", entry.get("duration")) if isinstance(entry, dict) else entry
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConnectorError(
                where, f"RR value {value!r} is not a number; the beats after it cannot be placed"
            )
        values.append(float(value))
    ms = np.asarray(values, dtype=np.float64)
    # The running sum is the only clock: it stops at the first interval that
    # cannot be time between beats, and what follows is rejected, counted.
    bad = np.flatnonzero(~clock_usable(ms))
    if bad.size:
        first = int(bad[0])
        report.reject(CLOCK_BROKEN, where=f"{where} [{first}]")
        report.reject(AFTER_CLOCK_BROKEN, ms.size - first - 1, where=f"{where} [{first + 1}]")
        ms = ms[:first]
    clock_us = start[0] + np.cumsum(np.round(ms * 1000)).astype(np.int64)
    return clock_us, ms
