"""Per-claim evidence for one person (n-of-1 over their sessions) and for a therapist's cohort.

Gathers each session's control-adjusted deltas (see :mod:`.session_response`),
self-reported before/after changes and cortisol pairs, then asks
``signal_processing.evidence`` for estimates, intervals, p-values and verdicts.

Smallest worthwhile change (SWC) per endpoint: one rule per metric in
``signal_processing.metrics`` (``smallest_worthwhile_change(metric, spread)``); this
module only gathers each metric's spread (control-day changes, control nights, daily
mornings) and passes it.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import psycopg

from signal_processing import evidence as sp_evidence
from signal_processing.metrics import NIGHT_METRICS, smallest_worthwhile_change

from service.care.repository import lab_results, self_reports
from service.care.repository import sessions as session_repo
from service.analysis.session_response import (
    DEFAULT_WINDOWS,
    WindowConfig,
    cached_session_response,
)

WINDOW_ENDPOINTS = {"acute_stress": ("ln_rmssd", "mean_hr", "hf", "stress_index"),
                    "stress_hormones": ("sns_index", "stress_index")}
SELF_REPORTS = {"pain": "pain", "headache": "headache", "anxiety": "anxiety"}
SELF_REPORT_METRIC = {"pain": "pain", "headache": "headache_intensity", "anxiety": "anxiety"}


def _window_endpoint(claim: str, metric: str, responses: list[dict]) -> sp_evidence.EndpointData:
    entries = [r["metrics"][metric] for r in responses]
    excluded = Counter(e["reason"].split(":")[0] for e in entries
                       if e["delta"] is None and e["reason"])
    spread = [c for e in entries for c in e["control_changes"]]
    return sp_evidence.EndpointData(
        claim, metric, [e["delta"] for e in entries], smallest_worthwhile_change(metric, spread),
        sum(1 for e in entries if e["control_adjusted"]), dict(excluded))


def _night_endpoint(metric: str, responses: list[dict]) -> sp_evidence.EndpointData:
    entries = [r["night"]["metrics"][metric] for r in responses]
    spread = [v for e in entries for v in e["control_values"]]
    excluded = Counter(e["reason"] for e in entries if e["delta"] is None and e["reason"])
    deltas = [e["delta"] for e in entries]
    return sp_evidence.EndpointData("sleep", metric, deltas, smallest_worthwhile_change(metric, spread),
                                    sum(d is not None for d in deltas), dict(excluded))


def endpoints_for(conn: psycopg.Connection, person_id: str, responses: list[dict]
                  ) -> list[sp_evidence.EndpointData]:
    out = [_window_endpoint(claim, metric, responses)
           for claim, metrics in WINDOW_ENDPOINTS.items() for metric in metrics]
    out += [_night_endpoint(metric, responses) for metric in NIGHT_METRICS]
    # [analysis-controls] recovery: the next morning against control mornings (weekday
    # matched), SWC by the metric's rule (0.5 x SD of daily mornings) over control mornings.
    mornings = [r["next_days"]["morning"] for r in responses]
    out.append(sp_evidence.EndpointData(
        "recovery", "morning_ln_rmssd", [m["delta"] for m in mornings],
        smallest_worthwhile_change("morning_ln_rmssd",
                                   [v for m in mornings for v in m["control_values"]]),
        sum(m["delta"] is not None for m in mornings),
        dict(Counter(m["reason"] for m in mornings if m["delta"] is None and m["reason"]))))
    for claim, kind in SELF_REPORTS.items():
        pairs = self_reports.before_after(conn, person_id=person_id, kind=kind)
        out.append(sp_evidence.EndpointData(
            claim, SELF_REPORT_METRIC[claim], [p["after"] - p["before"] for p in pairs],
            smallest_worthwhile_change(SELF_REPORT_METRIC[claim])))
    cortisol = lab_results.cortisol_before_after(conn, person_id=person_id)
    if cortisol:
        out.append(sp_evidence.EndpointData(
            "stress_hormones", "cortisol",
            [c["after_nmol_l"] - c["before_nmol_l"] for c in cortisol], smallest_worthwhile_change("cortisol")))
    return out


def person_evidence(conn: psycopg.Connection, person: dict[str, Any],
                    cfg: WindowConfig = DEFAULT_WINDOWS) -> dict[str, Any]:
    """Every claim for one person, with literature, plain-language summary and caveats."""
    person_id = str(person["id"])
    sessions = session_repo.in_range(conn, person_id=person_id)
    responses = [cached_session_response(conn, s, person["tz"], cfg) for s in sessions]
    claims = sp_evidence.assess_person(endpoints_for(conn, person_id, responses))
    has_cortisol = any(e.metric == "cortisol" for c in claims for e in c.endpoints)
    return {
        "person_id": person_id,
        "algorithm_version": cfg.version,
        "n_sessions": len(sessions),
        "claims": [_claim_json(c, has_cortisol) for c in claims],
        "caveats": list(sp_evidence.GENERAL_CAVEATS),
        "summary": _summary(claims, len(sessions)),
    }


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _claim_json(claim: sp_evidence.ClaimResult, has_cortisol: bool) -> dict[str, Any]:
    body = {k: _clean(v) for k, v in claim.__dict__.items() if k != "endpoints"}
    if claim.claim == "stress_hormones" and not has_cortisol:
        # Without cortisol results the headline is the SNS/stress-index proxy.
        body["evidence_kind"] = "proxy"
    body["endpoints"] = [{k: _clean(v) for k, v in e.__dict__.items()} for e in claim.endpoints]
    return body


def _summary(claims: list[sp_evidence.ClaimResult], n_sessions: int) -> str:
    measurable = [c.claim for c in claims if c.evidence_kind != "none"]
    supported = [c.claim for c in claims if c.verdict == "supported"]
    text = (f"{n_sessions} logged session(s). Measurable from these data: "
            f"{', '.join(measurable)}. ")
    text += (f"Supported for this person: {', '.join(supported)}. " if supported
             else "No claim is supported for this person yet. ")
    return text + "Each claim says what kind of evidence it rests on; HRV is a marker of " \
                  "autonomic state, not a hormone level, and pre/post without blinding shows " \
                  "association, not cause."
