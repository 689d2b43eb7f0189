"""Synthetic Oura exports: JSON in the API v2 document shapes, or the CSV export.

``layout="json"`` writes ``oura/heartrate.json``, ``oura/sleep.json``,
``oura/daily_readiness.json`` (each ``{"data": [...], "next_token": null}``)
and ``oura/daily_activity.json`` (not read). ``layout="csv"`` writes the same
records as the export's ``App Data/heartrate.csv``, ``sleepmodel.csv`` and
``dailyreadiness.csv`` (semicolon-separated, nested objects as JSON text in a
cell) plus ``dailyactivity.csv`` (not read). A zip is written when ``dest``
ends in ``.zip``.

Heart rate comes every 5 minutes while awake (sources awake/rest/workout, UTC
times); each night is one ``long_sleep`` period with 5-minute ``heart_rate``
and ``hrv`` series holding some ``null`` items, ``sleep_phase_5_min``, times
in the account's local offset (so a night across a daylight-saving change has
different offsets at its two ends), and one nap per few days.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import zipfile
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass
class OuraTruth:
    samples: Counter[str] = field(default_factory=Counter)
    episodes: Counter[str] = field(default_factory=Counter)
    null_items: int = 0
    known: list[tuple[str, int, float]] = field(default_factory=list)
    bytes_written: int = 0


def _us(moment: dt.datetime) -> int:
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def write_oura_export(
    dest: Path,
    *,
    days: int = 3,
    seed: int = 0,
    start: dt.date = dt.date(2024, 10, 25),
    zone: str = "Europe/Berlin",
    layout: str = "json",
) -> OuraTruth:
    rng = random.Random(seed)
    tz = ZoneInfo(zone)
    truth = OuraTruth()
    heart, sleep, readiness, activity = [], [], [], []
    for index in range(days):
        day = start + dt.timedelta(days=index)
        heart += _awake_heart_rate(rng, tz, day, truth)
        sleep.append(_night(rng, tz, day, truth, "long_sleep"))
        if index % 3 == 1:
            sleep.append(_nap(rng, tz, day, truth))
        readiness.append(_readiness(rng, tz, day, truth))
        activity.append(
            {
                "id": f"a{index}",
                "day": day.isoformat(),
                "score": 80,
                "steps": rng.randint(2000, 12000),
                "class_5_min": "1111",
            }
        )
    with ExitStack() as stack:
        archive = None
        if dest.suffix == ".zip":
            archive = stack.enter_context(zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=1))

        def put(name: str, text: str) -> None:
            data = text.encode("utf-8")
            truth.bytes_written += len(data)
            if archive is not None:
                archive.writestr(name, data)
            else:
                target = dest / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)

        if layout == "json":
            for name, records in (
                ("heartrate", heart),
                ("sleep", sleep),
                ("daily_readiness", readiness),
                ("daily_activity", activity),
            ):
                put(f"oura/{name}.json", json.dumps({"data": records, "next_token": None}, indent=1))
        else:
            for name, records in (
                ("heartrate", heart),
                ("sleepmodel", sleep),
                ("dailyreadiness", readiness),
                ("dailyactivity", activity),
            ):
                put(f"App Data/{name}.csv", _csv(records))
    return truth


def _csv(records: list[dict[str, Any]]) -> str:
    columns = list(records[0])
    for record in records[1:]:
        columns += [c for c in record if c not in columns]
    lines = [";".join(columns)]
    for record in records:
        cells = []
        for column in columns:
            value = record.get(column)
            if value is None:
                cells.append("")
            elif isinstance(value, (dict, list)):
                cells.append(json.dumps(value, separators=(",", ":")))
            else:
                cells.append(str(value))
        lines.append(";".join(cells))
    return "\n".join(lines) + "\n"


def _iso(moment: dt.datetime, tz: dt.tzinfo) -> str:
    return moment.astimezone(tz).isoformat(timespec="seconds")


def _awake_heart_rate(
    rng: random.Random, tz: ZoneInfo, day: dt.date, truth: OuraTruth
) -> list[dict[str, Any]]:
    begin = dt.datetime.combine(day, dt.time(8), tzinfo=tz).astimezone(dt.UTC)
    records = []
    for k in range(14 * 12):  # 08:00-22:00 local, every 5 minutes
        moment = begin + dt.timedelta(minutes=5 * k)
        bpm = rng.randint(58, 110)
        source = "workout" if 120 <= k < 130 else rng.choice(["awake", "awake", "rest"])
        records.append({"bpm": bpm, "source": source, "timestamp": moment.isoformat(timespec="seconds")})
        truth.samples["heart_rate"] += 1
        if k % 50 == 0:
            truth.known.append(("heart_rate", _us(moment), float(bpm)))
    return records


def _series(
    rng: random.Random,
    start: dt.datetime,
    tz: ZoneInfo,
    count: int,
    low: int,
    high: int,
    truth: OuraTruth,
    metric: str,
) -> dict[str, Any]:
    items: list[float | None] = []
    for k in range(count):
        if rng.random() < 0.08:
            items.append(None)
            truth.null_items += 1
            continue
        value = float(rng.randint(low, high))
        items.append(value)
        truth.samples[metric] += 1
        if k == 7:
            truth.known.append((metric, _us(start + dt.timedelta(minutes=5 * k)), value))
    return {"interval": 300.0, "items": items, "timestamp": _iso(start, tz)}


def _phases(rng: random.Random, slots: int, truth: OuraTruth) -> str:
    names = {"1": "asleep_deep", "2": "asleep_core", "3": "asleep_rem", "4": "awake"}
    text = ""
    while len(text) < slots:
        digit = rng.choice("12223334")
        run = min(rng.randint(1, 8), slots - len(text))
        if text and text[-1] == digit:
            continue
        text += digit * run
        truth.episodes[names[digit]] += 1
    return text


def _night(rng: random.Random, tz: ZoneInfo, day: dt.date, truth: OuraTruth, kind: str) -> dict[str, Any]:
    start = dt.datetime.combine(day, dt.time(23, 5), tzinfo=tz).astimezone(dt.UTC) + dt.timedelta(
        minutes=rng.randint(0, 50)
    )
    slots = 96  # 8 hours in 5-minute slots
    end = start + dt.timedelta(minutes=5 * slots)
    truth.episodes["in_bed"] += 1
    lowest = rng.randint(44, 56)
    truth.samples["resting_heart_rate"] += 1
    truth.known.append(("resting_heart_rate", _us(end), float(lowest)))
    return {
        "id": f"s-{day.isoformat()}",
        "day": (day + dt.timedelta(days=1)).isoformat(),
        "type": kind,
        "bedtime_start": _iso(start, tz),
        "bedtime_end": _iso(end, tz),
        "average_breath": 14.5,
        "average_heart_rate": 55.2,
        "average_hrv": 48,
        "lowest_heart_rate": lowest,
        "efficiency": 90,
        "latency": 600,
        "time_in_bed": slots * 300,
        "total_sleep_duration": slots * 270,
        "heart_rate": _series(rng, start, tz, slots, 45, 70, truth, "heart_rate"),
        "hrv": _series(rng, start, tz, slots, 20, 90, truth, "hrv_rmssd"),
        "sleep_phase_5_min": _phases(rng, slots, truth),
        "movement_30_sec": "1" * 10,
        "readiness": {"score": 80, "contributors": {"hrv_balance": 70}},
        "sleep_algorithm_version": "v2",
    }


def _nap(rng: random.Random, tz: ZoneInfo, day: dt.date, truth: OuraTruth) -> dict[str, Any]:
    start = dt.datetime.combine(day, dt.time(14, 0), tzinfo=tz).astimezone(dt.UTC)
    end = start + dt.timedelta(minutes=30)
    truth.episodes["in_bed"] += 1
    truth.samples["hrv_rmssd"] += 1  # average_hrv is stored: the nap has no hrv items
    average = float(rng.randint(30, 60))
    truth.known.append(("hrv_rmssd", _us(end), average))
    return {
        "id": f"n-{day.isoformat()}",
        "day": day.isoformat(),
        "type": "late_nap",
        "bedtime_start": _iso(start, tz),
        "bedtime_end": _iso(end, tz),
        "average_hrv": average,
        "lowest_heart_rate": 60,
        "heart_rate": None,
        "hrv": None,
        "sleep_phase_5_min": None,
    }


def _readiness(rng: random.Random, tz: ZoneInfo, day: dt.date, truth: OuraTruth) -> dict[str, Any]:
    score = rng.randint(50, 95)
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=midnight.tzinfo)
    truth.samples["vendor_readiness"] += 1
    # 12:00 at the offset of the record's own timestamp (the day's start).
    fixed = dt.timezone(midnight.utcoffset())  # type: ignore[arg-type]
    truth.known.append(("vendor_readiness", _us(noon.replace(tzinfo=fixed)), float(score)))
    return {
        "id": f"r-{day.isoformat()}",
        "day": day.isoformat(),
        "score": score,
        "temperature_deviation": -0.12,
        "temperature_trend_deviation": 0.05,
        "timestamp": midnight.isoformat(timespec="seconds"),
        "contributors": {
            "activity_balance": 80,
            "body_temperature": 95,
            "hrv_balance": 70,
            "previous_day_activity": 85,
            "previous_night": 78,
            "recovery_index": 90,
            "resting_heart_rate": 88,
            "sleep_balance": 82,
        },
    }
