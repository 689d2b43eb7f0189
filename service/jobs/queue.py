"""Putting work on the queue: the one call other code needs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from service.core.db.types import Conn
from service.jobs import registry
from service.jobs import repository as job_repo


def enqueue(
    conn: Conn,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    unique_key: str | None = None,
    delay_s: float = 0.0,
    person_id: str | None = None,
) -> dict[str, Any] | None:
    """Queue a job of a registered ``kind`` on ``conn`` (in the caller's transaction).

    With ``unique_key`` the job is queued at most once for that key, ever:
    the return value is None when it already was. ``person_id`` names the person whose
    data the job carries (default: the payload's ``person_id``), so that erasing the
    person deletes the job and exporting them includes it.
    """
    spec = registry.get(kind)
    if spec is None:
        raise ValueError(
            f"unknown job kind {kind!r}; known: {', '.join(registry.names())} "
            "(the product's kinds are installed by service.tasks.install())"
        )
    run_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay_s) if delay_s else None
    return job_repo.enqueue(
        conn,
        kind,
        payload,
        unique_key=unique_key,
        max_attempts=spec.max_attempts,
        run_at=run_at,
        person_id=person_id,
    )
