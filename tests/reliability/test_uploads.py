"""Uploads: streamed under the limit for every encoding, never blocking the event loop,
never half-stored, never through a link (issue 16, defects 3, 6 and 7; disk full)."""

from __future__ import annotations

import os
import resource
import signal
import threading
from pathlib import Path

import anyio
import psycopg
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.imports import inbox, uploads
from tests.support.jobs import sql, wait_for
from tests.support.people import bearer, new_person, patient_token
from tests.support.server import http, serving

RR = b"".join(b"%d\n" % (800 + i % 40) for i in range(2000))


def _files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def _multipart(boundary: bytes, size: int, chunk: int = 64 * 1024):
    yield (
        b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; '
        b'filename="big.txt"\r\nContent-Type: text/plain\r\n\r\n'
    )
    sent = 0
    while sent < size:
        yield b"8" * chunk
        sent += chunk
    yield b"\r\n--" + boundary + b"--\r\n"


def test_chunked_multipart_over_the_limit_is_refused_while_streaming(pool, settings):
    """The app stops reading at the limit: it never takes (or spools) the rest."""
    person_id = new_person(pool, "Chunked multipart")
    token = patient_token(pool, person_id)
    app = create_app(settings, pool=pool)
    limit = settings.max_upload_bytes
    boundary = b"vagus-test-boundary"
    body = _multipart(boundary, limit * 4)
    consumed = 0
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal consumed
        chunk = next(body, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        consumed += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": f"/v1/persons/{person_id}/imports",
        "raw_path": f"/v1/persons/{person_id}/imports".encode(),
        "query_string": b"",
        "root_path": "",
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 80),
        "headers": [
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", b"multipart/form-data; boundary=" + boundary),
            (b"transfer-encoding", b"chunked"),
        ],
    }
    anyio.run(app, scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 413
    assert consumed <= limit + 2 * 64 * 1024  # at most one chunk past the limit was read
    assert _files_under(settings.upload_dir / person_id) == []
    assert not sql(pool, "SELECT 1 FROM import WHERE person_id = %s", (person_id,))


def test_a_failure_after_the_file_was_written_leaves_no_import_and_no_file(pool, settings, monkeypatch):
    person_id = new_person(pool, "Failing enqueue")
    headers = bearer(patient_token(pool, person_id))

    def broken_enqueue(*args, **kwargs):
        raise psycopg.OperationalError("the database went away mid-upload")

    monkeypatch.setattr("service.imports.endpoints.enqueue", broken_enqueue)
    client = TestClient(create_app(settings, pool=pool))
    response = client.post(
        f"/v1/persons/{person_id}/imports",
        content=RR,
        headers={**headers, "Content-Type": "application/octet-stream"},
        params={"filename": "rr.txt", "start": "2024-05-04T07:00:00Z"},
    )
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "retry-after" in response.headers
    assert not sql(pool, "SELECT 1 FROM import WHERE person_id = %s", (person_id,))
    assert _files_under(settings.upload_dir / person_id) == []


def test_a_full_disk_answers_507_and_stores_nothing(pool, settings):
    """Disk full, simulated with a file-size limit on this process (EFBIG on write)."""
    person_id = new_person(pool, "Disk full")
    headers = bearer(patient_token(pool, person_id))
    client = TestClient(create_app(settings, pool=pool))
    big = b"800\n" * 300_000  # 1.2 MB
    previous_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, hard))
    try:
        response = client.post(
            f"/v1/persons/{person_id}/imports",
            content=big,
            headers={**headers, "Content-Type": "application/octet-stream"},
            params={"filename": "rr.txt", "start": "2024-05-04T07:00:00Z"},
        )
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous_handler)
    assert response.status_code == 507, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert not sql(pool, "SELECT 1 FROM import WHERE person_id = %s", (person_id,))
    assert _files_under(settings.upload_dir / person_id) == []
    assert client.get("/healthz").status_code == 200


def test_a_waiting_upload_does_not_block_the_event_loop(database_url, pool, settings):
    """While an upload waits on the database (here: a lock on the import table), the
    server still answers /healthz: the upload's database work is not on the event loop."""
    person_id = new_person(pool, "Loop")
    token = patient_token(pool, person_id)
    with serving(create_app(settings, pool=pool)) as base, psycopg.connect(database_url) as locker:
        locker.execute("LOCK TABLE import IN SHARE ROW EXCLUSIVE MODE")  # inserts wait
        outcome: list = []
        uploader = threading.Thread(
            target=lambda: outcome.append(
                http(
                    "POST",
                    f"{base}/v1/persons/{person_id}/imports?filename=rr.txt&start=2024-05-04T07:00:00Z",
                    body=RR,
                    timeout=300,
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/octet-stream"},
                )
            ),
            daemon=True,
        )
        uploader.start()
        wait_for(
            lambda: (
                locker.execute(
                    "SELECT count(*) FROM pg_locks WHERE relation = 'import'::regclass AND NOT granted"
                ).fetchone()[0]
                > 0
            ),
            what="the upload to wait on the lock",
        )
        health: list = []
        prober = threading.Thread(
            target=lambda: health.append(http("GET", f"{base}/healthz", timeout=120).status), daemon=True
        )
        prober.start()
        prober.join(120)  # before the fix the loop was stuck until the lock went away
        answered_while_waiting = health == [200] and uploader.is_alive()
        locker.rollback()  # release the lock
        uploader.join(300)
    assert answered_while_waiting
    assert outcome and outcome[0].status == 202, outcome and outcome[0].text


def test_the_inbox_never_follows_links(pool, settings, tmp_path):
    victim = new_person(pool, "Victim")
    thief = new_person(pool, "Thief")
    secret = tmp_path / "victims-upload.txt"
    secret.write_bytes(RR)
    root = settings.inbox_dir
    (root / thief).mkdir(parents=True, exist_ok=True)
    os.symlink(secret, root / thief / "stolen.txt")
    (root / "elsewhere").mkdir(exist_ok=True)
    first = inbox.sync(pool, settings)
    second = inbox.sync(pool, settings)
    assert first.links_refused == second.links_refused == 1
    assert second.queued == 0
    assert not sql(pool, "SELECT 1 FROM import WHERE person_id = %s", (thief,))
    assert secret.read_bytes() == RR  # untouched, not moved
    del victim


def test_upload_folders_that_are_links_are_refused(settings, tmp_path):
    person = "0f0f0f0f-0000-4000-8000-000000000001"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    settings.upload_dir.mkdir(parents=True, exist_ok=True)
    os.symlink(elsewhere, settings.upload_dir / person)
    with pytest.raises(uploads.UnsafePath):
        uploads.path_for(settings.upload_dir, person, 1, "x.txt")
    with pytest.raises(uploads.UnsafePath):
        uploads.incoming_path(settings.upload_dir, person)
    assert list(elsewhere.iterdir()) == []
