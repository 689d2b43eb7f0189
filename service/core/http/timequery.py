"""``from``/``to`` query times read the same on every endpoint: with an offset as the instant
it names, without one as wall-clock time in the person's zone (``service.core.localtime``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Query

from service.core import localtime
from service.core.http.problems import ProblemError

FromQuery = Annotated[
    dt.datetime | None,
    Query(alias="from", description="Inclusive; ISO 8601, without an offset read in the person's zone"),
]
ToQuery = Annotated[dt.datetime | None, Query(description="Exclusive; like `from`")]


def to_utc(value: dt.datetime | None, tz: str, name: str) -> dt.datetime | None:
    """One query time as a UTC instant; 422 naming the parameter when it names no instant."""
    if value is None:
        return None
    try:
        return localtime.to_utc(value, tz).utc
    except localtime.LocalTimeError as exc:
        raise ProblemError(
            422,
            "validation-error",
            f"{name}: {exc}",
            errors=[{"loc": ["query", name], "msg": str(exc), "type": "value_error"}],
        ) from None


def utc_range(
    tz: str, start: dt.datetime | None, end: dt.datetime | None
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """``from`` and ``to`` as UTC instants, read in zone ``tz`` when they carry no offset."""
    return to_utc(start, tz, "from"), to_utc(end, tz, "to")
