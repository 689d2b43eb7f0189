"""``vagus trial plan|show|list``: n-of-1 trial plans from the command line."""

from __future__ import annotations

import argparse
from typing import Any

from pydantic import ValidationError

from service.access.repository import persons
from service.core.cli import AddCommand, CliError, add_group, emit, operator_pool, parse_uuid
from service.core.db import rls
from service.core.settings import Settings
from service.trials import repository
from service.trials import service as trials
from service.trials.schemas import TrialPlan, TrialPlanCreate, TrialPlanSummary

#: Flag -> body field, so refusals name what the user typed.
FLAGS = {
    "weeks": "--weeks",
    "per_week": "--per-week",
    "rest_share": "--rest-share",
    "seed": "--seed",
    "time_of_day": "--time",
    "duration_minutes": "--duration",
    "weekdays": "--weekdays",
    "start_date": "--start-date",
    "effect_ln_rmssd": "--effect",
}


def _body(args: argparse.Namespace) -> TrialPlanCreate:
    fields = {field: getattr(args, field) for field in FLAGS if getattr(args, field, None) is not None}
    try:
        return TrialPlanCreate(**fields)
    except ValidationError as exc:
        raise CliError(
            "; ".join(
                f"{FLAGS.get(str(e['loc'][0]), e['loc'][0]) if e['loc'] else 'input'}: "
                f"{e['msg'].removeprefix('Value error, ')}"
                for e in exc.errors()
            )
        ) from None


def _number(value: float | None, spec: str) -> str:
    return "withheld" if value is None else format(value, spec)


def _human(plan: dict[str, Any]) -> str:
    power = plan["power"]
    lines = [
        f"trial plan {plan['plan_id']} (seed {plan['seed']}): {plan['weeks']} weeks x "
        f"{plan['per_week']}, {power['n_massage']} massage + {power['n_rest']} rest; "
        f"power {_number(power['value'], '.2f')} for {power['effect_ln_rmssd']:g} ln "
        f"RMSSD (SD {_number(power['sd'], 'g')} from {power['sd_source']})"
    ]
    lines += [f"{s['seq']}\t{s['start_local']}\t{s['weekday']}\t{s['kind']}" for s in plan["sessions"]]
    if plan.get("adherence"):
        a = plan["adherence"]
        lines.append(
            f"adherence: massage {a['massage']['logged']}/{a['massage']['due']} due, "
            f"rest {a['rest']['logged']}/{a['rest']['due']} due"
        )
    return "\n".join(lines)


def _person(conn: Any, text: str) -> dict[str, Any]:
    row = persons.get(conn, parse_uuid(text, "person"))
    if row is None:
        raise CliError(f"no person {text}")
    return row


def cmd_plan(args: argparse.Namespace, settings: Settings) -> int:
    body = _body(args)
    with operator_pool(settings) as pool, rls.system_connection(pool) as conn:
        person = _person(conn, args.person)
        try:
            out = TrialPlan(**trials.create_plan(conn, person, body)).model_dump(mode="json")
        except trials.TrialError as exc:
            raise CliError(f"{FLAGS.get(exc.field, exc.field)}: {exc.message}") from None
    emit(args, out, _human(out))
    return 0


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    with operator_pool(settings) as pool, rls.system_connection(pool) as conn:
        plan = repository.get(conn, args.id)
        if plan is None:
            raise CliError(f"no trial plan {args.id}")
        out = TrialPlan(**trials.show_plan(conn, plan)).model_dump(mode="json")
    emit(args, out, _human(out))
    return 0


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    with operator_pool(settings) as pool, rls.system_connection(pool) as conn:
        person = _person(conn, args.person)
        rows = repository.page(conn, person_id=str(person["id"]), limit=10_000)
        items = [TrialPlanSummary(**trials.plan_summary(r)).model_dump(mode="json") for r in rows]
    lines = [
        f"{p['plan_id']}\t{p['created_at']}\t{p['weeks']} weeks x {p['per_week']}\t"
        f"power {_number(p['power']['value'], '.2f')}"
        for p in items
    ]
    emit(args, {"trial_plans": items, "count": len(items)}, "\n".join(lines) or "no trial plans")
    return 0


def register(commands: Any, add: AddCommand) -> None:
    group = add_group(commands, "trial", "n-of-1 trials: massage against rest-control sessions")
    p = add(
        group,
        "plan",
        cmd_plan,
        "draw and store a randomised, weekday-balanced schedule of massage and rest sessions, with its power",
    )
    p.add_argument("--person", required=True, help="person id")
    p.add_argument("--weeks", required=True, type=int, help="1-52")
    p.add_argument(
        "--per-week",
        dest="per_week",
        required=True,
        type=int,
        help="sessions per week, 1-7, each on its own weekday",
    )
    p.add_argument(
        "--rest-share", dest="rest_share", type=float, help="share of rest-control sessions (default 0.5)"
    )
    p.add_argument(
        "--seed",
        type=int,
        help="same seed, design and start date: same plan (drawn at random and printed when omitted)",
    )
    p.add_argument("--time", dest="time_of_day", help="local start time, HH:MM (default 18:00)")
    p.add_argument("--duration", dest="duration_minutes", type=int, help="minutes per session (default 60)")
    p.add_argument("--weekdays", help="comma-separated, e.g. tue,fri (default: spread)")
    p.add_argument(
        "--start-date",
        dest="start_date",
        help="local date the first week starts, after today (default tomorrow)",
    )
    p.add_argument(
        "--effect",
        dest="effect_ln_rmssd",
        type=float,
        help="massage-minus-rest difference in ln RMSSD to state power for (default 0.10)",
    )
    p = add(group, "show", cmd_show, "show a plan with its adherence (planned vs logged)")
    p.add_argument("id", type=int)
    p = add(group, "list", cmd_list, "list a person's trial plans")
    p.add_argument("--person", required=True, help="person id")
