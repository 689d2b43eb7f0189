"""Synthetic Samsung Health personal-data exports (the CSV + ``jsons/`` layout).

Writes ``samsunghealth_tester_<stamp>/`` (a folder, or a zip when ``dest`` ends
in ``.zip``) with:

* ``com.samsung.shealth.tracker.heart_rate.<stamp>.csv``: metadata line, a
  header of ``com.samsung.health.heart_rate.*`` names in Samsung's column
  order, rows ending with a trailing comma. The watch writes a row per
  10 minutes, most with a ``binning_data`` file of per-minute means; the phone
  writes a few spot measurements a day without binning.
* ``com.samsung.shealth.stress.<stamp>.csv`` (unprefixed names), every 30
  minutes, half with binning.
* ``com.samsung.health.device_profile.<stamp>.csv`` naming both devices.
* ``com.samsung.shealth.tracker.pedometer_step_count.<stamp>.csv`` (skipped).
* ``jsons/<data type>/<first character of the uuid>/<file>`` binning files.

``start_time`` is UTC and ``time_offset`` the zone's offset at that instant
(``UTC+0100``), so a daylight-saving change shows as a change of offset. A few
rows carry an impossible offset or date on purpose.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
import zipfile
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
STAMP = "20241101120000"
WATCH = ("Wt4XkQ9sLm", "Galaxy Watch6", "SM-R940", "360003")
PHONE = ("Ph0nE7aB2c", "Galaxy S23", "SM-S911B", "360001")
APP = "com.sec.android.app.shealth"
HR_PREFIX = "com.samsung.health.heart_rate."
HR_COLUMNS = (
    "create_sh_ver",
    "start_time",
    "custom",
    "binning_data",
    "modify_sh_ver",
    "update_time",
    "source",
    "tag_id",
    "create_time",
    "max",
    "min",
    "deviceuuid",
    "comment",
    "pkg_name",
    "end_time",
    "time_offset",
    "datauuid",
    "heart_rate",
    "heart_beat_count",
)
STRESS_COLUMNS = (
    "create_sh_ver",
    "start_time",
    "custom",
    "binning_data",
    "tag_id",
    "create_time",
    "max",
    "min",
    "score",
    "algorithm",
    "deviceuuid",
    "comment",
    "pkg_name",
    "end_time",
    "time_offset",
    "datauuid",
    "update_time",
)


@dataclass
class SamsungTruth:
    samples: Counter[str] = field(default_factory=Counter)
    by_source: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    binned_rows: int = 0
    known: list[tuple[str, int, float, str]] = field(default_factory=list)  # metric, µs, value, key
    bytes_written: int = 0
    root: str = f"samsunghealth_tester_{STAMP}"


def _us(moment: dt.datetime) -> int:
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _offset_text(moment: dt.datetime, zone: ZoneInfo) -> str:
    offset = int(moment.astimezone(zone).utcoffset().total_seconds())  # type: ignore[union-attr]
    sign = "-" if offset < 0 else "+"
    hours, minutes = divmod(abs(offset) // 60, 60)
    return f"UTC{sign}{hours:02d}{minutes:02d}"


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def write_samsung_export(
    dest: Path,
    *,
    days: int = 2,
    seed: int = 0,
    start: dt.date = dt.date(2024, 3, 30),
    zone: str = "Europe/Berlin",
    quirks: bool = True,
) -> SamsungTruth:
    truth = SamsungTruth()
    rng = random.Random(seed)
    tz = ZoneInfo(zone)
    with ExitStack() as stack:
        archive = None
        if dest.suffix == ".zip":
            archive = stack.enter_context(zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=1))

        def put(name: str, data: bytes) -> None:
            truth.bytes_written += len(data)
            full = f"{truth.root}/{name}"
            if archive is not None:
                archive.writestr(full, data)
            else:
                target = dest / full
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)

        begin = dt.datetime.combine(start, dt.time(), tzinfo=tz).astimezone(dt.UTC)
        hr_rows = _heart_rate(rng, tz, begin, days, truth, put, quirks)
        put(
            f"com.samsung.shealth.tracker.heart_rate.{STAMP}.csv",
            _csv("com.samsung.shealth.tracker.heart_rate", [HR_PREFIX + c for c in HR_COLUMNS], hr_rows),
        )
        stress_rows = _stress(rng, tz, begin, days, truth, put)
        put(
            f"com.samsung.shealth.stress.{STAMP}.csv",
            _csv("com.samsung.shealth.stress", list(STRESS_COLUMNS), stress_rows),
        )
        put(
            f"com.samsung.health.device_profile.{STAMP}.csv",
            _csv(
                "com.samsung.health.device_profile",
                ["deviceuuid", "name", "model", "device_group", "manufacturer", "datauuid"],
                [
                    [d[0], d[1], d[2], d[3], "Samsung", str(uuid.UUID(int=rng.getrandbits(128)))]
                    for d in (WATCH, PHONE)
                ],
            ),
        )
        put(
            f"com.samsung.shealth.tracker.pedometer_step_count.{STAMP}.csv",
            _csv(
                "com.samsung.shealth.tracker.pedometer_step_count",
                ["com.samsung.health.step_count.start_time", "com.samsung.health.step_count.count"],
                [["2024-03-30 08:00:00.000", "120"]],
            ),
        )
    return truth


def _csv(kind: str, columns: list[str], rows: list[list[str]]) -> bytes:
    lines = [f"{kind},6315003,{len(columns)}", ",".join(columns) + ","]
    lines += [",".join(row) + "," for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _heart_rate(
    rng: random.Random, tz: ZoneInfo, begin: dt.datetime, days: int, truth: SamsungTruth, put, quirks: bool
) -> list[list[str]]:
    rows = []
    watch_key = f"samsung_health:{APP}:{WATCH[0]}"
    phone_key = f"samsung_health:{APP}:{PHONE[0]}"
    for k in range(days * 144):
        moment = begin + dt.timedelta(minutes=10 * k)
        data_id = str(uuid.UUID(int=rng.getrandbits(128)))
        minute_means = [round(rng.uniform(55, 85), 1) for _ in range(10)]
        mean = round(sum(minute_means) / 10, 1)
        binning = ""
        if rng.random() < 0.7:
            binning = f"{data_id}.com.samsung.health.heart_rate.binning_data.json"
            items = [
                {
                    "heart_rate": v,
                    "heart_rate_min": v - 3,
                    "heart_rate_max": v + 4,
                    "start_time": _us(moment + dt.timedelta(minutes=i)) // 1000,
                    "end_time": _us(moment + dt.timedelta(minutes=i + 1)) // 1000 - 1,
                }
                for i, v in enumerate(minute_means)
            ]
            put(
                f"jsons/com.samsung.shealth.tracker.heart_rate/{data_id[0]}/{binning}",
                json.dumps(items).encode(),
            )
            truth.samples["heart_rate"] += 10
            truth.by_source[watch_key] += 10
            truth.binned_rows += 1
            if k % 37 == 0:
                truth.known.append(
                    ("heart_rate", _us(moment + dt.timedelta(minutes=3)), minute_means[3], watch_key)
                )
        else:
            truth.samples["heart_rate"] += 1
            truth.by_source[watch_key] += 1
            if k % 7 == 0:
                truth.known.append(("heart_rate", _us(moment), mean, watch_key))
        end = moment + dt.timedelta(minutes=10) - dt.timedelta(milliseconds=1)
        rows.append(_hr_row(moment, end, tz, binning, WATCH[0], data_id, mean))
    for day in range(days):  # phone spot checks, no binning
        for hour in (9, 14, 20):
            moment = begin + dt.timedelta(days=day, hours=hour, seconds=rng.randint(0, 3000))
            moment = moment.replace(microsecond=rng.randint(0, 999) * 1000)
            value = float(rng.randint(60, 95))
            rows.append(
                _hr_row(
                    moment,
                    moment + dt.timedelta(seconds=40),
                    tz,
                    "",
                    PHONE[0],
                    str(uuid.UUID(int=rng.getrandbits(128))),
                    value,
                )
            )
            truth.samples["heart_rate"] += 1
            truth.by_source[phone_key] += 1
            truth.known.append(("heart_rate", _us(moment), value, phone_key))
    if quirks:
        moment = begin + dt.timedelta(hours=5, minutes=5)
        bad_offset = _hr_row(moment, moment, tz, "", WATCH[0], "bad-offset", 70.0)
        bad_offset[HR_COLUMNS.index("time_offset")] = "UTC+2500"
        bad_date = _hr_row(moment, moment, tz, "", WATCH[0], "bad-date", 71.0)
        bad_date[HR_COLUMNS.index("start_time")] = "2024-02-30 05:05:00.000"
        rows[3:3] = [bad_offset, bad_date]
        truth.rejected["offset"] += 1
        truth.rejected["date"] += 1
    return rows


def _hr_row(
    start: dt.datetime, end: dt.datetime, tz: ZoneInfo, binning: str, device: str, data_id: str, mean: float
) -> list[str]:
    values = {
        "create_sh_ver": "6315003",
        "start_time": _stamp(start),
        "custom": "",
        "binning_data": binning,
        "modify_sh_ver": "",
        "update_time": _stamp(end),
        "source": "0",
        "tag_id": "21313",
        "create_time": _stamp(end),
        "max": f"{mean + 9}",
        "min": f"{mean - 8}",
        "deviceuuid": device,
        "comment": "",
        "pkg_name": APP,
        "end_time": _stamp(end),
        "time_offset": _offset_text(start, tz),
        "datauuid": data_id,
        "heart_rate": f"{mean}",
        "heart_beat_count": "1",
    }
    return [values[c] for c in HR_COLUMNS]


def _stress(
    rng: random.Random, tz: ZoneInfo, begin: dt.datetime, days: int, truth: SamsungTruth, put
) -> list[list[str]]:
    rows = []
    key = f"samsung_health:{APP}:{WATCH[0]}"
    for k in range(days * 48):
        moment = begin + dt.timedelta(minutes=30 * k)
        data_id = str(uuid.UUID(int=rng.getrandbits(128)))
        score = float(rng.randint(5, 80))
        binning = ""
        if k % 2:
            binning = f"{data_id}.binning_data.json"
            items = [
                {
                    "score": score + i,
                    "score_min": score,
                    "score_max": score + 9,
                    "level": 1,
                    "start_time": _us(moment + dt.timedelta(minutes=i)) // 1000,
                    "end_time": _us(moment + dt.timedelta(minutes=i + 1)) // 1000 - 1,
                }
                for i in range(5)
            ]
            put(f"jsons/com.samsung.shealth.stress/{data_id[0]}/{binning}", json.dumps(items).encode())
            truth.samples["vendor_stress"] += 5
        else:
            truth.samples["vendor_stress"] += 1
            truth.known.append(("vendor_stress", _us(moment), score, key))
        end = moment + dt.timedelta(minutes=5)
        values = {
            "create_sh_ver": "6315003",
            "start_time": _stamp(moment),
            "custom": "",
            "binning_data": binning,
            "tag_id": "",
            "create_time": _stamp(end),
            "max": f"{score + 9}",
            "min": f"{score}",
            "score": f"{score}",
            "algorithm": "1",
            "deviceuuid": WATCH[0],
            "comment": "",
            "pkg_name": APP,
            "end_time": _stamp(end),
            "time_offset": _offset_text(moment, tz),
            "datauuid": data_id,
            "update_time": _stamp(end),
        }
        rows.append([values[c] for c in STRESS_COLUMNS])
    return rows
