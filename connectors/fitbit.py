"""Fitbit account exports: the Google Takeout "Fitbit" folder and the newer Google Health CSVs.

Input: the Takeout zip, its unzipped folder, or any single file below. Files
are recognised by name wherever they sit in the tree (Takeout nests them as
``Takeout/Fitbit/<section>/``); everything else is skipped and counted by kind.

========================================================  ==========================
file                                                      stored as
========================================================  ==========================
``Global Export Data/heart_rate-YYYY-MM-DD.json``         ``heart_rate`` (local time)
``Global Export Data/resting_heart_rate-*.json``          ``resting_heart_rate`` at
                                                          noon of ``value.date``
``Global Export Data/sleep-*.json``                       sleep episodes (stages and
                                                          ``in_bed``)
``Heart Rate Variability Details - YYYY-MM-DD.csv``       ``hrv_rmssd`` (5-minute)
``Daily Heart Rate Variability Summary - YYYY-MM-(DD)``   ``hrv_rmssd``, only for
                                                          nights without details
``Stress Score/Stress Score.csv``                         ``vendor_stress``
``heart_rate_YYYY-MM-DD.csv`` (Google Health, UTC)        ``heart_rate``
``daily_readiness.csv``                                   ``vendor_readiness``
``Your Profile/Profile.csv``                              the account's time zone
========================================================  ==========================

Fitbit writes most times as local wall-clock time without an offset. They are
placed with the account's IANA zone from the profile's ``timezone`` column, or
the import's zone when the export has no profile; the report's notes say which.
The details, with the reasons, are in docs/formats.md ("Fitbit").
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

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
    from_epoch_us,
    requires_data,
)
from .export_tree import ExportFile, is_lone_file, list_names, open_export
from .jsonstream import items
from .localtime import (
    ISO,
    MDY,
    NO_OFFSET,
    Layout,
    localize,
    parse_civil,
    parse_instants,
    zone_or_none,
)
from .tabular import FileProblems, cell, csv_rows, number
from .vendor import batches, file_kind, noon_us

#: Samples gathered from one file before they are converted and yielded.
CHUNK = 50_000
#: No sleep stage lasts longer than a day; a larger ``seconds`` is a misread.
MAX_STAGE_S = 86_400.0

SOURCE = SourceInfo(key="fitbit", name="Fitbit", kind="watch", device="Fitbit tracker")

HEART_RATE_JSON = re.compile(r"^heart_rate-\d{4}-\d{2}-\d{2}\.json$", re.I)
RESTING_JSON = re.compile(r"^resting_heart_rate-.*\.json$", re.I)
SLEEP_JSON = re.compile(r"^sleep-.*\.json$", re.I)
HRV_DETAILS = re.compile(r"^heart rate variability details - (\d{4}-\d{2}-\d{2})\.csv$", re.I)
HRV_SUMMARY = re.compile(r"^daily heart rate variability summary - .*\.csv$", re.I)
STRESS = re.compile(r"^stress score\.csv$", re.I)
GOOGLE_HEART_RATE = re.compile(r"^heart_rate_\d{4}-\d{2}-\d{2}\.csv$", re.I)
READINESS = re.compile(r"^daily[_ ]readiness(?: score)?(?: - [\d-]+)?\.csv$", re.I)
PROFILE = re.compile(r"^profile\.csv$", re.I)
#: Folder names only a Fitbit export has.
_FOLDERS = ("global export data/", "heart rate variability/", "stress score/", "/fitbit/", "fitbit/")

#: Fitbit sleep levels: ``stages`` logs (wake/light/deep/rem) and ``classic``
#: logs (asleep/restless/awake). Restless is not counted asleep by Fitbit either.
SLEEP_LEVELS: dict[str, EpisodeKind] = {
    "wake": "awake",
    "light": "asleep_core",
    "deep": "asleep_deep",
    "rem": "asleep_rem",
    "asleep": "asleep",
    "restless": "awake",
    "awake": "awake",
}
_TRUE = ("true", "1", "yes")
_JSON_ROLES = ("heart_rate", "resting", "sleep")


def file_role(name: str) -> str | None:
    """Which reader handles a file, from its base name; None: not read."""
    base = name.rsplit("/", 1)[-1]
    for role, pattern in (
        ("heart_rate", HEART_RATE_JSON),
        ("resting", RESTING_JSON),
        ("sleep", SLEEP_JSON),
        ("hrv_details", HRV_DETAILS),
        ("hrv_summary", HRV_SUMMARY),
        ("stress", STRESS),
        ("google_heart_rate", GOOGLE_HEART_RATE),
        ("readiness", READINESS),
        ("profile", PROFILE),
    ):
        if pattern.match(base):
            return role
    return None


#: Reading order: the profile first (it sets the zone), details before summaries.
_ORDER = (
    "profile",
    "hrv_details",
    "hrv_summary",
    "heart_rate",
    "google_heart_rate",
    "resting",
    "sleep",
    "stress",
    "readiness",
)


def looks_like_fitbit(names: list[str], head: bytes, lone: bool) -> bool:
    """An export (or a ``lone`` file) in Fitbit's layout."""
    roles = [file_role(n) for n in names]
    data_roles = [r for r in roles if r not in (None, "profile")]
    if not data_roles:
        return False
    if lone:  # its content must agree with its name
        if data_roles[0] == "google_heart_rate":
            return b"beats per minute" in head.split(b"\n", 1)[0].lower()
        if names[0].lower().endswith(".json"):
            return b"datetime" in head[:4096].lower() or head.strip()[:1] == b"["
        return True
    lowered = [n.lower() for n in names]
    # Every name but sleep-*.json is Fitbit's own; that one needs a Fitbit folder too.
    return any(folder in name for name in lowered for folder in _FOLDERS) or any(
        r != "sleep" for r in data_roles
    )


