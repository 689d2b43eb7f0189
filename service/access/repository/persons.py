"""People whose data Vagus holds."""

from __future__ import annotations

from typing import Any

from service.core.db.types import Conn, returned

COLUMNS = "id, name, tz, created_at"


def create(conn: Conn, *, name: str, tz: str) -> dict[str, Any]:
    return returned(
        conn.execute(
            f"INSERT INTO person (name, tz) VALUES (%s, %s) RETURNING {COLUMNS}", (name, tz)
        ).fetchone()
    )


def get(conn: Conn, person_id: str) -> dict[str, Any] | None:
    return conn.execute(f"SELECT {COLUMNS} FROM person WHERE id = %s", (person_id,)).fetchone()


def list_all(conn: Conn, *, limit: int, after: str | None) -> list[dict[str, Any]]:
    return conn.execute(
        f"SELECT {COLUMNS} FROM person WHERE (%s::uuid IS NULL OR id > %s::uuid) ORDER BY id LIMIT %s",
        (after, after, limit),
    ).fetchall()


def find_by_name(conn: Conn, name: str) -> dict[str, Any] | None:
    return conn.execute(
        f"SELECT {COLUMNS} FROM person WHERE name = %s ORDER BY created_at LIMIT 1", (name,)
    ).fetchone()


def update(
    conn: Conn, person_id: str, *, name: str | None = None, tz: str | None = None
) -> dict[str, Any] | None:
    """Change a person's name and/or zone (None keeps a value); the row as it now is."""
    return conn.execute(
        f"UPDATE person SET name = coalesce(%s, name), tz = coalesce(%s, tz) WHERE id = %s "
        f"RETURNING {COLUMNS}",
        (name, tz, person_id),
    ).fetchone()
