"""``vagus session|report|lab ...``: care records from the command line, one table-driven code path.

Each record kind is a row of :data:`RECORDS` (its body models, service calls, flags
and the line it prints); ``add`` and ``list`` are written once for all of them.
Times without an offset are in the person's zone, as through the API.
"""

from __future__ import annotations

import argparse
import datetime as dt
import keyword
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from service.access.repository import persons
from service.care import service as care
from service.care.repository import lab_results, self_reports, sessions
from service.care.schemas import (
    LabResult,
    LabResultCreate,
    SelfReport,
    SelfReportCreate,
    Session,
    SessionCreate,
    SessionUpdate,
)
from service.core import localtime
from service.core.cli import AddCommand, CliError, add_group, emit, operator_pool, parse_uuid
from service.core.db import rls
from service.core.db.types import Conn, Row
from service.core.settings import Settings


@dataclass(frozen=True)
class Flag:
    """A command-line flag and the body field it sets."""

    flag: str
    field: str
    help: str = ""
    required: bool = False
    type: Callable[[str], Any] = str
    default: Any = None


@dataclass(frozen=True)
class Record:
    """One kind of care record, as the CLI sees it."""

    group: str
    help: str
    create: type[BaseModel]
    out: type[BaseModel]
    add: Callable[[Conn, Row, Any], Row]
    to_json: Callable[[Row, str], Row]
    rows: Callable[[Conn, str, Any, Any, argparse.Namespace], list[Row]]
    list_key: str
    flags: tuple[Flag, ...]
    line: Callable[[dict], str]
    add_help: str
    list_help: str
    list_flags: tuple[Flag, ...] = ()


PERSON = Flag("--person", "person", "person id", required=True)
ATTACH = (
    Flag("--session", "session_id", "a session of the same person", type=int),
    Flag("--phase", "phase", "before|after (with --session)"),
)
SESSION_FLAGS = (
    Flag("--start", "start", "ISO 8601; no offset = the person's zone", required=True),
    Flag("--end", "end", "ISO 8601; at most 6 hours after --start", required=True),
    Flag(
        "--modality",
        "modality",
        "swedish, deep tissue, myofascial release, lymphatic "
        "drainage, sports, trigger point, hot stone, other; or rest (a rest-control session: "
        "lying still, same duration and setting, no massage)",
        required=True,
    ),
    Flag("--pressure", "pressure", "light|moderate|deep (massage only; refused with rest)"),
    Flag("--therapist", "therapist_id", "account id of the therapist"),
    Flag("--body-areas", "body_areas", "comma-separated, e.g. neck,shoulders,upper_back"),
    Flag("--notes", "notes"),
)


def _warnings(out: dict) -> str:
    return "".join(f"\nwarning: {w}" for w in out.get("warnings", ()))


RECORDS: tuple[Record, ...] = (
    Record(
        group="session",
        help="massage and rest-control sessions",
        create=SessionCreate,
        out=Session,
        add=care.add_session,
        to_json=care.session_out,
        list_key="sessions",
        rows=lambda conn, pid, start, end, args: sessions.in_range(conn, person_id=pid, start=start, end=end),
        flags=SESSION_FLAGS,
        add_help="log a massage session or a rest-control session",
        list_help="list a person's sessions",
        line=lambda s: (
            f"{s['id']}\t{s['start_local']}\t{s['duration_minutes']:g} min\t"
            f"{s['modality']}\t{s['pressure'] or '-'}"
        ),
    ),
    Record(
        group="report",
        help="self-reported scores",
        create=SelfReportCreate,
        out=SelfReport,
        add=care.add_report,
        to_json=care.report_out,
        list_key="reports",
        rows=lambda conn, pid, start, end, args: self_reports.in_range(
            conn, person_id=pid, start=start, end=end, kinds=(args.kind,) if args.kind else None
        ),
        flags=(
            Flag("--time", "time", "ISO 8601; no offset = the person's zone", required=True),
            Flag("--kind", "kind", "pain|stress|anxiety|headache|sleep_quality", required=True),
            Flag("--value", "value", "0-10", required=True, type=float),
            *ATTACH,
        ),
        add_help="record a score 0-10 (headache: 0 = none)",
        list_help="list a person's self-reports",
        list_flags=(Flag("--kind", "kind"),),
        line=lambda r: f"{r['id']}\t{r['time_local']}\t{r['kind']}\t{r['value']:g}\t{r['phase'] or '-'}",
    ),
    Record(
        group="lab",
        help="lab results",
        create=LabResultCreate,
        out=LabResult,
        add=care.add_lab,
        to_json=care.lab_out,
        list_key="lab_results",
        rows=lambda conn, pid, start, end, args: lab_results.cortisol(
            conn, person_id=pid, start=start, end=end
        ),
        flags=(
            Flag("--time", "time", "sample time, ISO 8601", required=True),
            Flag("--analyte", "analyte", default="cortisol"),
            Flag("--value", "value", required=True, type=float),
            Flag("--unit", "unit", "nmol/L or ug/dL (µg/dL, mcg/dL); pg/mg for hair", required=True),
            Flag("--specimen", "specimen", "saliva|serum|hair"),
            *ATTACH,
        ),
        add_help="record a cortisol result",
        list_help="list a person's cortisol results",
        line=lambda r: (
            f"{r['id']}\t{r['time_local']}\t{r['analyte']}\t"
            + (
                f"{r['value_nmol_l']:.1f} nmol/L"
                if r["value_nmol_l"] is not None
                else f"{r['value']:g} {r['unit']} (hair)"
            )
            + f"\t{r['phase'] or '-'}"
        ),
    ),
)
#: Body field -> the flag that sets it, so refusals name what the user typed.
FLAG_OF = {f.field: f.flag for r in RECORDS for f in (*r.flags, *r.list_flags)} | {
    "from": "--from",
    "to": "--to",
}


