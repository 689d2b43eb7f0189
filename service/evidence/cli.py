"""``vagus evidence``: a person's per-claim evidence, the same object as the API's."""

from __future__ import annotations

import argparse
from typing import Any

from service.access.repository import persons
from service.analysis.schemas import PersonEvidence
from service.analysis.session_response import WindowConfig, json_ready
from service.core.cli import AddCommand, CliError, emit, operator_pool, parse_uuid
from service.core.db import rls
from service.core.settings import Settings
from service.evidence.person import person_evidence


def cmd_evidence(args: argparse.Namespace, settings: Settings) -> int:
    with operator_pool(settings) as pool, rls.system_connection(pool) as conn:
        person = persons.get(conn, parse_uuid(args.person, "person"))
        if person is None:
            raise CliError(f"no person {args.person}")
        # The same object GET /v1/persons/{id}/evidence returns.
        evidence = person_evidence(conn, person, WindowConfig.from_settings(settings))
        body = PersonEvidence(**json_ready(evidence)).model_dump(mode="json")
    lines = [body["summary"], ""]
    for claim in body["claims"]:
        estimate = (
            ""
            if claim["estimate"] is None
            else (
                f" estimate {claim['estimate']:+.3g} [{claim['ci_low']:+.3g}, {claim['ci_high']:+.3g}]"
                if claim["ci_low"] is not None
                else f" estimate {claim['estimate']:+.3g}"
            )
        )
        lines.append(
            f"{claim['claim']:<16} {claim['verdict']:<18} {claim['evidence_kind']:<12}"
            f" n={claim['n_sessions']}{estimate}"
        )
    emit(args, body, "\n".join(lines))
    return 0


def register(commands: Any, add: AddCommand) -> None:
    p = add(commands, "evidence", cmd_evidence, "per-claim evidence for one person")
    p.add_argument("--person", required=True, help="person id")
