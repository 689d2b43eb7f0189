"""The migration runner on a real server: ordering, idempotence, locking, edits refused."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from pathlib import Path

import psycopg
import pytest

from service.core.db import migrate
from tests.conftest import REPO_ROOT


@pytest.fixture
def migrations_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    shutil.copytree(REPO_ROOT / "migrations", folder)
    return folder


def test_upgrade_twice_applies_nothing_the_second_time(databases, tier):
    url = databases.create()
    chosen, first = migrate.upgrade(url, REPO_ROOT / "migrations")
    assert "0001_core.sql" in first
    assert chosen == tier  # the server's tier, whichever VAGUS_TEST_DATABASE_URL names
    _, second = migrate.upgrade(url, REPO_ROOT / "migrations")
    assert second == []
    assert migrate.status(url, REPO_ROOT / "migrations").pending == []


def test_only_files_for_the_tier_are_applied(databases, tier):
    url = databases.create()
    chosen, applied = migrate.upgrade(url, REPO_ROOT / "migrations")
    expected = [m.name for m in migrate.load(REPO_ROOT / "migrations") if m.applies_to(tier)]
    assert chosen == tier and applied == expected
    with psycopg.connect(url) as conn:
        kinds = dict(
            conn.execute(
                "SELECT relname, relkind FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                "AND relname IN ('observation', 'observation_data', 'observation_hourly', "
                "'observation_ts_brin')"
            ).fetchall()
        )
        layout = _timescale_layout(conn) if tier != "postgres" else None
    # Samples: a table behind a view on every tier.
    assert (kinds.pop("observation"), kinds.pop("observation_data")) == ("v", "r"), tier
    if tier == "postgres":  # one table with a BRIN index; the rollup a materialised view
        assert kinds == {"observation_hourly": "m", "observation_ts_brin": "i"}, tier
        return
    assert layout["hypertables"] == {"observation_data": tier == "timescale"}, tier
    if tier == "apache":  # hypertable, no compression; the rollup a materialised view
        assert kinds == {"observation_hourly": "m"} and layout["aggregates"] == {}, tier
        return
    # Timescale licence: compression with its policy; the rollup a continuous aggregate
    # over the samples' table, refreshed by its own policy.
    assert kinds == {"observation_hourly": "v"}, tier
    aggregate = layout["aggregates"]["observation_hourly"]
    assert aggregate["hypertable_name"] == "observation_data", tier
    jobs = layout["jobs"]
    assert ("policy_refresh_continuous_aggregate", aggregate["materialization_hypertable_name"]) in jobs, jobs
    assert any(
        table == "observation_data" and ("compress" in proc or "columnstore" in proc) for proc, table in jobs
    ), jobs


def _timescale_layout(conn: psycopg.Connection) -> dict:
    """What TimescaleDB's information views (2.x) say about this database's tables."""
    hypertables = dict(
        conn.execute(
            "SELECT hypertable_name, compression_enabled FROM timescaledb_information.hypertables "
            "WHERE hypertable_schema = 'public'"
        ).fetchall()
    )
    aggregates = {
        row[0]: {"hypertable_name": row[1], "materialization_hypertable_name": row[2]}
        for row in conn.execute(
            "SELECT view_name, hypertable_name, materialization_hypertable_name "
            "FROM timescaledb_information.continuous_aggregates"
        ).fetchall()
    }
    jobs = {
        (proc, table)
        for proc, table in conn.execute(
            "SELECT proc_name, hypertable_name FROM timescaledb_information.jobs"
        ).fetchall()
    }
    return {"hypertables": hypertables, "aggregates": aggregates, "jobs": jobs}


def test_edited_applied_migration_is_refused_naming_the_file(databases, migrations_copy):
    url = databases.create()
    migrate.upgrade(url, migrations_copy)
    core = migrations_copy / "0001_core.sql"
    core.write_text(core.read_text() + "\n-- an innocent-looking edit\n")
    with pytest.raises(migrate.MigrationError, match="0001_core.sql was edited"):
        migrate.upgrade(url, migrations_copy)


def test_a_declared_comment_only_amendment_is_accepted_and_recorded(databases, migrations_copy):
    """A database that applied the earlier text of an amended file upgrades cleanly."""
    url = databases.create()
    migrate.upgrade(url, migrations_copy)
    jobs = {m.name: m for m in migrate.load(migrations_copy)}["0020_jobs.sql"]
    [earlier] = jobs.amends
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "UPDATE schema_migrations SET checksum = %s WHERE filename = '0020_jobs.sql'", (earlier,)
        )
    assert migrate.upgrade(url, migrations_copy)[1] == []
    with psycopg.connect(url) as conn:
        recorded = conn.execute(
            "SELECT checksum FROM schema_migrations WHERE filename = '0020_jobs.sql'"
        ).fetchone()[0]
    assert recorded == jobs.checksum
    # Any other earlier text is still an edit.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE schema_migrations SET checksum = 'f00d' WHERE filename = '0020_jobs.sql'")
    with pytest.raises(migrate.MigrationError, match="0020_jobs.sql was edited"):
        migrate.upgrade(url, migrations_copy)


def test_cli_refuses_an_edited_migration_with_the_file_name(databases, migrations_copy, tmp_path):
    url = databases.create()
    migrate.upgrade(url, migrations_copy)
    core = migrations_copy / "0001_core.sql"
    core.write_text(core.read_text().replace("CREATE TYPE metric", "CREATE TYPE  metric"))
    env = {
        "VAGUS_DATABASE_URL": url,
        "VAGUS_MIGRATIONS_DIR": str(migrations_copy),
        "VAGUS_DATA_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 2
    assert "0001_core.sql" in result.stderr and "edited" in result.stderr


def test_two_processes_upgrading_at_once_migrate_once(databases):
    url = databases.create()
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(migrate.upgrade(url, REPO_ROOT / "migrations")[1])
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    applied_lists = sorted(results, key=len)
    assert applied_lists[0] == [] and applied_lists[1] == []
    assert "0001_core.sql" in applied_lists[2]
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT count(*), count(DISTINCT filename) FROM schema_migrations").fetchone()
    assert rows[0] == rows[1] == len(applied_lists[2])


def test_no_transaction_file_runs_statement_by_statement(databases, tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "0001_t.sql").write_text("CREATE TABLE t (x int);\n")
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction block.
    (folder / "0002_idx.sql").write_text(
        "-- vagus: no-transaction\nCREATE INDEX CONCURRENTLY t_x ON t (x);\nINSERT INTO t VALUES (1);\n"
    )
    url = databases.create()
    _, applied = migrate.upgrade(url, folder)
    assert applied == ["0001_t.sql", "0002_idx.sql"]
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]


def test_a_transactional_file_that_fails_leaves_nothing(databases, tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "0001_bad.sql").write_text("CREATE TABLE a (x int);\nSELECT no_such_function();\n")
    url = databases.create()
    with pytest.raises(migrate.MigrationError, match="0001_bad.sql"):
        migrate.upgrade(url, folder)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT to_regclass('a')").fetchone()[0] is None
        assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == 0


def test_headers_are_parsed_and_unknown_options_refused(tmp_path):
    (tmp_path / "0001_x.sql").write_text("-- vagus: tiers=timescale\n-- vagus: no-transaction\nSELECT 1;\n")
    [m] = migrate.load(tmp_path)
    assert m.tiers == ("timescale",) and not m.transactional
    assert m.applies_to("timescale") and not m.applies_to("postgres")
    (tmp_path / "0002_y.sql").write_text("-- vagus: sometimes\nSELECT 1;\n")
    with pytest.raises(migrate.MigrationError, match="unknown header option"):
        migrate.load(tmp_path)


def test_statement_splitting_keeps_multiline_statements():
    sql = "-- c\nCREATE VIEW v AS\nSELECT 1;\n\nSELECT add_policy('v',\n  x => 1);\n"
    assert migrate.split_statements(sql) == [
        "CREATE VIEW v AS\nSELECT 1",
        "SELECT add_policy('v',\n  x => 1)",
    ]
