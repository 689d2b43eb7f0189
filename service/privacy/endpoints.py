"""A person's export (everything, as a zip of JSON) and erasure (everything, at once)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated
from uuid import UUID

import psycopg
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from service.access import authz
from service.access.deps import Caller, Db, person_with
from service.access.schemas import Erasure
from service.core.db import rls
from service.core.http.problems import PROBLEM_RESPONSES, ProblemError
from service.privacy import service as privacy

router = APIRouter(tags=["privacy"], responses=PROBLEM_RESPONSES)

ZIP = "application/zip"


@router.get(
    "/v1/persons/{person_id}/export",
    responses={
        200: {
            "content": {ZIP: {"schema": {"type": "string", "format": "binary"}}},
            "description": "A zip of JSON files, streamed",
        }
    },
)
def export(
    person_id: UUID, request: Request, caller: Caller, _: Annotated[dict, person_with(authz.EXPORT)]
) -> StreamingResponse:
    """Everything Vagus holds for the person (patient or admin): samples, sleep, sessions,
    self-reports, lab results, imports, grants and the audit log, one JSON file per table."""
    pool = request.app.state.pool
    headers = {"Content-Disposition": f'attachment; filename="vagus-{person_id}.zip"'}
    return StreamingResponse(
        _stream(pool, caller.account_id, str(person_id)), media_type=ZIP, headers=headers
    )


def _stream(pool, account_id: str, person_id: str) -> Iterator[bytes]:
    # Its own connection: the request's is released before the body streams.
    with pool.connection() as conn:
        with conn.transaction():
            rls.act_as(conn, account_id)
            yield from privacy.export_zip(conn, person_id)


@router.delete("/v1/persons/{person_id}", response_model=Erasure)
def erase(
    person_id: UUID, request: Request, conn: Db, caller: Caller, _: Annotated[dict, person_with(authz.ERASE)]
) -> Erasure:
    """Erase the person (patient or admin): every row, uploaded file and derived result.
    The audit log keeps who accessed what (no health data) and an erasure tombstone.
    The person's own tokens stop working with it. A running import of the person is
    stopped first (nothing of it is kept)."""
    try:
        deleted = privacy.erase(
            conn,
            str(person_id),
            upload_dir=request.app.state.settings.upload_dir,
            actor_account_id=caller.account_id,
            actor_role=caller.role,
        )
    except psycopg.errors.LockNotAvailable:
        raise ProblemError(
            503,
            "busy",
            "the person's running work did not stop in time; nothing was erased: try again",
            headers={"Retry-After": "30"},
        ) from None
    return Erasure(person_id=person_id, erased=True, rows_deleted=deleted)
