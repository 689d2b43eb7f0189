"""The HTTP API against a real database: contract, errors, auth."""

from __future__ import annotations

import datetime as dt
import json
import re
import time

import pytest

from tests.support.people import admin_token, bearer, new_person, patient_token

START = "2024-05-04T07:00:00Z"
RR_BODY = "\n".join(str(800 + (i % 9) * 12) for i in range(500)).encode()


@pytest.fixture(scope="module")
def admin(pool) -> dict[str, str]:
    return bearer(admin_token(pool))


@pytest.fixture(scope="module")
def alice(pool) -> tuple[str, dict[str, str]]:
    person = new_person(pool, "Alice")
    return person, bearer(patient_token(pool, person))


@pytest.fixture(scope="module", autouse=True)
def job_worker(pool, settings):
    """Uploads are imported by a worker: run one beside the app for this module."""
    from service.jobs.worker import Worker

    worker = Worker(pool, settings.model_copy(update={"job_poll_s": 0.1}), concurrency=2)
    worker.start()
    yield worker
    worker.stop()


def _imported(client, response, headers, timeout_s: float = 60.0) -> dict:
    """The record of an accepted upload once its import has finished (polled, not timed)."""
    assert response.status_code == 202, response.text
    record = response.json()
    assert record["status"] in ("queued", "running")
    deadline = time.monotonic() + timeout_s
    while record["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.05)
        record = client.get(f"/v1/imports/{record['id']}", headers=headers).json()
    return record


def _upload(client, person, headers, body=RR_BODY, **params):
    params.setdefault("filename", "rr.txt")
    return client.post(
        f"/v1/persons/{person}/imports",
        params=params,
        content=body,
        headers={**headers, "Content-Type": "application/octet-stream"},
    )


def test_health_and_readiness(client, tier):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["migrations"] == "current" and ready.json()["tier"] == tier


def test_admin_creates_a_person_and_the_patient_reads_it(client, admin, pool):
    created = client.post("/v1/persons", json={"name": "Bo", "tz": "Europe/Oslo"}, headers=admin)
    assert created.status_code == 201
    person = created.json()
    token = bearer(patient_token(pool, person["id"]))
    assert client.get(f"/v1/persons/{person['id']}", headers=token).json() == person


def test_unknown_time_zone_is_a_problem_document(client, admin):
    response = client.post("/v1/persons", json={"name": "X", "tz": "Mars/Olympus"}, headers=admin)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422 and "tz" in problem["detail"]
    assert {"type", "title", "status", "detail", "instance"} <= problem.keys()


def test_missing_and_bad_tokens_are_401(client, alice):
    person, _ = alice
    assert client.get(f"/v1/persons/{person}").status_code == 401
    response = client.get(f"/v1/persons/{person}", headers=bearer("vgs_not-a-real-token"))
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def test_patients_cannot_create_people(client, alice):
    _, headers = alice
    assert client.post("/v1/persons", json={"name": "Y"}, headers=headers).status_code == 403


def test_upload_imports_and_reimport_reports_duplicates(client, alice):
    person, headers = alice
    body = _imported(client, _upload(client, person, headers, start=START), headers)
    assert (body["status"], body["inserted"], body["connector"]) == ("completed", 500, "rr_text")
    again = _imported(client, _upload(client, person, headers, start=START), headers)
    assert (again["inserted"], again["duplicates"], again["same_file_as"]) == (0, 500, body["id"])
    fetched = client.get(f"/v1/imports/{body['id']}", headers=headers).json()
    assert fetched["id"] == body["id"] and fetched["sha256"] == body["sha256"]
    listed = client.get(f"/v1/persons/{person}/imports", headers=headers).json()["items"]
    assert [i["id"] for i in listed[:2]] == [again["id"], body["id"]]


def test_bad_upload_fails_with_reason_and_service_keeps_serving(client, alice):
    person, headers = alice
    body = b"800\n" * 80 + b"this is not a number\n"
    response = _upload(client, person, headers, body=body, filename="bad.txt", start=START)
    record = _imported(client, response, headers)
    assert record["status"] == "failed"
    assert record["error"].startswith("bad.txt line 81:")
    assert "uploads" not in record["error"]  # no server paths in errors
    assert client.get("/healthz").status_code == 200


def test_upload_over_the_limit_is_413(client, alice, settings):
    person, headers = alice
    response = _upload(client, person, headers, body=b"8" * (settings.max_upload_bytes + 1))
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


def test_empty_upload_is_400(client, alice):
    person, headers = alice
    assert _upload(client, person, headers, body=b"").status_code == 400


def test_observations_paginate_in_key_order_and_stream(client, pool):
    person = new_person(pool, "Paged")
    headers = bearer(patient_token(pool, person))
    assert _imported(client, _upload(client, person, headers, start=START), headers)["inserted"] == 500
    seen, cursor = [], None
    while True:
        params = {"metric": "rr_interval", "limit": 120, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"/v1/persons/{person}/observations", params=params, headers=headers)
        assert page.status_code == 200
        seen += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 500
    times = [dt.datetime.fromisoformat(o["ts"]) for o in seen]
    assert times == sorted(times) and len(set(times)) == 500
    streamed = client.get(f"/v1/persons/{person}/observations", params={"format": "ndjson"}, headers=headers)
    assert streamed.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in streamed.text.splitlines()]
    assert [line["value"] for line in lines] == [o["value"] for o in seen]


