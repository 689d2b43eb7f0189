"""Response bodies of the analysis endpoints (HRV windows, daily recovery)."""

from __future__ import annotations

import datetime as dt
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from service.trials.schemas import PlanAdherence


class SourceRef(BaseModel):
    id: int
    name: str
    kind: str


class Quality(BaseModel):
    duration_s: float
    n_input_beats: int
    n_intervals: int
    coverage: float = Field(description="sum of NN / window length")
    artifact_share: float | None = Field(description="first-pass flagged beats / input beats")
    longest_gap_s: float


class HRVMetrics(BaseModel):
    """Beat-to-beat HRV; every key always present, null when not computable."""

    mean_rr: float | None
    mean_hr: float | None
    sdnn: float | None
    rmssd: float | None
    ln_rmssd: float | None
    pnn50: float | None
    lf: float | None = Field(description="ms²")
    hf: float | None = Field(description="ms²")
    lf_hf: float | None
    hf_nu: float | None
    sd1: float | None
    sd2: float | None
    dfa_alpha1: float | None
    n_intervals: int
    algorithm_version: str


class StressIndices(BaseModel):
    stress_index: float | None
    sqrt_stress_index: float | None
    pns_index: float | None
    sns_index: float | None
    label: str
    population_referenced: bool = Field(
        default=True, description="z-scores against published population norms, not the person's own"
    )
    diagnostic: bool = Field(default=False, description="never a diagnosis")


class Breathing(BaseModel):
    """Breathing rate from the respiratory peak of the RR spectrum (docs/method.md)."""

    rate_per_min: float | None = Field(description="breaths per minute; null with a reason")
    frequency_hz: float | None
    peak_share: float | None = Field(description="share of the band's power in the peak")
    below_hf_band: bool = Field(description="under 9 breaths/min: HF and LF/HF are unreliable")
    reason: str | None


class HeartRateSummary(BaseModel):
    mean_hr: float
    min_hr: float
    max_hr: float
    n_samples: int


class DeviceHRVSummary(BaseModel):
    sdnn: float | None
    rmssd: float | None
    n_readings: int


class HRVWindow(BaseModel):
    start: dt.datetime
    end: dt.datetime
    source: SourceRef | None = Field(description="where the numbers come from (by priority)")
    data_kind: Literal["beat_to_beat", "heart_rate_only", "device_hrv", "none"]
    status: Literal["ok", "partial", "limited", "insufficient"]
    reasons: list[str]
    quality: Quality
    hrv: HRVMetrics | None
    indices: StressIndices | None
    heart_rate: HeartRateSummary | None
    device_hrv: DeviceHRVSummary | None
    breathing: Breathing | None = None
    unreliable_metrics: list[str] = Field(
        default_factory=list,
        description="metrics of this window not to be read as evidence "
        "(e.g. HF when breathing is slower than the HF band)",
    )
    algorithm_version: str


class HRVResponse(BaseModel):
    person_id: UUID
    start: dt.datetime = Field(alias="from")
    end: dt.datetime = Field(alias="to")
    window_s: int | None
    windows: list[HRVWindow]

    model_config = {"populate_by_name": True}


class MeasureStatus(BaseModel):
    value: float | None
    rolling_7d: float | None
    n_days_7d: int
    normal_mean: float | None
    normal_low: float | None
    normal_high: float | None
    swc: float | None
    n_days_60d: int
    status: Literal["below", "within", "above", "insufficient_data"]
    reason: str | None


class RecoveryDay(BaseModel):
    date: dt.date
    status: Literal["below", "within", "above", "insufficient_data"]
    ln_rmssd: MeasureStatus
    resting_hr: MeasureStatus
    measured_from: Literal["main_sleep", "morning_window"] | None
    window: dict[str, dt.datetime] | None
    source: SourceRef | None
    vendor: dict[str, float | None] = Field(
        description="the vendor's own scores, shown beside, never blended into the status"
    )


class RecoveryResponse(BaseModel):
    person_id: UUID
    days: list[RecoveryDay]


