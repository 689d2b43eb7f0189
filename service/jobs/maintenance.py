"""Housekeeping: refresh the hourly rollup where TimescaleDB does not, prune finished jobs."""

from __future__ import annotations

from typing import Any

from service.core.db import capability, connect
from service.jobs import repository as job_repo
from service.jobs.context import job_connection_setup
from service.jobs.registry import JobContext

#: Kinds the scheduler queues once per period (see ``scheduler.periodic_jobs``).
PERIODIC_KINDS = ("inbox_sync", "recompute_sweep", "baseline_sweep", "maintenance")


def maintenance(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Refresh the hourly rollup where TimescaleDB does not, and prune finished jobs."""
    # Refreshing a materialised view needs its owner: the migration role, not
    # the restricted service role the pool uses.
    with connect.connect(connect.database_url(ctx.settings), autocommit=True) as owner:
        refreshed = capability.refresh_rollups(
            owner, capability.current_tier(owner), everything=payload.get("reason") == "erasure"
        )
    with ctx.pool.connection() as conn:
        job_connection_setup(conn)
        pruned = job_repo.prune(
            conn,
            older_than_days=ctx.settings.job_retention_days,
            periodic_kinds=list(PERIODIC_KINDS),
            dead_older_than_days=ctx.settings.dead_job_retention_days,
        )
    return {"rollups_refreshed": refreshed, "jobs_pruned": pruned}
