"""The job queue on a real database: claims, leases, retries, dead jobs, the admin API."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.jobs import registry
from service.jobs import repository as job_repo
from service.jobs.queue import enqueue
from service.jobs.worker import Worker, backoff_s
from tests.support.jobs import sql, wait_for
from tests.support.people import admin_token, bearer, new_person, patient_token
from tests.support.tiers import rollups_refreshed_by_maintenance, server_tier

RUNS: list[int] = []
RUNS_LOCK = threading.Lock()
FAILURES_LEFT: dict[str, int] = {}


@registry.register("test_record", max_attempts=3)
def _record(ctx, payload):
    with RUNS_LOCK:
        RUNS.append(ctx.job["id"])
    return {"n": payload["n"]}


@registry.register("test_flaky", max_attempts=3)
def _flaky(ctx, payload):
    if FAILURES_LEFT.get(payload["name"], 0) > 0:
        FAILURES_LEFT[payload["name"]] -= 1
        raise RuntimeError(f"planned failure of {payload['name']}")
    return {"ok": True}


def _enqueue(pool, kind, payload, **kw):
    from service.core.db import rls

    with rls.system_connection(pool) as conn:
        return enqueue(conn, kind, payload, **kw)


def _job(pool, job_id):
    return sql(pool, "SELECT * FROM job WHERE id = %s", (job_id,))[0]


def test_unique_key_queues_once(jobs_pool):
    first = _enqueue(jobs_pool, "test_record", {"n": 0}, unique_key="test:once")
    again = _enqueue(jobs_pool, "test_record", {"n": 1}, unique_key="test:once")
    assert first is not None and again is None
    with pytest.raises(ValueError, match="unknown job kind"):
        _enqueue(jobs_pool, "no_such_kind", {})


def test_many_workers_run_each_job_exactly_once(jobs_pool, jobs_settings):
    RUNS.clear()
    ids = [_enqueue(jobs_pool, "test_record", {"n": i})["id"] for i in range(60)]
    workers = [Worker(jobs_pool, jobs_settings, concurrency=3, kinds=["test_record"]) for _ in range(2)]
    for worker in workers:
        worker.start()
    try:
        wait_for(
            lambda: (
                sql(
                    jobs_pool,
                    "SELECT count(*) AS n FROM job WHERE id = ANY(%s) AND state = 'succeeded'",
                    (ids,),
                )[0]["n"]
                == len(ids)
            ),
            what="60 jobs to succeed",
        )
    finally:
        for worker in workers:
            worker.stop()
    assert sorted(r for r in RUNS if r in set(ids)) == sorted(ids)  # each once, none twice
    attempts = sql(jobs_pool, "SELECT DISTINCT attempts FROM job WHERE id = ANY(%s)", (ids,))
    assert attempts == [{"attempts": 1}]
    owners = sql(jobs_pool, "SELECT count(DISTINCT result->>'n') AS n FROM job WHERE id = ANY(%s)", (ids,))
    assert owners[0]["n"] == 60


def test_a_lapsed_lease_is_claimed_again_and_the_old_owner_cannot_finish(jobs_pool):
    job_id = _enqueue(jobs_pool, "test_flaky", {"name": "lease"})["id"]
    with jobs_pool.connection() as conn:
        from service.core.db import rls

        rls.act_as_system(conn)
        first = job_repo.claim(conn, worker="w-dead", kinds=["test_flaky"], lease_s=0.2)
    assert first["id"] == job_id and first["attempts"] == 1

    def reclaim():
        with jobs_pool.connection() as conn:
            rls.act_as_system(conn)
            return job_repo.claim(conn, worker="w-alive", kinds=["test_flaky"], lease_s=30)

    second = wait_for(reclaim, what="the lapsed job to be claimable")
    assert (second["id"], second["attempts"], second["locked_by"]) == (job_id, 2, "w-alive")
    assert "w-dead" in second["last_error"]
    with jobs_pool.connection() as conn:
        rls.act_as_system(conn)
        assert job_repo.succeed(conn, first) is False  # the dead owner's late answer is refused
        assert job_repo.succeed(conn, second) is True
    assert _job(jobs_pool, job_id)["state"] == "succeeded"


def test_failures_back_off_then_die_and_an_admin_requeues(jobs_pool, jobs_settings):
    assert [backoff_s(jobs_settings, a) for a in (1, 2, 3, 9)] == [0.1, 0.2, 0.4, 1.0]
    FAILURES_LEFT["doomed"] = 3
    job_id = _enqueue(jobs_pool, "test_flaky", {"name": "doomed"})["id"]
    worker = Worker(jobs_pool, jobs_settings, kinds=["test_flaky"])
    worker.start()
    try:
        dead = wait_for(
            lambda: (j := _job(jobs_pool, job_id))["state"] == "dead" and j, what="the job to die"
        )
    finally:
        worker.stop()
    assert dead["attempts"] == 3 and "planned failure of doomed" in dead["last_error"]

    app = create_app(jobs_settings, pool=jobs_pool)
    admin = bearer(admin_token(jobs_pool))
    patient = bearer(patient_token(jobs_pool, new_person(jobs_pool)))
    with TestClient(app) as client:
        listed = client.get("/v1/jobs", params={"state": "dead"}, headers=admin)
        assert listed.status_code == 200
        assert job_id in [j["id"] for j in listed.json()["items"]]
        assert all(j["state"] == "dead" for j in listed.json()["items"])
        assert client.get("/v1/jobs", headers=patient).status_code == 403
        assert client.post(f"/v1/jobs/{job_id}/retry", headers=patient).status_code == 403
        retried = client.post(f"/v1/jobs/{job_id}/retry", headers=admin)
        assert retried.status_code == 200
        assert (retried.json()["state"], retried.json()["attempts"]) == ("queued", 0)
        assert client.post(f"/v1/jobs/{job_id}/retry", headers=admin).status_code == 409
        assert client.post("/v1/jobs/999999999/retry", headers=admin).status_code == 404
        worker = Worker(jobs_pool, jobs_settings, kinds=["test_flaky"])
        worker.start()  # FAILURES_LEFT is spent: the re-queued job now succeeds
        try:
            wait_for(
                lambda: _job(jobs_pool, job_id)["state"] == "succeeded", what="the re-queued job to succeed"
            )
        finally:
            worker.stop()
        fetched = client.get(f"/v1/jobs/{job_id}", headers=admin).json()
        assert (fetched["state"], fetched["attempts"], fetched["result"]) == ("succeeded", 1, {"ok": True})


def test_an_exhausted_job_whose_worker_died_is_buried(jobs_pool):
    from service.core.db import rls

    job_id = _enqueue(jobs_pool, "test_flaky", {"name": "orphan"})["id"]
    sql(jobs_pool, "UPDATE job SET max_attempts = 1 WHERE id = %s", (job_id,))
    with jobs_pool.connection() as conn:
        rls.act_as_system(conn)
        assert job_repo.claim(conn, worker="w-gone", kinds=["test_flaky"], lease_s=0.1)

    def buried():
        with jobs_pool.connection() as conn:
            rls.act_as_system(conn)
            job_repo.bury_exhausted(conn)
            assert job_repo.claim(conn, worker="w2", kinds=["test_flaky"], lease_s=5) is None
        return _job(jobs_pool, job_id)["state"] == "dead"

    wait_for(buried, what="the orphaned job to be buried")
    assert "w-gone" in _job(jobs_pool, job_id)["last_error"]


def test_serve_runs_api_scheduler_and_worker_in_one_process(jobs_pool, jobs_settings):
    """`vagus serve`'s layout: an upload is imported, and its new data queues a recompute."""
    settings = jobs_settings.model_copy(update={"recompute_every_s": 0.5})
    person = new_person(jobs_pool)
    headers = bearer(patient_token(jobs_pool, person))
    body = "\n".join(str(800 + i % 9 * 10) for i in range(300)).encode()
    with TestClient(create_app(settings, pool=jobs_pool, background=True)) as client:
        accepted = client.post(
            f"/v1/persons/{person}/imports",
            content=body,
            headers={**headers, "Content-Type": "application/octet-stream"},
            params={"filename": "rr.txt", "start": "2024-05-04T07:00:00Z"},
        )
        assert accepted.status_code == 202 and accepted.json()["status"] == "queued"
        import_id = accepted.json()["id"]
        record = wait_for(
            lambda: (
                (r := client.get(f"/v1/imports/{import_id}", headers=headers).json())["status"]
                not in ("queued", "running")
                and r
            ),
            what="the import to finish",
        )
        assert (record["status"], record["inserted"]) == ("completed", 300)
        recompute = wait_for(
            lambda: sql(
                jobs_pool,
                "SELECT * FROM job WHERE kind = 'recompute_person' "
                "AND payload->>'person_id' = %s AND state = 'succeeded'",
                (person,),
            ),
            what="the recompute of the person with new data",
        )
    assert recompute[0]["payload"]["import_ids"] == [import_id]


