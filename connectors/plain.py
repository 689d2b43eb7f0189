"""Plain beat-to-beat and heart-rate files.

* ``rr_text``: one RR interval per line, in ms or s (decided from the values),
  optional header line. No absolute times: the caller supplies the start.
* ``rr_csv``: ``time,rr`` CSV. ``time`` is an ISO 8601 instant (a naive one is
  read in the person's zone) or seconds since the caller's start.
* ``polar_sensor_logger``: the semicolon RR file of Polar Sensor Logger
  (``Phone timestamp;RR-interval [ms]``). Several intervals arrive in one
  Bluetooth notification and share its phone timestamp, so beat times are
  rebuilt from the intervals and only anchored to the phone clock.
* ``hr_csv``: ``timestamp,bpm`` CSV.

Each reads line by line in chunks (:mod:`connectors.lines`: any line ending,
a line length limit), so file size does not matter. A file that gives no
sample at all fails (:func:`connectors.base.requires_data`).

A plain RR list has no clock but the running sum of its intervals, so one
corrupt value (``99999999999``, ``nan``, ``0``, a negative) would move every
later beat. The sum stops there instead: that value and all after it are
rejected and counted, naming the line (``rr_text``). Polar Sensor Logger rows
carry phone times, so there the bad row is rejected and the next run is
anchored to the phone clock again. Rows of ``rr_csv`` and ``hr_csv`` each have
their own time; a naive one inside a daylight-saving gap is rejected, counted.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .base import (
    AFTER_CLOCK_BROKEN,
    CLOCK_BROKEN,
    ConnectorError,
    Item,
    NothingReadable,
    ReadContext,
    ReadReport,
    SampleBatch,
    SourceInfo,
    SourceKind,
    clock_usable,
    heart_rate_batch,
    requires_data,
    rr_batch,
    to_epoch_us,
)
from .lines import decode_line, numbered_lines
from .localtime import LocalTimeGap, place_wall_clock, possible_offset, zone

CHUNK_LINES = 50_000
_NUMBER = re.compile(rb"^\s*[-+]?\d+(?:[.,]\d*)?\s*$")
#: Unix times outside these years are not a recording (the parse would overflow
#: or place beats in another era).
_UNIX_RANGE_S = (0.0, 7_258_118_400.0)  # 1970-01-01 to 2200-01-01
#: A relative time (seconds since the given start) beyond a century is a misread.
_MAX_RELATIVE_S = 100 * 365.25 * 86_400


def parse_instant(text: str, tz: str) -> dt.datetime:
    """An ISO 8601 time; a naive one is taken as wall-clock time in ``tz``.

    Raises :class:`LocalTimeGap` for a naive time inside a daylight-saving
    gap, and ValueError for an offset beyond ±14 h (no zone uses one).
    """
    value = text.strip().replace(" ", "T", 1) if "T" not in text else text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        return place_wall_clock(moment, zone(tz), tz)
    return possible_offset(moment)


def _gap_reason(tz: str) -> str:
    return f"local time in the daylight-saving gap of {tz}"


def _as_float(text: str) -> float:
    return float(text.strip().strip('"').replace(",", "."))


def _numbered_lines(path: Path, report: ReadReport) -> Iterator[tuple[int, str]]:
    """Non-blank lines with 1-based line numbers (any line ending), reporting bytes read."""
    report.bytes_total = path.stat().st_size
    done = 0
    with path.open("rb") as handle:
        for number, raw, done in numbered_lines(handle, path):
            if number % CHUNK_LINES == 0:
                report.progress(done)
            line = decode_line(raw, path, number, first=number == 1)
            if line.strip():
                yield number, line
    report.progress(done)


def _file_source(path: Path, name: str, kind: SourceKind = "unknown") -> SourceInfo:
    return SourceInfo(key=f"{name}", name=name, kind=kind)


def _require_start(path: Path, ctx: ReadContext) -> dt.datetime:
    if ctx.start is None:
        raise ConnectorError(
            path,
            "this file has no absolute times: give the recording's "
            "start time (--start ISO8601, or start= in the API)",
        )
    if ctx.start.tzinfo is None:
        try:
            return place_wall_clock(ctx.start, zone(ctx.tz), ctx.tz)
        except LocalTimeGap as exc:
            raise ConnectorError(path, f"the start time: {exc}") from None
    return ctx.start


def _seconds_or_ms(values: np.ndarray) -> float:
    """Factor to milliseconds: RR in seconds have a median under 10."""
    usable = values[clock_usable(values)] if values.size else values
    return 1000.0 if usable.size and float(np.median(usable)) < 10 else 1.0


class RrText:
    name = "rr_text"
    description = "one RR interval per line (ms or s), optional header; needs a start time"

    def sniff(self, path: Path, head: bytes) -> bool:
        if path.is_dir() or not head:
            return False
        lines = [ln for ln in head.splitlines()[:50] if ln.strip()]
        if len(head) == 64 * 1024 and lines:
            lines = lines[:-1]  # the last line of a full head may be cut short
        body = lines[1:] if lines and not _NUMBER.match(lines[0]) else lines
        return bool(body) and all(_NUMBER.match(ln) for ln in body)

    @requires_data
    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[Item]:
        """Beats at the start plus the running sum of intervals.

        The sum is the only clock this format has, so it stops at the first
        interval that cannot be time between beats (``clock_usable``): that
        value and every one after it are rejected, counted, with the line
        where the clock broke; the beats before it keep their times.
        """
        start_us = to_epoch_us(_require_start(path, ctx))
        source = _file_source(path, "RR file")
        clock = _BeatClock(start_us)
        values: list[float] = []
        numbers: list[int] = []
        for number, line in _numbered_lines(path, report):
            try:
                values.append(_as_float(line))
            except ValueError:
                if number == 1 and not values:
                    continue  # a header line
                raise ConnectorError(
                    path, f"expected one RR interval, found {line[:60]!r}", line=number
                ) from None
            numbers.append(number)
            if len(values) >= CHUNK_LINES:
                yield clock.batch(values, numbers, path, source, report)
                values, numbers = [], []
        if values:
            yield clock.batch(values, numbers, path, source, report)


class _BeatClock:
    """The running sum of a plain RR list, which stops for good at an unusable interval."""

    def __init__(self, start_us: int) -> None:
        self.start_us = start_us
        self.factor: float | None = None
        self.clock_ms = 0.0
        self.broken = False

    def batch(
        self, values: list[float], numbers: list[int], path: Path, source: SourceInfo, report: ReadReport
    ) -> SampleBatch:
        rr = np.asarray(values, dtype=np.float64)
        self.factor = self.factor or _seconds_or_ms(rr)
        with np.errstate(over="ignore", invalid="ignore"):
            rr_ms = rr * self.factor
        count = rr_ms.size
        if self.broken:
            report.reject(AFTER_CLOCK_BROKEN, count, where=f"{path} line {numbers[0]}")
            return _no_beats(source)
        bad = np.flatnonzero(~clock_usable(rr_ms))
        if bad.size:
            first = int(bad[0])
            self.broken = True
            report.reject(CLOCK_BROKEN, where=f"{path} line {numbers[first]}")
            if first + 1 < count:
                report.reject(
                    AFTER_CLOCK_BROKEN, count - first - 1, where=f"{path} line {numbers[first + 1]}"
                )
            rr_ms = rr_ms[:first]
            if not first:
                return _no_beats(source)
        # Beat times accumulate every usable interval, including ones rejected
        # as out of physiological bounds: an artefact still took its time.
        ends_ms = self.clock_ms + np.cumsum(rr_ms)
        self.clock_ms = float(ends_ms[-1])
        ts = self.start_us + np.round(ends_ms * 1000).astype(np.int64)
        return rr_batch(source, ts, rr_ms, report)


def _no_beats(source: SourceInfo) -> SampleBatch:
    return SampleBatch(source, "rr_interval", np.empty(0, np.int64), np.empty(0))


class _CsvConnector:
    """Shared reading of two-column CSV files with a header."""

    delimiter = ","
    header_pattern: re.Pattern[bytes]

    def sniff(self, path: Path, head: bytes) -> bool:
        if path.is_dir() or not head:
            return False
        lines = head.lstrip(b"\xef\xbb\xbf").splitlines()
        return bool(lines) and bool(self.header_pattern.match(lines[0].strip().lower()))

    def rows(self, path: Path, report: ReadReport) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
        """The header (lower case) and an iterator of ``(line number, fields)``."""
        lines = _numbered_lines(path, report)
        try:
            _header_line, header = next(lines)
        except StopIteration:
            raise NothingReadable(path, "empty file: no header and no data") from None
        names = [h.strip().strip('"').lower() for h in header.split(self.delimiter)]
        return names, self._fields(path, lines)

    def _fields(self, path: Path, lines: Iterator[tuple[int, str]]) -> Iterator[tuple[int, list[str]]]:
        for number, line in lines:
            try:
                fields = next(csv.reader([line], delimiter=self.delimiter), [])
            except csv.Error as exc:
                raise ConnectorError(path, f"malformed CSV: {exc}", line=number) from None
            if len(fields) < 2:
                raise ConnectorError(
                    path, f"expected {self.delimiter!r}-separated fields, found {line[:60]!r}", line=number
                )
            yield number, fields


class RrCsv(_CsvConnector):
    name = "rr_csv"
    description = "CSV with header time,rr (ISO times, or seconds since --start); rr in ms or s"
    header_pattern = re.compile(rb'^"?(time|timestamp)"?\s*,\s*"?(rr|rr_ms|rr_s|rr_interval|ibi)\b')

    @requires_data
    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[Item]:
        """Each row has its own time, so a bad row never moves another row's beat."""
        source = _file_source(path, "RR CSV")
        header, rows = self.rows(path, report)
        factor: float | None = None
        ts: list[int] = []
        rr: list[float] = []
        for number, fields in rows:
            try:
                rr_value = _as_float(fields[1])
            except ValueError:
                raise ConnectorError(
                    path, f"RR value {fields[1][:30]!r} is not a number", line=number
                ) from None
            try:
                ts.append(self._time_us(path, fields[0], ctx, number))
            except LocalTimeGap:
                report.reject(_gap_reason(ctx.tz), where=f"{path} line {number}")
                continue
            rr.append(rr_value)
            if len(rr) >= CHUNK_LINES:
                factor = factor or self._factor(header, rr)
                yield self._batch(ts, rr, factor, source, report)
                ts, rr = [], []
        if rr:
            yield self._batch(ts, rr, factor or self._factor(header, rr), source, report)

    @staticmethod
    def _factor(header: list[str], rr: list[float]) -> float:
        unit_in_header = header[1] if len(header) > 1 else ""
        if unit_in_header.endswith("_s") or "[s]" in unit_in_header:
            return 1000.0
        if unit_in_header.endswith("_ms") or "[ms]" in unit_in_header:
            return 1.0
        return _seconds_or_ms(np.asarray(rr, dtype=np.float64))

    @staticmethod
    def _batch(
        ts: list[int], rr: list[float], factor: float, source: SourceInfo, report: ReadReport
    ) -> SampleBatch:
        with np.errstate(over="ignore", invalid="ignore"):
            rr_ms = np.asarray(rr, dtype=np.float64) * factor
        return rr_batch(source, np.asarray(ts, dtype=np.int64), rr_ms, report)

    @staticmethod
    def _time_us(path: Path, text: str, ctx: ReadContext, number: int) -> int:
        try:
            if _looks_absolute(text):
                return to_epoch_us(parse_instant(text, ctx.tz))
            seconds = _as_float(text)
        except LocalTimeGap:
            raise
        except (ValueError, OverflowError):
            raise ConnectorError(
                path, f"time {text[:40]!r} is neither ISO 8601 nor seconds", line=number
            ) from None
        if not math.isfinite(seconds) or abs(seconds) > _MAX_RELATIVE_S:
            raise ConnectorError(
                path,
                f"time {text[:40]!r}: seconds since the start must be a finite number within a century",
                line=number,
            )
        return to_epoch_us(_require_start(path, ctx)) + round(seconds * 1_000_000)


