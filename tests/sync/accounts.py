"""Scripted fake vendor accounts: the records a vendor holds, and the rows they must become.

The expected rows are written out from the scenario itself (times and values chosen
here), not computed by the mapping code under test.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

Row = tuple[str, dt.datetime, float]  # metric, instant, value
EpisodeRow = tuple[str, dt.datetime, dt.datetime]  # stage (or "mindful"), start, end


@dataclass
class Account:
    records: dict[str, list[dict]]
    rows: set[Row] = field(default_factory=set)
    episodes: set[EpisodeRow] = field(default_factory=set)


def _iso(moment: dt.datetime, offset_h: int = 2) -> str:
    return moment.astimezone(dt.timezone(dt.timedelta(hours=offset_h))).isoformat()


def oura(today: dt.date, days: int = 5) -> Account:
    """``days`` nights of an Oura ring, ending last night."""
    account = Account({"heartrate": [], "sleep": [], "daily_readiness": [], "session": []})
    for back in range(days, 0, -1):
        day = today - dt.timedelta(days=back)
        noon = dt.datetime.combine(day, dt.time(10), dt.UTC)  # 12:00 at +02:00
        for hour in range(3):
            moment = noon + dt.timedelta(hours=hour)
            bpm = 60 + back + hour
            account.records["heartrate"].append({"bpm": bpm, "source": "awake", "timestamp": _iso(moment)})
            account.rows.add(("heart_rate", moment, float(bpm)))
        bed = dt.datetime.combine(day, dt.time(21), dt.UTC)  # 23:00 at +02:00
        wake = bed + dt.timedelta(hours=8)
        account.records["sleep"].append(
            {
                "id": f"sleep-{day}",
                "day": (day + dt.timedelta(days=1)).isoformat(),
                "type": "long_sleep",
                "bedtime_start": _iso(bed),
                "bedtime_end": _iso(wake),
                "average_hrv": 45,
                "lowest_heart_rate": 48 + back,
                "hrv": {"interval": 300, "items": [40 + back, None, 42 + back], "timestamp": _iso(bed)},
                "heart_rate": {"interval": 300, "items": [55, 54], "timestamp": _iso(bed)},
                "sleep_phase_5_min": "4112",
            }
        )
        five = dt.timedelta(minutes=5)
        account.rows |= {
            ("hrv_rmssd", bed, 40.0 + back),
            ("hrv_rmssd", bed + 2 * five, 42.0 + back),
            ("heart_rate", bed, 55.0),
            ("heart_rate", bed + five, 54.0),
            ("resting_heart_rate", wake, 48.0 + back),
        }
        account.episodes |= {
            ("in_bed", bed, wake),
            ("awake", bed, bed + five),
            ("asleep_deep", bed + five, bed + 3 * five),
            ("asleep_core", bed + 3 * five, bed + 4 * five),
        }
        ready_day = day + dt.timedelta(days=1)
        account.records["daily_readiness"].append(
            {
                "id": f"ready-{ready_day}",
                "day": ready_day.isoformat(),
                "score": 70 + back,
                "timestamp": f"{ready_day.isoformat()}T00:00:00+02:00",
                "contributors": {"hrv_balance": 80},
                "temperature_deviation": 0.1,
            }
        )
        account.rows.add(
            ("vendor_readiness", dt.datetime.combine(ready_day, dt.time(10), dt.UTC), 70.0 + back)
        )
    start = dt.datetime.combine(today - dt.timedelta(days=2), dt.time(15), dt.UTC)
    end = start + dt.timedelta(minutes=10)
    account.records["session"].append(
        {
            "id": "session-1",
            "day": (today - dt.timedelta(days=2)).isoformat(),
            "type": "meditation",
            "start_datetime": _iso(start),
            "end_datetime": _iso(end),
            "heart_rate": {"interval": 5, "items": [66, 65, 64], "timestamp": _iso(start)},
            "heart_rate_variability": None,
            "mood": "good",
        }
    )
    account.rows |= {
        ("heart_rate", start, 66.0),
        ("heart_rate", start + dt.timedelta(seconds=5), 65.0),
        ("heart_rate", start + dt.timedelta(seconds=10), 64.0),
    }
    account.episodes.add(("mindful", start, end))
    return account


def whoop(today: dt.date, days: int = 4) -> Account:
    """``days`` nights of a WHOOP strap, each scored but the last, and one nap."""
    account = Account({"sleep": [], "recovery": []})
    for back in range(days, 0, -1):
        day = today - dt.timedelta(days=back)
        start = dt.datetime.combine(day, dt.time(22), dt.UTC)
        end = start + dt.timedelta(hours=7, minutes=30)
        sleep_id = f"6f0c5a2e-0000-4000-8000-00000000000{back}"
        account.records["sleep"].append(
            {
                "id": sleep_id,
                "cycle_id": 1000 + back,
                "user_id": 10129,
                "start": _iso(start, -5),
                "end": _iso(end, -5),
                "timezone_offset": "-05:00",
                "nap": False,
                "score_state": "SCORED",
                "score": {"respiratory_rate": 15.5 + back / 10, "sleep_performance_percentage": 90},
            }
        )
        account.rows.add(("respiratory_rate", end, 15.5 + back / 10))
        account.episodes.add(("in_bed", start, end))
        scored = back > 1
        account.records["recovery"].append(
            {
                "cycle_id": 1000 + back,
                "sleep_id": sleep_id,
                "user_id": 10129,
                "created_at": _iso(end + dt.timedelta(minutes=20), 0),
                "updated_at": _iso(end + dt.timedelta(minutes=20), 0),
                "score_state": "SCORED" if scored else "PENDING_SCORE",
                "score": {
                    "user_calibrating": False,
                    "recovery_score": 50 + back,
                    "resting_heart_rate": 50 + back,
                    "hrv_rmssd_milli": 60.5 + back,
                    "spo2_percentage": 96.0,
                    "skin_temp_celsius": 33.7,
                }
                if scored
                else None,
            }
        )
        if scored:
            account.rows |= {
                ("vendor_recovery", end, 50.0 + back),
                ("resting_heart_rate", end, 50.0 + back),
                ("hrv_rmssd", end, 60.5 + back),
                ("spo2", end, 96.0),
            }
    nap_start = dt.datetime.combine(today - dt.timedelta(days=2), dt.time(18), dt.UTC)
    nap_end = nap_start + dt.timedelta(minutes=40)
    account.records["sleep"].append(
        {
            "id": "6f0c5a2e-0000-4000-8000-0000000000aa",
            "cycle_id": 1002,
            "user_id": 10129,
            "start": _iso(nap_start, -5),
            "end": _iso(nap_end, -5),
            "timezone_offset": "-05:00",
            "nap": True,
            "score_state": "SCORED",
            "score": {"respiratory_rate": 14.0},
        }
    )
    account.episodes.add(("in_bed", nap_start, nap_end))
    return account


def fitbit(today: dt.date, zone: str = "Europe/Berlin", days: int = 3) -> Account:
    """``days`` days of a Fitbit tracker for a person living in ``zone``."""
    local = ZoneInfo(zone)
    account = Account({"intraday": {}, "heart_daily": [], "hrv": [], "sleep": []})
    for back in range(days, 0, -1):
        day = today - dt.timedelta(days=back)
        points = []
        for minute in range(4):
            moment = dt.datetime.combine(day, dt.time(8, minute), dt.UTC)
            points.append({"time": f"08:0{minute}:00", "value": 70 + minute + back})
            account.rows.add(("heart_rate", moment, float(70 + minute + back)))
        account.records["intraday"][day.isoformat()] = points
        noon = dt.datetime.combine(day, dt.time(12), local).astimezone(dt.UTC)
        resting = {"restingHeartRate": 55 + back} if back != 2 else {}  # a day without one
        account.records["heart_daily"].append({"dateTime": day.isoformat(), "value": resting})
        if resting:
            account.rows.add(("resting_heart_rate", noon, 55.0 + back))
        account.records["hrv"].append(
            {"dateTime": day.isoformat(), "value": {"dailyRmssd": 30.5 + back, "deepRmssd": 28.0}}
        )
        account.rows.add(("hrv_rmssd", noon, 30.5 + back))
        bed = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(23), local)
        wake = dt.datetime.combine(day, dt.time(7), local)
        fmt = "%Y-%m-%dT%H:%M:%S.000"
        levels = [("wake", 60), ("light", 1800), ("deep", 1200), ("rem", 900)]
        data, at = [], bed
        for level, seconds in levels:
            data.append({"dateTime": at.strftime(fmt), "level": level, "seconds": seconds})
            stage = {"wake": "awake", "light": "asleep_core", "deep": "asleep_deep", "rem": "asleep_rem"}[
                level
            ]
            account.episodes.add(
                (stage, at.astimezone(dt.UTC), (at + dt.timedelta(seconds=seconds)).astimezone(dt.UTC))
            )
            at += dt.timedelta(seconds=seconds)
        account.records["sleep"].append(
            {
                "logId": 1000 + back,
                "dateOfSleep": day.isoformat(),
                "isMainSleep": True,
                "type": "stages",
                "startTime": bed.strftime(fmt),
                "endTime": wake.strftime(fmt),
                "levels": {"data": data},
            }
        )
        account.episodes.add(("in_bed", bed.astimezone(dt.UTC), wake.astimezone(dt.UTC)))
    return account
