"""Lab results (cortisol): the value as reported, its unit, and the value in nmol/L."""

from __future__ import annotations

import datetime as dt
from typing import Any

from service.core.db.types import Conn, returned

COLUMNS = "id, person_id, ts, analyte, specimen, value, unit, value_nmol_l, session_id, phase, created_at"


def create(
    conn: Conn,
    *,
    person_id: str,
    ts: dt.datetime,
    analyte: str,
    value: float,
    unit: str,
    value_nmol_l: float | None,
    specimen: str | None = None,
    session_id: int | None = None,
    phase: str | None = None,
) -> dict[str, Any]:
    return returned(
        conn.execute(
            f"""INSERT INTO lab_result (person_id, ts, analyte, specimen, value, unit, value_nmol_l,
                                    session_id, phase)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING {COLUMNS}""",
            (person_id, ts, analyte, specimen, value, unit, value_nmol_l, session_id, phase),
        ).fetchone()
    )


def get(conn: Conn, result_id: int) -> dict[str, Any] | None:
    return conn.execute(f"SELECT {COLUMNS} FROM lab_result WHERE id = %s", (result_id,)).fetchone()


def delete(conn: Conn, result_id: int) -> bool:
    return conn.execute("DELETE FROM lab_result WHERE id = %s", (result_id,)).rowcount == 1


def page(
    conn: Conn,
    *,
    person_id: str,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    analyte: str | None = None,
    session_id: int | None = None,
    limit: int = 100,
    after: tuple[dt.datetime, int] | None = None,
) -> list[dict[str, Any]]:
    """Results sampled in [start, end), in (time, id) order, after a cursor key."""
    sql = f"""SELECT {COLUMNS} FROM lab_result
              WHERE person_id = %(person)s
                AND (%(start)s::timestamptz IS NULL OR ts >= %(start)s)
                AND (%(end)s::timestamptz IS NULL OR ts < %(end)s)
                AND (%(analyte)s::text IS NULL OR analyte = %(analyte)s)
                AND (%(session)s::bigint IS NULL OR session_id = %(session)s)"""
    params: dict[str, Any] = {
        "person": person_id,
        "start": start,
        "end": end,
        "analyte": analyte,
        "session": session_id,
        "limit": limit,
    }
    if after is not None:
        sql += " AND (ts, id) > (%(c_ts)s, %(c_id)s)"
        params.update(c_ts=after[0], c_id=after[1])
    return conn.execute(sql + " ORDER BY ts, id LIMIT %(limit)s", params).fetchall()


def cortisol(
    conn: Conn, *, person_id: str, start: dt.datetime | None = None, end: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Every cortisol result of a person in [start, end), oldest first; compare value_nmol_l."""
    return conn.execute(
        f"""SELECT {COLUMNS} FROM lab_result
            WHERE person_id = %(person)s AND analyte = 'cortisol'
              AND (%(start)s::timestamptz IS NULL OR ts >= %(start)s)
              AND (%(end)s::timestamptz IS NULL OR ts < %(end)s)
            ORDER BY ts, id""",
        {"person": person_id, "start": start, "end": end},
    ).fetchall()


def cortisol_before_after(conn: Conn, *, person_id: str, specimen: str | None = None) -> list[dict[str, Any]]:
    """Per session with a `before` and an `after` cortisol result: both in nmol/L.

    Saliva and serum differ by an order of magnitude, so a pair never mixes
    them: a `before` pairs with an `after` of the same specimen (a result with
    no specimen recorded pairs with either). Pass ``specimen`` to keep one kind.
    Within a phase the sample nearest the session is used. Rows: session_id,
    starts_at, ends_at, before_nmol_l, after_nmol_l, before_ts, after_ts,
    before_specimen, after_specimen; oldest session first.
    """
    return conn.execute(
        """WITH r AS (SELECT * FROM lab_result
                      WHERE person_id = %(person)s AND analyte = 'cortisol'
                        AND session_id IS NOT NULL
                        AND (%(specimen)s::text IS NULL OR specimen IS NULL
                             OR specimen = %(specimen)s)),
                b AS (SELECT DISTINCT ON (session_id, specimen) session_id, value_nmol_l, ts,
                             specimen
                      FROM r WHERE phase = 'before'
                      ORDER BY session_id, specimen, ts DESC, id DESC),
                a AS (SELECT DISTINCT ON (session_id, specimen) session_id, value_nmol_l, ts,
                             specimen
                      FROM r WHERE phase = 'after' ORDER BY session_id, specimen, ts, id),
                pairs AS (
                    SELECT DISTINCT ON (s.id) s.id AS session_id, s.starts_at, s.ends_at,
                           b.value_nmol_l AS before_nmol_l, a.value_nmol_l AS after_nmol_l,
                           b.ts AS before_ts, a.ts AS after_ts,
                           b.specimen AS before_specimen, a.specimen AS after_specimen
                    FROM session s
                    JOIN b ON b.session_id = s.id
                    JOIN a ON a.session_id = s.id
                          AND (a.specimen = b.specimen OR a.specimen IS NULL OR b.specimen IS NULL)
                    WHERE s.person_id = %(person)s
                    -- Prefer a pair whose specimens are both known and equal, then saliva.
                    ORDER BY s.id, (a.specimen IS NOT NULL AND b.specimen IS NOT NULL) DESC,
                             b.specimen NULLS LAST)
           SELECT * FROM pairs ORDER BY starts_at, session_id""",
        {"person": person_id, "specimen": specimen},
    ).fetchall()
