"""Synthetic Garmin Connect account exports (docs/formats.md, "Garmin Connect").

:func:`write_garmin_export` writes the zip a Garmin account downloads (or its
unzipped folder): ``DI_CONNECT/DI-Connect-Aggregator/UDSFile_*.json`` daily
summaries, ``DI-Connect-Wellness/*_sleepData.json`` and
``*_healthStatusData.json``, FIT activities inside nested
``DI-Connect-Uploaded-Files/UploadedFiles_*.zip``, and files Vagus does not
read (user profile, summarized activities). Deterministic for a seed; returns
the values a reader must yield, with the instants they belong to.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from tests.support.generators.fit import fit_activity

PREFIX = "DI_CONNECT/"
USER = "someone@example.org"


@dataclass
class GarminTruth:
    """Per metric, (UTC microseconds, value) of every daily value written."""

    daily: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    health: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    #: (stage, start, end) of every episode.
    episodes: list[tuple[str, dt.datetime, dt.datetime]] = field(default_factory=list)
    rr_count: int = 0
    heart_rate_count: int = 0
    stress_sentinels: int = 0
    members: dict[str, bytes] = field(default_factory=dict)


def _gmt(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.0")


def _us(moment: dt.datetime) -> int:
    return round(moment.timestamp() * 1_000_000)


def _day(date: dt.date, zone: ZoneInfo, rng: np.random.Generator, truth: GarminTruth, index: int) -> dict:
    start = dt.datetime.combine(date, dt.time(0), zone)
    end = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(0), zone)
    resting = int(rng.integers(48, 60))
    stress = int(rng.integers(15, 45)) if index % 5 else -2  # every fifth day: no score
    truth.daily.setdefault("resting_heart_rate", []).append((_us(start), float(resting)))
    if stress >= 0:
        truth.daily.setdefault("vendor_stress", []).append((_us(start), float(stress)))
    else:
        truth.stress_sentinels += 1
    return {
        "userProfilePK": 1234567,
        "calendarDate": date.isoformat(),
        "uuid": f"day-{index}",
        "totalSteps": int(rng.integers(2000, 12000)),
        "wellnessStartTimeGmt": _gmt(start),
        "wellnessEndTimeGmt": _gmt(end),
        "wellnessStartTimeLocal": start.strftime("%Y-%m-%dT%H:%M:%S.0"),
        "wellnessEndTimeLocal": end.strftime("%Y-%m-%dT%H:%M:%S.0"),
        "restingHeartRate": resting,
        "minHeartRate": resting - 3,
        "maxHeartRate": 150,
        "allDayStress": {
            "calendarDate": date.isoformat(),
            "aggregatorList": [
                {"type": "TOTAL", "averageStressLevel": stress, "maxStressLevel": 90},
                {"type": "AWAKE", "averageStressLevel": stress + 5 if stress >= 0 else -2},
                {"type": "ASLEEP", "averageStressLevel": -2},
            ],
        },
        "bodyBattery": {
            "chargedValue": 60,
            "drainedValue": 55,
            "bodyBatteryStatList": [
                {
                    "bodyBatteryStatType": "HIGHEST",
                    "statsValue": 80,
                    "statTimestamp": _gmt(start + dt.timedelta(hours=7)),
                },
                {"bodyBatteryStatType": "LOWEST", "statsValue": 20},
            ],
        },
        "respiration": {"avgWakingRespirationValue": 15.0},
    }


def _health(date: dt.date, zone: ZoneInfo, rng: np.random.Generator, truth: GarminTruth) -> dict:
    midnight = _us(dt.datetime.combine(date, dt.time(0), zone))
    hrv = float(rng.integers(35, 70))
    heart = float(rng.integers(48, 60))
    breath = round(float(rng.uniform(12, 16)), 1)
    for metric, value in (("hrv_rmssd", hrv), ("resting_heart_rate", heart), ("respiratory_rate", breath)):
        truth.health.setdefault(metric, []).append((midnight, value))
    return {
        "calendarDate": date.isoformat(),
        "metrics": [
            {
                "type": "HRV",
                "value": hrv,
                "baselineLowerLimit": 40.0,
                "baselineUpperLimit": 60.0,
                "status": "IN_RANGE",
            },
            {"type": "HR", "value": heart, "baselineLowerLimit": 47.0, "baselineUpperLimit": 58.0},
            {"type": "RESPIRATION", "value": breath, "baselineLowerLimit": 12.0},
            {"type": "SKIN_TEMP_C", "value": -0.2},
            {"type": "SPO2", "value": None},
        ],
    }


def _night(date: dt.date, zone: ZoneInfo, staged: bool, truth: GarminTruth) -> dict:
    start = dt.datetime.combine(date - dt.timedelta(days=1), dt.time(23, 0), zone)
    end = dt.datetime.combine(date, dt.time(6, 30), zone)
    night = {
        "calendarDate": date.isoformat(),
        "sleepStartTimestampGMT": _gmt(start),
        "sleepEndTimestampGMT": _gmt(end),
        "deepSleepSeconds": 5400,
        "lightSleepSeconds": 14400,
        "remSleepSeconds": 5400,
        "awakeSleepSeconds": 1800,
        "sleepScores": {"overallScore": 80},
    }
    if not staged:
        truth.episodes.append(("asleep", start.astimezone(dt.UTC), end.astimezone(dt.UTC)))
        return night
    levels, clock = [], start
    stages = [(1, 60), (0, 90), (1, 60), (2, 45), (3, 15), (1, 60), (2, 60), (0, 60)]
    for level, minutes in stages:
        finish = min(clock + dt.timedelta(minutes=minutes), end)
        levels.append({"startGMT": _gmt(clock), "endGMT": _gmt(finish), "activityLevel": level})
        truth.episodes.append(
            (
                {0: "asleep_deep", 1: "asleep_core", 2: "asleep_rem", 3: "awake"}[level],
                clock.astimezone(dt.UTC),
                finish.astimezone(dt.UTC),
            )
        )
        clock = finish
    night["sleepLevels"] = levels
    return night


def _uploads(seed: int, activities: int, start: dt.date, truth: GarminTruth) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as inner:
        for index in range(activities):
            moment = dt.datetime.combine(start + dt.timedelta(days=index), dt.time(16, 0), dt.UTC)
            data, fit = fit_activity(seed=seed + index, minutes=1, start=moment)
            inner.writestr(f"{USER}_{1000 + index}.fit", data)
            truth.rr_count += int(fit.rr_ms.size)
            truth.heart_rate_count += int(fit.heart_rate_bpm.size)
        inner.writestr(f"{USER}_route.gpx", "<gpx/>")
    return buffer.getvalue()


def write_garmin_export(
    dest: Path,
    *,
    seed: int = 0,
    days: int = 3,
    start: dt.date = dt.date(2024, 10, 25),
    tz: str = "Europe/Berlin",
    activities: int = 2,
    layout: str = "zip",
) -> GarminTruth:
    """Write an export of ``days`` days; ``layout`` "zip" (``dest`` is the zip) or "folder"."""
    rng = np.random.default_rng(seed)
    zone = ZoneInfo(tz)
    truth = GarminTruth()
    dates = [start + dt.timedelta(days=i) for i in range(days)]
    end = dates[-1].isoformat()
    members = {
        f"DI-Connect-Aggregator/UDSFile_{start.isoformat()}_{end}.json": json.dumps(
            [_day(d, zone, rng, truth, i) for i, d in enumerate(dates)]
        ),
        f"DI-Connect-Wellness/{start.isoformat()}_{end}_1234567_healthStatusData.json": json.dumps(
            [_health(d, zone, rng, truth) for d in dates]
        ),
        f"DI-Connect-Wellness/{start.isoformat()}_{end}_1234567_sleepData.json": json.dumps(
            [_night(d, zone, i % 2 == 0, truth) for i, d in enumerate(dates)]
        ),
        "DI-Connect-User/user_profile.json": json.dumps({"userName": USER}),
        "DI-Connect-Fitness/someone_0_summarizedActivities.json": json.dumps(
            [{"summarizedActivitiesExport": []}]
        ),
    }
    encoded = {PREFIX + name: text.encode() for name, text in members.items()}
    encoded[PREFIX + "DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip"] = _uploads(
        seed, activities, start, truth
    )
    truth.members = encoded
    if layout == "zip":
        with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in encoded.items():
                archive.writestr(name, data)
    else:
        for name, data in encoded.items():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    return truth
