"""`GET /v1/clients` (a therapist's or app's client list) and a client's sessions with their
headline responses in one call."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from service.access import authz
from service.access.deps import Caller, Db, get_settings, person_or_404, person_with
from service.analysis.session_response import WindowConfig
from service.care import service as care
from service.care.repository import sessions as session_repo
from service.clients import service as clients_service
from service.clients.schemas import Client, ClientPage, SessionResponsePage, SessionWithResponse
from service.core.http import cursor, timequery
from service.core.http.problems import PROBLEM_RESPONSES, ProblemError
from service.core.settings import Settings

router = APIRouter(tags=["clients"], responses=PROBLEM_RESPONSES)

CursorQuery = Annotated[str | None, Query(alias="cursor", description="`next_cursor` of a page")]


@router.get("/v1/clients", response_model=ClientPage)
def list_clients(
    conn: Db, caller: Caller, limit: Annotated[int, Query(ge=1, le=200)] = 50, cursor_: CursorQuery = None
) -> ClientPage:
    """The persons who granted the calling therapist (or app) access right now, by name: zone,
    latest import, latest session and today's recovery status, each as far as the grant's
    scopes reach."""
    if caller.role not in ("therapist", "app"):
        raise ProblemError(
            403,
            "forbidden",
            "the client list is for therapist and app accounts "
            "(an admin lists everyone with GET /v1/persons)",
        )
    after = None
    if cursor_:
        name, person_id = cursor.decode(cursor_, 2)
        after = (str(name), str(person_id))
    rows = clients_service.clients(conn, caller, limit=limit, after=after)
    next_cursor = (
        cursor.encode([rows[-1]["name"], str(rows[-1]["person_id"])]) if len(rows) == limit else None
    )
    return ClientPage(items=[Client(**r) for r in rows], next_cursor=next_cursor)


@router.get("/v1/persons/{person_id}/session-responses", response_model=SessionResponsePage)
def list_session_responses(
    person_id: UUID,
    conn: Db,
    caller: Caller,
    person: Annotated[dict, person_with(authz.READ_SESSIONS)],
    settings: Annotated[Settings, Depends(get_settings)],
    from_: timequery.FromQuery = None,
    to: timequery.ToQuery = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor_: CursorQuery = None,
) -> SessionResponsePage:
    """A person's sessions (oldest first, like GET /v1/persons/{id}/sessions) each with its
    response's headline: the plain summary and every metric's pre, post and change. Needs
    read:sessions and read:evidence."""
    person_or_404(conn, caller, str(person_id), authz.READ_EVIDENCE)
    start, end = timequery.utc_range(person["tz"], from_, to)
    after = None
    if cursor_:
        ts, row_id = cursor.decode(cursor_, 2)
        try:
            after = (dt.datetime.fromisoformat(ts), int(row_id))
        except (TypeError, ValueError):
            raise ProblemError(400, "bad-cursor", "the cursor is not one this API issued") from None
    rows = session_repo.page(conn, person_id=str(person_id), start=start, end=end, limit=limit, after=after)
    items = clients_service.session_responses(conn, person, rows, WindowConfig.from_settings(settings))
    next_cursor = (
        cursor.encode([rows[-1]["starts_at"].isoformat(), rows[-1]["id"]]) if len(rows) == limit else None
    )
    return SessionResponsePage(
        items=[
            SessionWithResponse(
                session=care.session_out(item["session"], person["tz"]),
                response=item["response"],
                error=item["error"],
            )
            for item in items
        ],
        next_cursor=next_cursor,
    )
