"""The ``vagus`` command line: each domain adds its own commands here.

A stable contract for scripts: with ``--json`` each command prints exactly one
JSON object on stdout (human messages go to stderr). Exit status 0 on success,
1 when the work failed (a failed import), 2 for usage or configuration errors.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from service import __version__, tasks
from service.access import cli as access_cli
from service.care import cli as care_cli
from service.cli import operator
from service.core.cli import EXIT_USAGE, CliError, add_command
from service.core.db import migrate
from service.core.settings import get_settings
from service.evidence import cli as evidence_cli
from service.imports import cli as imports_cli
from service.observations import cli as observations_cli
from service.trials import cli as trials_cli

#: Each module's ``register(commands, add)`` adds its commands, in help order.
COMMANDS = (operator, access_cli, imports_cli, observations_cli, care_cli, evidence_cli, trials_cli)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vagus",
        description="Vagus: what a massage session does to a person's body, "
        "measured by the wearable they already wear. With --json every command prints one "
        "JSON object.",
    )
    parser.add_argument("--version", action="version", version=f"vagus {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    commands = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        module.register(commands, add_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    tasks.install()
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return args.handler(args, get_settings())
    except (CliError, migrate.MigrationError) as exc:
        print(f"vagus: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
