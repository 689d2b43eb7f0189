"""Every sentence the evidence shows people: summaries and caveats, in plain words.

The rules behind them are in ``docs/method.md`` ("Evidence and statistics"). Nothing
here overstates: HRV is a marker of autonomic state, not a hormone level; a session
compared with an ordinary day includes resting and the visit; pre/post changes without
blinding or randomisation show association.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from signal_processing.evidence import MIN_REST_SESSIONS

if TYPE_CHECKING:
    from service.evidence.claims import Claim
    from service.evidence.results import EndpointResult

GENERAL_CAVEATS = (
    "Pre/post changes without blinding or randomisation show association, not that the massage caused them.",
)
HRV_CAVEAT = (
    "HRV is a marker of autonomic (vagal) state, not a hormone level; a resting person's HRV "
    "also rises without massage (Meier et al. 2020)."
)
VISIT_CAVEAT = (
    "Compared with ordinary days, not with resting: control days remove the daily rhythm and "
    "drift but none of what lying still, the trip and the visit do. Log rest-control sessions "
    f"(modality 'rest', at least {MIN_REST_SESSIONS}) to compare massage with resting."
)
REST_CAVEAT = (
    "Massage sessions are compared with this person's rest-control sessions (lying still, same "
    "setting, no massage); ordinary days still remove the daily rhythm from both."
)
SELF_REPORT_CAVEAT = (
    "Self-reports are subjective and influenced by expectation; no placebo comparison exists."
)
RELATED_NOTE = (
    "Autonomic marker shown as related physiology: it is not a hormone measurement and does "
    "not decide this claim's verdict."
)
VISIT = "a session visit compared with an ordinary day: includes the effect of resting and of the visit"
#: Self-reports and cortisol are before/after a session with no ordinary-day counterpart.
VISIT_BEFORE_AFTER = (
    "a before-to-after change around a session visit, with no comparison: includes the "
    "effect of resting, of the visit and of expectation"
)
MASSAGE_VS_REST = "massage compared with resting"


def fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.3g}"


def _what(ep: EndpointResult) -> str:
    nca = ep.n_control_adjusted
    if nca is None:
        return ep.label
    if nca == 0:
        return f"{ep.label} (raw before-to-after change, no control days)"
    if nca < ep.n_sessions:
        return f"{ep.label} (relative to control days for {nca} of {ep.n_sessions} sessions)"
    return f"{ep.label} (relative to control days)"


def not_measured(claim: Claim, *, no_results: bool = False) -> str:
    if no_results:
        return f"Not measured: no results that measure '{claim.label}' are logged. {claim.not_measurable}"
    return f"Not measured: {claim.not_measurable}"


def summary(claim: Claim, ep: EndpointResult | None, min_sessions: int) -> str:
    """One paragraph: what was compared, what it showed, and how far it can be read."""
    if ep is None or ep.n_sessions == 0:
        return f"No usable sessions with data for '{claim.label}'."
    what = _what(ep)
    if ep.verdict == "insufficient data":
        text = (
            f"Only {ep.n_sessions} usable session(s) for {what}; at least {min_sessions} are needed "
            "before estimating anything, so no estimate or interval is shown."
        )
        return text + _rest_count(ep)
    if ep.comparison == "rest":
        head = (
            f"Across {ep.n_sessions} massage and {ep.n_rest_sessions} rest-control sessions, {what} "
            f"changed by {fmt(ep.estimate)} more with massage than with resting (95 % CI "
            f"{fmt(ep.ci_low)} to {fmt(ep.ci_high)}, {ep.ci_method}); this is {MASSAGE_VS_REST}"
        )
    else:
        visit = VISIT if ep.evidence_kind in ("wearable", "proxy") else VISIT_BEFORE_AFTER
        head = (
            f"Across {ep.n_sessions} sessions {what} changed by {fmt(ep.estimate)} (95 % CI "
            f"{fmt(ep.ci_low)} to {fmt(ep.ci_high)}); this is {visit}"
        )
    body = {
        "supported": (
            f". The change is worthwhile and in the direction the claim '{claim.label}' predicts. "
            "It is an association seen in this person's data, not proof that the massage "
            "caused it."
        ),
        "contradicted": f". The change goes the opposite way to the claim '{claim.label}'.",
        "not supported": (
            f". It lies within the smallest worthwhile change of ±{ep.swc:.3g}: no worthwhile "
            "effect in these data."
        ),
        "inconclusive": (
            ". The data neither show a worthwhile effect nor rule one out; more sessions "
            "would narrow the interval."
        ),
    }[ep.verdict]
    if ep.degenerate:
        body = (
            f". Every session gave exactly the same change ({fmt(ep.estimate)}): with no spread at all "
            "the interval is that single value, so it says nothing about how much the effect varies, "
            "and more sessions of identical values would not make it more precise. Identical values "
            "often mean a rating was entered by habit; check how they were recorded."
        )
    if ep.weekday_confounded:
        body += (
            f" For {ep.n_without_weekday_control} of {ep.n_sessions} sessions no control day fell on the "
            "session weekday, so anything specific to that weekday is mixed into the change; the "
            "verdict is held at inconclusive for that reason."
        )
    if ep.comparison == "ordinary_day" and ep.verdict in ("supported", "contradicted"):
        body += " It does not show an effect of massage itself."
    return head + body + _rest_count(ep)


def _rest_count(ep: EndpointResult) -> str:
    if ep.comparison == "rest" or ep.n_rest_sessions == 0:
        return ""
    return (
        f" Only {ep.n_rest_sessions} rest-control session(s) with data; at least {MIN_REST_SESSIONS} "
        "are needed to compare massage with resting."
    )


def caveats(claim: Claim, ep: EndpointResult | None, *, hrv_metrics: frozenset[str]) -> list[str]:
    """General caveats plus those the claim's headline endpoint calls for."""
    if not claim.measures or ep is None:
        return []
    out = list(GENERAL_CAVEATS)
    if claim.id == "acute_stress" or ep.metric in hrv_metrics:
        out.append(HRV_CAVEAT)
    if ep.evidence_kind in ("wearable", "proxy"):
        out.append(REST_CAVEAT if ep.comparison == "rest" else VISIT_CAVEAT)
    if ep.evidence_kind == "self_report":
        out.append(SELF_REPORT_CAVEAT)
    if ep.n_control_adjusted is not None and ep.n_control_adjusted < ep.n_sessions:
        out.append(
            f"{ep.n_sessions - ep.n_control_adjusted} of {ep.n_sessions} session(s) had fewer than "
            "3 control days: their raw pre/post change was used, which includes the daily rhythm."
        )
    if ep.n_without_weekday_control:
        out.append(
            f"{ep.n_without_weekday_control} of {ep.n_sessions} session(s) had no control day on the "
            "same weekday: anything specific to that weekday (work, training, sleep) is mixed into "
            "their change."
        )
    for reason, count in sorted(ep.excluded.items()):
        out.append(f"{count} session(s) excluded: {reason}.")
    if ep.degenerate:
        out.append("Every session gave the same change, so the interval is a single value.")
    return out


def cortisol_caveat(specimen: str | None, clock: str | None, n_dropped: int) -> str:
    """Cortisol compares like with like: one specimen, similar time of day."""
    text = (
        "Cortisol follows a daily rhythm (highest after waking, falling through the day), so only "
        f"samples of one specimen ({specimen or 'unspecified'}) taken at a similar time of day are "
        "compared"
    )
    if clock:
        text += f" (before-samples taken {clock} local time)"
    text += (
        "; a before/after fall partly reflects the time of day unless rest-control sessions at the "
        "same time show the same fall."
    )
    if n_dropped:
        text += f" {n_dropped} pair(s) of another specimen or time of day were left out."
    return text


HAIR_CORTISOL = (
    "{n} cortisol pair(s) could not be compared: hair cortisol reflects months of secretion, not one session."
)


def duration_band(minutes: float | None) -> str | None:
    if minutes is None:
        return None
    return "up to 45 min" if minutes <= 45 else ("46-75 min" if minutes <= 75 else "over 75 min")
