"""Controls that match the session (weekday, device) and recovery/sleep on separate numbers."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from service.care.repository import sessions
from service.core.db.rls import system_connection
from signal_processing.synthetic import simulate_rr
from tests.support.people import bearer, new_person, patient_token

TZ = ZoneInfo("Europe/Berlin")
MONDAY = dt.date(2024, 4, 8)  # the same-device session, a Monday
FRIDAY = dt.date(2024, 4, 5)  # the session whose post window comes from another device
#: Six earlier Mondays (the weeks without a session count), then nearby weekdays.
STRAP_AFTERNOONS = [MONDAY - dt.timedelta(weeks=k) for k in (6, 5, 4, 3, 2, 1)] + [
    dt.date(2024, 4, 2),
    dt.date(2024, 4, 3),
    MONDAY,
]
WATCH_AFTERNOONS = [
    dt.date(2024, 4, 4),
    dt.date(2024, 4, 6),
    dt.date(2024, 4, 9),
    dt.date(2024, 4, 10),
]
NIGHTS = [MONDAY + dt.timedelta(days=k) for k in (-6, -5, -4, -3, -2, 0, 1, 2, 3)]


def _rr(
    start: dt.datetime, minutes: float, seed: int, mean_ms: float = 850.0
) -> list[tuple[dt.datetime, float]]:
    rr = simulate_rr(
        n_beats=int(minutes * 60_000 / mean_ms) + 50,
        mean_ms=mean_ms,
        lf_amplitude_ms=25.0,
        hf_amplitude_ms=18.0,
        noise_ms=6.0,
        seed=seed,
    )
    ends = start + np.cumsum(rr) * dt.timedelta(milliseconds=1)
    keep = ends < start + dt.timedelta(minutes=minutes)
    return list(zip(ends[keep], rr[keep], strict=True))


def _copy(conn, person: str, source: int, rows: list[tuple[dt.datetime, float]]) -> None:
    conn.execute(
        "INSERT INTO observation (person_id, metric, source_id, ts, value) "
        "SELECT %s, 'rr_interval', %s, unnest(%s::timestamptz[]), unnest(%s::float8[])",
        (person, source, [ts for ts, _ in rows], [float(v) for _, v in rows]),
    )


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


@pytest.fixture(scope="module")
def subject(pool):
    """Afternoons of RR from a chest strap and from a watch, two sessions, and nights of sleep
    (RR and sleep stages) around the Monday session."""
    person = new_person(pool, "Controls", tz="Europe/Berlin")
    with system_connection(pool) as conn:

        def source(key: str, kind: str) -> int:
            return conn.execute(
                "INSERT INTO source (person_id, key, name, kind) VALUES (%s, %s, %s, %s) RETURNING id",
                (person, key, key, kind),
            ).fetchone()["id"]

        strap, watch = source("strap", "chest_strap"), source("watch", "watch")
        for k, day in enumerate(STRAP_AFTERNOONS):
            _copy(conn, person, strap, _rr(_at(day, 14, 20), 145, seed=k))
        for k, day in enumerate(WATCH_AFTERNOONS):
            _copy(conn, person, watch, _rr(_at(day, 14, 20), 145, seed=100 + k))
        # The Friday session: strap before it, watch after it.
        _copy(conn, person, strap, _rr(_at(FRIDAY, 14, 20), 40, seed=200))
        _copy(conn, person, watch, _rr(_at(FRIDAY, 16, 5), 40, seed=201))
        for k, day in enumerate(NIGHTS):
            # Sleep 23:00-06:30, then awake RR at a faster rate until 08:00: the morning
            # window after waking is its own measurement, not a window of the night.
            night = _rr(_at(day, 23), 7.5 * 60, seed=300 + k, mean_ms=1000.0)
            morning = _rr(_at(day + dt.timedelta(days=1), 6, 30), 90, seed=400 + k, mean_ms=800.0)
            _copy(conn, person, strap, night + morning)
            conn.execute(
                "INSERT INTO sleep_episode (person_id, source_id, starts_at, ends_at, "
                "stage) VALUES (%s, %s, %s, %s, 'asleep')",
                (person, strap, _at(day, 23), _at(day + dt.timedelta(days=1), 6, 30)),
            )
        monday = sessions.create(
            conn,
            person_id=person,
            starts_at=_at(MONDAY, 15),
            ends_at=_at(MONDAY, 16),
            modality="swedish",
            pressure="moderate",
        )
        friday = sessions.create(
            conn,
            person_id=person,
            starts_at=_at(FRIDAY, 15),
            ends_at=_at(FRIDAY, 16),
            modality="other",
            pressure=None,
        )
    return {
        "person": person,
        "monday": monday["id"],
        "friday": friday["id"],
        "headers": bearer(patient_token(pool, person)),
    }


def _response(client, subject, which: str) -> dict:
    response = client.get(f"/v1/sessions/{subject[which]}/response", headers=subject["headers"])
    assert response.status_code == 200, response.text
    return response.json()


def test_post_window_from_another_device_makes_the_session_insufficient(client, subject):
    body = _response(client, subject, "friday")
    assert body["status"] == "insufficient"
    assert body["insufficient_reason"] == "device_changed"
    assert body["windows"]["pre"]["source"]["name"] == "strap"
    assert body["windows"]["post"]["source"]["name"] == "watch"
    for name, metric in body["metrics"].items():
        assert metric["delta"] is None and metric["change"] is None, name
        assert metric["reason"] == "device_changed", name


def test_device_changed_sessions_are_left_out_of_the_evidence_with_the_reason(client, subject):
    body = client.get(f"/v1/persons/{subject['person']}/evidence", headers=subject["headers"]).json()
    [acute] = [c for c in body["claims"] if c["claim"] == "acute_stress"]
    [ln] = [e for e in acute["endpoints"] if e["metric"] == "ln_rmssd"]
    assert ln["excluded"].get("device_changed") == 1


def test_controls_come_from_the_sessions_device_and_match_its_weekday(client, subject):
    body = _response(client, subject, "monday")
    assert body["status"] == "ok" and body["insufficient_reason"] is None
    controls = body["controls"]
    assert controls["source"]["name"] == "strap"
    # Watch afternoons are not controls of a strap session; the six earlier Mondays are,
    # four of them beyond the ±14-day window (weeks without a session count).
    used = {dt.date.fromisoformat(d) for d in controls["days"]}
    assert used == set(STRAP_AFTERNOONS) - {MONDAY}
    assert controls["weekday"] == "Monday" and controls["same_weekday_controls"] == 6
    assert controls["weekday_confound"] is None
    ln = body["metrics"]["ln_rmssd"]
    assert ln["weekday_matched"] is True and ln["same_weekday_controls"] == 6
    assert ln["n_controls"] == 6 and ln["control_adjusted"] is True


def test_without_same_weekday_controls_the_confound_is_stated(client, subject):
    body = _response(client, subject, "friday")
    controls = body["controls"]
    assert controls["weekday"] == "Friday" and controls["same_weekday_controls"] == 0
    assert "Friday" in controls["weekday_confound"]
    assert body["metrics"]["ln_rmssd"]["weekday_matched"] is False


def test_recovery_and_sleep_have_their_own_controls_and_numbers(client, subject):
    body = _response(client, subject, "monday")
    night = body["night"]["metrics"]["night_ln_rmssd"]
    morning = body["next_days"]["morning"]
    assert night["value"] is not None and morning["value"] is not None
    assert morning["value"] != pytest.approx(night["value"], abs=1e-6)
    # The morning is the first window after waking, not a window of the night.
    window = body["next_days"]["morning"]["window"]
    assert dt.datetime.fromisoformat(window["start"]) >= _at(MONDAY + dt.timedelta(days=1), 6, 30)
    # Control nights and mornings: the nights after the free days with sleep data.
    assert night["n_controls"] >= 3 and morning["n_controls"] >= 3
    assert night["delta"] == pytest.approx(night["value"] - night["control_median"])
    assert morning["delta"] == pytest.approx(morning["value"] - morning["control_median"])
    assert len(morning["control_values"]) == morning["n_controls"]
