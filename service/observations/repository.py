"""Reading stored samples, in key order, a page or a stream at a time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from psycopg import sql

from service.core.db.types import Conn, returned

_SELECT = """
    SELECT o.metric::text AS metric, o.ts, o.value, o.source_id, s.name AS source, o.context
    FROM observation o JOIN source s ON s.id = o.source_id
    WHERE o.person_id = %(person)s
      AND (%(metric)s::metric IS NULL OR o.metric = %(metric)s::metric)
      AND (%(start)s::timestamptz IS NULL OR o.ts >= %(start)s)
      AND (%(end)s::timestamptz IS NULL OR o.ts < %(end)s)
"""
# Rows come in primary-key order (metric, source, time), so a cursor is the
# last row's key and each page is an index range scan.
_ORDER = "ORDER BY o.metric, o.source_id, o.ts"


def page(
    conn: Conn,
    *,
    person_id: str,
    metric: str | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
    limit: int,
    after: tuple[str, int, dt.datetime] | None,
) -> list[dict[str, Any]]:
    """One page in key order, through ``vagus_observation_page``: above the samples'
    security-barrier view the planner cannot stop after one page of a metric."""
    c_metric, c_source, c_ts = after if after is not None else (None, None, None)
    return conn.execute(
        """SELECT o.metric::text AS metric, o.ts, o.value, o.source_id, s.name AS source, o.context
           FROM vagus_observation_page(%s, %s::metric[], %s, %s, %s::metric, %s, %s, %s) o
           JOIN source s ON s.id = o.source_id
           ORDER BY o.metric, o.source_id, o.ts""",
        (person_id, [metric] if metric else None, start, end, c_metric, c_source, c_ts, limit),
    ).fetchall()


def stream(
    conn: Conn, *, person_id: str, metric: str | None, start: dt.datetime | None, end: dt.datetime | None
) -> Generator[dict[str, Any], None, None]:
    """Every matching row through a server-side cursor: memory stays flat."""
    with conn.cursor(name="observation_stream") as cur:
        cur.itersize = 10_000
        cur.execute(_SELECT + _ORDER, _params(person_id, metric, start, end))
        yield from cur


def _params(person_id, metric, start, end) -> dict[str, Any]:
    return {"person": person_id, "metric": metric, "start": start, "end": end}


# Each sample travels as 20 bytes (int4 source, int8 timestamptz, float8 value) in
# PostgreSQL's binary send format, concatenated server-side into one bytea per
# metric: one round trip, and numpy parses it without a Python loop.
_PACKED = np.dtype([("source_id", ">i4"), ("ts", ">i8"), ("value", ">f8")])
_PG_EPOCH_OFFSET_US = 946_684_800_000_000


@dataclass(frozen=True)
class Series:
    """Samples as arrays: ``ts_us`` is microseconds since the Unix epoch (UTC)."""

    source_id: np.ndarray
    ts_us: np.ndarray
    value: np.ndarray

    def __len__(self) -> int:
        return int(self.ts_us.size)

    def select(self, which) -> Series:
        return Series(self.source_id[which], self.ts_us[which], self.value[which])


def _unpack(packed: bytes | None) -> Series:
    rows = np.frombuffer(packed or b"", dtype=_PACKED)
    return Series(
        rows["source_id"].astype(np.int32),
        rows["ts"].astype(np.int64) + _PG_EPOCH_OFFSET_US,
        rows["value"].astype(np.float64),
    )


def read_series(
    conn: Conn,
    *,
    person_id: str,
    metrics: tuple[str, ...],
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    ranges: Sequence[tuple[dt.datetime, dt.datetime]] = (),
) -> dict[str, Series]:
    """Several metrics of one person in ``[start, end)`` (or in the union of ``ranges``),
    each ordered by source then time, in one query."""
    if ranges:
        spans = merge_ranges(ranges)
    elif start is not None and end is not None:
        spans = [(start, end)]
    else:
        raise ValueError("read_series needs start and end, or ranges")
    columns = sql.SQL(", ").join(
        sql.SQL(
            "string_agg(int4send(source_id) || timestamptz_send(ts) || float8send(value), "
            "''::bytea ORDER BY source_id, ts) FILTER (WHERE metric = {m}) AS {alias}"
        ).format(m=sql.Literal(metric), alias=sql.Identifier(metric))
        for metric in metrics
    )
    within = sql.SQL(" OR ").join(sql.SQL("(ts >= %s AND ts < %s)") for _ in spans)
    query = sql.SQL(
        "SELECT {columns} FROM observation WHERE person_id = %s AND metric = ANY(%s::metric[]) AND ({within})"
    ).format(columns=columns, within=within)
    params: list[Any] = [person_id, list(metrics), *(t for span in spans for t in span)]
    row = returned(conn.execute(query, params).fetchone())
    return {metric: _unpack(row[metric]) for metric in metrics}


def merge_ranges(ranges: Sequence[tuple[dt.datetime, dt.datetime]]) -> list[tuple[dt.datetime, dt.datetime]]:
    """Overlapping or touching ranges joined, in time order."""
    out: list[tuple[dt.datetime, dt.datetime]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def sources(conn: Conn, person_id: str) -> dict[int, dict[str, Any]]:
    """The person's sources by id, with kind and priority override."""
    rows = conn.execute(
        "SELECT id, key, name, kind::text AS kind, device, priority FROM source WHERE person_id = %s",
        (person_id,),
    ).fetchall()
    return {row["id"]: row for row in rows}


def sleep_episodes(conn: Conn, person_id: str, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    """Sleep stages overlapping ``[start, end)``."""
    return conn.execute(
        "SELECT starts_at, ends_at, stage FROM sleep_episode WHERE person_id = %s "
        "AND ends_at >= %s AND starts_at < %s",
        (person_id, start, end),
    ).fetchall()


def daily_last_values(
    conn: Conn, person_id: str, metrics: tuple[str, ...], tz_name: str, start: dt.datetime, end: dt.datetime
) -> list[dict[str, Any]]:
    """``metric``, local ``day`` and ``value`` of the samples in ``[start, end)``, in time order."""
    return conn.execute(
        "SELECT metric::text AS metric, (ts AT TIME ZONE %s)::date AS day, value FROM observation "
        "WHERE person_id = %s AND metric = ANY(%s::metric[]) AND ts >= %s AND ts < %s ORDER BY ts",
        (tz_name, person_id, list(metrics), start, end),
    ).fetchall()
