"""The SQL of export and erasure: a person's tables found in the catalogue, read and deleted.

Every table of the public schema with a ``person_id`` column counts, so a table
that a later migration adds is exported and erased without touching this module.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from psycopg import sql

from service.core.db.types import Conn, returned

#: Never exported: secrets and server paths.
HIDDEN_COLUMNS = frozenset({"secret", "token_hash", "stored_path"})
#: Rows fetched per round trip while streaming a table.
STREAM_ROWS = 10_000
#: The samples: a view the service reads (the table behind it is owner-only), erased
#: through the definer function ``vagus_erase_observations`` (see its migration).
SAMPLES = "observation"


def person_tables(conn: Conn) -> list[str]:
    """Tables of the public schema with a ``person_id`` column, by name, and the samples view."""
    rows = conn.execute(
        """SELECT c.table_name FROM information_schema.columns c
           JOIN information_schema.tables t
             ON t.table_schema = c.table_schema AND t.table_name = c.table_name
           WHERE c.table_schema = 'public' AND c.column_name = 'person_id'
             AND (t.table_type = 'BASE TABLE' OR t.table_name = %s)
           ORDER BY c.table_name""",
        (SAMPLES,),
    ).fetchall()
    return [r["table_name"] for r in rows]


def _columns(conn: Conn, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
        (table,),
    ).fetchall()
    return [r["column_name"] for r in rows if r["column_name"] not in HIDDEN_COLUMNS]


def person_row(conn: Conn, person_id: str) -> dict[str, Any] | None:
    return conn.execute("SELECT * FROM person WHERE id = %s", (person_id,)).fetchone()


def stream_rows(conn: Conn, table: str, person_id: str) -> Iterator[list[dict[str, Any]]]:
    """The person's rows of ``table`` (secrets left out), in batches, via a server-side cursor."""
    query = sql.SQL("SELECT {} FROM {} WHERE person_id = %s").format(
        sql.SQL(", ").join(map(sql.Identifier, _columns(conn, table))), sql.Identifier(table)
    )
    with conn.cursor(name=f"export_{uuid.uuid4().hex[:8]}") as cur:
        cur.itersize = STREAM_ROWS
        cur.execute(query, (person_id,))
        while batch := cur.fetchmany(STREAM_ROWS):
            yield batch


def delete_rows(conn: Conn, table: str, person_id: str) -> int:
    if table == SAMPLES:  # samples are deleted by their definer function only
        return returned(conn.execute("SELECT vagus_erase_observations(%s) AS n", (person_id,)).fetchone())[
            "n"
        ]
    return conn.execute(
        sql.SQL("DELETE FROM {} WHERE person_id = %s").format(sql.Identifier(table)), (person_id,)
    ).rowcount


def delete_person(conn: Conn, person_id: str) -> int:
    return conn.execute("DELETE FROM person WHERE id = %s", (person_id,)).rowcount
