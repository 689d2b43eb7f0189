"""Synthetic Fitbit account exports in the Google Takeout "Fitbit" layout.

Writes, for ``days`` days from ``start`` in the account zone ``zone``::

    Takeout/Fitbit/Your Profile/Profile.csv                        (timezone column)
    Takeout/Fitbit/Global Export Data/heart_rate-YYYY-MM-DD.json   (every 5-15 s, local)
    Takeout/Fitbit/Global Export Data/resting_heart_rate-YYYY-MM-DD.json  (per 30 days)
    Takeout/Fitbit/Global Export Data/sleep-YYYY-MM-DD.json        (per 30 days, stages)
    Takeout/Fitbit/Global Export Data/steps-YYYY-MM-DD.json        (not read: skipped)
    Takeout/Fitbit/Heart Rate Variability/Heart Rate Variability Details - YYYY-MM-DD.csv
    Takeout/Fitbit/Heart Rate Variability/Daily Heart Rate Variability Summary - YYYY-MM-(DD).csv
    Takeout/Fitbit/Stress Score/Stress Score.csv
    Takeout/Fitbit/Physical Activity_GoogleData/heart_rate_YYYY-MM-DD.csv  (last days, UTC)
    Takeout/Fitbit/Health Fitness Data_GoogleData/daily_readiness.csv

as a zip (``dest`` ending in ``.zip``) or a folder. Times are generated as UTC
instants and written as the export writes them (local wall clock, or UTC with
``Z``), so the ground truth holds exact UTC instants, including across
daylight-saving changes. Quirks written on purpose: out-of-range heart rates,
resting-heart-rate days with value 0, stress days with ``CALCULATION_FAILED``,
nights with only the daily HRV summary, sleep ``shortData``.
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
from typing import Protocol
from zoneinfo import ZoneInfo

import numpy as np

ROOT = "Takeout/Fitbit"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass
class FitbitTruth:
    samples: Counter[str] = field(default_factory=Counter)
    episodes: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    skipped_files: int = 0
    #: (metric, UTC µs, value) for a few values, for round-trip checks.
    known: list[tuple[str, int, float]] = field(default_factory=list)
    bytes_written: int = 0
    zone: str = ""


class _Sink(Protocol):
    def write(self, name: str, data: bytes) -> None: ...


class _ZipSink:
    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive

    def write(self, name: str, data: bytes) -> None:
        self.archive.writestr(name, data)


class _FolderSink:
    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, name: str, data: bytes) -> None:
        target = self.root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def _us(moment: dt.datetime) -> int:
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def write_fitbit_export(
    dest: Path,
    *,
    days: int = 3,
    seed: int = 0,
    start: dt.date = dt.date(2024, 3, 1),
    zone: str = "Europe/Berlin",
    with_profile: bool = True,
    google_days: int = 1,
) -> FitbitTruth:
    """Write the export; ``google_days`` last days as Google Health CSV instead of JSON."""
    truth = FitbitTruth(zone=zone)
    with ExitStack() as stack:
        if dest.suffix == ".zip":
            archive = stack.enter_context(zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=1))
            sink: _Sink = _ZipSink(archive)
        else:
            dest.mkdir(parents=True, exist_ok=True)
            sink = _FolderSink(dest)
        writer = _Writer(sink, random.Random(seed), np.random.default_rng(seed), ZoneInfo(zone), truth)
        if with_profile:
            writer.profile()
        writer.days(start, days, google_days)
    return truth


class _Writer:
    def __init__(
        self, sink: _Sink, rng: random.Random, nprng: np.random.Generator, zone: ZoneInfo, truth: FitbitTruth
    ) -> None:
        self.sink, self.rng, self.nprng, self.zone, self.truth = sink, rng, nprng, zone, truth

    def put(self, name: str, text: str) -> None:
        data = text.encode("utf-8")
        self.truth.bytes_written += len(data)
        self.sink.write(f"{ROOT}/{name}", data)

    def local(self, us: int) -> dt.datetime:
        return (EPOCH + dt.timedelta(microseconds=us)).astimezone(self.zone)

    def midnight_us(self, day: dt.date) -> int:
        return _us(dt.datetime.combine(day, dt.time(), tzinfo=self.zone))

    def profile(self) -> None:
        self.put(
            "Your Profile/Profile.csv",
            "id,full_name,first_name,last_name,display_name_setting,display_name,"
            "username,email_address,date_of_birth,child,country,state,city,timezone,"
            "locale,member_since,about_me,start_of_week,sleep_tracking,"
            "time_display_format,gender,height,weight\n"
            f"ABC123,Test Person,Test,Person,name,Test,,test@example.org,1980-01-01,false,"
            f"DE,,Berlin,{self.zone.key},de_DE,2019-05-01,,MONDAY,Normal,24hour,"
            "FEMALE,170.0,65.0\n",
        )

    def days(self, start: dt.date, days: int, google_days: int) -> None:
        all_days = [start + dt.timedelta(days=i) for i in range(days)]
        json_days = all_days[: max(0, days - google_days)]
        for day in json_days:
            self.heart_rate_json(day)
        if len(json_days) < days:
            self.heart_rate_google(all_days[len(json_days) :])
        for block in range(0, days, 30):
            chunk = all_days[block : block + 30]
            self.resting(chunk)
            self.sleep(chunk)
            self.steps(chunk[0])
        self.hrv(all_days)
        self.stress(all_days)
        self.readiness(all_days)

    # -- heart rate ---------------------------------------------------------------

    def _series(self, day: dt.date) -> tuple[np.ndarray, np.ndarray]:
        begin, end = self.midnight_us(day), self.midnight_us(day + dt.timedelta(days=1))
        n = (end - begin) // 10_000_000 + 10
        steps = self.nprng.choice([5, 10, 15], size=n) * 1_000_000
        times = begin + np.cumsum(steps)
        times = times[times < end]
        hours = np.array([self.local(int(t)).hour for t in times[::360]]).repeat(360)[: times.size]
        bpm = 62 + 14 * np.sin((hours - 4) / 24 * 2 * np.pi - np.pi / 2) + self.nprng.normal(0, 4, times.size)
        bpm = np.round(np.clip(bpm, 40, 180)).astype(int)
        bad = self.nprng.random(times.size) < 0.0005
        bpm[bad] = 255  # a sensor glitch Fitbit has been seen to write
        self.truth.rejected["heart_rate"] += int(bad.sum())
        self.truth.samples["heart_rate"] += int(times.size - bad.sum())
        return times, bpm

    def heart_rate_json(self, day: dt.date) -> None:
        times, bpm = self._series(day)
        parts = []
        for t, value in zip(times.tolist(), bpm.tolist(), strict=True):
            stamp = self.local(t).strftime("%m/%d/%y %H:%M:%S")
            parts.append(
                f'{{\n  "dateTime" : "{stamp}",\n  "value" : {{\n    "bpm" : {value},'
                f'\n    "confidence" : {self.rng.randint(0, 3)}\n  }}\n}}'
            )
        self._known("heart_rate", times, bpm)
        self.put(f"Global Export Data/heart_rate-{day.isoformat()}.json", "[" + ",".join(parts) + "]")

    def heart_rate_google(self, days: list[dt.date]) -> None:
        # Google Health files are split at UTC midnight, whatever the account zone.
        by_utc_day: dict[str, list[str]] = {}
        for day in days:
            times, bpm = self._series(day)
            self._known("heart_rate", times, bpm)
            for t, value in zip(times.tolist(), bpm.tolist(), strict=True):
                moment = EPOCH + dt.timedelta(microseconds=t)
                by_utc_day.setdefault(moment.date().isoformat(), []).append(
                    f"{moment.strftime('%Y-%m-%dT%H:%M:%S')}Z,{value}\n"
                )
        for name, rows in by_utc_day.items():
            self.put(
                f"Physical Activity_GoogleData/heart_rate_{name}.csv",
                "timestamp,beats per minute\n" + "".join(rows),
            )

    def _known(self, metric: str, times: np.ndarray, values: np.ndarray) -> None:
        for index in (0, times.size // 2):
            if values[index] != 255 and len(self.truth.known) < 40:
                self.truth.known.append((metric, int(times[index]), float(values[index])))

    # -- daily JSON files ----------------------------------------------------------------

    def resting(self, chunk: list[dt.date]) -> None:
        records = []
        for day in chunk:
            stamp = day.strftime("%m/%d/%y")
            if self.rng.random() < 0.1:
                records.append(
                    {"dateTime": f"{stamp} 00:00:00", "value": {"date": None, "value": 0.0, "error": 0.0}}
                )
                self.truth.rejected["resting_heart_rate"] += 1
                continue
            value = round(self.rng.uniform(48, 60), 2)
            records.append(
                {
                    "dateTime": f"{stamp} 00:00:00",
                    "value": {"date": stamp, "value": value, "error": round(self.rng.uniform(5, 8), 2)},
                }
            )
            self.truth.samples["resting_heart_rate"] += 1
            noon = _us(dt.datetime.combine(day, dt.time(12), tzinfo=self.zone))
            self.truth.known.append(("resting_heart_rate", noon, value))
        self.put(
            f"Global Export Data/resting_heart_rate-{chunk[0].isoformat()}.json",
            json.dumps(records, indent=2),
        )

    def sleep(self, chunk: list[dt.date]) -> None:
        logs = []
        for day in chunk:
            bed = dt.datetime.combine(day, dt.time(22, 40), tzinfo=self.zone) + dt.timedelta(
                minutes=self.rng.randint(0, 90), seconds=30
            )
            bed_us = _us(bed)
            stages, clock = [], bed_us
            while clock < bed_us + 7 * 3600 * 1_000_000:
                level = self.rng.choice(["light", "light", "deep", "rem", "wake"])
                seconds = self.rng.choice([30, 60, 90]) * self.rng.randint(2, 40)
                stages.append(
                    {
                        "dateTime": self.local(clock).strftime("%Y-%m-%dT%H:%M:%S.000"),
                        "level": level,
                        "seconds": seconds,
                    }
                )
                self.truth.episodes[
                    {"light": "asleep_core", "deep": "asleep_deep", "rem": "asleep_rem", "wake": "awake"}[
                        level
                    ]
                ] += 1
                clock += seconds * 1_000_000
            self.truth.episodes["in_bed"] += 1
            short = [{"dateTime": stages[1]["dateTime"], "level": "wake", "seconds": 60}]
            logs.append(
                {
                    "logId": 40000000000 + self.rng.randint(0, 10**9),
                    "dateOfSleep": (day + dt.timedelta(days=1)).isoformat(),
                    "startTime": self.local(bed_us).strftime("%Y-%m-%dT%H:%M:%S.000"),
                    "endTime": self.local(clock).strftime("%Y-%m-%dT%H:%M:%S.000"),
                    "duration": (clock - bed_us) // 1000,
                    "minutesToFallAsleep": 0,
                    "minutesAsleep": 400,
                    "minutesAwake": 40,
                    "timeInBed": 440,
                    "efficiency": 93,
                    "type": "stages",
                    "infoCode": 0,
                    "mainSleep": True,
                    "levels": {"summary": {}, "data": stages, "shortData": short},
                }
            )
        self.put(f"Global Export Data/sleep-{chunk[0].isoformat()}.json", json.dumps(logs, indent=2))

    def steps(self, day: dt.date) -> None:
        self.put(
            f"Global Export Data/steps-{day.isoformat()}.json",
            json.dumps([{"dateTime": day.strftime("%m/%d/%y 08:00:00"), "value": "42"}]),
        )
        self.truth.skipped_files += 1

    # -- CSV sections --------------------------------------------------------------------

    def hrv(self, all_days: list[dt.date]) -> None:
        summaries: dict[str, list[str]] = {}
        for index, day in enumerate(all_days):
            night = day + dt.timedelta(days=1)
            with_details = index % 3 != 2
            rows = []
            if with_details:
                start = _us(dt.datetime.combine(day, dt.time(23, 30), tzinfo=self.zone))
                for k in range(84):  # 7 hours of 5-minute values
                    t = start + k * 300 * 1_000_000
                    rmssd = round(self.rng.uniform(20, 70), 3)
                    stamp = self.local(t).strftime("%Y-%m-%dT%H:%M:%S")
                    rows.append(
                        f"{stamp},{rmssd},{round(self.rng.uniform(0.6, 1), 3)},"
                        f"{round(self.rng.uniform(200, 900), 3)},"
                        f"{round(self.rng.uniform(100, 700), 3)}\n"
                    )
                    self.truth.samples["hrv_rmssd"] += 1
                    if k == 10:
                        self.truth.known.append(("hrv_rmssd", t, rmssd))
                self.put(
                    f"Heart Rate Variability/Heart Rate Variability Details - {night.isoformat()}.csv",
                    "timestamp,rmssd,coverage,low_frequency,high_frequency\n" + "".join(rows),
                )
            rmssd = round(self.rng.uniform(25, 60), 3)
            summaries.setdefault(f"{night:%Y-%m}", []).append(
                f"{night.isoformat()}T00:00:00,{rmssd},{round(self.rng.uniform(50, 60), 3)},"
                f"{round(self.rng.uniform(2, 3), 3)}\n"
            )
            if not with_details:
                self.truth.samples["hrv_rmssd"] += 1
                midnight = _us(dt.datetime.combine(night, dt.time(), tzinfo=self.zone))
                self.truth.known.append(("hrv_rmssd", midnight, rmssd))
        for month, rows in summaries.items():
            first = rows[0][8:10]
            self.put(
                f"Heart Rate Variability/Daily Heart Rate Variability Summary - {month}-({first}).csv",
                "timestamp,rmssd,nremhr,entropy\n" + "".join(rows),
            )

    def stress(self, all_days: list[dt.date]) -> None:
        rows = []
        for day in all_days:
            if self.rng.random() < 0.15:
                rows.append(
                    f"{day.isoformat()}T00:00:00,{day.isoformat()}T09:12:44.113,0,0,30,0,30,0,40,READY,true\n"
                )
                self.truth.rejected["vendor_stress"] += 1
                continue
            score = self.rng.randint(55, 95)
            rows.append(
                f"{day.isoformat()}T00:00:00,{day.isoformat()}T09:12:44.113,{score},"
                f"25,30,20,30,30,40,READY,false\n"
            )
            self.truth.samples["vendor_stress"] += 1
            noon = _us(dt.datetime.combine(day, dt.time(12), tzinfo=self.zone))
            self.truth.known.append(("vendor_stress", noon, float(score)))
        self.put(
            "Stress Score/Stress Score.csv",
            "DATE,UPDATED_AT,STRESS_SCORE,SLEEP_POINTS,MAX_SLEEP_POINTS,"
            "RESPONSIVENESS_POINTS,MAX_RESPONSIVENESS_POINTS,EXERTION_POINTS,"
            "MAX_EXERTION_POINTS,STATUS,CALCULATION_FAILED\n" + "".join(rows),
        )

    def readiness(self, all_days: list[dt.date]) -> None:
        rows = []
        for day in all_days:
            score = self.rng.randint(40, 95)
            rows.append(
                f"{day.isoformat()},{score},{self.rng.choice(['LOW', 'MODERATE', 'HIGH'])}"
                f",{self.rng.randint(50, 100)},{self.rng.randint(50, 100)}\n"
            )
            self.truth.samples["vendor_readiness"] += 1
            noon = _us(dt.datetime.combine(day, dt.time(12), tzinfo=self.zone))
            self.truth.known.append(("vendor_readiness", noon, float(score)))
        self.put(
            "Health Fitness Data_GoogleData/daily_readiness.csv",
            "date,readiness score,readiness state,sleep subcomponent,hrv subcomponent\n" + "".join(rows),
        )
