"""The import ledger and the inbox's memory of files it has seen: all their SQL."""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from connectors import ReadReport
from service.core.db.types import Conn, returned

COLUMNS = """id, person_id, file_name, sha256, size_bytes, connector, status, error, read,
             inserted, duplicates, rejected, rejected_reasons, skipped, notes, bytes_read,
             bytes_total, created_at, started_at, finished_at"""


def create(
    conn: Conn, *, person_id: str, file_name: str, stored_path: str | None = None, start_hint=None
) -> dict[str, Any]:
    return returned(
        conn.execute(
            f"INSERT INTO import (person_id, file_name, stored_path, start_hint) "
            f"VALUES (%s, %s, %s, %s) RETURNING {COLUMNS}",
            (person_id, file_name, stored_path, start_hint),
        ).fetchone()
    )


def get(conn: Conn, import_id: int) -> dict[str, Any] | None:
    return conn.execute(f"SELECT {COLUMNS}, stored_path FROM import WHERE id = %s", (import_id,)).fetchone()


def list_for_person(
    conn: Conn, person_id: str, *, limit: int, before_id: int | None = None
) -> list[dict[str, Any]]:
    return conn.execute(
        f"SELECT {COLUMNS} FROM import WHERE person_id = %s AND (%s::bigint IS NULL OR id < %s) "
        "ORDER BY id DESC LIMIT %s",
        (person_id, before_id, before_id, limit),
    ).fetchall()


def earlier_same_file(conn: Conn, person_id: str, sha256: str, import_id: int) -> int | None:
    row = conn.execute(
        "SELECT id FROM import WHERE person_id = %s AND sha256 = %s AND id <> %s "
        "AND status = 'completed' ORDER BY id LIMIT 1",
        (person_id, sha256, import_id),
    ).fetchone()
    return row["id"] if row else None


def person_tz(conn: Conn, person_id: str) -> str:
    # The import ledger references the person, so the row exists.
    row = conn.execute("SELECT tz FROM person WHERE id = %s", (person_id,)).fetchone()
    return returned(row)["tz"]


def mark_running(conn: Conn, import_id: int, *, connector: str, sha256: str, size_bytes: int) -> None:
    conn.execute(
        "UPDATE import SET status = 'running', connector = %s, sha256 = %s, size_bytes = %s, "
        "started_at = clock_timestamp(), finished_at = NULL, error = NULL WHERE id = %s",
        (connector, sha256, size_bytes, import_id),
    )


def update_progress(
    conn: Conn, import_id: int, *, bytes_read: int, bytes_total: int | None, read: int
) -> None:
    conn.execute(
        "UPDATE import SET bytes_read = %s, bytes_total = %s, read = %s WHERE id = %s",
        (bytes_read, bytes_total, read, import_id),
    )


def finish(conn: Conn, import_id: int, *, outcome: Any, report: ReadReport, seconds: float) -> None:
    """Record a completed import (``outcome`` is an ``ImportOutcome``). Times are
    ``clock_timestamp()``: ``now()`` would be the start of the loading transaction."""
    conn.execute(
        """UPDATE import SET status = 'completed', read = %s, inserted = %s, duplicates = %s,
               rejected = %s, rejected_reasons = %s, skipped = %s, notes = %s,
               bytes_read = greatest(bytes_read, %s), bytes_total = %s,
               finished_at = clock_timestamp()
           WHERE id = %s""",
        (
            outcome.read,
            outcome.inserted,
            outcome.duplicates,
            outcome.rejected,
            Jsonb(outcome.rejected_reasons),
            Jsonb(dict(report.skipped)),
            Jsonb(dict(report.notes)),
            report.bytes_read,
            report.bytes_total,
            import_id,
        ),
    )


def fail(conn: Conn, import_id: int, reason: str) -> None:
    conn.execute(
        "UPDATE import SET status = 'failed', error = %s, finished_at = clock_timestamp() "
        "WHERE id = %s AND status <> 'completed'",  # a late, stale attempt never undoes one
        (reason, import_id),
    )


def reset_progress(conn: Conn, import_id: int) -> None:
    """Before a (re-)run: an earlier attempt that died midway was rolled back, so only the
    progress shown on the row needs resetting."""
    conn.execute(
        "UPDATE import SET status = 'running', bytes_read = 0, bytes_total = NULL, "
        "read = 0, error = NULL "
        "WHERE id = %s AND status <> 'completed'",
        (import_id,),
    )


def set_stored_path(conn: Conn, import_id: int, stored_path: str) -> None:
    conn.execute("UPDATE import SET stored_path = %s WHERE id = %s", (stored_path, import_id))


def set_content(conn: Conn, import_id: int, *, sha256: str, size_bytes: int) -> None:
    conn.execute(
        "UPDATE import SET sha256 = %s, size_bytes = %s WHERE id = %s", (sha256, size_bytes, import_id)
    )


def same_content(conn: Conn, person_id: str, sha256: str) -> int | None:
    """An import of this content for the person that is queued, running or completed."""
    row = conn.execute(
        "SELECT id FROM import WHERE person_id = %s AND sha256 = %s "
        "AND status IN ('queued', 'running', 'completed') ORDER BY id LIMIT 1",
        (person_id, sha256),
    ).fetchone()
    return row["id"] if row else None


def has_stored_path(conn: Conn, stored_path: str) -> bool:
    return conn.execute("SELECT 1 FROM import WHERE stored_path = %s", (stored_path,)).fetchone() is not None


def inbox_file_seen(conn: Conn, path: str, *, size_bytes: int, mtime_ns: int) -> bool:
    """True when the inbox saw ``path`` with this size and time before; records it otherwise."""
    before = conn.execute("SELECT size_bytes, mtime_ns FROM inbox_file WHERE path = %s", (path,)).fetchone()
    if before and (before["size_bytes"], before["mtime_ns"]) == (size_bytes, mtime_ns):
        return True
    conn.execute(
        """INSERT INTO inbox_file (path, size_bytes, mtime_ns) VALUES (%s, %s, %s)
           ON CONFLICT (path) DO UPDATE SET size_bytes = EXCLUDED.size_bytes,
               mtime_ns = EXCLUDED.mtime_ns, seen_at = now()""",
        (path, size_bytes, mtime_ns),
    )
    return False


def forget_inbox_file(conn: Conn, path: str) -> None:
    conn.execute("DELETE FROM inbox_file WHERE path = %s", (path,))
