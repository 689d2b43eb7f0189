"""Massage sessions of a person: create, list, read, edit, delete."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends

from service.access import authz
from service.access.deps import Caller, Db
from service.care import http
from service.care import service as care
from service.care.repository import sessions
from service.care.schemas import Session, SessionCreate, SessionPage, SessionUpdate
from service.core.http.problems import PROBLEM_RESPONSES, ProblemError

router = APIRouter(tags=["sessions"], responses=PROBLEM_RESPONSES)


def _session_with(scope: str):
    """A dependency: the path's session and its person, if the caller holds ``scope``."""

    def found(session_id: http.RowIdPath, conn: Db, caller: Caller) -> tuple[dict[str, Any], dict[str, Any]]:
        return http.owned_or_404(conn, caller, sessions.get(conn, session_id), f"session {session_id}", scope)

    return found


Found = tuple[dict[str, Any], dict[str, Any]]
SessionToRead = Annotated[Found, Depends(_session_with(authz.READ_SESSIONS))]
SessionToWrite = Annotated[Found, Depends(_session_with(authz.WRITE_SESSIONS))]


def _as_therapist(caller: Any, therapist_id: UUID | None) -> UUID | None:
    """A therapist logs sessions as itself: filled in when omitted, refused when another."""
    if caller.role != "therapist":
        return therapist_id
    if therapist_id is not None and str(therapist_id) != caller.account_id:
        raise ProblemError(
            403,
            "forbidden",
            "a therapist logs sessions under its own account",
            errors=[
                {
                    "loc": ["body", "therapist_id"],
                    "msg": "must be the caller's own account",
                    "type": "forbidden",
                }
            ],
        )
    return UUID(caller.account_id)


@router.post("/v1/persons/{person_id}/sessions", response_model=Session, status_code=201)
def create_session(person: http.WritablePerson, body: SessionCreate, conn: Db, caller: Caller) -> Session:
    """Log a massage session. Overlapping another session of the person is a 409."""
    body = body.model_copy(update={"therapist_id": _as_therapist(caller, body.therapist_id)})
    try:
        return Session(**care.add_session(conn, person, body))
    except care.CareError as exc:
        http.care_problem(exc)


@router.get("/v1/persons/{person_id}/sessions", response_model=SessionPage)
def list_sessions(
    person: http.ReadablePerson,
    conn: Db,
    from_: http.FromQuery = None,
    to: http.ToQuery = None,
    limit: http.LimitQuery = 100,
    cursor_: http.CursorQuery = None,
) -> SessionPage:
    """Sessions starting in [from, to), oldest first."""
    start, end = http.time_range(person, from_, to)
    rows = sessions.page(
        conn, person_id=str(person["id"]), start=start, end=end, limit=limit, after=http.page_after(cursor_)
    )
    return SessionPage(
        items=[Session(**care.session_out(r, person["tz"])) for r in rows],
        next_cursor=http.next_cursor(rows, limit, "starts_at"),
    )


@router.get("/v1/sessions/{session_id}", response_model=Session)
def get_session(found: SessionToRead) -> Session:
    """One session."""
    row, person = found
    return Session(**care.session_out(row, person["tz"]))


@router.patch("/v1/sessions/{session_id}", response_model=Session)
def edit_session(found: SessionToWrite, body: SessionUpdate, conn: Db, caller: Caller) -> Session:
    """Change some fields of a session; the result is checked like a new one."""
    row, person = found
    if "therapist_id" in body.model_fields_set and caller.role == "therapist":
        body = body.model_copy(update={"therapist_id": _as_therapist(caller, body.therapist_id)})
    try:
        return Session(**care.edit_session(conn, person, row, body))
    except care.CareError as exc:
        http.care_problem(exc)


@router.delete("/v1/sessions/{session_id}", response_model=Session)
def delete_session(found: SessionToWrite, conn: Db) -> Session:
    """Delete a session and return it. Its self-reports and lab results are kept, detached."""
    row, person = found
    sessions.delete(conn, row["id"])
    return Session(**care.session_out(row, person["tz"]))
