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

Each reads line by line in chunks, so file size does not matter.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from .base import (
    ConnectorError,
    Item,
    ReadContext,
    ReadReport,
    SourceInfo,
    SourceKind,
    heart_rate_batch,
    rr_batch,
    to_epoch_us,
)

CHUNK_LINES = 50_000
_NUMBER = re.compile(rb"^\s*[-+]?\d+(?:[.,]\d*)?\s*$")


def parse_instant(text: str, tz: str) -> dt.datetime:
    """An ISO 8601 time; a naive one is taken as wall-clock time in ``tz``."""
    value = text.strip().replace(" ", "T", 1) if "T" not in text else text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz))
    return moment


def _as_float(text: str) -> float:
    return float(text.strip().strip('"').replace(",", "."))


def _numbered_lines(path: Path, report: ReadReport) -> Iterator[tuple[int, str]]:
    """Non-blank lines with 1-based line numbers, reporting bytes read."""
    size = path.stat().st_size
    report.bytes_total = size
    done = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            done += len(raw)
            if number % CHUNK_LINES == 0:
                report.progress(done)
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise ConnectorError(path, f"not UTF-8 text ({exc.reason})", line=number) from exc
            if line.strip():
                yield number, line.rstrip("\r\n")
    report.progress(done)


def _file_source(path: Path, name: str, kind: SourceKind = "unknown") -> SourceInfo:
    return SourceInfo(key=f"{name}", name=name, kind=kind)


def _require_start(path: Path, ctx: ReadContext) -> dt.datetime:
    if ctx.start is None:
        raise ConnectorError(path, "this file has no absolute times: give the recording's "
                                   "start time (--start ISO8601, or start= in the API)")
    if ctx.start.tzinfo is None:
        return ctx.start.replace(tzinfo=ZoneInfo(ctx.tz))
    return ctx.start


def _seconds_or_ms(values: np.ndarray) -> float:
    """Factor to milliseconds: RR in seconds have a median under 10."""
    return 1000.0 if values.size and float(np.median(values)) < 10 else 1.0


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

    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[Item]:
        start_us = to_epoch_us(_require_start(path, ctx))
        source = _file_source(path, "RR file")
        factor: float | None = None
        clock_ms = 0.0
        values: list[float] = []
        for number, line in _numbered_lines(path, report):
            try:
                values.append(_as_float(line))
            except ValueError:
                if number == 1 and not values:
                    continue  # a header line
                raise ConnectorError(path, f"expected one RR interval, found {line[:60]!r}",
                                     line=number) from None
            if len(values) >= CHUNK_LINES:
                batch, factor, clock_ms = self._batch(values, factor, clock_ms, start_us,
                                                      source, report)
                values = []
                yield batch
        if values:
            batch, factor, clock_ms = self._batch(values, factor, clock_ms, start_us,
                                                  source, report)
            yield batch

    @staticmethod
    def _batch(values: list[float], factor: float | None, clock_ms: float, start_us: int,
               source: SourceInfo, report: ReadReport):
        rr = np.asarray(values, dtype=np.float64)
        factor = factor or _seconds_or_ms(rr)
        rr_ms = rr * factor
        # Beat times accumulate every interval, including rejected ones: a
        # dropped value still took its time.
        ends_ms = clock_ms + np.cumsum(rr_ms)
        ts = start_us + np.round(ends_ms * 1000).astype(np.int64)
        return rr_batch(source, ts, rr_ms, report), factor, float(ends_ms[-1])


class _CsvConnector:
    """Shared reading of two-column CSV files with a header."""

    delimiter = ","
    header_pattern: re.Pattern[bytes]

    def sniff(self, path: Path, head: bytes) -> bool:
        if path.is_dir() or not head:
            return False
        first = head.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].strip().lower()
        return bool(self.header_pattern.match(first))

    def rows(self, path: Path, report: ReadReport) -> Iterator[tuple[int, list[str]]]:
        lines = _numbered_lines(path, report)
        try:
            header_line, header = next(lines)
        except StopIteration:
            raise ConnectorError(path, "empty file") from None
        self.header = [h.strip().lower() for h in header.split(self.delimiter)]
        for number, line in lines:
            fields = next(csv.reader(io.StringIO(line), delimiter=self.delimiter))
            if len(fields) < 2:
                raise ConnectorError(path, f"expected {self.delimiter!r}-separated fields, "
                                           f"found {line[:60]!r}", line=number)
            yield number, fields


