"""Small builders for service tests: people, tokens, files."""

from __future__ import annotations

from pathlib import Path

from service.access import auth
from service.access.repository import accounts, persons
from service.core.db.rls import system_connection


def new_person(pool, name: str = "Test person", tz: str = "Europe/Berlin") -> str:
    with system_connection(pool) as conn:
        person = persons.create(conn, name=name, tz=tz)
        return str(person["id"])


def patient_token(pool, person_id: str) -> str:
    with system_connection(pool) as conn:
        account = accounts.patient_account(conn, person_id)
        token, _ = auth.issue_token(conn, account_id=str(account["id"]))
        return token


def admin_token(pool) -> str:
    with system_connection(pool) as conn:
        account = accounts.create(conn, role="admin", name="test admin")
        token, _ = auth.issue_token(conn, account_id=str(account["id"]))
        return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def write_rr_text(
    path: Path, rr_ms: list[float] | None = None, n: int = 600, header: str | None = None
) -> Path:
    values = rr_ms if rr_ms is not None else [800 + (i % 9) * 12 for i in range(n)]
    lines = ([header] if header else []) + [f"{v:g}" for v in values]
    path.write_text("\n".join(lines) + "\n")
    return path


def import_file(pool, person_id: str, path: Path, **kwargs):
    """Run one import synchronously through the real ingest path; returns its outcome."""
    from service.imports import repository as imports
    from service.imports.service import run_import

    with system_connection(pool) as conn:
        row = imports.create(conn, person_id=person_id, file_name=path.name)
    outcome = run_import(pool, row["id"], path, **kwargs)
    assert outcome.status == "completed", outcome.error
    return outcome
