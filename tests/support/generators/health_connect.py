"""Synthetic Android Health Connect exports (docs/formats.md, "Health Connect").

:func:`write_health_connect` writes an SQLite database with the tables and
columns of Health Connect's export (``health_connect_export.db``), including
bookkeeping columns Vagus ignores (``uuid``, ``last_modified_time``...), two
apps writing heart rate (a watch app and a phone app, so sources must stay
apart), resting heart rate, RMSSD, sleep sessions with stages (and one
without), and a table Vagus does not read (steps). Deterministic for a seed;
returns every value at its UTC instant, per app package.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

WATCH_APP = ("com.samsung.android.wear.shealth", "Samsung Health (watch)")
PHONE_APP = ("com.google.android.apps.fitness", "Fit")
SCHEMA = """
CREATE TABLE application_info_table (row_id INTEGER PRIMARY KEY AUTOINCREMENT,
    package_name TEXT NOT NULL UNIQUE, app_name TEXT, app_icon BLOB, record_types_used TEXT);
CREATE TABLE device_info_table (row_id INTEGER PRIMARY KEY AUTOINCREMENT,
    manufacturer TEXT, model TEXT, device_type INTEGER);
CREATE TABLE heart_rate_record_table (row_id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid BLOB UNIQUE, last_modified_time INTEGER, client_record_id TEXT,
    client_record_version TEXT, device_info_id INTEGER, app_info_id INTEGER,
    recording_method INTEGER, start_time INTEGER, start_zone_offset INTEGER,
    end_time INTEGER, end_zone_offset INTEGER, local_date INTEGER);
CREATE TABLE heart_rate_record_series_table (row_id INTEGER PRIMARY KEY AUTOINCREMENT,
    parent_key INTEGER, beats_per_minute INTEGER, epoch_millis INTEGER);
CREATE TABLE resting_heart_rate_record_table (row_id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid BLOB UNIQUE, last_modified_time INTEGER, device_info_id INTEGER,
    app_info_id INTEGER, time INTEGER, zone_offset INTEGER, local_date INTEGER,
    beats_per_minute INTEGER);
CREATE TABLE heart_rate_variability_rmssd_record_table (row_id INTEGER PRIMARY KEY
    AUTOINCREMENT, uuid BLOB UNIQUE, last_modified_time INTEGER, device_info_id INTEGER,
    app_info_id INTEGER, time INTEGER, zone_offset INTEGER, local_date INTEGER,
    heart_rate_variability_millis REAL);
CREATE TABLE sleep_session_record_table (row_id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid BLOB UNIQUE, last_modified_time INTEGER, device_info_id INTEGER,
    app_info_id INTEGER, start_time INTEGER, start_zone_offset INTEGER, end_time INTEGER,
    end_zone_offset INTEGER, notes TEXT, title TEXT);
CREATE TABLE sleep_stages_table (row_id INTEGER PRIMARY KEY AUTOINCREMENT,
    parent_key INTEGER, stage_start_time INTEGER, stage_end_time INTEGER, stage_type INTEGER);
CREATE TABLE steps_record_table (row_id INTEGER PRIMARY KEY AUTOINCREMENT,
    app_info_id INTEGER, start_time INTEGER, end_time INTEGER, count INTEGER);
