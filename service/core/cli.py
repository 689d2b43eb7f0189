"""What every domain's ``vagus`` commands share: errors, output, the operator's pool, parsing.

A stable contract for scripts: with ``--json`` each command prints exactly one
JSON object on stdout (human messages go to stderr). Exit status 0 on success,
1 when the work failed (a failed import), 2 for usage or configuration errors.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from service.core.db import connect, migrate
from service.core.db.types import Pool
from service.core.localtime import iso
from service.core.settings import Settings

EXIT_FAILED = 1
EXIT_USAGE = 2

Handler = Callable[[argparse.Namespace, Settings], int]


class CliError(Exception):
    """A problem to report on stderr with exit status 2."""


class AddCommand(Protocol):
    """Adds one command with its handler (and a ``--json`` flag unless told otherwise)."""

    def __call__(
        self, group: Any, name: str, handler: Handler, help_: str, *, json_flag: bool = True
    ) -> argparse.ArgumentParser: ...


def add_command(
    group: Any, name: str, handler: Handler, help_: str, *, json_flag: bool = True
) -> argparse.ArgumentParser:
    parser = group.add_parser(name, help=help_, description=help_)
    parser.set_defaults(handler=handler)
    if json_flag:
        parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    return parser


def add_group(commands: Any, name: str, help_: str) -> Any:
    """A command with sub-commands (``vagus session add``)."""
    return commands.add_parser(name, help=help_, description=help_).add_subparsers(
        dest=f"{name}_cmd", required=True
    )


def emit(args: argparse.Namespace, payload: dict[str, Any], human: str) -> None:
    """One JSON object with ``--json``, else the human text."""
    if getattr(args, "json", False):
        print(json.dumps(payload, default=json_default))
    else:
        print(human)


def json_default(value: Any) -> Any:
    """JSON for what ``json`` cannot write: times as the API writes them, anything else as text."""
    if isinstance(value, dt.datetime | dt.date):
        return iso(value)
    return str(value)


def warn(message: str) -> None:
    """A note for the person at the terminal, on stderr (stdout stays one JSON object)."""
    print(f"vagus: warning: {message}", file=sys.stderr)


def ready_url(settings: Settings) -> str:
    """The database URL with every migration applied (zero-setup for the embedded server)."""
    url = connect.database_url(settings)
    migrate.upgrade(url, settings.migrations_dir)
    return url


def operator_pool(settings: Settings, size: int = 2, *, system: bool = True) -> Pool:
    """The operator's pool: CLI commands act in the system context (every person)."""
    return connect.create_pool(ready_url(settings), size, system=system)


def parse_uuid(text: str, what: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise CliError(f"{text!r} is not a {what} id (a UUID)") from None


def parse_time(text: str | None, flag: str) -> dt.datetime | None:
    """An ISO 8601 time from a flag (``Z`` accepted); naive times stay naive."""
    if text is None:
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CliError(f"{flag} {text!r} is not an ISO 8601 time") from None
