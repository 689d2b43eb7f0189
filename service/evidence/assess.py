"""Per-claim evidence: endpoints → statistics → verdict → wording, for a person or a cohort.

Input is, per claim and metric, one number per usable session: the control-adjusted
change (or the raw change, labelled, when a session had too few control days), plus the
same numbers for the person's rest-control sessions. With at least
:data:`~signal_processing.evidence.MIN_REST_SESSIONS` rest sessions the estimate is massage
minus rest (comparison ``rest``); otherwise it is the session against ordinary days
(comparison ``ordinary_day``), worded as a visit, not as an effect of massage.
The numbers come from :mod:`signal_processing.evidence`; the words from :mod:`.wording`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from service.evidence import wording
from service.evidence.claims import (
    CLAIMS,
    PRIMARY_ENDPOINT,
    VERDICT_OF,
    Claim,
    Comparison,
    EvidenceKind,
    Verdict,
    measure,
)
from service.evidence.results import EndpointData, EndpointResult
from signal_processing import evidence as sp
from signal_processing import stats

MIN_SESSIONS = sp.MIN_SESSIONS
ALPHA = sp.ALPHA
HRV_METRICS = frozenset({"ln_rmssd", "rmssd", "hf", "pns_index", "night_ln_rmssd", "morning_ln_rmssd"})


def _finite(values: Sequence[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(v)]


def assess_endpoint(
    data: EndpointData,
    *,
    p_adjusted: float | None = None,
    min_sessions: int = MIN_SESSIONS,
    alpha: float = ALPHA,
) -> EndpointResult:
    """Estimate, 95 % CI, Hedges' g, p and verdict for one endpoint.

    Against rest sessions (enough of them): two-sample Hodges–Lehmann shift with the exact
    Moses interval and Mann–Whitney p. Against ordinary days: one-sample Hodges–Lehmann with
    the bootstrap interval and Wilcoxon p. The verdict uses ``p_adjusted`` when given
    (secondary endpoints after Holm), else the raw p. Below ``min_sessions`` nothing is
    estimated: counts only. When more than half the sessions have no control on their weekday,
    an ordinary-day ``supported`` is held at ``inconclusive`` (the weekday is confounded).
    """
    m = measure(data.claim, data.metric)
    n_rest = len(_finite(data.rest_deltas))
    comparison: Comparison = "rest" if n_rest >= sp.MIN_REST_SESSIONS else "ordinary_day"
    if comparison == "rest":
        st = sp.shift_stats(data.deltas, data.rest_deltas)
    else:
        st = sp.endpoint_stats(data.deltas)
    role: Literal["primary", "secondary"] = (
        "primary" if (data.claim, data.metric) == PRIMARY_ENDPOINT else "secondary"
    )
    p_used = st.p_value if role == "primary" or p_adjusted is None else p_adjusted
    decision = sp.decide(
        n=st.n,
        estimate=st.estimate,
        ci_low=st.ci_low,
        ci_high=st.ci_high,
        p_value=p_used,
        swc=data.swc,
        better=m.better,
        min_n=min_sessions,
        alpha=alpha,
    )
    # More than half the sessions without a same-weekday control: a weekday effect could
    # carry the result on its own, so it cannot count as support.
    confounded = (
        comparison == "ordinary_day"
        and decision == "improvement"
        and st.n > 0
        and data.n_without_weekday_control is not None
        and 2 * data.n_without_weekday_control > st.n
    )
    if confounded:
        decision = "unclear"
    result = EndpointResult(
        data.claim,
        data.metric,
        m.label,
        role,
        m.evidence_kind,
        m.better,
        st.n,
        st.estimate,
        st.ci_low,
        st.ci_high,
        st.ci_method,
        st.hedges_g,
        st.p_value,
        st.p_value if role == "primary" else p_adjusted,
        data.swc,
        VERDICT_OF[decision],
        data.n_control_adjusted,
        dict(data.excluded),
        comparison if st.n > 0 else None,
        n_rest,
        st.degenerate,
        data.n_without_weekday_control,
        confounded,
    )
    if decision == "too_few":  # counts and the reason only: no estimate from too few sessions
        result = replace(
            result,
            estimate=None,
            ci_low=None,
            ci_high=None,
            ci_method=None,
            hedges_g=None,
            p_value=None,
            p_adjusted=None,
            degenerate=False,
        )
    return result


# --------------------------------------------------------------------------- one person


@dataclass(frozen=True)
class ClaimResult:
    """The answer for one claim: headline endpoint, verdict, wording, literature."""

    claim: str
    label: str
    verdict: Verdict
    evidence_kind: EvidenceKind
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
    literature: list[dict[str, Any]]
    endpoints: list[EndpointResult]
    comparison: Comparison | None = None
    n_rest_sessions: int = 0
    related_physiology: list[dict[str, Any]] = field(default_factory=list)
    exploratory: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the service serves it as is)."""
        return asdict(self)


