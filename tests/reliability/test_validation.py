"""Hostile requests answer with problem documents, never a 500 (issue 16, defects 12-14).

Each case is a reproduction from the red team's report: tampered cursors, impossible
years, NUL bytes, CR/LF in webhook URLs, private webhook targets, a start time in a
daylight-saving gap, FHIR links from a forged Host header, grants born expired, and
rate-limit keys chosen by the client.
"""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.core.db import rls
from service.core.http.middleware import client_ip
from tests.support.access import account_token
from tests.support.people import admin_token, bearer, new_person, patient_token


def _cursor(values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.fixture(scope="module")
def admin(pool) -> dict[str, str]:
    return bearer(admin_token(pool))


@pytest.fixture(scope="module")
def person(pool) -> tuple[str, dict[str, str]]:
    person_id = new_person(pool, "Hostile input", tz="Europe/Berlin")
    return person_id, bearer(patient_token(pool, person_id))


TAMPERED = [
    ("observations", ["heart_rate", "abc", "x"]),
    ("observations", ["no_such_metric", 1, "2024-05-04T07:00:00+00:00"]),
    ("observations", ["heart_rate", 1, "2024-05-04T07:00:00"]),  # naive time
    ("observations", ["heart_rate", 10**30, "2024-05-04T07:00:00+00:00"]),
    ("observations", [None, True, {}]),
    ("imports", ["abc"]),
    ("imports", [1.5]),
    ("persons", ["not-a-uuid"]),
    ("jobs", ["x"]),
]


@pytest.mark.parametrize(("where", "values"), TAMPERED)
def test_tampered_cursors_are_400(client, admin, person, where, values):
    person_id, headers = person
    url = {
        "observations": f"/v1/persons/{person_id}/observations",
        "imports": f"/v1/persons/{person_id}/imports",
        "persons": "/v1/persons",
        "jobs": "/v1/jobs",
    }[where]
    caller = admin if where in ("persons", "jobs") else headers
    response = client.get(url, headers=caller, params={"cursor": _cursor(values)})
    assert response.status_code == 400, response.text
    assert response.json()["type"].endswith("/bad-cursor")


@pytest.mark.parametrize("year", ["0001", "9999"])
def test_years_out_of_range_on_hrv_and_recovery_are_422(client, person, year):
    person_id, headers = person
    hrv = client.get(
        f"/v1/persons/{person_id}/hrv",
        headers=headers,
        params={"from": f"{year}-01-01T00:00:00+00:00", "to": f"{year}-01-02T00:00:00+00:00"},
    )
    recovery = client.get(
        f"/v1/persons/{person_id}/recovery",
        headers=headers,
        params={"from": f"{year}-01-01", "to": f"{year}-01-02"},
    )
    for response in (hrv, recovery):
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"


def test_nul_bytes_in_names_notes_and_urls_are_422(client, admin, person, pool):
    person_id, headers = person
    therapist_id, therapist_token = account_token(pool, "therapist")
    _, app_token = account_token(pool, "app")
    cases = [
        client.post("/v1/persons", headers=admin, json={"name": "Eve\x00", "tz": "UTC"}),
        client.post(
            f"/v1/persons/{person_id}/grants",
            headers=headers,
            json={"grantee_id": therapist_id, "scopes": ["read:evidence"], "note": "a\x00b"},
        ),
        client.post(
            "/v1/access-requests",
            headers=bearer(therapist_token),
            json={"person_id": person_id, "scopes": ["read:evidence"], "note": "\x00"},
        ),
        client.post(
            "/v1/webhooks",
            headers=bearer(app_token),
            json={"url": "https://example.org/\x00", "events": ["import.completed"]},
        ),
    ]
    for response in cases:
        assert response.status_code == 422, (response.request.url, response.text)


def test_webhook_urls_with_crlf_or_private_targets_are_refused(pool, settings):
    _, app_token = account_token(pool, "app")
    strict = TestClient(create_app(settings.model_copy(update={"webhook_allow_networks": ""}), pool=pool))
    for url in (
        "https://example.org/a\r\nX-Injected: 1",
        "https://example.org/a\n",
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.1.2.3/hook",
        "http://[::1]/hook",
        "http://localhost/hook",
    ):
        response = strict.post(
            "/v1/webhooks", headers=bearer(app_token), json={"url": url, "events": ["import.completed"]}
        )
        assert response.status_code == 422, (url, response.text)
    # The allow-list (the test settings allow 127.0.0.0/8) lets a local receiver in.
    allowed = TestClient(create_app(settings, pool=pool)).post(
        "/v1/webhooks",
        headers=bearer(app_token),
        json={"url": "http://127.0.0.1:9/hook", "events": ["import.completed"]},
    )
    assert allowed.status_code == 201, allowed.text


def test_upload_start_in_a_daylight_saving_gap_is_422(client, person):
    person_id, headers = person
    # Europe/Berlin skips 02:00-03:00 on 2024-03-31.
    response = client.post(
        f"/v1/persons/{person_id}/imports",
        headers={**headers, "Content-Type": "application/octet-stream"},
        params={"filename": "rr.txt", "start": "2024-03-31T02:30:00"},
        content=b"800\n" * 10,
    )
    assert response.status_code == 422, response.text
    assert "does not exist" in response.json()["detail"]


def test_fhir_links_use_the_configured_public_url_not_the_host_header(pool, settings):
    person_id = new_person(pool, "FHIR links")
    headers = bearer(patient_token(pool, person_id))
    configured = settings.model_copy(update={"public_url": "https://vagus.example"})
    client = TestClient(create_app(configured, pool=pool))
    response = client.get(f"/v1/persons/{person_id}/fhir", headers={**headers, "Host": "evil.example"})
    assert response.status_code == 200, response.text
    text = response.text
    assert "evil.example" not in text
    assert "https://vagus.example/" in text


def test_a_grant_born_expired_is_refused(client, person, pool):
    person_id, headers = person
    therapist_id, _ = account_token(pool, "therapist")
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat()
    response = client.post(
        f"/v1/persons/{person_id}/grants",
        headers=headers,
        json={"grantee_id": therapist_id, "scopes": ["read:evidence"], "expires_at": past},
    )
    assert response.status_code == 422, response.text


def test_rate_limit_keys_on_the_verified_token_not_the_header_spelling(pool, settings):
    person_id = new_person(pool, "Rate limited")
    token = patient_token(pool, person_id)
    limited = settings.model_copy(update={"rate_limit_per_minute": 1, "rate_limit_burst": 3})
    client = TestClient(create_app(limited, pool=pool))
    spellings = ["Bearer", "bearer", "BEARER", "bEaReR", "BeArEr", "beaRER", "BEARer"]
    statuses = [
        client.get(f"/v1/persons/{person_id}", headers={"Authorization": f"{scheme} {token}"}).status_code
        for scheme in spellings
    ]
    assert statuses[:3] == [200, 200, 200]
    assert set(statuses[3:]) == {429}  # one bucket, however "bearer" is spelled


def test_forwarded_for_is_trusted_only_from_configured_proxies(pool, settings):
    limited = settings.model_copy(update={"rate_limit_per_minute": 1, "rate_limit_burst": 2})
    direct = TestClient(create_app(limited, pool=pool))
    rotating = [
        direct.get("/v1/me", headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(5)
    ]
    assert rotating[:2] == [401, 401] and set(rotating[2:]) == {429}
    # Behind a trusted proxy, the nearest untrusted hop is the client.
    scope = {
        "client": ("10.0.0.5", 4000),
        "headers": [(b"x-forwarded-for", b"198.51.100.7, 203.0.113.9, 10.0.0.4")],
    }
    assert client_ip(scope, "10.0.0.0/8") == "203.0.113.9"
    assert client_ip(scope, "") == "10.0.0.5"
    assert client_ip({**scope, "client": ("192.0.2.1", 1)}, "10.0.0.0/8") == "192.0.2.1"


def test_denied_attempts_and_admin_listings_are_audited(client, admin, person, pool):
    person_id, _ = person
    other = new_person(pool, "Someone else")
    intruder_headers = bearer(patient_token(pool, other))
    assert client.get(f"/v1/persons/{person_id}/observations", headers=intruder_headers).status_code == 404
    assert client.get("/v1/persons", headers=intruder_headers).status_code == 403
    for path in ("/v1/persons", "/v1/jobs", "/v1/webhooks"):
        assert client.get(path, headers=admin).status_code == 200, path
    with rls.system_connection(pool) as conn:
        rows = conn.execute(
            "SELECT action, person_id::text AS person, resource FROM audit_event ORDER BY id"
        ).fetchall()
    actions = [(r["action"], r["person"], r["resource"]) for r in rows]
    assert ("denied:read:observations", person_id, f"GET /v1/persons/{person_id}/observations") in actions
    assert ("denied:admin", None, "GET /v1/persons") in actions
    for path in ("/v1/persons", "/v1/jobs", "/v1/webhooks"):
        assert ("admin", None, f"GET {path}") in actions, path
