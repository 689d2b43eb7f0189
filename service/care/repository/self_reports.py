"""Patient-reported outcomes: pain, stress, anxiety, headache, sleep quality (0-10).

Headache is one number too: 0 means no headache, 1-10 its intensity.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from service.core.db.types import Conn, returned

KINDS = ("pain", "stress", "anxiety", "headache", "sleep_quality")
COLUMNS = "id, person_id, ts, kind, value, session_id, phase, created_at"


def create(
    conn: Conn,
    *,
    person_id: str,
    ts: dt.datetime,
    kind: str,
    value: float,
    session_id: int | None = None,
    phase: str | None = None,
) -> dict[str, Any]:
    return returned(
        conn.execute(
            f"""INSERT INTO self_report (person_id, ts, kind, value, session_id, phase)
            VALUES (%s, %s, %s, %s, %s, %s) RETURNING {COLUMNS}""",
            (person_id, ts, kind, value, session_id, phase),
        ).fetchone()
    )


def get(conn: Conn, report_id: int) -> dict[str, Any] | None:
    return conn.execute(f"SELECT {COLUMNS} FROM self_report WHERE id = %s", (report_id,)).fetchone()


def delete(conn: Conn, report_id: int) -> bool:
    return conn.execute("DELETE FROM self_report WHERE id = %s", (report_id,)).rowcount == 1


def page(
    conn: Conn,
    *,
    person_id: str,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    kind: str | None = None,
    session_id: int | None = None,
    limit: int = 100,
    after: tuple[dt.datetime, int] | None = None,
) -> list[dict[str, Any]]:
    """Reports at times in [start, end), optionally one kind or one session, in (time, id) order."""
    sql = f"""SELECT {COLUMNS} FROM self_report
              WHERE person_id = %(person)s
                AND (%(start)s::timestamptz IS NULL OR ts >= %(start)s)
                AND (%(end)s::timestamptz IS NULL OR ts < %(end)s)
                AND (%(kind)s::text IS NULL OR kind = %(kind)s)
                AND (%(session)s::bigint IS NULL OR session_id = %(session)s)"""
    params: dict[str, Any] = {
        "person": person_id,
        "start": start,
        "end": end,
        "kind": kind,
        "session": session_id,
        "limit": limit,
    }
    if after is not None:
        sql += " AND (ts, id) > (%(c_ts)s, %(c_id)s)"
        params.update(c_ts=after[0], c_id=after[1])
    return conn.execute(sql + " ORDER BY ts, id LIMIT %(limit)s", params).fetchall()


def in_range(
    conn: Conn,
    *,
    person_id: str,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    kinds: tuple[str, ...] | None = None,
) -> list[dict[str, Any]]:
    """Every report of a person in [start, end), oldest first (for trends over weeks)."""
    return conn.execute(
        f"""SELECT {COLUMNS} FROM self_report
            WHERE person_id = %(person)s
              AND (%(start)s::timestamptz IS NULL OR ts >= %(start)s)
              AND (%(end)s::timestamptz IS NULL OR ts < %(end)s)
              AND (%(kinds)s::text[] IS NULL OR kind = ANY(%(kinds)s))
            ORDER BY ts, id""",
        {"person": person_id, "start": start, "end": end, "kinds": list(kinds) if kinds else None},
    ).fetchall()


def for_session(conn: Conn, session_id: int) -> list[dict[str, Any]]:
    """Reports attached to one session, by phase then time."""
    return conn.execute(
        f"SELECT {COLUMNS} FROM self_report WHERE session_id = %s ORDER BY phase DESC, ts, id", (session_id,)
    ).fetchall()


def before_after(conn: Conn, *, person_id: str, kind: str) -> list[dict[str, Any]]:
    """Per session with a `before` and an `after` report of this kind: both values.

    When a phase holds several reports, the one nearest the session is used
    (the last `before`, the first `after`). Rows: session_id, starts_at,
    ends_at, before, after, before_ts, after_ts; oldest session first.
    """
    return conn.execute(
        """WITH b AS (SELECT DISTINCT ON (session_id) session_id, value, ts FROM self_report
                      WHERE person_id = %(person)s AND kind = %(kind)s AND phase = 'before'
                      ORDER BY session_id, ts DESC, id DESC),
                a AS (SELECT DISTINCT ON (session_id) session_id, value, ts FROM self_report
                      WHERE person_id = %(person)s AND kind = %(kind)s AND phase = 'after'
                      ORDER BY session_id, ts, id)
           SELECT s.id AS session_id, s.starts_at, s.ends_at, b.value AS before,
                  a.value AS after, b.ts AS before_ts, a.ts AS after_ts
           FROM session s JOIN b ON b.session_id = s.id JOIN a ON a.session_id = s.id
           WHERE s.person_id = %(person)s
           ORDER BY s.starts_at, s.id""",
        {"person": person_id, "kind": kind},
    ).fetchall()
