"""Request and response bodies of the /v1 API."""

from __future__ import annotations

import datetime as dt
from typing import Literal
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, Field, field_validator

from connectors.base import METRICS

MetricName = Literal[METRICS]  # type: ignore[valid-type]


class PersonCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200, examples=["Alex"])
    tz: str = Field(default="UTC", description="IANA time zone", examples=["Europe/Berlin"])

    @field_validator("tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in available_timezones() and value != "UTC":
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value


class Person(BaseModel):
    id: UUID
    name: str
    tz: str
    created_at: dt.datetime


class PersonPage(BaseModel):
    items: list[Person]
    next_cursor: str | None


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


class Observation(BaseModel):
    metric: MetricName
    ts: dt.datetime
    value: float
    source_id: int
    source: str
    context: int | None = Field(
        default=None, description="heart rate's motion context where the device recorded it: "
                                  "0 not set, 1 sedentary, 2 active")


class ObservationPage(BaseModel):
    items: list[Observation]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null at the end.")


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    database: Literal["ok", "unreachable"]
    migrations: Literal["current", "pending", "unknown"]
    tier: str | None = None
    detail: str | None = None
