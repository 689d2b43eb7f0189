"""Session response: window choice and control-adjusted (difference-in-differences) change.

Pure functions over per-window metric values that the service layer has already
computed (HRV of a 5-minute window, mean HR, indices). Nothing here reads a
database. The method is described in ``docs/method.md`` ("Evidence and statistics")
and DESIGN.md §6:

    session effect = (post − pre on the session day) − median(post − pre on control days)

where control days are nearby days without a session, measured at the same local
clock times, so that the time-of-day rhythm (HR rises and HRV falls over the
afternoon, for example) is not mistaken for an effect of the massage.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

import numpy as np

from signal_processing.metrics import METRICS, WINDOW_METRICS, Better

__all__ = [
    "MIN_WEEKDAY_CONTROLS",
    "ControlDays",
    "ControlSet",
    "match_controls",
    "BEAT_DATA_KINDS",
    "PRIMARY_METRIC",
    "CandidateWindow",
    "DayWindows",
    "DeviceChoice",
    "LevelResponse",
    "MetricResponse",
    "WindowSelection",
    "WindowValues",
    "control_days",
    "level_response",
    "metric_response",
    "same_device_day",
    "select_best_window",
    "session_response",
]

PRIMARY_METRIC = "ln_rmssd"

# Data kinds that carry beat-to-beat timing, i.e. that can give HRV at all.
BEAT_DATA_KINDS = frozenset({"rr", "ecg", "ppg_beats"})


# --------------------------------------------------------------------------- windows


@dataclass(frozen=True)
class CandidateWindow:
    """One candidate 5-minute window with its quality figures (never its HRV value)."""

    start: datetime
    end: datetime
    coverage: float  # sum of RR / window length, 0..1
    artifact_share: float  # share of beats flagged by the first artifact pass, 0..1
    data_kind: str = "rr"  # rr | ecg | ppg_beats | heart_rate | device_hrv


@dataclass(frozen=True)
class WindowSelection:
    """The chosen window, or ``None`` with the reason no window qualified.

    Reasons start with the codes of :mod:`signal_processing.windows` (``no_data``,
    ``low_coverage``, ``too_many_artifacts``, ``heart_rate_only``, ``device_hrv_only``),
    followed by the best value seen where that helps.
    """

    window: CandidateWindow | None
    reason: str | None = None


def select_best_window(
    candidates: Sequence[CandidateWindow],
    *,
    search_start: datetime,
    search_end: datetime,
    length: timedelta = timedelta(minutes=5),
    min_coverage: float = 0.90,
    max_artifact_share: float = 0.05,
    prefer: Literal["latest", "earliest"] = "latest",
) -> WindowSelection:
    """Pick the best-quality window of ``length`` lying inside ``[search_start, search_end]``.

    Quality is judged only from coverage and artifact share — never from the HRV value,
    which would bias the result towards whatever we hope to find. Among windows that
    pass both thresholds (DESIGN.md §5 defaults), the one with the largest share of the
    window covered by clean beats, ``coverage * (1 - artifact_share)``, wins; ties go to
    the window closest to the session (``prefer="latest"`` for ``pre``, ``"earliest"``
    for ``post``), which best reflects the state right around it.
    """
    tolerance = timedelta(seconds=1)
    inside = [
        c
        for c in candidates
        if c.start >= search_start and c.end <= search_end and abs((c.end - c.start) - length) <= tolerance
    ]
    if not inside:
        return WindowSelection(None, "no_data")
    beats = [c for c in inside if c.data_kind in BEAT_DATA_KINDS]
    if not beats:
        return WindowSelection(
            None,
            "heart_rate_only" if any(c.data_kind == "heart_rate" for c in inside) else "device_hrv_only",
        )
    covered = [c for c in beats if c.coverage >= min_coverage]
    if not covered:
        best = max(c.coverage for c in beats)
        return WindowSelection(None, f"low_coverage: best {best:.0%} < {min_coverage:.0%}")
    clean = [c for c in covered if c.artifact_share <= max_artifact_share]
    if not clean:
        best = min(c.artifact_share for c in covered)
        return WindowSelection(None, f"too_many_artifacts: best {best:.1%} > {max_artifact_share:.1%}")
    sign = 1 if prefer == "latest" else -1
    chosen = max(
        clean,
        key=lambda c: (round(c.coverage * (1.0 - c.artifact_share), 6), sign * c.start.timestamp()),
    )
    return WindowSelection(chosen)


@dataclass(frozen=True)
class ControlDays:
    """Candidate control days of one session: every nearby free day, and same-weekday days
    further out so that the session's weekday is represented when the person's data allow."""

    session_day: date
    days: tuple[date, ...]  # nearest first
    nearby_days: int  # the radius of "nearby"

    def same_weekday(self, day: date) -> bool:
        return day.weekday() == self.session_day.weekday()

    @property
    def n_same_weekday(self) -> int:
        return sum(self.same_weekday(d) for d in self.days)


def control_days(
    session_day: date,
    available_days: Iterable[date],
    busy_days: Iterable[date],
    *,
    max_distance_days: int = 14,
    weekday_distance_days: int = 56,
) -> ControlDays:
    """Free days within ``±max_distance_days`` of ``session_day``, plus free days on the
    session's weekday within ``±weekday_distance_days``, nearest first.

    ``available_days`` are the days with any data; ``busy_days`` the days the caller rules
    out (another session at a time that would touch the control windows). Weekly sessions on
    a fixed weekday leave no free same-weekday day nearby, so the weekday search reaches into
    the weeks without a session (before the first one, skipped weeks). The caller measures
    the same local clock-time windows on each returned day.
    """
    busy = set(busy_days) | {session_day}
    wd = session_day.weekday()

    def wanted(d: date) -> bool:
        distance = abs((d - session_day).days)
        return d not in busy and (
            distance <= max_distance_days or (d.weekday() == wd and distance <= weekday_distance_days)
        )

    days = sorted({d for d in available_days if wanted(d)}, key=lambda d: (abs((d - session_day).days), d))
    return ControlDays(session_day, tuple(days), max_distance_days)


#: Same-weekday control days needed before the control term uses them alone. With weekly
#: sessions on one weekday the same few same-weekday days serve every session, and their
#: shared noise correlates the session effects: with 3 the simulated null gave 14 % false
#: verdicts and 84 % coverage; with 6, 3 % and 92 % (docs/validation.md).
MIN_WEEKDAY_CONTROLS = 6


@dataclass(frozen=True)
class ControlSet:
    """The control values actually used for one metric, and how well they match the weekday."""

    values: tuple[float, ...]
    n_same_weekday: int  # usable controls on the session's weekday (among all candidates)
    weekday_matched: bool  # True: only same-weekday controls were used


def match_controls(
    session_day: date,
    controls: Sequence[tuple[date, float | None]],
    *,
    nearby_days: int = 14,
    min_controls: int = 3,
    min_weekday: int | None = None,
) -> ControlSet:
    """Which control values to use: same-weekday days when there are at least ``min_weekday``
    usable ones (default :data:`MIN_WEEKDAY_CONTROLS`; the weekday and clock time are then
    both matched), else every nearby day.

    Anything specific to a weekday (a weekly class, the commute of an office day) then
    cancels when the person's data allow it; when they do not, ``weekday_matched`` is False
    and the caller must say that the weekday is a possible confound.
    """
    usable = [(d, v) for d, v in controls if v is not None and math.isfinite(v)]
    same = [v for d, v in usable if d.weekday() == session_day.weekday()]
    if len(same) >= (MIN_WEEKDAY_CONTROLS if min_weekday is None else min_weekday):
        return ControlSet(tuple(same), len(same), True)
    near = [v for d, v in usable if abs((d - session_day).days) <= nearby_days]
    return ControlSet(tuple(near), len(same), False)


# --------------------------------------------------------------------------- responses


@dataclass(frozen=True)
class WindowValues:
    """Metric values of one window, or why it has none.

    ``insufficient_reason`` applies to the whole window (``no_data``, ``low_coverage``,
    ``too_many_artifacts``, ``heart_rate_only`` ...); ``missing`` gives per-metric reasons
    (for example HF absent because of ``gap_too_long``).
    """

    values: Mapping[str, float | None] = field(default_factory=dict)
    insufficient_reason: str | None = None
    missing: Mapping[str, str] = field(default_factory=dict)
    data_kind: str | None = None

    def value(self, metric: str) -> float | None:
        if self.insufficient_reason is not None:
            return None
        v = self.values.get(metric)
        return float(v) if v is not None and math.isfinite(v) else None

    def reason(self, metric: str) -> str:
        return self.insufficient_reason or self.missing.get(metric) or f"{metric} not computed"


@dataclass(frozen=True)
class DayWindows:
    """The ``pre`` and ``post`` windows of one day (session day or control day)."""

    day: date
    pre: WindowValues
    post: WindowValues
    #: Set when the two windows must not be compared at all (``device_changed``: pre and post
    #: come from different devices); then the day has no change for any metric.
    excluded: str | None = None

    def change(self, metric: str) -> float | None:
        if self.excluded is not None:
            return None
        pre, post = self.pre.value(metric), self.post.value(metric)
        return None if pre is None or post is None else post - pre


@dataclass(frozen=True)
class DeviceChoice:
    """A session day's windows from one device, or both sides marked ``device_changed``."""

    windows: DayWindows
    source: int | None  # the device every window of the session (and its controls) comes from
    pre_source: int | None
    post_source: int | None


