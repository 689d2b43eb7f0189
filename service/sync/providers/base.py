"""What a provider declares: OAuth endpoints and scopes, data types and their paging,
its rate limit, revocation, and how its push notifications are checked and read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: A data type's query for a range [start, end).
RangeParams = Callable[[dt.datetime, dt.datetime], dict[str, str]]
#: A data type's path for a range, when the vendor puts the dates in the path.
RangePath = Callable[[dt.datetime, dt.datetime], str]
#: The records of one answer, or None when the answer is not the documented shape.
Extract = Callable[[Mapping[str, Any]], list[Any] | None]


@dataclass(frozen=True)
class DataType:
    """One endpoint: where it is, how a range is asked for, how much to re-fetch."""

    name: str  # the endpoint's name, written beside each record in the sync's file
    path: str | RangePath  # under the provider's API URL
    params: RangeParams
    #: The longest range one request series may cover (the vendor's limit).
    window: dt.timedelta = dt.timedelta(days=3650)
    #: Re-fetched on the next sync: records the vendor adds or scores late.
    overlap: dt.timedelta = dt.timedelta(days=2)
    #: Where the records are in an answer; default: the provider's ``paging.records_key``.
    extract: Extract | None = None
    #: What the answer should hold, for the message when it does not.
    shape: str | None = None

    def path_for(self, start: dt.datetime, end: dt.datetime) -> str:
        return self.path if isinstance(self.path, str) else self.path(start, end)


@dataclass(frozen=True)
class RateLimit:
    """``requests`` per ``per_s`` seconds (a token bucket of that size), per app or per user."""

    requests: int
    per_s: float
    per_user: bool = False


@dataclass(frozen=True)
class Paging:
    """Token paging: the records' key, the next-page token's key and query parameter
    (``token_key`` None: one answer per request, no pages)."""

    records_key: str
    token_key: str | None = "next_token"
    token_param: str = "next_token"
    extra: Mapping[str, str] = field(default_factory=dict)  # e.g. the page size


@dataclass(frozen=True)
class Push:
    """A vendor's notification, reduced to what a targeted sync needs."""

    external_user_id: str
    data_type: str | None  # one of the provider's data types; None: nothing to fetch
    event_id: str


@dataclass(frozen=True)
class Revocation:
    """How to revoke a grant: method, URL, form or query fields, and headers."""

    method: str
    url: str
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


class Provider:
    """A vendor; subclasses fill in the class attributes and the push methods."""

    name: str
    title: str
    authorize_url: str
    token_url: str
    api_url: str
    scopes: tuple[str, ...]
    data_types: tuple[DataType, ...]
    paging: Paging
    rate_limit: RateLimit
    #: Where the vendor's user id is read after connecting: path and field.
    user_path: str
    user_field: str
    #: How the token endpoint takes the client's credentials: form fields or HTTP Basic.
    token_auth: str = "body"

    def data_type(self, name: str) -> DataType | None:
        return next((d for d in self.data_types if d.name == name), None)

    def revocation(
        self, api_url: str, token_url: str, access_token: str, basic: str | None = None
    ) -> Revocation | None:
        """The request that revokes the grant; None when the vendor offers none.
        ``basic`` is the client's ``Authorization: Basic`` value, for vendors that want it."""
        return None

    def verify_push(self, secret: str, headers: Mapping[str, str], body: bytes) -> bool:
        return False

    def read_push(self, body: Mapping[str, Any]) -> Push | None:
        """The notification's user and data type; None when it is not one."""
        return None

    def verification_challenge(self, verification_token: str | None, query: Mapping[str, str]) -> str | None:
        """For a vendor that confirms a push subscription by GET: the challenge to echo."""
        return None


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