def _dest(flag: Flag) -> str:
    name = flag.flag.removeprefix("--").replace("-", "_")
    return f"{name}_" if keyword.iskeyword(name) else name


def _body(model: type[BaseModel], args: argparse.Namespace, flags: tuple[Flag, ...]) -> Any:
    """A validated request body built from the flags the user set."""
    fields = {f.field: getattr(args, _dest(f)) for f in flags if getattr(args, _dest(f), None) is not None}
    try:
        return model(**fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{FLAG_OF.get(str(e['loc'][0]), e['loc'][0]) if e['loc'] else 'input'}: "
            f"{e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise CliError(problems) from None


def _person(conn: Conn, person: str) -> dict[str, Any]:
    row = persons.get(conn, parse_uuid(person, "person"))
    if row is None:
        raise CliError(f"no person {person}")
    return row


def _refused(exc: care.CareError) -> CliError:
    return CliError(f"{FLAG_OF.get(exc.field, exc.field)}: {exc.message}")


def _range(person: dict[str, Any], args: argparse.Namespace) -> tuple[Any, Any]:
    bounds: list[dt.datetime | None] = []
    for name, text in (("from", args.from_), ("to", args.to)):
        if text is None:
            bounds.append(None)
            continue
        try:
            bounds.append(care.resolve(localtime.parse(text), person["tz"], name, []))
        except (localtime.LocalTimeError, care.CareError) as exc:
            raise CliError(f"--{name}: {getattr(exc, 'message', exc)}") from None
    return bounds[0], bounds[1]


def _adder(record: Record) -> Callable[[argparse.Namespace, Settings], int]:
    def add(args: argparse.Namespace, settings: Settings) -> int:
        body = _body(record.create, args, record.flags)
        with operator_pool(settings) as pool, rls.system_connection(pool) as conn:
            person = _person(conn, args.person)
            try:
                out = record.out(**record.add(conn, person, body)).model_dump(mode="json")
            except care.CareError as exc:
                raise _refused(exc) from None
        emit(args, out, f"{record.group} added: {record.line(out)}{_warnings(out)}")
        return 0

    return add


def _lister(record: Record) -> Callable[[argparse.Namespace, Settings], int]:
    def list_(args: argparse.Namespace, settings: Settings) -> int:
        with operator_pool(settings) as pool, rls.system_connection(pool) as conn:
            person = _person(conn, args.person)
            start, end = _range(person, args)
            rows = record.rows(conn, str(person["id"]), start, end, args)
            items = [record.out(**record.to_json(r, person["tz"])).model_dump(mode="json") for r in rows]
        emit(
            args,
            {record.list_key: items, "count": len(items)},
            "\n".join(record.line(i) for i in items) or f"no {record.help}",
        )
        return 0

    return list_


def _session_with_person(conn: Conn, session_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    row = sessions.get(conn, session_id)
    if row is None:
        raise CliError(f"no session {session_id}")
    return row, _person(conn, str(row["person_id"]))


def cmd_session_show(args: argparse.Namespace, settings: Settings) -> int:
    with operator_pool(settings) as pool, rls.system_connection(pool) as conn:
        row, person = _session_with_person(conn, args.id)
        out = Session(**care.session_out(row, person["tz"])).model_dump(mode="json")
    human = "\n".join(f"{k}: {v}" for k, v in out.items() if v not in (None, [], ""))
    emit(args, out, human)
    return 0


def cmd_session_edit(args: argparse.Namespace, settings: Settings) -> int:
    body = _body(SessionUpdate, args, SESSION_FLAGS)
    with operator_pool(settings) as pool, rls.system_connection(pool) as conn:
        current, person = _session_with_person(conn, args.id)
        try:
            out = Session(**care.edit_session(conn, person, current, body)).model_dump(mode="json")
        except care.CareError as exc:
            raise _refused(exc) from None
    emit(args, out, f"session changed: {RECORDS[0].line(out)}{_warnings(out)}")
    return 0


def cmd_session_delete(args: argparse.Namespace, settings: Settings) -> int:
    with operator_pool(settings) as pool, rls.system_connection(pool) as conn:
        if not sessions.delete(conn, args.id):
            raise CliError(f"no session {args.id}")
    emit(args, {"id": args.id, "deleted": True}, f"session {args.id} deleted")
    return 0


def _add_flags(parser: argparse.ArgumentParser, flags: tuple[Flag, ...], *, optional: bool = False) -> None:
    for f in flags:
        parser.add_argument(
            f.flag,
            dest=_dest(f),
            help=f.help or None,
            type=f.type,
            required=f.required and not optional,
            default=None if optional else f.default,
        )


def register(commands: Any, add: AddCommand) -> None:
    for record in RECORDS:
        group = add_group(commands, record.group, record.help)
        p = add(group, "add", _adder(record), record.add_help)
        _add_flags(p, (PERSON, *record.flags))
        p = add(group, "list", _lister(record), record.list_help)
        _add_flags(
            p,
            (
                PERSON,
                Flag("--from", "from", "inclusive, ISO 8601"),
                Flag("--to", "to", "exclusive, ISO 8601"),
                *record.list_flags,
            ),
        )
        if record.group != "session":
            continue
        p = add(group, "show", cmd_session_show, "show one session")
        p.add_argument("id", type=int)
        p = add(
            group, "edit", cmd_session_edit, 'change some fields of a session ("" clears body areas or notes)'
        )
        p.add_argument("id", type=int)
        _add_flags(p, SESSION_FLAGS, optional=True)
        p = add(group, "delete", cmd_session_delete, "delete a session (its reports stay)")
        p.add_argument("id", type=int)
