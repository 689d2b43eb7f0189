"""Bodies of the access-control endpoints: persons, the caller, consent grants, tokens, audit events."""

from __future__ import annotations

import datetime as dt
from typing import Literal
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AwareDatetime, BaseModel, Field, field_validator

from service.access.authz import GRANTABLE_SCOPES
from service.core.http.query import Line, Text

GrantableScope = Literal[GRANTABLE_SCOPES]  # type: ignore[valid-type]
GrantStatus = Literal["pending", "active", "revoked", "declined"]


def known_zone(value: str) -> str:
    """``value`` when it names an IANA time zone; ValueError with a plain sentence otherwise."""
    if value not in available_timezones() and value != "UTC":
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown IANA time zone {value!r} (for example Europe/Berlin, America/New_York or UTC)"
            ) from None
    return value


def _future(value: dt.datetime | None) -> dt.datetime | None:
    """An expiry must lie ahead: a grant born expired would only confuse (issue 16, 14)."""
    if value is not None and value <= dt.datetime.now(dt.UTC):
        raise ValueError("must be in the future")
    return value


class PersonCreate(BaseModel):
    name: Line = Field(min_length=1, max_length=200, examples=["Alex"])
    tz: str = Field(default="UTC", description="IANA time zone", examples=["Europe/Berlin"])

    @field_validator("tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return known_zone(value)


class PersonUpdate(BaseModel):
    """Only the fields given change. A new zone recomputes what depends on local time."""

    name: str | None = Field(default=None, min_length=1, max_length=200, examples=["Alex"])
    tz: str | None = Field(default=None, description="IANA time zone", examples=["Europe/Berlin"])

    model_config = {"extra": "forbid"}

    @field_validator("tz")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else known_zone(value)


class Person(BaseModel):
    id: UUID
    name: str
    tz: str
    created_at: dt.datetime


class PersonPage(BaseModel):
    items: list[Person]
    next_cursor: str | None


class Me(BaseModel):
    account_id: UUID
    role: Literal["admin", "patient", "therapist", "app"]
    name: str
    person_id: UUID | None


class GrantCreate(BaseModel):
    grantee_id: UUID = Field(description="The therapist or app account (see GET /v1/me)")
    scopes: list[GrantableScope] = Field(min_length=1, max_length=len(GRANTABLE_SCOPES))
    expires_at: AwareDatetime | None = Field(default=None, description="Access ends then")
    note: Text | None = Field(default=None, max_length=2000)

    _expiry = field_validator("expires_at")(_future)


class AccessRequest(BaseModel):
    person_id: UUID
    scopes: list[GrantableScope] = Field(min_length=1, max_length=len(GRANTABLE_SCOPES))
    expires_at: AwareDatetime | None = None
    note: Text | None = Field(default=None, max_length=2000)

    _expiry = field_validator("expires_at")(_future)


class GrantApproval(BaseModel):
    expires_at: AwareDatetime | None = Field(default=None, description="Overrides the requested expiry")

    _expiry = field_validator("expires_at")(_future)


class Grant(BaseModel):
    id: int
    person_id: UUID
    person_name: str | None = Field(
        description=(
            "The person's name where the caller may see it: the person, an admin, or a grantee "
            "while its grant is live (null on a pending request)"
        )
    )
    grantee_id: UUID
    grantee_role: Literal["therapist", "app"]
    grantee_name: str
    scopes: list[str]
    status: GrantStatus
    live: bool = Field(description="Active and not expired: the grant works right now")
    note: str | None
    requested_by: UUID | None
    created_at: dt.datetime
    approved_at: dt.datetime | None
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


class GrantList(BaseModel):
    items: list[Grant]


class TokenInfo(BaseModel):
    id: int
    prefix: str = Field(description="The first characters, to recognise a token")
    name: str | None
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenList(BaseModel):
    items: list[TokenInfo]


class NewToken(BaseModel):
    token: str = Field(description="Shown once: only its hash is stored")
    info: TokenInfo
    replaces: int | None = None


class AuditEvent(BaseModel):
    id: int
    at: dt.datetime
    actor_account_id: UUID | None
    actor_role: str | None
    person_id: UUID | None
    action: str
    resource: str | None
    client_ip: str | None
    user_agent: str | None


class AuditPage(BaseModel):
    items: list[AuditEvent]
    next_cursor: str | None


class Erasure(BaseModel):
    person_id: UUID
    erased: bool
    rows_deleted: dict[str, int] = Field(description="Rows removed, per table")
