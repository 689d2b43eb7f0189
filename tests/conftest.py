"""Fixtures shared by every test package.

Database tests run against a real PostgreSQL: the server named by
``VAGUS_TEST_DATABASE_URL`` if set, otherwise an embedded server started in a
temporary folder. Either way each test session gets a fresh database (created
here, migrated, dropped at the end).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

#: Shared fixtures that live beside the builders (``vagus_in_process``).
pytest_plugins = ["tests.support.cli"]

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``: real third-party wearable files, present only in this workplace."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"real third-party files not available: {SHARED_DATA} is absent "
            "(a checkout outside the Vagus workplace)"
        )
    return SHARED_DATA


@pytest.fixture(scope="session")
def server_url() -> str:
    """A PostgreSQL server to create test databases on."""
    url = os.environ.get("VAGUS_TEST_DATABASE_URL")
    if url:
        return url
    from service.core.db import embedded

    # Not under pytest's basetemp: another pytest run may prune that while this one runs.
    pgdata = Path(tempfile.mkdtemp(prefix="vagus-test-pg-"))
    return embedded.start(pgdata, delete_on_exit=True)


class DatabaseFactory:
    """Creates fresh, empty databases on the test server and drops them afterwards."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.created: list[str] = []

    def create(self) -> str:
        name = f"vagus_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.server_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return make_conninfo(self.server_url, dbname=name)

    def drop_all(self) -> None:
        with psycopg.connect(self.server_url, autocommit=True) as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def databases(server_url: str) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(server_url)
    yield factory
    factory.drop_all()


@pytest.fixture(scope="session")
def database_url(databases: DatabaseFactory) -> str:
    """A fresh database for this test session with every migration applied."""
    from service.core.db import migrate

    url = databases.create()
    migrate.upgrade(url, REPO_ROOT / "migrations")
    return url


@pytest.fixture(scope="session")
def database_tier(database_url: str) -> str:
    """``postgres``, ``apache`` or ``timescale``: what the test server offers (tests/tiers.py)."""
    from tests.support.tiers import server_tier

    return server_tier(database_url)


@pytest.fixture
def tier(database_tier: str, record_property) -> str:
    """The tier, recorded as this test's ``tier`` property: a tier-dependent test says so."""
    record_property("tier", database_tier)
    return database_tier


@pytest.fixture(scope="session")
def pool(database_url: str):
    from service.core.db.connect import create_pool

    pool = create_pool(database_url, 6)
    yield pool
    pool.close()


@pytest.fixture
def conn(pool) -> Iterator[psycopg.Connection]:
    """A connection in a transaction that is rolled back after the test.

    It acts in the system context (row-level security bypassed on purpose):
    repository tests set up several people's rows.
    """
    from service.core.db import rls

    with pool.connection() as connection:
        with connection.transaction(force_rollback=True):
            rls.act_as_system(connection)
            yield connection


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory):
    from service.core.settings import Settings

    return Settings(
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("vagus-data"),
        migrations_dir=REPO_ROOT / "migrations",
        max_upload_bytes=5_000_000,
        # The tests' webhook receivers listen on this host.
        webhook_allow_networks="127.0.0.0/8",
    )


@pytest.fixture(scope="session")
def app(settings, pool):
    from service.app import create_app

    return create_app(settings, pool=pool)


@pytest.fixture(scope="session")
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as test_client:
        yield test_client


def describe_server(url: str) -> str:
    """Host or socket and database of a URL, for messages."""
    info = conninfo_to_dict(url)
    return f"{info.get('host', 'localhost')}/{info.get('dbname', '')}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs a database, so CI can rerun just those on another server."""
    for item in items:
        if "server_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.database)


# The job tests' isolated database (module-scoped; see tests/support/jobs.py).
from tests.support.jobs import jobs_pool, jobs_settings, jobs_url  # noqa: E402, F401


@pytest.fixture(scope="session", autouse=True)
def _job_kinds() -> None:
    """The product's job kinds, installed as every process that queues jobs does."""
    from service import tasks

    tasks.install()