def same_device_day(day: date, by_source: Sequence[tuple[int, WindowValues, WindowValues]]) -> DeviceChoice:
    """Pre and post windows of a session from one device.

    ``by_source`` holds each source's (pre, post) windows, preferred source first. The first
    source with usable pre *and* post windows wins. When no single source has both but
    different sources do (a chest strap before, a watch after), the day is excluded as
    ``device_changed``: a change between two devices measures the devices as much as the
    person. Otherwise the preferred source's windows are returned with their reasons.
    """

    def usable(w: WindowValues) -> bool:
        return w.insufficient_reason is None

    for source, pre, post in by_source:
        if usable(pre) and usable(post):
            return DeviceChoice(DayWindows(day, pre, post), source, source, source)
    with_pre = [(s, pre) for s, pre, _ in by_source if usable(pre)]
    with_post = [(s, post) for s, _, post in by_source if usable(post)]
    if with_pre and with_post:
        (ps, pre), (qs, post) = with_pre[0], with_post[0]
        return DeviceChoice(DayWindows(day, pre, post, excluded="device_changed"), None, ps, qs)
    if by_source:
        source, pre, post = next(((s, a, b) for s, a, b in by_source if usable(a) or usable(b)), by_source[0])
        return DeviceChoice(DayWindows(day, pre, post), source, source, source)
    empty = WindowValues(insufficient_reason="no_data")
    return DeviceChoice(DayWindows(day, empty, empty), None, None, None)


