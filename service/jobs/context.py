"""The database identity background work runs under.

Pooled connections run as the non-owner role that row-level security
restricts (``service.core.db.rls``), and background work has no request caller, so
every connection a job, the worker or the scheduler borrows says deliberately
whom it acts for: the system (queue bookkeeping, sweeps across people) or one
person (work on that person's data).
"""

from __future__ import annotations

from service.core.db import rls
from service.core.db.types import Conn


def job_connection_setup(conn: Conn, person_id: str | None = None) -> None:
    """Act for ``person_id`` when given, else as the system (transaction-local settings)."""
    if person_id is None:
        rls.act_as_system(conn)
    else:
        rls.act_for_person(conn, person_id)
