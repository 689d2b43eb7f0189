"""Evidence numerics: decision rule, one-sample statistics, massage-minus-rest shift, purity."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from signal_processing.evidence import DECISIONS, decide, endpoint_stats, shift_stats

BASE = dict(swc=0.05, better="higher")


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (dict(n=5, estimate=0.3, ci_low=0.2, ci_high=0.4, p_value=0.001), "too_few"),
        (dict(n=8, estimate=0.3, ci_low=0.2, ci_high=0.4, p_value=0.01), "improvement"),
        (dict(n=8, estimate=0.3, ci_low=0.2, ci_high=0.4, p_value=0.08), "unclear"),
        (dict(n=8, estimate=-0.3, ci_low=-0.4, ci_high=-0.2, p_value=0.01), "worsening"),
        (dict(n=8, estimate=0.0, ci_low=-0.04, ci_high=0.04, p_value=0.9), "equivalent"),
    ],
)
def test_decide(kwargs: dict, expected: str) -> None:
    assert decide(**kwargs, **BASE) == expected and expected in DECISIONS


def test_hedges_g_is_null_where_undefined_and_degenerate_is_flagged() -> None:
    two = endpoint_stats([0.1, 0.3])
    assert two.hedges_g is None and two.n == 2  # J = 0 at n = 2: g undefined, not 0
    same = endpoint_stats([-2.0] * 8)
    assert same.degenerate and same.hedges_g is None and same.ci_low is None and same.ci_high is None
    varied = endpoint_stats([0.1, 0.3, 0.2, 0.25, 0.15, 0.22])
    assert not varied.degenerate and varied.hedges_g is not None


def test_shift_matches_pairwise_median_and_scipy_p() -> None:
    from scipy.stats import mannwhitneyu

    x, y = [0.30, 0.25, 0.41, 0.18, 0.33, 0.29], [0.05, 0.12, -0.02, 0.08]
    st = shift_stats(x, y)
    assert st.estimate == pytest.approx(float(np.median(np.subtract.outer(x, y))))
    assert st.p_value == pytest.approx(mannwhitneyu(x, y, alternative="two-sided").pvalue)
    assert st.ci_low <= st.estimate <= st.ci_high and st.ci_low > 0
    assert st.ci_method.startswith("Moses") and st.n == 6


def test_shift_has_no_interval_when_too_few_to_reach_95() -> None:
    st = shift_stats([0.3, 0.2], [0.1])  # 3 orderings: no 95 % interval exists
    assert st.ci_low is None and st.ci_high is None


@pytest.mark.parametrize(("m", "n"), [(6, 4), (8, 8)])
def test_shift_interval_covers_at_least_nominal(m: int, n: int) -> None:
    """The Moses interval is exact-or-conservative: coverage ≥ 95 % up to simulation error."""
    rng = np.random.default_rng(11)
    true_shift, hits, runs = 0.07, 0, 600
    for _ in range(runs):
        x = rng.standard_t(5, m) * 0.1 + true_shift
        y = rng.standard_t(5, n) * 0.1
        st = shift_stats(list(x), list(y))
        hits += st.ci_low <= true_shift <= st.ci_high
    assert hits / runs >= 0.93  # 600 runs: SE of a 95 % rate is 0.009


def test_signal_processing_holds_no_claims_citations_or_verdict_words() -> None:
    root = Path(__file__).resolve().parents[2] / "signal_processing"
    claims = re.compile(r"acute_stress|stress_hormones|Moyer|Meier|Crawford|Bervoets")
    assert [p.name for p in root.glob("*.py") if claims.search(p.read_text())] == []
    verdict_words = re.compile(
        r"\"(supported|not supported|contradicted|inconclusive|"
        r"insufficient data|not measured)\""
    )
    assert not verdict_words.search((root / "evidence.py").read_text())
