"""Power of a two-arm n-of-1 comparison: massage sessions against rest sessions.

The outcome is one number per session, its control-adjusted change in lnRMSSD;
the planned test compares the massage sessions' changes with the rest sessions'
at a two-sided alpha. For normally distributed changes with a common standard
deviation ``sd`` the two-sample t statistic follows a noncentral t distribution
with ``n_a + n_b - 2`` degrees of freedom and noncentrality

    delta / (sd * sqrt(1/n_a + 1/n_b)),

so power is the probability that such a variable falls beyond the two-sided
critical value of the central t (Cohen 1988, ch. 2; the standard formula of any
power text). This is exact for the t test and close for the Wilcoxon rank-sum
test, whose asymptotic efficiency relative to the t test is 3/pi = 0.955 under
normal alternatives (Mood 1954) and never below 0.864 for any continuous shape
(Hodges & Lehmann 1956); we do not shrink for it. ``tests/signal_processing/
test_power.py`` checks the formula against a simulated t test.
"""

from __future__ import annotations

import math

from scipy import stats

ALPHA = 0.05
#: Largest number of sessions per arm :func:`sessions_for_power` will look at.
MAX_PER_ARM = 10_000


def two_sample_power(effect: float, sd: float, n_a: int, n_b: int, alpha: float = ALPHA) -> float:
    """Probability that a two-sided two-sample t test at ``alpha`` rejects "no difference"
    when the true difference of means is ``effect`` and both arms have standard deviation
    ``sd``. 0 when an arm has fewer than two sessions would leave no degrees of freedom."""
    if sd <= 0 or not math.isfinite(sd):
        raise ValueError(f"sd must be a positive number, not {sd!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie between 0 and 1, not {alpha!r}")
    if n_a < 1 or n_b < 1 or n_a + n_b < 3:
        return 0.0
    df = n_a + n_b - 2
    noncentrality = abs(effect) / (sd * math.sqrt(1 / n_a + 1 / n_b))
    critical = stats.t.ppf(1 - alpha / 2, df)
    return float(stats.nct.sf(critical, df, noncentrality) + stats.nct.cdf(-critical, df, noncentrality))


def sessions_for_power(
    effect: float, sd: float, target: float = 0.8, rest_share: float = 0.5, alpha: float = ALPHA
) -> int | None:
    """The smallest total number of sessions, split ``rest_share`` rest and the rest
    massage (each arm rounded as the planner rounds it), whose power reaches ``target``;
    None when even :data:`MAX_PER_ARM` sessions per arm would not."""
    if effect == 0 or not 0 < rest_share < 1:
        return None

    def power_of(total: int) -> float:
        n_rest = min(max(round(total * rest_share), 1), total - 1)
        return two_sample_power(effect, sd, total - n_rest, n_rest, alpha)

    high = 4
    while power_of(high) < target:
        high *= 2
        if high * min(rest_share, 1 - rest_share) > MAX_PER_ARM:
            return None
    low = 2
    while low < high:  # power grows with the total (up to rounding of the split)
        middle = (low + high) // 2
        if power_of(middle) >= target:
            high = middle
        else:
            low = middle + 1
    return low


def change_sd(window_sd_of_differences: float, controls: int) -> float:
    """The standard deviation of a control-adjusted change, from the standard deviation
    of a plain before/after difference without intervention: the session's difference
    minus the mean of ``controls`` independent control-day differences has variance
    ``s^2 (1 + 1/controls)``."""
    if controls < 1:
        raise ValueError("at least one control is needed")
    return window_sd_of_differences * math.sqrt(1 + 1 / controls)


def typical_error_to_difference_sd(cv_percent: float) -> float:
    """The standard deviation of a test-retest difference in ln units from a typical error
    given as a coefficient of variation of the raw measure: the typical error in ln units is
    ``ln(1 + CV)``, and a difference of two independent measurements has ``sqrt(2)`` times
    the typical error as its SD (Hopkins 2000, Sports Med 30:1: the typical error is the SD of
    an individual's repeated measurements)."""
    return math.sqrt(2) * math.log1p(cv_percent / 100)
