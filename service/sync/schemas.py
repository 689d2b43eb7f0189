"""Request and response bodies of cloud sync. No body carries a token, ever."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

ProviderName = Literal["oura", "whoop", "fitbit"]


class ConnectionStart(BaseModel):
    provider: ProviderName


class Authorization(BaseModel):
    provider: ProviderName
    authorization_url: str = Field(
        description="Send the person's browser here; the vendor "
        "asks them to allow access and returns to the callback."
    )
    expires_at: dt.datetime = Field(description="The authorization must return before this.")


class SyncRun(BaseModel):
    id: int
    trigger: Literal["connect", "schedule", "push", "manual"]
    status: Literal["running", "completed", "failed"]
    reason: str | None
    range_start: dt.datetime | None
    range_end: dt.datetime | None
    requests: int
    records: int
    import_id: int | None
    started_at: dt.datetime
    finished_at: dt.datetime | None


class Connection(BaseModel):
    provider: ProviderName
    status: Literal["active", "needs_reauth"] = Field(
        description="needs_reauth: the vendor no longer honours the grant; connect again."
    )
    scopes: list[str]
    created_at: dt.datetime
    last_sync_at: dt.datetime | None
    next_sync_at: dt.datetime
    last_error: str | None
    runs: list[SyncRun] = Field(default_factory=list, description="The latest syncs.")


class ConnectionList(BaseModel):
    items: list[Connection]


class Connected(BaseModel):
    provider: ProviderName
    status: Literal["connected"] = "connected"
    message: str


class Disconnected(BaseModel):
    provider: ProviderName
    disconnected: bool = Field(description="False: it was not connected (nothing to do).")


class SyncQueued(BaseModel):
    provider: ProviderName
    queued: bool


class PushAccepted(BaseModel):
    queued: int
