"""Bodies of the client list and of a client's session responses."""

from __future__ import annotations

import datetime as dt
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

RecoveryStatus = Literal["below", "within", "above"]


class Client(BaseModel):
    person_id: UUID
    name: str
    tz: str = Field(description="The person's IANA time zone")
    last_import_at: dt.datetime | None = Field(
        description="When the latest completed import finished (null without read:observations)"
    )
    last_session_at: dt.datetime | None = Field(
        description="Start of the latest session that has begun (null without read:sessions)"
    )
    recovery_status: RecoveryStatus | None = Field(
        description="Today's daily recovery status in the person's zone (as "
        "GET /v1/persons/{id}/recovery); null when not computable or when the grant "
        "lacks read:evidence"
    )


class ClientPage(BaseModel):
    items: list[Client]
    next_cursor: str | None


class MetricHeadline(BaseModel):
    pre: float | None
    post: float | None
    delta: float | None = Field(description="The session effect used as evidence")
    improved: bool | None
    unit: str | None = None

    model_config = {"extra": "allow"}


class ResponseHeadline(BaseModel):
    """The headline of GET /v1/sessions/{id}/response: its summary and each metric's change."""

    summary: str | None = None
    metrics: dict[str, MetricHeadline]


class SessionSummary(BaseModel):
    """The session as GET /v1/sessions/{id} shows it, cut to what a list needs."""

    id: int
    start: dt.datetime = Field(description="UTC instant")
    start_local: dt.datetime = Field(description="Wall-clock time with offset in the person's zone")
    end: dt.datetime
    end_local: dt.datetime
    tz: str
    duration_minutes: float
    modality: str = Field(description="e.g. swedish, deep_tissue; rest for a rest-control session")
    pressure: str | None
    therapist_id: UUID | None


class SessionWithResponse(BaseModel):
    session: SessionSummary
    response: ResponseHeadline | None = Field(
        description="Null when the response cannot be computed; the full one is at "
        "GET /v1/sessions/{id}/response"
    )
    error: str | None = None


class SessionResponsePage(BaseModel):
    items: list[SessionWithResponse]
    next_cursor: str | None
