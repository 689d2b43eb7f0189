"""Bodies of the session, self-report and lab-result endpoints (also used by the CLI).

Vocabularies are small and fixed so analyses can group by them; human
spellings ("Deep tissue", "trigger-point massage", "upper back") are accepted
on the way in and stored in their canonical form.

The modality ``rest`` is the control arm of an n-of-1 trial: the person lies still
for the same time in the same setting, with no massage. It has no pressure, so a
rest session given one is refused rather than stored with a meaningless value.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from service.core.units import ANALYTES, HAIR_UNIT, canonical_unit

#: The massage modalities; every one of them is the "massage" arm of a trial.
MASSAGE_MODALITIES = (
    "swedish",
    "deep_tissue",
    "myofascial_release",
    "lymphatic_drainage",
    "sports",
    "trigger_point",
    "hot_stone",
    "other",
)
#: The rest-control session: lying still, same duration and setting, no massage.
REST = "rest"
MODALITIES = (*MASSAGE_MODALITIES, REST)
PRESSURES = ("light", "moderate", "deep")
BODY_AREAS = (
    "neck",
    "shoulders",
    "upper_back",
    "lower_back",
    "arms",
    "hands",
    "glutes",
    "legs",
    "feet",
    "head",
    "face",
    "abdomen",
    "chest",
    "full_body",
)
REPORT_KINDS = ("pain", "stress", "anxiety", "headache", "sleep_quality")
PHASES = ("before", "after")
SPECIMENS = ("saliva", "serum", "hair")
MAX_SESSION = dt.timedelta(hours=6)
MAX_NOTES = 10_000

Modality = Literal[MODALITIES]  # type: ignore[valid-type]
Pressure = Literal[PRESSURES]  # type: ignore[valid-type]
BodyArea = Literal[BODY_AREAS]  # type: ignore[valid-type]
ReportKind = Literal[REPORT_KINDS]  # type: ignore[valid-type]
Phase = Literal[PHASES]  # type: ignore[valid-type]
Specimen = Literal[SPECIMENS]  # type: ignore[valid-type]

# Spellings that do not reduce to the canonical name by lower-casing and
# joining words with "_".
_MODALITY_ALIASES = {
    "myofascial": "myofascial_release",
    "lymphatic": "lymphatic_drainage",
    "manual_lymphatic_drainage": "lymphatic_drainage",
    "lymph_drainage": "lymphatic_drainage",
    "sport": "sports",
    "trigger_points": "trigger_point",
    "hot_stones": "hot_stone",
    "deep": "deep_tissue",
    "rest_control": REST,
    "control": REST,
    "lying_still": REST,
    "resting": REST,
}
_AREA_ALIASES = {
    "shoulder": "shoulders",
    "arm": "arms",
    "hand": "hands",
    "glute": "glutes",
    "buttocks": "glutes",
    "leg": "legs",
    "foot": "feet",
    "back_upper": "upper_back",
    "back_lower": "lower_back",
    "whole_body": "full_body",
    "full": "full_body",
    "belly": "abdomen",
    "stomach": "abdomen",
    "scalp": "head",
}
_SPECIMEN_ALIASES = {
    "salivary": "saliva",
    "blood": "serum",
    "blood_serum": "serum",
    "hair_sample": "hair",
    "scalp_hair": "hair",
}

RowId = Annotated[int, Field(ge=1, le=2**63 - 1)]
Score = Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)]


def _words(text: str) -> str:
    """Lower case, words joined by "_": "Deep-Tissue  massage" -> "deep_tissue_massage"."""
    return "_".join(re.split(r"[\s_\-/]+", text.strip().lower())).strip("_")


def normalise_modality(text: str) -> str:
    key = _words(text)
    for suffix in ("_massage", "_therapy"):
        if key.endswith(suffix) and key != suffix.strip("_"):
            key = key[: -len(suffix)]
    key = _MODALITY_ALIASES.get(key, key)
    if key not in MODALITIES:
        raise ValueError(f"unknown modality {text!r}; one of {', '.join(MODALITIES)}")
    return key


def normalise_body_areas(values: list[str] | str | None) -> list[str]:
    """Canonical areas in the given order, without repeats; a string may list them with commas."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [v for v in values.split(",") if v.strip()]
    areas: list[str] = []
    for value in values:
        if not isinstance(value, str):
            raise ValueError(f"body areas are names, not {value!r}")
        key = _words(value)
        key = _AREA_ALIASES.get(key, key)
        if key not in BODY_AREAS:
            raise ValueError(f"unknown body area {value!r}; one of {', '.join(BODY_AREAS)}")
        if key not in areas:
            areas.append(key)
    return areas