@dataclass(frozen=True)
class MetricResponse:
    """Pre, post and change of one metric around one session."""

    metric: str
    better: Better
    pre: float | None
    post: float | None
    change: float | None  # post − pre on the session day
    control_change: float | None  # median post − pre over the control days used
    n_controls: int  # control days used (with a usable change for this metric)
    control_adjusted_change: float | None
    control_adjusted: bool
    reason: str | None  # why a number is missing, or why it is not control-adjusted
    same_weekday_controls: int = 0  # usable control days on the session's weekday
    weekday_matched: bool = False  # the control term came from same-weekday days only

    @property
    def delta(self) -> float | None:
        """The session's effect as used for evidence: adjusted when possible, else raw change."""
        return self.control_adjusted_change if self.control_adjusted else self.change

    @property
    def improved(self) -> bool | None:
        d = self.delta
        if d is None or d == 0.0:
            return None
        return (d > 0) == (self.better == "higher")

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict including the derived ``delta`` and ``improved``."""
        return {**asdict(self), "delta": self.delta, "improved": self.improved}


def metric_response(
    session: DayWindows,
    controls: Sequence[DayWindows],
    metric: str,
    *,
    min_controls: int = 3,
    nearby_days: int = 14,
) -> MetricResponse:
    """Difference-in-differences change of ``metric`` for one session.

    The control term is the **median** of the control days' (post − pre) changes, taken
    over the same-weekday control days when at least ``min_controls`` of them have a usable
    change, else over every control day within ``nearby_days`` (:func:`match_controls`).
    Control days are free-living days: a workout, a coffee or a bad meeting can move one
    day's change far more than a massage would, and the quality gate cannot catch such
    physiological outliers; the median ignores up to half of them. The price is small:
    with the ~15–25 control days of a ±14-day search, the median's extra variance
    (≈ π/2 × that of the mean) adds only a few percent to the variance of the session
    delta, which is dominated by the session day itself.

    With fewer than ``min_controls`` usable control days, the raw change is returned,
    ``control_adjusted=False``, with the reason. A session day marked ``excluded`` (for
    example ``device_changed``) has no numbers, and that is the reason.
    """
    better = METRICS[metric].better
    chosen = match_controls(
        session.day,
        [(d.day, d.change(metric)) for d in controls],
        nearby_days=nearby_days,
        min_controls=min_controls,
    )
    ctrl = list(chosen.values)
    n = len(ctrl)
    control_change = float(np.median(ctrl)) if n else None
    if session.excluded is not None:
        return MetricResponse(
            metric,
            better,
            None,
            None,
            None,
            control_change,
            n,
            None,
            False,
            session.excluded,
            chosen.n_same_weekday,
            chosen.weekday_matched,
        )
    pre, post = session.pre.value(metric), session.post.value(metric)
    change = None if pre is None or post is None else post - pre
    reason: str | None = None
    if change is None:
        missing = session.pre if pre is None else session.post
        reason = f"{'pre' if pre is None else 'post'} window: {missing.reason(metric)}"
    adjusted = n >= min_controls
    if not adjusted and reason is None:
        reason = (
            f"only {n} control day(s) with usable data (need {min_controls}): "
            "raw change, not control-adjusted"
        )
    adj = change - control_change if adjusted and change is not None and control_change is not None else None
    return MetricResponse(
        metric,
        better,
        pre,
        post,
        change,
        control_change,
        n,
        adj,
        adjusted and change is not None,
        reason,
        chosen.n_same_weekday,
        chosen.weekday_matched,
    )


def session_response(
    session: DayWindows,
    controls: Sequence[DayWindows],
    metrics: Iterable[str] = WINDOW_METRICS,
    *,
    min_controls: int = 3,
    nearby_days: int = 14,
) -> dict[str, MetricResponse]:
    """:func:`metric_response` for each metric, keyed by metric name."""
    return {
        m: metric_response(session, controls, m, min_controls=min_controls, nearby_days=nearby_days)
        for m in metrics
    }


@dataclass(frozen=True)
class LevelResponse:
    """A single-window measure (the night or morning after a session) against the same
    measure after control days."""

    metric: str
    better: Better
    value: float | None  # after the session
    control_median: float | None
    n_controls: int
    difference: float | None  # value − control median; None with too few controls
    reason: str | None
    same_weekday_controls: int = 0
    weekday_matched: bool = False

    @property
    def delta(self) -> float | None:
        return self.difference

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "delta": self.delta}


def level_response(
    session_day: date,
    session_window: WindowValues,
    control_windows: Sequence[tuple[date, WindowValues]],
    metric: str,
    *,
    min_controls: int = 3,
    nearby_days: int = 14,
) -> LevelResponse:
    """``value − median(control values)`` for measures with no pre/post pair (next night,
    next morning).

    ``control_windows`` pairs each control day with its window (the night or morning after
    that day); the control values are chosen like a pre/post change's
    (:func:`match_controls`: same weekday first). Median for the same reason as in
    :func:`metric_response`. Unlike a pre/post change there is no raw fallback: a night on
    its own says nothing about the session, so fewer than ``min_controls`` control values
    give no difference, with the reason.
    """
    direction = METRICS[metric].better
    chosen = match_controls(
        session_day,
        [(d, w.value(metric)) for d, w in control_windows],
        nearby_days=nearby_days,
        min_controls=min_controls,
    )
    ctrl = list(chosen.values)
    med = float(np.median(ctrl)) if ctrl else None
    value = session_window.value(metric)
    common = (chosen.n_same_weekday, chosen.weekday_matched)
    if value is None:
        return LevelResponse(
            metric, direction, None, med, len(ctrl), None, session_window.reason(metric), *common
        )
    if len(ctrl) < min_controls:
        return LevelResponse(
            metric,
            direction,
            value,
            med,
            len(ctrl),
            None,
            f"only {len(ctrl)} control value(s) (need {min_controls})",
            *common,
        )
    assert med is not None  # at least min_controls values
    return LevelResponse(metric, direction, value, med, len(ctrl), value - med, None, *common)
