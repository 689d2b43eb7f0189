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

from service import tasks
from service.access import auth
from service.core.settings import Settings, get_settings
from service.core.db import connect, migrate, rls
from service.access.repository import accounts, persons
from service.imports import repository as imports

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


def _pool(settings: Settings, size: int = 2, *, system: bool = True) -> ConnectionPool:
    """The operator's pool: CLI commands act in the system context (every person)."""
    return connect.create_pool(_ready_url(settings), size, system=system)


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
    from service.access.schemas import PersonCreate  # validates the zone like the API does

    try:
        body = PersonCreate(name=args.name, tz=args.tz)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    with _pool(settings) as pool, rls.system_connection(pool) as conn:
        person = persons.create(conn, name=body.name, tz=body.tz)
        accounts.patient_account(conn, str(person["id"]))
    _emit(args, {"id": str(person["id"]), "name": person["name"], "tz": person["tz"]},
          f"person {person['id']} ({person['name']}, {person['tz']})")
    return 0


def cmd_token_create(args: argparse.Namespace, settings: Settings) -> int:
    if args.role == "patient" and not args.person:
        raise CliError("a patient token needs --person ID")
    if args.role != "patient" and args.person:
        raise CliError(f"a {args.role} token acts for no single person: drop --person "
                       "(the patient grants it access)")
    if args.account and args.role == "patient":
        raise CliError("a patient token belongs to the person's account: use --person")
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=args.expires_days)
               if args.expires_days else None)
    with _pool(settings) as pool, rls.system_connection(pool) as conn:
        if args.role == "patient":
            try:
                account = accounts.patient_account(conn, _person_id(args.person))
            except LookupError as exc:
                raise CliError(str(exc)) from None
        elif args.account:
            account = accounts.get(conn, _uuid(args.account, "account"))
            if account is None or account["role"] != args.role:
                raise CliError(f"no {args.role} account {args.account}")
        else:
            account = accounts.create(conn, role=args.role, name=args.name or args.role)
        token, row = auth.issue_token(conn, account_id=str(account["id"]), name=args.name,
                                      expires_at=expires)
    _emit(args, {"token": token, "token_id": row["id"], "role": args.role,
                 "account_id": str(account["id"]), "person_id": args.person,
                 "expires_at": row["expires_at"]},
          f"{token}\n(shown once: store it now; role {args.role})")
    return 0


def cmd_token_list(args: argparse.Namespace, settings: Settings) -> int:
    account = _uuid(args.account, "account") if args.account else None
    with _pool(settings) as pool, rls.system_connection(pool) as conn:
        rows = accounts.list_tokens(conn, account)
    tokens = [{**{k: (str(v) if k in ("account_id", "person_id") and v else v)
                  for k, v in row.items()},
               "state": _token_state(row)} for row in rows]
    human = "\n".join(f"{t['id']:>5}  {t['prefix']}...  {t['role']:<9} {t['state']:<8} "
                      f"{t['account_name']}" + (f" ({t['name']})" if t["name"] else "")
                      for t in tokens) or "no tokens"
    _emit(args, {"tokens": tokens}, human)
    return 0


def _token_state(row: dict[str, Any]) -> str:
    if row["revoked_at"] is not None:
        return "revoked"
    if row["expires_at"] is not None and row["expires_at"] <= dt.datetime.now(dt.UTC):
        return "expired"
    return "live"


def cmd_token_revoke(args: argparse.Namespace, settings: Settings) -> int:
    with _pool(settings) as pool, rls.system_connection(pool) as conn:
        row = accounts.revoke_token(conn, args.token_id)
    if row is None:
        raise CliError(f"no live token {args.token_id}")
    _emit(args, {"token_id": args.token_id, "revoked": True}, f"token {args.token_id} revoked")
    return 0


