"""A throwaway database for benchmarks: VAGUS_DATABASE_URL's server, or an embedded one."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

from service.core.db import embedded, migrate

REPO = Path(__file__).resolve().parents[1]


@contextmanager
def fresh_database(workdir: Path, migrations: Path = REPO / "migrations") -> Iterator[str]:
    """A new database migrated with ``migrations`` (dropped afterwards); yields its URL."""
    server = os.environ.get("VAGUS_DATABASE_URL") or embedded.start(workdir / "pgdata", delete_on_exit=True)
    name = f"vagus_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_conninfo(server, dbname=name)
        migrate.upgrade(url, migrations)
        yield url
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def migrations_before(workdir: Path, number: str) -> Path:
    """A folder with the migrations numbered below ``number``: an earlier schema to compare."""
    folder = workdir / f"migrations-before-{number}"
    folder.mkdir()
    for path in sorted((REPO / "migrations").glob("*.sql")):
        if path.name[:4] < number:
            shutil.copy(path, folder)
    return folder
