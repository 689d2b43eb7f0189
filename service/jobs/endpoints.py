"""The job queue, for operators: what is queued, running, done or dead, and re-queueing."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from service.access.auth import Principal
from service.access.deps import Db, require_admin
from service.core.http import cursor
from service.core.http.problems import PROBLEM_RESPONSES, ProblemError
from service.jobs import repository as job_repo

router = APIRouter(tags=["jobs"], responses=PROBLEM_RESPONSES)
Admin = Annotated[Principal, Depends(require_admin)]
JobState = Literal["queued", "running", "succeeded", "dead"]


class Job(BaseModel):
    id: int
    kind: str
    state: JobState
    payload: dict[str, Any]
    unique_key: str | None
    attempts: int
    max_attempts: int
    run_at: dt.datetime
    locked_by: str | None
    lease_until: dt.datetime | None
    last_error: str | None
    result: Any
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class JobPage(BaseModel):
    items: list[Job]
    next_cursor: str | None


@router.get("/v1/jobs", response_model=JobPage)
def list_jobs(
    conn: Db,
    _: Admin,
    state: JobState | None = None,
    kind: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor_: Annotated[str | None, Query(alias="cursor")] = None,
) -> JobPage:
    """Jobs, newest first, optionally only one state (e.g. `dead`) or kind (admin only)."""
    before = cursor.decode(cursor_, cursor.INT)[0] if cursor_ else None
    rows = job_repo.list_jobs(conn, state=state, kind=kind, limit=limit, before_id=before)
    next_cursor = cursor.encode([rows[-1]["id"]]) if len(rows) == limit else None
    return JobPage(items=[Job(**r) for r in rows], next_cursor=next_cursor)


@router.get("/v1/jobs/{job_id}", response_model=Job)
def get_job(job_id: int, conn: Db, _: Admin) -> Job:
    """One job with its attempts, last error and result (admin only)."""
    row = job_repo.get(conn, job_id)
    if row is None:
        raise ProblemError(404, "not-found", f"no job {job_id}")
    return Job(**row)


@router.post("/v1/jobs/{job_id}/retry", response_model=Job)
def retry_job(job_id: int, conn: Db, _: Admin) -> Job:
    """Queue a dead job again with a fresh set of attempts (admin only)."""
    row = job_repo.requeue(conn, job_id)
    if row is None:
        if job_repo.get(conn, job_id) is None:
            raise ProblemError(404, "not-found", f"no job {job_id}")
        raise ProblemError(409, "not-dead", f"job {job_id} is not dead; only dead jobs re-queue")
    return Job(**row)
