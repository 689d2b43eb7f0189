"""CSV answers (``?format=csv``): a header row, then one line per row, streamed.

Shared by every endpoint that offers CSV, so that each writes times, empty values and
nested values the same way: times as ISO 8601 (``service.core.localtime.iso``), None as an
empty field, lists and mappings as compact JSON in one field.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from fastapi.responses import StreamingResponse

from service.core.localtime import iso

MEDIA_TYPE = "text/csv; charset=utf-8"
#: For ``responses={200: ...}`` of an endpoint that offers CSV.
OPENAPI_CONTENT = {"text/csv": {"schema": {"type": "string"}}}


def cell(value: Any) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return iso(value)
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, default=str, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, int | float | str) else str(value)


def lines(columns: Sequence[str], rows: Iterable[Mapping[str, Any]], batch: int = 2000) -> Iterator[str]:
    """The CSV text: the header, then the rows (missing keys empty), ``batch`` rows a chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180 line ends
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([cell(row.get(column)) for column in columns])
        count += 1
        if count % batch == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def response(
    columns: Sequence[str], rows: Iterable[Mapping[str, Any]], filename: str | None = None
) -> StreamingResponse:
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'} if filename else None
    return StreamingResponse(
        (chunk.encode() for chunk in lines(columns, rows)), media_type=MEDIA_TYPE, headers=headers
    )
