"""Abuse limits and browser hardening: rate limits, body limits, headers, CORS."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service.core.http.middleware import TokenBuckets
from tests.support.people import bearer, new_person, patient_token


@pytest.fixture
def make_client(settings, pool):
    from service.app import create_app

    clients = []

    def make(**changes) -> TestClient:
        client = TestClient(create_app(settings.model_copy(update=changes), pool=pool))
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def test_a_token_over_its_burst_gets_429_with_retry_after(make_client, pool):
    client = make_client(rate_limit_per_minute=6, rate_limit_burst=3)
    person = new_person(pool, "Busy")
    busy, calm = bearer(patient_token(pool, person)), bearer(patient_token(pool, person))
    codes = [client.get(f"/v1/persons/{person}", headers=busy).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = client.get(f"/v1/persons/{person}", headers=busy)
    assert limited.headers["content-type"] == "application/problem+json"
    assert int(limited.headers["retry-after"]) >= 1
    # Another token has its own bucket; probes are never limited.
    assert client.get(f"/v1/persons/{person}", headers=calm).status_code == 200
    assert client.get("/healthz").status_code == 200


def test_token_bucket_refills_at_the_configured_rate():
    buckets = TokenBuckets(per_minute=60, burst=2)
    assert [buckets.take("k", now=0.0) for _ in range(2)] == [0.0, 0.0]
    assert buckets.take("k", now=0.0) == pytest.approx(1.0)
    assert buckets.take("k", now=0.5) == pytest.approx(0.5)
    assert buckets.take("k", now=1.5) == 0.0


def test_bodies_over_the_limit_are_413_but_uploads_have_their_own(make_client, pool):
    client = make_client(max_body_bytes=1024)
    person = new_person(pool, "Bodies")
    headers = bearer(patient_token(pool, person))
    big = {
        "grantee_id": "00000000-0000-4000-8000-000000000000",
        "scopes": ["read:evidence"],
        "note": "x" * 2000,
    }
    response = client.post(f"/v1/persons/{person}/grants", json=big, headers=headers)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"

    def chunks():  # no Content-Length: counted while streaming
        for _ in range(4):
            yield b"y" * 512

    streamed = client.post(
        f"/v1/persons/{person}/grants",
        content=chunks(),
        headers={**headers, "Content-Type": "application/json"},
    )
    assert streamed.status_code == 413
    upload = client.post(
        f"/v1/persons/{person}/imports",
        headers=headers,
        params={"filename": "rr.txt", "start": "2024-05-04T07:00:00Z"},
        content=b"800\n" * 1000,
    )
    assert upload.status_code in (201, 202)


def test_security_headers_on_every_response(client, pool):
    person = new_person(pool, "Headers")
    response = client.get(f"/v1/persons/{person}", headers=bearer(patient_token(pool, person)))
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    unauthorized = client.get(f"/v1/persons/{person}")
    assert unauthorized.status_code == 401 and unauthorized.headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in response.headers  # plain http here


def test_cors_is_closed_by_default_and_opens_for_listed_origins(client, make_client):
    preflight = {
        "Origin": "https://clinic.example",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }
    closed = client.options("/v1/me", headers=preflight)
    assert "access-control-allow-origin" not in closed.headers
    opened = make_client(cors_origins="https://clinic.example, https://other.example")
    allowed = opened.options("/v1/me", headers=preflight)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://clinic.example"
    foreign = opened.options("/v1/me", headers={**preflight, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in foreign.headers


def test_hsts_when_served_over_https(make_client):
    client = make_client(public_url="https://vagus.example")
    assert client.get("/healthz").headers["strict-transport-security"].startswith("max-age=")
