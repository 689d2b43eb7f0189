"""Per-claim evidence for one person: an n-of-1 study over their sessions.

Gathers each session's control-adjusted deltas (see :mod:`service.analysis.session_response`),
self-reported before/after changes and cortisol pairs, split into massage sessions and
rest-control sessions (modality ``rest``: the person lies still, same duration and
setting, no massage), and hands them to :mod:`.assess` for estimates and verdicts.

Smallest worthwhile change (SWC) per endpoint: one rule per metric in
``signal_processing.metrics`` (``smallest_worthwhile_change(metric, spread)``); this module
only gathers each metric's spread (control-day changes, control nights, control mornings).
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import Counter
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from service.analysis.session_response import (
    DEFAULT_WINDOWS,
    WindowConfig,
    cached_session_response,
)
from service.care.repository import lab_results, self_reports
from service.care.repository import sessions as session_repo
from service.care.schemas import is_rest as is_rest_modality
from service.core.db.types import Conn
from service.evidence import wording
from service.evidence.assess import ClaimResult, EndpointData, assess_person
from service.trials import service as trials
from signal_processing.metrics import NIGHT_METRICS, smallest_worthwhile_change

#: Window metrics per claim. The stress_hormones ones are related physiology only.
WINDOW_ENDPOINTS = {
    "acute_stress": ("ln_rmssd", "mean_hr", "hf", "stress_index"),
    "stress_hormones": ("sns_index", "stress_index"),
}
SELF_REPORTS = {"pain": "pain", "headache": "headache", "anxiety": "anxiety"}
SELF_REPORT_METRIC = {"pain": "pain", "headache": "headache_intensity", "anxiety": "anxiety"}
#: Cortisol before-samples further than this from the person's usual sampling clock time
#: are not compared with the rest (cortisol falls steeply over the morning).
CORTISOL_CLOCK_TOLERANCE = dt.timedelta(hours=2)


def is_rest(session: dict[str, Any]) -> bool:
    return is_rest_modality(session.get("modality"))


def _swc(metric: str, spread: list[float]) -> float:
    """The metric's SWC by its one rule (``signal_processing.metrics``) over ``spread``."""
    return smallest_worthwhile_change(metric, spread)


def _same_weekday_controls(response: dict[str, Any], entry: dict[str, Any], weekday: int) -> int:
    """Controls on the session weekday: the analysis's own count when it gives one.

    A session whose control term is not weekday-matched (fewer same-weekday controls than
    the analysis needs) counts as having none: the weekday is not controlled for.
    """
    if entry.get("weekday_matched") is False:
        return 0
    given = entry.get("same_weekday_controls")
    if given is None:
        given = (response.get("controls") or {}).get("same_weekday_controls")
    if given is not None:
        return int(given)
    days = (response.get("controls") or {}).get("days") or []
    return sum(dt.date.fromisoformat(d).weekday() == weekday for d in days)


class _Sessions:
    """A person's sessions with their responses, split into massage and rest controls."""

    def __init__(self, sessions: list[dict[str, Any]], responses: list[dict[str, Any]], tz: str):
        zone = ZoneInfo(tz)
        rows = list(zip(sessions, responses, strict=True))
        self.massage = [(s, r) for s, r in rows if not is_rest(s)]
        self.rest = [(s, r) for s, r in rows if is_rest(s)]
        self.weekday = {s["id"]: s["starts_at"].astimezone(zone).weekday() for s in sessions}
        self.rest_ids = {s["id"] for s, _ in self.rest}


def _window_endpoint(claim: str, metric: str, ss: _Sessions) -> EndpointData:
    entries = [(s, r, r["metrics"][metric]) for s, r in ss.massage]
    excluded = Counter(e["reason"].split(":")[0] for _, _, e in entries if e["delta"] is None and e["reason"])
    spread = [c for _, r in ss.massage + ss.rest for c in r["metrics"][metric]["control_changes"]]
    no_weekday = sum(
        1
        for s, r, e in entries
        if e["delta"] is not None and _same_weekday_controls(r, e, ss.weekday[s["id"]]) == 0
    )
    return EndpointData(
        claim,
        metric,
        [e["delta"] for _, _, e in entries],
        _swc(metric, spread),
        sum(1 for _, _, e in entries if e["control_adjusted"]),
        dict(excluded),
        rest_deltas=[r["metrics"][metric]["delta"] for _, r in ss.rest],
        n_without_weekday_control=no_weekday,
    )


