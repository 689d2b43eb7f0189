"""Stored samples: a page of JSON at a time, or the whole range streamed as NDJSON."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from service.access import authz
from service.access.deps import Caller, Db, person_or_404
from connectors.base import METRICS
from service.core.db import rls
from service.core.http import cursor
from service.core.http.problems import PROBLEM_RESPONSES, ProblemError
from service.observations import repository as observations
from service.observations.schemas import MetricName, Observation, ObservationPage

router = APIRouter(tags=["observations"], responses=PROBLEM_RESPONSES)

NDJSON = "application/x-ndjson"


@router.get("/v1/persons/{person_id}/observations", response_model=ObservationPage,
            responses={200: {"content": {NDJSON: {"schema": {"type": "string"}}},
                             "description": "A page of JSON, or NDJSON lines of Observation"}})
def list_observations(
    person_id: UUID, request: Request, conn: Db, caller: Caller,
    metric: MetricName | None = None,
    from_: Annotated[dt.datetime | None, Query(alias="from", description="Inclusive, ISO 8601")] = None,
    to: Annotated[dt.datetime | None, Query(description="Exclusive, ISO 8601")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    cursor_: Annotated[str | None, Query(alias="cursor")] = None,
    format: Annotated[Literal["json", "ndjson"] | None, Query(
        description="ndjson streams every row in the range (also chosen by Accept)")] = None,
):
    """Samples of one person in key order (metric, source, time)."""
    person_or_404(conn, caller, str(person_id), authz.READ_OBSERVATIONS)
    for name, value in (("from", from_), ("to", to)):
        if value is not None and value.tzinfo is None:
            raise ProblemError(422, "validation-error",
                               f"{name} needs a UTC offset, e.g. 2024-05-04T07:00:00Z")
    wants_stream = format == "ndjson" or (format is None and NDJSON in request.headers.get("accept", ""))
    if wants_stream:
        pool = request.app.state.pool
        return StreamingResponse(_ndjson(pool, caller.account_id, str(person_id), metric, from_, to), media_type=NDJSON)
    after = None
    if cursor_:
        after = tuple(cursor.decode(cursor_, cursor.one_of(METRICS), cursor.INT, cursor.TIME))
    rows = observations.page(conn, person_id=str(person_id), metric=metric, start=from_, end=to,
                             limit=limit, after=after)
    next_cursor = None
    if len(rows) == limit:
        last = rows[-1]
        next_cursor = cursor.encode([last["metric"], last["source_id"], last["ts"].isoformat()])
    return ObservationPage(items=[Observation(**r) for r in rows], next_cursor=next_cursor)


def _ndjson(pool, account_id: str, person_id: str, metric, start, end) -> Iterator[bytes]:
    # The request's own connection is released before streaming starts, so
    # the stream holds its own for as long as the client reads.
    with pool.connection() as conn:
        with conn.transaction():
            rls.act_as(conn, account_id)
            lines = []
            for row in observations.stream(conn, person_id=person_id, metric=metric,
                                           start=start, end=end):
                row["ts"] = row["ts"].isoformat().replace("+00:00", "Z")
                lines.append(json.dumps(row))
                if len(lines) >= 5000:
                    yield ("\n".join(lines) + "\n").encode()
                    lines = []
            if lines:
                yield ("\n".join(lines) + "\n").encode()
