"""Synthetic Polar Flow account exports (the layout in docs/formats.md, "Polar Flow").

:func:`write_polar_export` writes a folder like the one account.polar.com
hands out: one ``ppi_samples_<date>.json`` per day of 24/7 PPI (local times
without offset, Java ``LocalDateTime`` style: seconds left out when zero),
``training-session-*.json`` files with heart rate and RR, and files Vagus does
not read (``account-data``, ``activity``). Deterministic for a seed; returns
the ground truth: every beat and heart-rate sample at its UTC instant.
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

DEVICE_ID = "A1B2C3D4"
MODEL = "Polar Vantage V2"


@dataclass
class PolarTruth:
    """What a reader must yield: UTC microseconds and values, in write order."""

    ppi_ts: list[int] = field(default_factory=list)
    ppi_ms: list[float] = field(default_factory=list)
    hr_ts: list[int] = field(default_factory=list)
    hr_bpm: list[float] = field(default_factory=list)
    rr_ts: list[int] = field(default_factory=list)
    rr_ms: list[float] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def java_local(moment: dt.datetime) -> str:
    """``LocalDateTime.toString()``: ``HH:mm`` when seconds and fraction are zero."""
    text = moment.strftime("%Y-%m-%dT%H:%M")
    if moment.second or moment.microsecond:
        text += moment.strftime(":%S")
    if moment.microsecond:
        text += f".{moment.microsecond // 1000:03d}"
    return text


def _us(moment: dt.datetime) -> int:
    return round(moment.timestamp() * 1_000_000)


def ppi_day(start_utc: dt.datetime, tz: str, beats: int, rng: np.random.Generator, truth: PolarTruth) -> dict:
    """One day object: ``beats`` consecutive beats from ``start_utc``, times written local."""
    zone = ZoneInfo(tz)
    rr = np.clip(rng.normal(900, 60, beats), 400, 1600).round()
    clock = start_utc
    samples = []
    for value in rr:
        clock += dt.timedelta(milliseconds=float(value))
        samples.append(
            {
                "sampleDateTime": java_local(clock.astimezone(zone).replace(tzinfo=None)),
                "pulseLength": int(value),
            }
        )
        truth.ppi_ts.append(_us(clock))
        truth.ppi_ms.append(float(value))
    local_day = start_utc.astimezone(zone).date().isoformat()
    return {"date": local_day, "devicePpiSamplesList": [{"deviceId": DEVICE_ID, "ppiSamples": samples}]}


def training_session(
    start_utc: dt.datetime, offset_min: int, minutes: float, rng: np.random.Generator, truth: PolarTruth
) -> dict:
    """A session: 1 Hz heart rate and the strap's RR, wall clock at ``offset_min``."""
    local = dt.timezone(dt.timedelta(minutes=offset_min))

    def wall(moment: dt.datetime) -> str:
        return java_local(moment.astimezone(local).replace(tzinfo=None))

    seconds = int(minutes * 60)
    heart = []
    for second in range(seconds):
        moment = start_utc + dt.timedelta(seconds=second)
        bpm = int(round(120 + 15 * np.sin(second / 60) + rng.normal(0, 2)))
        heart.append({"dateTime": wall(moment), "value": bpm})
        truth.hr_ts.append(_us(moment))
        truth.hr_bpm.append(float(bpm))
    heart.insert(len(heart) // 2, {"dateTime": wall(start_utc), "value": None})  # no reading
    rr = []
    clock = start_utc
    while clock < start_utc + dt.timedelta(seconds=seconds):
        value = int(np.clip(rng.normal(500, 30), 300, 900))
        clock += dt.timedelta(milliseconds=value)
        rr.append({"dateTime": wall(clock), "value": value})
        truth.rr_ts.append(_us(clock))
        truth.rr_ms.append(float(value))
    end = start_utc + dt.timedelta(seconds=seconds)
    return {
        "exportVersion": "1.6",
        "deviceId": DEVICE_ID,
        "product": {"modelName": MODEL},
        "name": "Running",
        "startTime": wall(start_utc),
        "stopTime": wall(end),
        "timezoneOffset": offset_min,
        "exercises": [
            {
                "startTime": wall(start_utc),
                "stopTime": wall(end),
                "timezoneOffset": offset_min,
                "sport": "RUNNING",
                "kiloCalories": 420,
                "heartRate": {"min": 95, "avg": 121, "max": 150},
                "samples": {
                    "heartRate": heart,
                    "rr": rr,
                    "speed": [{"dateTime": wall(start_utc), "value": 10.2}],
                },
            }
        ],
    }


def write_polar_export(
    folder: Path,
    *,
    seed: int = 0,
    days: int = 2,
    start: dt.date = dt.date(2024, 5, 4),
    tz: str = "Europe/Berlin",
    beats_per_day: int = 600,
    sessions: int = 1,
    session_minutes: float = 2.0,
) -> PolarTruth:
    """Write an unzipped export into ``folder``; see the module docstring."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    truth = PolarTruth()
    zone = ZoneInfo(tz)
    for day in range(days):
        date = start + dt.timedelta(days=day)
        night = dt.datetime.combine(date, dt.time(1, 0), zone).astimezone(dt.UTC)
        path = folder / f"ppi_samples_{date.isoformat()}.json"
        path.write_text(json.dumps([ppi_day(night, tz, beats_per_day, rng, truth)]))
        truth.files.append(path)
    for index in range(sessions):
        date = start + dt.timedelta(days=index % max(days, 1))
        begin = dt.datetime.combine(date, dt.time(18, 30), zone)
        offset = int(begin.utcoffset().total_seconds() // 60)  # type: ignore[union-attr]
        session = training_session(begin.astimezone(dt.UTC), offset, session_minutes, rng, truth)
        path = folder / f"training-session-{date.isoformat()}-{8000000 + index}.json"
        path.write_text(json.dumps(session))
        truth.files.append(path)
    (folder / "account-data-2024-05-04.json").write_text(json.dumps({"username": "someone"}))
    (folder / f"activity-{start.isoformat()}-1.json").write_text(json.dumps({"steps": 4000}))
    return truth


def zip_folder(folder: Path, target: Path, prefix: str = "") -> Path:
    """``folder``'s files into the zip ``target`` (under ``prefix``)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, prefix + path.relative_to(folder).as_posix())
    return target
