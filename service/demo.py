"""The demo: a synthetic patient whose data goes through the real import path.

Eight weeks of smartwatch heart rate (every 5 minutes, with a daily rhythm)
and chest-strap RR recorded with Polar Sensor Logger around eight afternoon
sessions. Files are written under ``VAGUS_DATA_DIR/demo`` and imported like
any upload, so re-running the demo inserts nothing twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from psycopg_pool import ConnectionPool

from connectors.generators.rr import daily_mean_rr, rr_series_fast

from . import auth
from .db import rls
from .ingest import ImportOutcome, run_import
from .repositories import accounts, imports, persons

DEMO_NAME = "Demo patient"
DEMO_TZ = "Europe/Berlin"
WEEKS = 8
SESSION_DAYS = 8


@dataclass
class Demo:
    person_id: str
    patient_token: str
    admin_token: str
    imports: list[ImportOutcome]


def demo_start(today: dt.date | None = None) -> dt.datetime:
    """Midnight, local time, eight weeks before ``today``."""
    today = today or dt.datetime.now(ZoneInfo(DEMO_TZ)).date()
    first = today - dt.timedelta(weeks=WEEKS)
    return dt.datetime.combine(first, dt.time(0), tzinfo=ZoneInfo(DEMO_TZ))


def write_heart_rate(path: Path, start: dt.datetime, days: int, seed: int = 1) -> int:
    """A ``timestamp,bpm`` CSV every 5 minutes for ``days`` days."""
    rng = np.random.default_rng(seed)
    minutes = np.arange(0, days * 24 * 60, 5)
    hours = (start.hour + minutes / 60.0) % 24
    bpm = 60000.0 / daily_mean_rr(hours) + rng.normal(0, 3, minutes.size)
    with path.open("w") as out:
        out.write("timestamp,bpm\n")
        for minute, value in zip(minutes, bpm, strict=True):
            moment = (start + dt.timedelta(minutes=int(minute))).astimezone(dt.UTC)
            out.write(f"{moment.isoformat()},{value:.0f}\n")
    return minutes.size


def write_polar_session(path: Path, start: dt.datetime, hours: float, seed: int) -> int:
    """A Polar Sensor Logger RR file: beats grouped into notifications that arrive late."""
    rng = np.random.default_rng(seed)
    n = int(hours * 3600 / 0.85)
    rr = rr_series_fast(n, mean_ms=850.0, lf_ms=30.0, hf_ms=25.0, seed=seed)
    beat_ms = np.cumsum(rr)
    with path.open("w") as out:
        out.write("Phone timestamp;RR-interval [ms]\n")
        i = 0
        while i < n:
            size = int(rng.integers(1, 4))
            arrival = start + dt.timedelta(milliseconds=float(beat_ms[min(i + size, n) - 1])
                                           + float(rng.uniform(20, 400)))
            stamp = arrival.replace(tzinfo=None).isoformat(timespec="milliseconds")
            for value in rr[i:i + size]:
                out.write(f"{stamp};{value:.0f}\n")
            i += size
    return n


def load(pool: ConnectionPool, data_dir: Path) -> Demo:
    """Create (or reuse) the demo person, import its files, and issue fresh tokens."""
    folder = data_dir / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    start = demo_start()
    with rls.system_connection(pool) as conn:
        person = persons.find_by_name(conn, DEMO_NAME) or persons.create(
            conn, name=DEMO_NAME, tz=DEMO_TZ)
        person_id = str(person["id"])
        patient = accounts.patient_account(conn, person_id)
        admin = accounts.create(conn, role="admin", name="demo admin")
        patient_token, _ = auth.issue_token(conn, account_id=str(patient["id"]), name="demo")
        admin_token, _ = auth.issue_token(conn, account_id=str(admin["id"]), name="demo")
    files = [folder / "smartwatch-heart-rate.csv"]
    if not files[0].exists():
        write_heart_rate(files[0], start, WEEKS * 7)
    for k in range(SESSION_DAYS):
        session_day = start + dt.timedelta(days=3 + 7 * k, hours=15)
        path = folder / f"polar-h10-{session_day:%Y-%m-%d}.txt"
        if not path.exists():
            write_polar_session(path, session_day - dt.timedelta(minutes=45), 2.5, seed=100 + k)
        files.append(path)
    outcomes = []
    for path in files:
        with rls.system_connection(pool) as conn:
            row = imports.create(conn, person_id=person_id, file_name=path.name,
                                 stored_path=str(path))
        outcomes.append(run_import(pool, row["id"], path))
    return Demo(person_id, patient_token, admin_token, outcomes)
