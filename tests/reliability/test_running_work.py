"""Erasure and lost leases against a running import; person data in the job table
(issue 16, defects 1, 8 and 10)."""

from __future__ import annotations

import io
import json
import threading
import uuid
import zipfile

from fastapi.testclient import TestClient

from service.app import create_app
from service.core.db import rls
from service.imports import repository as imports
from service.imports.service import run_import
from service.jobs import repository as job_repo
from service.jobs.context import job_connection_setup
from service.jobs.queue import enqueue
from service.jobs.worker import Worker
from tests.support.jobs import START, queue_import, sql, wait_for, write_big_rr
from tests.support.people import admin_token, bearer, new_person, patient_token, write_rr_text


def _person_rows(pool, person_id: str) -> dict[str, int]:
    counts = {}
    for table in ("observation", "import", "job", "source", "person"):
        column = "id" if table == "person" else "person_id"
        counts[table] = sql(pool, f"SELECT count(*) AS n FROM {table} WHERE {column} = %s", (person_id,))[0][
            "n"
        ]
    return counts


def test_erasure_during_the_persons_running_import_stops_it_and_leaves_nothing(
    jobs_pool, jobs_settings, tmp_path
):
    person_id = new_person(jobs_pool, "Erased mid-import")
    path = write_big_rr(tmp_path / "big.txt", 2_000_000)
    with rls.system_connection(jobs_pool) as conn:
        row = imports.create(
            conn, person_id=person_id, file_name=path.name, stored_path=str(path), start_hint=START
        )
    outcome: list = []
    importer = threading.Thread(
        target=lambda: outcome.append(run_import(jobs_pool, row["id"], start=START)), daemon=True
    )
    importer.start()
    wait_for(
        lambda: (
            sql(jobs_pool, "SELECT bytes_read FROM import WHERE id = %s", (row["id"],))[0]["bytes_read"] > 0
        ),
        what="the import to be running",
    )

    client = TestClient(create_app(jobs_settings, pool=jobs_pool))
    answers: list = []
    eraser = threading.Thread(
        target=lambda: answers.append(
            client.delete(f"/v1/persons/{person_id}", headers=bearer(admin_token(jobs_pool)))
        ),
        daemon=True,
    )
    eraser.start()
    # Bounded (generous for a loaded machine): before the fix both threads hung forever.
    eraser.join(180)
    importer.join(180)
    assert not eraser.is_alive() and not importer.is_alive(), "erasure deadlocked"
    assert answers[0].status_code == 200, answers[0].text
    assert outcome[0].stopped and outcome[0].status == "failed"
    assert _person_rows(jobs_pool, person_id) == {
        "observation": 0,
        "import": 0,
        "job": 0,
        "source": 0,
        "person": 0,
    }


def test_an_import_whose_job_was_taken_over_commits_nothing(jobs_pool, tmp_path):
    """The commit-time check: the attempt no longer owns its job, so nothing is stored."""
    person_id = new_person(jobs_pool, "Lost lease at commit")
    import_id, job_id = queue_import(jobs_pool, person_id, write_rr_text(tmp_path / "rr.txt"))
    with rls.system_connection(jobs_pool) as conn:
        ours = job_repo.claim(conn, worker="paused-worker", kinds=["import"], lease_s=60)
    assert ours["id"] == job_id
    # Meanwhile the lease lapsed and another worker claimed the job (a new attempt).
    sql(
        jobs_pool,
        "UPDATE job SET locked_by = 'other-worker', attempts = attempts + 1 WHERE id = %s",
        (job_id,),
    )
    outcome = run_import(jobs_pool, import_id, start=START, job=ours)
    assert outcome.stopped
    assert _person_rows(jobs_pool, person_id)["observation"] == 0
    record = sql(jobs_pool, "SELECT status, inserted FROM import WHERE id = %s", (import_id,))[0]
    assert record["status"] != "completed"  # the new owner writes the ledger, not this attempt


