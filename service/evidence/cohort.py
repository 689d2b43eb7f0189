"""Evidence pooled across a therapist's consenting clients (random effects).

Each person contributes their sessions' control-adjusted deltas; per-person
Hodges-Lehmann effects are pooled with DerSimonian-Laird (Hartung-Knapp
interval) by :func:`.assess.assess_cohort`, reporting tau² and I². Only massage
sessions are pooled (rest-control sessions are the comparison arm, not a treatment).
Breakdowns by modality, pressure and duration are exploratory and say so.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from service.analysis.session_response import DEFAULT_WINDOWS, WindowConfig, cached_session_response
from service.care.repository import sessions as session_repo
from service.core.db.types import Conn
from service.evidence import assess, wording
from service.evidence.person import is_rest
from signal_processing.metrics import smallest_worthwhile_change

#: The endpoints pooled across persons: the primary endpoint and mean HR beside it.
COHORT_ENDPOINTS = (("acute_stress", "ln_rmssd"), ("acute_stress", "mean_hr"))


def _session_deltas(
    conn: Conn, person: dict[str, Any], *, modality: str | None, pressure: str | None, cfg: WindowConfig
) -> dict[str, list[assess.SessionDelta]]:
    person_id = str(person["id"])
    out: dict[str, list[assess.SessionDelta]] = defaultdict(list)
    for session in session_repo.in_range(conn, person_id=person_id):
        if (
            is_rest(session)
            or (modality and session["modality"] != modality)
            or (pressure and session["pressure"] != pressure)
        ):
            continue
        response = cached_session_response(conn, session, person["tz"], cfg)
        minutes = (session["ends_at"] - session["starts_at"]).total_seconds() / 60
        for _, metric in COHORT_ENDPOINTS:
            out[metric].append(
                assess.SessionDelta(
                    person_id,
                    response["metrics"][metric]["delta"],
                    session["modality"],
                    session["pressure"],
                    minutes,
                )
            )
    return out


def cohort_evidence(
    conn: Conn,
    persons: list[dict[str, Any]],
    *,
    modality: str | None = None,
    pressure: str | None = None,
    cfg: WindowConfig = DEFAULT_WINDOWS,
) -> dict[str, Any]:
    """Pooled evidence over ``persons`` (already filtered to those who consented)."""
    deltas: dict[str, list[assess.SessionDelta]] = defaultdict(list)
    for person in persons:
        for metric, rows in _session_deltas(
            conn, person, modality=modality, pressure=pressure, cfg=cfg
        ).items():
            deltas[metric].extend(rows)
    results = []
    for claim, metric in COHORT_ENDPOINTS:
        rows = deltas.get(metric, [])
        by_person: dict[str, list[float | None]] = defaultdict(list)
        for row in rows:
            by_person[row.person_id].append(row.delta)
        swc = smallest_worthwhile_change(metric)  # [analysis-controls] the metric's fallback SWC
        pooled = assess.assess_cohort(claim, metric, by_person, swc=swc)
        breakdowns = assess.cohort_breakdowns(claim, metric, rows, swc=swc)
        results.append({**pooled.to_dict(), "breakdowns": [b.to_dict() for b in breakdowns]})
    return {
        "algorithm_version": cfg.version,
        "n_persons": len(persons),
        "filters": {"modality": modality, "pressure": pressure},
        "endpoints": results,
        "caveats": list(wording.GENERAL_CAVEATS),
    }