def cmd_token_rotate(args: argparse.Namespace, settings: Settings) -> int:
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=args.expires_days)
               if args.expires_days else None)
    with _pool(settings) as pool, rls.system_connection(pool) as conn:
        rotated = auth.rotate_token(conn, args.token_id, expires_at=expires)
    if rotated is None:
        raise CliError(f"no live token {args.token_id}")
    token, row = rotated
    _emit(args, {"token": token, "token_id": row["id"], "replaces": args.token_id,
                 "account_id": str(row["account_id"]), "expires_at": row["expires_at"]},
          f"{token}\n(shown once: store it now; token {args.token_id} is revoked)")
    return 0


def _uuid(text: str, what: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise CliError(f"{text!r} is not an {what} id (a UUID)") from None


# --- import ---------------------------------------------------------------------------------

def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from service.imports.service import register, run_import

    path = Path(args.path)
    if not path.exists():
        raise CliError(f"{path}: no such file or folder")
    start = _parse_start(args.start)
    person_id = _person_id(args.person)
    with _pool(settings) as pool:
        with rls.system_connection(pool) as conn:
            if persons.get(conn, person_id) is None:
                raise CliError(f"no person {person_id}")
            row = register(conn, person_id=person_id, file_name=path.name,
                           stored_path=path.resolve(), start_hint=start)
        bar = _ProgressBar(path) if sys.stderr.isatty() and not args.quiet else None
        outcome = run_import(pool, row["id"], path, format_name=args.format, start=start,
                             on_progress=bar.update if bar else None)
        if bar:
            bar.close()
        with rls.system_connection(pool) as conn:
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


# --- sessions, self-reports, lab results ----------------------------------------------------

#: Body field -> the flag that sets it, so refusals name what the user typed.
_CARE_FLAGS = {"start": "--start", "end": "--end", "modality": "--modality",
               "pressure": "--pressure", "therapist_id": "--therapist",
               "body_areas": "--body-areas", "notes": "--notes", "time": "--time",
               "kind": "--kind", "value": "--value", "session_id": "--session",
               "phase": "--phase", "analyte": "--analyte", "unit": "--unit",
               "specimen": "--specimen", "from": "--from", "to": "--to"}


def _care_body(model: type, **fields: Any) -> Any:
    """A validated request body built from flags (unset flags left out)."""
    from pydantic import ValidationError

    try:
        return model(**{k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(
            f"{_CARE_FLAGS.get(str(e['loc'][0]), e['loc'][0]) if e['loc'] else 'input'}: "
            f"{e['msg'].removeprefix('Value error, ')}" for e in exc.errors())
        raise CliError(problems) from None


def _care_person(conn, person: str) -> dict[str, Any]:
    row = persons.get(conn, _person_id(person))
    if row is None:
        raise CliError(f"no person {person}")
    return row


def _care_refused(exc: Any) -> CliError:
    return CliError(f"{_CARE_FLAGS.get(exc.field, exc.field)}: {exc.message}")


def _care_range(person: dict[str, Any], args: argparse.Namespace) -> tuple[Any, Any]:
    from service.care import service as care
    from service.core import localtime

    bounds = []
    for name in ("from", "to"):
        text = getattr(args, name.replace("from", "from_"))
        if text is None:
            bounds.append(None)
            continue
        try:
            bounds.append(care.resolve(localtime.parse(text), person["tz"], name, []))
        except (localtime.LocalTimeError, care.CareError) as exc:
            raise CliError(f"--{name}: {getattr(exc, 'message', exc)}") from None
    return bounds[0], bounds[1]


def cmd_session_add(args: argparse.Namespace, settings: Settings) -> int:
    from service.care import service as care
    from service.care.schemas import Session, SessionCreate

    body = _care_body(SessionCreate, start=args.start, end=args.end, modality=args.modality,
                      pressure=args.pressure, therapist_id=args.therapist,
                      body_areas=args.body_areas, notes=args.notes)
    with _pool(settings) as pool, rls.system_connection(pool) as conn:
        person = _care_person(conn, args.person)
        try:
            out = Session(**care.add_session(conn, person, body)).model_dump(mode="json")
        except care.CareError as exc:
            raise _care_refused(exc) from None
    _emit(args, out, f"session {out['id']}: {out['start_local']} to {out['end_local']}, "
          f"{out['modality']}" + "".join(f"\nwarning: {w}" for w in out["warnings"]))
    return 0


def cmd_session_list(args: argparse.Namespace, settings: Settings) -> int:
    from service.care import service as care
    from service.care.schemas import Session
    from service.care.repository import sessions

    with _pool(settings) as pool, rls.system_connection(pool) as conn:
        person = _care_person(conn, args.person)
        start, end = _care_range(person, args)
        rows = sessions.in_range(conn, person_id=str(person["id"]), start=start, end=end)
        items = [Session(**care.session_out(r, person["tz"])).model_dump(mode="json")
                 for r in rows]
    _emit(args, {"sessions": items, "count": len(items)},
          "\n".join(f"{s['id']}\t{s['start_local']}\t{s['duration_minutes']:g} min\t"
                    f"{s['modality']}\t{s['pressure'] or '-'}" for s in items) or "no sessions")
    return 0


def cmd_session_delete(args: argparse.Namespace, settings: Settings) -> int:
    from service.care.repository import sessions

    with _pool(settings) as pool, rls.system_connection(pool) as conn:
        if not sessions.delete(conn, args.id):
            raise CliError(f"no session {args.id}")
    _emit(args, {"id": args.id, "deleted": True}, f"session {args.id} deleted")
    return 0


def cmd_session_edit(args: argparse.Namespace, settings: Settings) -> int:
    from service.care import service as care
    from service.care.schemas import Session, SessionUpdate
    from service.care.repository import sessions

    body = _care_body(SessionUpdate, start=args.start, end=args.end, modality=args.modality,
                      pressure=args.pressure, therapist_id=args.therapist,
                      body_areas=args.body_areas, notes=args.notes)
    with _pool(settings) as pool, rls.system_connection(pool) as conn:
        current = sessions.get(conn, args.id)
        if current is None:
            raise CliError(f"no session {args.id}")
        person = _care_person(conn, str(current["person_id"]))
        try:
            out = Session(**care.edit_session(conn, person, current, body)).model_dump(mode="json")
        except care.CareError as exc:
            raise _care_refused(exc) from None
    _emit(args, out, f"session {out['id']}: {out['start_local']} to {out['end_local']}, "
          f"{out['modality']}, {out['pressure'] or '-'}"
          + "".join(f"\nwarning: {w}" for w in out["warnings"]))
    return 0


def cmd_session_show(args: argparse.Namespace, settings: Settings) -> int:
    from service.care import service as care
    from service.care.schemas import Session
    from service.care.repository import sessions

    with _pool(settings) as pool, rls.system_connection(pool) as conn:
        row = sessions.get(conn, args.id)
        if row is None:
            raise CliError(f"no session {args.id}")
        person = _care_person(conn, str(row["person_id"]))
        out = Session(**care.session_out(row, person["tz"])).model_dump(mode="json")
    _emit(args, out, json.dumps(out, indent=2))
    return 0


def cmd_report_add(args: argparse.Namespace, settings: Settings) -> int:
    from service.care import service as care
    from service.care.schemas import SelfReport, SelfReportCreate

    body = _care_body(SelfReportCreate, time=args.time, kind=args.kind, value=args.value,
                      session_id=args.session, phase=args.phase)
    with _pool(settings) as pool, rls.system_connection(pool) as conn:
        person = _care_person(conn, args.person)
        try:
            out = SelfReport(**care.add_report(conn, person, body)).model_dump(mode="json")
        except care.CareError as exc:
            raise _care_refused(exc) from None
    _emit(args, out, f"self-report {out['id']}: {out['kind']} {out['value']:g} at "
          f"{out['time_local']}" + "".join(f"\nwarning: {w}" for w in out["warnings"]))
    return 0


def cmd_report_list(args: argparse.Namespace, settings: Settings) -> int:
    from service.care import service as care
    from service.care.schemas import SelfReport
    from service.care.repository import self_reports

    with _pool(settings) as pool, rls.system_connection(pool) as conn:
        person = _care_person(conn, args.person)
        start, end = _care_range(person, args)
        rows = self_reports.in_range(conn, person_id=str(person["id"]), start=start, end=end,
                                     kinds=(args.kind,) if args.kind else None)
        items = [SelfReport(**care.report_out(r, person["tz"])).model_dump(mode="json")
                 for r in rows]
    _emit(args, {"reports": items, "count": len(items)},
          "\n".join(f"{r['id']}\t{r['time_local']}\t{r['kind']}\t{r['value']:g}\t"
                    f"{r['phase'] or '-'}" for r in items) or "no self-reports")
    return 0


def cmd_lab_add(args: argparse.Namespace, settings: Settings) -> int:
    from service.care import service as care
    from service.care.schemas import LabResult, LabResultCreate

    body = _care_body(LabResultCreate, time=args.time, analyte=args.analyte, value=args.value,
                      unit=args.unit, specimen=args.specimen, session_id=args.session,
                      phase=args.phase)
    with _pool(settings) as pool, rls.system_connection(pool) as conn:
        person = _care_person(conn, args.person)
        try:
            out = LabResult(**care.add_lab(conn, person, body)).model_dump(mode="json")
        except care.CareError as exc:
            raise _care_refused(exc) from None
    _emit(args, out, f"lab result {out['id']}: {out['analyte']} {out['value']:g} {out['unit']} "
          f"= {out['value_nmol_l']:.1f} nmol/L at {out['time_local']}"
          + "".join(f"\nwarning: {w}" for w in out["warnings"]))
    return 0


def cmd_lab_list(args: argparse.Namespace, settings: Settings) -> int:
    from service.care import service as care
    from service.care.schemas import LabResult
    from service.care.repository import lab_results

    with _pool(settings) as pool, rls.system_connection(pool) as conn:
        person = _care_person(conn, args.person)
        start, end = _care_range(person, args)
        rows = lab_results.cortisol(conn, person_id=str(person["id"]), start=start, end=end)
        items = [LabResult(**care.lab_out(r, person["tz"])).model_dump(mode="json")
                 for r in rows]
    _emit(args, {"lab_results": items, "count": len(items)},
          "\n".join(f"{r['id']}\t{r['time_local']}\t{r['analyte']}\t{r['value_nmol_l']:.1f} "
                    f"nmol/L\t{r['phase'] or '-'}" for r in items) or "no lab results")
    return 0


def cmd_evidence(args: argparse.Namespace, settings: Settings) -> int:
    from service.evidence.person import person_evidence
    from service.analysis.session_response import WindowConfig, json_ready
    from service.analysis.schemas import PersonEvidence

    with _pool(settings) as pool, rls.system_connection(pool) as conn:
        person = persons.get(conn, _person_id(args.person))
        if person is None:
            raise CliError(f"no person {args.person}")
        # The same object GET /v1/persons/{id}/evidence returns.
        evidence = person_evidence(conn, person, WindowConfig.from_settings(settings))
        body = PersonEvidence(**json_ready(evidence)).model_dump(mode="json")
    lines = [body["summary"], ""]
    for claim in body["claims"]:
        estimate = "" if claim["estimate"] is None else (
            f" estimate {claim['estimate']:+.3g} [{claim['ci_low']:+.3g}, {claim['ci_high']:+.3g}]"
            if claim["ci_low"] is not None else f" estimate {claim['estimate']:+.3g}")
        lines.append(f"{claim['claim']:<16} {claim['verdict']:<18} {claim['evidence_kind']:<12}"
                     f" n={claim['n_sessions']}{estimate}")
    _emit(args, body, "\n".join(lines))
    return 0


def _add_care_parsers(commands: Any, add: Callable) -> None:
    """`vagus session|report|lab ...`: times without an offset are in the person's zone."""
    def group(name: str, help_: str) -> Any:
        return commands.add_parser(name, help=help_).add_subparsers(dest=f"{name}_cmd",
                                                                    required=True)

    def range_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("--person", required=True, help="person id")
        p.add_argument("--from", dest="from_", help="inclusive, ISO 8601")
        p.add_argument("--to", help="exclusive, ISO 8601")

    def attach_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("--session", type=int, help="a session of the same person")
        p.add_argument("--phase", help="before|after (with --session)")

    session = group("session", "massage sessions")
    p = add(session, "add", cmd_session_add, "log a massage session")
    p.add_argument("--person", required=True, help="person id")
    p.add_argument("--start", required=True, help="ISO 8601; no offset = the person's zone")
    p.add_argument("--end", required=True, help="ISO 8601; at most 6 hours after --start")
    p.add_argument("--modality", required=True, help="swedish, deep tissue, myofascial release, "
                   "lymphatic drainage, sports, trigger point, hot stone, other")
    p.add_argument("--pressure", required=True, help="light|moderate|deep")
    p.add_argument("--therapist", help="account id of the therapist")
    p.add_argument("--body-areas", help="comma-separated, e.g. neck,shoulders,upper_back")
    p.add_argument("--notes")
    range_flags(add(session, "list", cmd_session_list, "list a person's sessions"))
    p = add(session, "delete", cmd_session_delete, "delete a session (its reports stay)")
    p.add_argument("id", type=int)
    p = add(session, "show", cmd_session_show, "show one session")
    p.add_argument("id", type=int)
    p = add(session, "edit", cmd_session_edit, "change some fields of a session")
    p.add_argument("id", type=int)
    p.add_argument("--start")
    p.add_argument("--end")
    p.add_argument("--modality")
    p.add_argument("--pressure")
    p.add_argument("--therapist")
    p.add_argument("--body-areas", help='comma-separated; "" clears them')
    p.add_argument("--notes", help='"" clears them')

    report = group("report", "self-reported scores")
    p = add(report, "add", cmd_report_add, "record a score 0-10 (headache: 0 = none)")
    p.add_argument("--person", required=True, help="person id")
    p.add_argument("--time", required=True, help="ISO 8601; no offset = the person's zone")
    p.add_argument("--kind", required=True, help="pain|stress|anxiety|headache|sleep_quality")
    p.add_argument("--value", required=True, type=float, help="0-10")
    attach_flags(p)
    p = add(report, "list", cmd_report_list, "list a person's self-reports")
    range_flags(p)
    p.add_argument("--kind")

    lab = group("lab", "lab results")
    p = add(lab, "add", cmd_lab_add, "record a cortisol result")
    p.add_argument("--person", required=True, help="person id")
    p.add_argument("--time", required=True, help="sample time, ISO 8601")
    p.add_argument("--analyte", default="cortisol")
    p.add_argument("--value", required=True, type=float)
    p.add_argument("--unit", required=True, help="nmol/L or ug/dL (µg/dL, mcg/dL)")
    p.add_argument("--specimen", help="saliva|serum")
    attach_flags(p)
    range_flags(add(lab, "list", cmd_lab_list, "list a person's cortisol results"))


# --- serve and demo -------------------------------------------------------------------------

def _serve(settings: Settings, pool: ConnectionPool | None = None, *,
           background: bool = True) -> None:
    import uvicorn

    from service.app import create_app

    # uvicorn re-raises SIGTERM after its graceful shutdown; with the default
    # action that would end the process before exit handlers run, leaving the
    # embedded PostgreSQL running. Turn it into a normal exit instead.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.run(create_app(settings, pool=pool, background=background), host=settings.host,
                port=settings.port, log_level=settings.log_level.lower())


def _apply_host_port(args: argparse.Namespace, settings: Settings) -> Settings:
    updates = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    return settings.model_copy(update=updates) if updates else settings


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    settings = _apply_host_port(args, settings)
    _ready_url(settings)
    print(f"Vagus API on {settings.base_url} (OpenAPI: {settings.base_url}/docs)", file=sys.stderr)
    _serve(settings, background=not args.api_only)
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """Run job threads (and a scheduler candidate) until SIGTERM or Ctrl-C."""
    import threading

    from service.jobs import runtime

    if args.concurrency < 1:
        raise CliError("--concurrency must be at least 1")
    url = _ready_url(settings)
    # Each import holds two connections (data and progress); one more per thread
    # for claiming, plus the heartbeat's and the scheduler's.
    pool = connect.create_pool(url, args.concurrency * 3 + 2)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    jobs = runtime.start(pool, settings, url, scheduler=not args.no_scheduler,
                         concurrency=args.concurrency)
    print(f"vagus worker {jobs.worker.name}: {args.concurrency} thread(s)"
          + ("" if args.no_scheduler else ", scheduler candidate"), file=sys.stderr)
    stop.wait()
    jobs.stop()
    pool.close()
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from service.demo import service as demo
    from service.analysis.session_response import WindowConfig

    settings = _apply_host_port(args, settings)
    # This pool also serves the API: an ordinary one (the demo loader acts as system).
    pool = _pool(settings, size=settings.pool_size, system=False)
    print("Loading demo data and computing its session responses (the first run takes a "
          "minute)...", file=sys.stderr)
    loaded = demo.load(pool, settings.data_dir, WindowConfig.from_settings(settings))
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

What the sessions did, claim by claim (with the literature beside it):
  curl -H "Authorization: Bearer {loaded.patient_token}" {base}/v1/persons/{loaded.person_id}/evidence
  {sys.argv[0]} evidence --person {loaded.person_id}

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
    p.add_argument("--role", required=True, choices=["admin", "patient", "therapist", "app"])
    p.add_argument("--person", help="the person a patient token acts for")
    p.add_argument("--account", help="an existing therapist/app/admin account (default: a new "
                                     "account named --name)")
    p.add_argument("--name", help="a label for the token (and a new account's name)")
    p.add_argument("--expires-days", type=int, help="expire after this many days")
    p = add(token, "list", cmd_token_list, "list tokens (never the secrets)")
    p.add_argument("--account", help="only this account's tokens")
    p = add(token, "revoke", cmd_token_revoke, "revoke a token at once")
    p.add_argument("token_id", type=int)
    p = add(token, "rotate", cmd_token_rotate,
            "replace a token: the old one is revoked, the new one shown once")
    p.add_argument("token_id", type=int)
    p.add_argument("--expires-days", type=int, help="the new token's lifetime (default: as old)")

    p = add(commands, "import", cmd_import, "import an export file or folder")
    p.add_argument("path")
    p.add_argument("--person", required=True, help="person id")
    p.add_argument("--format", help="connector name; default: detect from content")
    p.add_argument("--start", help="recording start (ISO 8601) for files without times")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    _add_care_parsers(commands, add)
    p = add(commands, "evidence", cmd_evidence, "per-claim evidence for one person")
    p.add_argument("--person", required=True, help="person id")

    for name, handler, help_ in (("serve", cmd_serve, "run the API"),
                                 ("demo", cmd_demo, "load demo data, then run the API")):
        p = add(commands, name, handler, help_, json_flag=(name == "demo"))
        p.add_argument("--host")
        p.add_argument("--port", type=int)
        if name == "demo":
            p.add_argument("--no-serve", action="store_true", help="load the data and exit")
        else:
            p.add_argument("--api-only", action="store_true",
                           help="no scheduler or worker in this process (scaled-out layout)")

    p = add(commands, "worker", cmd_worker, "run background jobs (imports, inbox, webhooks)",
            json_flag=False)
    p.add_argument("--concurrency", type=int, default=1, help="job threads (default 1)")
    p.add_argument("--no-scheduler", action="store_true",
                   help="never run the clock here (another process campaigns for it)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    tasks.install()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        return args.handler(args, get_settings())
    except (CliError, migrate.MigrationError) as exc:
        print(f"vagus: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130

