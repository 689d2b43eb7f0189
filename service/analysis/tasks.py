"""Background tasks of the analysis domain: recompute stale results, nightly recovery."""

from __future__ import annotations

import datetime as dt
from typing import Any

from service.analysis import recompute
from service.analysis.session_response import WindowConfig
from service.jobs import repository as job_repo
from service.jobs.context import job_connection_setup
from service.jobs.queue import enqueue
from service.jobs.registry import JobContext
from service.webhooks import service as webhooks


def recompute_sweep(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Turn 'persons with new data' into recompute jobs, atomically (nothing lost or doubled)."""
    with ctx.pool.connection() as conn:
        job_connection_setup(conn)
        changed = job_repo.take_changed_persons(conn)
        for row in changed:
            enqueue(
                conn,
                "recompute_person",
                {"person_id": str(row["person_id"]), "import_ids": [int(i) for i in row["import_ids"]]},
            )
    return {"persons": len(changed)}


def recompute_person(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Recompute the person's stale session responses and, when any changed, their evidence.

    Stored responses carry a fingerprint of the data they came from, so this
    redoes exactly those the new imports made stale; running it twice does
    nothing the second time. Events are queued in the same transaction.
    """
    person_id = payload["person_id"]
    with ctx.pool.connection() as conn, conn.transaction():
        job_connection_setup(conn, person_id)
        done = recompute.recompute_person(conn, person_id, WindowConfig.from_settings(ctx.settings))
        if done is None:
            return {"person_id": person_id, "skipped": "person no longer exists"}
        # Finding subscribers reads other accounts' rows: a system read.
        job_connection_setup(conn)
        for session_id, body in done.sessions.items():
            webhooks.emit(
                conn,
                "session.response.ready",
                person_id=person_id,
                subject=f"session:{session_id}:{done.data_version}",
                data={
                    "session_id": session_id,
                    "algorithm_version": body["algorithm_version"],
                    "ln_rmssd_delta": body["metrics"]["ln_rmssd"]["delta"],
                    "mean_hr_delta": body["metrics"]["mean_hr"]["delta"],
                },
            )
        if done.evidence is not None:
            webhooks.emit(
                conn,
                "evidence.updated",
                person_id=person_id,
                subject=f"evidence:{person_id}:{done.data_version}",
                data={"verdicts": {c["claim"]: c["verdict"] for c in done.evidence["claims"]}},
            )
    return {
        "person_id": person_id,
        "import_ids": payload.get("import_ids", []),
        "sessions_recomputed": sorted(done.sessions),
        "data_version": done.data_version,
    }


def baseline_sweep(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Queue each person's nightly baseline once their local clock passes ``nightly_hour``."""
    with ctx.pool.connection() as conn:
        job_connection_setup(conn)
        queued = job_repo.enqueue_nightly(
            conn, kind="nightly_baselines", after_local_hour=ctx.settings.nightly_hour, max_attempts=3
        )
    return {"queued": queued}


def nightly_baselines(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """One person's recovery status for the local day whose night just ended.

    Recovery is computed from the stored samples on read; this job computes
    it once the night is over and records the status in the job's result.
    """
    person_id = payload["person_id"]
    with ctx.pool.connection() as conn, conn.transaction():
        job_connection_setup(conn, person_id)
        day = recompute.night_recovery(conn, person_id, dt.date.fromisoformat(str(payload["local_date"])))
    if day is None:
        return {**payload, "skipped": "person no longer exists"}
    return {
        **payload,
        "status": day["status"],
        "ln_rmssd": day["ln_rmssd"]["value"],
        "measured_from": day["measured_from"],
    }
