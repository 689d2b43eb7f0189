"""Opaque pagination cursors: URL-safe base64 of a small JSON list.

A cursor comes back from the client, so it is input like any other: :func:`decode`
checks each value against the kind the endpoint issued (:data:`INT`, :data:`TEXT`,
:data:`TIME`, :data:`UUID`, :func:`one_of`) and answers 400 for anything else,
never letting a tampered value reach a query (issue 16, defect 12).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from service.core.http.problems import ProblemError

#: A converter for one cursor value: returns it typed, or raises ValueError/TypeError.
Kind = Callable[[Any], Any]
_BIGINT = 2**63


def encode(values: list[Any]) -> str:
    raw = json.dumps(values, default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _bad() -> ProblemError:
    return ProblemError(400, "bad-cursor", "the cursor is not one this API issued")


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not -_BIGINT <= value < _BIGINT:
        raise ValueError("not a bigint")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or "\x00" in value:
        raise ValueError("not text")
    return value


def _time(value: Any) -> dt.datetime:
    moment = dt.datetime.fromisoformat(_text(value))
    if moment.tzinfo is None:
        raise ValueError("a cursor's time has an offset")
    return moment


def _uuid(value: Any) -> str:
    return str(uuid.UUID(_text(value)))


INT: Kind = _int
TEXT: Kind = _text
TIME: Kind = _time
UUID: Kind = _uuid


def one_of(values: Iterable[str]) -> Kind:
    allowed = frozenset(values)

    def check(value: Any) -> str:
        if value not in allowed:
            raise ValueError("unknown value")
        return value

    return check


def decode(cursor: str, *kinds: Kind | int) -> list[Any]:
    """The cursor's values, each converted by its kind; 400 ``bad-cursor`` otherwise.

    ``decode(c, 3)`` (a length only) is the older form: values are checked for count
    but not kind; callers should pass kinds.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise _bad() from None
    converters: tuple[Kind, ...] | None
    if len(kinds) == 1 and isinstance(kinds[0], int):
        length, converters = kinds[0], None
    else:
        length, converters = len(kinds), tuple(k for k in kinds if not isinstance(k, int))
    if not isinstance(values, list) or len(values) != length:
        raise _bad()
    if converters is None:
        return values
    try:
        return [convert(value) for convert, value in zip(converters, values, strict=True)]
    except (ValueError, TypeError, OverflowError):
        raise _bad() from None


def encode_id(row_id: int) -> str:
    """The cursor of a list keyed by a row id."""
    return encode([row_id])


def decode_id(cursor: str) -> int:
    """The row id a cursor from :func:`encode_id` stands for."""
    value = decode(cursor, 1)[0]
    if not isinstance(value, int) or isinstance(value, bool):
        raise _bad()
    return value
