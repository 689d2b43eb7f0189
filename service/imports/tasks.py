"""Background tasks of the imports domain: one queued import, one inbox scan."""

from __future__ import annotations

import datetime as dt
from typing import Any

from service.imports import inbox
from service.imports.service import run_import
from service.jobs.registry import JobContext


def import_file(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Run one queued import; a re-run after a crash starts it over (it is all-or-nothing)."""
    import_id = int(payload["import_id"])
    start = payload.get("start")
    try:
        outcome = run_import(
            ctx.pool,
            import_id,
            format_name=payload.get("format"),
            start=dt.datetime.fromisoformat(start) if start else None,
            from_inbox=bool(payload.get("inbox")),
            via="api",
            should_stop=ctx.lost_reason,
            job=ctx.job,
        )
    except LookupError:
        return {"import_id": import_id, "skipped": "import no longer exists"}
    if outcome.stopped:
        # Lost lease: the new owner records the job; erasure: the job row is gone.
        raise RuntimeError(outcome.error or "import stopped")
    return {"import_id": import_id, "status": outcome.status, "inserted": outcome.inserted}


def inbox_sync(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    return inbox.sync(ctx.pool, ctx.settings).as_dict()