class Fitbit:
    """The Fitbit / Google Takeout connector (see the module docstring)."""

    name = "fitbit"
    description = (
        "Fitbit export: Google Takeout 'Fitbit' folder or zip, or Google Health "
        "CSVs (heart_rate_YYYY-MM-DD.csv, daily_readiness.csv)"
    )

    def sniff(self, path: Path, head: bytes) -> bool:
        return looks_like_fitbit(list_names(path), head, is_lone_file(path))

    @requires_data
    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[Item]:
        with open_export(path) as files:
            chosen: list[tuple[int, ExportFile, str]] = []
            for file in files:
                role = file_role(file.path)
                if role is None:
                    report.skip(f"Fitbit file not read: {file_kind(file.path)}")
                else:
                    chosen.append((_ORDER.index(role), file, role))
            if not any(role != "profile" for _order, _file, role in chosen):
                raise ConnectorError(
                    path, "no Fitbit heart-rate, HRV, sleep, stress or readiness files in this export"
                )
            chosen.sort(key=lambda entry: (entry[0], entry[1].path))
            report.bytes_total = sum(file.size for _order, file, _role in chosen)
            reader = _Reader(ctx, report)
            done = 0
            for _order, file, role in chosen:
                problems = FileProblems(file, "record" if role in _JSON_ROLES else "line")
                if role == "profile":  # first in _ORDER: it sets the zone
                    reader.read_profile(file, problems)
                else:
                    yield from reader.handlers[role](file, problems)
                problems.flush(report)
                done += file.size
                report.progress(done)
            reader.finish()


