"""Synthetic WHOOP data exports: ``physiological_cycles.csv``, ``sleeps.csv``, ``workouts.csv``.

One cycle per day: it starts at sleep onset (local evening), its sleep ends at
wake onset the next morning, and the next cycle starts at the next sleep onset.
Every time of a row is written as local wall clock in the row's ``Cycle
timezone`` (``UTC+02:00``), the zone's offset at the cycle start. Two column
layouts: ``version=2`` (the current names, including blood oxygen and skin
temperature) and ``version=1`` (older: fewer columns, another order, other
case). The last cycle is in progress (no recovery yet), as in real exports.
A zip is written when ``dest`` ends in ``.zip``.
"""

from __future__ import annotations

import datetime as dt
import random
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

COLUMNS_V2 = (
    "Cycle start time",
    "Cycle end time",
    "Cycle timezone",
    "Recovery score %",
    "Resting heart rate (bpm)",
    "Heart rate variability (ms)",
    "Skin temp (celsius)",
    "Blood oxygen %",
    "Day Strain",
    "Energy burned (cal)",
    "Max HR (bpm)",
    "Average HR (bpm)",
    "Sleep onset",
    "Wake onset",
    "Sleep performance %",
    "Respiratory rate (rpm)",
    "Asleep duration (min)",
    "In bed duration (min)",
    "Light sleep duration (min)",
    "Deep (SWS) duration (min)",
    "REM duration (min)",
    "Awake duration (min)",
    "Sleep need (min)",
    "Sleep debt (min)",
    "Sleep efficiency %",
    "Sleep consistency %",
)
COLUMNS_V1 = (
    "Cycle start time",
    "Cycle end time",
    "Cycle timezone",
    "Day Strain",
    "recovery score %",
    "HEART RATE VARIABILITY (MS)",
    "Resting Heart Rate (bpm)",
    "Sleep onset",
    "Wake onset",
    "Respiratory rate (rpm)",
)
SLEEP_COLUMNS = (
    "Cycle start time",
    "Cycle end time",
    "Cycle timezone",
    "Sleep onset",
    "Wake onset",
    "Sleep performance %",
    "Respiratory rate (rpm)",
    "Asleep duration (min)",
    "In bed duration (min)",
    "Light sleep duration (min)",
    "Deep (SWS) duration (min)",
    "REM duration (min)",
    "Awake duration (min)",
    "Sleep need (min)",
    "Sleep debt (min)",
    "Sleep efficiency %",
    "Nap",
)


@dataclass
class WhoopTruth:
    samples: Counter[str] = field(default_factory=Counter)
    episodes: int = 0
    not_scored: int = 0
    known: list[tuple[str, int, float]] = field(default_factory=list)
    bytes_written: int = 0


def _us(moment: dt.datetime) -> int:
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _zone_text(offset: dt.timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def write_whoop_export(
    dest: Path,
    *,
    days: int = 4,
    seed: int = 0,
    start: dt.date = dt.date(2024, 3, 29),
    zone: str = "Europe/Berlin",
    version: int = 2,
) -> WhoopTruth:
    rng = random.Random(seed)
    tz = ZoneInfo(zone)
    truth = WhoopTruth()
    columns = COLUMNS_V2 if version == 2 else COLUMNS_V1
    cycles, sleeps = [",".join(columns)], [",".join(SLEEP_COLUMNS)]
    onsets = [
        dt.datetime.combine(start + dt.timedelta(days=i), dt.time(23, 0), tzinfo=tz)
        + dt.timedelta(minutes=rng.randint(0, 60), seconds=rng.randint(0, 59))
        for i in range(days + 1)
    ]
    for index in range(days):
        onset = onsets[index]
        offset = onset.utcoffset()
        fixed = dt.timezone(offset)  # type: ignore[arg-type]
        wake = (onset.astimezone(dt.UTC) + dt.timedelta(hours=7, minutes=rng.randint(0, 59))).astimezone(
            fixed
        )
        in_progress = index == days - 1
        end = "" if in_progress else onsets[index + 1].astimezone(fixed).strftime("%Y-%m-%d %H:%M:%S")

        def local(moment: dt.datetime, zone: dt.tzinfo = fixed) -> str:
            return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")

        values = {
            "Recovery score %": "" if in_progress else str(rng.randint(20, 99)),
            "Resting heart rate (bpm)": str(rng.randint(45, 62)),
            "Heart rate variability (ms)": str(rng.randint(35, 110)),
            "Respiratory rate (rpm)": f"{rng.uniform(13, 17):.1f}",
            "Blood oxygen %": f"{rng.uniform(94, 99):.2f}",
        }
        row = {
            "Cycle start time": local(onset),
            "Cycle end time": end,
            "Cycle timezone": _zone_text(offset),  # type: ignore[arg-type]
            "Skin temp (celsius)": f"{rng.uniform(33, 35):.2f}",
            "Day Strain": f"{rng.uniform(4, 18):.1f}",
            "Energy burned (cal)": "2100",
            "Max HR (bpm)": "160",
            "Average HR (bpm)": "70",
            "Sleep onset": local(onset),
            "Wake onset": local(wake),
            "Sleep performance %": "85",
            "Asleep duration (min)": "400",
            "In bed duration (min)": "430",
            "Light sleep duration (min)": "200",
            "Deep (SWS) duration (min)": "90",
            "REM duration (min)": "110",
            "Awake duration (min)": "30",
            "Sleep need (min)": "480",
            "Sleep debt (min)": "40",
            "Sleep efficiency %": "93",
            "Sleep consistency %": "80",
            **values,
        }
        lookup = {name.lower(): value for name, value in row.items()}
        cycles.append(",".join(lookup[c.lower()] for c in columns))
        for name, metric in (
            ("Recovery score %", "vendor_recovery"),
            ("Resting heart rate (bpm)", "resting_heart_rate"),
            ("Heart rate variability (ms)", "hrv_rmssd"),
            ("Respiratory rate (rpm)", "respiratory_rate"),
            ("Blood oxygen %", "spo2"),
        ):
            if name.lower() not in {c.lower() for c in columns}:
                continue
            if not values[name]:
                truth.not_scored += 1
                continue
            truth.samples[metric] += 1
            truth.known.append((metric, _us(wake), float(values[name])))
        sleep = {**row, "Nap": "false"}
        sleeps.append(",".join(sleep[c] for c in SLEEP_COLUMNS))
        truth.episodes += 1
    text = {
        "physiological_cycles.csv": "\n".join(cycles) + "\n",
        "sleeps.csv": "\n".join(sleeps) + "\n",
        "workouts.csv": "Cycle start time,Workout start time,Activity name\n",
    }
    truth.bytes_written = sum(len(t.encode()) for t in text.values())
    if dest.suffix == ".zip":
        with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, body in text.items():
                archive.writestr(f"my_whoop_data_2024_04_05/{name}", body)
    else:
        dest.mkdir(parents=True, exist_ok=True)
        for name, body in text.items():
            (dest / name).write_text(body)
    return truth
