"""Small-sample statistics for n-of-1 session effects and cohort pooling.

Everything here works on a one-dimensional sample of per-session changes
(control-adjusted deltas, one per usable session) or on per-person effects.
Formulas and citations are collected in ``docs/method.md`` (section
"Evidence and statistics").

Functions return ``None`` (or, for the interval, a reason) instead of raising when a
quantity is undefined for the data at hand (too few values, no spread), so callers can say
"insufficient data" rather than print a meaningless number. The 95 % interval is the exact
Wilcoxon/Hodges-Lehmann one (:func:`hl_interval`); its coverage is simulated in
``tests/signal_processing/test_coverage.py``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

__all__ = [
    "MIN_INTERVAL_N",
    "MIN_SESSIONS_PER_PERSON_POOLED",
    "LocationInterval",
    "PooledEffect",
    "dersimonian_laird",
    "hedges_g",
    "hl_interval",
    "hl_variance",
    "hodges_lehmann",
    "holm",
    "signed_rank_cdf",
    "wilcoxon_p",
]

#: Fewest values for which :func:`hl_interval` gives a 95 % interval. The exact Wilcoxon
#: interval's widest choice, [min, max] of the Walsh averages, has confidence 1 - 2 / 2^n:
#: 87.5 % at n = 4, 93.75 % at n = 5, 96.9 % at n = 6. Below 6 no interval reaches 95 %.
MIN_INTERVAL_N = 6

#: Fewest usable sessions a person needs to enter a pooled (DerSimonian-Laird + Hartung-Knapp)
#: cohort estimate. Each person's variance comes from their exact interval (:func:`hl_variance`),
#: which needs MIN_INTERVAL_N values, so fewer sessions give no variance at all. Simulation
#: (``python -m tests.signal_processing.test_coverage --pooled --replicates 3000``; table in
#: docs/method.md): from 6 sessions per person the pooled 95 % interval covered 93.5-100 %
#: for 3-20 persons and between-person SD 0-1 x the session SD (lowest: 20 persons, no
#: between-person spread; 93.9 % at 8 sessions, 94.6 % at 12). The issue's 3-session cohorts
#: covered 91 %.
MIN_SESSIONS_PER_PERSON_POOLED = 6

#: Above this many values the signed-rank null distribution is replaced by its normal
#: approximation (the exact recursion costs O(n^3); at n = 200 the two pick the same Walsh
#: average or the next one, and their levels differ by < 1e-5).
EXACT_SIGNED_RANK_MAX_N = 200


def _clean(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Float array of the finite values (None/NaN are dropped: they are missing sessions)."""
    arr = np.asarray([np.nan if v is None else v for v in np.ravel(values)], dtype=float)
    return arr[np.isfinite(arr)]


