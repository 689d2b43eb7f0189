"""Power of the massage-vs-rest comparison, checked against a simulation of the t test."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from signal_processing import power


def test_power_matches_a_simulated_t_test():
    rng = np.random.default_rng(11)
    effect, sd, n_a, n_b, runs = 0.25, 0.3, 14, 10, 4000
    a = rng.normal(effect, sd, size=(runs, n_a))
    b = rng.normal(0.0, sd, size=(runs, n_b))
    rejected = stats.ttest_ind(a, b, axis=1).pvalue < 0.05
    simulated = rejected.mean()
    # 4000 runs: binomial SE about 0.008 at these rates; 0.03 is almost 4 SE.
    assert power.two_sample_power(effect, sd, n_a, n_b) == pytest.approx(simulated, abs=0.03)


def test_no_effect_gives_alpha():
    assert power.two_sample_power(0.0, 0.3, 20, 20) == pytest.approx(0.05, abs=1e-9)


def test_power_grows_with_sessions_and_effect():
    values = [power.two_sample_power(0.1, 0.3, n, n) for n in (4, 8, 16, 32, 64)]
    assert values == sorted(values) and values[-1] > values[0] + 0.3
    assert power.two_sample_power(0.3, 0.3, 8, 8) > power.two_sample_power(0.1, 0.3, 8, 8)


def test_too_few_sessions_have_no_power():
    assert power.two_sample_power(1.0, 0.3, 1, 1) == 0.0
    with pytest.raises(ValueError):
        power.two_sample_power(0.1, 0.0, 5, 5)


def test_sessions_for_power_is_the_smallest_total_reaching_the_target():
    total = power.sessions_for_power(0.3, 0.3, target=0.8)
    assert total is not None
    assert power.two_sample_power(0.3, 0.3, total - total // 2, total // 2) >= 0.8
    smaller = total - 1
    assert power.two_sample_power(0.3, 0.3, smaller - round(smaller / 2), round(smaller / 2)) < 0.8
    # The textbook normal approximation, 2 (z_.975 + z_.8)^2 / d^2 per arm with d = 1: ~16
    # per arm; the t test needs one more per arm.
    assert 32 <= total <= 36


def test_change_sd_and_typical_error():
    assert power.change_sd(0.2, 4) == pytest.approx(0.2 * math.sqrt(1.25))
    assert power.typical_error_to_difference_sd(21.1) == pytest.approx(math.sqrt(2) * math.log(1.211))
