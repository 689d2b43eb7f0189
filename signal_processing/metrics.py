"""What each response metric is: its unit, which direction is "better", and its smallest
worthwhile change (SWC). The one home of these facts; responses, baselines and evidence read
them from here, and the service's claims table names metrics from :data:`METRICS`.

"Better" is the direction of a shift towards parasympathetic (rest-and-digest) predominance,
lower pain or anxiety, lower cortisol, longer and more efficient sleep: what a relaxing
massage is claimed to cause.

Smallest worthwhile change: one rule per metric (:class:`SWCRule`), ``factor × SD`` of the
person's own spread of that metric, or a fixed fallback when that spread cannot be estimated:

* ``pre_post`` (window metrics): 0.2 × SD of the person's control-day (post − pre) changes.
  0.2 is the conventional smallest "small" standardised effect (Cohen 1988; Hopkins 2004,
  *Sportscience* 8:1-7), appropriate because the evidence is an *average* over sessions, as
  in a trial.
* ``control_nights`` (the night after): 0.2 × SD of the same measure on control nights, for
  the same reason.
* ``daily_reading`` (a single morning/night reading judged against the person's normal):
  0.5 × SD of daily values, the rule of Plews et al. 2012 (*Eur. J. Appl. Physiol.*
  112:3729-3741) and 2013 (*Sports Med.* 43:773-781) for daily lnRMSSD; used for the
  60-day normal range of :mod:`signal_processing.baseline` and the recovery (next-morning)
  measure.
* ``fixed``: no personal spread exists (self-reports, cortisol); the fallback is the value.
  0-10 rating scales: 1 point, the smallest step the scale can show (Farrar et al. 2001 put the
  clinically important change for pain at about 2 points). Salivary cortisol: 1 nmol/L, about
  10 % of a typical morning value.

Fallbacks of the personal rules apply when fewer than :data:`MIN_SPREAD` values exist; they
are of the size the personal rule gives for typical resting data (lnRMSSD 0.05 ln units,
heart rate 1 bpm).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = [
    "METRICS",
    "MIN_SPREAD",
    "NIGHT_METRICS",
    "WINDOW_METRICS",
    "Better",
    "MetricSpec",
    "SWCRule",
    "better",
    "smallest_worthwhile_change",
]

Better = Literal["higher", "lower"]
SpreadKind = Literal["pre_post", "control_nights", "daily_reading", "fixed"]

#: Fewest spread values from which a personal SD is estimated.
MIN_SPREAD = 3


@dataclass(frozen=True)
class SWCRule:
    """``factor × SD(spread)`` where ``spread`` is the kind of values named, else ``fallback``."""

    spread: SpreadKind
    factor: float
    fallback: float


PRE_POST = 0.2
DAILY = 0.5


@dataclass(frozen=True)
class MetricSpec:
    """One metric: unit, the direction that counts as an improvement, and its SWC rule."""

    name: str
    unit: str
    better: Better
    description: str
    swc: SWCRule


def _pre_post(fallback: float) -> SWCRule:
    return SWCRule("pre_post", PRE_POST, fallback)


def _nights(fallback: float) -> SWCRule:
    return SWCRule("control_nights", PRE_POST, fallback)


METRICS: dict[str, MetricSpec] = {
    m.name: m
    for m in (
        # 5-minute windows before and after a session (difference in differences).
        MetricSpec(
            "ln_rmssd",
            "ln(ms)",
            "higher",
            "natural log of RMSSD (vagal tone marker)",
            _pre_post(0.05),
        ),
        MetricSpec("mean_hr", "bpm", "lower", "mean heart rate", _pre_post(1.0)),
        MetricSpec("rmssd", "ms", "higher", "root mean square of successive RR differences", _pre_post(2.0)),
        MetricSpec("hf", "ms²", "higher", "high-frequency power 0.15–0.4 Hz", _pre_post(50.0)),
        MetricSpec(
            "stress_index",
            "",
            "lower",
            "Baevsky stress index (raw, not its square root)",
            _pre_post(10.0),
        ),
        MetricSpec("sns_index", "", "lower", "Kubios-style sympathetic index", _pre_post(0.1)),
        MetricSpec("pns_index", "", "higher", "Kubios-style parasympathetic index", _pre_post(0.1)),
        # The night after a session, against control nights.
        MetricSpec(
            "night_ln_rmssd",
            "ln(ms)",
            "higher",
            "median lnRMSSD over the main sleep",
            _nights(0.05),
        ),
        MetricSpec(
            "night_hr",
            "bpm",
            "lower",
            "lowest 5-minute mean heart rate over the night",
            _nights(1.0),
        ),
        MetricSpec("sleep_duration_min", "min", "higher", "time asleep in the main sleep", _nights(10.0)),
        MetricSpec("sleep_efficiency", "", "higher", "time asleep / time of the main sleep", _nights(0.02)),
        # Single daily readings against the person's normal.
        MetricSpec(
            "morning_ln_rmssd",
            "ln(ms)",
            "higher",
            "lnRMSSD of the first valid morning window",
            SWCRule("daily_reading", DAILY, 0.05),
        ),
        MetricSpec(
            "resting_hr",
            "bpm",
            "lower",
            "resting heart rate of the day",
            SWCRule("daily_reading", DAILY, 1.0),
        ),
        # No personal spread: fixed values.
        MetricSpec("pain", "0-10", "lower", "self-reported pain", SWCRule("fixed", 0.0, 1.0)),
        MetricSpec(
            "headache_intensity",
            "0-10",
            "lower",
            "self-reported headache intensity",
            SWCRule("fixed", 0.0, 1.0),
        ),
        MetricSpec("anxiety", "0-10", "lower", "self-reported anxiety", SWCRule("fixed", 0.0, 1.0)),
        MetricSpec("cortisol", "nmol/L", "lower", "cortisol", SWCRule("fixed", 0.0, 1.0)),
    )
}

#: Metrics measured in the 5-minute windows around a session.
WINDOW_METRICS: tuple[str, ...] = tuple(n for n, m in METRICS.items() if m.swc.spread == "pre_post")
#: Metrics of the night after a session.
NIGHT_METRICS: tuple[str, ...] = tuple(n for n, m in METRICS.items() if m.swc.spread == "control_nights")


def better(metric: str) -> Better:
    """The direction that counts as an improvement for ``metric``."""
    return METRICS[metric].better


def smallest_worthwhile_change(metric: str, spread: Iterable[float | None] = ()) -> float:
    """The SWC of ``metric`` by its rule, from the person's ``spread`` of the kind the rule names.

    ``spread`` is ignored for ``fixed`` rules; with fewer than :data:`MIN_SPREAD` finite
    values (or no spread at all) the rule's fallback is returned.
    """
    rule = METRICS[metric].swc
    if rule.spread == "fixed":
        return rule.fallback
    x = np.asarray([v for v in spread if v is not None and math.isfinite(v)], dtype=float)
    if x.size < MIN_SPREAD:
        return rule.fallback
    sd = float(np.std(x, ddof=1))
    return rule.factor * sd if sd > 0 else rule.fallback