class MetricChange(BaseModel):
    metric: str
    better: Literal["higher", "lower"]
    pre: float | None
    post: float | None
    change: float | None = Field(description="post − pre on the session day")
    control_change: float | None = Field(description="median post − pre on control days")
    n_controls: int
    control_adjusted_change: float | None
    control_adjusted: bool
    delta: float | None = Field(description="the session effect used as evidence")
    improved: bool | None
    reason: str | None = Field(description="why a number is missing or not control-adjusted")
    control_changes: list[float]
    same_weekday_controls: int = Field(0, description="usable control days on the session's weekday")
    weekday_matched: bool = Field(False, description="the control term came from same-weekday days only")


class SessionResponse(BaseModel):
    session_id: int
    person_id: UUID
    algorithm_version: str
    computed_at: dt.datetime
    status: Literal["ok", "insufficient"] = Field(
        "ok", description="insufficient: the session's numbers are not used (see the reason)"
    )
    insufficient_reason: str | None = Field(
        None, description="device_changed: pre and post windows come from different devices"
    )
    windows: dict[str, dict]
    controls: dict
    metrics: dict[str, MetricChange]
    night: dict | None = None
    next_days: dict | None = None


class Literature(BaseModel):
    citation: str
    finding: str
    verified: bool = Field(description="the finding was checked against the paper's abstract")
    verification: str = Field(description="what it was checked against; when not verified, why not")

    model_config = {"extra": "allow"}


Verdict = Literal[
    "supported", "not supported", "contradicted", "inconclusive", "insufficient data", "not measured"
]


class RelatedPhysiology(BaseModel):
    """A marker shown beside a claim, clearly labelled; never the claim's verdict."""

    metric: str
    label: str
    n_sessions: int
    comparison: Literal["rest", "ordinary_day"] | None
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    note: str


class ClaimEvidence(BaseModel):
    claim: Literal[
        "acute_stress",
        "sleep",
        "stress_hormones",
        "recovery",
        "pain",
        "headache",
        "anxiety",
        "immune",
        "circulation",
        "posture",
        "flexibility",
    ]
    label: str
    verdict: Verdict = Field(
        description=(
            "'not measured' when nothing logged measures the claim (distinct from 'insufficient "
            "data': measured, but too few sessions)"
        )
    )
    evidence_kind: Literal["wearable", "lab", "proxy", "self_report", "none"]
    n_sessions: int
    metric: str | None
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    hedges_g: float | None
    p_value: float | None
    p_adjusted: float | None
    swc: float | None
    summary: str
    caveats: list[str]
    literature: list[Literature]
    endpoints: list[dict]
    comparison: Literal["rest", "ordinary_day"] | None = Field(
        description=(
            "'rest': massage minus rest-control sessions; 'ordinary_day': a session visit against "
            "ordinary days (includes resting and the visit); null when nothing is estimated"
        )
    )
    n_rest_sessions: int = Field(description="rest-control sessions with data for the headline metric")
    related_physiology: list[RelatedPhysiology] = Field(
        description=("markers shown beside the claim as related physiology; never its verdict")
    )


class PersonEvidence(BaseModel):
    person_id: UUID
    algorithm_version: str
    n_sessions: int = Field(description="massage sessions (rest-control sessions not counted)")
    n_rest_sessions: int = Field(description="rest-control sessions (modality 'rest')")
    summary: str
    caveats: list[str]
    claims: list[ClaimEvidence]
    trial_adherence: PlanAdherence | None = Field(
        default=None,
        description="planned against logged sessions of the person's latest "
        "n-of-1 trial plan; null without a plan",
    )


class CohortEndpoint(BaseModel):
    claim: str
    metric: str
    verdict: Verdict
    evidence_kind: str
    k_persons: int
    n_sessions: int
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    tau2: float | None = Field(description="between-person variance (DerSimonian-Laird)")
    i2: float | None = Field(description="share of variation due to between-person differences, %")
    q: float | None
    swc: float
    summary: str
    caveats: list[str]
    persons: list[dict]
    group: dict[str, str]
    exploratory: bool
    breakdowns: list[dict] = Field(description="by modality, pressure, duration: exploratory")


class CohortEvidence(BaseModel):
    algorithm_version: str
    n_persons: int
    filters: dict[str, str | None]
    endpoints: list[CohortEndpoint]
    caveats: list[str]
