"""Request dependencies: one database transaction per request, and the caller."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any
from uuid import UUID

import psycopg
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg_pool import ConnectionPool

from service.access import authz
from service.access.auth import Principal, authenticate
from service.core.db import rls
from service.core.db.types import Conn, Pool
from service.core.http.problems import ProblemError
from service.core.settings import Settings
from service.access import cookies as web_cookies

_bearer = HTTPBearer(auto_error=False, description="A Vagus API token (`vgs_...`).")


def get_pool(request: Request) -> Pool:
    return request.app.state.pool


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    pool: Annotated[ConnectionPool, Depends(get_pool)],
) -> Principal:
    # A signed-in browser (service/web) sends its token as a cookie (service/access/cookies.py).
    token = credentials.credentials if credentials is not None else _cookie_token(request)
    if token is None:
        raise ProblemError(401, "unauthorized", "send 'Authorization: Bearer <token>'",
                           headers={"WWW-Authenticate": "Bearer"})
    with pool.connection() as conn:
        principal = authenticate(conn, token)
    if principal is None:
        raise ProblemError(401, "unauthorized", "the token is unknown, expired or revoked",
                           headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return principal


def _cookie_token(request: Request) -> str | None:
    """The sign-in cookie's token; 403 without the CSRF header on writes."""
    try:
        return web_cookies.api_token(request)
    except web_cookies.CsrfError as exc:
        raise ProblemError(403, "csrf-failed", str(exc)) from None


def get_db(pool: Annotated[ConnectionPool, Depends(get_pool)], request: Request,
           principal: Annotated[Principal, Depends(get_principal)]) -> Iterator[psycopg.Connection]:
    """A connection inside a transaction, committed when the endpoint returns normally.

    It acts for the caller (row-level security shows only the persons the
    caller may see) and carries the request's origin for audit rows.
    """
    with pool.connection() as conn:
        with conn.transaction():
            scope_connection(conn, principal, request)
            yield conn


@contextmanager
def scoped_connection(pool: Pool, principal: Principal,
                      request: Request) -> Iterator[psycopg.Connection]:
    """A pooled connection acting for the caller, committed on normal exit (for endpoints
    that need several short transactions or a connection that outlives the request)."""
    with pool.connection() as conn:
        scope_connection(conn, principal, request)
        yield conn


def scope_connection(conn: Conn, principal: Principal, request: Request) -> None:
    """Make ``conn`` act for the caller; for endpoints that borrow their own connections."""
    rls.act_as(conn, principal.account_id)
    rls.set_request_info(conn, client_ip=request.client.host if request.client else None,
                         user_agent=request.headers.get("user-agent"),
                         request=f"{request.method} {request.url.path}")


Db = Annotated[psycopg.Connection, Depends(get_db)]
Caller = Annotated[Principal, Depends(get_principal)]


def require_admin(principal: Caller) -> Principal:
    if principal.role != "admin":
        raise ProblemError(403, "forbidden", "this needs an admin token")
    return principal


def person_or_404(conn: Conn, principal: Principal, person_id: str,
                  scope: str = authz.READ_PERSON) -> dict:
    """The person, when the caller holds ``scope`` on it (see :func:`service.authz.require`).

    404 when the caller has no access to the person at all (no existence leak),
    403 when it may see the person but lacks the scope. Audited unless self-access.
    """
    try:
        return authz.require(conn, principal, str(person_id), scope)
    except authz.AccessDenied as exc:
        slug = "not-found" if exc.status == 404 else "forbidden"
        raise ProblemError(exc.status, slug, str(exc)) from None


def person_with(scope: str = authz.READ_PERSON) -> Any:
    """``Depends`` on the path's ``person_id``, authorised for ``scope``: declared as a
    dependency, the check runs before the body is validated, so a caller without
    access gets its 404 whatever it sends."""

    def dependency(person_id: UUID, conn: Db, caller: Caller) -> dict:
        return person_or_404(conn, caller, str(person_id), scope)

    return Depends(dependency)
