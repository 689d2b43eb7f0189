"""Per-claim evidence: the claims table, verdict rules, literature, n-of-1 and cohort results.

Input is, per claim and metric, one number per usable session: the control-adjusted
change from :mod:`signal_processing.response` (or the raw change, labelled, when a
session had too few control days). Output answers "does massage do what it claims,
for this person / this therapist's clients, and how sure can we be", with the
published literature beside it. Rules are written in ``docs/method.md``
("Evidence and statistics"); DESIGN.md §6 is the specification.

The wording never overstates: HRV is a marker of autonomic state, not a hormone
level, and pre/post changes without blinding or randomisation show association.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from signal_processing import stats

__all__ = [
    "ALPHA",
    "CLAIMS",
    "MIN_SESSIONS",
    "PRIMARY_ENDPOINT",
    "VERDICTS",
    "Claim",
    "ClaimResult",
    "CohortResult",
    "EndpointData",
    "EndpointResult",
    "Literature",
    "Measure",
    "PersonEffect",
    "SessionDelta",
    "assess_claim",
    "assess_cohort",
    "assess_endpoint",
    "assess_person",
    "cohort_breakdowns",
    "person_effect",
    "verdict",
]

EvidenceKind = Literal["wearable", "lab", "proxy", "self_report", "none"]
Verdict = Literal["supported", "not supported", "contradicted", "inconclusive", "insufficient data"]
Better = Literal["higher", "lower"]

VERDICTS: tuple[Verdict, ...] = ("supported", "not supported", "contradicted", "inconclusive", "insufficient data")
MIN_SESSIONS = 6  # n-of-1: with n=6 the smallest exact two-sided Wilcoxon p is 2/64 = 0.031 < 0.05
MIN_PERSONS = 3  # cohort: fewer persons cannot estimate between-person variance at all usefully
MIN_SESSIONS_PER_PERSON = 3  # below this a person's bootstrap variance is undefined (see stats)
ALPHA = 0.05
PRIMARY_ENDPOINT = ("acute_stress", "ln_rmssd")


# --------------------------------------------------------------------------- the claims table


@dataclass(frozen=True)
class Literature:
    """What published research found for a claim. ``verified=False`` marks details we could not check."""

    citation: str
    finding: str
    verified: bool = True


@dataclass(frozen=True)
class Measure:
    """One metric that measures a claim, and which direction is the claimed improvement."""

    metric: str
    better: Better
    evidence_kind: EvidenceKind
    label: str


@dataclass(frozen=True)
class Claim:
    """A claim from the massage-therapy literature and how (or whether) these data measure it."""

    id: str
    label: str
    evidence_kind: EvidenceKind
    measures: tuple[Measure, ...]  # first = headline metric; rest = secondary endpoints
    literature: tuple[Literature, ...] = ()
    not_measurable: str | None = None  # set for evidence_kind "none"


_MOYER_2004 = Literature(
    "Moyer CA, Rounds J, Hannum JW. A meta-analysis of massage therapy research. "
    "Psychological Bulletin 2004;130(1):3-18.",
    "Single sessions reduced state anxiety, blood pressure and heart rate but not cortisol or "
    "immediate pain; courses of massage reduced trait anxiety and depression (the largest effects, "
    "comparable to psychotherapy) and delayed pain.",
)
_MOYER_2011 = Literature(
    "Moyer CA, Seefeldt L, Mann ES, Jackley LM. Does massage therapy reduce cortisol? A comprehensive "
    "quantitative review. Journal of Bodywork and Movement Therapies 2011;15(1):3-14.",
    "Effects on cortisol were very small (between-group d about 0.05-0.30) and not statistically "
    "different from zero; cortisol reduction is unlikely to explain massage's benefits.",
)
_MEIER_2020 = Literature(
    "Meier M, Unternaehrer E, Dimitroff SJ, et al. Standardized massage interventions as protocols "
    "for the induction of psychophysiological relaxation in the laboratory: a block randomized, "
    "controlled trial. Scientific Reports 2020;10:14774.",
    "HF-HRV rose in all groups, including the group that only rested; both massages raised HF-HRV "
    "more than rest. A pre/post rise in HRV is therefore partly what rest alone does.",
)
_DIEGO_FIELD_2009 = Literature(
    "Diego MA, Field T. Moderate pressure massage elicits a parasympathetic nervous system response. "
    "International Journal of Neuroscience 2009;119(5):630-638.",
    "In 20 adults, moderate-pressure massage increased HF and lowered LF/HF (a vagal shift); light "
    "pressure did the opposite. A small study from the group that also promotes the method.",
)

_HRV = ("ln_rmssd", "rmssd", "hf", "pns_index", "night_ln_rmssd", "morning_ln_rmssd")


def _none(cid: str, label: str, why: str, lit: tuple[Literature, ...] = ()) -> Claim:
    return Claim(cid, label, "none", (), lit, why)


CLAIMS: dict[str, Claim] = {
    c.id: c
    for c in (
        Claim(
            "acute_stress", "reduces acute stress", "wearable",
            (
                Measure("ln_rmssd", "higher", "wearable", "lnRMSSD"),
                Measure("mean_hr", "lower", "wearable", "mean heart rate"),
                Measure("hf", "higher", "wearable", "HF power"),
                Measure("stress_index", "lower", "wearable", "stress index"),
            ),
            (_MOYER_2004, _MEIER_2020, _DIEGO_FIELD_2009),
        ),
        Claim(
            "sleep", "improves sleep", "wearable",
            (
                Measure("night_ln_rmssd", "higher", "wearable", "next-night lnRMSSD"),
                Measure("night_hr", "lower", "wearable", "next-night resting heart rate"),
                Measure("sleep_duration_min", "higher", "wearable", "sleep duration"),
                Measure("sleep_efficiency", "higher", "wearable", "sleep efficiency"),
            ),
            (
                Literature(
                    "Samuel SR, Gururaj R, Kumar KV, et al. Randomized control trial evidence for the "
                    "benefits of massage and relaxation therapy on sleep in cancer survivors - a "
                    "systematic review. Journal of Cancer Survivorship 2021;15(5).",
                    "Four small RCTs in cancer survivors: massage improved self-reported sleep; no "
                    "meta-analysis, populations not general.",
                ),
                Literature(
                    "Fang CS, Chang SL, Fang CJ, Chou FH. Effect of massage therapy on sleep quality in "
                    "critically ill patients: a systematic review and meta-analysis. Journal of Clinical "
                    "Nursing 2023;32(15-16):4362-4373.",
                    "Subjective sleep quality improved (mainly foot reflexology) in intensive-care "
                    "patients; overall certainty of evidence low (GRADE).",
                ),
            ),
        ),
        Claim(
            "stress_hormones", "lowers stress hormones (cortisol)", "lab",
            (
                Measure("cortisol", "lower", "lab", "cortisol"),
                Measure("sns_index", "lower", "proxy", "SNS index (proxy, not a hormone)"),
                Measure("stress_index", "lower", "proxy", "stress index (proxy, not a hormone)"),
            ),
            (_MOYER_2011, _MOYER_2004),
        ),
        Claim(
            "recovery", "faster recovery, overall wellness", "wearable",
            (Measure("morning_ln_rmssd", "higher", "wearable", "next-morning lnRMSSD vs 7-day baseline"),),
            (
                Literature(
                    "Dupuy O, Douzi W, Theurot D, Bosquet L, Dugue B. An evidence-based approach for "
                    "choosing post-exercise recovery techniques to reduce markers of muscle damage, "
                    "soreness, fatigue, and inflammation: a systematic review with meta-analysis. "
                    "Frontiers in Physiology 2018;9:403.",
                    "After exercise, massage was the most effective technique for perceived soreness "
                    "and fatigue; this concerns muscle recovery, not autonomic recovery measured by HRV.",
                ),
                Literature(
                    "Plews DJ, Laursen PB, Kilding AE, Buchheit M. Heart rate variability in elite "
                    "triathletes, is variation in variability the key to effective training? A case "
                    "comparison. European Journal of Applied Physiology 2012;112:3729-3741.",
                    "Method, not a massage finding: lnRMSSD judged against a rolling baseline and a "
                    "smallest worthwhile change of 0.5 x its SD.",
                ),
            ),
        ),
        Claim(
            "pain", "relieves pain", "self_report",
            (Measure("pain", "lower", "self_report", "self-reported pain (0-10)"),),
            (
                Literature(
                    "Crawford C, Boyd C, Paat CF, et al. The impact of massage therapy on function in "
                    "pain populations - a systematic review and meta-analysis of randomized controlled "
                    "trials: Part I, patients experiencing pain in the general population. Pain "
                    "Medicine 2016;17(7):1353-1375.",
                    "Massage reduced pain compared with no treatment and with some active comparators; "
                    "evidence quality low to moderate, effects mostly short-term.",
                ),
                Literature(
                    "Bervoets DC, Luijsterburg PAJ, Alessie JJN, Buijs MJ, Verhagen AP. Massage therapy "
                    "has short-term benefits for people with common musculoskeletal disorders compared "
                    "to no treatment: a systematic review. Journal of Physiotherapy 2015;61(3):106-116.",
                    "Short-term pain relief versus no treatment for some musculoskeletal disorders; "
                    "not better than other active treatments; little long-term evidence.",
                ),
                _MOYER_2004,
            ),
        ),
        Claim(
            "headache", "relieves headaches", "self_report",
            (Measure("headache_intensity", "lower", "self_report", "self-reported headache intensity (0-10)"),),
            (
                Literature(
                    "Quinn C, Chandler C, Moraska A. Massage therapy and frequency of chronic tension "
                    "headaches. American Journal of Public Health 2002;92(10):1657-1661.",
                    "Uncontrolled pre/post study of a few adults: fewer headaches during a course of "
                    "neck and shoulder massage; no control group.",
                    verified=False,
                ),
            ),
        ),
        Claim(
            "anxiety", "reduces anxiety", "self_report",
            (Measure("anxiety", "lower", "self_report", "self-reported anxiety (0-10)"),),
            (_MOYER_2004,),
        ),
        _none("immune", "strengthens the immune system",
              "Heart rate, HRV and sleep data cannot measure immune function: that needs blood tests "
              "(for example lymphocyte counts), which Vagus does not collect.",
              (Literature(
                  "Rapaport MH, Schettler P, Bresee C. A preliminary study of the effects of a single "
                  "session of Swedish massage on hypothalamic-pituitary-adrenal and immune function in "
                  "normal individuals. Journal of Alternative and Complementary Medicine "
                  "2010;16(10):1079-1088.",
                  "Preliminary, small study: a single session changed some immune and hormone markers "
                  "slightly; not replicated at scale.",
                  verified=False),)),
        _none("circulation", "improves circulation",
              "A wearable's heart rate and HRV do not measure blood flow or circulation; that needs "
              "vascular measurements such as Doppler ultrasound."),
        _none("posture", "improves posture",
              "Heart rate and HRV data contain nothing about posture; it needs a physical assessment."),
        _none("flexibility", "improves flexibility",
              "Heart rate and HRV data contain nothing about range of motion; it needs a physical "
              "assessment such as a sit-and-reach or goniometer measurement."),
    )
}

GENERAL_CAVEATS = (
    "Pre/post changes without blinding or randomisation show association, not that the massage caused them.",
)
HRV_CAVEAT = ("HRV is a marker of autonomic (vagal) state, not a hormone level; a resting person's HRV "
              "also rises without massage (Meier et al. 2020), which the control days only partly remove.")
PROXY_CAVEAT = ("No cortisol results: the SNS and stress indices are a proxy for sympathetic activation, "
                "not a measurement of cortisol or any hormone.")
SELF_REPORT_CAVEAT = "Self-reports are subjective and influenced by expectation; no placebo comparison exists."


# --------------------------------------------------------------------------- verdict rule


def verdict(
    *,
    n: int,
    estimate: float | None,
    ci_low: float | None,
    ci_high: float | None,
    p_value: float | None,
    swc: float,
    better: Better,
    min_sessions: int = MIN_SESSIONS,
    alpha: float = ALPHA,
) -> Verdict:
    """Verdict from estimate, 95 % CI, p-value and smallest worthwhile change (SWC).

    On the improvement scale (values flipped when lower is better):

    1. ``n < min_sessions`` → ``insufficient data``;
    2. CI entirely above 0, ``p < alpha`` and estimate ≥ SWC → ``supported``;
    3. CI entirely below 0, ``p < alpha`` and estimate ≤ −SWC → ``contradicted``;
    4. CI entirely inside (−SWC, +SWC) → ``not supported`` (equivalence: no worthwhile effect);
    5. otherwise (or no CI) → ``inconclusive``.

    The point estimate must reach the SWC for ``supported``: a change that is reliably
    non-zero but smaller than worthwhile does not support a health claim. Requiring the
    whole CI beyond SWC would instead need far more sessions than a person has.
    """
    if n < min_sessions:
        return "insufficient data"
    if estimate is None or ci_low is None or ci_high is None:
        return "inconclusive"
    s = 1.0 if better == "higher" else -1.0
    e = s * estimate
    lo, hi = sorted((s * ci_low, s * ci_high))
    significant = p_value is not None and p_value < alpha  # no p when every change is exactly 0
    if lo > 0 and significant and e >= swc:
        return "supported"
    if hi < 0 and significant and e <= -swc:
        return "contradicted"
    if -swc < lo and hi < swc:
        return "not supported"
    return "inconclusive"


# --------------------------------------------------------------------------- one endpoint


@dataclass(frozen=True)
class EndpointData:
    """Per-session deltas of one metric for one claim, as produced by :mod:`response`."""

    claim: str
    metric: str
    deltas: Sequence[float | None]
    swc: float
    n_control_adjusted: int | None = None  # how many deltas are control-adjusted (rest: raw change)
    excluded: Mapping[str, int] = field(default_factory=dict)  # unusable sessions by reason


@dataclass(frozen=True)
class EndpointResult:
    """Statistics and verdict for one claim × metric."""

    claim: str
    metric: str
    label: str
    role: Literal["primary", "secondary"]
    evidence_kind: EvidenceKind
    better: Better
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


def _measure(claim_id: str, metric: str) -> Measure:
    for m in CLAIMS[claim_id].measures:
        if m.metric == metric:
            return m
    raise ValueError(f"claim {claim_id!r} is not measured by {metric!r}")


def assess_endpoint(
    data: EndpointData,
    *,
    p_adjusted: float | None = None,
    min_sessions: int = MIN_SESSIONS,
    alpha: float = ALPHA,
    n_resamples: int = 2000,
    seed: int = 0,
) -> EndpointResult:
    """Hodges–Lehmann estimate, BCa 95 % CI, Hedges' g, Wilcoxon p and verdict for one endpoint.

    The verdict uses ``p_adjusted`` when given (secondary endpoints after Holm), else the
    raw p. When every session gave the identical change (common with 0–10 self-reports)
    the bootstrap has nothing to resample: the interval collapses to that value.
    """
    m = _measure(data.claim, data.metric)
    x = [float(v) for v in data.deltas if v is not None and math.isfinite(v)]
    n = len(x)
    est = stats.hodges_lehmann(x)
    ci = stats.bootstrap_hl_ci(x, n_resamples=n_resamples, seed=seed)
    if ci is not None:
        lo, hi, how = ci.low, ci.high, "BCa bootstrap"
    elif n >= stats.MIN_BOOTSTRAP_N and est is not None:
        lo, hi, how = est, est, "degenerate (all changes equal)"
    else:
        lo = hi = how = None
    p = stats.wilcoxon_p(x)
    role = "primary" if (data.claim, data.metric) == PRIMARY_ENDPOINT else "secondary"
    p_used = p if role == "primary" or p_adjusted is None else p_adjusted
    v = verdict(n=n, estimate=est, ci_low=lo, ci_high=hi, p_value=p_used, swc=data.swc,
                better=m.better, min_sessions=min_sessions, alpha=alpha)
    return EndpointResult(
        data.claim, data.metric, m.label, role, m.evidence_kind, m.better, n, est, lo, hi, how,
        stats.hedges_g(x), p, p if role == "primary" else p_adjusted, data.swc, v,
        data.n_control_adjusted, dict(data.excluded),
    )


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
    exploratory: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the service serves it as is)."""
        return asdict(self)


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.3g}"


