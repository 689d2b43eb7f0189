"""Response bodies of the import ledger."""

from __future__ import annotations

import datetime as dt
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field


class ImportRecord(BaseModel):
    id: int
    person_id: UUID
    file_name: str
    sha256: str | None
    size_bytes: int | None
    connector: str | None
    status: Literal["queued", "running", "completed", "failed"]
    error: str | None
    read: int
    inserted: int
    duplicates: int
    rejected: int
    rejected_reasons: dict[str, int]
    skipped: dict[str, int]
    notes: dict[str, int]
    bytes_read: int
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    same_file_as: int | None = Field(
        default=None, description="An earlier completed import of the identical file, if any.")


class ImportPage(BaseModel):
    items: list[ImportRecord]
    next_cursor: str | None
