"""Stored samples: a page of JSON at a time, or the whole range streamed as NDJSON."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from connectors.base import METRICS
from service.access import authz
from service.access.deps import Caller, Db, person_or_404
from service.core.db import rls
from service.core.http import csvout, cursor, timequery
from service.core.http.problems import PROBLEM_RESPONSES, ProblemError
from service.core.localtime import iso
from service.observations import repository as observations
from service.observations.schemas import MetricName, Observation, ObservationPage

router = APIRouter(tags=["observations"], responses=PROBLEM_RESPONSES)

NDJSON = "application/x-ndjson"


@router.get(
    "/v1/persons/{person_id}/observations",
    response_model=ObservationPage,
    responses={
        200: {
            "content": {NDJSON: {"schema": {"type": "string"}}, **csvout.OPENAPI_CONTENT},
            "description": "A page of JSON, NDJSON lines of Observation, or "
            "CSV with a header row (the Observation fields)",
        }
    },
)
def list_observations(
    person_id: UUID,
    request: Request,
    conn: Db,
    caller: Caller,
    metric: MetricName | None = None,
    from_: timequery.FromQuery = None,
    to: timequery.ToQuery = None,
    limit: Annotated[
        int | None,
        Query(
            ge=1,
            le=10_000_000,
            description=(
                "JSON: the page size (default 1000, at most 10000). NDJSON and CSV: at most this "
                "many rows (default: every row in the range)"
            ),
        ),
    ] = None,
    cursor_: Annotated[str | None, Query(alias="cursor")] = None,
    format: Annotated[
        Literal["json", "ndjson", "csv"] | None,
        Query(description="ndjson or csv stream the range (also chosen by Accept)"),
    ] = None,
):
    """Samples of one person in key order (metric, source, time)."""
    person = person_or_404(conn, caller, str(person_id), authz.READ_OBSERVATIONS)
    start, end = timequery.utc_range(person["tz"], from_, to)
    accept = request.headers.get("accept", "")
    chosen = format or (NDJSON_KIND if NDJSON in accept else "csv" if "text/csv" in accept else "json")
    if chosen != "json":
        if cursor_:
            raise ProblemError(
                422, "validation-error", "cursor: pages are JSON only; NDJSON and CSV stream the range"
            )
        stream = _stream(request.app.state.pool, caller.account_id, str(person_id), metric, start, end, limit)
        if chosen == "csv":
            return csvout.response(CSV_COLUMNS, stream, filename=f"observations-{person_id}.csv")
        return StreamingResponse(_ndjson(stream), media_type=NDJSON)
    page_size = limit or DEFAULT_PAGE
    if page_size > MAX_PAGE:
        raise ProblemError(
            422,
            "validation-error",
            f"limit: a JSON page holds at most {MAX_PAGE} rows (use NDJSON or CSV for more)",
        )
    after = None
    if cursor_:
        after = tuple(cursor.decode(cursor_, cursor.one_of(METRICS), cursor.INT, cursor.TIME))
    rows = observations.page(
        conn, person_id=str(person_id), metric=metric, start=start, end=end, limit=page_size, after=after
    )
    next_cursor = None
    if len(rows) == page_size:
        last = rows[-1]
        next_cursor = cursor.encode([last["metric"], last["source_id"], last["ts"].isoformat()])
    return ObservationPage(items=[Observation(**r) for r in rows], next_cursor=next_cursor)


NDJSON_KIND = "ndjson"
DEFAULT_PAGE = 1000
MAX_PAGE = 10_000
CSV_COLUMNS = list(Observation.model_fields)


def _stream(pool, account_id: str, person_id: str, metric, start, end, limit: int | None) -> Iterator[dict]:
    # The request's own connection is released before streaming starts, so
    # the stream holds its own for as long as the client reads.
    with pool.connection() as conn:
        with conn.transaction():
            rls.act_as(conn, account_id)
            rows = observations.stream(
                conn, person_id=person_id, metric=metric, start=start, end=end
            )  # a generator: closable
            try:
                yield from itertools.islice(rows, limit)
            finally:
                rows.close()  # the server-side cursor closes inside its transaction


def _ndjson(rows: Iterator[dict]) -> Iterator[bytes]:
    lines = []
    for row in rows:
        row["ts"] = iso(row["ts"])
        lines.append(json.dumps(row))
        if len(lines) >= 5000:
            yield ("\n".join(lines) + "\n").encode()
            lines = []
    if lines:
        yield ("\n".join(lines) + "\n").encode()
