"""Tests for signal_processing.stats: each checks a property that a wrong implementation would break."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.stats import wilcoxon

from signal_processing.stats import (
    MIN_INTERVAL_N,
    dersimonian_laird,
    hedges_g,
    hl_interval,
    hl_variance,
    hodges_lehmann,
    holm,
    signed_rank_cdf,
    wilcoxon_p,
)


def _hl_brute_force(x: list[float]) -> float:
    walsh = [(x[i] + x[j]) / 2 for i in range(len(x)) for j in range(i, len(x))]
    return float(np.median(walsh))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hodges_lehmann_is_median_of_walsh_averages(seed: int) -> None:
    x = list(np.random.default_rng(seed).normal(size=9))
    assert hodges_lehmann(x) == pytest.approx(_hl_brute_force(x))


def test_hodges_lehmann_shift_equivariant_and_robust() -> None:
    x = np.random.default_rng(3).normal(size=10)
    assert hodges_lehmann(x + 5.0) == pytest.approx(hodges_lehmann(x) + 5.0)
    spoiled = np.append(x, 1000.0)
    # one wild session moves the mean by ~90, the HL estimate by a fraction of one SD
    assert abs(hodges_lehmann(spoiled) - hodges_lehmann(x)) < 0.5
    assert abs(np.mean(spoiled) - np.mean(x)) > 50


def test_hodges_lehmann_ignores_missing_and_handles_empty() -> None:
    assert hodges_lehmann([1.0, None, float("nan"), 3.0]) == pytest.approx(2.0)
    assert hodges_lehmann([]) is None


def test_hedges_g_matches_definition_and_shrinks_cohens_dz() -> None:
    x = np.array([0.1, 0.3, 0.2, 0.5, -0.1, 0.4])
    n = x.size
    dz = x.mean() / x.std(ddof=1)
    g = hedges_g(x)
    assert g == pytest.approx(dz * (1 - 3 / (4 * (n - 1) - 1)))
    assert 0 < g < dz
    assert hedges_g(-x) == pytest.approx(-g)
    assert hedges_g([1.0]) is None
    assert hedges_g([2.0, 2.0, 2.0]) is None


def test_hedges_g_undefined_at_two_values() -> None:
    """At n = 2 the correction factor J is 0: g would read 0.0 for any two changes (issue 11)."""
    assert hedges_g([1.0, 3.0]) is None
    assert hedges_g([1.0, 3.0, 2.0]) is not None


@pytest.mark.parametrize("n", [1, 2, 5, 9])
def test_signed_rank_cdf_equals_enumeration_of_all_sign_patterns(n: int) -> None:
    sums = [
        sum(r for r, plus in zip(range(1, n + 1), signs, strict=True) if plus)
        for signs in itertools.product([False, True], repeat=n)
    ]
    counts = np.bincount(sums, minlength=n * (n + 1) // 2 + 1)
    assert signed_rank_cdf(n) == pytest.approx(np.cumsum(counts) / 2**n, abs=1e-15)


def test_hl_interval_inverts_scipys_exact_wilcoxon_test() -> None:
    """Just inside the ends the exact test (scipy) does not reject at 5 %; just outside it does."""
    x = np.random.default_rng(12).normal(0.3, 1.0, 9)
    ci = hl_interval(x)
    assert ci.reason is None and ci.low < hodges_lehmann(x) < ci.high
    eps = 1e-9
    for theta, rejects in [
        (ci.low - eps, True),
        (ci.low + eps, False),
        (ci.high - eps, False),
        (ci.high + eps, True),
    ]:
        p = wilcoxon(x - theta, method="exact").pvalue
        assert (p <= 1 - ci.achieved_level + 1e-12) == rejects, (theta, p)
    assert 0.95 <= ci.achieved_level < 0.97


def test_hl_interval_is_shift_equivariant_and_narrows_with_n() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(0.0, 1.0, 10)
    a, b = hl_interval(x), hl_interval(x + 2.5)
    assert (b.low, b.high) == pytest.approx((a.low + 2.5, a.high + 2.5))
    big = hl_interval(rng.normal(0.0, 1.0, 200))
    huge = hl_interval(rng.normal(0.0, 1.0, 400))  # normal approximation above 200
    assert big.high - big.low < a.high - a.low
    assert huge.high - huge.low < big.high - big.low
    assert huge.achieved_level == pytest.approx(0.95, abs=0.002)
    assert big.method.startswith("exact") and "normal approximation" in huge.method


def test_hl_interval_gives_a_reason_instead_of_an_interval() -> None:
    few = hl_interval([0.1, 0.4, -0.2, 0.3, 0.5])
    assert MIN_INTERVAL_N == 6
    assert few.reason == "too_few_values" and few.low is None and few.high is None
    assert hl_interval([]).reason == "too_few_values"
    # The demo's pain ratings: -2 in every session. No interval "-2 to -2", a flag instead.
    same = hl_interval([-2.0] * 8)
    assert same.degenerate and same.low is None and same.n == 8
    assert hl_interval([-2.0] * 7 + [-1.0]).reason is None


def test_hl_interval_at_the_minimum_n_is_the_range() -> None:
    """At n = 6 the only interval reaching 95 % is [min, max]: confidence 1 - 2/64 = 96.9 %."""
    x = [0.5, -0.1, 0.3, 0.8, 0.2, 0.4]
    ci = hl_interval(x)
    assert (ci.low, ci.high) == (min(x), max(x))
    assert ci.achieved_level == pytest.approx(1 - 2 / 64)


def test_hl_variance_from_the_interval_width() -> None:
    from scipy.stats import t

    x = np.random.default_rng(8).normal(0.0, 1.0, 12)
    ci = hl_interval(x)
    q = t.ppf(0.5 + ci.achieved_level / 2, df=11)
    assert hl_variance(x) == pytest.approx(((ci.high - ci.low) / (2 * q)) ** 2)
    assert hl_variance(x[:5]) is None and hl_variance([1.0] * 9) is None
    # On average close to the HL estimator's actual sampling variance, already at n = 8.
    rng = np.random.default_rng(9)
    samples = rng.normal(0.0, 1.0, (2000, 8))
    actual = np.var([hodges_lehmann(s) for s in samples])
    mean_var = np.mean([hl_variance(s) for s in samples])
    assert mean_var == pytest.approx(actual, rel=0.12)


@pytest.mark.parametrize("n", [6, 8, 10])
def test_wilcoxon_exact_when_all_changes_share_sign(n: int) -> None:
    # exact two-sided null probability of the most extreme rank sum: 2 / 2**n
    x = np.arange(1, n + 1) * 0.01
    assert wilcoxon_p(x) == pytest.approx(2 / 2**n)
    assert wilcoxon_p(-x) == pytest.approx(2 / 2**n)


def test_wilcoxon_drops_zero_changes_and_none_when_nothing_left() -> None:
    x = [0.3, 0.1, -0.2, 0.5, 0.4, 0.25]
    assert wilcoxon_p(x + [0.0, 0.0]) == pytest.approx(wilcoxon_p(x))
    assert wilcoxon_p([0.0, 0.0, 0.0]) is None


def test_holm_against_brute_force_definition() -> None:
    ps = [0.01, 0.04, None, 0.03, 0.2]
    got = holm(ps)
    assert got[2] is None
    valid = [(i, p) for i, p in enumerate(ps) if p is not None]
    m = len(valid)
    order = sorted(valid, key=lambda t: t[1])
    for rank, (i, _) in enumerate(order):
        expected = max(min(1.0, (m - r) * order[r][1]) for r in range(rank + 1))
        assert got[i] == pytest.approx(expected)
    assert all(got[i] >= ps[i] for i, _ in valid)
    assert holm([]) == []


def test_holm_never_exceeds_one_and_is_order_preserving() -> None:
    ps = list(np.random.default_rng(6).uniform(size=7))
    adj = holm(ps)
    assert max(adj) <= 1.0
    for (p1, a1), (p2, a2) in itertools.combinations(zip(ps, adj, strict=True), 2):
        if p1 < p2:
            assert a1 <= a2


def test_dersimonian_laird_homogeneous_gives_fixed_effect() -> None:
    y = [0.1, 0.1, 0.1, 0.1]
    v = [0.01, 0.02, 0.04, 0.01]
    res = dersimonian_laird(y, v)
    assert res is not None
    assert res.tau2 == 0.0 and res.i2 == 0.0 and res.q == pytest.approx(0.0)
    assert res.estimate == pytest.approx(0.1)
    assert res.standard_error == pytest.approx(math.sqrt(1 / sum(1 / vi for vi in v)))


def test_dersimonian_laird_heterogeneous_matches_moment_formulae() -> None:
    y = np.array([-0.2, 0.05, 0.3, 0.6, 0.1])
    v = np.array([0.01, 0.02, 0.015, 0.01, 0.03])
    w = 1 / v
    q = float(np.sum(w * (y - np.sum(w * y) / np.sum(w)) ** 2))
    tau2 = (q - 4) / (w.sum() - (w**2).sum() / w.sum())
    res = dersimonian_laird(y, v)
    assert res.q == pytest.approx(q)
    assert res.tau2 == pytest.approx(tau2) and res.tau2 > 0
    assert res.i2 == pytest.approx(100 * (q - 4) / q)
    w_re = 1 / (v + tau2)
    assert res.estimate == pytest.approx(np.sum(w_re * y) / w_re.sum())
    assert res.ci_low < res.estimate < res.ci_high
    # random effects widen the interval relative to fixed effect
    assert res.standard_error > math.sqrt(1 / w.sum())


def test_dersimonian_laird_single_person_and_bad_variances() -> None:
    one = dersimonian_laird([0.2], [0.01])
    assert one.k == 1 and one.i2 is None and one.tau2 == 0.0
    assert dersimonian_laird([0.2, 0.3], [0.0, float("nan")]) is None


def test_hartung_knapp_widens_with_t_and_same_point_estimate() -> None:
    from scipy.stats import t as t_dist

    y = np.array([-0.2, 0.05, 0.3, 0.6, 0.1])
    v = np.array([0.01, 0.02, 0.015, 0.01, 0.03])
    dl = dersimonian_laird(y, v)
    hk = dersimonian_laird(y, v, hartung_knapp=True)
    assert hk.estimate == pytest.approx(dl.estimate) and hk.tau2 == pytest.approx(dl.tau2)
    w = 1 / (v + dl.tau2)
    q_star = np.sum(w * (y - dl.estimate) ** 2) / 4
    assert hk.standard_error == pytest.approx(dl.standard_error * math.sqrt(max(1.0, q_star)))
    assert hk.ci_high - hk.estimate == pytest.approx(t_dist.ppf(0.975, 4) * hk.standard_error)
    assert (hk.ci_high - hk.ci_low) > (dl.ci_high - dl.ci_low) and hk.p_value > dl.p_value