def _summary(claim: Claim, ep: EndpointResult | None, min_sessions: int) -> str:
    if claim.evidence_kind == "none":
        return f"Not measurable from these data: {claim.not_measurable}"
    if ep is None or ep.n_sessions == 0:
        return f"No usable sessions with data for '{claim.label}'."
    nca = ep.n_control_adjusted
    if nca is None:
        what = ep.label
    elif nca == 0:
        what = f"{ep.label} (raw before-to-after change, no control days)"
    elif nca < ep.n_sessions:
        what = f"{ep.label} (relative to control days for {nca} of {ep.n_sessions} sessions)"
    else:
        what = f"{ep.label} (relative to control days)"
    head = {
        "insufficient data": (f"Only {ep.n_sessions} usable session(s) for {what}; at least {min_sessions} "
                              "are needed before saying anything about this claim."),
        "supported": (f"Across {ep.n_sessions} sessions {what} changed by {_fmt(ep.estimate)} (95 % CI "
                      f"{_fmt(ep.ci_low)} to {_fmt(ep.ci_high)}): a worthwhile change in the direction the "
                      f"claim '{claim.label}' predicts. This is an "
                      "association seen in this person's data, not proof that the massage caused it."),
        "contradicted": (f"Across {ep.n_sessions} sessions {what} changed by {_fmt(ep.estimate)} (95 % CI "
                         f"{_fmt(ep.ci_low)} to {_fmt(ep.ci_high)}): the opposite direction to the claim "
                         f"'{claim.label}'."),
        "not supported": (f"Across {ep.n_sessions} sessions {what} changed by {_fmt(ep.estimate)} (95 % CI "
                          f"{_fmt(ep.ci_low)} to {_fmt(ep.ci_high)}), within the smallest worthwhile change "
                          f"of ±{ep.swc:.3g}: no worthwhile effect in these data."),
        "inconclusive": (f"Across {ep.n_sessions} sessions {what} changed by {_fmt(ep.estimate)} (95 % CI "
                         f"{_fmt(ep.ci_low)} to {_fmt(ep.ci_high)}): the data neither show a worthwhile "
                         "effect nor rule one out; more sessions would narrow the interval."),
    }[ep.verdict]
    if ep.evidence_kind == "proxy":
        head += " This is a proxy for sympathetic activation, not a hormone measurement."
    return head


