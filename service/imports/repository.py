"""The import ledger."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.types.json import Jsonb

if TYPE_CHECKING:
    from connectors import ReadReport

    from service.imports.pipeline import ImportOutcome

COLUMNS = """id, person_id, file_name, sha256, size_bytes, connector, status, error, read,
             inserted, duplicates, rejected, rejected_reasons, skipped, notes, bytes_read,
             created_at, started_at, finished_at"""


def create(conn: psycopg.Connection, *, person_id: str, file_name: str,
           stored_path: str | None = None, start_hint=None) -> dict[str, Any]:
    return conn.execute(
        f"INSERT INTO import (person_id, file_name, stored_path, start_hint) "
        f"VALUES (%s, %s, %s, %s) RETURNING {COLUMNS}",
        (person_id, file_name, stored_path, start_hint)).fetchone()


def get(conn: psycopg.Connection, import_id: int) -> dict[str, Any] | None:
    return conn.execute(f"SELECT {COLUMNS}, stored_path FROM import WHERE id = %s",
                        (import_id,)).fetchone()


def list_for_person(conn: psycopg.Connection, person_id: str, *, limit: int,
                    before_id: int | None = None) -> list[dict[str, Any]]:
    return conn.execute(
        f"SELECT {COLUMNS} FROM import WHERE person_id = %s AND (%s::bigint IS NULL OR id < %s) "
        "ORDER BY id DESC LIMIT %s", (person_id, before_id, before_id, limit)).fetchall()


def earlier_same_file(conn: psycopg.Connection, person_id: str, sha256: str,
                      import_id: int) -> int | None:
    row = conn.execute(
        "SELECT id FROM import WHERE person_id = %s AND sha256 = %s AND id <> %s "
        "AND status = 'completed' ORDER BY id LIMIT 1",
        (person_id, sha256, import_id)).fetchone()
    return row["id"] if row else None


def person_tz(conn: psycopg.Connection, person_id: str) -> str:
    return conn.execute("SELECT tz FROM person WHERE id = %s", (person_id,)).fetchone()["tz"]


def mark_running(conn: psycopg.Connection, import_id: int, *, connector: str, sha256: str,
                 size_bytes: int) -> None:
    conn.execute(
        "UPDATE import SET status = 'running', connector = %s, sha256 = %s, size_bytes = %s, "
        "started_at = now(), error = NULL WHERE id = %s",
        (connector, sha256, size_bytes, import_id))


def update_progress(conn: psycopg.Connection, import_id: int, *, bytes_read: int,
                    read: int) -> None:
    conn.execute("UPDATE import SET bytes_read = %s, read = %s WHERE id = %s",
                 (bytes_read, read, import_id))


def finish(conn: psycopg.Connection, import_id: int, *, outcome: ImportOutcome,
           report: ReadReport, seconds: float) -> None:
    conn.execute(
        """UPDATE import SET status = 'completed', read = %s, inserted = %s, duplicates = %s,
               rejected = %s, rejected_reasons = %s, skipped = %s, notes = %s,
               bytes_read = greatest(bytes_read, %s), finished_at = now()
           WHERE id = %s""",
        (outcome.read, outcome.inserted, outcome.duplicates, outcome.rejected,
         Jsonb(outcome.rejected_reasons), Jsonb(dict(report.skipped)), Jsonb(dict(report.notes)),
         report.bytes_read, import_id))


def fail(conn: psycopg.Connection, import_id: int, reason: str) -> None:
    conn.execute(
        "UPDATE import SET status = 'failed', error = %s, finished_at = now() WHERE id = %s",
        (reason, import_id))
