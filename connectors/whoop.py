"""WHOOP's data export: ``physiological_cycles.csv`` and ``sleeps.csv``.

Input: the export zip, its folder, or either file. Columns differ between
export versions (added, dropped, reordered, renamed in case or wording), so
each is found by name among known variants; only ``Cycle start time`` and
``Cycle timezone`` are required.

===================================  =================================================
column (``physiological_cycles``)    stored as
===================================  =================================================
``Recovery score %``                 ``vendor_recovery`` (WHOOP's 0-100, as is)
``Resting heart rate (bpm)``         ``resting_heart_rate``
``Heart rate variability (ms)``      ``hrv_rmssd`` (WHOOP's HRV is RMSSD)
``Respiratory rate (rpm)``           ``respiratory_rate``
``Blood oxygen %``                   ``spo2``
``Skin temp (celsius)``              skipped: absolute, not the vocabulary's delta
strain, energy, max/average HR       not read
===================================  =================================================

These are measured during the cycle's sleep and scored on waking, so they are
timed at the row's ``Wake onset``; a row without one (older exports, or a
cycle without sleep) uses ``Cycle start time``. ``sleeps.csv`` gives each sleep
(naps included) as an ``in_bed`` episode from ``Sleep onset`` to ``Wake onset``.

**Times** are local wall clock (``2024-03-31 07:12:44``); every time of a row
is read in that row's ``Cycle timezone`` (``UTC+02:00``), which is also the
batch's ``utc_offset_s``. A row with an impossible offset or date is rejected
and counted with its file and line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .base import (
    ConnectorError,
    Episode,
    Item,
    Metric,
    ReadContext,
    ReadReport,
    SourceInfo,
    from_epoch_us,
    requires_data,
)
from .export_tree import ExportFile, is_lone_file, list_names, open_export
from .localtime import SPACED, parse_civil, parse_offset, tail_parts
from .tabular import FileProblems, Header, cell, csv_rows, number
from .vendor import batches, file_kind

SOURCE = SourceInfo(key="whoop", name="WHOOP", kind="watch", device="WHOOP strap")
CYCLES, SLEEPS = "physiological_cycles.csv", "sleeps.csv"

#: Metric columns of physiological_cycles.csv: metric and the names seen for it.
CYCLE_METRICS: tuple[tuple[Metric, tuple[str, ...]], ...] = (
    ("vendor_recovery", ("Recovery score %", "Recovery score", "Recovery %")),
    ("resting_heart_rate", ("Resting heart rate (bpm)", "Resting HR (bpm)", "RHR (bpm)")),
    ("hrv_rmssd", ("Heart rate variability (ms)", "HRV (ms)", "Heart rate variability")),
    ("respiratory_rate", ("Respiratory rate (rpm)", "Respiratory rate")),
    ("spo2", ("Blood oxygen %", "SpO2 %", "Blood oxygen")),
)
START = ("Cycle start time", "Cycle start")
ZONE = ("Cycle timezone", "Cycle time zone", "Timezone")
SLEEP_ONSET = ("Sleep onset", "Sleep start time")
WAKE_ONSET = ("Wake onset", "Sleep end time", "Wake time")
SKIN_TEMPERATURE = ("Skin temp (celsius)", "Skin temperature (celsius)")


def looks_like_whoop(names: list[str], head: bytes, lone: bool) -> bool:
    bases = {n.rsplit("/", 1)[-1].lower() for n in names}
    if lone:
        return (
            bool(bases & {CYCLES, SLEEPS})
            and b"cycle start time" in head.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].lower()
        )
    return CYCLES in bases


class Whoop:
    """The WHOOP export connector (see the module docstring)."""

    name = "whoop"
    description = "WHOOP data export (physiological_cycles.csv, sleeps.csv; folder or zip)"

    def sniff(self, path: Path, head: bytes) -> bool:
        return looks_like_whoop(list_names(path), head, is_lone_file(path))

    @requires_data
    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[Item]:
        with open_export(path) as files:
            chosen = []
            for file in files:
                if file.name.lower() in (CYCLES, SLEEPS):
                    chosen.append(file)
                else:
                    report.skip(f"WHOOP file not read: {file_kind(file.path)}")
            if not chosen:
                raise ConnectorError(path, "no physiological_cycles.csv or sleeps.csv here")
            report.bytes_total = sum(f.size for f in chosen)
            done = 0
            for file in chosen:
                problems = FileProblems(file)
                if file.name.lower() == CYCLES:
                    yield from _cycles(file, problems, report)
                else:
                    yield from _sleeps(file, problems)
                problems.flush(report)
                done += file.size
                report.progress(done)


@dataclass
class _Row:
    """The times of one row, as UTC µs, with the row's offset."""

    offset_s: int
    times: dict[str, int] = field(default_factory=dict)