def _night_endpoint(metric: str, ss: _Sessions) -> EndpointData:
    def entry(r: dict[str, Any]) -> dict[str, Any]:
        return r["night"]["metrics"][metric]

    spread = [v for _, r in ss.massage + ss.rest for v in entry(r)["control_values"]]
    excluded = Counter(
        entry(r)["reason"] for _, r in ss.massage if entry(r)["delta"] is None and entry(r)["reason"]
    )
    deltas = [entry(r)["delta"] for _, r in ss.massage]
    return EndpointData(
        "sleep",
        metric,
        deltas,
        _swc(metric, spread),
        sum(d is not None for d in deltas),
        dict(excluded),
        rest_deltas=[entry(r)["delta"] for _, r in ss.rest],
    )


def _recovery_endpoint(ss: _Sessions) -> EndpointData:
    # [analysis-controls] The next morning (first window after waking) against the mornings
    # after the control days; SWC by the metric's rule (0.5 x SD of daily mornings) over
    # the control mornings.
    def entry(r: dict[str, Any]) -> dict[str, Any]:
        return r["next_days"]["morning"]

    spread = [v for _, r in ss.massage + ss.rest for v in entry(r)["control_values"]]
    deltas = [entry(r)["delta"] for _, r in ss.massage]
    excluded = Counter(
        entry(r)["reason"] for _, r in ss.massage if entry(r)["delta"] is None and entry(r)["reason"]
    )
    return EndpointData(
        "recovery",
        "morning_ln_rmssd",
        deltas,
        _swc("morning_ln_rmssd", spread),
        sum(d is not None for d in deltas),
        dict(excluded),
        rest_deltas=[entry(r)["delta"] for _, r in ss.rest],
    )


def _split(pairs: Iterable[dict[str, Any]], rest_ids: set[int], change) -> tuple[list, list]:
    massage: list[float] = []
    rest: list[float] = []
    for p in pairs:
        (rest if p["session_id"] in rest_ids else massage).append(change(p))
    return massage, rest


def _clock_minutes(ts: dt.datetime, zone: ZoneInfo) -> int:
    local = ts.astimezone(zone)
    return local.hour * 60 + local.minute


def like_with_like_cortisol(
    pairs: list[dict[str, Any]], tz: str
) -> tuple[list[dict[str, Any]], str | None, str | None, int]:
    """Keep cortisol pairs of one specimen whose before-sample is near the usual clock time.

    Returns the kept pairs, the specimen, the clock-time range of the kept before-samples
    (``"08:40-09:30"``) and how many pairs were left out. The specimen kept is the most
    common one (saliva on a tie); pairs without a recorded specimen join it.
    """
    total = len(pairs)
    # Hair cortisol integrates months of secretion: it has no before/after around a session.
    pairs = [p for p in pairs if "hair" not in (p.get("before_specimen"), p.get("after_specimen"))]
    if not pairs:
        return [], None, None, total
    zone = ZoneInfo(tz)
    specimens = Counter(p.get("before_specimen") or p.get("after_specimen") for p in pairs)
    known = {s: n for s, n in specimens.items() if s}
    specimen = max(sorted(known), key=lambda s: (known[s], s == "saliva")) if known else None
    same = [p for p in pairs if (p.get("before_specimen") or p.get("after_specimen")) in (specimen, None)]
    minutes = [_clock_minutes(p["before_ts"], zone) for p in same]
    centre = statistics.median(minutes)
    tol = CORTISOL_CLOCK_TOLERANCE.total_seconds() / 60
    kept = [p for p, m in zip(same, minutes, strict=True) if abs(m - centre) <= tol]
    kept_minutes = sorted(_clock_minutes(p["before_ts"], zone) for p in kept)
    clock = (
        (
            f"{kept_minutes[0] // 60:02d}:{kept_minutes[0] % 60:02d}-"
            f"{kept_minutes[-1] // 60:02d}:{kept_minutes[-1] % 60:02d}"
        )
        if kept_minutes
        else None
    )
    return kept, specimen, clock, total - len(kept)


