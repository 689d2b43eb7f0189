"""Reading stored samples, in key order, a page or a stream at a time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
from psycopg import sql

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


# Binary COPY rows of (source_id int4, ts timestamptz, value float8): fixed width,
# so a whole result parses into numpy without a Python loop.
_OUT_ROW = np.dtype([("fields", ">i2"), ("source_len", ">i4"), ("source_id", ">i4"),
                     ("ts_len", ">i4"), ("ts", ">i8"), ("value_len", ">i4"), ("value", ">f8")])
_PG_EPOCH_OFFSET_US = 946_684_800_000_000
_COPY_HEADER_LEN = 19  # signature (11) + flags (4) + header extension length (4)


@dataclass(frozen=True)
class Series:
    """Samples as arrays: ``ts_us`` is microseconds since the Unix epoch (UTC)."""

    source_id: np.ndarray
    ts_us: np.ndarray
    value: np.ndarray

    def __len__(self) -> int:
        return int(self.ts_us.size)

    def select(self, mask: np.ndarray) -> Series:
        return Series(self.source_id[mask], self.ts_us[mask], self.value[mask])


def read_series(conn: psycopg.Connection, *, person_id: str, metric: str,
                start: dt.datetime, end: dt.datetime) -> Series:
    """One metric of one person in ``[start, end)``, every source, ordered by source then time."""
    query = sql.SQL(
        "COPY (SELECT source_id, ts, value FROM observation WHERE person_id = {person} "
        "AND metric = {metric} AND ts >= {start} AND ts < {end} ORDER BY source_id, ts) "
        "TO STDOUT (FORMAT BINARY)").format(
        person=sql.Literal(person_id), metric=sql.Literal(metric),
        start=sql.Literal(start), end=sql.Literal(end))
    buffer = bytearray()
    with conn.cursor() as cur, cur.copy(query) as copy:
        for chunk in copy:
            buffer += chunk
    if len(buffer) <= _COPY_HEADER_LEN + 2:
        empty = np.empty(0)
        return Series(empty.astype(np.int32), empty.astype(np.int64), empty)
    extension = int.from_bytes(buffer[15:19], "big")
    body = memoryview(buffer)[_COPY_HEADER_LEN + extension:-2]  # trailer: int16 -1
    rows = np.frombuffer(body, dtype=_OUT_ROW)
    return Series(rows["source_id"].astype(np.int32),
                  rows["ts"].astype(np.int64) + _PG_EPOCH_OFFSET_US,
                  rows["value"].astype(np.float64))


def sources(conn: psycopg.Connection, person_id: str) -> dict[int, dict[str, Any]]:
    """The person's sources by id, with kind and priority override."""
    rows = conn.execute("SELECT id, key, name, kind::text AS kind, device, priority FROM source "
                        "WHERE person_id = %s", (person_id,)).fetchall()
    return {row["id"]: row for row in rows}
