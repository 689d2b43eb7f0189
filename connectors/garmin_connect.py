"""Garmin Connect account exports: the zip (or its folder) a Garmin account downloads.

The export holds ``DI_CONNECT/`` with one folder per Garmin service. Vagus
reads, in one go:

* ``DI-Connect-Aggregator/UDSFile_*.json`` - daily summaries, a list of days
  ``{"calendarDate", "wellnessStartTimeGmt", "wellnessStartTimeLocal",
  "restingHeartRate", "allDayStress": {"aggregatorList": [{"type": "TOTAL",
  "averageStressLevel"}, ...]}, "bodyBattery": {...}}``. Resting heart rate goes
  to ``resting_heart_rate``, the day's ``TOTAL`` average stress (Garmin's 0-100
  score, negative values meaning "not enough data") to ``vendor_stress``.
  Body battery has no metric in Vagus' vocabulary: skipped, counted.
* ``DI-Connect-Wellness/*_sleepData.json`` - nights with
  ``sleepStartTimestampGMT``/``sleepEndTimestampGMT`` and, where present, the
  stage list ``sleepLevels`` (``startGMT``, ``endGMT``, ``activityLevel`` 0
  deep, 1 light, 2 REM, 3 awake) as sleep :class:`Episode` s; a night without
  stages is one ``asleep`` episode over its window.
* ``DI-Connect-Wellness/*_healthStatusData.json`` - per day, ``metrics``
  ``[{"type": "HRV"|"HR"|"RESPIRATION"|"SPO2"|..., "value", baselines}]``:
  the values are stored (``hrv_rmssd``, ``resting_heart_rate``,
  ``respiratory_rate``, ``spo2``), Garmin's baselines are not.
* ``DI-Connect-Uploaded-Files/*.zip`` (and any loose ``.fit``) - the FIT files
  of every synced activity, decoded by :func:`connectors.garmin_fit.decode_fit`.
  The nested zips are opened as streams inside the outer zip, never
  extracted, with the same slip and bomb checks as the outer one
  (:func:`connectors.archive.open_nested`) and one shared size budget.

Everything else is skipped and counted by its folder. Daily values carry no
time of day: they are stamped at the start of their calendar day, taken from
``wellnessStartTimeGmt`` where the day has one, else local midnight in the
person's zone (``ReadContext.tz``). Each kind of daily value has its own
source, so a daily average never mixes with the watch's own FIT series.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from . import archive, localtime
from .base import (
    HEART_RATE_BOUNDS_BPM,
    ConnectorError,
    Episode,
    Item,
    Metric,
    ReadContext,
    ReadReport,
    SampleBatch,
    SourceInfo,
    keep_within,
    requires_data,
    to_epoch_us,
)
from .export_files import ExportFile, list_names, load_json, open_export
from .garmin_fit import MAX_MEMBER_BYTES, decode_fit

_UDS = re.compile(r"(?:^|/)UDSFile[^/]*\.json$", re.IGNORECASE)
_SLEEP = re.compile(r"_sleepData\.json$", re.IGNORECASE)
_HEALTH = re.compile(r"_healthStatusData\.json$", re.IGNORECASE)
_UPLOADS = re.compile(r"(?:^|/)DI-Connect-Uploaded-Files/[^/]*\.zip$", re.IGNORECASE)
_SERVICE_FOLDER = re.compile(r"(?:^|/)(DI-Connect-[^/]+)/", re.IGNORECASE)

#: Plausible values per metric; the rest are rejected and counted.
BOUNDS: dict[str, tuple[float, float]] = {
    "resting_heart_rate": HEART_RATE_BOUNDS_BPM,
    "vendor_stress": (0.0, 100.0),
    "hrv_rmssd": (1.0, 1000.0),
    "respiratory_rate": (2.0, 80.0),
    "spo2": (50.0, 100.0),
}
HEALTH_METRICS: dict[str, Metric] = {
    "HRV": "hrv_rmssd",
    "HR": "resting_heart_rate",
    "RESPIRATION": "respiratory_rate",
    "SPO2": "spo2",
}
SLEEP_LEVELS = {0: "asleep_deep", 1: "asleep_core", 2: "asleep_rem", 3: "awake"}

DAILY = SourceInfo(
    key="garmin_connect:daily_summary",
    name="Garmin Connect daily summary",
    kind="watch",
    device="Garmin watch (daily values computed by Garmin Connect)",
)
HEALTH = SourceInfo(
    key="garmin_connect:health_status",
    name="Garmin Connect health status",
    kind="watch",
    device="Garmin watch (overnight values computed by Garmin)",
)
SLEEP = SourceInfo(
    key="garmin_connect:sleep",
    name="Garmin Connect sleep",
    kind="watch",
    device="Garmin watch (sleep computed by Garmin Connect)",
)


def file_kind(name: str) -> str | None:
    """What a file of the export is, from its name: uds, sleep, health, fit_zip, fit."""
    if _UDS.search(name):
        return "uds"
    if _SLEEP.search(name):
        return "sleep"
    if _HEALTH.search(name):
        return "health"
    if _UPLOADS.search(name):
        return "fit_zip"
    if name.lower().endswith(".fit"):
        return "fit"
    return None


def _is_export_root(folder: Path) -> bool:
    """``folder`` is ``DI_CONNECT`` or holds it: DI-Connect-* service folders inside."""
    for candidate in (folder, folder / "DI_CONNECT"):
        if candidate.is_dir() and any(
            c.is_dir() and c.name.startswith("DI-Connect-") for c in candidate.iterdir()
        ):
            return True
    return False


class GarminConnect:
    """The Garmin Connect account export connector (see the module docstring)."""

    name = "garmin_connect"
    description = (
        "Garmin Connect account export (the zip or its DI_CONNECT folder): daily "
        "summaries, sleep, health status and the FIT files of every activity"
    )
    #: The nested FIT zips are read here, through the FIT decoder.
    reads_inside = ("garmin_fit",)

    def sniff(self, path: Path, head: bytes) -> bool:
        if path.is_dir():
            return _is_export_root(path)
        if archive.is_zip(path):
            return any(
                "DI-Connect-" in name and file_kind(name) in ("uds", "sleep", "health", "fit_zip")
                for name in list_names(path)
            )
        return file_kind(path.name) in ("uds", "sleep", "health") and head.lstrip()[:1] == b"["

    @requires_data
    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[Item]:
        try:
            localtime.zone(ctx.tz)
        except ValueError as exc:
            raise ConnectorError(path, f"{exc}: Garmin daily values need the person's zone") from None
        with open_export(path) as files:
            wanted = []
            for file in files:
                kind = file_kind(file.name)
                if kind is None:
                    # Counted by service folder; files outside DI-Connect-* folders
                    # (another export beside this one) are not this connector's.
                    folder = _SERVICE_FOLDER.search(file.name)
                    if folder:
                        report.skip(f"Garmin Connect file not read ({folder.group(1)})")
                else:
                    wanted.append((file, kind))
            report.bytes_total = sum(file.size for file, _ in wanted)
            reader = _Reader(ctx.tz, report)
            done = 0
            for file, kind in wanted:
                yield from reader.read(file, kind)
                done += file.size
                report.progress(done)


class _Reader:
    def __init__(self, tz: str, report: ReadReport) -> None:
        self.tz = tz
        self.report = report
        self.budget = archive.MAX_TOTAL_BYTES  # declared bytes left for nested zips

    def read(self, file: ExportFile, kind: str) -> Iterator[Item]:
        if kind == "fit":
            yield from self._fit(file)
        elif kind == "fit_zip":
            yield from self._fit_zip(file)
        else:
            data = load_json(file)
            if not isinstance(data, list):
                raise ConnectorError(file.label, "expected a JSON list of days")
            if kind == "uds":
                yield from self._uds(data, file.label)
            elif kind == "health":
                yield from self._health(data, file.label)
            else:
                yield from self._sleep(data, file.label)

    # -- FIT ----------------------------------------------------------------------

    def _fit(self, file: ExportFile) -> Iterator[Item]:
        if file.size > MAX_MEMBER_BYTES:
            raise ConnectorError(file.label, f"{file.size} bytes is too large for a FIT file")
        try:
            with file.open() as handle:
                data = handle.read()
        except archive.READ_ERRORS as exc:
            raise ConnectorError(file.label, f"could not read the file: {exc}") from exc
        yield from decode_fit(io.BytesIO(data), file.label, self.report)

    def _fit_zip(self, file: ExportFile) -> Iterator[Item]:
        if file.member is not None:
            inner = archive.open_nested(*file.member, file.label, self.budget)
        else:
            inner = archive.open_checked(Path(file.label), self.budget)
        with inner:
            self.budget -= archive.declared_total(inner)
            # In stored order: a nested zip is a stream, and seeking back re-reads it.
            for info in sorted(archive.members(inner), key=lambda i: i.header_offset):
                label = f"{file.label}!{info.filename}"
                if not info.filename.lower().endswith(".fit"):
                    self.report.skip("uploaded-files zip member that is not a .fit file")
                    continue
                if info.file_size > MAX_MEMBER_BYTES:
                    raise ConnectorError(label, f"{info.file_size} bytes is too large for a FIT file")
                try:
                    with inner.open(info) as member:
                        data = member.read()
                except archive.READ_ERRORS as exc:
                    raise ConnectorError(label, f"could not read the member: {exc}") from exc
                yield from decode_fit(io.BytesIO(data), label, self.report)

    # -- days -----------------------------------------------------------------------

    def _day_start(self, day: dict[str, Any], label: str, record: str) -> tuple[int, int] | None:
        """(UTC microseconds, UTC offset s) of the day's start; None (counted) if unreadable."""
        gmt, local = day.get("wellnessStartTimeGmt"), day.get("wellnessStartTimeLocal")
        if isinstance(gmt, str):
            start = _gmt(gmt)
            if start is not None:
                offset = 0
                wall = _gmt(local) if isinstance(local, str) else None
                if wall is not None:
                    offset = round((wall - start) / 1_000_000 / 900) * 900
                if abs(offset) > localtime.MAX_OFFSET_S:
                    self.report.reject(
                        "Garmin day whose local time is over 14 h from GMT", where=f"{label} ({record})"
                    )
                    return None
                return start, offset
        date = day.get("calendarDate")
        if isinstance(date, dict):  # some versions wrap it: {"date": "..."}
            date = date.get("date")
        try:
            midnight = dt.date.fromisoformat(str(date)[:10])
        except ValueError:
            self.report.reject("Garmin day without a readable calendarDate", where=f"{label} ({record})")
            return None
        wall_us = np.array([(midnight - dt.date(1970, 1, 1)).days * 86_400_000_000])
        utc_us, offsets_s, exists = localtime.to_utc(wall_us, self.tz)
        if not exists[0]:  # a zone that skips midnight: the day starts an hour later
            utc_us, offsets_s, _ = localtime.to_utc(wall_us + 3_600_000_000, self.tz)
        return int(utc_us[0]), int(offsets_s[0])

    def _uds(self, days: list[Any], label: str) -> Iterator[Item]:
        series = _Series()
        for index, day in enumerate(days):
            record = f"day {index}"
            if not isinstance(day, dict):
                raise ConnectorError(label, "expected a day object", record=record)
            start = self._day_start(day, label, record)
            if start is None:
                continue
            resting = day.get("restingHeartRate", day.get("currentDayRestingHeartRate"))
            if resting is None:
                self.report.skip("Garmin day without a resting heart rate")
            else:
                series.add("resting_heart_rate", start, resting, self.report, label, record)
            stress = day.get("allDayStress")
            if isinstance(stress, dict):
                for aggregate in stress.get("aggregatorList") or []:
                    kind = str(aggregate.get("type", "")).upper() if isinstance(aggregate, dict) else ""
                    if kind != "TOTAL":
                        self.report.skip(f"Garmin stress aggregate {kind or '?'} (part of the day's TOTAL)")
                        continue
                    value = aggregate.get("averageStressLevel")
                    if isinstance(value, (int, float)) and value < 0:
                        self.report.reject(
                            "Garmin stress sentinel (negative: not enough data)", where=f"{label} ({record})"
                        )
                    elif value is not None:
                        series.add("vendor_stress", start, value, self.report, label, record)
            if day.get("bodyBattery") is not None:
                self.report.skip("Garmin body battery (no Vagus metric for it)")
        yield from series.batches(DAILY, self.report)

    def _health(self, days: list[Any], label: str) -> Iterator[Item]:
        series = _Series()
        for index, day in enumerate(days):
            record = f"day {index}"
            if not isinstance(day, dict) or not isinstance(day.get("metrics"), list):
                raise ConnectorError(label, "expected a day object with a metrics list", record=record)
            start = self._day_start(day, label, record)
            if start is None:
                continue
            for entry in day["metrics"]:
                kind = str(entry.get("type", "")).upper() if isinstance(entry, dict) else ""
                metric = HEALTH_METRICS.get(kind)
                if metric is None:
                    self.report.skip(f"Garmin health status {kind or '?'} not read")
                    continue
                value = entry.get("value")
                if value is None:
                    self.report.skip(f"Garmin health status {kind} without a value")
                    continue
                series.add(metric, start, value, self.report, label, f"{record}, {kind}")
        yield from series.batches(HEALTH, self.report)

    def _sleep(self, nights: list[Any], label: str) -> Iterator[Item]:
        for index, night in enumerate(nights):
            where = f"{label} (night {index})"
            if not isinstance(night, dict):
                raise ConnectorError(label, "expected a night object", record=f"night {index}")
            start = _moment(night.get("sleepStartTimestampGMT"))
            end = _moment(night.get("sleepEndTimestampGMT"))
            if start is None or end is None:
                self.report.reject("Garmin sleep without a readable start and end", where=where)
                continue
            if end <= start:
                self.report.reject("Garmin sleep that ends before it starts", where=where)
                continue
            levels = night.get("sleepLevels")
            if not levels:
                self.report.note("Garmin sleep without stages: stored as one asleep episode")
                yield Episode(SLEEP, "asleep", start, end)
                continue
            for level in levels:
                stage = (
                    SLEEP_LEVELS.get(int(level.get("activityLevel", -1)))
                    if isinstance(level, dict) and isinstance(level.get("activityLevel"), (int, float))
                    else None
                )
                begin = _moment(level.get("startGMT")) if isinstance(level, dict) else None
                finish = _moment(level.get("endGMT")) if isinstance(level, dict) else None
                if stage is None or begin is None or finish is None or finish < begin:
                    self.report.reject("Garmin sleep stage unreadable", where=where)
                    continue
                yield Episode(SLEEP, stage, begin, finish)  # type: ignore[arg-type]


