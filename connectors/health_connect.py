"""Android Health Connect exports: the SQLite database the Health Connect app writes.

Health Connect ("Export data" in its settings) writes ``health_connect_export.db``,
usually zipped. Its tables mirror the Health Connect record types; every record
row names the app that wrote it (``app_info_id`` into ``application_info_table``:
``package_name``, ``app_name``) and often the device (``device_info_id`` into
``device_info_table``: ``manufacturer``, ``model``, ``device_type``). Times are
Unix milliseconds (UTC); ``*_zone_offset`` columns hold the wall-clock offset in
seconds. Vagus reads:

=============================================  ====================================
table (columns)                                stored as
=============================================  ====================================
``heart_rate_record_table`` (``row_id``,       ``heart_rate``, one sample per series
``start_zone_offset``, app, device) with        row, at ``epoch_millis``
``heart_rate_record_series_table``
(``parent_key``, ``epoch_millis``,
``beats_per_minute``)
``resting_heart_rate_record_table``            ``resting_heart_rate`` at ``time``
(``time``, ``zone_offset``,
``beats_per_minute``)
``heart_rate_variability_rmssd_record_table``  ``hrv_rmssd`` (ms) at ``time``
(``time``, ``zone_offset``,
``heart_rate_variability_millis``)
``sleep_session_record_table`` with            sleep :class:`Episode` s, one per stage;
``sleep_stages_table`` (``parent_key``,         a session without stages is one
``stage_start_time``, ``stage_end_time``,       ``asleep`` episode
``stage_type``)
=============================================  ====================================

Every other table with rows is counted as skipped, by table. The source of
each sample is the app that wrote it (and its device when named), so two apps
writing heart rate stay apart. Columns are found by name (``PRAGMA
table_info``), so reordered or added columns do not matter; a missing
required column is an error naming the table.

The database is opened read-only (``mode=ro``) and read in chunks of
``CHUNK_ROWS`` with numpy, so memory does not grow with the export. SQLite
reads only files: a database inside a zip is copied (after the archive's
checks) to a temporary file that is deleted when reading ends.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import quote

import numpy as np

from . import archive
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
    SourceKind,
    requires_data,
)

SQLITE_MAGIC = b"SQLite format 3\x00"
CHUNK_ROWS = 50_000
#: The widest offset any zone uses (UTC+14 / UTC-12); beyond it is a misread.
MAX_OFFSET_S = 14 * 3600
#: Health Connect ``SleepSessionRecord.STAGE_TYPE_*`` values.
SLEEP_STAGES: dict[int, str] = {
    1: "awake",
    2: "asleep",
    4: "asleep_core",
    5: "asleep_deep",
    6: "asleep_rem",
    7: "awake",
}
SLEEP_STAGES_NOT_READ = {0: "unknown", 3: "out of bed"}
#: Health Connect ``Device.TYPE_*`` values.
DEVICE_KINDS: dict[int, SourceKind] = {1: "watch", 2: "phone", 4: "ring", 6: "watch", 7: "chest_strap"}
BOUNDS: dict[str, tuple[float, float]] = {
    "heart_rate": HEART_RATE_BOUNDS_BPM,
    "resting_heart_rate": HEART_RATE_BOUNDS_BPM,
    "hrv_rmssd": (1.0, 1000.0),
}
#: Tables read here; with the bookkeeping tables, not counted as skipped.
READ_TABLES = {
    "heart_rate_record_table",
    "heart_rate_record_series_table",
    "resting_heart_rate_record_table",
    "heart_rate_variability_rmssd_record_table",
    "sleep_session_record_table",
    "sleep_stages_table",
}
#: Only a Health Connect database has this table and at least one record table.
MARKER_TABLE = "application_info_table"


@dataclass(frozen=True, slots=True)
class _Point:
    """One table of point-in-time records: its value column and metric."""

    table: str
    value: str
    metric: Metric


POINTS = (
    _Point("resting_heart_rate_record_table", "beats_per_minute", "resting_heart_rate"),
    _Point("heart_rate_variability_rmssd_record_table", "heart_rate_variability_millis", "hrv_rmssd"),
)


def is_sqlite(head: bytes) -> bool:
    return head.startswith(SQLITE_MAGIC)


def _db_member(zipped: zipfile.ZipFile) -> zipfile.ZipInfo | None:
    for info in archive.members(zipped, ".db"):
        if not PurePosixPath(info.filename).name.startswith("."):
            return info
    return None


class HealthConnect:
    """The Health Connect export connector (see the module docstring)."""

    name = "health_connect"
    description = "Android Health Connect export (health_connect_export.db, or its zip)"
    max_total_bytes = archive.MAX_TOTAL_BYTES

    def sniff(self, path: Path, head: bytes) -> bool:
        if is_sqlite(head):
            # Only Health Connect's: another app's database inside a bundle
            # must be a named skip, not a failing part. (--format health_connect
            # on it says what is wrong.)
            return _has_health_connect_tables(path)
        if head[:4] == b"PK\x03\x04" and archive.is_zip(path):
            try:
                with zipfile.ZipFile(path) as zipped:
                    info = _db_member(zipped)
                    if info is None:
                        return False
                    with zipped.open(info) as member:
                        return is_sqlite(member.read(len(SQLITE_MAGIC)))
            except archive.READ_ERRORS:
                return False
        return False

    @requires_data
    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[Item]:
        with ExitStack() as stack:
            db_path, label = self._database(path, stack)
            report.bytes_total = db_path.stat().st_size
            connection = _connect(db_path, label)
            stack.callback(connection.close)
            reader = _Reader(connection, label, report)
            yield from reader.read()
            report.progress(report.bytes_total)

    def _database(self, path: Path, stack: ExitStack) -> tuple[Path, str]:
        """The database file to open and its name for messages."""
        if not archive.is_zip(path):
            return path, str(path)
        zipped = stack.enter_context(archive.open_checked(path, self.max_total_bytes))
        info = _db_member(zipped)
        if info is None:
            raise ConnectorError(path, "no .db file in this zip: not a Health Connect export")
        label = f"{path}!{info.filename}"
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="vagus-hc-"))
        target = Path(folder) / "export.db"
        try:
            with zipped.open(info) as source, target.open("wb") as sink:
                shutil.copyfileobj(source, sink, 1 << 20)
        except archive.READ_ERRORS as exc:
            raise ConnectorError(label, f"could not read the member: {exc}") from exc
        return target, label


def _has_health_connect_tables(path: Path) -> bool:
    try:
        connection = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
        try:
            tables = {
                row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
        finally:
            connection.close()
    except (sqlite3.Error, OSError):
        return False
    return MARKER_TABLE in tables and bool(tables & READ_TABLES)


def _connect(path: Path, label: str) -> sqlite3.Connection:
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True)
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise ConnectorError(label, f"not a readable SQLite database: {exc}") from exc
    if MARKER_TABLE not in tables or not tables & READ_TABLES:
        connection.close()
        raise ConnectorError(
            label,
            f"an SQLite database, but not a Health Connect export "
            f"(no {MARKER_TABLE} and heart-rate or sleep tables)",
        )
    return connection


class _Reader:
    def __init__(self, connection: sqlite3.Connection, label: str, report: ReadReport) -> None:
        self.db = connection
        self.label = label
        self.report = report
        self.tables = {
            row[0]
            for row in self._query("sqlite_master", "SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        self.apps = self._apps()
        self.devices = self._devices()
        self._sources: dict[tuple[int | None, int | None], SourceInfo] = {}

    # -- plumbing -------------------------------------------------------------------

    def _query(self, table: str, sql: str, params: tuple = ()) -> Iterator[tuple]:
        """Rows of ``sql``, a damaged database becoming a ConnectorError naming ``table``."""
        try:
            cursor = self.db.execute(sql, params)
            while rows := cursor.fetchmany(CHUNK_ROWS):
                yield from rows
        except sqlite3.DatabaseError as exc:
            raise ConnectorError(self.label, f"database error: {exc}", record=table) from exc

    def _chunks(self, table: str, sql: str) -> Iterator[list[tuple]]:
        try:
            cursor = self.db.execute(sql)
            while rows := cursor.fetchmany(CHUNK_ROWS):
                yield rows
        except sqlite3.DatabaseError as exc:
            raise ConnectorError(self.label, f"database error: {exc}", record=table) from exc

    def _columns(self, table: str) -> set[str]:
        return {row[1].lower() for row in self._query(table, f'PRAGMA table_info("{table}")')}

    def _require(self, table: str, *columns: str) -> set[str]:
        present = self._columns(table)
        missing = [c for c in columns if c not in present]
        if missing:
            raise ConnectorError(
                self.label, f"table {table} lacks the column(s) {', '.join(missing)}", record=table
            )
        return present

    # -- sources --------------------------------------------------------------------

    def _apps(self) -> dict[int, tuple[str, str]]:
        columns = self._require(MARKER_TABLE, "row_id", "package_name")
        name = "app_name" if "app_name" in columns else "package_name"
        return {
            row[0]: (str(row[1]), str(row[2] or row[1]))
            for row in self._query(MARKER_TABLE, f"SELECT row_id, package_name, {name} FROM {MARKER_TABLE}")
        }

    def _devices(self) -> dict[int, tuple[str, int | None]]:
        if "device_info_table" not in self.tables:
            return {}
        columns = self._columns("device_info_table")
        kind = next((c for c in ("device_type", "type") if c in columns), None)
        maker = "manufacturer" if "manufacturer" in columns else "NULL"
        model = "model" if "model" in columns else "NULL"
        sql = f"SELECT row_id, {maker}, {model}, {kind or 'NULL'} FROM device_info_table"
        devices = {}
        for row_id, manufacturer, device_model, device_type in self._query("device_info_table", sql):
            label = " ".join(str(p) for p in (manufacturer, device_model) if p)
            devices[row_id] = (label, int(device_type) if isinstance(device_type, int) else None)
        return devices

    def source(self, app_id: int | None, device_id: int | None) -> SourceInfo:
        key = (app_id, device_id)
        found = self._sources.get(key)
        if found is None:
            package, app_name = self.apps.get(app_id, ("unknown app", "unknown app"))  # type: ignore[arg-type]
            device, device_type = self.devices.get(device_id, ("", None))  # type: ignore[arg-type]
            kind = DEVICE_KINDS.get(device_type, "unknown") if device_type else "unknown"
            found = SourceInfo(
                key=f"health_connect:{package}" + (f" [{device}]" if device else ""),
                name=app_name,
                kind=kind,
                device=device or None,
            )
            self._sources[key] = found
        return found

    # -- records --------------------------------------------------------------------

    def read(self) -> Iterator[Item]:
        if {"heart_rate_record_table", "heart_rate_record_series_table"} <= self.tables:
            yield from self._heart_rate()
        for point in POINTS:
            if point.table in self.tables:
                yield from self._points(point)
        if "sleep_session_record_table" in self.tables:
            yield from self._sleep()
        for table in sorted(self.tables - READ_TABLES):
            if table.endswith("_record_table") or table.endswith("_series_table"):
                count = next(self._query(table, f'SELECT COUNT(*) FROM "{table}"'))[0]
                self.report.skip(f"Health Connect table not read ({table})", count)

    def _heart_rate(self) -> Iterator[Item]:
        """Series rows placed by their record (offset, app, device), looked up in bulk.

        Records are read first into sorted arrays (four numbers each), then the
        series in chunks of three columns: cheaper than a join that repeats
        the record's columns on every sample.
        """
        records = self._require("heart_rate_record_table", "row_id")
        self._require("heart_rate_record_series_table", "parent_key", "epoch_millis", "beats_per_minute")
        offset = "start_zone_offset" if "start_zone_offset" in records else "NULL"
        app = "app_info_id" if "app_info_id" in records else "NULL"
        device = "device_info_id" if "device_info_id" in records else "NULL"
        parts = [
            _as_table(rows, 4)
            for rows in self._chunks(
                "heart_rate_record_table",
                f"SELECT row_id, {offset}, {app}, {device} FROM heart_rate_record_table ORDER BY row_id",
            )
        ]
        table = np.concatenate(parts) if parts else np.zeros((0, 4))
        record_ids = table[:, 0]
        sql = "SELECT parent_key, epoch_millis, beats_per_minute FROM heart_rate_record_series_table"
        for rows in self._chunks("heart_rate_record_series_table", sql):
            series = _as_table(rows, 3)
            parent = series[:, 0]
            at = np.minimum(np.searchsorted(record_ids, parent), max(len(record_ids) - 1, 0))
            found = (record_ids[at] == parent) if len(record_ids) else np.zeros(len(parent), bool)
            if not found.all():
                self.report.reject(
                    "Health Connect heart-rate sample without its record",
                    int(np.count_nonzero(~found)),
                    where=f"{self.label} (heart_rate_record_"
                    f"series_table, parent_key {rows[int(np.argmin(found))][0]})",
                )
            placed = np.column_stack([series[found, 1], series[found, 2], table[at[found], 1:4]])
            yield from self._batches("heart_rate", placed, "heart_rate_record_series_table")

    def _points(self, point: _Point) -> Iterator[Item]:
        columns = self._require(point.table, "time", point.value)
        offset = "zone_offset" if "zone_offset" in columns else "NULL"
        app = "app_info_id" if "app_info_id" in columns else "NULL"
        device = "device_info_id" if "device_info_id" in columns else "NULL"
        sql = f'SELECT time, {point.value}, {offset}, {app}, {device} FROM "{point.table}"'
        for rows in self._chunks(point.table, sql):
            yield from self._batches(point.metric, _as_table(rows, 5), point.table)

    def _batches(self, metric: Metric, table_rows: np.ndarray, table: str) -> Iterator[SampleBatch]:
        """Rows of (millis, value, zone offset s, app id, device id; NULL as NaN) as batches."""
        where = f"{self.label} ({table})"
        millis, values, offsets = table_rows[:, 0], table_rows[:, 1], table_rows[:, 2]
        ok = np.isfinite(millis)
        self.report.reject(
            f"Health Connect {metric} without a time", int(ok.size - np.count_nonzero(ok)), where=where
        )
        known_offset = np.isfinite(offsets)
        bad_offset = ok & known_offset & ((np.abs(offsets) > MAX_OFFSET_S) | (offsets % 900 != 0))
        self.report.reject(
            f"Health Connect {metric} with an impossible zone offset",
            int(np.count_nonzero(bad_offset)),
            where=where,
        )
        ok &= ~bad_offset
        low, high = BOUNDS[metric]
        in_bounds = np.isfinite(values) & (values >= low) & (values <= high)
        self.report.reject(
            f"{metric} out of physiological bounds", int(np.count_nonzero(ok & ~in_bounds)), where=where
        )
        ok &= in_bounds
        ts = (millis[ok] * 1000).astype(np.int64)
        values, offsets = values[ok], offsets[ok]
        ids = np.nan_to_num(table_rows[ok, 3:5], nan=-1.0).astype(np.int64)  # NULL: -1
        apps, devices = ids[:, 0], ids[:, 1]
        # One group per (app, device, offset): a single int64 key, so grouping is a 1-d sort.
        # Offsets are whole quarter hours within +-14 h here (56 each way); NULL is code 0.
        quarter = np.where(np.isfinite(offsets), offsets // 900 + 57, 0).astype(np.int64)
        keys = ((apps + 1) << 40) | ((devices + 1) << 8) | quarter
        if not keys.size:
            return
        unique, inverse = np.unique(keys, return_inverse=True)
        for index, key in enumerate(unique.tolist()):
            same = inverse == index
            order = np.argsort(ts[same], kind="stable")
            app, device, code = (key >> 40) - 1, ((key >> 8) & ((1 << 32) - 1)) - 1, key & 0xFF
            source = self.source(None if app < 0 else app, None if device < 0 else device)
            yield SampleBatch(
                source,
                metric,
                ts[same][order],
                values[same][order],
                utc_offset_s=None if code == 0 else int((code - 57) * 900),
            )

    def _sleep(self) -> Iterator[Item]:
        sessions = self._require("sleep_session_record_table", "row_id", "start_time", "end_time")
        app = "app_info_id" if "app_info_id" in sessions else "NULL"
        device = "device_info_id" if "device_info_id" in sessions else "NULL"
        staged: set[int] = set()
        if "sleep_stages_table" in self.tables:
            self._require(
                "sleep_stages_table", "parent_key", "stage_start_time", "stage_end_time", "stage_type"
            )
            sql = (
                "SELECT st.parent_key, st.stage_start_time, st.stage_end_time, st.stage_type, "
                f"{'s.' + app if app != 'NULL' else app}, "
                f"{'s.' + device if device != 'NULL' else device}, s.row_id "
                "FROM sleep_stages_table st "
                "LEFT JOIN sleep_session_record_table s ON s.row_id = st.parent_key"
            )
            for row in self._query("sleep_stages_table", sql):
                parent, start, end, stage_type, app_id, device_id, session = row
                where = f"{self.label} (sleep_stages_table, parent_key {parent})"
                if session is None:
                    self.report.reject("Health Connect sleep stage without its session", where=where)
                    continue
                staged.add(parent)
                kind = SLEEP_STAGES.get(stage_type) if isinstance(stage_type, int) else None
                if kind is None:
                    name = SLEEP_STAGES_NOT_READ.get(stage_type, f"type {stage_type!r}")
                    self.report.skip(f"Health Connect sleep stage not read ({name})")
                    continue
                episode = self._episode(kind, start, end, app_id, device_id, where)
                if episode is not None:
                    yield episode
        sql = f"SELECT row_id, start_time, end_time, {app}, {device} FROM sleep_session_record_table"
        for row_id, start, end, app_id, device_id in self._query("sleep_session_record_table", sql):
            if row_id in staged:
                continue
            where = f"{self.label} (sleep_session_record_table, row_id {row_id})"
            episode = self._episode("asleep", start, end, app_id, device_id, where)
            if episode is not None:
                self.report.note("Health Connect sleep session without stages: one asleep episode")
                yield episode

    def _episode(
        self, kind: str, start: object, end: object, app_id: object, device_id: object, where: str
    ) -> Episode | None:
        if not isinstance(start, int) or not isinstance(end, int):
            self.report.reject("Health Connect sleep without a start and end time", where=where)
            return None
        if end < start:
            self.report.reject("Health Connect sleep that ends before it starts", where=where)
            return None
        if not (_MILLIS_RANGE[0] <= start and end < _MILLIS_RANGE[1]):
            self.report.reject("Health Connect sleep time outside 1970-2200", where=where)
            return None
        source = self.source(
            app_id if isinstance(app_id, int) else None, device_id if isinstance(device_id, int) else None
        )
        return Episode(source, kind, _instant(start), _instant(end))  # type: ignore[arg-type]


def _as_table(rows: list[tuple], width: int) -> np.ndarray:
    """Rows of numbers as a float array, NULL as NaN; in bulk unless a cell is not numeric."""
    try:
        return np.array(rows, dtype=np.float64).reshape(-1, width)
    except (TypeError, ValueError):
        pass
    # SQLite is loosely typed: text that is not a number, or a blob, becomes NaN.
    return np.array([[_number(cell) for cell in row] for row in rows], dtype=np.float64).reshape(-1, width)


def _number(value: object) -> float:
    """A numeric cell as float; NaN for NULL, text or blobs (SQLite is loosely typed)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return float("nan")
    return float(value)


#: Unix milliseconds of 1970-01-01 and 2200-01-01: a time outside is a misread (and
#: one far enough outside would overflow a datetime).
_MILLIS_RANGE = (0, 7_258_118_400_000)


def _instant(millis: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=millis)
