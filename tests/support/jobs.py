"""Fixtures and helpers for the job tests: an isolated database, polling, a TCP proxy.

The job tests get their own database so that workers running here never claim
jobs that other test modules queued on the shared one (and vice versa).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from service.core.db import migrate, rls
from service.core.db.connect import create_pool
from service.core.settings import Settings
from tests.conftest import REPO_ROOT

START = dt.datetime(2024, 5, 4, 7, 0, tzinfo=dt.UTC)


def wait_for(
    predicate: Callable[[], Any],
    *,
    timeout_s: float = 90.0,
    interval_s: float = 0.05,
    what: str = "condition",
) -> Any:
    """Poll until ``predicate()`` is truthy and return it; fail after a generous timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(interval_s)


@pytest.fixture(scope="module")
def jobs_url(databases) -> str:
    url = databases.create()
    migrate.upgrade(url, REPO_ROOT / "migrations")
    return url


@pytest.fixture(scope="module")
def jobs_pool(jobs_url: str) -> Iterator:
    pool = create_pool(jobs_url, 12)
    yield pool
    pool.close()


def job_settings(url: str, data_dir: Path, **overrides: Any) -> Settings:
    """Settings with short leases, polls and backoff (fast tests; nothing is timed)."""
    values: dict[str, Any] = {
        "database_url": url,
        "data_dir": data_dir,
        "migrations_dir": REPO_ROOT / "migrations",
        "job_lease_s": 2.0,
        "job_poll_s": 0.05,
        "job_retry_base_s": 0.1,
        "job_retry_max_s": 1.0,
        "scheduler_election_s": 0.2,
        "inbox": data_dir / "inbox",
        "webhook_timeout_s": 5.0,
        "webhook_allow_networks": "127.0.0.0/8",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="module")
def jobs_settings(jobs_url: str, tmp_path_factory) -> Settings:
    return job_settings(jobs_url, tmp_path_factory.mktemp("jobs-data"))


def sql(pool, query: str, params: Any = None) -> list[dict[str, Any]]:
    """Run one statement in the system context and return its rows (if any)."""
    with rls.system_connection(pool) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


def write_big_rr(path: Path, beats: int) -> Path:
    """A plain RR file of ``beats`` lines (about 4.3 bytes each), distinct times."""
    with path.open("w") as out:
        out.write("\n".join(str(700 + (i * 7919) % 400) for i in range(beats)))
        out.write("\n")
    return path


def queue_import(pool, person_id: str, path: Path, start: dt.datetime = START) -> tuple[int, int]:
    """An import row for ``path`` and its queued job, as the upload endpoint makes them."""
    from service.imports import repository as imports
    from service.jobs.queue import enqueue

    with rls.system_connection(pool) as conn:
        row = imports.create(
            conn, person_id=person_id, file_name=path.name, stored_path=str(path), start_hint=start
        )
        job = enqueue(conn, "import", {"import_id": row["id"], "start": start.isoformat()})
    return row["id"], job["id"]


class TcpProxy:
    """A TCP forwarder in front of PostgreSQL that can be cut and restored (an outage)."""

    def __init__(self, server_url: str) -> None:
        info = conninfo_to_dict(server_url)
        host = info.get("host") or "localhost"
        port = int(info.get("port") or 5432)
        self.upstream: Any = os.path.join(host, f".s.PGSQL.{port}") if host.startswith("/") else (host, port)
        self.port = _free_port()
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def url(self, database_url: str) -> str:
        return make_conninfo(database_url, host="127.0.0.1", port=str(self.port))

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Refuse new connections and break every open one, as a server restart does."""
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() on Linux
            except OSError:
                pass
            listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if self._listener is not listener:  # cut while accepting
                client.close()
                return
            family = socket.AF_UNIX if isinstance(self.upstream, str) else socket.AF_INET
            server = socket.socket(family, socket.SOCK_STREAM)
            try:
                server.connect(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=_pump, args=(a, b), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
