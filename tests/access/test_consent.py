"""Consent through the API: grants, scopes, requests, revocation and expiry, tokens."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.support.access import account_token, grant
from tests.support.people import admin_token, bearer, new_person, patient_token


@pytest.fixture
def patient(pool) -> tuple[str, dict[str, str]]:
    person = new_person(pool, "Consenting patient")
    return person, bearer(patient_token(pool, person))


@pytest.fixture
def therapist(pool) -> tuple[str, dict[str, str]]:
    account, token = account_token(pool, "therapist", "Dr Kneads")
    return account, bearer(token)


def _grant(client, person, headers, grantee, scopes, **extra):
    return client.post(
        f"/v1/persons/{person}/grants",
        headers=headers,
        json={"grantee_id": grantee, "scopes": scopes, **extra},
    )


def test_a_granted_therapist_reads_within_scope_only(client, patient, therapist):
    person, patient_headers = patient
    account, headers = therapist
    assert client.get(f"/v1/persons/{person}", headers=headers).status_code == 404
    created = _grant(client, person, patient_headers, account, ["read:observations"])
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "active" and created.json()["live"] is True
    assert client.get(f"/v1/persons/{person}", headers=headers).status_code == 200
    assert client.get(f"/v1/persons/{person}/observations", headers=headers).status_code == 200
    # Known to the therapist, but not in scope: 403, not 404.
    for path in ("grants", "audit", "export"):
        response = client.get(f"/v1/persons/{person}/{path}", headers=headers)
        assert response.status_code == 403, path
    upload = client.post(
        f"/v1/persons/{person}/imports", params={"filename": "rr.txt"}, content=b"800\n", headers=headers
    )
    assert upload.status_code == 403
    assert client.delete(f"/v1/persons/{person}", headers=headers).status_code == 403


def test_revocation_takes_effect_on_the_next_request(client, patient, therapist):
    person, patient_headers = patient
    account, headers = therapist
    grant_id = _grant(client, person, patient_headers, account, ["read:observations"]).json()["id"]
    assert client.get(f"/v1/persons/{person}/observations", headers=headers).status_code == 200
    revoked = client.delete(f"/v1/persons/{person}/grants/{grant_id}", headers=patient_headers)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert client.get(f"/v1/persons/{person}/observations", headers=headers).status_code == 404
    assert client.get(f"/v1/persons/{person}", headers=headers).status_code == 404


def test_an_expired_grant_stops_working(client, pool, patient, therapist):
    person, _ = patient
    account, headers = therapist
    grant(
        pool,
        person,
        account,
        ["read:observations"],
        expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1),
    )
    assert client.get(f"/v1/persons/{person}/observations", headers=headers).status_code == 404


def test_a_therapist_requests_access_and_the_patient_approves(client, patient, therapist):
    person, patient_headers = patient
    account, headers = therapist
    asked = client.post(
        "/v1/access-requests",
        headers=headers,
        json={
            "person_id": person,
            "scopes": ["read:observations", "read:sessions"],
            "note": "for our sessions",
        },
    )
    assert asked.status_code == 201 and asked.json()["status"] == "pending"
    mine = client.get("/v1/grants", params={"status": "pending"}, headers=headers).json()["items"]
    assert [g["id"] for g in mine] == [asked.json()["id"]]
    # Pending is not access, and the therapist cannot approve its own request.
    assert client.get(f"/v1/persons/{person}", headers=headers).status_code == 404
    approve_path = f"/v1/persons/{person}/grants/{asked.json()['id']}/approve"
    assert client.post(approve_path, headers=headers).status_code == 404
    pending = client.get(
        f"/v1/persons/{person}/grants", params={"status": "pending"}, headers=patient_headers
    ).json()["items"]
    assert [g["grantee_id"] for g in pending] == [account]
    approved = client.post(approve_path, headers=patient_headers)
    assert approved.status_code == 200 and approved.json()["live"] is True
    assert client.get(f"/v1/persons/{person}/observations", headers=headers).status_code == 200
    again = client.post(
        "/v1/access-requests", headers=headers, json={"person_id": person, "scopes": ["read:evidence"]}
    )
    assert again.status_code == 409


def test_requests_for_unknown_people_and_by_patients_are_refused(client, patient, therapist):
    person, patient_headers = patient
    _, headers = therapist
    unknown = "00000000-0000-4000-8000-000000000000"
    body = {"person_id": unknown, "scopes": ["read:observations"]}
    assert client.post("/v1/access-requests", json=body, headers=headers).status_code == 404
    body["person_id"] = person
    assert client.post("/v1/access-requests", json=body, headers=patient_headers).status_code == 403


def test_grants_go_only_to_therapists_and_apps_with_known_scopes(client, pool, patient):
    person, patient_headers = patient
    other = new_person(pool, "Other")
    patient_token(pool, other)
    admin_account, _ = account_token(pool, "admin")
    assert _grant(client, person, patient_headers, admin_account, ["read:observations"]).status_code == 422
    app_account, _ = account_token(pool, "app")
    assert _grant(client, person, patient_headers, app_account, ["export"]).status_code == 422
    assert _grant(client, person, patient_headers, app_account, ["write:imports"]).status_code == 201
    # A patient manages its own grants only.
    assert _grant(client, other, patient_headers, app_account, ["read:observations"]).status_code == 404


def test_an_app_with_write_imports_uploads_but_cannot_read(client, pool, patient):
    person, patient_headers = patient
    account, token = account_token(pool, "app")
    headers = bearer(token)
    _grant(client, person, patient_headers, account, ["write:imports"])
    upload = client.post(
        f"/v1/persons/{person}/imports",
        params={"filename": "rr.txt", "start": "2024-05-04T07:00:00Z"},
        content=b"800\n" * 50,
        headers=headers,
    )
    assert upload.status_code in (201, 202), upload.text
    assert client.get(f"/v1/persons/{person}/observations", headers=headers).status_code == 403


def test_a_patient_sees_therapists_grants_but_not_other_grantees(client, pool, patient):
    """A grantee sees its own grant, never another grantee's grant on the same person."""
    person, patient_headers = patient
    first, first_token = account_token(pool, "therapist")
    second, _ = account_token(pool, "therapist")
    _grant(client, person, patient_headers, first, ["read:observations"])
    _grant(client, person, patient_headers, second, ["read:observations"])
    seen = client.get("/v1/grants", headers=bearer(first_token)).json()["items"]
    assert {g["grantee_id"] for g in seen} == {first}
    listed = client.get(f"/v1/persons/{person}/grants", headers=patient_headers).json()["items"]
    assert {g["grantee_id"] for g in listed} == {first, second}


