"""Connecting a wearable cloud account, following its syncs, and the vendors' callbacks."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from service.access import authz
from service.access.deps import Db, get_pool, get_settings, person_with
from service.core.db.types import Pool
from service.core.http.problems import PROBLEM_RESPONSES, Problem, ProblemError
from service.core.settings import Settings
from service.sync import repository as repo
from service.sync import service
from service.sync.client import SyncError
from service.sync.crypto import KeyMissing
from service.sync.schemas import (
    Authorization,
    Connected,
    Connection,
    ConnectionList,
    ConnectionStart,
    Disconnected,
    ProviderName,
    PushAccepted,
    SyncQueued,
)

RESPONSES: dict[int | str, dict[str, Any]] = {
    **PROBLEM_RESPONSES,
    409: {"model": Problem, "description": "Conflict", "content": {"application/problem+json": {}}},
}
router = APIRouter(tags=["cloud sync"], responses=RESPONSES)

#: Connecting and disconnecting are the person's own decision (like granting access).
Managed = Annotated[dict, person_with(authz.MANAGE_GRANTS)]
Readable = Annotated[dict, person_with(authz.READ_OBSERVATIONS)]
Importer = Annotated[dict, person_with(authz.WRITE_IMPORTS)]


def _unavailable(exc: Exception) -> ProblemError:
    if isinstance(exc, service.NotConfigured | KeyMissing):
        return ProblemError(409, "provider-not-configured", str(exc))
    return ProblemError(502, "vendor-error", str(exc))


@router.post("/v1/persons/{person_id}/connections", response_model=Authorization, status_code=201)
def connect(
    person_id: UUID,
    body: ConnectionStart,
    conn: Db,
    _: Managed,
    settings: Annotated[Settings, Depends(get_settings)],
) -> Authorization:
    """Start connecting a vendor account: returns the vendor's authorization URL
    (OAuth 2.0 with PKCE); the vendor sends the browser back to ``/v1/sync/callback``."""
    try:
        started = service.start(conn, str(person_id), body.provider, settings)
    except (service.NotConfigured, KeyMissing) as exc:
        raise _unavailable(exc) from None
    return Authorization(**started)


@router.get("/v1/persons/{person_id}/connections", response_model=ConnectionList)
def list_connections(person_id: UUID, conn: Db, _: Readable) -> ConnectionList:
    """The person's connected vendor accounts, their state and latest syncs."""
    return ConnectionList(items=[Connection(**row) for row in service.connections(conn, str(person_id))])


@router.delete("/v1/persons/{person_id}/connections/{provider}", response_model=Disconnected)
def disconnect(person_id: UUID, provider: ProviderName, conn: Db, _: Managed) -> Disconnected:
    """Disconnect: the tokens are deleted now and the grant revoked at the vendor.
    Idempotent: disconnecting a provider that is not connected does nothing."""
    return Disconnected(provider=provider, disconnected=service.disconnect(conn, str(person_id), provider))


@router.post(
    "/v1/persons/{person_id}/connections/{provider}/sync", response_model=SyncQueued, status_code=202
)
def sync_now(person_id: UUID, provider: ProviderName, conn: Db, _: Importer) -> SyncQueued:
    """Queue a sync of this connection now (besides the hourly one)."""
    row = repo.connection_for(conn, str(person_id), provider)
    if row is None or row["status"] != "active":
        state = "not connected" if row is None else "waiting to be reauthorised"
        raise ProblemError(409, "conflict", f"{provider} is {state}: connect it first")
    return SyncQueued(provider=provider, queued=service.request_sync(conn, row["id"], "manual"))


@router.get("/v1/sync/callback", response_model=Connected)
def callback(
    pool: Annotated[Pool, Depends(get_pool)],
    settings: Annotated[Settings, Depends(get_settings)],
    state: Annotated[str, Query(min_length=1, max_length=200)],
    code: Annotated[str | None, Query(max_length=4096)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> Connected:
    """Where the vendor returns the browser. The ``state`` (one use, short-lived) names
    the person who started the connection; no token is needed."""
    try:
        row = service.complete(pool, settings, state=state, code=code, error=error)
    except service.CallbackRefused as exc:
        raise ProblemError(400, "authorization-refused", str(exc)) from None
    except (SyncError, KeyMissing) as exc:
        raise _unavailable(exc) from None
    title = service.provider(row["provider"]).title
    return Connected(
        provider=row["provider"],
        message=f"{title} is connected: its data arrives in Vagus by itself from "
        "now on. You can close this page.",
    )


@router.get("/v1/sync/push/{provider}")
def push_verification(provider: ProviderName, request: Request) -> dict[str, str]:
    """A vendor confirming a push subscription (Oura: echo ``challenge`` when the
    ``verification_token`` matches)."""
    try:
        challenge = service.verification_challenge(provider, dict(request.query_params))
    except service.NotConfigured as exc:
        raise _unavailable(exc) from None
    if challenge is None:
        raise ProblemError(401, "unauthorized", "the verification token does not match")
    return {"challenge": challenge}


@router.post("/v1/sync/push/{provider}", response_model=PushAccepted, status_code=202)
async def push(
    provider: ProviderName, request: Request, pool: Annotated[Pool, Depends(get_pool)]
) -> PushAccepted:
    """A vendor's push notification: the signature is checked against the app's client
    secret, then a sync of that data type is queued for the vendor user's connection."""
    body = await request.body()
    try:
        result = await run_in_threadpool(service.push, pool, provider, dict(request.headers), body)
    except service.PushRefused as exc:
        raise ProblemError(401, "unauthorized", str(exc)) from None
    except service.NotConfigured as exc:
        raise _unavailable(exc) from None
    return PushAccepted(**result)
