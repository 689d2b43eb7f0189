"""HRV windows and daily recovery through the API, on data imported through the real path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from service.core.db.rls import system_connection
from signal_processing.synthetic import simulate_rr
from tests.support.people import bearer, import_file, new_person, patient_token

T0 = dt.datetime(2024, 5, 4, 7, 0, tzinfo=dt.UTC)


def _rr_csv(path: Path, start: dt.datetime, rr_ms: np.ndarray) -> Path:
    ends = start + np.cumsum(rr_ms) * dt.timedelta(milliseconds=1)
    path.write_text(
        "time,rr_ms\n" + "".join(f"{t.isoformat()},{v:.3f}\n" for t, v in zip(ends, rr_ms, strict=True))
    )
    return path


@pytest.fixture
def person(pool):
    person_id = new_person(pool, "Analysis")
    return person_id, bearer(patient_token(pool, person_id))


@pytest.fixture
def load(pool, person):
    return lambda path: import_file(pool, person[0], path)


def test_alternating_series_gives_exact_time_domain_values_through_the_api(client, person, load, tmp_path):
    person_id, headers = person
    rr = np.tile([800.0, 900.0], 200)  # 400 beats, 340 s
    load(_rr_csv(tmp_path / "alt.csv", T0, rr))
    body = client.get(
        f"/v1/persons/{person_id}/hrv",
        headers=headers,
        params={"from": T0.isoformat(), "to": (T0 + dt.timedelta(seconds=300)).isoformat()},
    ).json()
    [window] = body["windows"]
    assert window["data_kind"] == "beat_to_beat" and window["status"] in ("ok", "partial")
    assert window["hrv"]["rmssd"] == pytest.approx(100.0)
    assert window["hrv"]["mean_rr"] == pytest.approx(850.0, abs=0.5)
    assert window["hrv"]["ln_rmssd"] == pytest.approx(np.log(100.0))
    assert window["quality"]["artifact_share"] == 0.0
    assert window["source"]["name"] == "RR CSV" and window["algorithm_version"]


def test_windows_label_heart_rate_only_and_no_data_without_numbers(client, person, load, tmp_path):
    person_id, headers = person
    rr = np.full(700, 857.0)
    load(_rr_csv(tmp_path / "rr.csv", T0, rr))
    hr = tmp_path / "hr.csv"
    times = [T0 + dt.timedelta(minutes=10, seconds=5 * i) for i in range(120)]
    hr.write_text("timestamp,bpm\n" + "".join(f"{t.isoformat()},{62 + i % 3}\n" for i, t in enumerate(times)))
    load(hr)
    body = client.get(
        f"/v1/persons/{person_id}/hrv",
        headers=headers,
        params={"from": T0.isoformat(), "to": (T0 + dt.timedelta(minutes=25)).isoformat(), "window": 300},
    ).json()
    kinds = [(w["data_kind"], w["status"]) for w in body["windows"]]
    assert kinds[0] == ("beat_to_beat", "ok") or kinds[0][0] == "beat_to_beat"
    hr_only = body["windows"][2]  # 10-15 min: heart rate, no beats
    assert (hr_only["data_kind"], hr_only["status"]) == ("heart_rate_only", "limited")
    assert hr_only["hrv"] is None and "heart_rate_only" in hr_only["reasons"]
    assert hr_only["heart_rate"]["mean_hr"] == pytest.approx(63, abs=1)
    empty = body["windows"][4]  # 20-25 min: nothing
    assert empty["status"] == "insufficient" and empty["reasons"] == ["no_data"]
    assert empty["hrv"] is None and empty["heart_rate"] is None


def test_low_coverage_window_is_insufficient_with_the_reason(client, person, load, tmp_path):
    person_id, headers = person
    load(_rr_csv(tmp_path / "short.csv", T0, np.full(120, 900.0)))
    body = client.get(
        f"/v1/persons/{person_id}/hrv",
        headers=headers,
        params={"from": T0.isoformat(), "to": (T0 + dt.timedelta(seconds=300)).isoformat()},
    ).json()
    [window] = body["windows"]
    assert window["status"] == "insufficient" and "low_coverage" in window["reasons"]
    assert window["hrv"] is None and window["indices"] is None


def test_chest_strap_wins_over_a_generic_source_unless_overridden(client, person, load, tmp_path, pool):
    person_id, headers = person
    load(_rr_csv(tmp_path / "generic.csv", T0, np.full(400, 1000.0)))
    polar = tmp_path / "polar.txt"
    lines = ["Phone timestamp;RR-interval [ms]"]
    beat = T0.astimezone(ZoneInfo("Europe/Berlin")).replace(tzinfo=None)
    for _ in range(400):
        beat += dt.timedelta(milliseconds=800)
        lines.append(f"{(beat + dt.timedelta(milliseconds=30)).isoformat(timespec='milliseconds')};800")
    polar.write_text("\n".join(lines) + "\n")
    load(polar)
    params = {"from": T0.isoformat(), "to": (T0 + dt.timedelta(seconds=300)).isoformat()}
    chosen = client.get(f"/v1/persons/{person_id}/hrv", headers=headers, params=params).json()
    assert chosen["windows"][0]["source"]["kind"] == "chest_strap"
    assert chosen["windows"][0]["hrv"]["mean_rr"] == pytest.approx(800, abs=1)
    with system_connection(pool) as conn:
        conn.execute("UPDATE source SET priority = -1 WHERE person_id = %s AND name = 'RR CSV'", (person_id,))
    chosen = client.get(f"/v1/persons/{person_id}/hrv", headers=headers, params=params).json()
    assert chosen["windows"][0]["source"]["name"] == "RR CSV"


def test_recovery_from_morning_windows_against_the_baseline(client, person, load, tmp_path):
    person_id, headers = person
    tz = ZoneInfo("Europe/Berlin")
    rng = np.random.default_rng(5)
    first = dt.date(2024, 3, 1)
    rows = ["time,rr_ms"]
    for k in range(30):
        day = first + dt.timedelta(days=k)
        scale = 1.0 if k < 29 else 0.15  # the last morning: far less variability
        rr = simulate_rr(
            n_beats=400,
            mean_ms=1000.0 + rng.normal(0, 5),
            lf_amplitude_ms=30 * scale,
            hf_amplitude_ms=25 * scale,
            noise_ms=6 * scale,
            seed=k,
        )
        start = dt.datetime.combine(day, dt.time(6, 0), tzinfo=tz)
        ends = start + np.cumsum(rr) * dt.timedelta(milliseconds=1)
        rows += [f"{t.isoformat()},{v:.2f}" for t, v in zip(ends, rr, strict=True)]
    path = tmp_path / "mornings.csv"
    path.write_text("\n".join(rows) + "\n")
    load(path)
    response = client.get(
        f"/v1/persons/{person_id}/recovery",
        headers=headers,
        params={"from": "2024-03-01", "to": "2024-03-30"},
    )
    assert response.status_code == 200, response.text
    days = response.json()["days"]
    assert [d["measured_from"] for d in days] == ["morning_window"] * 30, [
        (d["date"], d["measured_from"]) for d in days
    ]
    assert days[0]["status"] == "insufficient_data"  # no history yet
    assert days[20]["status"] == "within"
    assert days[-1]["status"] == "below"
    last = days[-1]["ln_rmssd"]
    assert last["value"] < last["normal_low"] and last["swc"] > 0


def test_analysis_range_limits_are_problems(client, person):
    person_id, headers = person
    too_long = client.get(
        f"/v1/persons/{person_id}/hrv",
        headers=headers,
        params={"from": "2024-01-01T00:00:00Z", "to": "2024-03-01T00:00:00Z"},
    )
    assert too_long.status_code == 422
    assert too_long.headers["content-type"] == "application/problem+json"
    # A time without an offset is read in the person's zone (Europe/Berlin), so one that the
    # clocks skip names no instant.
    skipped = client.get(
        f"/v1/persons/{person_id}/hrv",
        headers=headers,
        params={"from": "2024-03-31T02:30:00", "to": "2024-03-31T04:00:00"},
    )
    assert skipped.status_code == 422 and "from" in skipped.text


def test_device_hrv_only_window_is_labelled_and_named(client, person, pool):
    from service.core.db.rls import system_connection

    person_id, headers = person
    with system_connection(pool) as conn:
        source = conn.execute(
            "INSERT INTO source (person_id, key, name, kind) VALUES "
            "(%s, 'garmin', 'Garmin watch', 'watch') RETURNING id",
            (person_id,),
        ).fetchone()["id"]
        conn.execute(
            "INSERT INTO observation (person_id, metric, source_id, ts, value) VALUES "
            "(%s, 'hrv_rmssd', %s, %s, 42.0), (%s, 'hrv_rmssd', %s, %s, 46.0)",
            (
                person_id,
                source,
                T0 + dt.timedelta(minutes=1),
                person_id,
                source,
                T0 + dt.timedelta(minutes=3),
            ),
        )
    [window] = client.get(
        f"/v1/persons/{person_id}/hrv",
        headers=headers,
        params={"from": T0.isoformat(), "to": (T0 + dt.timedelta(minutes=5)).isoformat()},
    ).json()["windows"]
    assert (window["data_kind"], window["status"]) == ("device_hrv", "limited")
    assert window["device_hrv"]["rmssd"] == pytest.approx(44.0)
    assert window["device_hrv"]["sdnn"] is None and window["hrv"] is None
    assert window["source"]["name"] == "Garmin watch"


def test_hrv_reads_a_time_without_offset_in_the_persons_zone(client, person, load, tmp_path):
    """As on /sessions and /observations: 09:00 without an offset is 09:00 in Berlin."""
    person_id, headers = person
    load(_rr_csv(tmp_path / "alt.csv", T0, np.tile([800.0, 900.0], 200)))
    local = {"from": "2024-05-04T09:00:00", "to": "2024-05-04T09:05:00"}  # = T0 (UTC+2)
    explicit = {"from": T0.isoformat(), "to": (T0 + dt.timedelta(minutes=5)).isoformat()}
    by_local = client.get(f"/v1/persons/{person_id}/hrv", headers=headers, params=local)
    assert by_local.status_code == 200, by_local.text
    by_utc = client.get(f"/v1/persons/{person_id}/hrv", headers=headers, params=explicit).json()
    assert by_local.json()["windows"] == by_utc["windows"]
