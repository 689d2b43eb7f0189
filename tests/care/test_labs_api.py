"""Cortisol results through the HTTP API: units, conversion, sessions, access."""

from __future__ import annotations

import pytest

from service.care.repository import lab_results
from tests.care.test_sessions_api import assert_problem, post, system_connection
from tests.support.people import bearer, new_person, patient_token


@pytest.fixture
def patient(pool) -> tuple[str, dict[str, str]]:
    person = new_person(pool, "Lab patient", tz="Europe/Berlin")
    return person, bearer(patient_token(pool, person))


def lab(client, person, headers, **body):
    body.setdefault("time", "2024-05-04T09:45:00+02:00")
    body.setdefault("analyte", "cortisol")
    body.setdefault("value", 12.5)
    body.setdefault("unit", "nmol/L")
    return client.post(f"/v1/persons/{person}/lab-results", json=body, headers=headers)


@pytest.mark.parametrize(
    "unit, stored, factor",
    [
        ("nmol/L", "nmol/L", 1.0),
        ("nmol/l", "nmol/L", 1.0),
        ("ug/dL", "ug/dL", 27.59),
        ("µg/dL", "ug/dL", 27.59),
        ("mcg/dL", "ug/dL", 27.59),
    ],
)
def test_units_are_stored_as_given_and_converted_to_nmol_per_litre(client, patient, unit, stored, factor):
    person, headers = patient
    response = lab(client, person, headers, value=0.5, unit=unit, specimen="Saliva")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["value"], body["unit"], body["specimen"]) == (0.5, stored, "saliva")
    assert body["value_nmol_l"] == pytest.approx(0.5 * factor, rel=1e-3)
    assert body["time"] == "2024-05-04T07:45:00Z"
    assert body["time_local"] == "2024-05-04T09:45:00+02:00"
    assert client.get(f"/v1/lab-results/{body['id']}", headers=headers).json() == body


@pytest.mark.parametrize(
    "body, field",
    [
        ({"unit": "mg/dL"}, "unit"),
        ({"value": -3}, "value"),
        ({"analyte": "glucose"}, "analyte"),
        ({"specimen": "urine"}, "specimen"),
        ({"time": "not a time"}, "time"),
        ({"specimen": ["saliva"]}, "specimen"),
        ({"unit": 27}, "unit"),
        ({"session_id": 1}, "phase"),
    ],
)
def test_invalid_results_are_422_naming_the_field(client, patient, body, field):
    person, headers = patient
    assert_problem(lab(client, person, headers, **body), 422, field)


def test_hair_cortisol_is_stored_in_pg_per_mg_without_a_molar_value(client, patient):
    person, headers = patient
    response = lab(client, person, headers, value=8.4, unit="pg/mg", specimen="hair")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["value"], body["unit"], body["specimen"], body["value_nmol_l"]) == (
        8.4,
        "pg/mg",
        "hair",
        None,
    )
    # pg/mg belongs to hair, and hair to pg/mg: a mix-up is refused, not converted.
    for wrong in ({"unit": "pg/mg", "specimen": "saliva"}, {"unit": "nmol/L", "specimen": "hair"}):
        refused = lab(client, person, headers, **wrong)
        assert refused.status_code == 422 and "hair" in refused.text


def test_results_before_and_after_a_session_pair_up_in_nmol_per_litre(client, pool, patient):
    person, headers = patient
    session = post(client, person, headers).json()  # 10:00-11:00 Berlin
    assert (
        lab(
            client,
            person,
            headers,
            value=0.6,
            unit="ug/dL",
            specimen="saliva",
            session_id=session["id"],
            phase="before",
        ).status_code
        == 201
    )
    after = lab(
        client,
        person,
        headers,
        time="2024-05-04T11:20:00",
        value=11.0,
        specimen="saliva",
        session_id=session["id"],
        phase="after",
    )
    assert after.status_code == 201, after.text
    other = new_person(pool, "Other lab")
    other_session = post(client, other, bearer(patient_token(pool, other))).json()
    assert_problem(
        lab(
            client, person, headers, session_id=other_session["id"], phase="after", time="2024-05-04T11:20:00"
        ),
        422,
        "session_id",
    )
    with system_connection(pool) as conn:
        pairs = lab_results.cortisol_before_after(conn, person_id=person, specimen="saliva")
        assert len(pairs) == 1 and pairs[0]["session_id"] == session["id"]
        assert pairs[0]["before_nmol_l"] == pytest.approx(16.55, abs=0.01)
        assert pairs[0]["after_nmol_l"] == 11.0
        assert lab_results.cortisol_before_after(conn, person_id=person, specimen="serum") == []
        assert [r["value_nmol_l"] for r in lab_results.cortisol(conn, person_id=person)] == [
            pytest.approx(16.55, abs=0.01),
            11.0,
        ]
    listed = client.get(
        f"/v1/persons/{person}/lab-results", headers=headers, params={"session_id": session["id"]}
    ).json()["items"]
    assert [r["phase"] for r in listed] == ["before", "after"]
    ranged = client.get(
        f"/v1/persons/{person}/lab-results", headers=headers, params={"from": "2024-05-04T11:00:00"}
    ).json()["items"]
    assert [r["value"] for r in ranged] == [11.0]


def test_another_patient_reaches_none_of_it(client, pool, patient):
    person, headers = patient
    created = lab(client, person, headers).json()
    bob = bearer(patient_token(pool, new_person(pool, "Bob")))
    assert lab(client, person, bob).status_code == 404
    assert client.get(f"/v1/persons/{person}/lab-results", headers=bob).status_code == 404
    assert client.get(f"/v1/lab-results/{created['id']}", headers=bob).status_code == 404
    assert client.delete(f"/v1/lab-results/{created['id']}", headers=bob).status_code == 404
    assert client.delete(f"/v1/lab-results/{created['id']}", headers=headers).status_code == 200
    assert client.get(f"/v1/lab-results/{created['id']}", headers=headers).status_code == 404


def test_before_after_pairs_never_mix_saliva_and_serum(client, pool, patient):
    person, headers = patient
    mixed = post(client, person, headers).json()  # 10:00-11:00 Berlin
    both = post(
        client, person, headers, start="2024-05-05T10:00:00+02:00", end="2024-05-05T11:00:00+02:00"
    ).json()
    samples = [  # (session, phase, time, nmol/L, specimen)
        (mixed, "before", "2024-05-04T09:45:00", 12.0, "saliva"),
        (mixed, "after", "2024-05-04T11:15:00", 300.0, "serum"),
        (both, "before", "2024-05-05T09:45:00", 14.0, "saliva"),
        (both, "after", "2024-05-05T11:15:00", 10.0, "saliva"),
        (both, "after", "2024-05-05T11:20:00", 280.0, "serum"),
    ]
    for session, phase, time, value, specimen in samples:
        response = lab(
            client,
            person,
            headers,
            session_id=session["id"],
            phase=phase,
            time=time,
            value=value,
            specimen=specimen,
        )
        assert response.status_code == 201, response.text
    with system_connection(pool) as conn:
        pairs = lab_results.cortisol_before_after(conn, person_id=person)
    assert [(p["session_id"], p["before_nmol_l"], p["after_nmol_l"], p["after_specimen"]) for p in pairs] == [
        (both["id"], 14.0, 10.0, "saliva")
    ]
