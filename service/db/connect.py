"""Where the database is, and connections to it."""

from __future__ import annotations

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from ..config import Settings
from . import embedded


def database_url(settings: Settings) -> str:
    """The configured URL, or the embedded server's (started on first use)."""
    if settings.database_url:
        return settings.database_url
    return embedded.start(settings.embedded_dir)


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=autocommit, row_factory=dict_row)


def create_pool(url: str, size: int) -> ConnectionPool:
    """A pool whose connections are checked before use, so a database restart heals itself."""
    return ConnectionPool(
        url, min_size=1, max_size=size, open=True, check=ConnectionPool.check_connection,
        kwargs={"row_factory": dict_row}, name="vagus")
