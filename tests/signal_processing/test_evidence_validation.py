"""Fast version of bench/validate_evidence.py: the whole pipeline on synthetic persons.

Few persons, so the bounds are loose; the full run with 200 persons per scenario and its
figures are in docs/validation.md.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "validate_evidence.py"


@pytest.fixture(scope="module")
def sim():
    spec = importlib.util.spec_from_file_location("validate_evidence", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being created
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rows(sim):
    scenarios = (sim.Scenario("no effect", 0.0, 0.0), sim.Scenario("large", 0.3, -5.0))
    out = sim.run(40, scenarios, sim.SimConfig(n_sessions=10), seed=7, n_resamples=999)
    return {(r["scenario"], r["metric"]): r for r in out}


def test_same_person_same_data_across_scenarios(sim) -> None:
    cfg = sim.SimConfig(n_sessions=8)
    a = sim.simulate_person([3, 1], cfg, sim.Scenario("a", 0.0, 0.0))
    b = sim.simulate_person([3, 1], cfg, sim.Scenario("b", 0.2, 0.0))
    da, db = a["ln_rmssd"][0], b["ln_rmssd"][0]
    assert len(da) == len(db) >= 1
    # injected post-session effect moves every session delta by about the effect
    shifts = [y - x for x, y in zip(da, db, strict=True)]
    assert all(0.1 < s < 0.3 for s in shifts)


def test_no_effect_rarely_supported(rows) -> None:
    for metric in ("ln_rmssd", "mean_hr"):
        r = rows[("no effect", metric)]
        assert r["supported"] <= 0.15
        assert r["mean_sessions"] > 6


def test_true_effect_covered_and_detected(rows) -> None:
    for metric in ("ln_rmssd", "mean_hr"):
        r = rows[("large", metric)]
        assert r["n_ci"] >= 25
        assert 0.8 <= r["coverage"] <= 1.0
        assert r["supported"] > rows[("no effect", metric)]["supported"] + 0.2
