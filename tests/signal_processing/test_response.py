"""Tests for signal_processing.response: window choice and difference-in-differences."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from signal_processing.metrics import (
    METRICS,
    NIGHT_METRICS,
    WINDOW_METRICS,
    smallest_worthwhile_change,
)
from signal_processing.response import (
    MIN_WEEKDAY_CONTROLS,
    PRIMARY_METRIC,
    CandidateWindow,
    DayWindows,
    WindowValues,
    control_days,
    metric_response,
    select_best_window,
    session_response,
)

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
FIVE = timedelta(minutes=5)


def _win(offset_min: int, coverage: float, artifacts: float, kind: str = "rr") -> CandidateWindow:
    start = T0 + timedelta(minutes=offset_min)
    return CandidateWindow(start, start + FIVE, coverage, artifacts, kind)


def _day(d: date, pre: float | None, post: float | None, **extra_post: float) -> DayWindows:
    return DayWindows(
        d,
        WindowValues({"ln_rmssd": pre, "mean_hr": 70.0}),
        WindowValues({"ln_rmssd": post, "mean_hr": 68.0, **extra_post}),
    )


def test_metric_directions_follow_parasympathetic_shift() -> None:
    assert PRIMARY_METRIC == "ln_rmssd"
    higher = {m for m, s in METRICS.items() if s.better == "higher"}
    lower = {m for m, s in METRICS.items() if s.better == "lower"}
    assert {"ln_rmssd", "rmssd", "hf", "pns_index"} <= higher
    assert {"mean_hr", "stress_index", "sns_index"} <= lower


def test_select_prefers_clean_coverage_not_position() -> None:
    cands = [_win(0, 0.95, 0.04), _win(10, 0.99, 0.0), _win(20, 0.92, 0.01)]
    sel = select_best_window(cands, search_start=T0, search_end=T0 + timedelta(minutes=30))
    assert sel.window == cands[1] and sel.reason is None


def test_select_tie_goes_to_window_closest_to_session() -> None:
    cands = [_win(0, 1.0, 0.0), _win(10, 1.0, 0.0), _win(20, 1.0, 0.0)]
    rng = dict(search_start=T0, search_end=T0 + timedelta(minutes=30))
    assert select_best_window(cands, prefer="latest", **rng).window == cands[2]
    assert select_best_window(cands, prefer="earliest", **rng).window == cands[0]


def test_select_ignores_windows_outside_range_or_wrong_length() -> None:
    outside = _win(-10, 1.0, 0.0)
    too_long = CandidateWindow(T0, T0 + timedelta(minutes=7), 1.0, 0.0)
    inside = _win(5, 0.91, 0.02)
    sel = select_best_window(
        [outside, too_long, inside], search_start=T0, search_end=T0 + timedelta(minutes=30)
    )
    assert sel.window == inside


@pytest.mark.parametrize(
    ("cands", "reason_start"),
    [
        ([], "no_data"),
        ([_win(0, 1.0, 0.0, "heart_rate")], "heart_rate_only"),
        ([_win(0, 0.70, 0.0), _win(10, 0.85, 0.0)], "low_coverage"),
        ([_win(0, 0.97, 0.08)], "too_many_artifacts"),
    ],
)
def test_select_says_why_nothing_qualified(cands: list[CandidateWindow], reason_start: str) -> None:
    sel = select_best_window(cands, search_start=T0, search_end=T0 + timedelta(minutes=30))
    assert sel.window is None and sel.reason.startswith(reason_start)


def test_control_days_exclude_sessions_and_far_days_nearest_first() -> None:
    s = date(2026, 3, 15)
    avail = [s + timedelta(days=k) for k in range(-20, 21)]
    other_sessions = [s + timedelta(days=7), s - timedelta(days=7)]
    got = control_days(s, avail, other_sessions, max_distance_days=14, weekday_distance_days=0).days
    assert s not in got and not set(other_sessions) & set(got)
    assert all(abs((d - s).days) <= 14 for d in got)
    assert len(got) == 28 - 2
    dist = [abs((d - s).days) for d in got]
    assert dist == sorted(dist)


def test_control_days_reach_same_weekday_days_in_weeks_without_a_session() -> None:
    # Weekly sessions on one weekday: every same-weekday day nearby is a session day.
    s = date(2026, 3, 16)  # a Monday
    sessions = [s + timedelta(weeks=k) for k in range(-2, 3)]
    avail = [s + timedelta(days=k) for k in range(-60, 61)]
    got = control_days(s, avail, sessions, max_distance_days=14, weekday_distance_days=56)
    far_mondays = {s + timedelta(weeks=k) for k in (-8, -7, -6, -5, -4, -3, 3, 4, 5, 6, 7, 8)}
    assert {d for d in got.days if d.weekday() == s.weekday()} == far_mondays
    assert got.n_same_weekday == 12
    assert not set(sessions) & set(got.days)


def test_difference_in_differences_removes_daily_rhythm() -> None:
    # Every day lnRMSSD drops 0.2 from pre to post (rhythm); the session day drops only 0.05.
    s = date(2026, 3, 15)
    session = _day(s, 3.5, 3.45)
    controls = [_day(s + timedelta(days=k), 3.6, 3.4) for k in (1, 2, 3, 4)]
    r = metric_response(session, controls, "ln_rmssd")
    assert r.change == pytest.approx(-0.05)
    assert r.control_change == pytest.approx(-0.2)
    assert r.control_adjusted and r.control_adjusted_change == pytest.approx(0.15)
    assert r.delta == pytest.approx(0.15) and r.improved is True
    assert r.n_controls == 4 and r.reason is None


def test_control_term_is_median_robust_to_one_wild_day() -> None:
    s = date(2026, 3, 15)
    session = _day(s, 3.5, 3.6)
    controls = [_day(s + timedelta(days=k), 3.5, 3.5) for k in (1, 2, 3, 4)]
    wild = controls + [_day(s + timedelta(days=5), 3.5, 1.5)]
    assert metric_response(session, wild, "ln_rmssd").control_change == pytest.approx(0.0)


def test_fallback_to_raw_change_with_too_few_controls() -> None:
    s = date(2026, 3, 15)
    session = _day(s, 3.5, 3.7)
    controls = [_day(s + timedelta(days=1), 3.5, 3.4), _day(s + timedelta(days=2), None, 3.4)]
    r = metric_response(session, controls, "ln_rmssd")
    assert not r.control_adjusted and r.control_adjusted_change is None
    assert r.n_controls == 1 and "not control-adjusted" in r.reason
    assert r.delta == pytest.approx(0.2)


def test_missing_window_gives_reason_not_number() -> None:
    s = date(2026, 3, 15)
    session = DayWindows(
        s, WindowValues(insufficient_reason="too_many_artifacts"), WindowValues({"ln_rmssd": 3.5})
    )
    controls = [_day(s + timedelta(days=k), 3.5, 3.4) for k in (1, 2, 3)]
    r = metric_response(session, controls, "ln_rmssd")
    assert r.change is None and r.delta is None and r.improved is None
    assert r.reason == "pre window: too_many_artifacts"
    assert not r.control_adjusted


def test_lower_is_better_metric_direction() -> None:
    s = date(2026, 3, 15)
    session = _day(s, 3.5, 3.5)
    controls = [
        DayWindows(s + timedelta(days=k), WindowValues({"mean_hr": 70.0}), WindowValues({"mean_hr": 71.0}))
        for k in (1, 2, 3)
    ]
    r = session_response(session, controls, ["mean_hr", "hf"])
    assert r["mean_hr"].control_adjusted_change == pytest.approx(-3.0)
    assert r["mean_hr"].improved is True  # HR fell relative to control days
    assert r["hf"].delta is None and "hf not computed" in r["hf"].reason


def test_smallest_worthwhile_change_scales_with_spread() -> None:
    rng = np.random.default_rng(0)
    narrow = rng.normal(0, 0.1, 20)
    swc = smallest_worthwhile_change("ln_rmssd", narrow)
    assert swc == pytest.approx(0.2 * np.std(narrow, ddof=1))
    assert smallest_worthwhile_change("ln_rmssd", narrow * 3) == pytest.approx(3 * swc)
    assert smallest_worthwhile_change("night_hr", narrow) == pytest.approx(swc)  # same 0.2 rule
    # A single daily reading is judged by Plews' 0.5 x SD.
    assert smallest_worthwhile_change("morning_ln_rmssd", narrow) == pytest.approx(
        0.5 * np.std(narrow, ddof=1)
    )


def test_smallest_worthwhile_change_falls_back_without_spread() -> None:
    assert smallest_worthwhile_change("ln_rmssd", [0.1, 0.2]) == METRICS["ln_rmssd"].swc.fallback == 0.05
    assert smallest_worthwhile_change("mean_hr", [0.3, 0.3, 0.3]) == 1.0  # no spread at all
    assert smallest_worthwhile_change("pain", [1.0, 5.0, 9.0]) == 1.0  # fixed: spread ignored


def test_every_metric_has_one_direction_and_a_rule() -> None:
    assert set(WINDOW_METRICS) >= {"ln_rmssd", "mean_hr", "hf", "stress_index"}
    assert NIGHT_METRICS == ("night_ln_rmssd", "night_hr", "sleep_duration_min", "sleep_efficiency")
    for spec in METRICS.values():
        assert spec.better in ("higher", "lower") and spec.swc.fallback > 0


def test_metric_response_to_dict_carries_derived_fields() -> None:
    s = date(2026, 3, 15)
    controls = [_day(s + timedelta(days=k), 3.5, 3.4) for k in (1, 2, 3)]
    d = metric_response(_day(s, 3.5, 3.6), controls, "ln_rmssd").to_dict()
    assert d["delta"] == pytest.approx(0.2) and d["improved"] is True and d["control_adjusted"] is True
    assert {"pre", "post", "change", "control_change", "n_controls", "reason"} <= set(d)


def test_level_response_against_control_nights() -> None:
    from signal_processing.response import level_response

    s = date(2026, 3, 16)
    nights = [
        (s + timedelta(days=k), WindowValues({"night_ln_rmssd": v}))
        for k, v in ((1, 3.9), (2, 4.0), (3, 4.1), (4, 2.0))
    ]
    r = level_response(s, WindowValues({"night_ln_rmssd": 4.2}), nights, "night_ln_rmssd")
    assert r.control_median == pytest.approx(3.95) and r.delta == pytest.approx(0.25) and r.n_controls == 4
    assert r.same_weekday_controls == 0 and r.weekday_matched is False
    few = level_response(s, WindowValues({"night_ln_rmssd": 4.2}), nights[:2], "night_ln_rmssd")
    assert few.delta is None and "need 3" in few.reason
    missing = level_response(s, WindowValues(insufficient_reason="no_data"), nights, "night_ln_rmssd")
    assert missing.delta is None and missing.reason == "no_data"
    hr = level_response(
        s,
        WindowValues({"mean_hr": 60.0}),
        [(s + timedelta(days=k), WindowValues({"mean_hr": 62.0})) for k in (1, 2, 3)],
        "mean_hr",
    )
    assert hr.better == "lower" and hr.delta == pytest.approx(-2.0)


def test_same_weekday_controls_are_used_when_there_are_enough() -> None:
    # Mondays (the session weekday) carry a weekly event that lowers post - pre by 0.3.
    s = date(2026, 3, 16)
    mondays = (-56, -49, -42, -35, -28, -21)
    controls = [
        _day(s + timedelta(days=k), 3.5, 3.5 - (0.3 if k % 7 == 0 else 0.0))
        for k in (*mondays, -3, -2, -1, 1, 2, 3)
    ]
    r = metric_response(_day(s, 3.5, 3.2), controls, "ln_rmssd")
    assert MIN_WEEKDAY_CONTROLS == 6
    assert r.weekday_matched is True and r.same_weekday_controls == 6 and r.n_controls == 6
    assert r.delta == pytest.approx(0.0)  # the Monday event cancels: no session effect
    # With one Monday fewer the weekday is not matched: nearby days, and it says so.
    r2 = metric_response(_day(s, 3.5, 3.2), controls[1:], "ln_rmssd")
    assert r2.weekday_matched is False and r2.same_weekday_controls == 5
    assert r2.n_controls == 6 and r2.delta == pytest.approx(-0.3)


def test_excluded_session_day_has_no_numbers_and_says_why() -> None:
    s = date(2026, 3, 16)
    controls = [_day(s + timedelta(days=k), 3.5, 3.4) for k in (1, 2, 3)]
    day = DayWindows(s, WindowValues({"ln_rmssd": 3.5}), WindowValues({"ln_rmssd": 3.9}), "device_changed")
    r = metric_response(day, controls, "ln_rmssd")
    assert r.delta is None and r.change is None and r.reason == "device_changed"


def test_same_device_day_prefers_one_device_and_flags_a_change() -> None:
    from signal_processing.response import same_device_day

    s = date(2026, 3, 16)
    ok = WindowValues({"ln_rmssd": 3.5})
    none = WindowValues(insufficient_reason="no_data")
    # The strap (preferred) has only pre; the watch has both: the watch is used for both.
    both = same_device_day(s, [(1, ok, none), (2, ok, ok)])
    assert both.source == 2 and both.windows.excluded is None
    # Strap before, watch after, neither has both: device_changed.
    changed = same_device_day(s, [(1, ok, none), (2, none, ok)])
    assert changed.windows.excluded == "device_changed" and changed.source is None
    assert (changed.pre_source, changed.post_source) == (1, 2)
    # Only one side anywhere: the preferred source with data, with its reasons.
    one = same_device_day(s, [(1, none, none), (2, ok, none)])
    assert one.source == 2 and one.windows.excluded is None and one.windows.change("ln_rmssd") is None
