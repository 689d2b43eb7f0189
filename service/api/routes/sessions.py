"""Massage sessions of a person: create, list, read, edit, delete."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, NoReturn
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query

from ... import care
from ...repositories import sessions
from .. import cursor
from ..deps import Caller, Db, person_or_404
from ..problems import PROBLEM_RESPONSES, ProblemError
from ..schemas_sessions import Session, SessionCreate, SessionPage, SessionUpdate

router = APIRouter(tags=["sessions"], responses=PROBLEM_RESPONSES)

RowIdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]
FromQuery = Annotated[dt.datetime | None, Query(
    alias="from", description="Inclusive; ISO 8601, without an offset read in the person's zone")]
ToQuery = Annotated[dt.datetime | None, Query(description="Exclusive; like `from`")]
LimitQuery = Annotated[int, Query(ge=1, le=1000)]
CursorQuery = Annotated[str | None, Query(alias="cursor", description="`next_cursor` of a page")]


def visible_person(person_id: UUID, conn: Db, caller: Caller) -> dict[str, Any]:
    """The path's person if the caller may see it. A dependency, so a foreign person is
    a 404 before the request body is even validated."""
    return person_or_404(conn, caller, str(person_id))


VisiblePerson = Annotated[dict[str, Any], Depends(visible_person)]


def care_problem(error: care.CareError) -> NoReturn:
    """A refused request as a problem document naming the field."""
    slug = "conflict" if error.status == 409 else "validation-error"
    raise ProblemError(error.status, slug, f"{error.field}: {error.message}",
                       errors=[{"loc": ["body", error.field], "msg": error.message,
                                "type": slug}]) from None


def time_range(person: dict[str, Any], start: dt.datetime | None, end: dt.datetime | None
               ) -> tuple[dt.datetime | None, dt.datetime | None]:
    """`from` and `to` query values as UTC instants."""
    warnings: list[str] = []
    try:
        return tuple(None if value is None else care.resolve(value, person["tz"], name, warnings)
                     for name, value in (("from", start), ("to", end)))  # type: ignore[return-value]
    except care.CareError as exc:
        raise ProblemError(422, "validation-error", f"{exc.field}: {exc.message}",
                           errors=[{"loc": ["query", exc.field], "msg": exc.message,
                                    "type": "value_error"}]) from None


def page_after(cursor_: str | None) -> tuple[dt.datetime, int] | None:
    """The (time, id) key a cursor stands for."""
    if not cursor_:
        return None
    ts, row_id = cursor.decode(cursor_, 2)
    try:
        return dt.datetime.fromisoformat(ts), int(row_id)
    except (TypeError, ValueError):
        raise ProblemError(400, "bad-cursor", "the cursor is not one this API issued") from None


def next_cursor(rows: list[dict[str, Any]], limit: int, time_column: str) -> str | None:
    if len(rows) < limit:
        return None
    return cursor.encode([rows[-1][time_column].isoformat(), rows[-1]["id"]])


def _session_and_person(session_id: RowIdPath, conn: Db, caller: Caller
                        ) -> tuple[dict[str, Any], dict[str, Any]]:
    row = sessions.get(conn, session_id)
    if row is None:
        raise ProblemError(404, "not-found", f"no session {session_id}")
    # Another person's session is as absent as a missing one: no existence leak.
    try:
        person = person_or_404(conn, caller, str(row["person_id"]))
    except ProblemError as exc:
        if exc.status != 404:
            raise
        raise ProblemError(404, "not-found", f"no session {session_id}") from None
    return row, person


SessionAndPerson = Annotated[tuple[dict[str, Any], dict[str, Any]], Depends(_session_and_person)]


@router.post("/v1/persons/{person_id}/sessions", response_model=Session, status_code=201)
def create_session(person: VisiblePerson, body: SessionCreate, conn: Db, caller: Caller
                   ) -> Session:
    """Log a massage session. Overlapping another session of the person is a 409."""
    if body.therapist_id is None and caller.role == "therapist":
        body = body.model_copy(update={"therapist_id": UUID(caller.account_id)})
    try:
        return Session(**care.add_session(conn, person, body))
    except care.CareError as exc:
        care_problem(exc)


@router.get("/v1/persons/{person_id}/sessions", response_model=SessionPage)
def list_sessions(person: VisiblePerson, conn: Db, from_: FromQuery = None, to: ToQuery = None,
                  limit: LimitQuery = 100, cursor_: CursorQuery = None) -> SessionPage:
    """Sessions starting in [from, to), oldest first."""
    start, end = time_range(person, from_, to)
    rows = sessions.page(conn, person_id=str(person["id"]), start=start, end=end, limit=limit,
                         after=page_after(cursor_))
    return SessionPage(items=[Session(**care.session_out(r, person["tz"])) for r in rows],
                       next_cursor=next_cursor(rows, limit, "starts_at"))


@router.get("/v1/sessions/{session_id}", response_model=Session)
def get_session(found: SessionAndPerson) -> Session:
    """One session."""
    row, person = found
    return Session(**care.session_out(row, person["tz"]))


@router.patch("/v1/sessions/{session_id}", response_model=Session)
def edit_session(found: SessionAndPerson, body: SessionUpdate, conn: Db) -> Session:
    """Change some fields of a session; the result is checked like a new one."""
    row, person = found
    try:
        return Session(**care.edit_session(conn, person, row, body))
    except care.CareError as exc:
        care_problem(exc)


@router.delete("/v1/sessions/{session_id}", response_model=Session)
def delete_session(found: SessionAndPerson, conn: Db) -> Session:
    """Delete a session and return it. Its self-reports and lab results are kept, detached."""
    row, person = found
    sessions.delete(conn, row["id"])
    return Session(**care.session_out(row, person["tz"]))