class RrCsv(_CsvConnector):
    name = "rr_csv"
    description = "CSV with header time,rr (ISO times, or seconds since --start); rr in ms or s"
    header_pattern = re.compile(rb'^"?(time|timestamp)"?\s*,\s*"?(rr|rr_ms|rr_s|rr_interval|ibi)\b')

    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[Item]:
        source = _file_source(path, "RR CSV")
        factor: float | None = None
        ts: list[int] = []
        rr: list[float] = []
        for number, fields in self.rows(path, report):
            try:
                rr_value = _as_float(fields[1])
            except ValueError:
                raise ConnectorError(path, f"RR value {fields[1][:30]!r} is not a number",
                                     line=number) from None
            ts.append(self._time_us(path, fields[0], ctx, number))
            rr.append(rr_value)
            if len(rr) >= CHUNK_LINES:
                yield self._batch(ts, rr, factor, source, report)
                factor = factor or self._factor(rr)
                ts, rr = [], []
        if rr:
            yield self._batch(ts, rr, factor, source, report)

    def _factor(self, rr: list[float]) -> float:
        unit_in_header = self.header[1] if len(self.header) > 1 else ""
        if unit_in_header.endswith("_s") or "[s]" in unit_in_header:
            return 1000.0
        if unit_in_header.endswith("_ms") or "[ms]" in unit_in_header:
            return 1.0
        return _seconds_or_ms(np.asarray(rr))

    def _batch(self, ts: list[int], rr: list[float], factor: float | None,
               source: SourceInfo, report: ReadReport):
        factor = factor or self._factor(rr)
        return rr_batch(source, np.asarray(ts, dtype=np.int64),
                        np.asarray(rr, dtype=np.float64) * factor, report)

    @staticmethod
    def _time_us(path: Path, text: str, ctx: ReadContext, number: int) -> int:
        try:
            if _looks_absolute(text):
                return to_epoch_us(parse_instant(text, ctx.tz))
            return to_epoch_us(_require_start(path, ctx)) + round(_as_float(text) * 1_000_000)
        except ValueError:
            raise ConnectorError(path, f"time {text[:40]!r} is neither ISO 8601 nor seconds",
                                 line=number) from None


def _timestamp_us(text: str, tz: str) -> int:
    """ISO 8601, or Unix time in seconds (milliseconds when the number is that large)."""
    value = text.strip().strip('"')
    if _NUMBER.match(value.encode()):
        number = float(value.replace(",", "."))
        return round(number * (1_000 if number > 1e11 else 1_000_000))
    return to_epoch_us(parse_instant(value, tz))


def _looks_absolute(text: str) -> bool:
    return "-" in text.strip()[1:] or "T" in text


class HeartRateCsv(_CsvConnector):
    name = "hr_csv"
    description = "CSV with header timestamp,bpm (ISO 8601 times or Unix seconds/milliseconds)"
    header_pattern = re.compile(rb'^"?(timestamp|time)"?\s*,\s*"?(bpm|hr|heart_rate)\b')

    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[Item]:
        source = _file_source(path, "heart-rate CSV")
        ts: list[int] = []
        bpm: list[float] = []
        for number, fields in self.rows(path, report):
            try:
                ts.append(_timestamp_us(fields[0], ctx.tz))
            except ValueError:
                raise ConnectorError(path, f"timestamp {fields[0][:40]!r} is neither ISO 8601 "
                                           "nor Unix time", line=number) from None
            try:
                bpm.append(_as_float(fields[1]))
            except ValueError:
                raise ConnectorError(path, f"bpm {fields[1][:30]!r} is not a number",
                                     line=number) from None
            if len(bpm) >= CHUNK_LINES:
                yield heart_rate_batch(source, np.asarray(ts), np.asarray(bpm), report)
                ts, bpm = [], []
        if bpm:
            yield heart_rate_batch(source, np.asarray(ts), np.asarray(bpm), report)


#: A new segment starts when the phone clock runs ahead of the beat clock by
#: more than this: a Bluetooth dropout lost beats, so the sum no longer holds.
POLAR_GAP_MS = 3000.0


class PolarSensorLogger(_CsvConnector):
    name = "polar_sensor_logger"
    description = "Polar Sensor Logger RR file (Phone timestamp;RR-interval [ms])"
    delimiter = ";"
    header_pattern = re.compile(rb"^phone timestamp;\s*rr-interval \[ms\]")

    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[Item]:
        source = SourceInfo(key="Polar H10 (Polar Sensor Logger)",
                            name="Polar Sensor Logger", kind="chest_strap")
        phone_ms: list[float] = []
        rr: list[float] = []
        for number, fields in self.rows(path, report):
            try:
                phone_ms.append(to_epoch_us(parse_instant(fields[0], ctx.tz)) / 1000.0)
                rr.append(_as_float(fields[1]))
            except ValueError:
                raise ConnectorError(path, f"expected 'timestamp;interval', found "
                                           f"{';'.join(fields)[:60]!r}", line=number) from None
        if not rr:
            return
        beats_ms = _beat_times_from_intervals(np.asarray(phone_ms), np.asarray(rr))
        yield rr_batch(source, np.round(beats_ms * 1000).astype(np.int64),
                       np.asarray(rr, dtype=np.float64), report)


def _beat_times_from_intervals(arrival_ms: np.ndarray, rr_ms: np.ndarray) -> np.ndarray:
    """Beat times from the intervals, anchored to notification arrival times.

    A beat is always reported after it happened, so within a run of
    contiguous beats the anchor is the latest start consistent with every
    arrival: min(arrival - cumulative RR). A new run starts where arrivals
    jump ahead of the beat clock by more than ``POLAR_GAP_MS`` (lost beats).
    """
    cumulative = np.cumsum(rr_ms)
    lag = arrival_ms - cumulative
    # A gap shows as the lag growing suddenly: beats went missing.
    jumps = np.flatnonzero(np.diff(lag) > POLAR_GAP_MS) + 1
    beats = np.empty_like(cumulative)
    for run in np.split(np.arange(cumulative.size), jumps):
        anchor = lag[run].min()
        beats[run] = anchor + cumulative[run]
    return beats