class _Reader:
    """State across one export's files: the zone, and the nights with HRV details."""

    def __init__(self, ctx: ReadContext, report: ReadReport) -> None:
        self.report = report
        self.ctx_zone = ctx.tz
        self.zone: ZoneInfo | None = None
        self.zone_note = ""
        self.detail_nights: set[str] = set()
        self.handlers: dict[str, Callable[[ExportFile, FileProblems], Iterator[Item]]] = {
            "heart_rate": self._heart_rate_json,
            "resting": self._resting,
            "sleep": self._sleep,
            "hrv_details": self._hrv_details,
            "hrv_summary": self._hrv_summary,
            "stress": self._stress,
            "google_heart_rate": self._google_heart_rate,
            "readiness": self._readiness,
        }

    # -- the account's time zone ---------------------------------------------------

    def read_profile(self, file: ExportFile, problems: FileProblems) -> None:
        """The account's zone from the first row's ``timezone`` column."""
        for header, line, fields in csv_rows(file):
            column = header.find("timezone", "time zone", "time_zone")
            if column is None:
                self.report.note(f"profile {file.path} has no timezone column")
            elif (zone := zone_or_none(cell(fields, column))) is None:
                problems.add(f"unknown time zone {cell(fields, column)[:40]!r} in the profile", line)
            elif self.zone is None:
                self.zone = zone
                self.zone_note = f"times placed in time zone {zone.key} from {file.path}"
            return

    @property
    def local_zone(self) -> ZoneInfo:
        if self.zone is None:
            self.zone = zone_or_none(self.ctx_zone)
            if self.zone is None:
                raise ConnectorError(
                    self.ctx_zone,
                    "unknown time zone given for the import, and the export has no profile with one",
                )
            self.zone_note = (
                f"times placed in time zone {self.zone.key} from the import's "
                "zone option (the export has no profile with a usable time zone)"
            )
        return self.zone

    def finish(self) -> None:
        if self.zone_note:
            self.report.note(self.zone_note)

    # -- helpers -------------------------------------------------------------------

    def _local(
        self, naive_us: np.ndarray, where: np.ndarray, problems: FileProblems
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """UTC µs, offsets and a keep-mask for wall-clock times in the account zone."""
        placed = localize(naive_us, self.local_zone)
        if placed.in_gap.any():
            problems.add(
                "local time that does not exist (daylight-saving gap)",
                int(where[np.flatnonzero(placed.in_gap)[0]]),
                int(placed.in_gap.sum()),
            )
        if placed.folds_resolved:
            self.report.note(
                "repeated local hour (daylight saving) placed in its second pass by file order",
                placed.folds_resolved,
            )
        if placed.ambiguous_unresolved:
            self.report.note(
                "repeated local hour (daylight saving) read as its first occurrence",
                placed.ambiguous_unresolved,
            )
        return placed.utc_us, placed.offset_s, ~placed.in_gap

    def _naive_batches(
        self,
        metric: Metric,
        texts: list[str],
        values: list[float],
        where: list[int],
        layout: Layout,
        problems: FileProblems,
    ) -> Iterator[Item]:
        """Samples timed by local wall-clock strings (an explicit offset is honoured)."""
        us, offsets, ok = parse_instants(texts, layout, require_offset=False)
        rows = np.asarray(where)
        if not ok.all():
            problems.add("unparseable date", int(rows[np.flatnonzero(~ok)[0]]), int((~ok).sum()))
        us, offsets, rows = us[ok], offsets[ok], rows[ok]
        value = np.asarray(values, np.float64)[ok]
        naive = offsets == NO_OFFSET
        if naive.any():
            utc, local_offsets, keep = self._local(us[naive], rows[naive], problems)
            us[naive], offsets[naive] = utc, local_offsets
            drop = np.flatnonzero(naive)[~keep]
            if drop.size:
                mask = np.ones(us.size, bool)
                mask[drop] = False
                us, offsets, rows, value = us[mask], offsets[mask], rows[mask], value[mask]
        yield from batches(SOURCE, metric, us, value, offsets, problems, rows)

    def _date_value(self, text: str) -> dt.date:
        """``2024-01-15...`` or ``01/15/24...`` as a date."""
        text = text.strip()
        if len(text) >= 8 and text[2] == "/":
            return dt.datetime.strptime(text[:8], "%m/%d/%y").date()
        return dt.date.fromisoformat(text[:10])

    def _daily(
        self,
        metric: Metric,
        days: list[dt.date],
        values: list[float],
        where: list[int],
        problems: FileProblems,
    ) -> Iterator[Item]:
        """Daily values at noon of their date in the account zone."""
        if not days:
            return
        placed = [noon_us(day, self.local_zone) for day in days]
        yield from batches(
            SOURCE,
            metric,
            np.array([p[0] for p in placed]),
            np.array(values),
            np.array([p[1] for p in placed]),
            problems,
            where,
        )

    # -- Global Export Data (JSON) ------------------------------------------------------

    def _heart_rate_json(self, file: ExportFile, problems: FileProblems) -> Iterator[Item]:
        texts: list[str] = []
        values: list[float] = []
        where: list[int] = []
        for index, record in enumerate(items(file), start=1):
            try:
                text = record["dateTime"]
                value = float(record["value"]["bpm"])
            except (KeyError, TypeError, ValueError):
                problems.add("heart-rate record without dateTime and value.bpm", f"record {index}")
                continue
            texts.append(text if isinstance(text, str) else "")
            values.append(value)
            where.append(index)
            if len(texts) >= CHUNK:
                yield from self._naive_batches("heart_rate", texts, values, where, MDY, problems)
                texts, values, where = [], [], []
        if texts:
            yield from self._naive_batches("heart_rate", texts, values, where, MDY, problems)

    def _resting(self, file: ExportFile, problems: FileProblems) -> Iterator[Item]:
        days: list[dt.date] = []
        values: list[float] = []
        where: list[int] = []
        for index, record in enumerate(items(file), start=1):
            try:
                inner = record["value"]
                value = float(inner["value"]) if inner.get("value") is not None else 0.0
                date_text = inner.get("date")
            except (KeyError, TypeError, ValueError, AttributeError):
                problems.add("resting-heart-rate record without value.value", f"record {index}")
                continue
            if value == 0 or not date_text:
                # Fitbit writes a value of 0 (and no date) for days it could not compute.
                problems.add("resting heart rate not computed (value 0)", f"record {index}")
                continue
            try:
                days.append(self._date_value(date_text))
            except (ValueError, TypeError):
                problems.add("unparseable date", f"record {index}")
                continue
            values.append(value)
            where.append(index)
        yield from self._daily("resting_heart_rate", days, values, where, problems)

    def _sleep(self, file: ExportFile, problems: FileProblems) -> Iterator[Item]:
        for index, record in enumerate(items(file), start=1):
            try:
                start_text, end_text = record["startTime"], record["endTime"]
                stages = (record.get("levels") or {}).get("data") or []
                stage_times = [s["dateTime"] for s in stages]
                stage_seconds = [float(s["seconds"]) for s in stages]
                stage_levels = [str(s["level"]) for s in stages]
            except (KeyError, TypeError, ValueError, AttributeError):
                problems.add("sleep log without startTime, endTime and levels.data", f"record {index}")
                continue
            texts = [start_text, *stage_times, end_text]
            naive, tails, ok = parse_civil([t if isinstance(t, str) else "" for t in texts], ISO)
            if not ok.all() or any(t and not t.startswith(".") for t in tails):
                problems.add("unparseable date", f"record {index}")
                continue
            placed = localize(naive, self.local_zone)
            if placed.in_gap.any():
                problems.add("local time that does not exist (daylight-saving gap)", f"record {index}")
                continue
            if placed.folds_resolved:
                self.report.note(
                    "repeated local hour (daylight saving) placed in its second pass by file order",
                    placed.folds_resolved,
                )
            utc = placed.utc_us
            if utc[-1] <= utc[0]:
                problems.add("sleep log ends before it starts", f"record {index}")
                continue
            yield Episode(SOURCE, "in_bed", from_epoch_us(utc[0]), from_epoch_us(utc[-1]))
            for stage, (level, seconds) in enumerate(zip(stage_levels, stage_seconds, strict=True), start=1):
                kind = SLEEP_LEVELS.get(level.lower())
                if kind is None:
                    problems.add(f"unknown sleep level {level[:20]!r}", f"record {index}")
                    continue
                if not 0 <= seconds <= MAX_STAGE_S:  # NaN fails this too
                    problems.add("sleep stage with impossible seconds", f"record {index}")
                    continue
                begin = int(utc[stage])
                yield Episode(
                    SOURCE, kind, from_epoch_us(begin), from_epoch_us(begin + round(seconds * 1_000_000))
                )
            short = (record.get("levels") or {}).get("shortData") or []
            if short:
                # Short wakes (3 minutes or less) overlaid on the stages: they
                # overlap the stage episodes above, so they are not stored.
                self.report.skip("Fitbit sleep shortData entry (short wake inside a stage)", len(short))

    # -- CSV sections --------------------------------------------------------------

    def _hrv_details(self, file: ExportFile, problems: FileProblems) -> Iterator[Item]:
        match = HRV_DETAILS.match(file.name)
        if match:
            self.detail_nights.add(match.group(1))
        yield from self._csv_series(file, problems, "hrv_rmssd", ("timestamp",), ("rmssd",), ISO, naive=True)

    def _hrv_summary(self, file: ExportFile, problems: FileProblems) -> Iterator[Item]:
        texts: list[str] = []
        values: list[float] = []
        where: list[int] = []
        columns: tuple[int, int] | None = None
        for header, line, fields in csv_rows(file):
            if columns is None:
                columns = (header.require("timestamp"), header.require("rmssd"))
            stamp = cell(fields, columns[0])
            if stamp[:10] in self.detail_nights:
                # The night's average of the 5-minute values already read:
                # storing it too would count that night twice.
                self.report.skip("Fitbit daily HRV summary of a night whose details were read")
                continue
            try:
                value = number(cell(fields, columns[1]))
            except ValueError:
                problems.add("rmssd is not a number", line)
                continue
            if value is None:
                problems.add("empty rmssd", line)
                continue
            texts.append(stamp)
            values.append(value)
            where.append(line)
        if texts:
            yield from self._naive_batches("hrv_rmssd", texts, values, where, ISO, problems)

    def _stress(self, file: ExportFile, problems: FileProblems) -> Iterator[Item]:
        days: list[dt.date] = []
        values: list[float] = []
        where: list[int] = []
        columns: tuple[int, int, int | None] | None = None
        for header, line, fields in csv_rows(file):
            if columns is None:
                columns = (
                    header.require("DATE"),
                    header.require("STRESS_SCORE"),
                    header.find("CALCULATION_FAILED"),
                )
            failed = cell(fields, columns[2]).lower() in _TRUE
            try:
                score = number(cell(fields, columns[1]))
            except ValueError:
                problems.add("STRESS_SCORE is not a number", line)
                continue
            if failed or score is None:
                # A 0 with CALCULATION_FAILED is Fitbit's "no score", not a zero score.
                problems.add("stress score not calculated (CALCULATION_FAILED)", line)
                continue
            try:
                days.append(self._date_value(cell(fields, columns[0])))
            except ValueError:
                problems.add("unparseable date", line)
                continue
            values.append(score)
            where.append(line)
        yield from self._daily("vendor_stress", days, values, where, problems)

    def _readiness(self, file: ExportFile, problems: FileProblems) -> Iterator[Item]:
        days: list[dt.date] = []
        values: list[float] = []
        where: list[int] = []
        columns: tuple[int, int] | None = None
        for header, line, fields in csv_rows(file):
            if columns is None:
                columns = (
                    header.require("timestamp", "date", "day"),
                    header.require(
                        "readiness score", "readiness_score_value", "readiness score value", "score"
                    ),
                )
            try:
                score = number(cell(fields, columns[1]))
            except ValueError:
                problems.add("readiness score is not a number", line)
                continue
            if score is None:
                problems.add("empty readiness score", line)
                continue
            try:
                days.append(self._date_value(cell(fields, columns[0])))
            except ValueError:
                problems.add("unparseable date", line)
                continue
            values.append(score)
            where.append(line)
        yield from self._daily("vendor_readiness", days, values, where, problems)

    def _google_heart_rate(self, file: ExportFile, problems: FileProblems) -> Iterator[Item]:
        yield from self._csv_series(
            file, problems, "heart_rate", ("timestamp",), ("beats per minute", "bpm"), ISO, naive=False
        )

    def _csv_series(
        self,
        file: ExportFile,
        problems: FileProblems,
        metric: Metric,
        time_names: tuple[str, ...],
        value_names: tuple[str, ...],
        layout: Layout,
        *,
        naive: bool,
    ) -> Iterator[Item]:
        """A ``time,value`` series; ``naive`` times are local, otherwise an offset is required."""
        texts: list[str] = []
        values: list[float] = []
        where: list[int] = []
        columns: tuple[int, int] | None = None
        for header, line, fields in csv_rows(file):
            if columns is None:
                columns = (header.require(*time_names), header.require(*value_names))
            try:
                value = number(cell(fields, columns[1]))
            except ValueError:
                problems.add(f"{value_names[0]} is not a number", line)
                continue
            if value is None:
                problems.add(f"empty {value_names[0]}", line)
                continue
            texts.append(cell(fields, columns[0]))
            values.append(value)
            where.append(line)
            if len(texts) >= CHUNK:
                yield from self._series_chunk(metric, texts, values, where, layout, naive, problems)
                texts, values, where = [], [], []
        if texts:
            yield from self._series_chunk(metric, texts, values, where, layout, naive, problems)

    def _series_chunk(
        self,
        metric: Metric,
        texts: list[str],
        values: list[float],
        where: list[int],
        layout: Layout,
        naive: bool,
        problems: FileProblems,
    ) -> Iterator[Item]:
        if naive:
            yield from self._naive_batches(metric, texts, values, where, layout, problems)
            return
        us, offsets, ok = parse_instants(texts, layout, require_offset=True)
        rows = np.asarray(where)
        if not ok.all():
            problems.add(
                "timestamp without a UTC offset or unparseable",
                int(rows[np.flatnonzero(~ok)[0]]),
                int((~ok).sum()),
            )
        yield from batches(SOURCE, metric, us[ok], np.asarray(values)[ok], offsets[ok], problems, rows[ok])
