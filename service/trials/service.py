"""n-of-1 trial plans: a randomised, weekday-balanced schedule of massage and rest sessions,
the power it has for the person, and how closely the person has kept to it.

The design (docs/method.md, "n-of-1 trial planner"):

* Every session starts at one local clock time, on ``per_week`` weekdays spread over the
  week, so neither the clock time nor the weekday can favour one arm.
* Block randomisation per week: each week holds ``floor`` or ``ceil`` of its share of rest
  sessions (which weeks get the extra one is drawn), so a drift over the weeks cannot pile
  one arm into the early or late weeks. Within a week the rest sessions go to the weekdays
  that have had the fewest so far, ties drawn at random; this keeps every weekday's rest
  count, and so its massage count, within 1 of every other weekday's.
* The random draws come from ``random.Random(seed)``: the same seed, design and first day
  give the same schedule.

Nothing here commits; the caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import statistics
from dataclasses import asdict, dataclass
from typing import Any
from zoneinfo import ZoneInfo

from service.analysis import data as person_data
from service.analysis import session_response
from service.care.repository import sessions as logged_sessions
from service.care.schemas import is_rest
from service.core import localtime
from service.core.db.types import Conn
from service.trials import repository
from service.trials.schemas import KINDS, WEEKDAYS, TrialPlanCreate
from signal_processing import power as sp_power

#: A logged session fulfils a planned one when it starts this close to it, on the same day.
TOLERANCE = dt.timedelta(hours=2)
#: Ordinary days of the person's own data needed before their variability replaces the
#: literature default, and how far back to look for them.
MIN_PERSON_DAYS = 10
LOOKBACK_DAYS = 42
#: Control days behind each session's adjustment assumed by the power calculation (the
#: evidence needs at least this many; more only lowers the SD, so power is not overstated).
ASSUMED_CONTROLS = session_response.DEFAULT_WINDOWS.min_controls
#: Literature default: the within-session test-retest typical error of rMSSD, as a CV,
#: for two resting recordings 20-30 min apart without intervention (J Hum Kinet 2016,
#: doi:10.1515/hukin-2015-0146, PMID 28149345; abstract read: "CV = 21.1%").
LITERATURE_CV_PERCENT = 21.1
LITERATURE_DETAIL = (
    "literature default: typical error of rMSSD between two resting recordings 20-30 min "
    "apart, CV 21.1 % (J Hum Kinet 2016, doi:10.1515/hukin-2015-0146), as the SD of a "
    f"before/after lnRMSSD difference, adjusted for {ASSUMED_CONTROLS} control days"
)
POWER_METHOD = (
    "two-sided two-sample t test at alpha 0.05 on per-session control-adjusted "
    "lnRMSSD changes, massage vs rest; power from the noncentral t distribution"
)


class TrialError(Exception):
    """A plan these rules refuse: the field it is about, and why."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class Slot:
    """One planned session."""

    seq: int
    week: int
    weekday: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    kind: str


# --- the schedule ---------------------------------------------------------------------------


def spread_weekdays(per_week: int) -> list[int]:
    """``per_week`` weekdays (0 = Monday) as evenly apart as a 7-day week allows."""
    return sorted({round(i * 7 / per_week) % 7 for i in range(per_week)})


def rest_total(total: int, rest_share: float) -> int:
    """Rest sessions in a plan of ``total``: the share, rounded, and never 0 or all."""
    return min(max(round(total * rest_share), 1), total - 1)


def schedule(
    *,
    weeks: int,
    weekdays: list[int],
    rest_share: float,
    seed: int,
    first_day: dt.date,
    time_of_day: dt.time,
    duration: dt.timedelta,
    tz: str,
) -> list[Slot]:
    """The randomised schedule (see the module docstring for the design)."""
    rng = random.Random(seed)
    per_week = len(weekdays)
    n_rest = rest_total(weeks * per_week, rest_share)
    base, extra = divmod(n_rest, weeks)
    heavier = set(rng.sample(range(weeks), extra))
    rest_so_far = dict.fromkeys(weekdays, 0)
    zone = ZoneInfo(tz)
    slots: list[Slot] = []
    for week in range(weeks):
        order = list(weekdays)
        rng.shuffle(order)  # random ties, then fewest rest sessions first (a stable sort)
        order.sort(key=rest_so_far.__getitem__)
        rest_days = set(order[: base + (week in heavier)])
        for day in rest_days:
            rest_so_far[day] += 1
        week_start = first_day + dt.timedelta(days=7 * week)
        dated = sorted((week_start + dt.timedelta(days=(d - week_start.weekday()) % 7), d) for d in weekdays)
        for date, weekday in dated:
            # A time in a daylight-saving gap takes the offset before the change (fold 0).
            start = dt.datetime.combine(date, time_of_day, tzinfo=zone).astimezone(dt.UTC)
            slots.append(
                Slot(
                    len(slots) + 1,
                    week + 1,
                    weekday,
                    start,
                    start + duration,
                    "rest" if weekday in rest_days else "massage",
                )
            )
    return slots


