"""HTTP pieces shared by the session, self-report and lab-result routes.

The person check is a dependency so that a person the caller may not see is a
404 before the request body is validated: a foreign id reveals nothing. Reads
need the `read:sessions` scope, writes `write:sessions` (a patient holds both on
itself, an admin on everyone, a therapist or app what the person granted).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, NoReturn
from uuid import UUID

from fastapi import Depends, Path, Query

from service.access import authz
from service.access.deps import Caller, Db, person_or_404
from service.care import service as care
from service.core.http import cursor
from service.core.http.problems import ProblemError

RowIdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]
FromQuery = Annotated[
    dt.datetime | None,
    Query(alias="from", description="Inclusive; ISO 8601, without an offset read in the person's zone"),
]
ToQuery = Annotated[dt.datetime | None, Query(description="Exclusive; like `from`")]
LimitQuery = Annotated[int, Query(ge=1, le=1000)]
CursorQuery = Annotated[str | None, Query(alias="cursor", description="`next_cursor` of a page")]


def readable_person(person_id: UUID, conn: Db, caller: Caller) -> dict[str, Any]:
    """The path's person, if the caller may read its sessions, reports and lab results."""
    return person_or_404(conn, caller, str(person_id), authz.READ_SESSIONS)


def writable_person(person_id: UUID, conn: Db, caller: Caller) -> dict[str, Any]:
    """The path's person, if the caller may log sessions, reports and lab results for it."""
    return person_or_404(conn, caller, str(person_id), authz.WRITE_SESSIONS)


ReadablePerson = Annotated[dict[str, Any], Depends(readable_person)]
WritablePerson = Annotated[dict[str, Any], Depends(writable_person)]


def care_problem(error: care.CareError) -> NoReturn:
    """A refused request as a problem document naming the field."""
    slug = "conflict" if error.status == 409 else "validation-error"
    raise ProblemError(
        error.status,
        slug,
        f"{error.field}: {error.message}",
        errors=[{"loc": ["body", error.field], "msg": error.message, "type": slug}],
    ) from None


def time_range(
    person: dict[str, Any], start: dt.datetime | None, end: dt.datetime | None
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """`from` and `to` query values as UTC instants."""
    warnings: list[str] = []
    try:
        bounds = [
            None if value is None else care.resolve(value, person["tz"], name, warnings)
            for name, value in (("from", start), ("to", end))
        ]
    except care.CareError as exc:
        raise ProblemError(
            422,
            "validation-error",
            f"{exc.field}: {exc.message}",
            errors=[{"loc": ["query", exc.field], "msg": exc.message, "type": "value_error"}],
        ) from None
    return bounds[0], bounds[1]


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


def owned_or_404(
    conn: Db, caller: Caller, row: dict[str, Any] | None, what: str, scope: str = authz.READ_SESSIONS
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A record looked up by id and its person. Another person's record is as absent as a
    missing one, so ids reveal nothing; a 403 (a grant lacking the scope) passes through."""
    if row is None:
        raise ProblemError(404, "not-found", f"no {what}")
    try:
        return row, person_or_404(conn, caller, str(row["person_id"]), scope)
    except ProblemError as exc:
        if exc.status != 404:
            raise
        raise ProblemError(404, "not-found", f"no {what}") from None