def _caveats(claim: Claim, ep: EndpointResult | None) -> list[str]:
    if claim.evidence_kind == "none":
        return []
    out = list(GENERAL_CAVEATS)
    kind = ep.evidence_kind if ep else claim.evidence_kind
    if claim.id == "acute_stress" or (ep is not None and ep.metric in _HRV):
        out.append(HRV_CAVEAT)
    if kind == "proxy" or (claim.id == "stress_hormones" and (ep is None or ep.metric != "cortisol")):
        out.append(PROXY_CAVEAT)
    if kind == "self_report":
        out.append(SELF_REPORT_CAVEAT)
    if ep is not None:
        if ep.n_control_adjusted is not None and ep.n_control_adjusted < ep.n_sessions:
            out.append(f"{ep.n_sessions - ep.n_control_adjusted} of {ep.n_sessions} session(s) had fewer than "
                       "3 control days: their raw pre/post change was used, which includes the daily rhythm.")
        for reason, count in sorted(ep.excluded.items()):
            out.append(f"{count} session(s) excluded: {reason}.")
        if ep.ci_method and ep.ci_method.startswith("degenerate"):
            out.append("Every session gave the same change, so the interval is a single value.")
    return out


def _headline(claim: Claim, eps: list[EndpointResult]) -> EndpointResult | None:
    """First measure with enough sessions, else first with any data (cortisol beats its proxies)."""
    by_metric = {e.metric: e for e in eps}
    ordered = [by_metric[m.metric] for m in claim.measures if m.metric in by_metric]
    for pick in (lambda e: e.verdict != "insufficient data", lambda e: e.n_sessions > 0):
        for e in ordered:
            if pick(e):
                return e
    return ordered[0] if ordered else None


