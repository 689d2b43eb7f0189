"""A per-person advisory lock that lets erasure stop the person's running import.

An import's data transaction holds the person's lock in *shared* mode for its
whole life; erasure takes it *exclusively* before deleting anything. While
erasure waits, the import sees the waiting request (in ``pg_locks``, from its
separate progress connection) and rolls back, so erasure goes on at once. No
connection ever waits on a row lock held by a transaction whose thread is
itself blocked: the cycle that froze erasure during an import (issue 16, defect 1).
Transaction-scoped: a crashed process's locks vanish with its session.
"""

from __future__ import annotations

import uuid

from service.core.db.types import Conn

#: First half of the two-part advisory key: "vagus person" (distinct from other locks).
_NAMESPACE = 0x56_50_45_52  # "VPER"


def _key(person_id: str) -> int:
    return int(uuid.UUID(str(person_id))) & 0x7FFF_FFFF


def share(conn: Conn, person_id: str) -> None:
    """Hold the person's lock (shared) until the transaction ends: an import is writing."""
    conn.execute("SELECT pg_advisory_xact_lock_shared(%s, %s)", (_NAMESPACE, _key(person_id)))


def exclusive(conn: Conn, person_id: str, *, timeout_s: float) -> None:
    """Hold the person's lock exclusively until the transaction ends: nothing else writes.

    Waits at most ``timeout_s`` (then ``psycopg.errors.LockNotAvailable``).
    """
    conn.execute("SELECT set_config('lock_timeout', %s, true)", (f"{int(timeout_s * 1000)}ms",))
    conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_NAMESPACE, _key(person_id)))
    conn.execute("SELECT set_config('lock_timeout', '0', true)")


def exclusive_requested(conn: Conn, person_id: str) -> bool:
    """True while someone (erasure) waits for the person's lock exclusively."""
    row = conn.execute(
        """SELECT EXISTS (SELECT 1 FROM pg_locks
                          WHERE locktype = 'advisory' AND classid = %s::oid AND objid = %s::oid
                            AND objsubid = 2 AND mode = 'ExclusiveLock' AND NOT granted
                         ) AS waiting""",
        (_NAMESPACE, _key(person_id)),
    ).fetchone()
    return bool(row and row["waiting"])
