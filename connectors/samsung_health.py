"""Samsung Health's "Download personal data" export (CSV files plus a ``jsons/`` folder).

Input: the export folder (``samsunghealth_<user>_<YYYYMMDDHHMMSS>/``), a zip of
it, or one of its CSV files. Each data type is one CSV named
``<data type>.<YYYYMMDDHHMMSS>.csv`` whose **line 1** is metadata (the data
type, a version number, a column count) and **line 2** the header. Column
names carry the data type's prefix in some files
(``com.samsung.health.heart_rate.start_time``) and not in others
(``start_time``); columns are found by their last dotted part, by name.

================================================  ==================================
file                                              stored as
================================================  ==================================
``com.samsung.shealth.tracker.heart_rate.*.csv``  ``heart_rate``: each row's mean over
                                                  its interval at ``start_time``, or,
                                                  where the row's ``binning_data``
                                                  file exists, that file's per-bin
                                                  means instead (never both)
``com.samsung.shealth.stress.*.csv``              ``vendor_stress`` (Samsung's 0-100,
                                                  higher is more stress), binned the
                                                  same way
``com.samsung.health.device_profile.*.csv``       names and kinds of the sources
``jsons/<data type>/<x>/<file>``                  the binning data named by rows
anything else                                     skipped, counted by data type
================================================  ==================================

**Times.** ``start_time`` is UTC (``2024-03-10 01:59:00.000``); ``time_offset``
(``UTC+0100``) is the wall-clock offset at that moment and is kept as the
batch's ``utc_offset_s``. A row whose offset is impossible (over 14 h, minutes
not a quarter hour, unparseable) or whose date is impossible is rejected and
counted with its file and line. Binning items carry ``start_time`` in Unix
milliseconds.

**Sources.** Each (``pkg_name``, ``deviceuuid``) is its own source: the key is
``samsung_health:<pkg_name>:<deviceuuid>``; its name and kind (``360003``
wearable -> watch, ``360001`` mobile -> phone) come from the device profile.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .base import (
    ConnectorError,
    Item,
    Metric,
    ReadContext,
    ReadReport,
    SourceInfo,
    SourceKind,
    requires_data,
)
from .export_tree import ExportFile, is_lone_file, list_names, open_export
from .jsonstream import items
from .localtime import SPACED, parse_civil, parse_offset, tail_parts
from .tabular import FileProblems, cell, csv_rows, number
from .vendor import batches, file_kind

HEART_RATE = "com.samsung.shealth.tracker.heart_rate"
STRESS = "com.samsung.shealth.stress"
DEVICE_PROFILE = "com.samsung.health.device_profile"
_CSV = re.compile(r"^(com\.samsung\.[a-z0-9_.]+?)\.(\d{12,17})\.csv$", re.I)
#: Samsung Health SDK device groups.
DEVICE_GROUPS: dict[str, SourceKind] = {"360001": "phone", "360003": "watch"}
SAMSUNG_APP = "com.sec.android.app.shealth"
CHUNK = 20_000
#: Binning files up to this size are decoded whole; larger ones are streamed.
SMALL_BINNING_BYTES = 4 << 20


@dataclass(frozen=True)
class _Kind:
    """How one data type is read: its metric, value column and binning value key."""

    metric: Metric
    value: str
    bin_value: str


KINDS = {
    HEART_RATE: _Kind("heart_rate", "heart_rate", "heart_rate"),
    STRESS: _Kind("vendor_stress", "score", "score"),
}


def data_type(name: str) -> str | None:
    """``com.samsung.shealth.stress`` for ``.../com.samsung.shealth.stress.2024....csv``."""
    match = _CSV.match(name.rsplit("/", 1)[-1])
    return match.group(1).lower() if match else None


def looks_like_samsung(names: list[str], head: bytes, lone: bool) -> bool:
    types = {data_type(n) for n in names}
    if not types & set(KINDS):
        return False
    if lone:  # a lone CSV: line 1 must be Samsung's metadata line
        return head.lstrip(b"\xef\xbb\xbf").startswith(b"com.samsung.")
    return True


@dataclass
class _Devices:
    """deviceuuid -> (name, kind) from the device profile."""

    known: dict[str, tuple[str, SourceKind]] = field(default_factory=dict)
    cache: dict[tuple[str, str], SourceInfo] = field(default_factory=dict)

    def source(self, package: str, device: str) -> SourceInfo:
        found = self.cache.get((package, device))
        if found is None:
            name, kind = self.known.get(device, ("", "unknown"))
            if kind == "unknown" and package and package != SAMSUNG_APP:
                kind = "app"
            label = name or (f"Samsung Health ({package})" if package else "Samsung Health")
            found = SourceInfo(
                key=f"samsung_health:{package or 'unknown'}:{device or 'unknown'}",
                name=label,
                kind=kind,
                device=name or None,
            )
            self.cache[(package, device)] = found
        return found


class SamsungHealth:
    """The Samsung Health CSV export connector (see the module docstring)."""

    name = "samsung_health"
    description = "Samsung Health personal-data export (folder or zip of its CSV files)"

    def sniff(self, path: Path, head: bytes) -> bool:
        return looks_like_samsung(list_names(path), head, is_lone_file(path))

    @requires_data
    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[Item]:
        with open_export(path) as files:
            wanted: list[tuple[ExportFile, str]] = []
            bins: dict[str, ExportFile] = {}
            devices = _Devices()
            for file in files:
                kind = data_type(file.path)
                if "/jsons/" in f"/{file.path}":
                    bins[file.name] = file
                elif kind in KINDS:
                    wanted.append((file, kind))  # type: ignore[arg-type]
                elif kind == DEVICE_PROFILE:
                    _read_devices(file, devices)
                else:
                    report.skip(f"Samsung Health file not read: {kind or file_kind(file.path)}")
            if not wanted:
                raise ConnectorError(path, "no Samsung Health heart-rate or stress CSV in this export")
            report.bytes_total = sum(file.size for file, _kind in wanted)
            done = 0
            for file, kind in wanted:
                problems = FileProblems(file)
                yield from _read_csv(file, KINDS[kind], bins, devices, problems, report)
                problems.flush(report)
                done += file.size
                report.progress(done)
            unused = len(bins) - report.notes.get("Samsung Health binning file read", 0)
            report.skip("Samsung Health jsons/ file not referenced by a row read", unused)


def _read_devices(file: ExportFile, devices: _Devices) -> None:
    columns = None
    for header, _line, fields in csv_rows(file, skip_lines=1):
        if columns is None:
            columns = (
                header.find_prefixed("deviceuuid"),
                header.find_prefixed("name"),
                header.find_prefixed("model"),
                header.find_prefixed("device_group"),
            )
        uuid = cell(fields, columns[0])
        if uuid:
            name = cell(fields, columns[1]) or cell(fields, columns[2])
            devices.known[uuid] = (name, DEVICE_GROUPS.get(cell(fields, columns[3]), "unknown"))


@dataclass
class _Rows:
    """Rows of one (source, offset) waiting to be parsed in bulk."""

    starts: list[str] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    # Per-bin values, already timed (Unix µs).
    bin_ts: list[int] = field(default_factory=list)
    bin_values: list[float] = field(default_factory=list)
    bin_lines: list[int] = field(default_factory=list)


def _read_csv(
    file: ExportFile,
    kind: _Kind,
    bins: dict[str, ExportFile],
    devices: _Devices,
    problems: FileProblems,
    report: ReadReport,
) -> Iterator[Item]:
    pending: dict[tuple[SourceInfo, int], _Rows] = {}
    waiting = 0
    columns = None
    for header, line, fields in csv_rows(file, skip_lines=1, delimiter=","):
        if columns is None:
            columns = (
                header.find_prefixed("start_time"),
                header.find_prefixed("time_offset"),
                header.find_prefixed(kind.value),
                header.find_prefixed("binning_data"),
                header.find_prefixed("pkg_name"),
                header.find_prefixed("deviceuuid"),
            )
            for position, wanted in zip(columns[:3], ("start_time", "time_offset", kind.value), strict=True):
                if position is None:
                    raise ConnectorError(
                        file.label,
                        f"missing required column {wanted!r} (columns: {', '.join(header.names)[:300]})",
                        line=header.line,
                    )
        start, offset_text = cell(fields, columns[0]), cell(fields, columns[1])
        try:
            offset = parse_offset(offset_text)
        except ValueError:
            problems.add("impossible or unparseable time_offset", line)
            continue
        source = devices.source(cell(fields, columns[4]), cell(fields, columns[5]))
        rows = pending.setdefault((source, offset), _Rows())
        binned = cell(fields, columns[3])
        if binned:
            bin_items = _bin_items(binned, bins, problems, line)
            if bin_items is not None:
                report.note("Samsung Health binning file read")
                waiting += _add_bins(rows, bin_items, kind, problems, line)
                continue
        try:
            value = number(cell(fields, columns[2]))
        except ValueError:
            problems.add(f"{kind.value} is not a number", line)
            continue
        if value is None:
            problems.add(f"empty {kind.value}", line)
            continue
        rows.starts.append(start)
        rows.values.append(value)
        rows.lines.append(line)
        waiting += 1
        if waiting >= CHUNK:
            yield from _flush(pending, kind, problems)
            waiting = 0
    yield from _flush(pending, kind, problems)


def _flush(
    pending: dict[tuple[SourceInfo, int], _Rows], kind: _Kind, problems: FileProblems
) -> Iterator[Item]:
    for (source, offset), rows in pending.items():
        us, tails, ok = parse_civil(rows.starts, SPACED)
        for index in np.flatnonzero(ok):
            try:
                fraction_us, zone = tail_parts(tails[index])
            except ValueError:
                ok[index] = False
                continue
            if zone is not None:  # start_time is UTC and written without an offset
                ok[index] = False
                continue
            us[index] += fraction_us
        lines = np.asarray(rows.lines)
        if not ok.all():
            problems.add("impossible or unparseable start_time", int(lines[~ok][0]), int((~ok).sum()))
        ts = np.concatenate([us[ok], np.asarray(rows.bin_ts, np.int64)])
        values = np.concatenate([np.asarray(rows.values)[ok], np.asarray(rows.bin_values)])
        where = np.concatenate([lines[ok], np.asarray(rows.bin_lines, np.int64)])
        yield from batches(source, kind.metric, ts, values, np.full(ts.size, offset), problems, where)
    pending.clear()


def _bin_items(reference: str, bins: dict[str, ExportFile], problems: FileProblems, line: int) -> list | None:
    """The binning items a row refers to (a file in ``jsons/``, or inline JSON), or None."""
    if reference[:1] in "[{":
        try:
            parsed = json.loads(reference)
        except json.JSONDecodeError:
            problems.add("unreadable inline binning_data", line)
            return None
        return parsed if isinstance(parsed, list) else [parsed]
    file = bins.get(reference.rsplit("/", 1)[-1])
    if file is None:
        return None  # the export left the jsons/ folder out: the row's own value is used
    try:
        if file.size <= SMALL_BINNING_BYTES:  # the usual case: a few KB, decoded at once
            with file.open() as handle:
                parsed = json.loads(handle.read().decode("utf-8-sig"))
            return parsed if isinstance(parsed, list) else [parsed]
        return list(items(file))
    except UnicodeDecodeError as exc:
        problems.add(f"unreadable binning file (not UTF-8: {exc.reason})", line)
    except json.JSONDecodeError as exc:
        what = "truncated JSON" if exc.pos >= len(exc.doc.rstrip()) else "malformed JSON"
        problems.add(f"unreadable binning file ({what}: {exc.msg})", line)
    except ConnectorError as exc:
        problems.add(f"unreadable binning file ({exc.problem})", line)
    return None


def _add_bins(rows: _Rows, bin_items: list, kind: _Kind, problems: FileProblems, line: int) -> int:
    """Add a row's binning items (``start_time`` in Unix ms); returns how many."""
    added = 0
    for item in bin_items:
        try:
            start_ms = int(item["start_time"])
            value = item.get(kind.bin_value)
        except (KeyError, TypeError, ValueError, AttributeError):
            problems.add("binning item without start_time", line)
            continue
        if value is None:
            continue  # a bin without a measurement
        try:
            rows.bin_values.append(float(value))
        except (TypeError, ValueError):
            problems.add("binning value is not a number", line)
            continue
        rows.bin_ts.append(start_ms * 1000)
        rows.bin_lines.append(line)
        added += 1
    return added
