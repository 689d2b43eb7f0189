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
    size_bytes: int | None = Field(description="The stored file's size (a zip: compressed)")
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
    bytes_read: int = Field(
        description="Bytes the connector has read so far, in its measure "
        "(a zip: uncompressed bytes of the members it reads)"
    )
    bytes_total: int | None = Field(
        default=None,
        description="Bytes the connector will read, in the same measure as bytes_read (null until it knows)",
    )
    progress: float | None = Field(
        default=None, ge=0, le=1, description="bytes_read / bytes_total, at most 1"
    )
    created_at: dt.datetime
    started_at: dt.datetime | None = Field(description="When the connector started reading")
    finished_at: dt.datetime | None = Field(description="When the import completed or failed")
    same_file_as: int | None = Field(
        default=None, description="An earlier completed import of the identical file, if any."
    )


class ImportPage(BaseModel):
    items: list[ImportRecord]
    next_cursor: str | None
