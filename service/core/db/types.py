"""Typing for database code: every pooled connection returns rows as dicts."""

from __future__ import annotations

from typing import Any, TypeAlias

import psycopg
from psycopg.rows import DictRow
from psycopg_pool import ConnectionPool

Row: TypeAlias = dict[str, Any]
Conn: TypeAlias = psycopg.Connection[DictRow]
Pool: TypeAlias = ConnectionPool[Conn]


def returned(row: Row | None) -> Row:
    """The row an ``INSERT/UPDATE ... RETURNING`` or an aggregate must give back."""
    if row is None:
        raise LookupError("the statement returned no row")
    return row
