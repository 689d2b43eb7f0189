"""Apply ``migrations/NNNN_name.sql`` in order, once, under an advisory lock.

Each file runs in its own transaction unless its header says otherwise.
Header lines (before the first statement) are comments of the form::

    -- vagus: no-transaction          (run statement by statement, autocommit:
                                          continuous aggregates need this)
    -- vagus: tiers=timescale,apache   (apply only on these tiers; default: all)

A ``schema_migrations`` row records each applied file with its SHA-256. A file
edited after it was applied is refused, naming the file. Two processes starting
at once take turns on a PostgreSQL advisory lock, so the second finds nothing
left to do.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from service.core.db.capability import TIERS, Tier, current_tier, probe
from service.core.db.types import Conn, returned

#: Arbitrary constant naming the migration lock (pg_advisory_lock takes a bigint).
MIGRATION_LOCK_ID = 0x56A605_0001
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_HEADER = re.compile(r"^--\s*vagus:\s*(.+?)\s*$")


class MigrationError(RuntimeError):
    """A migration cannot be applied (edited after applying, bad header, bad SQL)."""


@dataclass(frozen=True)
class Migration:
    path: Path
    sql: str
    checksum: str
    transactional: bool
    tiers: tuple[Tier, ...]
    #: Checksums of earlier texts of this file that differed only in comments.
    amends: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        return self.path.name

    def applies_to(self, tier: Tier) -> bool:
        return tier in self.tiers


@dataclass(frozen=True)
class Status:
    tier: Tier
    applied: list[str]
    pending: list[str]


def load(folder: Path) -> list[Migration]:
    """Every migration file in ``folder``, in order, with its parsed header."""
    if not any(folder.glob("*.sql")):
        raise MigrationError(
            f"{folder}: no migration files here (set VAGUS_MIGRATIONS_DIR to the "
            "project's migrations/ folder)"
        )
    migrations = []
    for path in sorted(folder.glob("*.sql")):
        if not _NAME.match(path.name):
            raise MigrationError(f"{path}: migration files are named NNNN_short_name.sql")
        sql = path.read_text(encoding="utf-8")
        transactional, tiers = True, TIERS
        amends: set[str] = set()
        for line in sql.splitlines():
            if not line.startswith("--"):
                break
            header = _HEADER.match(line)
            if not header:
                continue
            option = header.group(1)
            if option == "no-transaction":
                transactional = False
            elif option.startswith("amends="):
                amends.add(option[7:].strip())
            elif option.startswith("tiers="):
                tiers = tuple(_tier(path, option, t.strip()) for t in option[6:].split(","))
            else:
                raise MigrationError(f"{path}: unknown header option {option!r}")
        checksum = hashlib.sha256(sql.encode()).hexdigest()
        migrations.append(Migration(path, sql, checksum, transactional, tiers, frozenset(amends)))
    numbers = [m.name[:4] for m in migrations]
    if len(numbers) != len(set(numbers)):
        raise MigrationError(f"{folder}: two migration files share a number")
    return migrations


def _tier(path: Path, option: str, name: str) -> Tier:
    for tier in TIERS:
        if name == tier:
            return tier
    raise MigrationError(f"{path}: unknown tier in {option!r}; tiers are {TIERS}")


def _ensure_ledger(conn: Conn) -> None:
    conn.execute("""
        CREATE TABLE IF NOT EXISTS schema_migrations (
            filename text PRIMARY KEY,
            checksum text NOT NULL,
            tier text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )""")


def _applied(conn: Conn) -> dict[str, str]:
    rows = conn.execute("SELECT filename, checksum FROM schema_migrations").fetchall()
    return {r["filename"]: r["checksum"] for r in rows}


def _check_unedited(migrations: list[Migration], applied: dict[str, str]) -> None:
    """Refuse an applied migration whose text changed, except a declared comment-only amendment.

    A file may say ``-- vagus: amends=<sha256 of its earlier text>`` when only its
    comments changed; :func:`upgrade` then records the new checksum.
    """
    for migration in migrations:
        recorded = applied.get(migration.name)
        if recorded is not None and recorded != migration.checksum and recorded not in migration.amends:
            raise MigrationError(
                f"{migration.path} was edited after it was applied (recorded sha256 "
                f"{recorded[:12]}..., file now {migration.checksum[:12]}...). Applied migrations "
                "must not change: restore the file and put the change in a new migration."
            )


def status(url: str, folder: Path) -> Status:
    """Which migrations are applied and which are pending, without changing anything."""
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        return status_on(conn, folder)


def status_on(conn: Conn, folder: Path) -> Status:
    """:func:`status` on an open autocommit connection."""
    migrations = load(folder)
    exists = returned(conn.execute("SELECT to_regclass('schema_migrations') AS t").fetchone())["t"]
    applied = _applied(conn) if exists else {}
    _check_unedited(migrations, applied)
    tier = current_tier(conn)
    if not applied:
        # Nothing applied yet: report the tier an upgrade would choose.
        with conn.transaction(force_rollback=True):
            tier = probe(conn)
    pending = [m.name for m in migrations if m.applies_to(tier) and m.name not in applied]
    return Status(tier, sorted(applied), pending)


def upgrade(url: str, folder: Path) -> tuple[Tier, list[str]]:
    """Apply every pending migration for this database's tier; return (tier, applied now)."""
    migrations = load(folder)
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_ID,))
        try:
            _ensure_ledger(conn)
            applied = _applied(conn)
            _check_unedited(migrations, applied)
            for migration in migrations:
                if applied.get(migration.name) in migration.amends:
                    conn.execute(
                        "UPDATE schema_migrations SET checksum = %s WHERE filename = %s",
                        (migration.checksum, migration.name),
                    )
            tier = probe(conn)
            done = []
            for migration in migrations:
                if migration.name in applied or not migration.applies_to(tier):
                    continue
                _apply(conn, migration, tier)
                done.append(migration.name)
            return tier, done
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_ID,))


def _apply(conn: Conn, migration: Migration, tier: Tier) -> None:
    record = (
        "INSERT INTO schema_migrations (filename, checksum, tier) VALUES (%s, %s, %s)",
        (migration.name, migration.checksum, tier),
    )
    try:
        if migration.transactional:
            with conn.transaction():
                conn.execute(migration.sql)
                conn.execute(*record)
        else:
            # Autocommit, one statement at a time: a multi-statement string would
            # run as one implicit transaction block.
            for statement in split_statements(migration.sql):
                conn.execute(statement)
            conn.execute(*record)
    except psycopg.Error as exc:
        raise MigrationError(f"{migration.path}: {exc}") from exc


def split_statements(sql: str) -> list[str]:
    """Split a no-transaction migration at semicolons that end a line.

    Deliberately simple: such files must not contain dollar-quoted bodies.
    """
    if "$$" in sql:
        raise MigrationError("no-transaction migrations must not contain $$ bodies")
    parts = re.split(r";\s*$", sql, flags=re.MULTILINE)
    statements = []
    for part in parts:
        body = "\n".join(ln for ln in part.splitlines() if not ln.strip().startswith("--"))
        if body.strip():
            statements.append(body.strip())
    return statements