def test_maintenance_prunes_old_finished_jobs_but_keeps_dead_work(
    jobs_pool, jobs_settings, jobs_url, record_property
):
    from service.jobs.maintenance import maintenance

    old = "now() - interval '30 days'"
    ids = {}
    for name, kind, state in (
        ("done", "test_record", "succeeded"),
        ("dead_periodic", "inbox_sync", "dead"),
        ("dead_import", "import", "dead"),
    ):
        ids[name] = sql(
            jobs_pool,
            f"INSERT INTO job (kind, state, finished_at) VALUES (%s, %s, {old}) RETURNING id",
            (kind, state),
        )[0]["id"]
    recent = _enqueue(jobs_pool, "test_record", {"n": -1})["id"]
    result = maintenance(registry.JobContext(jobs_pool, jobs_settings, {"attempts": 1}), {})
    tier = server_tier(jobs_url)
    record_property("tier", tier)
    # A materialised view is refreshed here; on the Timescale licence a policy does it.
    assert result["rollups_refreshed"] is rollups_refreshed_by_maintenance(tier), tier
    assert result["jobs_pruned"] >= 2
    left = {
        r["id"] for r in sql(jobs_pool, "SELECT id FROM job WHERE id = ANY(%s)", ([*ids.values(), recent],))
    }
    assert left == {ids["dead_import"], recent}
