"""``vagus import``: an export file or folder, through the one import pipeline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from service.access.repository import persons
from service.core.cli import (
    EXIT_FAILED,
    AddCommand,
    CliError,
    emit,
    operator_pool,
    parse_time,
    parse_uuid,
)
from service.core.db import rls
from service.core.db.types import returned
from service.core.settings import Settings
from service.imports import repository as imports
from service.imports.service import register as register_import
from service.imports.service import run_import


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    path = Path(args.path)
    if not path.exists():
        raise CliError(f"{path}: no such file or folder")
    start = parse_time(args.start, "--start")
    person_id = parse_uuid(args.person, "person")
    with operator_pool(settings) as pool:
        with rls.system_connection(pool) as conn:
            if persons.get(conn, person_id) is None:
                raise CliError(f"no person {person_id}")
            row = register_import(
                conn, person_id=person_id, file_name=path.name, stored_path=path.resolve(), start_hint=start
            )
        bar = _ProgressBar(path) if sys.stderr.isatty() and not args.quiet else None
        outcome = run_import(
            pool,
            row["id"],
            path,
            format_name=args.format,
            start=start,
            on_progress=bar.update if bar else None,
        )
        if bar:
            bar.close()
        with rls.system_connection(pool) as conn:
            record = returned(imports.get(conn, row["id"]))
    payload = {
        "import_id": outcome.import_id,
        "status": outcome.status,
        "read": outcome.read,
        "inserted": outcome.inserted,
        "duplicates": outcome.duplicates,
        "rejected": outcome.rejected,
        "rejected_reasons": outcome.rejected_reasons,
        "error": outcome.error,
        "connector": record["connector"],
        "sha256": record["sha256"],
    }
    human = (
        f"import {outcome.import_id}: {outcome.status}; read {outcome.read}, inserted "
        f"{outcome.inserted}, duplicates {outcome.duplicates}, rejected {outcome.rejected}"
        + _reasons("rejected", outcome.rejected_reasons)
        + _reasons("skipped", record["skipped"] or {})
        + (f"\nerror: {outcome.error}" if outcome.error else "")
    )
    emit(args, payload, human)
    return 0 if outcome.status == "completed" else EXIT_FAILED


def _reasons(what: str, counts: dict[str, int]) -> str:
    """One indented line per reason, most frequent first (empty without any)."""
    lines = [
        f"\n  {what} {count}: {reason}"
        for reason, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    return "".join(lines)


class _ProgressBar:
    """A one-line progress bar on stderr (only when stderr is a terminal)."""

    def __init__(self, path: Path) -> None:
        self.name = path.name

    def update(self, bytes_read: int, bytes_total: int | None) -> None:
        if bytes_total:
            share = min(bytes_read / bytes_total, 1.0)
            filled = int(share * 30)
            sys.stderr.write(
                f"\r{self.name}: [{'#' * filled}{'.' * (30 - filled)}] "
                f"{share:6.1%} of {bytes_total / 1e6:.1f} MB"
            )
        else:
            sys.stderr.write(f"\r{self.name}: {bytes_read / 1e6:.1f} MB")
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")


def register(commands: Any, add: AddCommand) -> None:
    p = add(commands, "import", cmd_import, "import an export file or folder")
    p.add_argument("path")
    p.add_argument("--person", required=True, help="person id")
    p.add_argument("--format", help="connector name; default: detect from content")
    p.add_argument("--start", help="recording start (ISO 8601) for files without times")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
