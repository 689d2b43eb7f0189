"""People."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from service.access import authz
from service.access import service as access
from service.access.deps import Caller, Db, person_or_404, person_with, require_admin
from service.access.repository import accounts, persons
from service.access.schemas import Person, PersonCreate, PersonPage, PersonUpdate
from service.core.http import cursor
from service.core.http.openapi import LOCATION
from service.core.http.problems import PROBLEM_RESPONSES, ProblemError

router = APIRouter(prefix="/v1/persons", tags=["persons"], responses=PROBLEM_RESPONSES)


@router.post(
    "",
    response_model=Person,
    status_code=201,
    responses={201: LOCATION},
    dependencies=[Depends(require_admin)],
)
def create_person(body: PersonCreate, conn: Db, response: Response) -> Person:
    """Create a person (admin). Give them a patient token with `vagus token create`."""
    person = persons.create(conn, name=body.name, tz=body.tz)
    accounts.patient_account(conn, str(person["id"]))
    response.headers["Location"] = f"/v1/persons/{person['id']}"
    return Person(**person)


@router.get("", response_model=PersonPage, dependencies=[Depends(require_admin)])
def list_persons(
    conn: Db,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor_: Annotated[str | None, Query(alias="cursor")] = None,
) -> PersonPage:
    """All people (admin), in id order."""
    after = cursor.decode(cursor_, cursor.UUID)[0] if cursor_ else None
    rows = persons.list_all(conn, limit=limit, after=after)
    next_cursor = cursor.encode([str(rows[-1]["id"])]) if len(rows) == limit else None
    return PersonPage(items=[Person(**r) for r in rows], next_cursor=next_cursor)


@router.get("/{person_id}", response_model=Person)
def get_person(person_id: UUID, conn: Db, caller: Caller) -> Person:
    """One person: an admin, or that person's own patient token."""
    return Person(**person_or_404(conn, caller, str(person_id)))


@router.patch("/{person_id}", response_model=Person)
def edit_person(
    person_id: UUID, body: PersonUpdate, conn: Db, _: Annotated[dict, person_with(authz.EDIT_PERSON)]
) -> Person:
    """Change a person's name or time zone (the person, or an admin). A new zone drops the
    stored session responses and queues the person for recompute: nights, local mornings and
    control days are counted in it."""
    edited = access.edit_person(conn, str(person_id), name=body.name, tz=body.tz)
    if edited is None:  # erased between the access check and the edit
        raise ProblemError(404, "not-found", f"no person {person_id}")
    return Person(**edited)