def _claim_result(claim: Claim, eps: list[EndpointResult], min_sessions: int) -> ClaimResult:
    ep = _headline(claim, eps)
    kind: EvidenceKind = ep.evidence_kind if ep else claim.evidence_kind
    if claim.id == "stress_hormones" and ep is None:
        kind = "proxy"  # nothing logged: the proxy is what would be used
    return ClaimResult(
        claim=claim.id, label=claim.label,
        verdict=ep.verdict if ep else "insufficient data",
        evidence_kind=kind,
        n_sessions=ep.n_sessions if ep else 0,
        metric=ep.metric if ep else None,
        estimate=ep.estimate if ep else None,
        ci_low=ep.ci_low if ep else None,
        ci_high=ep.ci_high if ep else None,
        hedges_g=ep.hedges_g if ep else None,
        p_value=ep.p_value if ep else None,
        p_adjusted=ep.p_adjusted if ep else None,
        swc=ep.swc if ep else None,
        summary=_summary(claim, ep, min_sessions),
        caveats=_caveats(claim, ep),
        literature=[asdict(lit) for lit in claim.literature],
        endpoints=eps,
    )


def assess_claim(
    claim: str,
    deltas: Sequence[float | None],
    swc: float,
    *,
    metric: str | None = None,
    p_adjusted: float | None = None,
    n_control_adjusted: int | None = None,
    min_sessions: int = MIN_SESSIONS,
    alpha: float = ALPHA,
    n_resamples: int = 2000,
    seed: int = 0,
) -> ClaimResult:
    """Evidence for one claim from its per-session deltas (headline metric unless ``metric`` is given).

    For a single claim on its own; :func:`assess_person` does all claims with Holm across
    the secondary endpoints. Claims with ``evidence_kind`` "none" ignore the deltas.
    """
    c = CLAIMS[claim]
    if not c.measures:
        return _claim_result(c, [], min_sessions)
    data = EndpointData(claim, metric or c.measures[0].metric, deltas, swc, n_control_adjusted)
    ep = assess_endpoint(data, p_adjusted=p_adjusted, min_sessions=min_sessions, alpha=alpha,
                         n_resamples=n_resamples, seed=seed)
    return _claim_result(c, [ep], min_sessions)


