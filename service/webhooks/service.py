"""Outgoing webhooks: events for app accounts, signed, delivered through the job queue.

Each delivery is an HTTP POST of a JSON body with these headers::

    Content-Type: application/json
    Vagus-Event: import.completed
    Vagus-Delivery: <event id>            (the same on every retry: dedupe on it)
    Vagus-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>

``v1`` is ``HMAC-SHA256(secret, f"{t}.{body}")`` over the raw body bytes, with
the subscription's secret as key. A receiver checks it with
:func:`verify_signature`, which also refuses timestamps more than five minutes
away from its own clock (replay window). Each attempt is signed afresh.

A 2xx answer is success. Anything else (or no answer within
``webhook_timeout_s``) fails the attempt; the job queue retries it with
exponential backoff, and every attempt is written to ``webhook_delivery``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from typing import Any, Literal, get_args

from service.access import authz
from service.access.auth import Principal
from service.access.repository import audit
from service.core.db.types import Conn
from service.jobs.context import job_connection_setup
from service.jobs.queue import enqueue
from service.webhooks import repository as repo
from service.webhooks import targets

EventName = Literal[
    "import.completed",
    "import.failed",
    "session.response.ready",
    "evidence.updated",
    "connection.needs_reauth",
]
EVENTS: tuple[EventName, ...] = get_args(EventName)
#: The scope a subscriber needs on the person to receive each event.
EVENT_SCOPES = {
    "import.completed": authz.READ_OBSERVATIONS,
    "import.failed": authz.READ_OBSERVATIONS,
    "session.response.ready": authz.READ_EVIDENCE,
    "evidence.updated": authz.READ_EVIDENCE,
    "connection.needs_reauth": authz.READ_OBSERVATIONS,
}
#: Events whose body carries a person's health values: each push is audited like a read.
AUDITED_EVENTS = frozenset({"session.response.ready", "evidence.updated"})
SIGNATURE_HEADER = "Vagus-Signature"
REPLAY_WINDOW_S = 300


class DeliveryError(RuntimeError):
    """The receiver did not accept the event (the attempt will be retried)."""


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The ``Vagus-Signature`` header value for ``body`` at ``timestamp`` (default: now)."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify_signature(
    secret: str, body: bytes, header: str, *, tolerance_s: int = REPLAY_WINDOW_S, now: float | None = None
) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and is inside the replay window.

    For receivers: pass the raw request body (before any JSON parsing) and the
    ``Vagus-Signature`` header. Several ``v1=`` values are accepted (any may match).
    """
    try:
        parts = [item.split("=", 1) for item in header.split(",")]
        timestamp = int(next(v for k, v in parts if k.strip() == "t"))
        candidates = [v.strip() for k, v in parts if k.strip() == "v1"]
    except (ValueError, StopIteration):
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return any(hmac.compare_digest(expected, c) for c in candidates)


def emit(conn: Conn, event_type: str, *, person_id: str, subject: str, data: dict[str, Any]) -> int:
    """Queue one delivery of an event per matching subscription, in the caller's transaction.

    ``subject`` names what the event is about (``import:42``, ``session:7``);
    with the type it makes the event id, so emitting the same event twice
    (a retried job) queues nothing new. Returns the deliveries queued.
    """
    if event_type not in EVENTS:
        raise ValueError(f"unknown event {event_type!r}")
    event_id = f"{event_type}:{subject}"
    queued = 0
    for sub in _subscriptions_for(conn, event_type, person_id):
        body = {
            "id": event_id,
            "type": event_type,
            "person_id": person_id,
            "created_at": dt.datetime.now(dt.UTC).isoformat(),
            "data": data,
        }
        job = enqueue(
            conn,
            "webhook_deliver",
            {"subscription_id": sub["id"], "event": body},
            unique_key=f"webhook:{sub['id']}:{event_id}",
        )
        queued += job is not None
    return queued


def _subscriptions_for(conn: Conn, event_type: str, person_id: str) -> list[dict[str, Any]]:
    rows = repo.active_for_event(conn, event_type, person_id)
    return [r for r in rows if _may_receive(conn, r, event_type, person_id)]


def _may_receive(conn: Conn, row: dict[str, Any], event_type: str, person_id: str) -> bool:
    """Whether the subscribing account holds, right now, the scope the event reveals.

    Checked at emit time, so a revoked consent stops further events at once.
    """
    principal = Principal(
        account_id=str(row["account_id"]),
        role=row["role"],
        person_id=str(row["account_person"]) if row["account_person"] else None,
    )
    held = authz.scopes_on(conn, principal, person_id)
    return held is not None and EVENT_SCOPES[event_type] in held


def import_event_data(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "file_name", "status", "error", "connector", "read", "inserted", "duplicates", "rejected")
    return {k: row[k] for k in keys}


def deliver(ctx, payload: dict[str, Any]) -> dict[str, Any]:
    """One attempt to POST an event to its subscription, logged either way."""
    with ctx.pool.connection() as conn:
        job_connection_setup(conn)
        sub = repo.target(conn, payload["subscription_id"])
    if sub is None or not sub["active"]:
        return {"skipped": "subscription removed or paused"}
    event = payload["event"]
    try:  # again at delivery: the name may resolve elsewhere now
        targets.check(sub["url"], targets.allowed_networks(ctx.settings.webhook_allow_networks))
    except targets.TargetRefused as exc:
        with ctx.pool.connection() as conn:
            job_connection_setup(conn)
            repo.record_delivery(
                conn,
                subscription_id=sub["id"],
                event=event,
                job_id=ctx.job["id"],
                attempt=ctx.attempt,
                status_code=None,
                error=f"refused: {exc}"[:2000],
                succeeded=False,
            )
        return {"refused": str(exc)}
    body = json.dumps(event, separators=(",", ":"), sort_keys=True).encode()
    request = urllib.request.Request(
        sub["url"],
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Vagus-Webhooks/1",
            "Vagus-Event": event["type"],
            "Vagus-Delivery": event["id"],
            SIGNATURE_HEADER: sign(sub["secret"], body),
        },
    )
    status, error = None, None
    try:
        with urllib.request.urlopen(request, timeout=ctx.settings.webhook_timeout_s) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status, error = exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        error = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
    ok = status is not None and 200 <= status < 300
    with ctx.pool.connection() as conn:
        job_connection_setup(conn)
        repo.record_delivery(
            conn,
            subscription_id=sub["id"],
            event=event,
            job_id=ctx.job["id"],
            attempt=ctx.attempt,
            status_code=status,
            error=error,
            succeeded=ok,
        )
        if status is not None and event["type"] in AUDITED_EVENTS:
            # The receiver got the body (whatever it answered): who received whose values.
            audit.record(
                conn,
                actor_account_id=str(sub["account_id"]),
                actor_role=sub["role"],
                person_id=event.get("person_id"),
                action=f"webhook:{event['type']}",
                resource=f"webhook {sub['id']}: {event['id']}",
            )
    if not ok:
        raise DeliveryError(f"{sub['url']}: {error}")
    return {"status_code": status}
