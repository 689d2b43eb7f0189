"""A person's right to their data: export everything, erase everything.

Both find the person's tables in the catalogue (``repository.person_tables``),
so a table that a later migration adds is exported and erased without touching
this module.
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

from service.access.repository import audit
from service.core.db import person_lock, rls
from service.core.db.types import Conn
from service.imports import uploads
from service.jobs.queue import enqueue
from service.privacy import repository
from service.sync import service as cloud_sync

#: Kept on erasure (append-only, no health data) and exported separately.
AUDIT_TABLE = "audit_event"


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


def export_zip(conn: Conn, person_id: str) -> Iterator[bytes]:
    """Everything held for the person as a zip of JSON files, produced as it is read.

    One file per table (``<table>.json``, a JSON array), ``person.json`` and
    ``audit.json``. Rows come through server-side cursors, so memory stays flat
    however many samples the person has. ``conn`` must act for a principal
    allowed to see the person (row-level security applies) inside a transaction.
    """
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        person = repository.person_row(conn, person_id)
        archive.writestr("person.json", json.dumps(person, default=_json_default, indent=1))
        yield sink.take()
        for table in repository.person_tables(conn):
            name = "audit.json" if table == AUDIT_TABLE else f"{table}.json"
            yield from _write_array(archive, sink, name, repository.stream_rows(conn, table, person_id))
        manifest = {
            "person_id": person_id,
            "exported_at": dt.datetime.now(dt.UTC).isoformat(),
            "format": "one JSON array per table; times are UTC (ISO 8601)",
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=1))
    yield sink.take()


def _write_array(
    archive: zipfile.ZipFile, sink: _Sink, name: str, batches: Iterator[list[dict]]
) -> Iterator[bytes]:
    with archive.open(name, "w", force_zip64=True) as member:
        member.write(b"[")
        first = True
        for batch in batches:
            member.write(
                (
                    ("" if first else ",\n")
                    + ",\n".join(json.dumps(row, default=_json_default) for row in batch)
                ).encode()
            )
            first = False
            yield sink.take()
        member.write(b"]\n")
    yield sink.take()


#: Longest wait for the person's running import to stop before erasure gives up (503).
ERASURE_WAIT_S = 60.0


def erase(
    conn: Conn,
    person_id: str,
    *,
    upload_dir: Path,
    actor_account_id: str | None,
    actor_role: str | None,
    wait_s: float = ERASURE_WAIT_S,
) -> dict[str, int]:
    """Delete every row of the person and their uploaded files; returns rows deleted per table.

    The person's running import is stopped first: erasure takes the person's lock
    exclusively (``person_lock``); the import sees it waiting and rolls back. Waits at
    most ``wait_s`` (then ``psycopg.errors.LockNotAvailable``). The person's jobs go
    with their rows (``job.person_id``). The audit log keeps its rows and gains a
    ``person.erased`` tombstone. The caller owns the transaction (files are removed
    before it commits: a failed commit leaves data without files, and erasing again
    finishes it).
    """
    person_lock.exclusive(conn, person_id, timeout_s=wait_s)
    # Act for exactly this person from here on: the caller's own account may be
    # among the rows deleted, and with it the caller's view through the policies.
    rls.act_for_person(conn, person_id)
    deleted: dict[str, int] = {}
    # Cloud sync (issue 15): connected vendor grants are queued for revocation, tokens deleted.
    cloud_sync.revoke_for_erasure(conn, person_id)
    for table in repository.person_tables(conn):
        if table == AUDIT_TABLE:
            continue
        if count := repository.delete_rows(conn, table, person_id):
            deleted[table] = count
    deleted["person"] = repository.delete_person(conn, person_id)
    audit.record(
        conn,
        actor_account_id=actor_account_id,
        actor_role=actor_role,
        person_id=person_id,
        action="person.erased",
    )
    # The hourly rollup (a materialised view on plain PostgreSQL) still holds the
    # person's aggregates: refresh it as soon as a worker can, not at the next period.
    enqueue(conn, "maintenance", {"reason": "erasure"}, unique_key=f"maintenance:erasure:{person_id}")
    uploads.remove_person(upload_dir, person_id)
    return deleted
