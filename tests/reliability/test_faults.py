"""Fault suites: many readers on a small pool, a database cut during reads, a worker
paused past its lease, two API replicas and two workers on one database (issue 16,
defects 2, 8 and 11; the standing fault suites).

Database cuts go through a TCP proxy this test starts (tests/support/jobs.py), never
by restarting the shared server. Nothing here is timed: each test asserts outcomes
(statuses, rows, ledgers) with generous bounds on how long to wait for them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.core.db.connect import create_pool
from service.jobs.worker import Worker
from tests.conftest import REPO_ROOT
from tests.support.jobs import (
    START,
    TcpProxy,
    job_settings,
    queue_import,
    sql,
    wait_for,
    write_big_rr,
)
from tests.support.people import bearer, import_file, new_person, patient_token, write_rr_text
from tests.support.server import http, serving

pytestmark = pytest.mark.slow


def test_sixty_concurrent_readers_on_a_pool_of_three_all_get_answers(database_url, settings, tmp_path):
    """More waiting requests than endpoint threads (40) and far more than connections:
    before the fix, sync dependencies could not give connections back (PoolTimeout 500s)."""
    small = create_pool(database_url, 3)
    try:
        person_id = new_person(small, "Many readers")
        import_file(small, person_id, write_rr_text(tmp_path / "rr.txt"), start=START)
        token = patient_token(small, person_id)
        patient = settings.model_copy(update={"request_pool_timeout_s": 120, "rate_limit_per_minute": 0})
        with serving(create_app(patient, pool=small)) as base:
            url = f"{base}/v1/persons/{person_id}/observations?limit=200"
            answers: list[int] = []
            lock = threading.Lock()

            def read() -> None:
                status = http("GET", url, headers={"Authorization": f"Bearer {token}"}, timeout=300).status
                with lock:
                    answers.append(status)

            readers = [threading.Thread(target=read, daemon=True) for _ in range(60)]
            for reader in readers:
                reader.start()
            health = http("GET", f"{base}/healthz", timeout=300).status
            for reader in readers:
                reader.join(300)
        assert health == 200
        assert sorted(answers) == [200] * 60
    finally:
        small.close()


def test_database_cut_during_reads_answers_503_problems_then_recovers(jobs_pool, jobs_url, tmp_path):
    person_id = new_person(jobs_pool, "Outage reader")
    headers = bearer(patient_token(jobs_pool, person_id))
    proxy = TcpProxy(jobs_url)
    proxy.start()
    url = proxy.url(jobs_url)
    pool = create_pool(url, 4)
    try:
        client = TestClient(create_app(job_settings(url, tmp_path), pool=pool))
        assert client.get(f"/v1/persons/{person_id}", headers=headers).status_code == 200
        proxy.cut()
        for path in (f"/v1/persons/{person_id}", f"/v1/persons/{person_id}/observations"):
            down = client.get(path, headers=headers)
            assert down.status_code == 503, down.text
            assert down.headers["content-type"] == "application/problem+json"
            assert int(down.headers["retry-after"]) > 0
        proxy.start()
        wait_for(
            lambda: client.get(f"/v1/persons/{person_id}", headers=headers).status_code == 200,
            what="reads to recover",
        )
    finally:
        proxy.cut()
        pool.close()


def _worker_process(url: str, data_dir, log_path) -> subprocess.Popen:
    env = {
        **os.environ,
        "VAGUS_DATABASE_URL": url,
        "VAGUS_DATA_DIR": str(data_dir),
        "VAGUS_JOB_LEASE_S": "2",
        "VAGUS_JOB_POLL_S": "0.1",
        "VAGUS_JOB_RETRY_BASE_S": "0.1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "service.cli", "-v", "worker", "--no-scheduler"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log_path.open("w"),
    )


@pytest.fixture
def processes():
    started: list[subprocess.Popen] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)
            proc.kill()
        proc.wait(30)


def test_a_worker_paused_past_its_lease_never_commits(jobs_pool, jobs_url, tmp_path, processes):
    """SIGSTOP mid-import; another worker takes over and finishes; SIGCONT: the paused
    attempt stops (or fails its commit-time check) and the ledger counts every beat once."""
    beats = 400_000
    person = new_person(jobs_pool, "Paused worker")
    import_id, job_id = queue_import(jobs_pool, person, write_big_rr(tmp_path / "rr.txt", beats))
    paused_log = tmp_path / "paused.log"
    paused = _worker_process(jobs_url, tmp_path, paused_log)
    processes.append(paused)
    wait_for(
        lambda: (
            (r := sql(jobs_pool, "SELECT status, bytes_read FROM import WHERE id = %s", (import_id,))[0])[
                "status"
            ]
            == "running"
            and r["bytes_read"] > 0
        ),
        timeout_s=180,
        what="the import to run",
    )
    os.kill(paused.pid, signal.SIGSTOP)
    rescuer = _worker_process(jobs_url, tmp_path, tmp_path / "rescuer.log")
    processes.append(rescuer)
    wait_for(
        lambda: sql(jobs_pool, "SELECT attempts FROM job WHERE id = %s", (job_id,))[0]["attempts"] >= 2,
        timeout_s=180,
        what="the other worker to claim the lapsed job",
    )
    # The paused worker wakes up (a VM pause or a long GC ends): before the fix both
    # attempts ran to their commits and the ledger said "inserted 0, duplicates N".
    os.kill(paused.pid, signal.SIGCONT)
    wait_for(
        lambda: sql(jobs_pool, "SELECT state FROM job WHERE id = %s", (job_id,))[0]["state"] == "succeeded",
        timeout_s=300,
        what="the other worker to finish the import",
    )
    assert "lost the lease" in paused_log.read_text()
    rescuer.terminate()
    paused.terminate()
    for proc in (rescuer, paused):
        proc.wait(60)
    record = sql(jobs_pool, "SELECT * FROM import WHERE id = %s", (import_id,))[0]
    assert (record["status"], record["read"], record["inserted"], record["duplicates"]) == (
        "completed",
        beats,
        beats,
        0,
    )
    counts = sql(
        jobs_pool,
        "SELECT count(*) AS n, count(DISTINCT ts) AS d FROM observation WHERE person_id = %s",
        (person,),
    )[0]
    assert counts == {"n": beats, "d": beats}


def test_two_api_replicas_and_two_workers_share_one_database(jobs_url, jobs_settings, tmp_path):
    pools = [create_pool(jobs_url, 4) for _ in range(2)]
    workers = [Worker(p, jobs_settings, kinds=["import"]) for p in pools]
    try:
        person_id = new_person(pools[0], "Replicated")
        headers = bearer(patient_token(pools[0], person_id))
        replicas = [TestClient(create_app(jobs_settings, pool=p)) for p in pools]
        for worker in workers:
            worker.start()
        ids = []
        for i, replica in enumerate(replicas * 2):
            body = b"".join(b"%d\n" % (700 + (i * 37 + k) % 300) for k in range(300))
            answer = replica.post(
                f"/v1/persons/{person_id}/imports",
                content=body,
                headers={**headers, "Content-Type": "application/octet-stream"},
                params={"filename": f"rr{i}.txt", "start": f"2024-05-0{i + 1}T07:00:00Z"},
            )
            assert answer.status_code == 202, answer.text
            ids.append(answer.json()["id"])
        for import_id in ids:
            wait_for(
                lambda import_id=import_id: (
                    replicas[1].get(f"/v1/imports/{import_id}", headers=headers).json()["status"]
                    == "completed"
                ),
                timeout_s=180,
                what=f"import {import_id}",
            )
        totals = sql(
            pools[0],
            "SELECT sum(inserted) AS inserted, sum(duplicates) AS dup FROM import WHERE person_id = %s",
            (person_id,),
        )[0]
        stored = sql(pools[0], "SELECT count(*) AS n FROM observation WHERE person_id = %s", (person_id,))[0][
            "n"
        ]
        assert (totals["inserted"], totals["dup"], stored) == (4 * 300, 0, 4 * 300)
        assert (
            sql(
                pools[0],
                "SELECT count(*) AS n FROM job WHERE kind = 'import' AND "
                "payload->>'import_id' = ANY(%s) AND attempts = 1",
                ([str(i) for i in ids],),
            )[0]["n"]
            == 4
        )  # each ran exactly once
    finally:
        for worker in workers:
            worker.stop()
        for p in pools:
            p.close()