def test_observation_range_filters(client, pool):
    person = new_person(pool, "Ranged")
    headers = bearer(patient_token(pool, person))
    _imported(client, _upload(client, person, headers, start=START), headers)
    params = {"from": "2024-05-04T07:01:00Z", "to": "2024-05-04T07:02:00Z", "limit": 1000}
    items = client.get(f"/v1/persons/{person}/observations", params=params, headers=headers).json()["items"]
    assert items and all("07:01" in o["ts"] for o in items)


def test_bad_cursor_is_400(client, alice):
    person, headers = alice
    response = client.get(f"/v1/persons/{person}/observations", params={"cursor": "@@"}, headers=headers)
    assert response.status_code == 400


def _person_endpoints(app) -> list[tuple[str, str, dict]]:
    """Every (method, path, valid required query) of the OpenAPI document that names a person."""
    found = []
    for path, operations in app.openapi()["paths"].items():
        if "{person_id}" in path:
            found += [(method.upper(), path, _required_query(op)) for method, op in operations.items()]
    return found


def _required_query(operation: dict) -> dict[str, str]:
    """Valid values for an operation's required query parameters, from their schemas,
    so that the request is refused for its person and not for a missing parameter."""
    params = {}
    for param in operation.get("parameters", []):
        if param["in"] == "query" and param["name"] == "start":
            params["start"] = START
        if param["in"] != "query" or not param.get("required"):
            continue
        schema = param["schema"]
        schema = next((s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"), schema)
        if schema.get("format") == "date":
            params[param["name"]] = "2024-05-04"
        elif schema.get("format") == "date-time":
            params[param["name"]] = START
        elif schema.get("type") == "integer":
            params[param["name"]] = str(schema.get("minimum", 1))
        else:
            params[param["name"]] = schema.get("enum", ["x.txt"])[0]
    return params


def test_a_patient_reaches_no_other_person_on_any_endpoint(client, app, pool, alice):
    _, alice_headers = alice
    bob = new_person(pool, "Bob")
    bob_headers = bearer(patient_token(pool, bob))
    assert (
        _imported(client, _upload(client, bob, bob_headers, start=START), bob_headers)["status"]
        == "completed"
    )
    endpoints = _person_endpoints(app)
    assert len(endpoints) >= 4  # persons, imports (2), observations
    for method, path, required in endpoints:
        url = path.replace("{person_id}", bob)
        # `start` only where declared: an unknown parameter is refused (422) for any caller,
        # before access is decided, so that answer reveals nothing about Bob.
        response = client.request(method, url, headers=alice_headers, params=required, content=b"800\n")
        assert response.status_code == 404, (method, path, response.status_code)
        assert "Bob" not in response.text and bob_headers["Authorization"] not in response.text
    # Bob's import records are also out of Alice's reach.
    bob_import = client.get(f"/v1/persons/{bob}/imports", headers=bob_headers).json()["items"][0]
    assert client.get(f"/v1/imports/{bob_import['id']}", headers=alice_headers).status_code == 404


def test_openapi_describes_every_endpoint_with_schemas(app):
    spec = app.openapi()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary") or operation.get("description"), (method, path)
            ok = (
                operation["responses"].get("200")
                or operation["responses"].get("201")
                or operation["responses"].get("202")
            )
            assert ok and ok.get("content"), (method, path)
            assert re.match(r"^/(v1/|healthz|readyz)", path)


def test_multipart_upload_takes_the_file_part_and_its_name(client, alice):
    person, headers = alice
    files = {"file": ("from-form.txt", RR_BODY, "text/plain")}
    response = client.post(
        f"/v1/persons/{person}/imports", headers=headers, files=files, params={"start": START}
    )
    assert response.status_code == 202, response.text
    record = _imported(client, response, headers)
    assert (record["file_name"], record["status"]) == ("from-form.txt", "completed")
    assert record["read"] == 500
    missing = client.post(
        f"/v1/persons/{person}/imports", headers=headers, files={"other": ("x.txt", b"800\n", "text/plain")}
    )
    assert missing.status_code == 422 and "file" in missing.json()["detail"]
    raw_without_name = client.post(
        f"/v1/persons/{person}/imports",
        content=RR_BODY,
        headers={**headers, "Content-Type": "application/octet-stream"},
    )
    assert raw_without_name.status_code == 422 and "filename" in raw_without_name.json()["detail"]
