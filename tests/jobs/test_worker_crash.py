"""Crash safety: a worker killed mid-import, connections killed mid-job, a database outage.

What is tested, exactly:

* SIGKILL: a ``vagus worker`` subprocess is killed with SIGKILL while it
  imports a large RR file (progress already visible on the import row). A
  second worker subprocess claims the job once the lease (2 s here) lapses;
  the import completes once, with every row stored once.
* Connections killed: ``pg_terminate_backend`` on every connection of an
  in-process worker while it imports; the attempt fails, the job is retried
  after its backoff and completes.
* Outage: the worker and an API instance reach PostgreSQL through a TCP proxy
  that the test cuts (all connections broken, new ones refused) in the middle
  of an import, then restores. ``/readyz`` answers 503 during the outage and
  200 again afterwards without a restart; the job is retried and completes.
  (The shared test server itself is never restarted.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import psycopg
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.core.db.connect import create_pool
from service.jobs.worker import Worker
from tests.conftest import REPO_ROOT
from tests.support.jobs import (
    TcpProxy,
    job_settings,
    queue_import,
    sql,
    wait_for,
    write_big_rr,
)
from tests.support.people import new_person

pytestmark = pytest.mark.slow


def _import(pool, import_id):
    return sql(pool, "SELECT * FROM import WHERE id = %s", (import_id,))[0]


def _job(pool, job_id):
    return sql(pool, "SELECT * FROM job WHERE id = %s", (job_id,))[0]


def _running_with_progress(pool, import_id):
    row = _import(pool, import_id)
    return row["status"] == "running" and row["bytes_read"] > 0


def _assert_imported_once(pool, person, import_id, beats):
    record = _import(pool, import_id)
    assert (record["status"], record["read"], record["inserted"], record["duplicates"]) == (
        "completed",
        beats,
        beats,
        0,
    )
    counts = sql(
        pool,
        "SELECT count(*) AS n, count(DISTINCT ts) AS distinct_ts, "
        "count(*) FILTER (WHERE import_id = %s) AS from_import "
        "FROM observation WHERE person_id = %s",
        (import_id, person),
    )[0]
    assert counts == {"n": beats, "distinct_ts": beats, "from_import": beats}
    assert sql(pool, "SELECT count(*) AS n FROM import WHERE person_id = %s", (person,))[0]["n"] == 1


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
    for proc in started:  # no leaked workers, whatever happened
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)


def test_sigkill_mid_import_another_worker_finishes_it_once(jobs_pool, jobs_url, tmp_path, processes):
    beats = 600_000
    person = new_person(jobs_pool)
    path = write_big_rr(tmp_path / "big-rr.txt", beats)
    import_id, job_id = queue_import(jobs_pool, person, path)

    first = _worker_process(jobs_url, tmp_path / "w1", tmp_path / "w1.log")
    processes.append(first)
    wait_for(lambda: _running_with_progress(jobs_pool, import_id), what="the import to run")
    first.send_signal(signal.SIGKILL)
    first.wait(30)
    killed = _job(jobs_pool, job_id)
    assert (killed["state"], killed["attempts"]) == ("running", 1)
    assert _import(jobs_pool, import_id)["status"] == "running"

    second = _worker_process(jobs_url, tmp_path / "w2", tmp_path / "w2.log")
    processes.append(second)
    done = wait_for(
        lambda: (j := _job(jobs_pool, job_id))["state"] == "succeeded" and j,
        timeout_s=120,
        what="the second worker to finish the job",
    )
    assert done["attempts"] == 2 and done["locked_by"] is None
    assert "lease expired" in done["last_error"] and killed["locked_by"] in done["last_error"]
    _assert_imported_once(jobs_pool, person, import_id, beats)


def test_killed_connections_mid_job_are_retried(jobs_pool, jobs_settings, tmp_path):
    beats = 400_000
    person = new_person(jobs_pool)
    import_id, job_id = queue_import(jobs_pool, person, write_big_rr(tmp_path / "rr.txt", beats))
    worker_pool = create_pool(jobs_settings.database_url, 6)
    worker = Worker(worker_pool, jobs_settings, kinds=["import"])
    worker.start()
    try:
        wait_for(lambda: _running_with_progress(jobs_pool, import_id), what="the import to run")
        # As the connecting superuser: the pool's service role may not signal them.
        with psycopg.connect(jobs_settings.database_url, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND state IN ('active', 'idle in transaction')"
            ).fetchone()[0]
        assert killed >= 1  # at least the import's open transaction
        done = wait_for(
            lambda: (j := _job(jobs_pool, job_id))["state"] == "succeeded" and j,
            timeout_s=120,
            what="the retried job to finish",
        )
    finally:
        worker.stop()
        worker_pool.close()
    assert done["attempts"] == 2
    assert done["last_error"].split(":")[0] in ("AdminShutdown", "OperationalError")
    _assert_imported_once(jobs_pool, person, import_id, beats)


def test_database_outage_readyz_reports_it_and_the_job_completes_after(jobs_pool, jobs_url, tmp_path):
    beats = 400_000
    person = new_person(jobs_pool)
    import_id, job_id = queue_import(jobs_pool, person, write_big_rr(tmp_path / "rr.txt", beats))
    proxy = TcpProxy(jobs_url)
    proxy.start()
    url = proxy.url(jobs_url)
    settings = job_settings(url, tmp_path)
    pool = create_pool(url, 6)
    worker = Worker(pool, settings, kinds=["import"])
    try:
        with TestClient(create_app(settings, pool=pool)) as client:
            assert client.get("/readyz").status_code == 200
            worker.start()
            wait_for(lambda: _running_with_progress(jobs_pool, import_id), what="the import to run")
            proxy.cut()
            down = client.get("/readyz")
            assert down.status_code == 503
            assert down.json()["database"] == "unreachable"
            assert _job(jobs_pool, job_id)["state"] == "running"  # nobody could record a thing
            proxy.start()
            wait_for(lambda: client.get("/readyz").status_code == 200, what="/readyz to recover")
            done = wait_for(
                lambda: (j := _job(jobs_pool, job_id))["state"] == "succeeded" and j,
                timeout_s=120,
                what="the job to finish after the outage",
            )
    finally:
        worker.stop()
        proxy.cut()
        pool.close()
    assert done["attempts"] >= 2
    _assert_imported_once(jobs_pool, person, import_id, beats)