def assess_person(
    endpoints: Iterable[EndpointData],
    *,
    min_sessions: int = MIN_SESSIONS,
    alpha: float = ALPHA,
    n_resamples: int = 2000,
    seed: int = 0,
) -> list[ClaimResult]:
    """n-of-1 evidence for every claim in :data:`CLAIMS` (in table order).

    ``endpoints`` holds the per-session deltas the service gathered, any subset of the
    claims' measures. Every endpoint except the primary one (lnRMSSD change for
    ``acute_stress``) that has at least ``min_sessions`` sessions joins one Holm family;
    endpoints with fewer are not tested and do not inflate the family. Claims without
    data, and claims these data cannot measure, still appear with ``insufficient data``
    and a plain summary.
    """
    data = list(endpoints)
    raw = [assess_endpoint(d, min_sessions=min_sessions, alpha=alpha, n_resamples=n_resamples, seed=seed)
           for d in data]
    family = [i for i, r in enumerate(raw)
              if r.role == "secondary" and r.n_sessions >= min_sessions and r.p_value is not None]
    adjusted = stats.holm([raw[i].p_value for i in family])
    results = list(raw)
    for i, p_adj in zip(family, adjusted, strict=True):
        results[i] = assess_endpoint(data[i], p_adjusted=p_adj, min_sessions=min_sessions, alpha=alpha,
                                     n_resamples=n_resamples, seed=seed)
    grouped: dict[str, list[EndpointResult]] = defaultdict(list)
    for r in results:
        grouped[r.claim].append(r)
    return [_claim_result(c, grouped.get(c.id, []), min_sessions) for c in CLAIMS.values()]


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
class PersonEffect:
    """One person's HL effect and its bootstrap variance (the input to pooling)."""

    person_id: str
    n_sessions: int
    estimate: float
    variance: float


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
    persons: list[PersonEffect]
    group: Mapping[str, str] = field(default_factory=dict)
    exploratory: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def person_effect(person_id: str, deltas: Sequence[float | None], *, n_resamples: int = 2000,
                  seed: int = 0) -> PersonEffect | None:
    """HL estimate with variance from the bootstrap: ``(SE_boot · expansion_factor(n))²``.

    The bootstrap SE is used (rather than one derived from the Wilcoxon/Hodges–Lehmann
    interval) because it comes from the same resampling that gives the CI and needs no
    symmetry assumption. Like the interval, it is widened by the small-sample factor
    ``sqrt(n/(n−1)) · t_{n−1} / z`` (:func:`stats.expansion_factor`): the plug-in
    bootstrap SE is too small at n ≈ 6–12, which would make Q and I² report
    heterogeneity that is not there. ``None`` below 3 sessions or with no spread.
    """
    x = [float(v) for v in deltas if v is not None and math.isfinite(v)]
    ci = stats.bootstrap_hl_ci(x, n_resamples=n_resamples, seed=seed)
    est = stats.hodges_lehmann(x)
    if ci is None or est is None or ci.standard_error <= 0:
        return None
    se = ci.standard_error * stats.expansion_factor(len(x))
    return PersonEffect(person_id, len(x), est, se**2)