def test_a_worker_that_lost_its_lease_mid_import_stops_without_committing(jobs_pool, jobs_settings, tmp_path):
    """The heartbeat notices another owner and the running import stops at once."""
    person_id = new_person(jobs_pool, "Lost lease mid-import")
    import_id, job_id = queue_import(jobs_pool, person_id, write_big_rr(tmp_path / "big.txt", 2_000_000))
    worker = Worker(jobs_pool, jobs_settings, kinds=["import"], name="paused-worker")
    worker.start()
    try:
        wait_for(
            lambda: (
                sql(jobs_pool, "SELECT bytes_read FROM import WHERE id = %s", (import_id,))[0]["bytes_read"]
                > 0
            ),
            what="the import to run",
        )
        # What a SIGSTOP past the lease looks like from the database: another owner.
        sql(
            jobs_pool,
            "UPDATE job SET locked_by = 'other-worker', attempts = attempts + 1, "
            "lease_until = now() + interval '1 hour' WHERE id = %s",
            (job_id,),
        )
        wait_for(lambda: not worker._held, timeout_s=180, what="the attempt to stop")
    finally:
        worker.stop()
    assert _person_rows(jobs_pool, person_id)["observation"] == 0
    job = sql(jobs_pool, "SELECT locked_by, state FROM job WHERE id = %s", (job_id,))[0]
    assert (job["locked_by"], job["state"]) == ("other-worker", "running")  # left alone


def test_erasure_deletes_the_persons_jobs_and_export_includes_them(jobs_pool, jobs_settings):
    person_id = new_person(jobs_pool, "Jobs with health values")
    other_id = new_person(jobs_pool, "Someone else")
    with rls.system_connection(jobs_pool) as conn:
        nightly = enqueue(conn, "nightly_baselines", {"person_id": person_id, "local_date": "2024-05-04"})
        conn.execute(
            "UPDATE job SET state = 'succeeded', result = %s WHERE id = %s",
            (json.dumps({"ln_rmssd": 3.81}), nightly["id"]),
        )
        webhook = enqueue(
            conn,
            "webhook_deliver",
            {
                "subscription_id": 1,
                "event": {
                    "id": "evidence.updated:x",
                    "type": "evidence.updated",
                    "person_id": person_id,
                    "data": {"delta": -4.2, "verdict": "calmer"},
                },
            },
        )
        kept = enqueue(conn, "nightly_baselines", {"person_id": other_id, "local_date": "2024-05-04"})
    assert {nightly["person_id"], webhook["person_id"]} == {uuid.UUID(person_id)}

    client = TestClient(create_app(jobs_settings, pool=jobs_pool))
    headers = bearer(patient_token(jobs_pool, person_id))
    export = client.get(f"/v1/persons/{person_id}/export", headers=headers)
    assert export.status_code == 200
    with zipfile.ZipFile(io.BytesIO(export.content)) as archive:
        jobs = json.loads(archive.read("job.json"))
    assert {j["id"] for j in jobs} == {nightly["id"], webhook["id"]}

    assert client.delete(f"/v1/persons/{person_id}", headers=headers).status_code == 200
    left = sql(
        jobs_pool, "SELECT id FROM job WHERE id = ANY(%s)", ([nightly["id"], webhook["id"], kept["id"]],)
    )
    assert [r["id"] for r in left] == [kept["id"]]
    assert not sql(
        jobs_pool,
        "SELECT 1 FROM job WHERE payload::text LIKE %s OR result::text LIKE %s",
        (f"%{person_id}%", f"%{person_id}%"),
    )


def test_dead_jobs_are_pruned_after_their_retention(jobs_pool):
    with rls.system_connection(jobs_pool) as conn:
        old = enqueue(conn, "import", {"import_id": -1})
        fresh = enqueue(conn, "import", {"import_id": -2})
        conn.execute(
            "UPDATE job SET state = 'dead', finished_at = now() - interval '40 days' WHERE id = %s",
            (old["id"],),
        )
        conn.execute("UPDATE job SET state = 'dead', finished_at = now() WHERE id = %s", (fresh["id"],))
        job_connection_setup(conn)
        job_repo.prune(conn, older_than_days=14, periodic_kinds=[], dead_older_than_days=30)
    left = {
        r["id"] for r in sql(jobs_pool, "SELECT id FROM job WHERE id = ANY(%s)", ([old["id"], fresh["id"]],))
    }
    assert left == {fresh["id"]}
