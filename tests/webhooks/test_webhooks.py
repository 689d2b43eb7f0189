"""Outgoing webhooks against a real HTTP receiver on 127.0.0.1: signed, retried, logged."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from service.access import auth
from service.access.repository import accounts, grants
from service.app import create_app
from service.core.db import rls
from service.jobs.worker import Worker
from service.webhooks.service import sign, verify_signature
from tests.support.jobs import queue_import, sql, wait_for
from tests.support.people import bearer, new_person, write_rr_text


class Receiver:
    """Answers 500 to the first ``failures`` POSTs, then 200; keeps every request."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.requests: list[tuple[dict[str, str], bytes, int]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = 500 if len(receiver.requests) < receiver.failures else 200
                receiver.requests.append((dict(self.headers), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/events"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:  # noqa: PYI034
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_signature_round_trip_and_refusals():
    body = b'{"id":"import.completed:import:1"}'
    header = sign("whsec_k", body)
    assert verify_signature("whsec_k", body, header)
    assert not verify_signature("whsec_other", body, header)
    assert not verify_signature("whsec_k", body + b" ", header)
    assert not verify_signature("whsec_k", body, "garbage")
    stale = sign("whsec_k", body, timestamp=int(time.time()) - 301)
    assert not verify_signature("whsec_k", body, stale)  # outside the 5-minute replay window
    assert verify_signature("whsec_k", body, stale, now=time.time() - 10)


@pytest.fixture
def app_account(jobs_pool):
    """An app account, its token, and a person who granted it read access to observations."""
    person = new_person(jobs_pool)
    with rls.system_connection(jobs_pool) as conn:
        account = accounts.create(conn, role="app", name="Fitness app")
        token, _ = auth.issue_token(conn, account_id=str(account["id"]))
        grants.create(
            conn,
            person_id=person,
            grantee_id=str(account["id"]),
            scopes=["read:observations"],
            status="active",
            requested_by=str(account["id"]),
            expires_at=None,
            note=None,
        )
    return person, bearer(token)


def test_receiver_failing_twice_gets_the_event_once_on_the_third_try(
    jobs_pool, jobs_settings, app_account, tmp_path
):
    person, app_headers = app_account
    client = TestClient(create_app(jobs_settings, pool=jobs_pool))
    with Receiver(failures=2) as receiver:
        created = client.post(
            "/v1/webhooks",
            headers=app_headers,
            json={"url": receiver.url, "events": ["import.completed", "import.failed"], "person_id": person},
        )
        assert created.status_code == 201, created.text
        subscription = created.json()
        secret = subscription["secret"]
        assert secret.startswith("whsec_")
        listed = client.get("/v1/webhooks", headers=app_headers).json()
        assert "secret" not in listed["items"][0]

        import_id, _ = queue_import(jobs_pool, person, write_rr_text(tmp_path / "rr.txt"))
        worker = Worker(jobs_pool, jobs_settings, kinds=["import", "webhook_deliver"])
        worker.start()
        try:
            job = wait_for(
                lambda: (
                    (
                        rows := sql(
                            jobs_pool,
                            "SELECT * FROM job WHERE kind = 'webhook_deliver' "
                            "AND state IN ('succeeded', 'dead')",
                        )
                    )
                    and rows[0]
                ),
                what="the delivery to finish",
            )
        finally:
            worker.stop()

    assert (job["state"], job["attempts"]) == ("succeeded", 3)
    statuses = [status for _, _, status in receiver.requests]
    assert statuses == [500, 500, 200]  # accepted once, on the third try
    headers, body, _ = receiver.requests[-1]
    assert verify_signature(secret, body, headers["Vagus-Signature"])
    assert not verify_signature(secret, body.replace(b"completed", b"failed"), headers["Vagus-Signature"])
    assert {h["Vagus-Delivery"] for h, _, _ in receiver.requests} == {f"import.completed:import:{import_id}"}
    event = json.loads(body)
    assert (event["type"], event["person_id"]) == ("import.completed", person)
    assert (event["data"]["id"], event["data"]["inserted"]) == (import_id, 600)

    log = client.get(f"/v1/webhooks/{subscription['id']}/deliveries", headers=app_headers)
    assert log.status_code == 200
    attempts = [(d["attempt"], d["status_code"], d["succeeded"]) for d in reversed(log.json()["items"])]
    assert attempts == [(1, 500, False), (2, 500, False), (3, 200, True)]


def test_no_event_without_consent_and_only_apps_subscribe(jobs_pool, jobs_settings, tmp_path):
    from service.webhooks.service import emit
    from tests.support.people import patient_token

    stranger = new_person(jobs_pool)
    with rls.system_connection(jobs_pool) as conn:
        account = accounts.create(conn, role="app", name="Nosy app")
        conn.execute(
            "INSERT INTO webhook_subscription (account_id, url, secret, events) "
            "VALUES (%s, 'http://127.0.0.1:9/x', 's', '{import.completed}')",
            (account["id"],),
        )
        queued = emit(conn, "import.completed", person_id=stranger, subject="import:0", data={})
    assert queued == 0  # no grant on this person: nothing leaves
    client = TestClient(create_app(jobs_settings, pool=jobs_pool))
    patient = bearer(patient_token(jobs_pool, stranger))
    response = client.post(
        "/v1/webhooks", headers=patient, json={"url": "http://127.0.0.1:9/x", "events": ["import.failed"]}
    )
    assert response.status_code == 403
