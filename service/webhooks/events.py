"""The bodies of the outgoing events, as models: they document the OpenAPI ``webhooks``
section (``service.webhooks.service`` builds the bodies; tests check the two agree)."""

from __future__ import annotations

import datetime as dt
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field


class ImportEventData(BaseModel):
    id: int = Field(description="The import (GET /v1/imports/{id})")
    file_name: str
    status: Literal["completed", "failed"]
    error: str | None
    connector: str | None
    read: int
    inserted: int
    duplicates: int
    rejected: int


class SessionResponseEventData(BaseModel):
    session_id: int = Field(description="GET /v1/sessions/{id}/response has the whole response")
    algorithm_version: str
    ln_rmssd_delta: float | None
    mean_hr_delta: float | None = Field(description="bpm")


class EvidenceEventData(BaseModel):
    verdicts: dict[str, str] = Field(description="claim → verdict (GET /v1/persons/{id}/evidence)")


class ConnectionEventData(BaseModel):
    connection_id: int
    provider: str = Field(description="the vendor, e.g. oura")
    reason: str = Field(description="why the vendor no longer honours the grant")


def _event(name: str, data: type[BaseModel]) -> type[BaseModel]:
    model = type(
        name.replace(".", "_").title().replace("_", "") + "Event",
        (BaseModel,),
        {
            "__annotations__": {
                "id": str,
                "type": Literal[name],
                "person_id": UUID,  # type: ignore[valid-type]
                "created_at": dt.datetime,
                "data": data,
            },
            "__doc__": f"The `{name}` event as delivered.",
        },
    )
    return model


#: Each event: (its body's model, one sentence on when it is sent).
EVENT_BODIES: dict[str, tuple[type[BaseModel], str]] = {
    "import.completed": (
        _event("import.completed", ImportEventData),
        "An import finished and its rows are stored.",
    ),
    "import.failed": (
        _event("import.failed", ImportEventData),
        "An import failed; `data.error` names the file, the line and the problem.",
    ),
    "session.response.ready": (
        _event("session.response.ready", SessionResponseEventData),
        "A session's response was computed or recomputed.",
    ),
    "evidence.updated": (
        _event("evidence.updated", EvidenceEventData),
        "The person's evidence changed after a recompute.",
    ),
    "connection.needs_reauth": (
        _event("connection.needs_reauth", ConnectionEventData),
        "A cloud account stopped honouring its grant: the patient must connect it again.",
    ),
}
