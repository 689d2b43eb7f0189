"""The SQL of cloud sync: pending authorizations, connections, cursors and sync runs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from service.core.db.types import Conn, returned

#: Arbitrary constant naming the per-connection sync lock (the connection id is the key).
SYNC_LOCK_CLASS = 0x56A6_0080

_PUBLIC = (
    "id, person_id, provider, status, external_user_id, scopes, token_expires_at, "
    "created_at, last_sync_at, next_sync_at, last_error"
)


def add_authorization(
    conn: Conn, *, state_hash: str, person_id: str, provider: str, secret: str, expires_at: dt.datetime
) -> None:
    conn.execute("DELETE FROM sync_authorization WHERE expires_at < now()")
    conn.execute(
        "INSERT INTO sync_authorization (state_hash, person_id, provider, secret, expires_at) "
        "VALUES (%s, %s, %s, %s, %s)",
        (state_hash, person_id, provider, secret, expires_at),
    )


def take_authorization(conn: Conn, state_hash: str) -> dict[str, Any] | None:
    """The pending authorization for this state, removed (a state works once); None if expired."""
    row = conn.execute(
        "DELETE FROM sync_authorization WHERE state_hash = %s RETURNING *", (state_hash,)
    ).fetchone()
    if row is None or row["expires_at"] < dt.datetime.now(dt.UTC):
        return None
    return row


def upsert_connection(
    conn: Conn,
    *,
    person_id: str,
    provider: str,
    secret: str,
    token_expires_at: dt.datetime | None,
    scopes: list[str],
    external_user_id: str | None,
) -> dict[str, Any]:
    """The person's connection to ``provider``, new or re-authorised (cursors are kept)."""
    return returned(
        conn.execute(
            f"""INSERT INTO sync_connection (person_id, provider, secret, token_expires_at, scopes,
                                         external_user_id)
            VALUES (%s, %s, %s, %s, %s, %s)
            ON CONFLICT (person_id, provider) DO UPDATE
            SET secret = EXCLUDED.secret, token_expires_at = EXCLUDED.token_expires_at,
                scopes = EXCLUDED.scopes, external_user_id = EXCLUDED.external_user_id,
                status = 'active', last_error = NULL, next_sync_at = now()
            RETURNING {_PUBLIC}""",
            (person_id, provider, secret, token_expires_at, scopes, external_user_id),
        ).fetchone()
    )


def connection(conn: Conn, connection_id: int) -> dict[str, Any] | None:
    """The connection with its sealed ``secret`` (for the sync itself only)."""
    return conn.execute("SELECT * FROM sync_connection WHERE id = %s", (connection_id,)).fetchone()


def connection_for(conn: Conn, person_id: str, provider: str) -> dict[str, Any] | None:
    return conn.execute(
        f"SELECT {_PUBLIC} FROM sync_connection WHERE person_id = %s AND provider = %s", (person_id, provider)
    ).fetchone()


def connections_of(conn: Conn, person_id: str) -> list[dict[str, Any]]:
    return conn.execute(
        f"SELECT {_PUBLIC} FROM sync_connection WHERE person_id = %s ORDER BY provider", (person_id,)
    ).fetchall()


def sealed_connections_of(conn: Conn, person_id: str) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT id, provider, secret FROM sync_connection WHERE person_id = %s", (person_id,)
    ).fetchall()


def by_vendor_user(conn: Conn, provider: str, external_user_id: str) -> list[dict[str, Any]]:
    return conn.execute(
        f"SELECT {_PUBLIC} FROM sync_connection "
        "WHERE provider = %s AND external_user_id = %s AND status = 'active'",
        (provider, external_user_id),
    ).fetchall()


def delete_connection(conn: Conn, connection_id: int) -> dict[str, Any] | None:
    return conn.execute(
        "DELETE FROM sync_connection WHERE id = %s RETURNING id, provider, secret", (connection_id,)
    ).fetchone()


def store_tokens(
    conn: Conn, connection_id: int, *, secret: str, token_expires_at: dt.datetime | None
) -> None:
    conn.execute(
        "UPDATE sync_connection SET secret = %s, token_expires_at = %s WHERE id = %s",
        (secret, token_expires_at, connection_id),
    )


