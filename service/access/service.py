"""What the access domain does beyond single rows: editing a person."""

from __future__ import annotations

from typing import Any

from service.access.repository import persons
from service.core.db.types import Conn
from service.jobs import repository as jobs


def edit_person(
    conn: Conn, person_id: str, *, name: str | None = None, tz: str | None = None
) -> dict[str, Any] | None:
    """Rename a person and/or move them to another zone; None when there is no such person.

    A new zone changes what counts as a night, a local morning and a control day, so the
    stored session responses are dropped and the person is queued for recompute.
    """
    before = persons.get(conn, person_id)
    if before is None:
        return None
    after = persons.update(conn, person_id, name=name, tz=tz)
    if after is not None and after["tz"] != before["tz"]:
        jobs.mark_person_rezoned(conn, person_id)
    return after
