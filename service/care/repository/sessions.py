"""Massage sessions: one row per session, times as UTC instants."""

from __future__ import annotations

import datetime as dt
from typing import Any

from service.core.db.types import Conn, returned

COLUMNS = (
    "id, person_id, therapist_id, starts_at, ends_at, modality, pressure, body_areas, "
    "notes, created_at, updated_at"
)
#: Columns a PATCH may change.
EDITABLE = ("therapist_id", "starts_at", "ends_at", "modality", "pressure", "body_areas", "notes")


def create(
    conn: Conn,
    *,
    person_id: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    modality: str,
    pressure: str | None,
    therapist_id: str | None = None,
    body_areas: list[str] | None = None,
    notes: str | None = None,
) -> dict[str, Any]:
    return returned(
        conn.execute(
            f"""INSERT INTO session (person_id, therapist_id, starts_at, ends_at, modality, pressure,
                                 body_areas, notes)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING {COLUMNS}""",
            (person_id, therapist_id, starts_at, ends_at, modality, pressure, body_areas or [], notes),
        ).fetchone()
    )


def get(conn: Conn, session_id: int) -> dict[str, Any] | None:
    return conn.execute(f"SELECT {COLUMNS} FROM session WHERE id = %s", (session_id,)).fetchone()


def page(
    conn: Conn,
    *,
    person_id: str,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    limit: int = 100,
    after: tuple[dt.datetime, int] | None = None,
) -> list[dict[str, Any]]:
    """Sessions that start in [start, end), in (start, id) order, after a cursor key."""
    sql = f"""SELECT {COLUMNS} FROM session
              WHERE person_id = %(person)s
                AND (%(start)s::timestamptz IS NULL OR starts_at >= %(start)s)
                AND (%(end)s::timestamptz IS NULL OR starts_at < %(end)s)"""
    params: dict[str, Any] = {"person": person_id, "start": start, "end": end, "limit": limit}
    if after is not None:
        sql += " AND (starts_at, id) > (%(c_ts)s, %(c_id)s)"
        params.update(c_ts=after[0], c_id=after[1])
    return conn.execute(sql + " ORDER BY starts_at, id LIMIT %(limit)s", params).fetchall()


def in_range(
    conn: Conn, *, person_id: str, start: dt.datetime | None = None, end: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Every session of a person starting in [start, end), oldest first (for analyses)."""
    return conn.execute(
        f"""SELECT {COLUMNS} FROM session
            WHERE person_id = %(person)s
              AND (%(start)s::timestamptz IS NULL OR starts_at >= %(start)s)
              AND (%(end)s::timestamptz IS NULL OR starts_at < %(end)s)
            ORDER BY starts_at, id""",
        {"person": person_id, "start": start, "end": end},
    ).fetchall()


def for_therapist(
    conn: Conn, therapist_id: str, *, modality: str | None = None, pressure: str | None = None
) -> list[dict[str, Any]]:
    """Sessions a therapist gave, oldest first. Whose data may be read is the caller's check."""
    return conn.execute(
        f"""SELECT {COLUMNS} FROM session
            WHERE therapist_id = %(therapist)s
              AND (%(modality)s::text IS NULL OR modality = %(modality)s)
              AND (%(pressure)s::text IS NULL OR pressure = %(pressure)s)
            ORDER BY person_id, starts_at, id""",
        {"therapist": therapist_id, "modality": modality, "pressure": pressure},
    ).fetchall()


def lock_person(conn: Conn, person_id: str) -> None:
    """Serialise session writes of one person until the transaction ends, so two concurrent
    requests cannot both pass the overlap check."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"vagus.session:{person_id}",))


def overlapping(
    conn: Conn, *, person_id: str, starts_at: dt.datetime, ends_at: dt.datetime, exclude_id: int | None = None
) -> dict[str, Any] | None:
    """Another session of the person that overlaps [starts_at, ends_at), if any."""
    return conn.execute(
        f"""SELECT {COLUMNS} FROM session
            WHERE person_id = %s AND starts_at < %s AND ends_at > %s
              AND (%s::bigint IS NULL OR id <> %s)
            ORDER BY starts_at LIMIT 1""",
        (person_id, ends_at, starts_at, exclude_id, exclude_id),
    ).fetchone()


def update(conn: Conn, session_id: int, changes: dict[str, Any]) -> dict[str, Any] | None:
    """Set the given editable columns; the updated row, or None if there is no such session."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    if not changes:
        return get(conn, session_id)
    # Column names come from EDITABLE above, never from the caller.
    assignments = ", ".join(f"{column} = %({column})s" for column in changes)
    return conn.execute(
        f"UPDATE session SET {assignments}, updated_at = now() WHERE id = %(id)s RETURNING {COLUMNS}",
        {**changes, "id": session_id},
    ).fetchone()


def delete(conn: Conn, session_id: int) -> bool:
    """Delete a session. Its self-reports and lab results stay, no longer attached to it."""
    for table in ("self_report", "lab_result"):
        conn.execute(
            f"UPDATE {table} SET session_id = NULL, phase = NULL WHERE session_id = %s", (session_id,)
        )
    return conn.execute("DELETE FROM session WHERE id = %s", (session_id,)).rowcount == 1


def therapist_exists(conn: Conn, account_id: str) -> bool:
    """Whether the account exists with the therapist role."""
    return (
        conn.execute("SELECT 1 FROM account WHERE id = %s AND role = 'therapist'", (account_id,)).fetchone()
        is not None
    )
