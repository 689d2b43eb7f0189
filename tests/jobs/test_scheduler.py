"""The elected clock: one leader among replicas, each period's run queued and done once."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from service.core.db import rls
from service.core.db.connect import create_pool
from service.jobs import repository as job_repo
from service.jobs.scheduler import Scheduler, period_key
from service.jobs.worker import Worker
from tests.support.jobs import job_settings, sql, wait_for
from tests.support.people import new_person
from tests.support.tiers import rollups_refreshed_by_maintenance, server_tier

PERIODIC = ("inbox_sync", "recompute_sweep", "baseline_sweep", "maintenance")


def test_period_keys_are_the_same_on_every_replica():
    at = dt.datetime(2026, 1, 1, 3, 0, 7, 400_000, tzinfo=dt.UTC)
    assert period_key("maintenance", 3600, at) == "maintenance:2026-01-01T03:00:00.000+00:00"
    assert period_key("inbox_sync", 60, at) == period_key("inbox_sync", 60, at + dt.timedelta(seconds=50))
    assert period_key("inbox_sync", 60, at) != period_key("inbox_sync", 60, at + dt.timedelta(seconds=53))


def _leaders(schedulers):
    return [s for s in schedulers if s.is_leader]


def _periods(pool, kind):
    rows = sql(
        pool, "SELECT unique_key, state, attempts FROM job WHERE kind = %s ORDER BY unique_key", (kind,)
    )
    return rows


@pytest.mark.slow
def test_two_schedulers_and_two_workers_run_every_period_exactly_once(
    jobs_pool, jobs_url, tmp_path, record_property
):
    every = 1.0
    settings = job_settings(
        jobs_url,
        tmp_path,
        inbox_every_s=every,
        recompute_every_s=every,
        baselines_every_s=every,
        maintenance_every_s=every,
        nightly_hour=0,
    )
    person = new_person(jobs_pool, tz="UTC")
    with rls.system_connection(jobs_pool) as conn:
        row = conn.execute(
            "INSERT INTO import (person_id, file_name, status) VALUES (%s, 'x', 'completed') RETURNING id",
            (person,),
        ).fetchone()
        job_repo.mark_person_changed(conn, person, row["id"])
        job_repo.mark_person_changed(conn, person, row["id"])  # the same import noted twice
    pools = [create_pool(jobs_url, 6) for _ in range(4)]
    schedulers = [Scheduler(pools[i], settings, jobs_url) for i in range(2)]
    workers = [Worker(pools[2 + i], settings, concurrency=2) for i in range(2)]
    try:
        for replica in (*schedulers, *workers):
            replica.start()
        leader = wait_for(lambda: _leaders(schedulers), what="a leader")[0]
        assert len(_leaders(schedulers)) == 1

        def done(n):
            return all(sum(r["state"] == "succeeded" for r in _periods(jobs_pool, k)) >= n for k in PERIODIC)

        wait_for(lambda: done(3), what="three periods of every kind")
        # The leader dies (its session ends): the other replica takes over.
        leader.stop()
        follower = next(s for s in schedulers if s is not leader)
        wait_for(lambda: follower.is_leader, what="the follower to take over")
        before = {k: len(_periods(jobs_pool, k)) for k in PERIODIC}
        wait_for(
            lambda: all(len(_periods(jobs_pool, k)) >= before[k] + 2 for k in PERIODIC),
            what="two more periods under the new leader",
        )
        follower.stop()
        wait_for(
            lambda: sql(jobs_pool, "SELECT count(*) AS n FROM job WHERE state <> 'succeeded'")[0]["n"] == 0,
            what="every queued job to finish",
        )
    finally:
        for replica in (*schedulers, *workers):
            replica.stop()
        for pool in pools:
            pool.close()

    for kind in PERIODIC:
        rows = _periods(jobs_pool, kind)
        starts = [dt.datetime.fromisoformat(r["unique_key"].split(":", 1)[1]) for r in rows]
        steps = {(b - a).total_seconds() for a, b in itertools.pairwise(starts)}
        assert steps == {every}, (kind, starts)  # consecutive periods, none skipped or doubled
        assert len(rows) >= 5
        assert all((r["state"], r["attempts"]) == ("succeeded", 1) for r in rows), kind
    # Derived work was queued once too, however many sweeps ran.
    recomputes = sql(jobs_pool, "SELECT payload FROM job WHERE kind = 'recompute_person'")
    assert [r["payload"] for r in recomputes] == [{"person_id": person, "import_ids": [row["id"]]}]
    nightly = sql(
        jobs_pool,
        "SELECT payload FROM job WHERE kind = 'nightly_baselines' AND payload->>'person_id' = %s",
        (person,),
    )
    dates = {r["payload"]["local_date"] for r in nightly}
    assert len(nightly) == len(dates) >= 1  # once per local night (two if midnight passed)
    maintenance = sql(jobs_pool, "SELECT result FROM job WHERE kind = 'maintenance' LIMIT 1")
    tier = server_tier(jobs_url)
    record_property("tier", tier)
    assert maintenance[0]["result"]["rollups_refreshed"] is rollups_refreshed_by_maintenance(tier)