def _row_times(
    header: Header, fields: list[str], line: int, names: dict[str, tuple[str, ...]], problems: FileProblems
) -> _Row | None:
    """The row's local times in its ``Cycle timezone``; None (counted) when unusable."""
    try:
        offset = parse_offset(cell(fields, header.require(*ZONE)))
    except ValueError:
        problems.add("impossible or unparseable Cycle timezone", line)
        return None
    row = _Row(offset)
    for key, candidates in names.items():
        text = cell(fields, header.find(*candidates))
        if not text:
            continue
        us, tails, ok = parse_civil([text], SPACED)
        if not ok[0]:
            problems.add(f"impossible or unparseable {candidates[0]}", line)
            return None
        try:
            fraction_us, explicit = tail_parts(tails[0])
        except ValueError:
            problems.add(f"impossible or unparseable {candidates[0]}", line)
            return None
        zone_s = offset if explicit is None else explicit
        row.times[key] = int(us[0]) + fraction_us - zone_s * 1_000_000
    return row


@dataclass
class _Series:
    ts: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)


def _cycles(file: ExportFile, problems: FileProblems, report: ReadReport) -> Iterator[Item]:
    series: dict[Metric, _Series] = {}
    positions: list[tuple[Metric, int]] | None = None
    for header, line, fields in csv_rows(file, delimiter=","):
        if positions is None:
            header.require(*START)
            header.require(*ZONE)
            positions = [
                (metric, found)
                for metric, names in CYCLE_METRICS
                if (found := header.find(*names)) is not None
            ]
            if not positions:
                raise ConnectorError(
                    file.label,
                    "none of the recovery, resting heart rate, "
                    "HRV, respiratory rate or blood oxygen columns is present",
                    line=header.line,
                )
            if header.find(*SKIN_TEMPERATURE) is not None:
                report.skip("WHOOP skin temperature column (absolute, not a delta)")
        row = _row_times(header, fields, line, {"start": START, "wake": WAKE_ONSET}, problems)
        if row is None:
            continue
        if "start" not in row.times:
            problems.add("row without a Cycle start time", line)
            continue
        moment = row.times.get("wake", row.times["start"])
        if "wake" not in row.times:
            report.note("WHOOP cycle values timed at the cycle start (no Wake onset)")
        for metric, position in positions:
            try:
                value = number(cell(fields, position))
            except ValueError:
                problems.add(f"{metric} is not a number", line)
                continue
            if value is None:
                report.skip(f"WHOOP cycle without {metric} (not scored)")
                continue
            target = series.setdefault(metric, _Series())
            target.ts.append(moment)
            target.values.append(value)
            target.offsets.append(row.offset_s)
            target.lines.append(line)
    for metric, collected in series.items():
        yield from batches(
            SOURCE,
            metric,
            np.array(collected.ts, np.int64),
            np.array(collected.values),
            np.array(collected.offsets),
            problems,
            collected.lines,
        )


def _sleeps(file: ExportFile, problems: FileProblems) -> Iterator[Item]:
    required = False
    for header, line, fields in csv_rows(file, delimiter=","):
        if not required:
            header.require(*ZONE)
            header.require(*SLEEP_ONSET)
            header.require(*WAKE_ONSET)
            required = True
        row = _row_times(header, fields, line, {"onset": SLEEP_ONSET, "wake": WAKE_ONSET}, problems)
        if row is None:
            continue
        onset, wake = row.times.get("onset"), row.times.get("wake")
        if onset is None or wake is None:
            problems.add("sleep without Sleep onset and Wake onset", line)
            continue
        if wake <= onset:
            problems.add("sleep ends before it starts", line)
            continue
        zone = dt.timezone(dt.timedelta(seconds=row.offset_s))
        yield Episode(
            SOURCE, "in_bed", from_epoch_us(onset).astimezone(zone), from_epoch_us(wake).astimezone(zone)
        )
