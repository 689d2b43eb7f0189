"""The ``vagus`` command line.

A stable contract for scripts: with ``--json`` each command prints exactly one
JSON object on stdout (human messages go to stderr). Exit status 0 on success,
1 when the work failed (a failed import), 2 for usage or configuration errors.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import signal
import sys
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from psycopg_pool import ConnectionPool

from . import auth
from .config import Settings, get_settings
from .db import connect, migrate
from .repositories import accounts, imports, persons

EXIT_FAILED = 1
EXIT_USAGE = 2


class CliError(Exception):
    """A problem to report on stderr with exit status 2."""


def _emit(args: argparse.Namespace, payload: dict[str, Any], human: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(payload, default=str))
    else:
        print(human)


def _url(settings: Settings) -> str:
    return connect.database_url(settings)


def _ready_url(settings: Settings) -> str:
    """The database URL with every migration applied (zero-setup for the embedded server)."""
    url = _url(settings)
    migrate.upgrade(url, settings.migrations_dir)
    return url


def _pool(settings: Settings, size: int = 2) -> ConnectionPool:
    return connect.create_pool(_ready_url(settings), size)


# --- db -------------------------------------------------------------------------------------

def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    tier, applied = migrate.upgrade(_url(settings), settings.migrations_dir)
    _emit(args, {"tier": tier, "applied": applied},
          f"tier {tier}: applied {len(applied)} migration(s)"
          + (": " + ", ".join(applied) if applied else ""))
    return 0


def cmd_db_status(args: argparse.Namespace, settings: Settings) -> int:
    status = migrate.status(_url(settings), settings.migrations_dir)
    _emit(args, {"tier": status.tier, "applied": status.applied, "pending": len(status.pending),
                 "pending_files": status.pending},
          f"tier {status.tier}; {len(status.applied)} applied, {len(status.pending)} pending"
          + (": " + ", ".join(status.pending) if status.pending else ""))
    return 0


# --- person and token -----------------------------------------------------------------------

def cmd_person_create(args: argparse.Namespace, settings: Settings) -> int:
    from .api.schemas import PersonCreate  # validates the zone like the API does

    try:
        body = PersonCreate(name=args.name, tz=args.tz)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    with _pool(settings) as pool, pool.connection() as conn:
        person = persons.create(conn, name=body.name, tz=body.tz)
        accounts.patient_account(conn, str(person["id"]))
    _emit(args, {"id": str(person["id"]), "name": person["name"], "tz": person["tz"]},
          f"person {person['id']} ({person['name']}, {person['tz']})")
    return 0


def cmd_token_create(args: argparse.Namespace, settings: Settings) -> int:
    if args.role == "patient" and not args.person:
        raise CliError("a patient token needs --person ID")
    if args.role == "admin" and args.person:
        raise CliError("an admin token acts for no person: drop --person")
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=args.expires_days)
               if args.expires_days else None)
    with _pool(settings) as pool, pool.connection() as conn:
        if args.role == "patient":
            try:
                account = accounts.patient_account(conn, _person_id(args.person))
            except LookupError as exc:
                raise CliError(str(exc)) from None
        else:
            account = accounts.create(conn, role="admin", name=args.name or "admin")
        token, row = auth.issue_token(conn, account_id=str(account["id"]), name=args.name,
                                      expires_at=expires)
    _emit(args, {"token": token, "token_id": row["id"], "role": args.role,
                 "account_id": str(account["id"]), "person_id": args.person,
                 "expires_at": row["expires_at"]},
          f"{token}\n(shown once: store it now; role {args.role})")
    return 0


# --- import ---------------------------------------------------------------------------------

def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from .ingest import run_import

    path = Path(args.path)
    if not path.exists():
        raise CliError(f"{path}: no such file or folder")
    start = _parse_start(args.start)
    person_id = _person_id(args.person)
    with _pool(settings) as pool:
        with pool.connection() as conn:
            if persons.get(conn, person_id) is None:
                raise CliError(f"no person {person_id}")
            row = imports.create(conn, person_id=person_id, file_name=path.name,
                                 stored_path=str(path.resolve()), start_hint=start)
        bar = _ProgressBar(path) if sys.stderr.isatty() and not args.quiet else None
        outcome = run_import(pool, row["id"], path, format_name=args.format, start=start,
                             on_progress=bar.update if bar else None)
        if bar:
            bar.close()
        with pool.connection() as conn:
            record = imports.get(conn, row["id"])
    payload = {"import_id": outcome.import_id, "status": outcome.status, "read": outcome.read,
               "inserted": outcome.inserted, "duplicates": outcome.duplicates,
               "rejected": outcome.rejected, "rejected_reasons": outcome.rejected_reasons,
               "error": outcome.error, "connector": record["connector"],
               "sha256": record["sha256"]}
    human = (f"import {outcome.import_id}: {outcome.status}; read {outcome.read}, inserted "
             f"{outcome.inserted}, duplicates {outcome.duplicates}, rejected {outcome.rejected}"
             + (f"\nerror: {outcome.error}" if outcome.error else ""))
    _emit(args, payload, human)
    return 0 if outcome.status == "completed" else EXIT_FAILED


def _person_id(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise CliError(f"{text!r} is not a person id (a UUID)") from None


def _parse_start(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CliError(f"--start {text!r} is not an ISO 8601 time") from None


class _ProgressBar:
    """A one-line progress bar on stderr (only when stderr is a terminal)."""

    def __init__(self, path: Path) -> None:
        self.name = path.name

    def update(self, bytes_read: int, bytes_total: int | None) -> None:
        if bytes_total:
            share = min(bytes_read / bytes_total, 1.0)
            filled = int(share * 30)
            sys.stderr.write(f"\r{self.name}: [{'#' * filled}{'.' * (30 - filled)}] "
                             f"{share:6.1%} of {bytes_total / 1e6:.1f} MB")
        else:
            sys.stderr.write(f"\r{self.name}: {bytes_read / 1e6:.1f} MB")
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")


# --- serve and demo -------------------------------------------------------------------------

def _serve(settings: Settings, pool: ConnectionPool | None = None) -> None:
    import uvicorn

    from .api.app import create_app

    # uvicorn re-raises SIGTERM after its graceful shutdown; with the default
    # action that would end the process before exit handlers run, leaving the
    # embedded PostgreSQL running. Turn it into a normal exit instead.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.run(create_app(settings, pool=pool), host=settings.host, port=settings.port,
                log_level=settings.log_level.lower())


def _apply_host_port(args: argparse.Namespace, settings: Settings) -> Settings:
    updates = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    return settings.model_copy(update=updates) if updates else settings


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    settings = _apply_host_port(args, settings)
    _ready_url(settings)
    print(f"Vagus API on {settings.base_url} (OpenAPI: {settings.base_url}/docs)", file=sys.stderr)
    _serve(settings)
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from . import demo

    settings = _apply_host_port(args, settings)
    pool = _pool(settings, size=settings.pool_size)
    print("Loading demo data (first run takes a little longer)...", file=sys.stderr)
    loaded = demo.load(pool, settings.data_dir)
    inserted = sum(o.inserted for o in loaded.imports)
    payload = {"url": settings.base_url, "person_id": loaded.person_id,
               "patient_token": loaded.patient_token, "admin_token": loaded.admin_token,
               "imports": [o.import_id for o in loaded.imports], "inserted": inserted}
    base = settings.base_url
    human = f"""
