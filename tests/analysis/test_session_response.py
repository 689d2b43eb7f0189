"""Session response and evidence on imported data: windows, control days, honesty."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from service.care.repository import sessions
from service.core.db.rls import system_connection
from signal_processing.synthetic import simulate_rr
from tests.support.people import bearer, import_file, new_person, patient_token

TZ = ZoneInfo("Europe/Berlin")
FIRST = dt.date(2024, 4, 1)
SESSION_DAY = 4  # index of the day with the massage


def _afternoon_rr(day: dt.date, seed: int, *, relaxed_after: dt.datetime | None) -> list[str]:
    """14:20-16:45 local of chest-strap-like RR; after ``relaxed_after`` more HF and slower HR."""
    start = dt.datetime.combine(day, dt.time(14, 20), tzinfo=TZ)
    rr = simulate_rr(
        n_beats=10_000, mean_ms=850.0, lf_amplitude_ms=25.0, hf_amplitude_ms=18.0, noise_ms=6.0, seed=seed
    )
    ends = start + np.cumsum(rr) * dt.timedelta(milliseconds=1)
    keep = ends < start + dt.timedelta(hours=2, minutes=25)
    rr, ends = rr[keep], ends[keep]
    if relaxed_after is not None:
        calm = ends > relaxed_after
        rr = rr.copy()
        # A larger vagal oscillation and 60 ms slower heart after the session.
        rr[calm] = 910.0 + 2.0 * (rr[calm] - 850.0)
        ends = start + np.cumsum(rr) * dt.timedelta(milliseconds=1)
    return [f"{t.isoformat()},{v:.2f}" for t, v in zip(ends, rr, strict=True)]


@pytest.fixture(scope="module")
def subject(pool, tmp_path_factory):
    """A person with 10 afternoons of RR, one massage session on day 4, and a bare session."""
    person = new_person(pool, "Responder", tz="Europe/Berlin")
    session_start = dt.datetime.combine(FIRST + dt.timedelta(days=SESSION_DAY), dt.time(15, 0), tzinfo=TZ)
    session_end = session_start + dt.timedelta(hours=1)
    lines = ["time,rr_ms"]
    for k in range(10):
        day = FIRST + dt.timedelta(days=k)
        lines += _afternoon_rr(day, seed=k, relaxed_after=session_end if k == SESSION_DAY else None)
    path = tmp_path_factory.mktemp("resp") / "afternoons.csv"
    path.write_text("\n".join(lines) + "\n")
    import_file(pool, person, path)
    with system_connection(pool) as conn:
        session = sessions.create(
            conn,
            person_id=person,
            starts_at=session_start,
            ends_at=session_end,
            modality="swedish",
            pressure="moderate",
        )
        bare = sessions.create(
            conn,
            person_id=person,
            starts_at=session_start + dt.timedelta(days=30),
            ends_at=session_end + dt.timedelta(days=30),
            modality="other",
            pressure=None,
        )
    return {
        "person": person,
        "session": session["id"],
        "bare": bare["id"],
        "headers": bearer(patient_token(pool, person)),
        "start": session_start,
    }


def test_session_response_is_control_adjusted(client, subject):
    response = client.get(f"/v1/sessions/{subject['session']}/response", headers=subject["headers"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["algorithm_version"].startswith("response-")
    assert body["controls"]["n_days"] == 9  # ±14 days, all other afternoons have data
    ln = body["metrics"]["ln_rmssd"]
    assert ln["control_adjusted"] and ln["n_controls"] >= 3
    assert ln["delta"] == pytest.approx(ln["change"] - ln["control_change"])
    assert ln["delta"] > 0.3 and ln["improved"] is True  # RR oscillation doubled after the session
    hr = body["metrics"]["mean_hr"]
    assert hr["delta"] < -2 and hr["improved"] is True
    pre, post = body["windows"]["pre"], body["windows"]["post"]
    search_start = dt.datetime.fromisoformat(pre["search"]["start"])
    assert search_start <= dt.datetime.fromisoformat(pre["start"])
    assert dt.datetime.fromisoformat(pre["end"]) <= subject["start"]
    assert post["data_kind"] in ("rr", "ppg_beats", "ecg")
    assert body["windows"]["during"]["descriptive_only"] is True


def test_session_without_data_says_insufficient_with_reason_not_numbers(client, subject):
    body = client.get(f"/v1/sessions/{subject['bare']}/response", headers=subject["headers"]).json()
    for name, metric in body["metrics"].items():
        assert metric["pre"] is None and metric["delta"] is None, name
        assert "no_data" in metric["reason"], (name, metric["reason"])
    assert body["windows"]["pre"]["insufficient_reason"] == "no_data"


def test_late_data_changes_the_response_on_the_next_read(client, pool, subject, tmp_path):
    url = f"/v1/sessions/{subject['bare']}/response"
    before = client.get(url, headers=subject["headers"]).json()
    assert before["metrics"]["mean_hr"]["pre"] is None
    day = (subject["start"] + dt.timedelta(days=30)).astimezone(TZ).date()
    path = tmp_path / "late.csv"
    path.write_text("\n".join(["time,rr_ms", *_afternoon_rr(day, seed=99, relaxed_after=None)]) + "\n")
    import_file(pool, subject["person"], path)
    after = client.get(url, headers=subject["headers"]).json()
    assert after["metrics"]["mean_hr"]["pre"] is not None
    # No control afternoons that far out: the raw change, labelled as such.
    assert after["metrics"]["mean_hr"]["control_adjusted"] is False
    assert "control day" in after["metrics"]["mean_hr"]["reason"]


def test_evidence_lists_every_claim_with_kind_and_literature(client, subject):
    response = client.get(f"/v1/persons/{subject['person']}/evidence", headers=subject["headers"])
    assert response.status_code == 200, response.text
    body = response.json()
    claims = {c["claim"]: c for c in body["claims"]}
    assert set(claims) == {
        "acute_stress",
        "sleep",
        "stress_hormones",
        "recovery",
        "pain",
        "headache",
        "anxiety",
        "immune",
        "circulation",
        "posture",
        "flexibility",
    }
    assert claims["acute_stress"]["evidence_kind"] == "wearable"
    assert claims["stress_hormones"]["verdict"] == "not measured"  # no cortisol logged
    assert claims["immune"]["evidence_kind"] == "none"
    # Two sessions are far below the six needed to leave "insufficient data"; claims that
    # nothing logged measures are "not measured" instead.
    unmeasured = {"stress_hormones", "immune", "circulation", "posture", "flexibility"}
    assert all(
        c["verdict"] == ("not measured" if c["claim"] in unmeasured else "insufficient data")
        for c in body["claims"]
    )
    assert all(c["estimate"] is None and c["ci_low"] is None for c in body["claims"])
    assert all(c["literature"] for c in body["claims"] if c["claim"] in ("acute_stress", "stress_hormones"))
    assert "association" in body["summary"]


def test_foreign_session_is_404(client, pool, subject):
    other = bearer(patient_token(pool, new_person(pool, "Other")))
    assert client.get(f"/v1/sessions/{subject['session']}/response", headers=other).status_code == 404
    assert client.get(f"/v1/persons/{subject['person']}/evidence", headers=other).status_code == 404


def test_unchanged_data_serves_the_stored_response(client, subject):
    url = f"/v1/sessions/{subject['session']}/response"
    first = client.get(url, headers=subject["headers"]).json()
    second = client.get(url, headers=subject["headers"]).json()
    assert first["computed_at"] == second["computed_at"]
    assert first["metrics"] == second["metrics"]


def test_windows_are_configurable_and_part_of_the_version(pool, settings, subject):
    from fastapi.testclient import TestClient

    from service.app import create_app

    narrow = settings.model_copy(update={"pre_window_search_min": 10, "control_days": 3})
    with TestClient(create_app(narrow, pool=pool)) as other:
        body = other.get(f"/v1/sessions/{subject['session']}/response", headers=subject["headers"]).json()
    pre = body["windows"]["pre"]["search"]
    span = dt.datetime.fromisoformat(pre["end"]) - dt.datetime.fromisoformat(pre["start"])
    assert span == dt.timedelta(minutes=10)
    assert body["controls"]["window_days"] == 3 and body["controls"]["n_days"] == 6
    assert "/windows-" in body["algorithm_version"]
