"""Background tasks of cloud sync: the sweep, one connection's sync, one revocation."""

from __future__ import annotations

from typing import Any

from service.core.db import rls
from service.jobs.queue import enqueue
from service.jobs.registry import JobContext
from service.sync import service
from service.sync.client import RateLimited


def sync_sweep(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    return service.sweep(ctx.pool)


def sync_connection(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """One sync; a long rate-limit wait re-queues it for when the vendor allows."""
    connection_id = int(payload["connection_id"])
    try:
        outcome = service.sync(
            ctx.pool,
            ctx.settings,
            connection_id,
            trigger=payload.get("trigger") or "schedule",
            data_types=payload.get("data_types"),
        )
    except RateLimited as exc:
        with rls.system_connection(ctx.pool) as conn:
            enqueue(
                conn,
                "sync_connection",
                payload,
                delay_s=exc.wait_s,
                unique_key=f"sync:{connection_id}:deferred:{ctx.job['id']}",
            )
        return {"connection_id": connection_id, "deferred_s": round(exc.wait_s, 1)}
    return outcome.as_dict()


def sync_revoke(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Revoke a disconnected grant at its vendor (retried while the vendor is down)."""
    return {
        "provider": payload["provider"],
        "revoked": service.revoke(payload["provider"], payload["secret"]),
    }