def _gmt(text: str) -> int | None:
    """``2024-05-03T22:00:00.0`` (UTC by Garmin's naming) as Unix microseconds."""
    moment = _moment(text)
    return to_epoch_us(moment) if moment is not None else None


def _moment(value: Any) -> dt.datetime | None:
    """A Garmin GMT time: ISO text without offset, or epoch milliseconds."""
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, (int, float)):
            return dt.datetime.fromtimestamp(value / 1000, dt.UTC)
        if not isinstance(value, str):
            return None
        moment = dt.datetime.fromisoformat(value)
        return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else (localtime.possible_offset(moment))
    except (ValueError, OverflowError, OSError):  # NaN, year 300000, +25:00
        return None


class _Series:
    """Daily values of one file, by metric, before they become batches."""

    def __init__(self) -> None:
        self.values: dict[Metric, list[tuple[int, int, float]]] = defaultdict(list)

    def add(
        self, metric: Metric, start: tuple[int, int], value: Any, report: ReadReport, label: str, record: str
    ) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            report.reject(f"Garmin {metric} is not a number", where=f"{label} ({record})")
            return
        self.values[metric].append((start[0], start[1], float(value)))

    def batches(self, source: SourceInfo, report: ReadReport) -> Iterator[SampleBatch]:
        for metric, rows in sorted(self.values.items()):
            table = np.array(rows, dtype=np.float64).reshape(-1, 3)
            ts = table[:, 0].astype(np.int64)
            offsets = table[:, 1].astype(np.int64)
            values = table[:, 2]
            ok = keep_within(
                values, BOUNDS[metric], f"{metric} out of physiological bounds", report, metric=metric
            )
            for offset in np.unique(offsets[ok]):
                same = ok & (offsets == offset)
                order = np.argsort(ts[same], kind="stable")
                yield SampleBatch(
                    source, metric, ts[same][order], values[same][order], utc_offset_s=int(offset)
                )
