"""Claims table, verdicts, wording, n-of-1 and cohort results (service.evidence.assess)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from service.evidence.assess import (
    EndpointData,
    SessionDelta,
    assess_claim,
    assess_cohort,
    assess_endpoint,
    assess_person,
    cohort_breakdowns,
)
from service.evidence.claims import CLAIMS, VERDICT_OF, VERDICTS
from signal_processing.evidence import decide
from signal_processing.stats import holm


def verdict(**kwargs):
    kwargs["min_n"] = kwargs.pop("min_sessions", 6)
    return VERDICT_OF[decide(**kwargs)]


CLAIM_IDS = [
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


def test_claims_table_ids_kinds_and_literature() -> None:
    assert list(CLAIMS) == CLAIM_IDS
    kinds = {c: CLAIMS[c].evidence_kind for c in CLAIM_IDS}
    assert kinds["acute_stress"] == kinds["sleep"] == kinds["recovery"] == "wearable"
    assert kinds["pain"] == kinds["headache"] == kinds["anxiety"] == "self_report"
    assert {c for c, k in kinds.items() if k == "none"} == {"immune", "circulation", "posture", "flexibility"}
    assert CLAIMS["acute_stress"].measures[0].metric == "ln_rmssd"
    # Only a hormone measurement measures the hormone claim; autonomic indices are related only.
    assert [m.metric for m in CLAIMS["stress_hormones"].measures] == ["cortisol"]
    assert {m.evidence_kind for m in CLAIMS["stress_hormones"].related} == {"proxy"}
    cites = " ".join(lit.citation for c in CLAIMS.values() for lit in c.literature)
    for author in ("Moyer", "Meier", "Diego", "Crawford", "Bervoets"):
        assert author in cites
    for c in CLAIMS.values():
        if c.evidence_kind == "none":
            assert c.not_measurable and not c.measures
        else:
            assert c.measures and c.literature


BASE = dict(swc=0.05, better="higher")


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (dict(n=5, estimate=0.3, ci_low=0.2, ci_high=0.4, p_value=0.001), "insufficient data"),
        (dict(n=8, estimate=0.3, ci_low=0.2, ci_high=0.4, p_value=0.01), "supported"),
        (dict(n=8, estimate=0.3, ci_low=0.2, ci_high=0.4, p_value=0.08), "inconclusive"),  # CI vs p disagree
        (
            dict(n=8, estimate=0.03, ci_low=0.01, ci_high=0.045, p_value=0.01),
            "not supported",
        ),  # real but trivial
        (dict(n=8, estimate=0.04, ci_low=0.01, ci_high=0.09, p_value=0.01), "inconclusive"),  # below SWC
        (dict(n=8, estimate=-0.3, ci_low=-0.4, ci_high=-0.2, p_value=0.01), "contradicted"),
        (dict(n=8, estimate=0.0, ci_low=-0.04, ci_high=0.04, p_value=0.9), "not supported"),
        (dict(n=8, estimate=0.1, ci_low=-0.1, ci_high=0.3, p_value=0.3), "inconclusive"),
        (dict(n=8, estimate=None, ci_low=None, ci_high=None, p_value=None), "inconclusive"),
        (dict(n=8, estimate=0.0, ci_low=0.0, ci_high=0.0, p_value=None), "not supported"),  # all changes 0
        (dict(n=8, estimate=0.3, ci_low=0.2, ci_high=0.4, p_value=None), "inconclusive"),
    ],
)
def test_verdict_rule(kwargs: dict, expected: str) -> None:
    assert verdict(**kwargs, **BASE) == expected
    assert expected in VERDICTS


def test_verdict_flips_for_lower_is_better() -> None:
    args = dict(n=8, estimate=-3.0, ci_low=-4.0, ci_high=-2.0, p_value=0.01, swc=1.0)
    assert verdict(**args, better="lower") == "supported"
    assert verdict(**args, better="higher") == "contradicted"


def test_endpoint_supported_for_clear_effect_and_insufficient_for_few() -> None:
    rng = np.random.default_rng(1)
    d = rng.normal(0.2, 0.05, 10)
    r = assess_endpoint(EndpointData("acute_stress", "ln_rmssd", list(d), swc=0.05))
    assert r.role == "primary" and r.p_adjusted == r.p_value
    assert r.verdict == "supported" and r.ci_low < r.estimate < r.ci_high and r.hedges_g > 0
    few = assess_endpoint(EndpointData("acute_stress", "ln_rmssd", list(d[:5]), swc=0.05))
    assert few.verdict == "insufficient data" and few.n_sessions == 5


def test_endpoint_drops_missing_sessions() -> None:
    d = [0.2, None, 0.25, float("nan"), 0.15, 0.3, 0.22, 0.18, 0.26]
    r = assess_endpoint(EndpointData("acute_stress", "ln_rmssd", d, swc=0.05))
    assert r.n_sessions == 7


def test_unknown_metric_for_claim_is_an_error() -> None:
    with pytest.raises(ValueError):
        assess_endpoint(EndpointData("pain", "ln_rmssd", [0.1] * 6, swc=0.1))


def test_person_applies_holm_to_secondary_only_and_lists_every_claim() -> None:
    rng = np.random.default_rng(2)
    eps = [
        EndpointData("acute_stress", "ln_rmssd", list(rng.normal(0.2, 0.05, 8)), swc=0.05),
        EndpointData("acute_stress", "mean_hr", list(rng.normal(-3, 1, 8)), swc=0.5),
        EndpointData("acute_stress", "stress_index", list(rng.normal(0, 1, 8)), swc=0.5),
        EndpointData("anxiety", "anxiety", list(rng.normal(-1, 1, 8)), swc=0.5),
        EndpointData("pain", "pain", [-1.0, -2.0], swc=0.5),  # too few: not in the Holm family
    ]
    results = assess_person(eps)
    assert [r.claim for r in results] == CLAIM_IDS
    acute = results[0]
    assert acute.metric == "ln_rmssd" and acute.p_adjusted == acute.p_value
    secondary = [e for r in results for e in r.endpoints if e.role == "secondary" and e.n_sessions >= 6]
    expected = holm([e.p_value for e in secondary])
    assert [e.p_adjusted for e in secondary] == pytest.approx(expected)
    pain = next(r for r in results if r.claim == "pain")
    assert pain.verdict == "insufficient data" and pain.endpoints[0].p_adjusted is None
    json.dumps([r.to_dict() for r in results])  # serialisable as served


def test_person_wording_never_overstates() -> None:
    rng = np.random.default_rng(3)
    eps = [
        EndpointData(
            "acute_stress", "ln_rmssd", list(rng.normal(0.3, 0.05, 8)), swc=0.05, n_control_adjusted=8
        ),
        EndpointData("stress_hormones", "sns_index", list(rng.normal(-0.5, 0.1, 8)), swc=0.1),
    ]
    results = {r.claim: r for r in assess_person(eps)}
    acute = results["acute_stress"]
    assert acute.verdict == "supported" and acute.comparison == "ordinary_day"
    assert "association" in acute.summary and "not proof" in acute.summary
    assert any("not a hormone level" in c for c in acute.caveats)
    hormones = results["stress_hormones"]
    # A clear SNS-index fall is no hormone verdict: it is shown as related physiology only.
    assert hormones.verdict == "not measured" and hormones.estimate is None and not hormones.endpoints
    assert [r["metric"] for r in hormones.related_physiology] == ["sns_index"]
    assert "not a hormone measurement" in hormones.related_physiology[0]["note"]
    for cid in ("immune", "circulation", "posture", "flexibility"):
        r = results[cid]
        assert r.evidence_kind == "none" and r.verdict == "not measured" and r.estimate is None
        assert r.summary.startswith("Not measured")


def test_cortisol_results_take_precedence_over_proxy() -> None:
    rng = np.random.default_rng(4)
    eps = [
        EndpointData("stress_hormones", "cortisol", list(rng.normal(-1, 2, 6)), swc=0.5),
        EndpointData("stress_hormones", "sns_index", list(rng.normal(-0.5, 0.1, 8)), swc=0.1),
    ]
    r = next(r for r in assess_person(eps) if r.claim == "stress_hormones")
    assert r.metric == "cortisol" and r.evidence_kind == "lab"


def test_raw_change_fallback_is_stated() -> None:
    eps = [
        EndpointData(
            "acute_stress",
            "ln_rmssd",
            [0.1, 0.2, 0.15, 0.12, 0.3, 0.05],
            swc=0.05,
            n_control_adjusted=4,
            excluded={"post window: low coverage": 2},
        )
    ]
    r = assess_person(eps)[0]
    assert "4 of 6" in r.summary
    assert any("raw pre/post change" in c for c in r.caveats)
    assert any("2 session(s) excluded: post window: low coverage" in c for c in r.caveats)


def test_cohort_pools_and_reports_heterogeneity() -> None:
    rng = np.random.default_rng(5)
    persons = {f"p{i}": list(rng.normal(mu, 0.1, 8)) for i, mu in enumerate([0.0, 0.1, 0.2, 0.3, 0.4])}
    persons["tiny"] = [0.5, 0.6]  # too few sessions: left out
    res = assess_cohort("acute_stress", "ln_rmssd", persons, swc=0.05)
    assert res.k_persons == 5 and {p.person_id for p in res.persons} == {f"p{i}" for i in range(5)}
    assert res.tau2 > 0 and res.i2 > 50 and res.ci_low < res.estimate < res.ci_high
    assert 0.1 < res.estimate < 0.3
    assert not res.exploratory
    two = assess_cohort("acute_stress", "ln_rmssd", {k: persons[k] for k in ("p0", "p1")}, swc=0.05)
    assert two.verdict == "insufficient data"


def test_cohort_breakdowns_are_flagged_exploratory() -> None:
    rng = np.random.default_rng(6)
    sessions = [
        SessionDelta(
            f"p{p}",
            float(rng.normal(0.1, 0.1)),
            modality=("swedish" if s % 2 else "deep tissue"),
            pressure="moderate",
            duration_min=60 if s % 3 else 90,
        )
        for p in range(4)
        for s in range(8)
    ]
    out = cohort_breakdowns("acute_stress", "ln_rmssd", sessions, swc=0.05)
    groups = {tuple(r.group.items())[0] for r in out}
    assert ("modality", "swedish") in groups and ("modality", "deep tissue") in groups
    assert ("pressure", "moderate") in groups and ("duration", "46-75 min") in groups
    assert all(r.exploratory for r in out)
    assert all(any("Exploratory" in c for c in r.caveats) for r in out)


def test_person_effect_variance_is_read_off_the_exact_interval() -> None:
    from signal_processing.evidence import person_effect
    from signal_processing.stats import MIN_SESSIONS_PER_PERSON_POOLED, hl_variance

    d = list(np.random.default_rng(8).normal(0.1, 0.2, 8))
    pe = person_effect("p", d)
    assert pe is not None and pe.variance == pytest.approx(hl_variance(d))
    # Below the pooled minimum a person has no exact 95 % interval, so no variance to pool.
    assert person_effect("q", list(d[: MIN_SESSIONS_PER_PERSON_POOLED - 1])) is None


def test_assess_claim_single_claim_result_fields() -> None:
    d = list(np.random.default_rng(9).normal(-1.5, 0.8, 9))
    r = assess_claim("anxiety", d, swc=0.5).to_dict()
    for key in (
        "claim",
        "verdict",
        "evidence_kind",
        "n_sessions",
        "estimate",
        "ci_low",
        "ci_high",
        "hedges_g",
        "p_value",
        "p_adjusted",
        "swc",
        "summary",
        "caveats",
        "literature",
    ):
        assert key in r
    assert r["claim"] == "anxiety" and r["evidence_kind"] == "self_report" and r["n_sessions"] == 9
    assert r["verdict"] == "supported" and r["estimate"] < 0
    assert all({"citation", "finding"} <= set(lit) for lit in r["literature"])
    none = assess_claim("posture", [0.1] * 10, swc=0.1)
    assert none.evidence_kind == "none" and none.n_sessions == 0 and none.verdict == "not measured"