Vagus demo is ready.
  URL:           {base}   (interactive API docs: {base}/docs)
  person:        {loaded.person_id}
  patient token: {loaded.patient_token}
  admin token:   {loaded.admin_token}
  imported:      {len(loaded.imports)} files, {inserted} new rows

Paste these into another terminal to follow the README's tour:
export VAGUS_URL={base}
export VAGUS_PERSON={loaded.person_id}
export VAGUS_TOKEN={loaded.patient_token}
export VAGUS_ADMIN_TOKEN={loaded.admin_token}
"""
    _emit(args, payload, human)
    sys.stdout.flush()
    if args.no_serve:
        pool.close()
        return 0
    _serve(settings, pool=pool)
    return 0


# --- parser ---------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vagus", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    commands = parser.add_subparsers(dest="command", required=True)

    def add(sub, name: str, handler: Callable, help_: str, *, json_flag: bool = True):
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(handler=handler)
        if json_flag:
            p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
        return p

    db = commands.add_parser("db", help="database migrations").add_subparsers(dest="db",
                                                                               required=True)
    add(db, "upgrade", cmd_db_upgrade, "apply pending migrations")
    add(db, "status", cmd_db_status, "show the tier and pending migrations")

    person = commands.add_parser("person", help="people").add_subparsers(dest="person_cmd",
                                                                         required=True)
    p = add(person, "create", cmd_person_create, "create a person")
    p.add_argument("--name", required=True)
    p.add_argument("--tz", default="UTC", help="IANA time zone, e.g. Europe/Berlin")

    token = commands.add_parser("token", help="API tokens").add_subparsers(dest="token_cmd",
                                                                           required=True)
    p = add(token, "create", cmd_token_create, "create an API token (shown once)")
    p.add_argument("--role", required=True, choices=["admin", "patient"])
    p.add_argument("--person", help="the person a patient token acts for")
    p.add_argument("--name", help="a label for the token")
    p.add_argument("--expires-days", type=int, help="expire after this many days")

    p = add(commands, "import", cmd_import, "import an export file or folder")
    p.add_argument("path")
    p.add_argument("--person", required=True, help="person id")
    p.add_argument("--format", help="connector name; default: detect from content")
    p.add_argument("--start", help="recording start (ISO 8601) for files without times")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    for name, handler, help_ in (("serve", cmd_serve, "run the API"),
                                 ("demo", cmd_demo, "load demo data, then run the API")):
        p = add(commands, name, handler, help_, json_flag=(name == "demo"))
        p.add_argument("--host")
        p.add_argument("--port", type=int)
        if name == "demo":
            p.add_argument("--no-serve", action="store_true", help="load the data and exit")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        return args.handler(args, get_settings())
    except (CliError, migrate.MigrationError) as exc:
        print(f"vagus: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
