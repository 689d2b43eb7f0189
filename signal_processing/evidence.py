"""Evidence numerics: per-endpoint statistics, the decision rule, massage-minus-rest, pooling.

Pure numbers in, numbers and decision codes out. What a claim is, which metric measures
it, the verdict words shown to people and every sentence about them live in
:mod:`service.evidence`; here a direction is ``"higher"``/``"lower"`` and a threshold is
a float, passed in by the caller.

* :func:`endpoint_stats`: one sample of per-session changes → Hodges–Lehmann estimate,
  exact Wilcoxon interval, Hedges' g, Wilcoxon p (from :mod:`signal_processing.stats`).
* :func:`shift_stats`: two samples (massage sessions vs rest-control sessions) → the
  two-sample Hodges–Lehmann shift, its exact Mann–Whitney (Moses) interval and p.
* :func:`decide`: estimate, interval, p and smallest worthwhile change → a decision code.
* :func:`person_effect` / :func:`pool`: per-person effects pooled with random effects.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
from scipy import stats as sps

from signal_processing import stats

__all__ = [
    "ALPHA",
    "DECISIONS",
    "MIN_PERSONS",
    "MIN_REST_SESSIONS",
    "MIN_SESSIONS",
    "MIN_SESSIONS_PER_PERSON",
    "Decision",
    "Direction",
    "EndpointStats",
    "PersonEffect",
    "PooledStats",
    "decide",
    "endpoint_stats",
    "person_effect",
    "pool",
    "shift_stats",
]

Direction = Literal["higher", "lower"]
#: What the numbers say, before anyone words it: the change is worthwhile in the
#: expected direction, worthwhile in the opposite direction, smaller than worthwhile
#: for sure, not decidable, or there are too few values to ask.
Decision = Literal["improvement", "worsening", "equivalent", "unclear", "too_few"]
DECISIONS: tuple[Decision, ...] = ("improvement", "worsening", "equivalent", "unclear", "too_few")

MIN_SESSIONS = 6  # n-of-1: with n=6 the smallest exact two-sided Wilcoxon p is 2/64 = 0.031 < 0.05
#: Rest-control sessions needed before massage is compared with rest. With 6 massage
#: and 4 rest sessions the smallest exact two-sided Mann–Whitney p is 2/C(10,4) = 0.0095,
#: so the 95 % Moses interval exists and a real difference can reach significance;
#: with 3 it is 2/84 = 0.024, which leaves almost no room for ties or noise.
MIN_REST_SESSIONS = 4
MIN_PERSONS = 3  # cohort: fewer persons cannot estimate between-person variance at all usefully
#: A person enters a cohort pool with at least this many usable sessions. With 3 the pooled
#: 95 % interval covered 92.5-93.5 % and 6-7 % of null cohorts got a wrong verdict; with 4,
#: 97.7 % and 2.3 % (docs/validation.md, "Cohorts: sessions per person").
MIN_SESSIONS_PER_PERSON = stats.MIN_SESSIONS_PER_PERSON_POOLED
ALPHA = 0.05


def _finite(values: Sequence[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(v)]


# --------------------------------------------------------------------------- decision rule


def decide(
    *,
    n: int,
    estimate: float | None,
    ci_low: float | None,
    ci_high: float | None,
    p_value: float | None,
    swc: float,
    better: Direction,
    min_n: int = MIN_SESSIONS,
    alpha: float = ALPHA,
) -> Decision:
    """Decision from estimate, 95 % CI, p-value and smallest worthwhile change (SWC).

    On the improvement scale (values flipped when lower is better):

    1. ``n < min_n`` → ``too_few``;
    2. CI entirely above 0, ``p < alpha`` and estimate ≥ SWC → ``improvement``;
    3. CI entirely below 0, ``p < alpha`` and estimate ≤ −SWC → ``worsening``;
    4. CI entirely inside (−SWC, +SWC) → ``equivalent`` (no worthwhile effect);
    5. otherwise (or no CI) → ``unclear``.

    The point estimate must reach the SWC for ``improvement``: a change that is reliably
    non-zero but smaller than worthwhile does not support a health claim. Requiring the
    whole CI beyond SWC would instead need far more sessions than a person has.
    """
    if n < min_n:
        return "too_few"
    if estimate is None or ci_low is None or ci_high is None:
        return "unclear"
    s = 1.0 if better == "higher" else -1.0
    e = s * estimate
    lo, hi = sorted((s * ci_low, s * ci_high))
    significant = p_value is not None and p_value < alpha  # no p when every change is exactly 0
    if lo > 0 and significant and e >= swc:
        return "improvement"
    if hi < 0 and significant and e <= -swc:
        return "worsening"
    if -swc < lo and hi < swc:
        return "equivalent"
    return "unclear"


# --------------------------------------------------------------------------- one sample


@dataclass(frozen=True)
class EndpointStats:
    """Statistics of one sample of per-session changes."""

    n: int
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    ci_method: str | None
    hedges_g: float | None
    p_value: float | None
    degenerate: bool  # every value identical: there is no spread to estimate anything from


def endpoint_stats(deltas: Sequence[float | None]) -> EndpointStats:
    """Hodges–Lehmann estimate, its exact 95 % interval, Hedges' g and Wilcoxon p.

    The interval is the exact Wilcoxon signed-rank interval (:func:`stats.hl_interval`):
    none below ``stats.MIN_INTERVAL_N`` values, where no 95 % interval exists, and none
    when every value is identical (common with 0–10 self-reports): ``degenerate`` is set
    and there is no spread to estimate anything from. Hedges' g needs at least 3 values
    (its correction factor is 0 at n = 2) and spread.
    """
    x = _finite(deltas)
    n = len(x)
    est = stats.hodges_lehmann(x)
    interval = stats.hl_interval(x)
    degenerate = n >= 2 and len(set(x)) == 1
    lo, hi, how = interval.low, interval.high, None
    if lo is not None:
        how = f"{interval.method}, achieved level {interval.achieved_level:.1%}"
    g = stats.hedges_g(x) if n >= 3 else None
    return EndpointStats(n, est, lo, hi, how, g, stats.wilcoxon_p(x), degenerate)


# --------------------------------------------------------------------------- two samples


@lru_cache(maxsize=256)
def _mann_whitney_null(m: int, n: int) -> np.ndarray:
    """Exact null distribution of the Mann–Whitney U (no ties): P(U = u), u = 0..m·n.

    Counts by the recursion f(m, n, u) = f(m−1, n, u−n) + f(m, n−1, u) (Mann & Whitney
    1947, Ann. Math. Stat. 18:50–60), kept as one array per (i, j).
    """
    table: dict[tuple[int, int], np.ndarray] = {}
    for i in range(m + 1):
        for j in range(n + 1):
            if i == 0 or j == 0:
                arr = np.zeros(i * j + 1)
                arr[0] = 1.0
            else:
                arr = np.zeros(i * j + 1)
                a = table[(i - 1, j)]
                arr[j : j + a.size] += a
                b = table[(i, j - 1)]
                arr[: b.size] += b
            table[(i, j)] = arr
    counts = table[(m, n)]
    return counts / counts.sum()


def shift_stats(
    treated: Sequence[float | None], control: Sequence[float | None], *, confidence_level: float = 0.95
) -> EndpointStats:
    """Two-sample Hodges–Lehmann shift (treated − control) with its exact interval and p.

    The estimate is the median of all pairwise differences; the interval is the Moses
    distribution-free interval — order statistics of those differences picked from the
    exact Mann–Whitney null distribution (Hollander, Wolfe & Chicken, *Nonparametric
    Statistical Methods*, 3rd ed., §4.3) — whose coverage is at least the nominal level
    for any continuous distribution under a shift, at every sample size. The p-value is
    the two-sided Mann–Whitney test (``scipy.stats.mannwhitneyu``, exact without ties).
    Hedges' g is the two-sample mean difference over the pooled SD with Hedges' small-
    sample correction (df = m + n − 2). No interval when no order statistic reaches the
    level (too few values); ``degenerate`` when every value of both samples is equal.
    ``n`` is the number of treated values (the control count is the caller's).
    """
    x, y = _finite(treated), _finite(control)
    m, n = len(x), len(y)
    if m == 0 or n == 0:
        return EndpointStats(m + n, None, None, None, None, None, None, False)
    diffs = np.sort(np.subtract.outer(np.asarray(x), np.asarray(y)).ravel())
    est = float(np.median(diffs))
    degenerate = len(set(x) | set(y)) == 1
    lo = hi = how = None
    pdf = _mann_whitney_null(m, n)
    cdf = np.cumsum(pdf)
    # k = largest count with P(U <= k-1) <= (1 - level)/2: the interval is [D_(k), D_(mn+1-k)].
    tail = (1.0 - confidence_level) / 2.0
    k = int(np.searchsorted(cdf, tail + 1e-12, side="right"))
    if degenerate:
        lo, hi, how = est, est, "degenerate (all changes equal)"
    elif k >= 1:
        lo, hi, how = float(diffs[k - 1]), float(diffs[m * n - k]), "Moses (exact Mann-Whitney)"
    p = None
    if not degenerate:
        p = float(sps.mannwhitneyu(x, y, alternative="two-sided", method="auto").pvalue)
    g = None
    if m >= 2 and n >= 2 and m + n >= 4:
        pooled = math.sqrt(((m - 1) * np.var(x, ddof=1) + (n - 1) * np.var(y, ddof=1)) / (m + n - 2))
        if pooled > 0:
            j = 1.0 - 3.0 / (4.0 * (m + n - 2) - 1.0)
            g = j * (float(np.mean(x)) - float(np.mean(y))) / pooled
    return EndpointStats(m, est, lo, hi, how, g, p, degenerate)


# --------------------------------------------------------------------------- cohort


@dataclass(frozen=True)
class PersonEffect:
    """One person's HL effect and its variance (the input to pooling)."""

    person_id: str
    n_sessions: int
    estimate: float
    variance: float


def person_effect(person_id: str, deltas: Sequence[float | None]) -> PersonEffect | None:
    """HL estimate with its variance read off the exact interval (:func:`stats.hl_variance`).

    ``None`` when the person has no exact 95 % interval (fewer than
    ``stats.MIN_SESSIONS_PER_PERSON_POOLED`` sessions) or no spread.
    """
    x = _finite(deltas)
    est = stats.hodges_lehmann(x)
    variance = stats.hl_variance(x)
    if est is None or variance is None or variance <= 0:
        return None
    return PersonEffect(person_id, len(x), est, variance)


@dataclass(frozen=True)
class PooledStats:
    """Random-effects pooled effect over persons, with the decision on it."""

    decision: Decision
    k_persons: int
    n_sessions: int
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    tau2: float | None
    i2: float | None
    q: float | None
    persons: list[PersonEffect]


def pool(
    deltas_by_person: Mapping[str, Sequence[float | None]],
    *,
    swc: float,
    better: Direction,
    min_persons: int = MIN_PERSONS,
    min_sessions_per_person: int = MIN_SESSIONS_PER_PERSON,
    alpha: float = ALPHA,
    hartung_knapp: bool = True,
) -> PooledStats:
    """Pool per-person HL effects with DerSimonian–Laird; decide by the same rule as n-of-1.

    The interval and p-value use the Hartung–Knapp adjustment by default (t with k − 1 df):
    a therapist's cohort is a handful of persons, where the plain DerSimonian–Laird Wald
    interval is too narrow. Persons with fewer than ``min_sessions_per_person`` usable
    sessions are left out; fewer than ``min_persons`` remaining → ``too_few``.
    """
    persons = []
    for pid, d in deltas_by_person.items():
        if len(_finite(d)) >= min_sessions_per_person:
            pe = person_effect(pid, d)
            if pe is not None:
                persons.append(pe)
    pooled = stats.dersimonian_laird(
        [p.estimate for p in persons], [p.variance for p in persons], hartung_knapp=hartung_knapp
    )
    k = len(persons)
    decision = decide(
        n=k,
        estimate=pooled.estimate if pooled else None,
        ci_low=pooled.ci_low if pooled else None,
        ci_high=pooled.ci_high if pooled else None,
        p_value=pooled.p_value if pooled else None,
        swc=swc,
        better=better,
        min_n=min_persons,
        alpha=alpha,
    )
    return PooledStats(
        decision,
        k,
        sum(p.n_sessions for p in persons),
        pooled.estimate if pooled else None,
        pooled.ci_low if pooled else None,
        pooled.ci_high if pooled else None,
        pooled.p_value if pooled else None,
        pooled.tau2 if pooled else None,
        pooled.i2 if pooled else None,
        pooled.q if pooled else None,
        persons,
    )
