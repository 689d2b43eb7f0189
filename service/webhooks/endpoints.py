"""Webhook subscriptions for app accounts (signing and delivery: ``service.jobs.webhooks``)."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from service.access.auth import Principal
from service.access.deps import Caller, Db, audit_admin, person_or_404
from service.core.db.types import Conn, Row, returned
from service.core.http import cursor
from service.core.http.openapi import LOCATION
from service.core.http.problems import PROBLEM_RESPONSES, ProblemError
from service.webhooks import repository as repo
from service.webhooks import targets
from service.webhooks.events import EVENT_BODIES
from service.webhooks.service import EVENTS, EventName
from service.webhooks.targets import WebhookUrl

router = APIRouter(tags=["webhooks"], responses=PROBLEM_RESPONSES)
CursorQuery = Annotated[str | None, Query(alias="cursor", description="`next_cursor` of a page")]


class WebhookCreate(BaseModel):
    url: WebhookUrl = Field(max_length=2000, examples=["https://app.example/vagus-events"])
    events: list[EventName] = Field(min_length=1)
    person_id: UUID | None = Field(
        default=None,
        description="Only events about this person (default: every person the "
        "account holds the event's scope on, checked per event).",
    )
    account_id: UUID | None = Field(default=None, description="Admins only: the app account to subscribe.")


class Webhook(BaseModel):
    id: int
    account_id: UUID
    url: str
    events: list[str]
    person_id: UUID | None
    active: bool
    created_at: dt.datetime


class WebhookCreated(Webhook):
    secret: str = Field(description="The HMAC-SHA256 signing key. Shown once: store it now.")


class WebhookPage(BaseModel):
    items: list[Webhook]
    next_cursor: str | None


class Delivery(BaseModel):
    id: int
    event_id: str
    event_type: str
    job_id: int | None
    attempt: int
    status_code: int | None
    error: str | None
    succeeded: bool
    attempted_at: dt.datetime


class DeliveryPage(BaseModel):
    items: list[Delivery]
    next_cursor: str | None


def _subscriber(conn: Conn, caller: Principal, body: WebhookCreate) -> str:
    if caller.role == "app":
        if body.account_id is not None and str(body.account_id) != caller.account_id:
            raise ProblemError(403, "forbidden", "an app subscribes only itself")
        return caller.account_id
    if caller.role != "admin":
        raise ProblemError(403, "forbidden", "webhooks are for app accounts (or admins)")
    if body.account_id is None or repo.account_role(conn, str(body.account_id)) != "app":
        raise ProblemError(422, "not-an-app", "account_id must name an app account")
    return str(body.account_id)


def _owned(conn: Conn, caller: Principal, subscription_id: int) -> Row:
    row = repo.get(conn, subscription_id)
    if row is None or (caller.role != "admin" and str(row["account_id"]) != caller.account_id):
        raise ProblemError(404, "not-found", f"no webhook {subscription_id} for this token")
    return row


@router.post("/v1/webhooks", response_model=WebhookCreated, status_code=201, responses={201: LOCATION})
def create_webhook(
    body: WebhookCreate, conn: Db, caller: Caller, request: Request, response: Response
) -> WebhookCreated:
    """Subscribe a URL to events; the answer holds the signing secret, shown once.
    Targets on loopback, private and link-local addresses are refused (422) unless
    `VAGUS_WEBHOOK_ALLOW_NETWORKS` covers them."""
    account_id = _subscriber(conn, caller, body)
    targets.require_allowed(body.url, request.app.state.settings.webhook_allow_networks)
    if body.person_id is not None and caller.role != "admin":
        person_or_404(conn, caller, str(body.person_id))
    secret = "whsec_" + secrets.token_urlsafe(32)
    row = repo.create(
        conn,
        account_id=account_id,
        url=body.url,
        secret=secret,
        events=list(dict.fromkeys(body.events)),
        person_id=str(body.person_id) if body.person_id else None,
    )
    response.headers["Location"] = f"/v1/webhooks/{row['id']}/deliveries"
    return WebhookCreated(**row, secret=secret)


@router.get("/v1/webhooks", response_model=WebhookPage)
def list_webhooks(
    conn: Db, caller: Caller, limit: Annotated[int, Query(ge=1, le=500)] = 100, cursor_: CursorQuery = None
) -> WebhookPage:
    """The caller's subscriptions (an admin sees all, audited), oldest first."""
    audit_admin(conn, caller)
    after = cursor.decode_id(cursor_) if cursor_ else None
    rows = repo.list_for(
        conn, None if caller.role == "admin" else caller.account_id, limit=limit, after_id=after
    )
    return WebhookPage(
        items=[Webhook(**r) for r in rows],
        next_cursor=cursor.encode_id(rows[-1]["id"]) if len(rows) == limit else None,
    )


@router.delete("/v1/webhooks/{subscription_id}", response_model=Webhook)
def delete_webhook(subscription_id: int, conn: Db, caller: Caller) -> Webhook:
    """Remove a subscription; deliveries still queued for it are dropped."""
    _owned(conn, caller, subscription_id)
    return Webhook(**returned(repo.delete(conn, subscription_id)))  # checked by _owned


@router.get("/v1/webhooks/{subscription_id}/deliveries", response_model=DeliveryPage)
def list_deliveries(
    subscription_id: int,
    conn: Db,
    caller: Caller,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor_: CursorQuery = None,
) -> DeliveryPage:
    """Every delivery attempt for a subscription, newest first: status code or error."""
    _owned(conn, caller, subscription_id)
    before = cursor.decode_id(cursor_) if cursor_ else None
    rows = repo.deliveries(conn, subscription_id, limit=limit, before_id=before)
    return DeliveryPage(
        items=[Delivery(**r) for r in rows],
        next_cursor=cursor.encode_id(rows[-1]["id"]) if len(rows) == limit else None,
    )


#: The outgoing events, for the OpenAPI document's ``webhooks`` section (app.webhooks).
events = APIRouter(tags=["webhooks"])


def _document_event(name: str) -> None:
    body_model, summary = EVENT_BODIES[name]

    def receive(body) -> None:
        """Never called: it documents what Vagus POSTs to a subscriber's URL."""

    receive.__annotations__ = {"body": body_model, "return": None}

    receive.__doc__ = (
        f"{summary}\n\nPOSTed as JSON with the headers `Vagus-Event: {name}`, "
        "`Vagus-Delivery` (the event id, the same on every retry) and "
        "`Vagus-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "
        '"{t}.{body}" keyed with the subscription\'s secret>`. Answer 2xx; '
        "anything else is retried with backoff."
    )
    events.add_api_route(
        name,
        receive,
        methods=["POST"],
        name=name,
        summary=name,
        status_code=200,
        response_description="Accepted by the subscriber",
    )


for _event in EVENTS:
    _document_event(_event)
