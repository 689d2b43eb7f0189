"""Reading stored samples, in key order, a page or a stream at a time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import psycopg

_SELECT = """
    SELECT o.metric::text AS metric, o.ts, o.value, o.source_id, s.name AS source
    FROM observation o JOIN source s ON s.id = o.source_id
    WHERE o.person_id = %(person)s
      AND (%(metric)s::metric IS NULL OR o.metric = %(metric)s::metric)
      AND (%(start)s::timestamptz IS NULL OR o.ts >= %(start)s)
      AND (%(end)s::timestamptz IS NULL OR o.ts < %(end)s)
"""
# Rows come in primary-key order (metric, source, time), so a cursor is the
# last row's key and each page is an index range scan.
_AFTER = "AND (o.metric, o.source_id, o.ts) > (%(c_metric)s::metric, %(c_source)s, %(c_ts)s)"
_ORDER = "ORDER BY o.metric, o.source_id, o.ts"


def page(conn: psycopg.Connection, *, person_id: str, metric: str | None,
         start: dt.datetime | None, end: dt.datetime | None, limit: int,
         after: tuple[str, int, dt.datetime] | None) -> list[dict[str, Any]]:
    params = _params(person_id, metric, start, end)
    sql = _SELECT
    if after is not None:
        params.update(c_metric=after[0], c_source=after[1], c_ts=after[2])
        sql += _AFTER
    return conn.execute(sql + _ORDER + " LIMIT %(limit)s", {**params, "limit": limit}).fetchall()


def stream(conn: psycopg.Connection, *, person_id: str, metric: str | None,
           start: dt.datetime | None, end: dt.datetime | None) -> Iterator[dict[str, Any]]:
    """Every matching row through a server-side cursor: memory stays flat."""
    with conn.cursor(name="observation_stream") as cur:
        cur.itersize = 10_000
        cur.execute(_SELECT + _ORDER, _params(person_id, metric, start, end))
        yield from cur


def _params(person_id, metric, start, end) -> dict[str, Any]:
    return {"person": person_id, "metric": metric, "start": start, "end": end}
