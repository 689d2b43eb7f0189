"""Background task of the webhooks domain: one signed delivery attempt."""

from __future__ import annotations

from typing import Any

from service.jobs.registry import JobContext
from service.webhooks import service as webhooks


def webhook_deliver(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    return webhooks.deliver(ctx, payload)
