"""``vagus export``: a person's stored samples as CSV (or NDJSON), for a spreadsheet or a script."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from connectors.base import METRICS
from service.access.repository import persons
from service.core import localtime
from service.core.cli import AddCommand, CliError, operator_pool, parse_time, parse_uuid
from service.core.db import rls
from service.core.http import csvout
from service.core.settings import Settings
from service.observations import repository as observations
from service.observations.schemas import Observation

CSV_COLUMNS = list(Observation.model_fields)


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    person_id = parse_uuid(args.person, "person")
    with operator_pool(settings) as pool, rls.system_connection(pool) as conn:
        person = persons.get(conn, person_id)
        if person is None:
            raise CliError(f"no person {person_id}")
        # Offset-less times are the person's wall clock, as on the API.
        bounds = []
        for flag, text in (("--from", args.from_), ("--to", args.to)):
            value = parse_time(text, flag)
            try:
                bounds.append(None if value is None else localtime.to_utc(value, person["tz"]).utc)
            except localtime.LocalTimeError as exc:
                raise CliError(f"{flag}: {exc}") from None
        rows = observations.stream(
            conn, person_id=person_id, metric=args.metric, start=bounds[0], end=bounds[1]
        )
        with _output(args.output) as out:
            if args.csv:
                for chunk in csvout.lines(CSV_COLUMNS, rows):
                    out.write(chunk)
            else:
                for row in rows:
                    out.write(json.dumps({**row, "ts": localtime.iso(row["ts"])}) + "\n")
    return 0


@contextlib.contextmanager
def _output(path: str | None) -> Any:
    if path is None or path == "-":
        yield sys.stdout
        return
    # newline="" keeps the CSV writer's CRLF line ends as written.
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        yield handle


def register(commands: Any, add: AddCommand) -> None:
    p = add(
        commands,
        "export",
        cmd_export,
        "a person's samples as CSV (--csv, with a header row) or NDJSON lines",
        json_flag=False,
    )
    p.add_argument("--person", required=True, help="person id")
    p.add_argument("--csv", action="store_true", help="CSV with a header row (default: NDJSON)")
    p.add_argument(
        "--metric", choices=METRICS, metavar="METRIC", help="only this metric, e.g. heart_rate or rr_interval"
    )
    p.add_argument("--from", dest="from_", help="inclusive; ISO 8601, no offset = person's zone")
    p.add_argument("--to", help="exclusive; like --from")
    p.add_argument("-o", "--output", help="write to this file (default: standard output)")