def _lower(value: Any) -> Any:
    return _words(value) if isinstance(value, str) else value


def is_rest(modality: str | None) -> bool:
    """Whether a session of this modality is a rest control (not a massage)."""
    return modality == REST


REST_PRESSURE = "a rest session has no massage, so no pressure; leave it out"


def _no_pressure_at_rest(value: Any, info: ValidationInfo) -> Any:
    if value is not None and is_rest(info.data.get("modality")):
        raise ValueError(REST_PRESSURE)
    return value


def _clean_notes(value: str | None) -> str | None:
    if value is None:
        return None
    if "\x00" in value:
        raise ValueError("notes may not contain NUL characters")
    return value.strip() or None


class _Body(BaseModel):
    model_config = {"extra": "forbid"}


class SessionCreate(_Body):
    """A massage session, or a rest-control session (modality `rest`, no pressure).
    Times without a UTC offset are read in the person's time zone."""

    start: dt.datetime = Field(examples=["2024-05-04T10:00:00+02:00"])
    end: dt.datetime = Field(
        description="After start; at most 6 hours later.", examples=["2024-05-04T11:00:00+02:00"]
    )
    modality: Modality = Field(
        description="Human spellings such as 'Deep tissue' are accepted. "
        "`rest`: a rest-control session (lying still, same duration "
        "and setting, no massage).",
        examples=["swedish"],
    )
    pressure: Pressure | None = Field(
        default=None, description="Massage only; refused for `rest`.", examples=["moderate"]
    )
    therapist_id: UUID | None = Field(
        default=None,
        description="An account with the therapist role; a therapist's own token fills it in when omitted.",
    )
    body_areas: list[BodyArea] = Field(
        default_factory=list, max_length=len(BODY_AREAS), examples=[["neck", "shoulders"]]
    )
    notes: str | None = Field(default=None, max_length=MAX_NOTES)

    _modality = field_validator("modality", mode="before")(
        lambda v: normalise_modality(v) if isinstance(v, str) else v
    )
    _pressure = field_validator("pressure", mode="before")(_lower)
    _rest_pressure = field_validator("pressure")(_no_pressure_at_rest)
    _areas = field_validator("body_areas", mode="before")(
        lambda v: normalise_body_areas(v) if isinstance(v, (list, str)) else v
    )
    _notes = field_validator("notes")(_clean_notes)


