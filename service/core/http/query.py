"""Shared bounds for values that arrive in query strings and bodies.

Dates and times are held to the span the service handles (``core.localtime``:
1970 up to 2200), so arithmetic on them never overflows and the database never
sees a year 1 or 9999 (issue 16, defect 12); text refuses NUL, which PostgreSQL
cannot store, and single-line text (names, URLs) refuses every control character.
Each violation is a validation error (422), as for any other malformed field.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator

from service.core.localtime import EARLIEST, LATEST


def _instant(value: dt.datetime) -> dt.datetime:
    naive = value.replace(tzinfo=None)
    if not EARLIEST.replace(tzinfo=None) <= naive < LATEST.replace(tzinfo=None):
        raise ValueError(f"must be between {EARLIEST.year} and {LATEST.year - 1}")
    return value


def _day(value: dt.date) -> dt.date:
    if not EARLIEST.date() <= value < LATEST.date():
        raise ValueError(f"must be between {EARLIEST.year} and {LATEST.year - 1}")
    return value


def no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def single_line(value: str) -> str:
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise ValueError("must be one line without control characters")
    return value


#: A time within the service's span (an offset is checked by the endpoint where required).
Instant = Annotated[dt.datetime, AfterValidator(_instant)]
#: A calendar date within the service's span.
Day = Annotated[dt.date, AfterValidator(_day)]
#: Free text (notes): any characters but NUL.
Text = Annotated[str, AfterValidator(no_nul)]
#: One line (names, URLs): no control characters at all (CR, LF, tab, NUL, ...).
Line = Annotated[str, AfterValidator(single_line)]
