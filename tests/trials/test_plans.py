"""n-of-1 trial plans: schedule, balance, power, storage and adherence (real database)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from service.care.repository import sessions
from service.core.db.rls import system_connection
from service.trials import repository
from service.trials import service as trials
from service.trials.schemas import TrialPlanCreate
from signal_processing.synthetic import simulate_rr
from tests.support.people import import_file, new_person

TZ = "Europe/Berlin"
NOW = dt.datetime(2024, 4, 15, 9, 0, tzinfo=dt.UTC)  # a Monday


def plan(conn, person: str, now: dt.datetime = NOW, **design) -> dict:
    row = {"id": person, "tz": TZ}
    body = TrialPlanCreate(**{"weeks": 6, "per_week": 2, "seed": 42, **design})
    return trials.create_plan(conn, row, body, now=now)


def test_same_seed_same_plan_and_another_seed_another(conn):
    with_person = _person(conn)
    first = plan(conn, with_person, weeks=8, per_week=3)
    again = plan(conn, with_person, weeks=8, per_week=3)
    other = plan(conn, with_person, weeks=8, per_week=3, seed=43)
    key = [(s["start"], s["kind"]) for s in first["sessions"]]
    assert key == [(s["start"], s["kind"]) for s in again["sessions"]]
    assert first["plan_id"] != again["plan_id"]
    assert [s["kind"] for s in other["sessions"]] != [s["kind"] for s in first["sessions"]]


def _person(conn) -> str:
    from service.access.repository import persons

    return str(persons.create(conn, name="Trial person", tz=TZ)["id"])


@pytest.mark.parametrize(
    "weeks, per_week, share", [(8, 2, 0.5), (7, 3, 0.5), (10, 4, 0.3), (5, 5, 0.5), (3, 7, 0.6)]
)
def test_arms_are_balanced_over_weekdays_and_weeks(conn, weeks, per_week, share):
    person = _person(conn)
    for seed in range(5):
        out = plan(conn, person, weeks=weeks, per_week=per_week, rest_share=share, seed=seed)
        kinds = Counter(s["kind"] for s in out["sessions"])
        total = weeks * per_week
        assert len(out["sessions"]) == total and kinds["rest"] == round(total * share)
        for arm in ("massage", "rest"):
            by_day = Counter(s["weekday"] for s in out["sessions"] if s["kind"] == arm)
            counts = [by_day.get(d, 0) for d in out["weekdays"]]
            assert max(counts) - min(counts) <= 1, (arm, counts)
        assert out["balance"]["max_weekday_spread"] <= 1
        per_week_rest = Counter(s["week"] for s in out["sessions"] if s["kind"] == "rest")
        week_counts = [per_week_rest.get(w, 0) for w in range(1, weeks + 1)]
        assert max(week_counts) - min(week_counts) <= 1, week_counts  # blocks per week


def test_schedule_is_in_the_future_at_the_local_time_on_spread_weekdays(conn):
    out = plan(conn, _person(conn), weeks=4, per_week=2, time_of_day="07:30", duration_minutes=45)
    assert out["first_day"] == dt.date(2024, 4, 16) and out["weekdays"] == ["mon", "fri"]
    for s in out["sessions"]:
        assert s["start"] > NOW
        assert s["start_local"].tzinfo is not None
        assert s["start_local"].time() == dt.time(7, 30)
        assert s["start_local"] == s["start"].astimezone(ZoneInfo(TZ))
        assert s["end"] - s["start"] == dt.timedelta(minutes=45)
    starts = [s["start"] for s in out["sessions"]]
    assert starts == sorted(starts) and [s["seq"] for s in out["sessions"]] == list(range(1, 9))
    # Across the daylight-saving change of 2024-10-27 the local time stays 07:30.
    autumn = plan(
        conn,
        _person(conn),
        now=dt.datetime(2024, 10, 20, tzinfo=dt.UTC),
        weeks=3,
        per_week=1,
        time_of_day="07:30",
    )
    offsets = {s["start_local"].utcoffset() for s in autumn["sessions"]}
    assert offsets == {dt.timedelta(hours=2), dt.timedelta(hours=1)}
    assert {s["start_local"].time() for s in autumn["sessions"]} == {dt.time(7, 30)}


def test_refusals(conn):
    person = _person(conn)
    with pytest.raises(trials.TrialError, match="after today"):
        plan(conn, person, start_date=dt.date(2024, 4, 15))
    with pytest.raises(trials.TrialError, match="different weekdays"):
        plan(conn, person, per_week=2, weekdays=["tue", "tue"])
    with pytest.raises(trials.TrialError, match="one massage and one rest"):
        plan(conn, person, weeks=1, per_week=1)
    chosen = plan(conn, person, per_week=2, weekdays="Tuesday, fri")
    assert chosen["weekdays"] == ["tue", "fri"]
    assert {s["weekday"] for s in chosen["sessions"]} == {"tue", "fri"}


def test_stored_plan_reads_back(conn):
    person = _person(conn)
    out = plan(conn, person)
    stored = repository.get(conn, out["plan_id"])
    shown = trials.show_plan(conn, stored, now=NOW)
    assert [(s["start"], s["kind"]) for s in shown["sessions"]] == [
        (s["start"], s["kind"]) for s in out["sessions"]
    ]
    assert shown["power"] == out["power"] and shown["seed"] == 42
    assert repository.latest(conn, person)["id"] == out["plan_id"]


def test_power_from_literature_without_data_and_growing_with_sessions(conn):
    person = _person(conn)
    short = plan(conn, person, weeks=4, per_week=2)["power"]
    long = plan(conn, person, weeks=16, per_week=3)["power"]
    for p in (short, long):
        assert p["sd_source"] == "literature" and p["person_days"] == 0
        assert "hukin-2015-0146" in p["sd_detail"]
        assert p["n_massage"] + p["n_rest"] in (8, 48)
    assert short["sd"] == long["sd"]
    assert 0.05 < short["value"] < long["value"] < 1
    bigger = plan(conn, person, weeks=4, per_week=2, effect_ln_rmssd=0.4)["power"]
    assert bigger["value"] > short["value"] and bigger["effect_ln_rmssd"] == 0.4
    assert long["sessions_for_80_percent"] > 48


def test_adherence_counts_matching_sessions(conn):
    person = _person(conn)
    out = plan(conn, person, weeks=2, per_week=2)
    planned = out["sessions"]
    rest = [s for s in planned if s["kind"] == "rest"]
    massage = [s for s in planned if s["kind"] == "massage"]
    # A rest session 90 minutes late fulfils the first rest slot.
    logged_rest = sessions.create(
        conn,
        person_id=person,
        starts_at=rest[0]["start"] + dt.timedelta(minutes=90),
        ends_at=rest[0]["end"] + dt.timedelta(minutes=90),
        modality="rest",
        pressure=None,
    )
    # A massage logged at a rest slot fulfils nothing; a massage 3 hours off neither.
    sessions.create(
        conn,
        person_id=person,
        starts_at=rest[1]["start"],
        ends_at=rest[1]["end"],
        modality="swedish",
        pressure="light",
    )
    sessions.create(
        conn,
        person_id=person,
        starts_at=massage[0]["start"] - dt.timedelta(hours=3),
        ends_at=massage[0]["start"] - dt.timedelta(hours=2),
        modality="swedish",
        pressure="light",
    )
    logged_massage = sessions.create(
        conn,
        person_id=person,
        starts_at=massage[1]["start"],
        ends_at=massage[1]["end"],
        modality="deep_tissue",
        pressure="deep",
    )
    after_all = planned[-1]["start"] + dt.timedelta(days=1)
    result = trials.adherence(conn, person, now=after_all)
    assert result["plan_id"] == out["plan_id"] and result["tolerance_minutes"] == 120
    assert result["rest"] == {"planned": 2, "due": 2, "logged": 1, "missed": 1}
    assert result["massage"] == {"planned": 2, "due": 2, "logged": 1, "missed": 1}
    assert result["share_done"] == 0.5
    matched = {m["seq"]: m["session_id"] for m in result["matches"]}
    assert matched[rest[0]["seq"]] == logged_rest["id"]
    assert matched[massage[1]["seq"]] == logged_massage["id"]
    # Before the plan starts nothing is due.
    early = trials.adherence(conn, person, now=NOW)
    assert early["rest"]["due"] == 0 and early["share_done"] is None
    assert trials.adherence(conn, _person(conn)) is None


# --- the person's own variability -------------------------------------------------------------


def _evening_rr(day: dt.date, seed: int) -> list[str]:
    """16:50-19:40 local chest-strap-like RR with a day-specific level."""
    zone = ZoneInfo(TZ)
    start = dt.datetime.combine(day, dt.time(16, 50), tzinfo=zone)
    rr = simulate_rr(
        n_beats=12_000,
        mean_ms=850.0 + 10 * (seed % 3),
        lf_amplitude_ms=25.0,
        hf_amplitude_ms=12.0 + 3 * (seed % 4),
        noise_ms=6.0,
        seed=seed,
    )
    ends = start + np.cumsum(rr) * dt.timedelta(milliseconds=1)
    keep = ends < start + dt.timedelta(hours=2, minutes=50)
    return [f"{t.isoformat()},{v:.2f}" for t, v in zip(ends[keep], rr[keep], strict=True)]


@pytest.fixture(scope="module")
def measured_person(pool, tmp_path_factory) -> str:
    """12 evenings of RR before NOW, one of them with a session (so not an ordinary day)."""
    person = new_person(pool, "Measured", tz=TZ)
    lines = ["time,rr_ms"]
    for k in range(12):
        lines += _evening_rr(dt.date(2024, 4, 2) + dt.timedelta(days=k), seed=100 + k)
    path = tmp_path_factory.mktemp("trial") / "evenings.csv"
    path.write_text("\n".join(lines) + "\n")
    import_file(pool, person, path)
    with system_connection(pool) as conn:
        start = dt.datetime(2024, 4, 5, 18, tzinfo=ZoneInfo(TZ))
        sessions.create(
            conn,
            person_id=person,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            modality="swedish",
            pressure="moderate",
        )
    return person


def test_power_uses_the_persons_own_variability(conn, measured_person):
    out = plan(conn, measured_person, time_of_day="18:00")
    p = out["power"]
    assert p["sd_source"] == "person" and p["person_days"] == 11, p
    assert "11 recent days" in p["sd_detail"]
    sd, days = trials.observed_difference_sd(
        conn, {"id": measured_person, "tz": TZ}, dt.time(18), dt.timedelta(hours=1), dt.date(2024, 4, 15)
    )
    assert days == 11 and p["sd"] == pytest.approx(sd * (1 + 1 / 3) ** 0.5, abs=1e-4)
    # Another clock time has no data: too few days, so the literature default.
    elsewhere = plan(conn, measured_person, time_of_day="08:00")["power"]
    assert elsewhere["sd_source"] == "literature" and "0 usable" in elsewhere["sd_detail"]


def test_demo_gets_one_trial_plan(pool, tmp_path_factory):
    from service.demo import service as demo

    person = new_person(pool, "Demo-like", tz=TZ)
    demo._plan_trial(pool, person)
    demo._plan_trial(pool, person)  # made once, like the rest of the demo
    with system_connection(pool) as conn:
        plans = repository.page(conn, person_id=person)
        assert len(plans) == 1 and plans[0]["seed"] == demo.DEMO_TRIAL.seed
        assert len(repository.sessions(conn, plans[0]["id"])) == 12


def test_personal_power_needs_read_evidence(client, pool, measured_person):
    from service.access import authz
    from tests.support.access import account_token, grant
    from tests.support.people import bearer, patient_token

    with system_connection(pool) as conn:
        personal = plan(conn, measured_person, time_of_day="18:00")
        kept_out = trials.create_plan(
            conn,
            {"id": measured_person, "tz": TZ},
            TrialPlanCreate(weeks=6, per_week=2, seed=42),
            now=NOW,
            may_read_measurements=False,
        )
    assert personal["power"]["sd_source"] == "person"
    assert kept_out["power"]["sd_source"] == "literature"
    assert "read:evidence" in kept_out["power"]["sd_detail"]
    account, token = account_token(pool, "therapist")
    grant(pool, measured_person, account, [authz.READ_SESSIONS, authz.WRITE_SESSIONS])
    scheduler = bearer(token)
    shown = client.get(f"/v1/trial-plans/{personal['plan_id']}", headers=scheduler).json()
    assert shown["power"]["value"] is None and shown["power"]["sd"] is None
    assert shown["power"]["sd_source"] == "person" and len(shown["sessions"]) == 12
    listed = client.get(f"/v1/persons/{measured_person}/trial-plans", headers=scheduler).json()
    assert {p["plan_id"]: p["power"]["value"] for p in listed["items"]}[personal["plan_id"]] is None
    made = client.post(
        f"/v1/persons/{measured_person}/trial-plans",
        headers=scheduler,
        json={"weeks": 2, "per_week": 2, "seed": 1},
    )
    assert made.status_code == 201, made.text
    assert "read:evidence" in made.json()["power"]["sd_detail"]
    own = bearer(patient_token(pool, measured_person))
    mine = client.get(f"/v1/trial-plans/{personal['plan_id']}", headers=own).json()
    assert mine["power"] == personal["power"]