def assess_cohort(
    claim: str,
    metric: str,
    deltas_by_person: Mapping[str, Sequence[float | None]],
    *,
    swc: float,
    min_persons: int = MIN_PERSONS,
    min_sessions_per_person: int = MIN_SESSIONS_PER_PERSON,
    alpha: float = ALPHA,
    n_resamples: int = 2000,
    seed: int = 0,
    group: Mapping[str, str] | None = None,
    hartung_knapp: bool = True,
) -> CohortResult:
    """Pool per-person HL effects with DerSimonian–Laird; verdict by the same rule as n-of-1.

    The interval and p-value use the Hartung–Knapp adjustment by default (t with k − 1 df):
    a therapist's cohort is a handful of persons, where the plain DerSimonian–Laird Wald
    interval is too narrow. Persons with fewer than ``min_sessions_per_person`` usable
    sessions are left out; fewer than ``min_persons`` remaining → ``insufficient data``.
    """
    m = _measure(claim, metric)
    persons = []
    for pid, d in deltas_by_person.items():
        if sum(v is not None and math.isfinite(v) for v in d) >= min_sessions_per_person:
            pe = person_effect(pid, d, n_resamples=n_resamples, seed=seed)
            if pe is not None:
                persons.append(pe)
    pooled = stats.dersimonian_laird([p.estimate for p in persons], [p.variance for p in persons],
                                     hartung_knapp=hartung_knapp)
    k = len(persons)
    v = verdict(n=k, estimate=pooled.estimate if pooled else None, ci_low=pooled.ci_low if pooled else None,
                ci_high=pooled.ci_high if pooled else None, p_value=pooled.p_value if pooled else None,
                swc=swc, better=m.better, min_sessions=min_persons, alpha=alpha)
    caveats = list(GENERAL_CAVEATS)
    if hartung_knapp:
        caveats.append("Random-effects model (DerSimonian-Laird) with the Hartung-Knapp interval; with few "
                       "persons the interval is wide, as it should be.")
    else:
        caveats.append("Random-effects (DerSimonian-Laird) Wald interval; with few persons it is too narrow "
                       "(IntHout et al. 2014), so read it as optimistic.")
    if pooled and pooled.i2 is not None and pooled.i2 >= 50:
        caveats.append(f"Persons differ a lot (I² = {pooled.i2:.0f} %): the average may describe nobody well.")
    if group:
        caveats.append("Exploratory subgroup: not a pre-specified comparison; do not draw conclusions from it.")
    if pooled is None or k < min_persons:
        summary = (f"Only {k} person(s) with at least {min_sessions_per_person} usable sessions; at least "
                   f"{min_persons} are needed to pool.")
    else:
        summary = (f"Across {k} persons the pooled {m.label} change was {_fmt(pooled.estimate)} (95 % CI "
                   f"{_fmt(pooled.ci_low)} to {_fmt(pooled.ci_high)}); verdict: {v}. Association only.")
    return CohortResult(
        claim, metric, v, m.evidence_kind, k, sum(p.n_sessions for p in persons),
        pooled.estimate if pooled else None, pooled.ci_low if pooled else None,
        pooled.ci_high if pooled else None, pooled.p_value if pooled else None,
        pooled.tau2 if pooled else None, pooled.i2 if pooled else None, pooled.q if pooled else None,
        swc, summary, caveats, persons, dict(group or {}), bool(group),
    )


def _duration_band(minutes: float | None) -> str | None:
    if minutes is None:
        return None
    return "up to 45 min" if minutes <= 45 else ("46-75 min" if minutes <= 75 else "over 75 min")


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
            value = _duration_band(s.duration_min) if key == "duration" else getattr(s, key)
            if value is not None:
                groups[value][s.person_id].append(s.delta)
        for value in sorted(groups):
            res = assess_cohort(claim, metric, groups[value], swc=swc, group={key: value}, **kwargs)
            out.append(replace(res, exploratory=True))
    return out
