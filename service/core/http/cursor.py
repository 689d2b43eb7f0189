"""Opaque pagination cursors: URL-safe base64 of a small JSON list."""

from __future__ import annotations

import base64
import json
from typing import Any

from service.core.http.problems import ProblemError


def encode(values: list[Any]) -> str:
    raw = json.dumps(values, default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, length: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        raise ProblemError(400, "bad-cursor", "the cursor is not one this API issued") from None
    if not isinstance(values, list) or len(values) != length:
        raise ProblemError(400, "bad-cursor", "the cursor is not one this API issued")
    return values


def encode_id(row_id: int) -> str:
    """The cursor of a list keyed by a row id."""
    return encode([row_id])


def decode_id(cursor: str) -> int:
    """The row id a cursor from :func:`encode_id` stands for."""
    value = decode(cursor, 1)[0]
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProblemError(400, "bad-cursor", "the cursor is not one this API issued")
    return value
