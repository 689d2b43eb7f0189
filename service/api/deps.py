"""Request dependencies: one database transaction per request, and the caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import psycopg
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg_pool import ConnectionPool

from ..auth import Principal, authenticate
from ..config import Settings
from ..repositories import persons
from .problems import ProblemError

_bearer = HTTPBearer(auto_error=False, description="A Vagus API token (`vgs_...`).")


def get_pool(request: Request) -> ConnectionPool:
    return request.app.state.pool


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_db(pool: Annotated[ConnectionPool, Depends(get_pool)]) -> Iterator[psycopg.Connection]:
    """A connection inside a transaction, committed when the endpoint returns normally."""
    with pool.connection() as conn:
        with conn.transaction():
            yield conn


def get_principal(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    pool: Annotated[ConnectionPool, Depends(get_pool)],
) -> Principal:
    if credentials is None:
        raise ProblemError(401, "unauthorized", "send 'Authorization: Bearer <token>'",
                           headers={"WWW-Authenticate": "Bearer"})
    with pool.connection() as conn:
        principal = authenticate(conn, credentials.credentials)
    if principal is None:
        raise ProblemError(401, "unauthorized", "the token is unknown, expired or revoked",
                           headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return principal


Db = Annotated[psycopg.Connection, Depends(get_db)]
Caller = Annotated[Principal, Depends(get_principal)]


def require_admin(principal: Caller) -> Principal:
    if principal.role != "admin":
        raise ProblemError(403, "forbidden", "this needs an admin token")
    return principal


def person_or_404(conn: psycopg.Connection, principal: Principal, person_id: str) -> dict:
    """The person, if it exists and the caller may see it; 404 otherwise (no existence leak)."""
    if not principal.can_access_person(person_id):
        raise ProblemError(404, "not-found", f"no person {person_id} visible to this token")
    person = persons.get(conn, person_id)
    if person is None:
        raise ProblemError(404, "not-found", f"no person {person_id}")
    return person