def _walsh_medians(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Median of Walsh averages along ``axis``; vectorised over the other axes."""
    x = np.moveaxis(np.asarray(x, dtype=float), axis, -1)
    i, j = np.triu_indices(x.shape[-1])  # pairs i <= j, including i == j
    walsh = (x[..., i] + x[..., j]) / 2.0
    return np.median(walsh, axis=-1)


def hodges_lehmann(values: Sequence[float] | np.ndarray) -> float | None:
    """Hodges–Lehmann one-sample location estimate: the median of all Walsh averages.

    Walsh averages are ``(x_i + x_j) / 2`` for every ``i <= j`` (Hodges & Lehmann 1963,
    *Ann. Math. Stat.* 34:598–611). It is the estimator that goes with the Wilcoxon
    signed-rank test: robust to a single wild session, yet ~95 % as efficient as the
    mean for normal data. Returns ``None`` for an empty sample.
    """
    x = _clean(values)
    if x.size == 0:
        return None
    return float(_walsh_medians(x))


IntervalReason = Literal["too_few_values", "all_values_equal"]


@dataclass(frozen=True)
class LocationInterval:
    """Confidence interval of the Hodges-Lehmann location, or the reason there is none.

    ``low``/``high`` are ``None`` exactly when ``reason`` is set. ``achieved_level`` is the
    interval's exact confidence for continuous symmetric data: the signed-rank distribution is
    discrete, so the attainable levels are steps (n = 6: 96.9 %, n = 8: 96.1 %); we take the
    smallest attainable level >= ``confidence_level``.
    """

    n: int
    confidence_level: float
    low: float | None = None
    high: float | None = None
    achieved_level: float | None = None
    method: str = "exact Wilcoxon signed-rank interval (Walsh averages)"
    reason: IntervalReason | None = None

    @property
    def degenerate(self) -> bool:
        """Every value is the same: there is no sampling spread to make an interval from."""
        return self.reason == "all_values_equal"


def signed_rank_cdf(n: int) -> np.ndarray:
    """P(T+ <= t) for t = 0..n(n+1)/2 under the null (exact; Wilcoxon 1945).

    T+ is the sum of the ranks 1..n that carry a plus sign, each sign a fair coin: the
    distribution of the sum of a random subset of {1..n}, built one rank at a time.
    """
    m = n * (n + 1) // 2
    prob = np.zeros(m + 1)
    prob[0] = 1.0
    for r in range(1, n + 1):
        prob[r:] = 0.5 * prob[r:] + 0.5 * prob[:-r].copy()
        prob[:r] *= 0.5
    return np.cumsum(prob)


def _cut(n: int, confidence_level: float) -> tuple[int, float] | None:
    """Walsh averages to cut from each end, and the achieved level; ``None`` if unattainable.

    The interval [W_(d), W_(M+1-d)] of the sorted Walsh averages has confidence
    1 - 2 P(T+ <= d - 1) (Hollander & Wolfe 1999, pp. 51-55). We take the largest d whose
    level is still >= the nominal one.
    """
    alpha_half = (1.0 - confidence_level) / 2.0
    if n <= EXACT_SIGNED_RANK_MAX_N:
        cdf = signed_rank_cdf(n)
        d = int(np.searchsorted(cdf, alpha_half, side="right"))  # cdf[d-1] <= alpha/2 < cdf[d]
        if d == 0:
            return None
        return d, float(1.0 - 2.0 * cdf[d - 1])
    m = n * (n + 1) / 2.0
    sd = math.sqrt(n * (n + 1) * (2 * n + 1) / 24.0)
    z = stats.norm.ppf(1.0 - alpha_half)
    d = int(math.floor(m / 2.0 - z * sd + 0.5))  # continuity-corrected normal quantile
    return d, float(1.0 - 2.0 * stats.norm.cdf((d - 0.5 - m / 2.0) / sd))


def hl_interval(values: Sequence[float] | np.ndarray, confidence_level: float = 0.95) -> LocationInterval:
    """Distribution-free confidence interval for the Hodges-Lehmann location estimate.

    The interval inverts the Wilcoxon signed-rank test: its ends are the d-th smallest and
    d-th largest Walsh averages (x_i + x_j) / 2, i <= j, with d from the exact null
    distribution of the signed-rank statistic (Hodges & Lehmann 1963; Hollander & Wolfe 1999,
    pp. 51-55). For any continuous distribution symmetric about the true change its
    coverage is exactly ``achieved_level`` at every n, with no bootstrap and no normality
    assumption. For a skewed distribution it targets the pseudo-median (the median of
    Walsh averages), which is what :func:`hodges_lehmann` estimates.

    No interval (``reason`` set) below ``MIN_INTERVAL_N`` values or when every value is the
    same (``"all_values_equal"``: an interval [x, x] would claim certainty that n equal
    readings cannot give).
    """
    x = _clean(values)
    n = int(x.size)
    if n and np.ptp(x) == 0.0:
        return LocationInterval(n, confidence_level, reason="all_values_equal")
    cut = _cut(n, confidence_level) if n >= 1 else None
    if cut is None:
        return LocationInterval(n, confidence_level, reason="too_few_values")
    d, achieved = cut
    i, j = np.triu_indices(n)
    walsh = np.sort((x[i] + x[j]) / 2.0)
    method = (
        "exact Wilcoxon signed-rank interval (Walsh averages)"
        if n <= EXACT_SIGNED_RANK_MAX_N
        else "Wilcoxon signed-rank interval (Walsh averages), normal approximation"
    )
    return LocationInterval(
        n, confidence_level, float(walsh[d - 1]), float(walsh[walsh.size - d]), achieved, method
    )


def hl_variance(values: Sequence[float] | np.ndarray) -> float | None:
    """Variance of the Hodges-Lehmann estimate read off its exact 95 % interval.

    ``((high - low) / (2 t))^2`` with t the Student quantile (n - 1 df) of the interval's
    achieved level. The large-sample form of this interval-length estimate uses the normal
    quantile; with normal data that overstated the
    variance 2.2-fold at n = 6 and 1.5-fold at n = 8, the t quantile by 1.16 and 1.00
    (4000 samples each, docs/method.md). Used as the within-person variance when pooling
    persons (:func:`dersimonian_laird`). ``None`` when :func:`hl_interval` gives no interval.
    """
    ci = hl_interval(values)
    if ci.low is None or ci.high is None or ci.achieved_level is None:
        return None
    t = float(stats.t.ppf(0.5 + ci.achieved_level / 2.0, df=ci.n - 1))
    return ((ci.high - ci.low) / (2.0 * t)) ** 2


def hedges_g(values: Sequence[float] | np.ndarray) -> float | None:
    """Standardised mean change of paired differences, bias-corrected (Hedges' g_z).

    ``g = J * mean(d) / sd(d)`` with the *standard deviation of the changes themselves*
    as standardiser (Cohen's d_z; Lakens 2013, *Front. Psychol.* 4:863) and Hedges'
    small-sample correction ``J = 1 - 3 / (4 * (n - 1) - 1)`` (Hedges 1981,
    *J. Educ. Stat.* 6:107–128; df = n − 1). It says how large the average change is
    relative to its session-to-session scatter, not relative to between-person spread.
    Returns ``None`` where it is undefined: fewer than 3 values (at n = 2, J = 0 and g would
    read 0 whatever the changes) or zero spread.
    """
    x = _clean(values)
    n = x.size
    if n < 3:
        return None
    sd = float(np.std(x, ddof=1))
    if sd == 0.0:
        return None
    j = 1.0 - 3.0 / (4.0 * (n - 1) - 1.0)
    return j * float(np.mean(x)) / sd


def wilcoxon_p(values: Sequence[float] | np.ndarray) -> float | None:
    """Two-sided Wilcoxon signed-rank p-value for "median change is zero".

    ``scipy.stats.wilcoxon(x, zero_method="wilcox", method="auto")`` (Wilcoxon 1945):
    exact null distribution for small samples without ties or zeros, normal
    approximation otherwise. Zero changes carry no sign and are dropped before
    ranking (``"wilcox"``), as in Wilcoxon's original test. Returns ``None`` when
    no non-zero change remains.
    """
    x = _clean(values)
    x = x[x != 0.0]
    if x.size == 0:
        return None
    res = stats.wilcoxon(x, zero_method="wilcox", alternative="two-sided", method="auto")
    p = float(res.pvalue)
    return p if math.isfinite(p) else None


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm step-down adjusted p-values (Holm 1979, *Scand. J. Stat.* 6:65–70).

    Controls the family-wise error rate without assuming independence. ``None``
    entries (endpoints without a test) are passed through and do not count towards
    the family size. Adjusted values are monotone and capped at 1.
    """
    tested = [(i, p) for i, p in enumerate(p_values) if p is not None]
    m = len(tested)
    out: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (i, p) in enumerate(sorted(tested, key=lambda item: item[1])):
        adj = min(1.0, (m - rank) * float(p))
        running = max(running, adj)  # step-down: never smaller than a previous one
        out[i] = running
    return out


@dataclass(frozen=True)
class PooledEffect:
    """Random-effects pooled estimate across persons."""

    estimate: float
    ci_low: float
    ci_high: float
    standard_error: float
    p_value: float
    tau2: float
    i2: float | None  # percent; None when Q has no degrees of freedom (k == 1)
    q: float
    k: int


def dersimonian_laird(
    effects: Sequence[float],
    variances: Sequence[float],
    *,
    confidence_level: float = 0.95,
    hartung_knapp: bool = False,
) -> PooledEffect | None:
    """DerSimonian–Laird random-effects pooling of per-person effects.

    Method-of-moments between-person variance
    ``tau² = max(0, (Q − (k − 1)) / (Σw − Σw² / Σw))`` with fixed-effect weights
    ``w = 1 / v`` and Cochran's ``Q = Σ w (y − ȳ_FE)²``; then weights ``w* = 1 / (v + tau²)``
    (DerSimonian & Laird 1986, *Control. Clin. Trials* 7:177–188).
    ``I² = max(0, (Q − df) / Q)`` in percent (Higgins & Thompson 2002, *Stat. Med.*
    21:1539–1558).

    Interval and test: by default the classic normal-theory (Wald) ones, which are too
    narrow with few persons (IntHout et al. 2014, *BMC Med. Res. Methodol.* 14:25). With
    ``hartung_knapp=True`` the Hartung–Knapp–Sidik–Jonkman variant is used instead:
    ``se² = max(1, q*) / Σw*`` with ``q* = Σ w* (y − μ)² / (k − 1)`` and a t distribution
    with k − 1 df (Hartung & Knapp 2001, *Stat. Med.* 20:3875–3889; the ``max(1, ·)``
    guard, the "ad hoc" modification discussed by Röver et al. 2015, *BMC Med. Res. Methodol.*
    15:99, keeps it from ever being narrower than the Wald interval).
    Persons with a missing or non-positive variance are skipped. Returns ``None`` when no
    person remains.
    """
    y = np.asarray(effects, dtype=float)
    v = np.asarray(variances, dtype=float)
    ok = np.isfinite(y) & np.isfinite(v) & (v > 0)
    y, v = y[ok], v[ok]
    k = int(y.size)
    if k == 0:
        return None
    w = 1.0 / v
    y_fe = float(np.sum(w * y) / np.sum(w))
    q = float(np.sum(w * (y - y_fe) ** 2))
    df = k - 1
    c = float(np.sum(w) - np.sum(w**2) / np.sum(w))
    tau2 = max(0.0, (q - df) / c) if df > 0 and c > 0 else 0.0
    w_re = 1.0 / (v + tau2)
    est = float(np.sum(w_re * y) / np.sum(w_re))
    se = float(math.sqrt(1.0 / np.sum(w_re)))
    q_level = 0.5 + confidence_level / 2.0
    if hartung_knapp and df > 0:
        q_star = float(np.sum(w_re * (y - est) ** 2) / df)
        se *= math.sqrt(max(1.0, q_star))
        crit = float(stats.t.ppf(q_level, df))
        p = float(2.0 * stats.t.sf(abs(est) / se, df))
    else:
        crit = float(stats.norm.ppf(q_level))
        p = float(2.0 * stats.norm.sf(abs(est) / se))
    i2 = (max(0.0, (q - df) / q) * 100.0 if q > 0 else 0.0) if df > 0 else None
    return PooledEffect(est, est - crit * se, est + crit * se, se, p, tau2, i2, q, k)
