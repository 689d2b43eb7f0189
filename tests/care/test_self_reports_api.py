"""Self-reports through the HTTP API, and the before/after pairs analyses read."""

from __future__ import annotations

import pytest

from service.care.repository import self_reports
from tests.care.test_sessions_api import assert_problem, post, system_connection
from tests.support.people import bearer, new_person, patient_token


@pytest.fixture
def patient(pool) -> tuple[str, dict[str, str]]:
    person = new_person(pool, "Report patient", tz="Europe/Berlin")
    return person, bearer(patient_token(pool, person))


def report(client, person, headers, **body):
    body.setdefault("time", "2024-05-04T09:50:00+02:00")
    body.setdefault("kind", "pain")
    body.setdefault("value", 5)
    return client.post(f"/v1/persons/{person}/self-reports", json=body, headers=headers)


def test_a_report_at_any_time_reads_back_in_local_time(client, patient):
    person, headers = patient
    response = report(client, person, headers, time="2024-05-04T22:15:00", kind="Sleep quality", value=7.5)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["time"] == "2024-05-04T20:15:00Z"
    assert body["time_local"] == "2024-05-04T22:15:00+02:00"
    assert (body["kind"], body["value"], body["session_id"], body["phase"]) == (
        "sleep_quality",
        7.5,
        None,
        None,
    )
    assert body["headache"] is None
    assert client.get(f"/v1/self-reports/{body['id']}", headers=headers).json() == body


def test_headache_zero_means_none_and_positive_is_its_intensity(client, patient):
    person, headers = patient
    none = report(client, person, headers, kind="headache", value=0).json()
    some = report(client, person, headers, kind="headache", value=7).json()
    assert (none["headache"], none["value"]) == (False, 0)
    assert (some["headache"], some["value"]) == (True, 7)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"value": 11}, "value"),
        ({"value": -1}, "value"),
        ({"value": "high"}, "value"),
        ({"kind": "mood"}, "kind"),
        ({"time": "2024-03-31T02:15:00"}, "time"),
        ({"phase": "before"}, "phase"),
        ({"phase": "during", "session_id": 1}, "phase"),
    ],
)
def test_invalid_reports_are_422_naming_the_field(client, patient, body, field):
    person, headers = patient
    assert_problem(report(client, person, headers, **body), 422, field)


def test_reports_attach_to_a_session_of_the_same_person(client, pool, patient):
    person, headers = patient
    session = post(client, person, headers).json()  # 10:00-11:00 Berlin
    before = report(client, person, headers, session_id=session["id"], phase="before", value=7)
    after = report(
        client, person, headers, time="2024-05-04T11:10:00", session_id=session["id"], phase="After", value=3
    )
    assert before.status_code == 201 and after.status_code == 201, after.text
    assert after.json()["phase"] == "after"
    # A session id without a phase, a 'before' after the session, another person's session.
    assert_problem(report(client, person, headers, session_id=session["id"]), 422, "phase")
    assert_problem(
        report(
            client,
            person,
            headers,
            time="2024-05-04T12:00:00+02:00",
            session_id=session["id"],
            phase="before",
        ),
        422,
        "time",
    )
    assert_problem(
        report(
            client, person, headers, time="2024-05-06T12:00:00+02:00", session_id=session["id"], phase="after"
        ),
        422,
        "time",
    )
    other = new_person(pool, "Other")
    other_session = post(client, other, bearer(patient_token(pool, other))).json()
    assert_problem(
        report(client, person, headers, session_id=other_session["id"], phase="before"), 422, "session_id"
    )
    with system_connection(pool) as conn:
        pairs = self_reports.before_after(conn, person_id=person, kind="pain")
        assert [(p["session_id"], p["before"], p["after"]) for p in pairs] == [(session["id"], 7, 3)]
        assert [r["phase"] for r in self_reports.for_session(conn, session["id"])] == ["before", "after"]


def test_list_filters_by_kind_range_and_session(client, patient):
    person, headers = patient
    session = post(client, person, headers).json()
    report(client, person, headers, time="2024-05-01T08:00:00", kind="stress", value=6)
    report(client, person, headers, time="2024-05-02T08:00:00", kind="anxiety", value=4)
    report(client, person, headers, time="2024-05-03T08:00:00", kind="stress", value=5)
    report(client, person, headers, session_id=session["id"], phase="before", kind="stress")
    url = f"/v1/persons/{person}/self-reports"

    def values(**params):
        response = client.get(url, params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [(r["kind"], r["value"]) for r in response.json()["items"]]

    assert values(kind="stress") == [("stress", 6), ("stress", 5), ("stress", 5)]
    assert values(**{"from": "2024-05-02T00:00:00", "to": "2024-05-04T00:00:00"}) == [
        ("anxiety", 4),
        ("stress", 5),
    ]
    assert values(session_id=session["id"]) == [("stress", 5)]
    first = client.get(url, params={"limit": 3}, headers=headers).json()
    rest = client.get(url, params={"limit": 3, "cursor": first["next_cursor"]}, headers=headers).json()
    assert len(first["items"]) == 3 and len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert client.get(url, params={"kind": "mood"}, headers=headers).status_code == 422


def test_another_patient_reaches_none_of_it(client, pool, patient):
    person, headers = patient
    created = report(client, person, headers).json()
    bob = bearer(patient_token(pool, new_person(pool, "Bob")))
    assert report(client, person, bob).status_code == 404
    assert client.get(f"/v1/persons/{person}/self-reports", headers=bob).status_code == 404
    assert client.get(f"/v1/self-reports/{created['id']}", headers=bob).status_code == 404
    assert client.delete(f"/v1/self-reports/{created['id']}", headers=bob).status_code == 404
    assert client.delete(f"/v1/self-reports/{created['id']}", headers=headers).status_code == 200
    assert client.get(f"/v1/self-reports/{created['id']}", headers=headers).status_code == 404
