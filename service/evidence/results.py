"""What the assessment takes and gives per endpoint (one claim × one metric)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from service.evidence.claims import Comparison, EvidenceKind, Verdict


@dataclass(frozen=True)
class EndpointData:
    """Per-session changes of one metric for one claim, as gathered by the service."""

    claim: str
    metric: str
    deltas: Sequence[float | None]  # one per massage session
    swc: float
    n_control_adjusted: int | None = None  # how many deltas are control-adjusted (rest: raw change)
    excluded: Mapping[str, int] = field(default_factory=dict)  # unusable sessions by reason
    rest_deltas: Sequence[float | None] = ()  # the same change for each rest-control session
    n_without_weekday_control: int | None = None  # usable sessions with no same-weekday control


@dataclass(frozen=True)
class EndpointResult:
    """Statistics and verdict for one claim × metric."""

    claim: str
    metric: str
    label: str
    role: Literal["primary", "secondary"]
    evidence_kind: EvidenceKind
    better: str
    n_sessions: int
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    ci_method: str | None
    hedges_g: float | None
    p_value: float | None
    p_adjusted: float | None
    swc: float
    verdict: Verdict
    n_control_adjusted: int | None = None
    excluded: Mapping[str, int] = field(default_factory=dict)
    comparison: Comparison | None = None
    n_rest_sessions: int = 0
    degenerate: bool = False
    n_without_weekday_control: int | None = None
    weekday_confounded: bool = False
