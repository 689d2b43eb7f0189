"""The built-in job kinds.

| kind | enqueued by | does |
|---|---|---|
| ``import`` | upload endpoint, inbox sync | runs ``service.ingest.run_import`` for one import row |
| ``inbox_sync`` | scheduler, every ``inbox_every_s`` | scans ``VAGUS_INBOX`` (see ``inbox.py``) |
| ``recompute_sweep`` | scheduler, every ``recompute_every_s`` | one ``recompute_person`` job per person with new data |
| ``recompute_person`` | ``recompute_sweep`` | stale session responses, then evidence; webhook events |
| ``baseline_sweep`` | scheduler, every ``baselines_every_s`` | one ``nightly_baselines`` job per person and local night |
| ``nightly_baselines`` | ``baseline_sweep`` | the person's recovery status for the day whose night ended |
| ``maintenance`` | scheduler, every ``maintenance_every_s`` | refresh rollups (plain PostgreSQL), prune old jobs |
| ``webhook_deliver`` | ``webhooks.emit`` | one signed POST to one subscription |

Every handler is idempotent (see ``registry``).
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from service.analysis import recompute
from service.analysis.session_response import WindowConfig
from service.core.db import capability, connect
from service.imports.pipeline import run_import
from service.imports import repository as import_repo
from service.jobs import repository as job_repo
from service.imports import inbox
from service.webhooks import service as webhooks
from service.jobs.context import job_connection_setup
from service.jobs.queue import enqueue
from service.jobs.registry import JobContext, register

log = logging.getLogger(__name__)

#: Kinds the scheduler queues once per period (see ``scheduler.periodic_jobs``).
PERIODIC_KINDS = ("inbox_sync", "recompute_sweep", "baseline_sweep", "maintenance")


@register("import", max_attempts=5)
def import_file(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Run one queued import; a re-run after a crash starts it over (it is all-or-nothing)."""
    import_id = int(payload["import_id"])
    with ctx.pool.connection() as conn:
        job_connection_setup(conn)
        row = import_repo.get(conn, import_id)
        if row is None:
            return {"import_id": import_id, "skipped": "import no longer exists"}
        if row["status"] != "completed":
            # An earlier attempt may have died midway: its transaction was rolled
            # back, so only the progress shown on the row needs resetting.
            conn.execute("UPDATE import SET status = 'running', bytes_read = 0, read = 0, "
                         "error = NULL WHERE id = %s", (import_id,))
    if row["status"] != "completed":
        start = payload.get("start")
        run_import(ctx.pool, import_id, Path(row["stored_path"]),
                   format_name=payload.get("format"),
                   start=dt.datetime.fromisoformat(start) if start else None)
    with ctx.pool.connection() as conn:
        job_connection_setup(conn)
        row = import_repo.get(conn, import_id)
        person_id = str(row["person_id"])
        if row["status"] == "completed" and row["inserted"] > 0:
            job_repo.mark_person_changed(conn, person_id, import_id)
        event = "import.completed" if row["status"] == "completed" else "import.failed"
        webhooks.emit(conn, event, person_id=person_id, subject=f"import:{import_id}",
                      data=webhooks.import_event_data(row))
    if payload.get("inbox"):
        inbox.file_away(Path(row["stored_path"]), row)
    return {"import_id": import_id, "status": row["status"], "inserted": row["inserted"]}


@register("inbox_sync", max_attempts=1)
def inbox_sync(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    return inbox.sync(ctx.pool, ctx.settings).as_dict()


@register("recompute_sweep", max_attempts=3)
def recompute_sweep(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Turn 'persons with new data' into recompute jobs, atomically (nothing lost or doubled)."""
    with ctx.pool.connection() as conn:
        job_connection_setup(conn)
        changed = job_repo.take_changed_persons(conn)
        for row in changed:
            enqueue(conn, "recompute_person", {
                "person_id": str(row["person_id"]),
                "import_ids": [int(i) for i in row["import_ids"]]})
    return {"persons": len(changed)}


@register("recompute_person", max_attempts=5)
def recompute_person(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Recompute the person's stale session responses and, when any changed, their evidence.

    Stored responses carry a fingerprint of the data they came from, so this
    redoes exactly those the new imports made stale; running it twice does
    nothing the second time. Events are queued in the same transaction.
    """
    person_id = payload["person_id"]
    with ctx.pool.connection() as conn, conn.transaction():
        job_connection_setup(conn, person_id)
        done = recompute.recompute_person(
            conn, person_id, WindowConfig.from_settings(ctx.settings))
        if done is None:
            return {"person_id": person_id, "skipped": "person no longer exists"}
        # Finding subscribers reads other accounts' rows: a system read.
        job_connection_setup(conn)
        for session_id, body in done.sessions.items():
            webhooks.emit(conn, "session.response.ready", person_id=person_id,
                          subject=f"session:{session_id}:{done.data_version}",
                          data={"session_id": session_id,
                                "algorithm_version": body["algorithm_version"],
                                "ln_rmssd_delta": body["metrics"]["ln_rmssd"]["delta"],
                                "mean_hr_delta": body["metrics"]["mean_hr"]["delta"]})
        if done.evidence is not None:
            webhooks.emit(conn, "evidence.updated", person_id=person_id,
                          subject=f"evidence:{person_id}:{done.data_version}",
                          data={"verdicts": {c["claim"]: c["verdict"]
                                             for c in done.evidence["claims"]}})
    return {"person_id": person_id, "import_ids": payload.get("import_ids", []),
            "sessions_recomputed": sorted(done.sessions), "data_version": done.data_version}


@register("baseline_sweep", max_attempts=3)
def baseline_sweep(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Queue each person's nightly baseline once their local clock passes ``nightly_hour``."""
    with ctx.pool.connection() as conn:
        job_connection_setup(conn)
        queued = job_repo.enqueue_nightly(conn, kind="nightly_baselines",
                                          after_local_hour=ctx.settings.nightly_hour,
                                          max_attempts=3)
    return {"queued": queued}


@register("nightly_baselines", max_attempts=3)
def nightly_baselines(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """One person's recovery status for the local day whose night just ended.

    Recovery is computed from the stored samples on read; this job computes
    it once the night is over and records the status in the job's result.
    """
    person_id = payload["person_id"]
    with ctx.pool.connection() as conn, conn.transaction():
        job_connection_setup(conn, person_id)
        day = recompute.night_recovery(conn, person_id,
                                       dt.date.fromisoformat(str(payload["local_date"])))
    if day is None:
        return {**payload, "skipped": "person no longer exists"}
    return {**payload, "status": day["status"], "ln_rmssd": day["ln_rmssd"]["value"],
            "measured_from": day["measured_from"]}


@register("maintenance", max_attempts=3)
def maintenance(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Refresh the hourly rollup where TimescaleDB does not, and prune finished jobs."""
    # Refreshing a materialised view needs its owner: the migration role, not
    # the restricted service role the pool uses.
    with connect.connect(connect.database_url(ctx.settings), autocommit=True) as owner:
        refreshed = capability.refresh_rollups(owner, capability.current_tier(owner),
                                               everything=payload.get("reason") == "erasure")
    with ctx.pool.connection() as conn:
        job_connection_setup(conn)
        pruned = job_repo.prune(conn, older_than_days=ctx.settings.job_retention_days,
                                periodic_kinds=list(PERIODIC_KINDS))
    return {"rollups_refreshed": refreshed, "jobs_pruned": pruned}


@register("webhook_deliver", max_attempts=8)
def webhook_deliver(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    return webhooks.deliver(ctx, payload)