def _timestamp_us(text: str, tz: str) -> int:
    """ISO 8601, or Unix time in seconds (milliseconds when the number is that large)."""
    value = text.strip().strip('"')
    if _NUMBER.match(value.encode()):
        number = float(value.replace(",", "."))
        seconds = number / 1000 if number > 1e11 else number
        if not _UNIX_RANGE_S[0] <= seconds < _UNIX_RANGE_S[1]:
            raise ValueError(f"Unix time {value[:30]!r} is outside 1970-2200")
        return round(number * (1_000 if number > 1e11 else 1_000_000))
    return to_epoch_us(parse_instant(value, tz))


def _looks_absolute(text: str) -> bool:
    return "-" in text.strip()[1:] or "T" in text


class HeartRateCsv(_CsvConnector):
    name = "hr_csv"
    description = "CSV with header timestamp,bpm (ISO 8601 times or Unix seconds/milliseconds)"
    header_pattern = re.compile(rb'^"?(timestamp|time)"?\s*,\s*"?(bpm|hr|heart_rate)\b')

    @requires_data
    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[Item]:
        source = _file_source(path, "heart-rate CSV")
        _header, rows = self.rows(path, report)
        ts: list[int] = []
        bpm: list[float] = []
        for number, fields in rows:
            try:
                value = _as_float(fields[1])
            except ValueError:
                raise ConnectorError(path, f"bpm {fields[1][:30]!r} is not a number", line=number) from None
            try:
                ts.append(_timestamp_us(fields[0], ctx.tz))
            except LocalTimeGap:
                report.reject(_gap_reason(ctx.tz), where=f"{path} line {number}")
                continue
            except (ValueError, OverflowError) as exc:
                raise ConnectorError(
                    path,
                    f"timestamp {fields[0][:40]!r} is neither ISO 8601 nor Unix time ({exc})",
                    line=number,
                ) from None
            bpm.append(value)
            if len(bpm) >= CHUNK_LINES:
                yield heart_rate_batch(source, np.asarray(ts, np.int64), np.asarray(bpm), report)
                ts, bpm = [], []
        if bpm:
            yield heart_rate_batch(source, np.asarray(ts, np.int64), np.asarray(bpm), report)


