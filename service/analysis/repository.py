"""Stored session responses and the fingerprint of the data they were computed from."""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from service.core.db.types import Conn, returned


def data_version(conn: Conn, person_id: str) -> str:
    """Changes whenever the person's samples, sleep or sessions change.

    Responses depend on every import that added rows (late data) and on the
    other sessions (they decide which days are control days). A re-import that
    only found duplicates changes nothing.
    """
    row = returned(
        conn.execute(
            """SELECT (SELECT coalesce(max(id), 0) FROM import
                   WHERE person_id = %(p)s AND status = 'completed' AND inserted > 0)
                  AS last_import,
                  (SELECT count(*) FROM session WHERE person_id = %(p)s) AS n_sessions,
                  (SELECT coalesce(max(updated_at), 'epoch') FROM session
                   WHERE person_id = %(p)s) AS sessions_changed""",
            {"p": person_id},
        ).fetchone()
    )
    return f"i{row['last_import']}-s{row['n_sessions']}-{row['sessions_changed'].isoformat()}"


def current(conn: Conn, session_id: int, *, algorithm_version: str, version: str) -> dict[str, Any] | None:
    """The stored response body when it was computed by ``algorithm_version`` from the data
    fingerprint ``version`` (see :func:`data_version`); None when missing or stale."""
    stored = get(conn, session_id)
    if stored and stored["algorithm_version"] == algorithm_version and stored["data_version"] == version:
        return stored["body"]
    return None


def get(conn: Conn, session_id: int) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT algorithm_version, data_version, body FROM session_response WHERE session_id = %s",
        (session_id,),
    ).fetchone()


def put(
    conn: Conn,
    *,
    session_id: int,
    person_id: str,
    algorithm_version: str,
    version: str,
    body: dict[str, Any],
) -> None:
    conn.execute(
        """INSERT INTO session_response (session_id, person_id, algorithm_version, data_version, body)
           VALUES (%s, %s, %s, %s, %s)
           ON CONFLICT (session_id) DO UPDATE
              SET algorithm_version = EXCLUDED.algorithm_version,
                  data_version = EXCLUDED.data_version, body = EXCLUDED.body, computed_at = now()""",
        (session_id, person_id, algorithm_version, version, Jsonb(body)),
    )