def mark_needs_reauth(conn: Conn, connection_id: int, reason: str) -> bool:
    """Flag the connection; True only for the call that changed it (one event per lapse)."""
    row = conn.execute(
        "UPDATE sync_connection SET status = 'needs_reauth', last_error = %s "
        "WHERE id = %s AND status = 'active' RETURNING id",
        (reason, connection_id),
    ).fetchone()
    return row is not None


def mark_synced(conn: Conn, connection_id: int, *, error: str | None) -> None:
    conn.execute(
        "UPDATE sync_connection SET last_sync_at = now(), last_error = %s WHERE id = %s",
        (error, connection_id),
    )


def due_connections(conn: Conn, *, limit: int = 1000) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT id, person_id, provider, next_sync_at FROM sync_connection "
        "WHERE status = 'active' AND next_sync_at <= now() ORDER BY next_sync_at LIMIT %s "
        "FOR UPDATE SKIP LOCKED",
        (limit,),
    ).fetchall()


def schedule_next(conn: Conn, connection_id: int, next_sync_at: dt.datetime) -> None:
    conn.execute("UPDATE sync_connection SET next_sync_at = %s WHERE id = %s", (next_sync_at, connection_id))


def cursors(conn: Conn, connection_id: int) -> dict[str, dt.datetime]:
    rows = conn.execute(
        "SELECT data_type, synced_until FROM sync_cursor WHERE connection_id = %s", (connection_id,)
    ).fetchall()
    return {r["data_type"]: r["synced_until"] for r in rows}


def advance_cursor(
    conn: Conn, connection_id: int, person_id: str, data_type: str, synced_until: dt.datetime
) -> None:
    """Move a cursor forward (never back: a late, slower sync cannot rewind it)."""
    conn.execute(
        """INSERT INTO sync_cursor (connection_id, person_id, data_type, synced_until)
           VALUES (%s, %s, %s, %s)
           ON CONFLICT (connection_id, data_type) DO UPDATE
           SET synced_until = greatest(sync_cursor.synced_until, EXCLUDED.synced_until),
               updated_at = now()""",
        (connection_id, person_id, data_type, synced_until),
    )


def start_run(
    conn: Conn,
    *,
    connection: dict[str, Any],
    trigger: str,
    range_start: dt.datetime | None,
    range_end: dt.datetime,
) -> dict[str, Any]:
    return returned(
        conn.execute(
            """INSERT INTO sync_run (connection_id, person_id, provider, trigger, range_start,
                                 range_end)
           VALUES (%s, %s, %s, %s, %s, %s) RETURNING *""",
            (
                connection["id"],
                connection["person_id"],
                connection["provider"],
                trigger,
                range_start,
                range_end,
            ),
        ).fetchone()
    )


def interrupted_runs(conn: Conn, connection_id: int) -> list[dict[str, Any]]:
    """Runs still marked running (their worker died): closed as failed, returned."""
    return conn.execute(
        "UPDATE sync_run SET status = 'failed', finished_at = now(), "
        "reason = 'interrupted (the worker stopped); the next sync fetched it again' "
        "WHERE connection_id = %s AND status = 'running' RETURNING *",
        (connection_id,),
    ).fetchall()


def set_run_import(conn: Conn, run_id: int, import_id: int) -> None:
    conn.execute("UPDATE sync_run SET import_id = %s WHERE id = %s", (import_id, run_id))


def finish_run(
    conn: Conn, run_id: int, *, status: str, reason: str | None, requests: int, records: int
) -> None:
    conn.execute(
        "UPDATE sync_run SET status = %s, reason = %s, requests = %s, records = %s, "
        "finished_at = now() WHERE id = %s",
        (status, reason, requests, records, run_id),
    )


def runs_of(conn: Conn, connection_id: int, limit: int = 20) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT * FROM sync_run WHERE connection_id = %s ORDER BY id DESC LIMIT %s", (connection_id, limit)
    ).fetchall()


def try_lock(conn: Conn, connection_id: int) -> bool:
    return returned(
        conn.execute("SELECT pg_try_advisory_lock(%s, %s) AS ok", (SYNC_LOCK_CLASS, connection_id)).fetchone()
    )["ok"]


def unlock(conn: Conn, connection_id: int) -> None:
    conn.execute("SELECT pg_advisory_unlock(%s, %s)", (SYNC_LOCK_CLASS, connection_id))
