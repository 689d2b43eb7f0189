"""Empatica E4 sessions: inter-beat intervals and heart rate.

An E4 Connect session download is a folder or zip of CSV files. Vagus reads:

* ``IBI.csv`` - first line ``<start>, IBI`` (Unix seconds, UTC), then one
  ``seconds since start, interval in seconds`` row per beat. The first column
  is the time of the beat that *ends* the interval, so consecutive rows
  differ by exactly the second column; rows are missing wherever the E4 could
  not see clean beats in its PPG signal (gaps are normal, movement makes
  many), and a session may run for days.
* ``HR.csv`` - first line the start (Unix seconds, UTC), second the sample
  rate (Hz), then one heart rate (bpm) per line; sample *i* is at
  start + i / rate. Each value is derived from a window of PPG, so in real
  sessions it starts 10 s after ``IBI.csv``.

The other files (ACC, BVP, EDA, TEMP, tags) are not in the metric vocabulary
and are skipped, counted. A lone ``IBI.csv`` or ``HR.csv`` is read too.
Format notes: docs/formats.md, "Empatica E4"; the files' own ``info.txt``.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO

import numpy as np

from . import archive
from .base import (
    ConnectorError,
    Item,
    ReadContext,
    ReadReport,
    SampleBatch,
    SourceInfo,
    heart_rate_batch,
    requires_data,
    rr_batch,
)
from .lines import decode_line, numbered_lines

CHUNK_ROWS = 50_000
#: E4 Connect names a session download ``<start>_<device id>``; the device id
#: then keys the source, so two wristbands stay apart.
_SESSION_NAME = re.compile(r"^\d{9,11}_([A-Za-z0-9]{6})$")
_IBI_HEADER = re.compile(rb"^\s*\d{9,11}(?:\.\d*)?\s*,\s*IBI\s*$", re.IGNORECASE)
_NUMBER = re.compile(rb"^\s*\d+(?:\.\d*)?\s*$")
#: Unix seconds between 2001 and 2100: a start time, not an RR value.
_START_RANGE = (1e9, 4.1e9)
#: The E4 records for at most a few days; a beat time beyond a year is a misread.
MAX_SESSION_S = 366 * 86_400
#: The E4 writes HR.csv at 1 Hz; anything over this is not a sample rate.
MAX_RATE_HZ = 1000.0


def _lines(head: bytes, count: int) -> list[bytes]:
    return head.lstrip(b"\xef\xbb\xbf").splitlines()[:count]


def looks_like_ibi(head: bytes) -> bool:
    """``IBI.csv`` content: a ``<unix start>, IBI`` header line."""
    lines = _lines(head, 1)
    return bool(lines) and bool(_IBI_HEADER.match(lines[0]))


def looks_like_hr(head: bytes) -> bool:
    """``HR.csv`` content: a Unix start time, a sample rate, then numbers."""
    lines = [ln for ln in _lines(head, 12) if ln.strip()]
    if len(lines) < 3 or not all(_NUMBER.match(ln) for ln in lines[:-1]):
        return False
    start, rate = float(lines[0]), float(lines[1])
    return _START_RANGE[0] <= start <= _START_RANGE[1] and 0 < rate <= 1000


def _parse_float(text: str, name: str, number: int, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ConnectorError(name, f"{what} {text.strip()[:40]!r} is not a number", line=number) from None
    return value


def _text_lines(stream: IO[bytes], name: str) -> Iterator[tuple[int, str]]:
    """Numbered non-blank lines (any line ending, length-limited, strict UTF-8)."""
    for number, raw, _done in numbered_lines(stream, name):
        line = decode_line(raw, name, number, first=number == 1)
        if line.strip():
            yield number, line


def _start_us(text: str, name: str) -> int:
    start = _parse_float(text, name, 1, "start time")
    if not _START_RANGE[0] <= start <= _START_RANGE[1]:
        raise ConnectorError(
            name, f"start time {text.strip()[:40]!r} is not a Unix time between 2001 and 2100", line=1
        )
    return round(start * 1_000_000)


def read_ibi(stream: IO[bytes], name: str, source: SourceInfo, report: ReadReport) -> Iterator[Item]:
    """``rr_interval`` batches from an ``IBI.csv`` stream.

    Every row carries its own time (seconds since the start), so a row whose
    time is not a number, or lies outside the session, is rejected and
    counted; it moves no other beat.
    """
    lines = _text_lines(stream, name)
    number, header = next(lines, (1, ""))
    fields = header.split(",")
    if len(fields) != 2 or fields[1].strip().upper() != "IBI":
        raise ConnectorError(name, f"expected the header '<start>, IBI', found {header[:60]!r}", line=number)
    start_us = _start_us(fields[0], name)
    ts: list[int] = []
    rr: list[float] = []
    for number, line in lines:
        parts = line.split(",")
        if len(parts) != 2:
            raise ConnectorError(
                name, f"expected 'seconds, interval', found {line.strip()[:60]!r}", line=number
            )
        try:
            seconds = float(parts[0])
        except ValueError:
            raise ConnectorError(
                name, f"time {parts[0].strip()[:40]!r} is not a number", line=number
            ) from None
        if not 0 <= seconds <= MAX_SESSION_S:
            report.reject(
                "Empatica IBI time not a number or outside the session", where=f"{name} line {number}"
            )
            continue
        try:
            interval = float(parts[1])
        except ValueError:
            raise ConnectorError(
                name, f"interval {parts[1].strip()[:40]!r} is not a number", line=number
            ) from None
        ts.append(start_us + round(seconds * 1_000_000))
        rr.append(interval * 1000)
        if len(rr) >= CHUNK_ROWS:
            yield rr_batch(source, np.asarray(ts, np.int64), np.asarray(rr), report)
            ts, rr = [], []
    if rr:
        yield rr_batch(source, np.asarray(ts, np.int64), np.asarray(rr), report)


def read_hr(stream: IO[bytes], name: str, source: SourceInfo, report: ReadReport) -> Iterator[Item]:
    """``heart_rate`` batches from an ``HR.csv`` stream."""
    lines = _text_lines(stream, name)
    _number, start_text = next(lines, (1, ""))
    start_us = _start_us(start_text, name)
    number, rate_text = next(lines, (2, ""))
    rate = _parse_float(rate_text, name, number, "sample rate")
    if not 0 < rate <= MAX_RATE_HZ:
        raise ConnectorError(
            name, f"sample rate {rate} Hz is not between 0 and {MAX_RATE_HZ} Hz", line=number
        )
    index = 0
    values: list[float] = []
    first = 0
    for number, line in lines:
        try:
            values.append(float(line))
        except ValueError:
            raise ConnectorError(
                name, f"heart rate {line.strip()[:40]!r} is not a number", line=number
            ) from None
        index += 1
        if len(values) >= CHUNK_ROWS:
            yield _hr_batch(source, start_us, rate, first, values, report)
            first, values = index, []
    if values:
        yield _hr_batch(source, start_us, rate, first, values, report)


def _hr_batch(
    source: SourceInfo, start_us: int, rate: float, first: int, values: list[float], report: ReadReport
) -> SampleBatch:
    # Sample times from the index, not by adding 1/rate: no drift over days.
    offsets = np.round(np.arange(first, first + len(values)) * (1_000_000 / rate))
    return heart_rate_batch(
        source, start_us + offsets.astype(np.int64), np.asarray(values, dtype=np.float64), report
    )


def session_source(session_name: str) -> SourceInfo:
    """The E4 as a source, keyed by its device id when the session name carries one."""
    match = _SESSION_NAME.match(session_name)
    if match:
        device = match.group(1).upper()
        return SourceInfo(
            key=f"Empatica E4 {device}", name="Empatica E4", kind="watch", device=f"Empatica E4 {device}"
        )
    return SourceInfo(key="Empatica E4", name="Empatica E4", kind="watch", device="Empatica E4")


_READERS = {"ibi.csv": read_ibi, "hr.csv": read_hr}


class EmpaticaE4:
    """Connector for E4 session folders and zips, and lone IBI.csv / HR.csv files."""

    name = "empatica_e4"
    description = "Empatica E4 session (folder or zip with IBI.csv/HR.csv), or a lone IBI.csv or HR.csv"

    def sniff(self, path: Path, head: bytes) -> bool:
        if path.is_dir():
            return any(p.name.lower() in _READERS for p in path.iterdir() if p.is_file())
        if looks_like_ibi(head) or looks_like_hr(head):
            return True
        if head[:4] == b"PK\x03\x04" and archive.is_zip(path):
            try:
                with zipfile.ZipFile(path) as zipped:
                    return any(PurePosixPath(n).name.lower() in _READERS for n in zipped.namelist())
            except (zipfile.BadZipFile, OSError):
                return False
        return False

    @requires_data
    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[Item]:
        if path.is_dir():
            yield from self._read_folder(path, report)
        elif archive.is_zip(path):
            yield from self._read_zip(path, report)
        else:
            yield from self._read_lone(path, report)

    @staticmethod
    def _read_lone(path: Path, report: ReadReport) -> Iterator[Item]:
        with path.open("rb") as handle:
            head = handle.read(4096)
        reader = read_ibi if looks_like_ibi(head) else read_hr if looks_like_hr(head) else None
        if reader is None:
            raise ConnectorError(path, "neither an Empatica IBI.csv nor an HR.csv")
        report.bytes_total = path.stat().st_size
        with path.open("rb") as handle:
            yield from reader(handle, str(path), session_source(path.parent.name), report)
        report.progress(report.bytes_total)

    @staticmethod
    def _read_folder(path: Path, report: ReadReport) -> Iterator[Item]:
        source = session_source(path.name)
        files = sorted(p for p in path.iterdir() if p.is_file())
        wanted = [p for p in files if p.name.lower() in _READERS]
        for other in files:
            if other.name.lower() not in _READERS:
                report.skip(f"Empatica file not imported ({other.name})")
        report.bytes_total = sum(p.stat().st_size for p in wanted)
        done = 0
        for file in wanted:
            with file.open("rb") as handle:
                yield from _READERS[file.name.lower()](handle, str(file), source, report)
            done += file.stat().st_size
            report.progress(done)

    @staticmethod
    def _read_zip(path: Path, report: ReadReport) -> Iterator[Item]:
        source = session_source(path.stem)
        with archive.open_checked(path) as zipped:
            infos = list(archive.members(zipped))
            wanted = [i for i in infos if PurePosixPath(i.filename).name.lower() in _READERS]
            for other in infos:
                if other not in wanted:
                    other_name = PurePosixPath(other.filename).name
                    report.skip(f"Empatica file not imported ({other_name})")
            report.bytes_total = sum(i.file_size for i in wanted)
            done = 0
            for info in wanted:
                reader = _READERS[PurePosixPath(info.filename).name.lower()]
                label = f"{path}!{info.filename}"
                try:
                    member = zipped.open(info)
                except archive.READ_ERRORS as exc:
                    raise ConnectorError(label, f"could not read the member: {exc}") from exc
                with member:
                    yield from reader(member, label, source, report)
                done += info.file_size
                report.progress(done)
