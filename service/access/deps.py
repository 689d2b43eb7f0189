"""Request dependencies: one database transaction per request, and the caller.

The request's connection is taken and given back by *async* dependencies that do
the blocking part in worker threads of their own (``anyio`` capacity limiters),
never in the threadpool that runs endpoints: a sync ``yield`` dependency needs a
free endpoint thread to give its connection back, and with more waiting requests
than pooled connections every thread ended up waiting for a connection that only
a thread could return (issue 16, defect 2). Waits for a connection are short
(``request_pool_timeout_s``); past them the caller gets a 503 with ``Retry-After``
(``core.http.problems``), as during a database outage.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Annotated, Any
from uuid import UUID

import anyio
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg_pool import PoolTimeout

from service.access import authz
from service.access import cookies as web_cookies
from service.access.auth import Principal, authenticate
from service.access.repository import audit
from service.core.db import rls
from service.core.db.types import Conn, Pool
from service.core.http.middleware import client_ip
from service.core.http.problems import ProblemError
from service.core.settings import Settings

_bearer = HTTPBearer(auto_error=False, description="A Vagus API token (`vgs_...`).")


def get_pool(request: Request) -> Pool:
    return request.app.state.pool


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


class _Limiters:
    """Thread budgets of their own for taking and for giving back request connections."""

    def __init__(self, size: int) -> None:
        self.take = anyio.CapacityLimiter(size)
        # Never more connections out than the pool holds: giving one back never waits.
        self.give_back = anyio.CapacityLimiter(size)


def _limiters(request: Request) -> _Limiters:
    state = request.app.state
    limiters = getattr(state, "db_limiters", None)
    if limiters is None:  # created on the event loop, at first use
        limiters = state.db_limiters = _Limiters(max(request.app.state.pool.max_size, 1))
    return limiters


def request_timeout(request: Request) -> float:
    """How long a request waits for a pooled connection before its 503."""
    return float(request.app.state.settings.request_pool_timeout_s)


def take_connection(pool: Pool, request: Request) -> Conn:
    """A pooled connection for a request: a short wait when the database looks away, a
    longer one while every connection is simply busy with other requests.

    After ``request_pool_timeout_s`` without a connection the pool is asked why: if it
    is at full size with none idle, the database is answering but busy, and the request
    keeps its place in line up to ``request_busy_timeout_s``; otherwise (connections
    failing, as in an outage) the ``PoolTimeout`` becomes the 503 at once.
    """
    settings = request.app.state.settings
    step = float(settings.request_pool_timeout_s)
    waited = 0.0
    while True:
        try:
            conn = pool.getconn(timeout=step)
        except PoolTimeout:
            waited += step
            if waited >= settings.request_busy_timeout_s or not _all_busy(pool):
                raise
            continue
        if conn.autocommit:  # requests commit or roll back explicitly
            conn.autocommit = False
        return conn


def _all_busy(pool: Pool) -> bool:
    stats = pool.get_stats()
    return stats.get("pool_size", 0) >= pool.max_size and stats.get("pool_available", 0) == 0


@contextmanager
def request_connection(pool: Pool, request: Request) -> Iterator[Conn]:
    """A pooled connection for code running in a thread (see :func:`take_connection`),
    committed on normal exit, rolled back otherwise, and always given back."""
    conn = take_connection(pool, request)
    try:
        yield conn
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        pool.putconn(conn)


async def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    # A signed-in browser (service/web) sends its token as a cookie (service/access/cookies.py).
    token = credentials.credentials if credentials is not None else _cookie_token(request)
    if token is None:
        raise ProblemError(
            401,
            "unauthorized",
            "send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = await anyio.to_thread.run_sync(_authenticate, request, token, limiter=_limiters(request).take)
    request.state.principal = principal  # for the rate limiter's key (core.http.middleware)
    if principal is None:
        raise ProblemError(
            401,
            "unauthorized",
            "the token is unknown, expired or revoked",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return principal


def _cookie_token(request: Request) -> str | None:
    """The sign-in cookie's token; 403 without the CSRF header on writes."""
    try:
        return web_cookies.api_token(request)
    except web_cookies.CsrfError as exc:
        raise ProblemError(403, "csrf-failed", str(exc)) from None


def _authenticate(request: Request, token: str) -> Principal | None:
    with request_connection(request.app.state.pool, request) as conn:
        return authenticate(conn, token)


