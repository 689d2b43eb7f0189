"""Issue 11, evidence side: hormone claims from hormones only, rest vs ordinary-day comparison,
honest small samples, the verdict set and checked literature."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from service.care.repository import sessions
from service.core.db.rls import system_connection
from service.evidence import person as person_module
from service.evidence.assess import EndpointData, assess_endpoint, assess_person
from service.evidence.claims import CLAIMS, VERDICTS
from tests.support.people import bearer, new_person, patient_token

EIGHT = 8


def _massage_sessions(pool, person: str, n: int) -> None:
    start = dt.datetime(2024, 6, 3, 15, tzinfo=dt.UTC)
    with system_connection(pool) as conn:
        for k in range(n):
            sessions.create(
                conn,
                person_id=person,
                starts_at=start + dt.timedelta(days=7 * k),
                ends_at=start + dt.timedelta(days=7 * k, hours=1),
                modality="swedish",
                pressure="moderate",
            )


def test_eight_massage_sessions_without_cortisol_is_not_measured_through_the_api(client, pool):
    person = new_person(pool, "Eight sessions, no cortisol")
    _massage_sessions(pool, person, EIGHT)
    body = client.get(f"/v1/persons/{person}/evidence", headers=bearer(patient_token(pool, person))).json()
    hormones = next(c for c in body["claims"] if c["claim"] == "stress_hormones")
    assert hormones["verdict"] == "not measured"
    assert hormones["estimate"] is None and hormones["comparison"] is None
    assert hormones["endpoints"] == []
    measurable = body["summary"].split("Measurable from these data:")[1].split(".")[0]
    assert "stress_hormones" not in measurable
    assert (
        "Supported" not in body["summary"] or "stress_hormones" not in body["summary"].split("Supported")[1]
    )


def test_a_clear_autonomic_fall_never_becomes_a_hormone_verdict() -> None:
    """The old defect: an SNS/stress-index fall made stress_hormones 'supported'."""
    rng = np.random.default_rng(1)
    eps = [
        EndpointData("stress_hormones", "sns_index", list(rng.normal(-0.8, 0.1, EIGHT)), swc=0.1),
        EndpointData("stress_hormones", "stress_index", list(rng.normal(-2.0, 0.3, EIGHT)), swc=0.2),
        EndpointData("acute_stress", "ln_rmssd", list(rng.normal(0.3, 0.05, EIGHT)), swc=0.05),
    ]
    claims = assess_person(eps)
    hormones = next(c for c in claims if c.claim == "stress_hormones")
    assert hormones.verdict == "not measured" and hormones.p_value is None
    assert {r["metric"] for r in hormones.related_physiology} == {"sns_index", "stress_index"}
    assert all(r["estimate"] is not None for r in hormones.related_physiology)
    text = person_module.summary(claims, EIGHT, 0)
    supported = text.split("Supported", 1)[1]
    assert "acute_stress" in supported and "stress_hormones" not in supported
    assert "stress_hormones" not in text.split("Measurable from these data:")[1].split(".")[0]


def test_cortisol_results_measure_the_hormone_claim_with_like_for_like_caveat() -> None:
    eps = [EndpointData("stress_hormones", "cortisol", [-1.2, -0.8, -1.5, -0.2, -1.1, -0.9], swc=1.0)]
    claims = assess_person(eps, extra_caveats={"stress_hormones": ["saliva, 08:40-09:30"]})
    hormones = next(c for c in claims if c.claim == "stress_hormones")
    assert hormones.verdict != "not measured" and hormones.metric == "cortisol"
    assert hormones.evidence_kind == "lab" and "saliva, 08:40-09:30" in hormones.caveats


def test_like_with_like_cortisol_keeps_one_specimen_and_clock_time() -> None:
    tz = "Europe/Berlin"
    base = dt.datetime(2024, 6, 3, 7, 0, tzinfo=dt.UTC)  # 09:00 Berlin

    def pair(days: int, hour_shift: float, specimen: str) -> dict:
        ts = base + dt.timedelta(days=days, hours=hour_shift)
        return {
            "session_id": days,
            "before_ts": ts,
            "after_ts": ts + dt.timedelta(hours=2),
            "before_specimen": specimen,
            "after_specimen": specimen,
            "before_nmol_l": 10.0,
            "after_nmol_l": 8.0,
        }

    pairs = [pair(d, 0, "saliva") for d in range(5)] + [pair(9, 6, "saliva"), pair(10, 0, "serum")]
    kept, specimen, clock, dropped = person_module.like_with_like_cortisol(pairs, tz)
    assert specimen == "saliva" and len(kept) == 5 and dropped == 2
    assert clock == "09:00-09:00"


def _data(rest: list[float] | None = None, **kw) -> EndpointData:
    rng = np.random.default_rng(3)
    return EndpointData(
        "acute_stress",
        "ln_rmssd",
        list(rng.normal(0.3, 0.05, EIGHT)),
        swc=0.05,
        n_control_adjusted=EIGHT,
        rest_deltas=rest or [],
        **kw,
    )


def test_with_enough_rest_sessions_the_claim_is_massage_compared_with_resting() -> None:
    rest = list(np.random.default_rng(4).normal(0.1, 0.05, 5))
    claim = next(c for c in assess_person([_data(rest)]) if c.claim == "acute_stress")
    assert claim.comparison == "rest" and claim.n_rest_sessions == 5
    assert "massage compared with resting" in claim.summary
    assert 0.1 < claim.estimate < 0.3 and claim.ci_low < claim.estimate < claim.ci_high
    assert claim.endpoints[0].ci_method.startswith("Moses")


def test_without_rest_sessions_the_claim_is_a_visit_against_an_ordinary_day() -> None:
    few_rest = [0.1, 0.12, 0.08]  # three: below the four needed
    claim = next(c for c in assess_person([_data(few_rest)]) if c.claim == "acute_stress")
    assert claim.comparison == "ordinary_day" and claim.verdict == "supported"
    assert (
        "a session visit compared with an ordinary day: includes the effect of resting and of the visit"
    ) in claim.summary
    assert "does not show an effect of massage itself" in claim.summary
    assert "3 rest-control session(s)" in claim.summary
    assert "massage compared with resting" not in claim.summary
    assert any("Log rest-control sessions" in c for c in claim.caveats)


def test_no_same_weekday_control_holds_supported_and_states_the_confound() -> None:
    confounded = assess_endpoint(_data(n_without_weekday_control=EIGHT))
    assert confounded.verdict == "inconclusive" and confounded.weekday_confounded
    claim = next(
        c for c in assess_person([_data(n_without_weekday_control=EIGHT)]) if c.claim == "acute_stress"
    )
    assert f"For {EIGHT} of {EIGHT} sessions no control day fell on the session weekday" in claim.summary
    assert assess_endpoint(_data(n_without_weekday_control=5)).weekday_confounded
    assert any("same weekday" in c for c in claim.caveats)
    fine = assess_endpoint(_data(n_without_weekday_control=4))  # half: a caveat only
    assert fine.verdict == "supported" and not fine.weekday_confounded


def test_degenerate_sample_says_so_instead_of_promising_a_narrower_interval() -> None:
    claim = next(
        c for c in assess_person([EndpointData("pain", "pain", [-2.0] * EIGHT, swc=1.0)]) if c.claim == "pain"
    )
    # No interval: n identical ratings cannot show how much the change varies.
    assert claim.ci_low is None and claim.ci_high is None and claim.hedges_g is None
    assert "exactly the same change" in claim.summary
    assert "more sessions would narrow the interval" not in claim.summary


def test_below_threshold_shows_counts_and_reason_not_an_estimate() -> None:
    claim = next(
        c
        for c in assess_person([EndpointData("pain", "pain", [-2.0, -1.0, -3.0], swc=1.0)])
        if c.claim == "pain"
    )
    assert claim.verdict == "insufficient data" and claim.n_sessions == 3
    assert claim.estimate is claim.ci_low is claim.ci_high is claim.hedges_g is claim.p_value is None
    assert "Only 3 usable session(s)" in claim.summary and "no estimate" in claim.summary
    two = assess_endpoint(EndpointData("pain", "pain", [-2.0, -1.0], swc=1.0))
    assert two.hedges_g is None


@pytest.mark.parametrize("seed", range(4))
def test_every_verdict_is_in_the_contract_set(seed: int) -> None:
    rng = np.random.default_rng(seed)
    eps = [
        EndpointData(
            "acute_stress",
            "ln_rmssd",
            list(rng.normal(rng.normal(0, 0.2), 0.1, 7)),
            swc=0.05,
            rest_deltas=list(rng.normal(0, 0.1, int(rng.integers(0, 7)))),
        ),
        EndpointData("anxiety", "anxiety", list(rng.integers(-3, 2, 6).astype(float)), swc=1.0),
    ]
    for c in assess_person(eps):
        assert c.verdict in VERDICTS
        assert c.comparison in ("rest", "ordinary_day", None)
        assert (c.comparison is None) == (c.n_sessions == 0)


def test_every_literature_entry_says_whether_and_how_it_was_verified() -> None:
    entries = [ref for c in CLAIMS.values() for ref in c.literature]
    assert entries
    for ref in entries:
        assert isinstance(ref.verified, bool) and ref.verification
    moyer_2011 = next(r for r in entries if "Does massage therapy reduce cortisol" in r.citation)
    assert "d = 0.52" in moyer_2011.finding and "3 studies" in moyer_2011.finding
    assert "children" in moyer_2011.finding
    crawford = next(r for r in entries if r.citation.startswith("Crawford"))
    assert "Sixty high-quality and seven low-quality" in crawford.finding
    assert "strongly recommended" in crawford.finding and "weakly" in crawford.finding


def test_self_reports_without_rest_are_worded_as_an_uncompared_before_after_change() -> None:
    claim = next(
        c
        for c in assess_person(
            [EndpointData("pain", "pain", [-2.0, -1.0, -3.0, -2.0, -1.0, -2.0, -3.0, -1.0], swc=1.0)]
        )
        if c.claim == "pain"
    )
    assert claim.comparison == "ordinary_day"  # the contract's "not against rest"
    assert "before-to-after change around a session visit, with no comparison" in claim.summary
    assert "ordinary day" not in claim.summary


def test_hair_cortisol_is_never_paired_around_a_session() -> None:
    ts = dt.datetime(2024, 6, 3, 7, 0, tzinfo=dt.UTC)
    hair = {
        "session_id": 1,
        "before_ts": ts,
        "after_ts": ts,
        "before_specimen": "hair",
        "after_specimen": "hair",
        "before_nmol_l": 1.0,
        "after_nmol_l": 1.0,
    }
    assert person_module.like_with_like_cortisol([hair], "Europe/Berlin") == ([], None, None, 1)