def _headline(claim: Claim, eps: list[EndpointResult]) -> EndpointResult | None:
    """First measure with enough sessions, else first with any data, in table order."""
    by_metric = {e.metric: e for e in eps}
    ordered = [by_metric[m.metric] for m in claim.measures if m.metric in by_metric]
    for e in ordered:
        if e.verdict != "insufficient data":
            return e
    for e in ordered:
        if e.n_sessions > 0:
            return e
    return ordered[0] if ordered else None


def _related(e: EndpointResult) -> dict[str, Any]:
    shown = e.verdict != "insufficient data"
    return {
        "metric": e.metric,
        "label": e.label,
        "n_sessions": e.n_sessions,
        "comparison": e.comparison,
        "estimate": e.estimate if shown else None,
        "ci_low": e.ci_low if shown else None,
        "ci_high": e.ci_high if shown else None,
        "note": wording.RELATED_NOTE,
    }


def _claim_result(
    claim: Claim, eps: list[EndpointResult], min_sessions: int, extra_caveats: Sequence[str] = ()
) -> ClaimResult:
    headline_eps = [e for e in eps if any(m.metric == e.metric for m in claim.measures)]
    related = [_related(e) for e in eps if any(m.metric == e.metric for m in claim.related)]
    refs = [asdict(r) for r in claim.literature]
    ep = _headline(claim, headline_eps)
    if ep is None and (not claim.measures or claim.related):
        # Nothing measures this claim: only its own measures could, and none has data.
        return ClaimResult(
            claim.id,
            claim.label,
            "not measured",
            claim.evidence_kind,
            0,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            wording.not_measured(claim, no_results=bool(claim.measures)),
            list(extra_caveats),
            refs,
            [],
            None,
            0,
            related,
        )
    kind: EvidenceKind = ep.evidence_kind if ep else claim.evidence_kind
    return ClaimResult(
        claim.id,
        claim.label,
        ep.verdict if ep else "insufficient data",
        kind,
        ep.n_sessions if ep else 0,
        ep.metric if ep else None,
        ep.estimate if ep else None,
        ep.ci_low if ep else None,
        ep.ci_high if ep else None,
        ep.hedges_g if ep else None,
        ep.p_value if ep else None,
        ep.p_adjusted if ep else None,
        ep.swc if ep else None,
        wording.summary(claim, ep, min_sessions),
        wording.caveats(claim, ep, hrv_metrics=HRV_METRICS) + list(extra_caveats),
        refs,
        headline_eps,
        ep.comparison if ep else None,
        ep.n_rest_sessions if ep else 0,
        related,
    )


def assess_claim(
    claim: str,
    deltas: Sequence[float | None],
    swc: float,
    *,
    metric: str | None = None,
    p_adjusted: float | None = None,
    n_control_adjusted: int | None = None,
    rest_deltas: Sequence[float | None] = (),
    min_sessions: int = MIN_SESSIONS,
    alpha: float = ALPHA,
) -> ClaimResult:
    """Evidence for one claim from its per-session deltas (headline metric unless ``metric`` is given).

    For a single claim on its own; :func:`assess_person` does all claims with Holm across
    the secondary endpoints. Claims nothing measures ignore the deltas (``not measured``).
    """
    c = CLAIMS[claim]
    if not c.measures:
        return _claim_result(c, [], min_sessions)
    data = EndpointData(
        claim, metric or c.measures[0].metric, deltas, swc, n_control_adjusted, rest_deltas=rest_deltas
    )
    ep = assess_endpoint(data, p_adjusted=p_adjusted, min_sessions=min_sessions, alpha=alpha)
    return _claim_result(c, [ep], min_sessions)


def _is_related(d: EndpointData) -> bool:
    return any(m.metric == d.metric for m in CLAIMS[d.claim].related)


def assess_person(
    endpoints: Iterable[EndpointData],
    *,
    min_sessions: int = MIN_SESSIONS,
    alpha: float = ALPHA,
    extra_caveats: Mapping[str, Sequence[str]] | None = None,
) -> list[ClaimResult]:
    """n-of-1 evidence for every claim in :data:`CLAIMS` (in table order).

    ``endpoints`` holds the per-session deltas the service gathered, any subset of the
    claims' measures. Every endpoint except the primary one (lnRMSSD change for
    ``acute_stress``) that has at least ``min_sessions`` sessions joins one Holm family;
    endpoints with fewer are not tested and do not inflate the family, and related
    physiology (shown beside a claim, never its verdict) is not tested at all. Claims
    without data still appear with ``insufficient data`` and claims nothing measures
    with ``not measured``.
    """
    data = list(endpoints)
    raw = [assess_endpoint(d, min_sessions=min_sessions, alpha=alpha) for d in data]
    family = [
        i
        for i, r in enumerate(raw)
        if r.role == "secondary"
        and not _is_related(data[i])
        and r.n_sessions >= min_sessions
        and r.p_value is not None
    ]
    adjusted = stats.holm([raw[i].p_value for i in family])
    results = list(raw)
    for i, p_adj in zip(family, adjusted, strict=True):
        results[i] = assess_endpoint(data[i], p_adjusted=p_adj, min_sessions=min_sessions, alpha=alpha)
    grouped: dict[str, list[EndpointResult]] = defaultdict(list)
    for r in results:
        grouped[r.claim].append(r)
    extra = extra_caveats or {}
    return [
        _claim_result(c, grouped.get(c.id, []), min_sessions, extra.get(c.id, ())) for c in CLAIMS.values()
    ]


