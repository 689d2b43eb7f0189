"""Times in a person's zone on the way in and out; UTC instants inside.

A time given with a UTC offset is an instant and taken as it is. A naive time
(no offset) is a wall-clock reading in the person's IANA zone. Around daylight
saving changes a wall-clock reading can name no instant (the spring-forward
gap) or two (the autumn fold): the first is refused, the second resolved to the
earlier instant with a note saying so, so a caller never gets a silent shift.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

# Bounds keep offset arithmetic away from datetime's year 1 / 9999 edges and
# reject typos such as year 20224; no wearable record predates 1970.
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)


class LocalTimeError(ValueError):
    """A time that names no instant (or an unusable one); the message says why."""


@dataclass(frozen=True)
class Resolved:
    """An instant in UTC and, when the input was ambiguous, a note for the caller."""

    utc: dt.datetime
    note: str | None = None


def parse(text: str) -> dt.datetime:
    """An ISO 8601 time, naive or with an offset (``Z`` accepted)."""
    try:
        return dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise LocalTimeError(f"{text!r} is not an ISO 8601 time") from None


def to_utc(value: dt.datetime, tz: str) -> Resolved:
    """The UTC instant of ``value``: as given if it has an offset, else read in zone ``tz``."""
    if value.tzinfo is not None and value.utcoffset() is not None:
        try:
            utc = value.astimezone(dt.UTC)
        except OverflowError:
            raise LocalTimeError(f"{value.isoformat()} is out of range") from None
        return Resolved(_bounded(utc))
    zone = ZoneInfo(tz)
    wall = value.replace(tzinfo=None)
    first = wall.replace(tzinfo=zone, fold=0)
    second = wall.replace(tzinfo=zone, fold=1)
    try:
        utc_first = first.astimezone(dt.UTC)
        utc_second = second.astimezone(dt.UTC)
    except OverflowError:
        raise LocalTimeError(f"{wall.isoformat()} is out of range") from None
    # In a gap the round trip lands on another wall-clock time.
    if utc_first.astimezone(zone).replace(tzinfo=None) != wall:
        raise LocalTimeError(
            f"{wall.isoformat()} does not exist in {tz} (the clocks skip it for daylight "
            "saving time); give the time with its UTC offset"
        )
    note = None
    if utc_first != utc_second:
        note = (
            f"{wall.isoformat()} happens twice in {tz} (the clocks go back); taken as the "
            f"first, {first.isoformat()}; give a UTC offset to choose the second"
        )
    return Resolved(_bounded(utc_first), note)


def local(instant: dt.datetime, tz: str) -> dt.datetime:
    """The instant as wall-clock time with its offset in zone ``tz``."""
    return instant.astimezone(ZoneInfo(tz))


def utc(instant: dt.datetime) -> dt.datetime:
    """The instant in UTC (the database may hand it back in its session zone)."""
    return instant.astimezone(dt.UTC)


def _bounded(instant: dt.datetime) -> dt.datetime:
    if not EARLIEST <= instant < LATEST:
        raise LocalTimeError(f"{instant.isoformat()} is outside {EARLIEST.year}-{LATEST.year - 1}")
    return instant


def iso(value: dt.datetime | dt.date) -> str:
    """The one text form of a time everywhere (JSON, NDJSON, CSV, the CLI): ISO 8601, UTC
    written ``Z`` (as pydantic writes it), other offsets as ``+02:00``; dates as ``YYYY-MM-DD``."""
    if not isinstance(value, dt.datetime):
        return value.isoformat()
    text = value.isoformat()
    if value.utcoffset() == dt.timedelta(0):
        text = text.removesuffix("+00:00") + "Z"
    return text