def test_tokens_list_rotate_and_revoke(client, pool):
    _, token = account_token(pool, "therapist")
    headers = bearer(token)
    listed = client.get("/v1/tokens", headers=headers).json()["items"]
    assert len(listed) == 1 and token.startswith(listed[0]["prefix"])
    assert "token" not in listed[0] and token not in str(listed)
    rotated = client.post(f"/v1/tokens/{listed[0]['id']}/rotate", headers=headers)
    assert rotated.status_code == 201
    new_headers = bearer(rotated.json()["token"])
    assert client.get("/v1/me", headers=headers).status_code == 401  # the old one is dead
    assert client.get("/v1/me", headers=new_headers).status_code == 200
    new_id = rotated.json()["info"]["id"]
    # Another account's token is out of reach.
    _, other = account_token(pool, "therapist")
    assert client.delete(f"/v1/tokens/{new_id}", headers=bearer(other)).status_code == 404
    assert client.delete(f"/v1/tokens/{new_id}", headers=new_headers).status_code == 200
    assert client.get("/v1/me", headers=new_headers).status_code == 401


def test_admin_reads_any_person(client, pool, patient):
    person, _ = patient
    headers = bearer(admin_token(pool))
    assert client.get(f"/v1/persons/{person}/observations", headers=headers).status_code == 200
    assert client.get(f"/v1/persons/{person}/grants", headers=headers).status_code == 200


def test_an_expired_token_is_refused(client, pool):
    from service.access import auth
    from service.access.repository import accounts
    from service.core.db.rls import system_connection

    with system_connection(pool) as conn:
        account = accounts.create(conn, role="therapist", name="Expired")
        token, _ = auth.issue_token(
            conn, account_id=str(account["id"]), expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        )
    response = client.get("/v1/me", headers=bearer(token))
    assert response.status_code == 401 and token not in response.text