#: A new segment starts when the phone clock runs ahead of the beat clock by
#: more than this: a Bluetooth dropout lost beats, so the sum no longer holds.
POLAR_GAP_MS = 3000.0


class PolarSensorLogger(_CsvConnector):
    name = "polar_sensor_logger"
    description = "Polar Sensor Logger RR file (Phone timestamp;RR-interval [ms])"
    delimiter = ";"
    header_pattern = re.compile(rb"^phone timestamp;\s*rr-interval \[ms\]")

    @requires_data
    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[Item]:
        """Beats rebuilt from the intervals, in runs anchored to the phone clock.

        An interval that cannot be time between beats (``clock_usable``) or a
        row whose phone time does not exist (daylight-saving gap) is rejected,
        counted, and ends its run: the next run is anchored to the phone times
        again, so no later beat moves.
        """
        source = SourceInfo(
            key="Polar H10 (Polar Sensor Logger)", name="Polar Sensor Logger", kind="chest_strap"
        )
        _header, rows = self.rows(path, report)
        phone_ms: list[float] = []
        rr: list[float] = []
        breaks: list[int] = []  # indices into rr where a new run starts
        for number, fields in rows:
            try:
                moment = parse_instant(fields[0], ctx.tz)
                value = _as_float(fields[1])
            except LocalTimeGap:
                report.reject(_gap_reason(ctx.tz), where=f"{path} line {number}")
                breaks.append(len(rr))
                continue
            except (ValueError, OverflowError):
                raise ConnectorError(
                    path, f"expected 'timestamp;interval', found {';'.join(fields)[:60]!r}", line=number
                ) from None
            if not clock_usable(np.asarray([value]))[0]:
                report.reject(CLOCK_BROKEN, where=f"{path} line {number}")
                breaks.append(len(rr))
                continue
            phone_ms.append(to_epoch_us(moment) / 1000.0)
            rr.append(value)
        if not rr:
            return
        beats_ms = _beat_times_from_intervals(
            np.asarray(phone_ms), np.asarray(rr), np.asarray(breaks, dtype=np.int64)
        )
        yield rr_batch(
            source, np.round(beats_ms * 1000).astype(np.int64), np.asarray(rr, dtype=np.float64), report
        )


def _beat_times_from_intervals(
    arrival_ms: np.ndarray, rr_ms: np.ndarray, breaks: np.ndarray | None = None
) -> np.ndarray:
    """Beat times from the intervals, anchored to notification arrival times.

    A beat is always reported after it happened, so within a run of
    contiguous beats the anchor is the latest start consistent with every
    arrival: min(arrival - cumulative RR). A new run starts where arrivals
    jump ahead of the beat clock by more than ``POLAR_GAP_MS`` (lost beats),
    and at each index in ``breaks`` (a rejected row interrupted the sum).
    """
    cumulative = np.cumsum(rr_ms)
    lag = arrival_ms - cumulative
    # A gap shows as the lag growing suddenly: beats went missing.
    jumps = np.flatnonzero(np.diff(lag) > POLAR_GAP_MS) + 1
    if breaks is not None and breaks.size:
        inside = breaks[(breaks > 0) & (breaks < cumulative.size)]
        jumps = np.unique(np.concatenate((jumps, inside)))
    beats = np.empty_like(cumulative)
    for run in np.split(np.arange(cumulative.size), jumps):
        anchor = lag[run].min()
        beats[run] = anchor + cumulative[run]
    return beats