def endpoints_for(
    conn: Conn, person: dict[str, Any], sessions: list[dict[str, Any]], responses: list[dict[str, Any]]
) -> tuple[list[EndpointData], dict[str, list[str]]]:
    """Every endpoint's per-session changes, and claim-specific caveats (cortisol sampling)."""
    person_id = str(person["id"])
    ss = _Sessions(sessions, responses, person["tz"])
    out = [
        _window_endpoint(claim, metric, ss)
        for claim, metrics in WINDOW_ENDPOINTS.items()
        for metric in metrics
    ]
    out += [_night_endpoint(metric, ss) for metric in NIGHT_METRICS]
    out.append(_recovery_endpoint(ss))
    for claim, kind in SELF_REPORTS.items():
        pairs = self_reports.before_after(conn, person_id=person_id, kind=kind)
        massage, rest = _split(pairs, ss.rest_ids, lambda p: p["after"] - p["before"])
        metric = SELF_REPORT_METRIC[claim]
        out.append(EndpointData(claim, metric, massage, _swc(metric, []), rest_deltas=rest))
    caveats: dict[str, list[str]] = {}
    pairs = lab_results.cortisol_before_after(conn, person_id=person_id)
    kept, specimen, clock, dropped = like_with_like_cortisol(pairs, person["tz"])
    if dropped and not kept:
        caveats["stress_hormones"] = [wording.HAIR_CORTISOL.format(n=dropped)]
    if kept:
        massage, rest = _split(kept, ss.rest_ids, lambda p: p["after_nmol_l"] - p["before_nmol_l"])
        out.append(
            EndpointData("stress_hormones", "cortisol", massage, _swc("cortisol", []), rest_deltas=rest)
        )
        caveats["stress_hormones"] = [wording.cortisol_caveat(specimen, clock, dropped)]
    return out, caveats


def person_evidence(
    conn: Conn, person: dict[str, Any], cfg: WindowConfig = DEFAULT_WINDOWS
) -> dict[str, Any]:
    """Every claim for one person, with literature, plain-language summary and caveats."""
    person_id = str(person["id"])
    sessions = session_repo.in_range(conn, person_id=person_id)
    responses = [cached_session_response(conn, s, person["tz"], cfg) for s in sessions]
    endpoints, extra = endpoints_for(conn, person, sessions, responses)
    claims = assess_person(endpoints, extra_caveats=extra)
    n_rest = sum(1 for s in sessions if is_rest(s))
    return {
        "person_id": person_id,
        "algorithm_version": cfg.version,
        "n_sessions": len(sessions) - n_rest,
        "n_rest_sessions": n_rest,
        "claims": [_claim_json(c) for c in claims],
        "caveats": list(wording.GENERAL_CAVEATS),
        "summary": summary(claims, len(sessions) - n_rest, n_rest),
        # How closely the person follows their n-of-1 trial plan (None without a plan).
        "trial_adherence": trials.adherence(conn, person_id),
    }


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _claim_json(claim: ClaimResult) -> dict[str, Any]:
    body = {k: _clean(v) for k, v in claim.__dict__.items() if k != "endpoints"}
    body["endpoints"] = [{k: _clean(v) for k, v in e.__dict__.items()} for e in claim.endpoints]
    return body


def summary(claims: list[ClaimResult], n_sessions: int, n_rest: int) -> str:
    """The person's headline: what is measured, what is supported and against what."""
    measured = [c.claim for c in claims if c.verdict != "not measured"]
    not_measured = [c.claim for c in claims if c.verdict == "not measured"]
    vs_rest = [c.claim for c in claims if c.verdict == "supported" and c.comparison == "rest"]
    vs_visit = [c.claim for c in claims if c.verdict == "supported" and c.comparison != "rest"]
    text = f"{n_sessions} logged massage session(s) and {n_rest} rest-control session(s). "
    text += f"Measurable from these data: {', '.join(measured)}. "
    if not_measured:
        text += f"Not measured: {', '.join(not_measured)}. "
    if vs_rest:
        text += f"Supported for this person, {wording.MASSAGE_VS_REST}: {', '.join(vs_rest)}. "
    if vs_visit:
        text += (
            "Supported only as a session visit, not compared with resting (includes the effect "
            f"of resting and of the visit; not an effect of massage itself): {', '.join(vs_visit)}. "
        )
    if not vs_rest and not vs_visit:
        text += "No claim is supported for this person yet. "
    return text + (
        "Each claim says what it was compared with and what kind of evidence it rests on; "
        "HRV is a marker of autonomic state, not a hormone level, and pre/post without "
        "blinding shows association, not cause."
    )
