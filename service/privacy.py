"""A person's right to their data: export everything, erase everything.

Both find the person's tables in the catalogue (every table of the public
schema with a ``person_id`` column, plus ``person`` itself), so a table that a
later migration adds is exported and erased without touching this module.
The audit log is the exception: it is exported, and on erasure it keeps its
rows (who accessed what, without health data) and gains a tombstone.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import psycopg
from psycopg import sql

from . import uploads
from .db import rls
from .jobs.queue import enqueue
from .repositories import audit

#: Kept on erasure (append-only, no health data) and exported separately.
AUDIT_TABLE = "audit_event"
#: Never exported: secrets and server paths.
HIDDEN_COLUMNS = frozenset({"secret", "token_hash", "stored_path"})
#: Rows fetched per round trip while streaming a table into the zip.
STREAM_ROWS = 10_000
#: The samples: a view the service reads (the table behind it is owner-only) and
#: erases through vagus_erase_observations (migrations/0050).
SAMPLES = "observation"


def person_tables(conn: psycopg.Connection) -> list[str]:
    """Tables (not views) of the public schema with a ``person_id`` column, by name."""
    rows = conn.execute(
        """SELECT c.table_name FROM information_schema.columns c
           JOIN information_schema.tables t
             ON t.table_schema = c.table_schema AND t.table_name = c.table_name
           WHERE c.table_schema = 'public' AND c.column_name = 'person_id'
             AND (t.table_type = 'BASE TABLE' OR t.table_name = %s)
           ORDER BY c.table_name""", (SAMPLES,)).fetchall()  # the samples are a view (0050)
    return [r["table_name"] for r in rows]


def _columns(conn: psycopg.Connection, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
        (table,)).fetchall()
    return [r["column_name"] for r in rows if r["column_name"] not in HIDDEN_COLUMNS]


def _json_default(value: object) -> object:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal | dt.timedelta | bytes | memoryview):
        return str(value)
    raise TypeError(f"cannot export {type(value).__name__}")


class _Sink(io.RawIOBase):
    """A write-only stream whose bytes are taken out as the zip is written."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def export_zip(conn: psycopg.Connection, person_id: str) -> Iterator[bytes]:
    """Everything held for the person as a zip of JSON files, produced as it is read.

    One file per table (``<table>.json``, a JSON array), ``person.json`` and
    ``audit.json``. Rows come through server-side cursors, so memory stays flat
    however many samples the person has. ``conn`` must act for a principal
    allowed to see the person (row-level security applies) inside a transaction.
    """
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        person = conn.execute("SELECT * FROM person WHERE id = %s", (person_id,)).fetchone()
        archive.writestr("person.json", json.dumps(person, default=_json_default, indent=1))
        yield sink.take()
        for table in person_tables(conn):
            name = "audit.json" if table == AUDIT_TABLE else f"{table}.json"
            query = sql.SQL("SELECT {} FROM {} WHERE person_id = %s").format(
                sql.SQL(", ").join(map(sql.Identifier, _columns(conn, table))),
                sql.Identifier(table))
            yield from _write_array(conn, archive, sink, name, query, person_id)
        manifest = {"person_id": person_id, "exported_at": dt.datetime.now(dt.UTC).isoformat(),
                    "format": "one JSON array per table; times are UTC (ISO 8601)"}
        archive.writestr("manifest.json", json.dumps(manifest, indent=1))
    yield sink.take()


def _write_array(conn: psycopg.Connection, archive: zipfile.ZipFile, sink: _Sink, name: str,
                 query: sql.Composed, person_id: str) -> Iterator[bytes]:
    with archive.open(name, "w", force_zip64=True) as member:
        member.write(b"[")
        first = True
        with conn.cursor(name=f"export_{uuid.uuid4().hex[:8]}") as cur:
            cur.itersize = STREAM_ROWS
            cur.execute(query, (person_id,))
            batch: list[str] = []
            for row in cur:
                batch.append(json.dumps(row, default=_json_default))
                if len(batch) >= STREAM_ROWS:
                    member.write((("" if first else ",\n") + ",\n".join(batch)).encode())
                    first, batch = False, []
                    yield sink.take()
            if batch:
                member.write((("" if first else ",\n") + ",\n".join(batch)).encode())
        member.write(b"]\n")
    yield sink.take()


def erase(conn: psycopg.Connection, person_id: str, *, upload_dir: Path,
          actor_account_id: str | None, actor_role: str | None) -> dict[str, int]:
    """Delete every row of the person and their uploaded files; returns rows deleted per table.

    The audit log keeps its rows and gains a ``person.erased`` tombstone. The
    caller owns the transaction (files are removed before it commits: a
    failed commit leaves data without files, and erasing again finishes it).
    """
    # Act for exactly this person from here on: the caller's own account may be
    # among the rows deleted, and with it the caller's view through the policies.
    rls.act_for_person(conn, person_id)
    deleted: dict[str, int] = {}
    for table in person_tables(conn):
        if table == AUDIT_TABLE:
            continue
        if table == SAMPLES:  # samples are deleted by a definer function only (0050)
            count = conn.execute("SELECT vagus_erase_observations(%s) AS n",
                                 (person_id,)).fetchone()["n"]
        else:
            count = conn.execute(sql.SQL("DELETE FROM {} WHERE person_id = %s").format(
                sql.Identifier(table)), (person_id,)).rowcount
        if count:
            deleted[table] = count
    deleted["person"] = conn.execute("DELETE FROM person WHERE id = %s", (person_id,)).rowcount
    audit.record(conn, actor_account_id=actor_account_id, actor_role=actor_role,
                 person_id=person_id, action="person.erased")
    # The hourly rollup (a materialised view on plain PostgreSQL) still holds the
    # person's aggregates: refresh it as soon as a worker can, not at the next period.
    enqueue(conn, "maintenance", {"reason": "erasure"},
            unique_key=f"maintenance:erasure:{person_id}")
    uploads.remove_person(upload_dir, person_id)
    return deleted