"""
#: Health Connect stage types written, and what Vagus makes of them.
STAGES = [
    (4, "asleep_core", 60),
    (5, "asleep_deep", 80),
    (6, "asleep_rem", 40),
    (1, "awake", 10),
    (4, "asleep_core", 90),
    (3, None, 5),
    (6, "asleep_rem", 60),
]


@dataclass
class HealthConnectTruth:
    """(package, metric) -> [(UTC microseconds, value, UTC offset s)]; episodes likewise."""

    samples: dict[tuple[str, str], list[tuple[int, float, int]]] = field(default_factory=dict)
    episodes: list[tuple[str, str, dt.datetime, dt.datetime]] = field(default_factory=list)
    steps: int = 0
    out_of_bed: int = 0

    def add(self, package: str, metric: str, millis: int, value: float, offset: int) -> None:
        self.samples.setdefault((package, metric), []).append((millis * 1000, value, offset))


def _millis(moment: dt.datetime) -> int:
    return round(moment.timestamp() * 1000)


def _offset(moment: dt.datetime, zone: ZoneInfo) -> int:
    return int(moment.astimezone(zone).utcoffset().total_seconds())  # type: ignore[union-attr]


def write_health_connect(
    path: Path,
    *,
    seed: int = 0,
    days: int = 2,
    start: dt.date = dt.date(2024, 3, 30),
    tz: str = "Europe/Berlin",
    samples_per_record: int = 60,
    records_per_day: int = 24,
) -> HealthConnectTruth:
    """Write the database ``path`` (a ``.zip`` name writes it zipped); return its truth."""
    rng = np.random.default_rng(seed)
    zone = ZoneInfo(tz)
    truth = HealthConnectTruth()
    db_path = path.with_suffix(".db") if path.suffix == ".zip" else path
    db_path.unlink(missing_ok=True)
    connection = sqlite3.connect(db_path)
    with connection:
        connection.executescript(SCHEMA)
        for package, name in (WATCH_APP, PHONE_APP):
            connection.execute(
                "INSERT INTO application_info_table (package_name, app_name) VALUES (?, ?)", (package, name)
            )
        connection.execute(
            "INSERT INTO device_info_table (manufacturer, model, device_type) "
            "VALUES ('Samsung', 'Galaxy Watch6', 1)"
        )
        connection.execute(
            "INSERT INTO device_info_table (manufacturer, model, device_type) VALUES ('Google', 'Pixel 8', 2)"
        )
        for day in range(days):
            date = start + dt.timedelta(days=day)
            midnight = dt.datetime.combine(date, dt.time(0), zone)
            _heart_rate(connection, truth, rng, zone, midnight, records_per_day, samples_per_record)
            morning = dt.datetime.combine(date, dt.time(7, 0), zone)
            offset = _offset(morning, zone)
            resting = int(rng.integers(48, 60))
            rmssd = round(float(rng.uniform(25, 70)), 2)
            connection.execute(
                "INSERT INTO resting_heart_rate_record_table (uuid, app_info_id, "
                "device_info_id, time, zone_offset, beats_per_minute) VALUES (?, 1, 1, ?, ?, ?)",
                (uuid.uuid4().bytes, _millis(morning), offset, resting),
            )
            truth.add(WATCH_APP[0], "resting_heart_rate", _millis(morning), resting, offset)
            connection.execute(
                "INSERT INTO heart_rate_variability_rmssd_record_table (uuid, app_info_id, "
                "device_info_id, time, zone_offset, heart_rate_variability_millis) "
                "VALUES (?, 1, 1, ?, ?, ?)",
                (uuid.uuid4().bytes, _millis(morning), offset, rmssd),
            )
            truth.add(WATCH_APP[0], "hrv_rmssd", _millis(morning), rmssd, offset)
            _sleep(connection, truth, zone, date, staged=day % 2 == 0)
            connection.execute(
                "INSERT INTO steps_record_table (app_info_id, start_time, "
                "end_time, count) VALUES (2, ?, ?, 500)",
                (_millis(morning), _millis(morning) + 600_000),
            )
            truth.steps += 1
    connection.close()
    if path.suffix == ".zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(db_path, "health_connect_export.db")
        db_path.unlink()
    return truth


def _heart_rate(
    connection: sqlite3.Connection,
    truth: HealthConnectTruth,
    rng: np.random.Generator,
    zone: ZoneInfo,
    midnight: dt.datetime,
    records: int,
    per_record: int,
) -> None:
    """Hourly records from the watch app, one record in four also from the phone app."""
    hour = dt.timedelta(hours=1)
    first = midnight.astimezone(dt.UTC)
    for index in range(records):
        begin = first + index * hour  # UTC hours: a daylight-saving day has 23 or 25 local
        offset = _offset(begin, zone)
        apps = [(1, 1, WATCH_APP[0])] + ([(2, 2, PHONE_APP[0])] if index % 4 == 0 else [])
        for app_id, device_id, package in apps:
            cursor = connection.execute(
                "INSERT INTO heart_rate_record_table (uuid, app_info_id, device_info_id, "
                "start_time, start_zone_offset, end_time, end_zone_offset) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    uuid.uuid4().bytes,
                    app_id,
                    device_id,
                    _millis(begin),
                    offset,
                    _millis(begin + hour),
                    _offset(begin + hour, zone),
                ),
            )
            step = 3_600_000 // per_record
            rows = []
            for sample in range(per_record):
                millis = _millis(begin) + sample * step + app_id  # the apps never collide
                bpm = int(rng.integers(55, 95))
                rows.append((cursor.lastrowid, bpm, millis))
                truth.add(package, "heart_rate", millis, bpm, offset)
            connection.executemany(
                "INSERT INTO heart_rate_record_series_table (parent_key, "
                "beats_per_minute, epoch_millis) VALUES (?, ?, ?)",
                rows,
            )


def _sleep(
    connection: sqlite3.Connection, truth: HealthConnectTruth, zone: ZoneInfo, date: dt.date, staged: bool
) -> None:
    start = dt.datetime.combine(date, dt.time(23, 0), zone).astimezone(dt.UTC)
    stages, clock = [], start
    for stage_type, kind, minutes in STAGES:
        end = clock + dt.timedelta(minutes=minutes)
        stages.append((stage_type, kind, clock, end))
        clock = end
    cursor = connection.execute(
        "INSERT INTO sleep_session_record_table (uuid, app_info_id, device_info_id, start_time, "
        "start_zone_offset, end_time, end_zone_offset, title) VALUES (?, 1, 1, ?, ?, ?, ?, ?)",
        (
            uuid.uuid4().bytes,
            _millis(start),
            _offset(start, zone),
            _millis(clock),
            _offset(clock, zone),
            "Sleep",
        ),
    )
    if not staged:
        truth.episodes.append((WATCH_APP[0], "asleep", start, clock))
        return
    for stage_type, kind, begin, end in stages:
        connection.execute(
            "INSERT INTO sleep_stages_table (parent_key, stage_start_time, "
            "stage_end_time, stage_type) VALUES (?, ?, ?, ?)",
            (cursor.lastrowid, _millis(begin), _millis(end), stage_type),
        )
        if kind is None:
            truth.out_of_bed += 1
        else:
            truth.episodes.append((WATCH_APP[0], kind, begin, end))
