"""Trial plans through the HTTP API: the contract, authorization, paging, adherence."""

from __future__ import annotations

import datetime as dt

import pytest

from service.trials import service as trials
from tests.support.access import account_token, grant
from tests.support.people import bearer, new_person, patient_token


@pytest.fixture
def patient(pool) -> tuple[str, dict[str, str]]:
    person = new_person(pool, "Trial patient", tz="America/New_York")
    return person, bearer(patient_token(pool, person))


def make(client, person, headers, **body):
    return client.post(
        f"/v1/persons/{person}/trial-plans",
        json={"weeks": 4, "per_week": 2, "seed": 5, **body},
        headers=headers,
    )


def test_post_returns_the_contract_keys_and_a_future_local_schedule(client, patient):
    person, headers = patient
    response = make(client, person, headers, rest_share=0.5, time_of_day="19:15", duration_minutes=50)
    assert response.status_code == 201, response.text
    plan = response.json()
    assert {"plan_id", "sessions", "power"} <= set(plan)
    assert isinstance(plan["plan_id"], int) and plan["seed"] == 5
    assert plan["tz"] == "America/New_York" and len(plan["sessions"]) == 8
    now = dt.datetime.now(dt.UTC)
    for s in plan["sessions"]:
        assert s["kind"] in ("massage", "rest")
        start = dt.datetime.fromisoformat(s["start"])
        assert start > now and s["start"].endswith("Z")
        assert dt.datetime.fromisoformat(s["start_local"]).time() == dt.time(19, 15)
        assert dt.datetime.fromisoformat(s["end"]) - start == dt.timedelta(minutes=50)
    assert sum(s["kind"] == "rest" for s in plan["sessions"]) == 4
    power = plan["power"]
    assert power["sd_source"] == "literature" and 0 < power["value"] < 1
    assert (power["n_massage"], power["n_rest"], power["effect_ln_rmssd"]) == (4, 4, 0.1)
    # The same design and seed on the same day: the same schedule.
    again = make(client, person, headers, rest_share=0.5, time_of_day="19:15", duration_minutes=50).json()
    assert [(s["start"], s["kind"]) for s in again["sessions"]] == [
        (s["start"], s["kind"]) for s in plan["sessions"]
    ]


def test_read_one_list_and_page(client, patient):
    person, headers = patient
    ids = [make(client, person, headers, seed=seed).json()["plan_id"] for seed in (1, 2, 3)]
    page = client.get(f"/v1/persons/{person}/trial-plans?limit=2", headers=headers).json()
    assert [p["plan_id"] for p in page["items"]] == ids[:2] and page["next_cursor"]
    rest = client.get(
        f"/v1/persons/{person}/trial-plans",
        params={"limit": 2, "cursor": page["next_cursor"]},
        headers=headers,
    ).json()
    assert [p["plan_id"] for p in rest["items"]] == ids[2:] and rest["next_cursor"] is None
    one = client.get(f"/v1/trial-plans/{ids[1]}", headers=headers)
    assert one.status_code == 200, one.text
    body = one.json()
    assert body["seed"] == 2 and len(body["sessions"]) == 8
    adherence = body["adherence"]
    assert adherence["plan_id"] == ids[1]
    assert adherence["rest"]["planned"] + adherence["massage"]["planned"] == 8
    assert adherence["rest"]["due"] == 0 and adherence["share_done"] is None


def test_logged_rest_session_counts_in_adherence(client, patient, pool):
    person, headers = patient
    plan = make(client, person, headers).json()
    slot = next(s for s in plan["sessions"] if s["kind"] == "rest")
    logged = client.post(
        f"/v1/persons/{person}/sessions",
        headers=headers,
        json={"start": slot["start"], "end": slot["end"], "modality": "rest"},
    )
    assert logged.status_code == 201, logged.text
    body = client.get(f"/v1/trial-plans/{plan['plan_id']}", headers=headers).json()
    assert body["adherence"]["rest"]["logged"] == 1
    assert body["adherence"]["massage"]["logged"] == 0
    assert {"seq": slot["seq"], "kind": "rest", "session_id": logged.json()["id"]} in body["adherence"][
        "matches"
    ]
    from service.core.db.rls import system_connection

    with system_connection(pool) as conn:
        assert trials.adherence(conn, person)["rest"]["logged"] == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"weeks": 0}, "weeks"),
        ({"per_week": 8}, "per_week"),
        ({"rest_share": 1}, "rest_share"),
        ({"weekdays": ["mon"]}, "weekdays"),
        ({"start_date": "2020-01-01"}, "start_date"),
        ({"time_of_day": "25:00"}, "time_of_day"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_refused_designs_name_the_field(client, patient, body, field):
    person, headers = patient
    response = make(client, person, headers, **body)
    assert response.status_code == 422, response.text
    assert any(e["loc"][-1] == field for e in response.json()["errors"]), response.json()


def test_authorization_follows_the_session_scopes(client, patient, pool):
    person, headers = patient
    plan_id = make(client, person, headers).json()["plan_id"]
    stranger = bearer(patient_token(pool, new_person(pool, "Stranger")))
    assert make(client, person, stranger).status_code == 404
    assert client.get(f"/v1/trial-plans/{plan_id}", headers=stranger).status_code == 404
    assert client.get(f"/v1/trial-plans/{plan_id + 10_000}", headers=headers).status_code == 404
    account, token = account_token(pool, "therapist")
    grant(pool, person, account, ["read:sessions"])
    reader = bearer(token)
    assert client.get(f"/v1/trial-plans/{plan_id}", headers=reader).status_code == 200
    assert client.get(f"/v1/persons/{person}/trial-plans", headers=reader).status_code == 200
    assert make(client, person, reader).status_code == 403