class SessionUpdate(_Body):
    """Fields to change; omitted fields stay. `null` clears therapist, pressure, notes."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None
    modality: Modality | None = None
    pressure: Pressure | None = None
    therapist_id: UUID | None = None
    body_areas: list[BodyArea] | None = Field(default=None, max_length=len(BODY_AREAS))
    notes: str | None = Field(default=None, max_length=MAX_NOTES)

    _modality = field_validator("modality", mode="before")(
        lambda v: normalise_modality(v) if isinstance(v, str) else v
    )
    _pressure = field_validator("pressure", mode="before")(_lower)
    _areas = field_validator("body_areas", mode="before")(
        lambda v: normalise_body_areas(v) if isinstance(v, (list, str)) else v
    )
    _notes = field_validator("notes")(_clean_notes)

    @field_validator("start", "end", "modality")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be changed but not cleared")
        return value


class Session(BaseModel):
    id: int
    person_id: UUID
    therapist_id: UUID | None
    start: dt.datetime = Field(description="UTC instant")
    start_local: dt.datetime = Field(description="Wall-clock time with offset in the person's zone")
    end: dt.datetime
    end_local: dt.datetime
    tz: str = Field(description="The person's IANA time zone")
    duration_minutes: float
    modality: Modality
    pressure: Pressure | None
    body_areas: list[BodyArea]
    notes: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    warnings: list[str] = Field(
        default_factory=list, description="How ambiguous local times were read, if any"
    )


class SessionPage(BaseModel):
    items: list[Session]
    next_cursor: str | None


class SelfReportCreate(_Body):
    """One score 0-10. Headache: 0 = no headache, 1-10 = its intensity."""

    time: dt.datetime = Field(examples=["2024-05-04T09:50:00+02:00"])
    kind: ReportKind
    value: Score = Field(examples=[6])
    session_id: RowId | None = Field(default=None, description="A session of the same person")
    phase: Phase | None = Field(default=None, description="Required with session_id")

    _kind = field_validator("kind", "phase", mode="before")(_lower)


class SelfReport(BaseModel):
    id: int
    person_id: UUID
    time: dt.datetime
    time_local: dt.datetime
    kind: ReportKind
    value: float
    headache: bool | None = Field(
        description="For kind headache: whether there was one (value > 0); null for other kinds"
    )
    session_id: int | None
    phase: Phase | None
    created_at: dt.datetime
    warnings: list[str] = Field(default_factory=list)


class SelfReportPage(BaseModel):
    items: list[SelfReport]
    next_cursor: str | None


class LabResultCreate(_Body):
    """A cortisol result. Saliva and serum: nmol/L or µg/dL (also written ug/dL, mcg/dL);
    hair: pg/mg (with `specimen` hair). The sampling time matters: cortisol falls steeply
    over the morning, so results are compared only with samples taken at a similar time."""

    time: dt.datetime = Field(description="When the sample was taken", examples=["2024-05-04T09:45:00+02:00"])
    analyte: Literal[ANALYTES] = "cortisol"  # type: ignore[valid-type]
    value: float = Field(ge=0, le=1e6, allow_inf_nan=False, examples=[12.5])
    unit: str = Field(examples=["nmol/L"])
    specimen: Specimen | None = None
    session_id: RowId | None = None
    phase: Phase | None = None

    _analyte = field_validator("analyte", "phase", mode="before")(_lower)

    @field_validator("specimen", mode="before")
    @classmethod
    def _specimen(cls, value: Any) -> Any:
        value = _lower(value)
        return _SPECIMEN_ALIASES.get(value, value) if isinstance(value, str) else value

    @field_validator("unit")
    @classmethod
    def _unit(cls, value: str) -> str:
        return canonical_unit(value)

    @model_validator(mode="after")
    def _hair_in_pg_per_mg(self) -> LabResultCreate:
        if (self.unit == HAIR_UNIT) != (self.specimen == "hair"):
            raise ValueError(
                "hair cortisol is given in pg/mg (with specimen hair), and pg/mg is for hair only"
            )
        return self


class LabResult(BaseModel):
    id: int
    person_id: UUID
    time: dt.datetime
    time_local: dt.datetime
    analyte: str
    specimen: Specimen | None
    value: float = Field(description="As reported, in `unit`")
    unit: Literal["nmol/L", "ug/dL", "pg/mg"]
    value_nmol_l: float | None = Field(
        description="The same concentration in nmol/L (1 µg/dL = 27.59 nmol/L); null for hair (pg/mg)"
    )
    session_id: int | None
    phase: Phase | None
    created_at: dt.datetime
    warnings: list[str] = Field(default_factory=list)


class LabResultPage(BaseModel):
    items: list[LabResult]
    next_cursor: str | None
