"""A sync whose worker is killed (SIGKILL) mid-fetch resumes and completes once.

A ``vagus worker`` subprocess on the job tests' own database runs a WHOOP sync; the
fake vendor holds one answer for a while, and the test kills the worker while the sync
waits for it. A second worker claims the job once the lease (2 s) lapses: the dead
run is closed as interrupted, the sync fetches from the unmoved cursor, and every row
is stored once.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys

import pytest

from service.core.db import rls
from service.jobs.queue import enqueue
from service.sync import repository as repo
from service.sync.crypto import Vault
from tests.conftest import REPO_ROOT
from tests.support.jobs import sql, wait_for
from tests.support.people import new_person
from tests.sync import accounts as scripted
from tests.sync.conftest import KEY, anchor_day

pytestmark = pytest.mark.slow


def _worker(url: str, data_dir, log_path) -> subprocess.Popen:
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


def test_a_killed_worker_sync_resumes_and_completes_once(jobs_url, jobs_pool, vendor, tmp_path):
    account = scripted.whoop(anchor_day())
    vendor.records["whoop"] = account.records
    person = new_person(jobs_pool)
    grant = vendor._issue("whoop")
    with rls.system_connection(jobs_pool) as conn:
        row = repo.upsert_connection(
            conn,
            person_id=person,
            provider="whoop",
            secret=Vault(KEY).seal(
                {"access_token": grant["access_token"], "refresh_token": grant["refresh_token"]}
            ),
            token_expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
            scopes=["read:recovery"],
            external_user_id="10129",
        )
        job = enqueue(conn, "sync_connection", {"connection_id": row["id"], "trigger": "schedule"})
    vendor.slow("/developer/v2/recovery", delay_s=30)  # the first recovery page hangs
    first = _worker(jobs_url, tmp_path / "data", tmp_path / "w1.log")
    try:
        wait_for(
            lambda: vendor.requests_to("/developer/v2/activity/sleep"),
            timeout_s=60,
            what="the sync to fetch sleeps",
        )
        wait_for(
            lambda: sql(
                jobs_pool,
                "SELECT 1 FROM sync_run WHERE connection_id = %s AND status = 'running'",
                (row["id"],),
            ),
            what="a running sync",
        )
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    vendor.faults.clear()
    second = _worker(jobs_url, tmp_path / "data", tmp_path / "w2.log")
    try:
        done = wait_for(
            lambda: sql(
                jobs_pool,
                "SELECT state::text AS state, result FROM job WHERE id = %s AND state = 'succeeded'",
                (job["id"],),
            ),
            timeout_s=120,
            what="the sync job to succeed",
        )
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(20)
        except subprocess.TimeoutExpired:
            second.kill()
    assert done[0]["result"]["status"] == "completed"
    rows = sql(
        jobs_pool, "SELECT metric::text AS metric, ts, value FROM observation WHERE person_id = %s", (person,)
    )
    assert {(r["metric"], r["ts"], r["value"]) for r in rows} == account.rows
    assert len(rows) == len(account.rows)
    runs = sql(
        jobs_pool,
        "SELECT status, reason, import_id FROM sync_run WHERE connection_id = %s ORDER BY id",
        (row["id"],),
    )
    assert [r["status"] for r in runs] == ["failed", "completed"]
    assert runs[0]["reason"].startswith("interrupted") and runs[0]["import_id"] is None
    imports = sql(jobs_pool, "SELECT status, inserted FROM import WHERE person_id = %s", (person,))
    assert imports == [{"status": "completed", "inserted": len(account.rows) + len(account.episodes)}]