# --------------------------------------------------------------------------- cohort


@dataclass(frozen=True)
class SessionDelta:
    """One session's delta with the tags used for exploratory breakdowns."""

    person_id: str
    delta: float | None
    modality: str | None = None
    pressure: str | None = None
    duration_min: float | None = None


@dataclass(frozen=True)
class CohortResult:
    """Random-effects pooled evidence for one claim × metric across persons."""

    claim: str
    metric: str
    verdict: Verdict
    evidence_kind: EvidenceKind
    k_persons: int
    n_sessions: int
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    tau2: float | None
    i2: float | None
    q: float | None
    swc: float
    summary: str
    caveats: list[str]
    persons: list[sp.PersonEffect]
    group: Mapping[str, str] = field(default_factory=dict)
    exploratory: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def assess_cohort(
    claim: str,
    metric: str,
    deltas_by_person: Mapping[str, Sequence[float | None]],
    *,
    swc: float,
    min_persons: int = sp.MIN_PERSONS,
    min_sessions_per_person: int = sp.MIN_SESSIONS_PER_PERSON,
    alpha: float = ALPHA,
    group: Mapping[str, str] | None = None,
    hartung_knapp: bool = True,
) -> CohortResult:
    """Pooled per-person effects (:func:`signal_processing.evidence.pool`) with verdict and wording."""
    m = measure(claim, metric)
    pooled = sp.pool(
        deltas_by_person,
        swc=swc,
        better=m.better,
        min_persons=min_persons,
        min_sessions_per_person=min_sessions_per_person,
        alpha=alpha,
        hartung_knapp=hartung_knapp,
    )
    v = VERDICT_OF[pooled.decision]
    caveats = list(wording.GENERAL_CAVEATS)
    if hartung_knapp:
        caveats.append(
            "Random-effects model (DerSimonian-Laird) with the Hartung-Knapp interval; with few "
            "persons the interval is wide, as it should be."
        )
    else:
        caveats.append(
            "Random-effects (DerSimonian-Laird) Wald interval; with few persons it is too narrow "
            "(IntHout et al. 2014), so read it as optimistic."
        )
    if pooled.i2 is not None and pooled.i2 >= 50:
        caveats.append(
            f"Persons differ a lot (I² = {pooled.i2:.0f} %): the average may describe nobody well."
        )
    if group:
        caveats.append(
            "Exploratory subgroup: not a pre-specified comparison; do not draw conclusions from it."
        )
    if pooled.decision == "too_few":
        summary = (
            f"Only {pooled.k_persons} person(s) with at least {min_sessions_per_person} usable sessions; "
            f"at least {min_persons} are needed to pool."
        )
    else:
        summary = (
            f"Across {pooled.k_persons} persons the pooled {m.label} change was {wording.fmt(pooled.estimate)} "
            f"(95 % CI {wording.fmt(pooled.ci_low)} to {wording.fmt(pooled.ci_high)}); verdict: {v}. "
            "Association only."
        )
    return CohortResult(
        claim,
        metric,
        v,
        m.evidence_kind,
        pooled.k_persons,
        pooled.n_sessions,
        pooled.estimate,
        pooled.ci_low,
        pooled.ci_high,
        pooled.p_value,
        pooled.tau2,
        pooled.i2,
        pooled.q,
        swc,
        summary,
        caveats,
        pooled.persons,
        dict(group or {}),
        bool(group),
    )


def cohort_breakdowns(
    claim: str,
    metric: str,
    sessions: Sequence[SessionDelta],
    *,
    swc: float,
    by: Sequence[str] = ("modality", "pressure", "duration"),
    **kwargs: Any,
) -> list[CohortResult]:
    """Exploratory pooled results per modality, pressure and duration band (flagged ``exploratory``)."""
    out: list[CohortResult] = []
    for key in by:
        groups: dict[str, dict[str, list[float | None]]] = defaultdict(lambda: defaultdict(list))
        for s in sessions:
            value = wording.duration_band(s.duration_min) if key == "duration" else getattr(s, key)
            if value is not None:
                groups[value][s.person_id].append(s.delta)
        for value in sorted(groups):
            res = assess_cohort(claim, metric, groups[value], swc=swc, group={key: value}, **kwargs)
            out.append(replace(res, exploratory=True))
    return out
