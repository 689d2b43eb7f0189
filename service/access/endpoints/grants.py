"""Consent: patients grant, list and revoke; therapists and apps request and see their grants."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import psycopg
from fastapi import APIRouter, Body, Path, Query, Response

from service.access import authz
from service.access.deps import Caller, Db, person_with
from service.access.repository import accounts, grants
from service.access.schemas import (
    AccessRequest,
    Grant,
    GrantApproval,
    GrantCreate,
    GrantList,
    GrantStatus,
    Me,
)
from service.core.db.types import Conn, returned
from service.core.http.openapi import LOCATION
from service.core.http.problems import PROBLEM_RESPONSES, Problem, ProblemError

RESPONSES = {
    **PROBLEM_RESPONSES,
    409: {"model": Problem, "description": "Conflict", "content": {"application/problem+json": {}}},
}
router = APIRouter(tags=["consent"], responses=RESPONSES)

GrantId = Annotated[int, Path(ge=1, le=2**63 - 1)]
#: The path's person, when the caller may manage its grants (the patient or an admin).
Managed = Annotated[dict, person_with(authz.MANAGE_GRANTS)]


@router.get("/v1/me", response_model=Me)
def me(conn: Db, caller: Caller) -> Me:
    """The calling account: its id (what a patient grants access to), role and person."""
    account = returned(accounts.get(conn, caller.account_id))  # authenticated: it exists
    return Me(
        account_id=caller.account_id, role=caller.role, name=account["name"], person_id=caller.person_id
    )


@router.post(
    "/v1/persons/{person_id}/grants", response_model=Grant, status_code=201, responses={201: LOCATION}
)
def create_grant(
    person_id: UUID, body: GrantCreate, conn: Db, caller: Caller, _: Managed, response: Response
) -> Grant:
    """Grant a therapist or app account scopes on this person (the patient, or an admin)."""
    grantee = accounts.get(conn, str(body.grantee_id))
    if grantee is None or grantee["role"] not in ("therapist", "app"):
        raise ProblemError(422, "validation-error", "grantee_id: not a therapist or app account")
    if grants.open_for(conn, person_id=str(person_id), grantee_id=str(body.grantee_id)):
        raise ProblemError(
            409, "conflict", "this account already has an open grant or request: approve or revoke it first"
        )
    row = _insert(
        conn,
        person_id=str(person_id),
        grantee_id=str(body.grantee_id),
        scopes=list(body.scopes),
        status="active",
        requested_by=caller.account_id,
        expires_at=body.expires_at,
        note=body.note,
    )
    response.headers["Location"] = f"/v1/persons/{person_id}/grants?status=active"
    return Grant(**row)


@router.get("/v1/persons/{person_id}/grants", response_model=GrantList)
def list_person_grants(
    person_id: UUID, conn: Db, _: Managed, status: Annotated[GrantStatus | None, Query()] = None
) -> GrantList:
    """Every grant and pending request on this person, newest first (patient or admin)."""
    return GrantList(items=[Grant(**r) for r in grants.list_for_person(conn, str(person_id), status)])


@router.post("/v1/persons/{person_id}/grants/{grant_id}/approve", response_model=Grant)
def approve_grant(
    person_id: UUID,
    grant_id: GrantId,
    conn: Db,
    _: Managed,
    body: Annotated[GrantApproval | None, Body()] = None,
) -> Grant:
    """Approve a pending access request (patient or admin)."""
    _grant_of(conn, person_id, grant_id)
    row = grants.approve(conn, grant_id, expires_at=body.expires_at if body else None)
    if row is None:
        raise ProblemError(409, "conflict", f"grant {grant_id} is not a pending request")
    return Grant(**row)


@router.delete("/v1/persons/{person_id}/grants/{grant_id}", response_model=Grant)
def revoke_grant(person_id: UUID, grant_id: GrantId, conn: Db, _: Managed) -> Grant:
    """Revoke a grant (or decline a request); it stops working with the next request."""
    _grant_of(conn, person_id, grant_id)
    row = grants.revoke(conn, grant_id)
    if row is None:
        raise ProblemError(409, "conflict", f"grant {grant_id} is already revoked or declined")
    return Grant(**row)


@router.post("/v1/access-requests", response_model=Grant, status_code=201, responses={201: LOCATION})
def request_access(body: AccessRequest, conn: Db, caller: Caller, response: Response) -> Grant:
    """A therapist or app asks a person for scopes; the patient approves or declines it.

    The person id comes from the patient (ids are random UUIDs); an unknown id is a 404.
    """
    if caller.role not in ("therapist", "app"):
        raise ProblemError(403, "forbidden", "only therapist and app accounts request access")
    if grants.open_for(conn, person_id=str(body.person_id), grantee_id=caller.account_id):
        raise ProblemError(409, "conflict", "an open grant or request exists for this person")
    row = _insert(
        conn,
        person_id=str(body.person_id),
        grantee_id=caller.account_id,
        scopes=list(body.scopes),
        status="pending",
        requested_by=caller.account_id,
        expires_at=body.expires_at,
        note=body.note,
    )
    response.headers["Location"] = "/v1/grants?status=pending"
    return Grant(**row)


@router.get("/v1/grants", response_model=GrantList)
def my_grants(conn: Db, caller: Caller, status: Annotated[GrantStatus | None, Query()] = None) -> GrantList:
    """Grants and requests held by the calling therapist or app account (pending ones too)."""
    return GrantList(items=[Grant(**r) for r in grants.list_for_grantee(conn, caller.account_id, status)])


def _grant_of(conn: Conn, person_id: UUID, grant_id: int) -> dict:
    row = grants.get(conn, grant_id)
    if row is None or str(row["person_id"]) != str(person_id):
        raise ProblemError(404, "not-found", f"no grant {grant_id} on this person")
    return row


def _insert(conn: Conn, **values) -> dict:
    # A savepoint, so that a person id that does not exist answers 404, not 500.
    try:
        with conn.transaction():
            return grants.create(conn, **values)
    except psycopg.errors.ForeignKeyViolation:
        raise ProblemError(404, "not-found", f"no person {values['person_id']}") from None
    except psycopg.errors.UniqueViolation:
        raise ProblemError(409, "conflict", "an open grant or request exists") from None
