"""Who looked at a person's data: the audit log, for the person (and admins)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from service.access import authz
from service.access.deps import Caller, Db, person_or_404
from service.access.repository import audit
from service.access.schemas import AuditEvent, AuditPage
from service.core.http import cursor
from service.core.http.problems import PROBLEM_RESPONSES

router = APIRouter(tags=["audit"], responses=PROBLEM_RESPONSES)


@router.get("/v1/persons/{person_id}/audit", response_model=AuditPage)
def list_audit(
    person_id: UUID,
    conn: Db,
    caller: Caller,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor_: Annotated[str | None, Query(alias="cursor")] = None,
) -> AuditPage:
    """Every read or export of this person's data by someone else, newest first: who
    (account and role), what (scope and request), when, and from where (address, user agent)."""
    person_or_404(conn, caller, str(person_id), authz.READ_AUDIT)
    before = _before(cursor_) if cursor_ else None
    rows = audit.page(conn, str(person_id), limit=limit, before_id=before)
    next_cursor = cursor.encode([rows[-1]["id"]]) if len(rows) == limit else None
    return AuditPage(items=[AuditEvent(**r) for r in rows], next_cursor=next_cursor)


def _before(cursor_: str) -> int:
    return cursor.decode(cursor_, cursor.INT)[0]