async def get_db(
    request: Request, principal: Annotated[Principal, Depends(get_principal)]
) -> AsyncIterator[Conn]:
    """A connection inside a transaction, committed when the endpoint returns normally.

    It acts for the caller (row-level security shows only the persons the
    caller may see) and carries the request's origin for audit rows. A refusal of
    access (a :class:`ProblemError` with ``denied``) rolls the transaction back and
    is then audited in a transaction of its own.
    """
    limiters = _limiters(request)
    conn = await anyio.to_thread.run_sync(_open, request, principal, limiter=limiters.take)
    try:
        yield conn
    except BaseException as exc:
        denied = exc.denied if isinstance(exc, ProblemError) else None
        with anyio.CancelScope(shield=True):  # the connection goes back, whatever happens
            await anyio.to_thread.run_sync(
                _close, request, conn, False, principal, denied, limiter=limiters.give_back
            )
        raise
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(
            _close, request, conn, True, principal, None, limiter=limiters.give_back
        )


def _open(request: Request, principal: Principal) -> Conn:
    pool = request.app.state.pool
    conn = take_connection(pool, request)
    try:
        scope_connection(conn, principal, request)
    except BaseException:
        pool.putconn(conn)
        raise
    return conn


def _close(
    request: Request, conn: Conn, commit: bool, principal: Principal, denied: tuple[str | None, str] | None
) -> None:
    pool = request.app.state.pool
    try:
        if commit:
            conn.commit()
            return
        conn.rollback()
        if denied is not None:
            scope_connection(conn, principal, request)
            person_id, scope = denied
            audit.record(
                conn,
                actor_account_id=principal.account_id,
                actor_role=principal.role,
                person_id=person_id,
                action=f"denied:{scope}",
            )
            conn.commit()
    finally:
        pool.putconn(conn)


@contextmanager
def scoped_connection(pool: Pool, principal: Principal, request: Request) -> Iterator[Conn]:
    """A pooled connection acting for the caller, committed on normal exit (for endpoints
    that need several short transactions or a connection that outlives the request)."""
    with request_connection(pool, request) as conn:
        scope_connection(conn, principal, request)
        yield conn


def scope_connection(conn: Conn, principal: Principal, request: Request) -> None:
    """Make ``conn`` act for the caller; for endpoints that borrow their own connections."""
    rls.act_as(conn, principal.account_id)
    trusted = request.app.state.settings.trusted_proxies
    rls.set_request_info(
        conn,
        client_ip=client_ip(request.scope, trusted),
        user_agent=request.headers.get("user-agent"),
        request=f"{request.method} {request.url.path}",
    )


Db = Annotated[Conn, Depends(get_db)]
Caller = Annotated[Principal, Depends(get_principal)]


def require_admin(principal: Caller, conn: Db) -> Principal:
    """An admin caller; the access is audited (admin reads cross every person), and a
    refusal is audited too (by ``get_db``)."""
    if principal.role != "admin":
        error = ProblemError(403, "forbidden", "this needs an admin token")
        error.denied = (None, "admin")
        raise error
    audit_admin(conn, principal)
    return principal


def audit_denial(request: Request, principal: Principal, denied: tuple[str | None, str]) -> None:
    """Record a refused access in a transaction of its own (for endpoints without ``Db``)."""
    with scoped_connection(request.app.state.pool, principal, request) as conn:
        person_id, scope = denied
        audit.record(
            conn,
            actor_account_id=principal.account_id,
            actor_role=principal.role,
            person_id=person_id,
            action=f"denied:{scope}",
        )


def audit_admin(conn: Conn, principal: Principal) -> None:
    """Record an admin's access to a listing across persons (the request line says which)."""
    if principal.role == "admin":
        audit.record(
            conn,
            actor_account_id=principal.account_id,
            actor_role=principal.role,
            person_id=None,
            action="admin",
        )


def person_or_404(conn: Conn, principal: Principal, person_id: str, scope: str = authz.READ_PERSON) -> dict:
    """The person, when the caller holds ``scope`` on it (see :func:`service.authz.require`).

    404 when the caller has no access to the person at all (no existence leak),
    403 when it may see the person but lacks the scope. Audited unless self-access.
    """
    try:
        return authz.require(conn, principal, str(person_id), scope)
    except authz.AccessDenied as exc:
        slug = "not-found" if exc.status == 404 else "forbidden"
        error = ProblemError(exc.status, slug, str(exc))
        error.denied = (str(person_id), scope)  # audited by get_db after the rollback
        raise error from None


def person_with(scope: str = authz.READ_PERSON) -> Any:
    """``Depends`` on the path's ``person_id``, authorised for ``scope``: declared as a
    dependency, the check runs before the body is validated, so a caller without
    access gets its 404 whatever it sends."""

    def dependency(person_id: UUID, conn: Db, caller: Caller) -> dict:
        return person_or_404(conn, caller, str(person_id), scope)

    return Depends(dependency)
