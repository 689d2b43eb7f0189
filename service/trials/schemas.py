"""Bodies of the trial-plan endpoints (also used by the CLI)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field, field_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
KINDS = ("massage", "rest")
MAX_WEEKS = 52
#: The effect a plan is powered for unless told otherwise (ln units of RMSSD; 0.10 is a
#: difference of about 10 % in RMSSD, the upper end of the rest effect issue 11 simulated).
DEFAULT_EFFECT = 0.10
Kind = Literal[KINDS]  # type: ignore[valid-type]
Weekday = Literal[WEEKDAYS]  # type: ignore[valid-type]


class TrialPlanCreate(BaseModel):
    """The design of an n-of-1 trial: how long, how often, which share rests."""

    model_config = {"extra": "forbid"}

    weeks: int = Field(ge=1, le=MAX_WEEKS, examples=[8])
    per_week: int = Field(ge=1, le=7, description="Sessions per week, each on its own weekday", examples=[2])
    rest_share: float = Field(
        default=0.5, gt=0, lt=1, allow_inf_nan=False, description="Share of sessions that are rest controls"
    )
    seed: int | None = Field(
        default=None,
        ge=0,
        le=2**62,
        description="The same seed, design and first day give the same "
        "schedule; drawn at random (and returned) when omitted",
    )
    time_of_day: dt.time = Field(
        default=dt.time(18, 0),
        description="Local start time of every session (one clock time, so it cannot favour an arm)",
        examples=["18:00"],
    )
    duration_minutes: int = Field(default=60, ge=10, le=360)
    weekdays: list[Weekday] | None = Field(
        default=None,
        description="The weekdays to use, as many as per_week; spread over the week when omitted",
        examples=[["tue", "fri"]],
    )
    start_date: dt.date | None = Field(
        default=None, description="Local date the first week starts; after today; tomorrow when omitted"
    )
    effect_ln_rmssd: float = Field(
        default=DEFAULT_EFFECT,
        gt=0,
        le=2,
        allow_inf_nan=False,
        description="The massage-minus-rest difference the power is stated for, in ln(RMSSD) units",
    )

    @field_validator("weekdays", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        if isinstance(value, str):
            value = [v for v in value.split(",") if v.strip()]
        if isinstance(value, list):
            return [v.strip().lower()[:3] if isinstance(v, str) else v for v in value]
        return value

    @field_validator("time_of_day")
    @classmethod
    def _naive(cls, value: dt.time) -> dt.time:
        if value.tzinfo is not None:
            raise ValueError("a local clock time in the person's zone, without an offset")
        return value


class PlannedSession(BaseModel):
    seq: int = Field(description="1, 2, ... in time order")
    week: int
    weekday: Weekday
    start: dt.datetime = Field(description="UTC instant")
    start_local: dt.datetime = Field(description="Wall-clock time in the person's zone")
    end: dt.datetime
    end_local: dt.datetime
    kind: Kind = Field(description="`massage`, or `rest`: log it as a session with modality `rest`")


class Power(BaseModel):
    """How likely the planned comparison detects a massage-vs-rest difference."""

    value: float | None = Field(
        description="Probability, 0-1; null when it was computed from measurements the caller may not read"
    )
    effect_ln_rmssd: float
    alpha: float
    sd: float | None = Field(
        description="Assumed SD of one session's control-adjusted lnRMSSD change; null like `value`"
    )
    sd_source: Literal["person", "literature"]
    sd_detail: str = Field(description="Where the SD comes from, in words")
    person_days: int = Field(
        description="Ordinary days of the person's data the SD estimate used (0 with the literature default)"
    )
    n_massage: int
    n_rest: int
    sessions_for_80_percent: int | None = Field(
        description="Total sessions at this rest share that would give 80 % power"
    )
    method: str


class Balance(BaseModel):
    """How evenly the arms fall on weekdays (the planner keeps each within 1)."""

    massage: dict[str, int]
    rest: dict[str, int]
    max_weekday_spread: int = Field(
        description="Largest difference between two weekdays' counts within one arm"
    )


class KindAdherence(BaseModel):
    planned: int
    due: int = Field(description="Planned sessions whose tolerance window has closed")
    logged: int = Field(description="Planned sessions matched by a logged session")
    missed: int


class PlanAdherence(BaseModel):
    plan_id: int
    tolerance_minutes: int
    massage: KindAdherence
    rest: KindAdherence
    share_done: float | None = Field(
        description="Share of due sessions that were logged, both kinds; null when nothing is due yet"
    )
    matches: list[dict] = Field(
        description="Each planned session (seq) and the logged session id that matched it, or null"
    )


class TrialPlan(BaseModel):
    plan_id: int
    person_id: str
    created_at: dt.datetime
    tz: str
    seed: int
    weeks: int
    per_week: int
    rest_share: float
    first_day: dt.date
    weekdays: list[Weekday]
    time_of_day: str = Field(
        pattern=r"^[0-2][0-9]:[0-5][0-9]$", description="Local start time in the person's zone, HH:MM"
    )
    duration_minutes: int
    sessions: list[PlannedSession]
    power: Power
    balance: Balance
    adherence: PlanAdherence | None = None


class TrialPlanSummary(BaseModel):
    plan_id: int
    person_id: str
    created_at: dt.datetime
    seed: int
    weeks: int
    per_week: int
    rest_share: float
    first_day: dt.date
    power: Power


class TrialPlanPage(BaseModel):
    items: list[TrialPlanSummary]
    next_cursor: str | None