def balance(rows: list[dict[str, Any]], tz: str) -> dict[str, Any]:
    """Planned sessions per local weekday of each arm, and the largest spread within an arm."""
    counts: dict[str, dict[str, int]] = {kind: {} for kind in KINDS}
    used: set[str] = set()
    for row in rows:
        day = WEEKDAYS[localtime.local(row["starts_at"], tz).weekday()]
        used.add(day)
        counts[row["kind"]][day] = counts[row["kind"]].get(day, 0) + 1
    for arm in counts.values():
        for day in used:
            arm.setdefault(day, 0)
    order = {d: i for i, d in enumerate(WEEKDAYS)}
    spread = max((max(a.values()) - min(a.values()) for a in counts.values() if a), default=0)
    return {
        **{k: dict(sorted(v.items(), key=lambda kv: order[kv[0]])) for k, v in counts.items()},
        "max_weekday_spread": spread,
    }


# --- power ----------------------------------------------------------------------------------


def observed_difference_sd(
    conn: Conn, person: dict[str, Any], time_of_day: dt.time, duration: dt.timedelta, today: dt.date
) -> tuple[float | None, int]:
    """The SD of the person's own before/after lnRMSSD differences on ordinary days: the
    windows a session at ``time_of_day`` would be measured in, on recent days without a
    session. None (and the number of usable days) when fewer than MIN_PERSON_DAYS."""
    tz, zone, person_id = person["tz"], ZoneInfo(person["tz"]), str(person["id"])
    first = today - dt.timedelta(days=LOOKBACK_DAYS)
    start = dt.datetime.combine(first, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(today, dt.time(), tzinfo=zone)
    busy = {
        localtime.local(s["starts_at"], tz).date()
        for s in logged_sessions.in_range(conn, person_id=person_id, start=start, end=end)
    }
    differences = []
    for offset in range(LOOKBACK_DAYS):
        day = first + dt.timedelta(days=offset)
        if day in busy:
            continue
        session_start = dt.datetime.combine(day, time_of_day, tzinfo=zone)
        spans = session_response.spans_for(
            session_start, session_start + duration, session_response.DEFAULT_WINDOWS
        )
        pdata = person_data.load(conn, person_id, spans.pre[0], spans.post[1])
        pre, _ = session_response.measure_window(pdata, spans.pre, "latest")
        post, _ = session_response.measure_window(pdata, spans.post, "earliest")
        before, after = pre.values.get("ln_rmssd"), post.values.get("ln_rmssd")
        if before is not None and after is not None:
            differences.append(after - before)
    if len(differences) < MIN_PERSON_DAYS:
        return None, len(differences)
    return statistics.stdev(differences), len(differences)


def plan_power(
    conn: Conn,
    person: dict[str, Any],
    body: TrialPlanCreate,
    slots: list[Slot],
    today: dt.date,
    *,
    may_read_measurements: bool = True,
) -> dict[str, Any]:
    """The ``power`` object of a plan, from the person's variability when there is enough
    and the caller may read what is derived from their measurements."""
    n_rest = sum(s.kind == "rest" for s in slots)
    n_massage = len(slots) - n_rest
    own, days = None, 0
    if may_read_measurements:
        own, days = observed_difference_sd(
            conn, person, body.time_of_day, dt.timedelta(minutes=body.duration_minutes), today
        )
    if own is not None and own > 0:
        difference_sd, source = own, "person"
        detail = (
            f"the person's own lnRMSSD before/after differences at "
            f"{body.time_of_day:%H:%M} on {days} recent days without a session "
            f"(SD {own:.3f}), adjusted for {ASSUMED_CONTROLS} control days"
        )
    else:
        difference_sd = sp_power.typical_error_to_difference_sd(LITERATURE_CV_PERCENT)
        why = (
            f"the person has {days} usable recent days, {MIN_PERSON_DAYS} are needed"
            if may_read_measurements
            else "the person's own data were not used: the caller may not read evidence "
            "derived from their measurements (read:evidence)"
        )
        source, detail = "literature", f"{LITERATURE_DETAIL}; {why}"
    sd = sp_power.change_sd(difference_sd, ASSUMED_CONTROLS)
    effect = body.effect_ln_rmssd
    return {
        "value": round(sp_power.two_sample_power(effect, sd, n_massage, n_rest), 4),
        "effect_ln_rmssd": effect,
        "alpha": sp_power.ALPHA,
        "sd": round(sd, 4),
        "sd_source": source,
        "sd_detail": detail,
        "person_days": days if own else 0,
        "n_massage": n_massage,
        "n_rest": n_rest,
        "sessions_for_80_percent": sp_power.sessions_for_power(effect, sd, 0.8, body.rest_share),
        "method": POWER_METHOD,
    }


# --- plans ----------------------------------------------------------------------------------


def create_plan(
    conn: Conn,
    person: dict[str, Any],
    body: TrialPlanCreate,
    now: dt.datetime | None = None,
    *,
    may_read_measurements: bool = True,
) -> dict[str, Any]:
    """Draw, power and store a plan; the plan as the API shows it. Without
    ``may_read_measurements`` the power uses the literature SD, never the person's data."""
    tz = person["tz"]
    today = localtime.local(now or dt.datetime.now(dt.UTC), tz).date()
    first_day = body.start_date or today + dt.timedelta(days=1)
    if first_day <= today:
        raise TrialError("start_date", f"a plan starts after today ({today} in {tz})")
    if body.weeks * body.per_week < 2:
        raise TrialError("per_week", "a trial needs at least one massage and one rest session")
    if body.weekdays is None:
        weekdays = spread_weekdays(body.per_week)
    else:
        weekdays = sorted({WEEKDAYS.index(d) for d in body.weekdays})
        if len(weekdays) != body.per_week:
            raise TrialError(
                "weekdays", f"give {body.per_week} different weekdays (per_week), not {len(weekdays)}"
            )
    seed = body.seed if body.seed is not None else secrets.randbelow(2**31)
    duration = dt.timedelta(minutes=body.duration_minutes)
    slots = schedule(
        weeks=body.weeks,
        weekdays=weekdays,
        rest_share=body.rest_share,
        seed=seed,
        first_day=first_day,
        time_of_day=body.time_of_day,
        duration=duration,
        tz=tz,
    )
    power = plan_power(conn, person, body, slots, today, may_read_measurements=may_read_measurements)
    plan = repository.create(
        conn,
        person_id=str(person["id"]),
        seed=seed,
        weeks=body.weeks,
        per_week=body.per_week,
        rest_share=body.rest_share,
        first_day=first_day,
        weekdays=weekdays,
        time_of_day=body.time_of_day,
        duration_minutes=body.duration_minutes,
        tz=tz,
        power=power,
        sessions=[asdict(s) for s in slots],
    )
    return plan_out(plan, repository.sessions(conn, plan["id"]))


def without_personal_power(plan: dict[str, Any]) -> dict[str, Any]:
    """A plan for a caller who may not read evidence from the person's measurements: a
    power computed from them is withheld (its value would reveal their variability)."""
    power = plan["power"]
    if power.get("sd_source") != "person":
        return plan
    return {
        **plan,
        "power": {
            **power,
            "value": None,
            "sd": None,
            "sessions_for_80_percent": None,
            "sd_detail": "computed from the person's own measurements, which this caller may "
            "not read (read:evidence)",
        },
    }


def plan_summary(plan: dict[str, Any]) -> dict[str, Any]:
    return {
        "plan_id": plan["id"],
        "person_id": str(plan["person_id"]),
        "created_at": plan["created_at"],
        "seed": plan["seed"],
        "weeks": plan["weeks"],
        "per_week": plan["per_week"],
        "rest_share": plan["rest_share"],
        "first_day": plan["first_day"],
        "power": plan["power"],
    }


def plan_out(
    plan: dict[str, Any], rows: list[dict[str, Any]], adherence_: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A stored plan with its sessions (UTC and local times side by side)."""
    tz = plan["tz"]
    planned = []
    for row in rows:
        start, end = localtime.utc(row["starts_at"]), localtime.utc(row["ends_at"])
        planned.append(
            {
                "seq": row["seq"],
                "week": row["week"],
                "weekday": WEEKDAYS[localtime.local(start, tz).weekday()],
                "start": start,
                "start_local": localtime.local(start, tz),
                "end": end,
                "end_local": localtime.local(end, tz),
                "kind": row["kind"],
            }
        )
    return {
        **plan_summary(plan),
        "tz": tz,
        "weekdays": [WEEKDAYS[d] for d in plan["weekdays"]],
        # Local wall-clock time without an offset: "HH:MM" (JSON Schema's "time" needs one).
        "time_of_day": f"{plan['time_of_day']:%H:%M}",
        "duration_minutes": plan["duration_minutes"],
        "sessions": planned,
        "balance": balance(rows, tz),
        "adherence": adherence_,
    }


def show_plan(conn: Conn, plan: dict[str, Any], now: dt.datetime | None = None) -> dict[str, Any]:
    """A stored plan with its adherence so far."""
    rows = repository.sessions(conn, plan["id"])
    return plan_out(plan, rows, _adherence(conn, plan, rows, now))


# --- adherence ------------------------------------------------------------------------------


def adherence(conn: Conn, person_id: str, now: dt.datetime | None = None) -> dict[str, Any] | None:
    """Planned against logged sessions of the person's latest plan, per kind; None when
    the person has no plan.

    A logged session fulfils a planned one when it starts within TOLERANCE (2 hours) of
    the planned start on the same local day and its kind matches: modality ``rest`` for a
    rest slot, any massage modality for a massage slot. Each logged session fulfils at
    most one slot (the nearest). A slot is *due* once its tolerance has passed; *missed*
    is due and not fulfilled. Returns ``{plan_id, tolerance_minutes, massage: {planned,
    due, logged, missed}, rest: {...}, share_done, matches: [{seq, kind, session_id}]}``.
    """
    plan = repository.latest(conn, person_id)
    if plan is None:
        return None
    return _adherence(conn, plan, repository.sessions(conn, plan["id"]), now)


def _adherence(
    conn: Conn, plan: dict[str, Any], rows: list[dict[str, Any]], now: dt.datetime | None
) -> dict[str, Any]:
    now = now or dt.datetime.now(dt.UTC)
    tz = plan["tz"]
    logged = (
        logged_sessions.in_range(
            conn,
            person_id=str(plan["person_id"]),
            start=rows[0]["starts_at"] - TOLERANCE,
            end=rows[-1]["starts_at"] + TOLERANCE,
        )
        if rows
        else []
    )
    used: set[int] = set()
    counts = {kind: {"planned": 0, "due": 0, "logged": 0, "missed": 0} for kind in KINDS}
    matches = []
    done_when_due = 0
    for row in rows:
        kind, planned_at = row["kind"], row["starts_at"]
        candidates = [
            s
            for s in logged
            if s["id"] not in used
            and is_rest(s["modality"]) == (kind == "rest")
            and abs(s["starts_at"] - planned_at) <= TOLERANCE
            and localtime.local(s["starts_at"], tz).date() == localtime.local(planned_at, tz).date()
        ]
        match = min(candidates, key=lambda s: abs(s["starts_at"] - planned_at), default=None)
        tally = counts[kind]
        tally["planned"] += 1
        due = planned_at + TOLERANCE <= now
        tally["due"] += due
        if match is not None:
            used.add(match["id"])
            tally["logged"] += 1
            done_when_due += due
        elif due:
            tally["missed"] += 1
        matches.append({"seq": row["seq"], "kind": kind, "session_id": match["id"] if match else None})
    due_total = sum(c["due"] for c in counts.values())
    return {
        "plan_id": plan["id"],
        "tolerance_minutes": int(TOLERANCE.total_seconds() // 60),
        **counts,
        "share_done": round(done_when_due / due_total, 4) if due_total else None,
        "matches": matches,
    }
