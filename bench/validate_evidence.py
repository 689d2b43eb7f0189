"""Validate the evidence pipeline against realistic null worlds and effect worlds (issue 11).

Synthetic persons wear a chest strap for months and have weekly sessions (massage, and in
some worlds rest-control sessions) at the same weekday and local clock time. Each world
injects one thing that is *not* a massage-specific effect (or, in effect worlds, a known
one), and the real pipeline runs on every person:

* windows: candidate 5-minute windows in the pre (30 min before) and post (5-35 min after)
  search ranges, chosen by quality only (:func:`response.select_best_window`);
  with ``--rr`` every window is simulated as beat-to-beat RR with artifacts and gaps and
  goes through the real cleaning and HRV (:func:`rr.clean_rr`, :func:`windows.window_quality`,
  :func:`windows.analyze_window`); without it the window's metrics are drawn from the same
  model directly (fast; the two agree, see ``docs/validation.md``);
* one device per session (:func:`response.same_device_day`, ``device_changed`` excluded);
* control days (:func:`response.control_days`: nearby free days and same-weekday free days
  up to 8 weeks away), weekday-matched difference in differences
  (:func:`response.session_response`), the night after and the next morning against their
  own control days (:func:`response.level_response`);
* each metric's smallest worthwhile change (:func:`metrics.smallest_worthwhile_change`);
* person evidence: every claim of the claims table with the service's endpoints
  (``service.evidence.assess``: massage against rest-control sessions when there are enough,
  else against ordinary days; Holm across secondary endpoints; the headline choice; the
  weekday-confound rule).

For each world and claim the output gives the share of persons whose verdict is
``supported`` and ``contradicted``, and for the primary endpoint (lnRMSSD change) the
coverage of the massage-specific truth by the 95 % interval and the mean usable sessions.

    .venv/bin/python bench/validate_evidence.py --persons 200

Prints Markdown tables (pasted into docs/validation.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from signal_processing.metrics import NIGHT_METRICS, smallest_worthwhile_change  # noqa: E402
from signal_processing.response import (  # noqa: E402
    CandidateWindow,
    DayWindows,
    WindowValues,
    control_days,
    level_response,
    same_device_day,
    select_best_window,
    session_response,
)

EPOCH = date(2026, 1, 5)  # a Monday
STRAP, WATCH = 1, 2  # source ids, strap preferred
WINDOW_METRICS = ("ln_rmssd", "mean_hr", "hf", "stress_index", "sns_index")
HR_PER_LN = -20.0  # bpm per ln unit: an lnRMSSD shift of +0.10 comes with HR -2 bpm
CLAIMS_REPORTED = ("acute_stress", "stress_hormones", "sleep", "recovery")


@dataclass(frozen=True)
class World:
    """What happens to the person besides measurement noise. ``null``: no massage-specific
    effect, so a massage-specific ``supported`` is a false positive."""

    name: str
    massage_effect: float = 0.0  # post-window lnRMSSD, massage sessions only
    rest_effect: float = 0.0  # post-window lnRMSSD on every session visit (massage or rest)
    rest_sessions: int = 0  # rest-control sessions besides the massage sessions
    ar1: float = 0.0  # day-to-day autocorrelation of the day effect
    weekday_effect: float = 0.0  # post-window lnRMSSD on the session weekday, every week
    arrival_stress: float = 0.0  # pre-window lnRMSSD drop on session days
    device_change: float = 0.0  # share of sessions measured after by another device (bias +0.1)
    worst_mornings: bool = False  # each session booked on its week's worst morning

    @property
    def null(self) -> bool:
        return self.massage_effect == 0.0


WORLDS: tuple[World, ...] = (
    World("independent days"),
    World("AR(1) drift", ar1=0.8),
    World("weekday effect 0.10", weekday_effect=0.10),
    World("rest 0.05, no rest controls", rest_effect=0.05),
    World("rest 0.05, 6 rest controls", rest_effect=0.05, rest_sessions=6),
    World("rest 0.10, no rest controls", rest_effect=0.10),
    World("rest 0.10, 6 rest controls", rest_effect=0.10, rest_sessions=6),
    World("arrival stress 0.10", arrival_stress=0.10),
    World("arrival stress 0.10, 6 rest controls", arrival_stress=0.10, rest_sessions=6),
    World("device change after 50 %", device_change=0.5),
    World("booked on worst mornings", worst_mornings=True, ar1=0.6),
    World(
        "effect 0.10 + rest 0.05, 6 rest controls",
        massage_effect=0.10,
        rest_effect=0.05,
        rest_sessions=6,
    ),
    World(
        "effect 0.20 + rest 0.05, 6 rest controls",
        massage_effect=0.20,
        rest_effect=0.05,
        rest_sessions=6,
    ),
    World("effect 0.20, no rest controls", massage_effect=0.20),
)


@dataclass(frozen=True)
class SimConfig:
    """Knobs of the synthetic person; defaults are the ones reported in docs/validation.md."""

    sessions: int = 8  # massage sessions, one a week
    baseline_weeks: int = 4  # weeks of data before the first session
    after_weeks: int = 2
    session_minutes: int = 60
    p_day_missing: float = 0.08  # strap not worn all day
    p_window_missing: float = 0.12  # no beats in one candidate window
    p_gap: float = 0.30  # a recording gap of 10-90 s inside a window
    p_movement: float = 0.15  # window with many artifacts (2-10 % of beats)
    min_controls: int = 3
    nearby_days: int = 14
    weekday_days: int = 56


# --------------------------------------------------------------------------- the person


@dataclass
class Person:
    """One simulated person: per-day windows by source, nights, mornings and the sessions."""

    windows: dict[date, dict[int, tuple[WindowValues, WindowValues]]]
    nights: dict[date, dict[str, float | None]]  # the night after the day
    mornings: dict[date, float | None]  # the morning after the day's night
    sessions: list[tuple[date, str]]  # (day, "massage" | "rest")
    device_changed: set[date] = field(default_factory=set)


def _day_effects(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    """Day effects with marginal SD ``sd`` and lag-1 autocorrelation ``phi``."""
    e = rng.standard_t(5, n) * math.sqrt(3 / 5) * sd
    if phi == 0.0:
        return e
    out = np.empty(n)
    out[0] = e[0]
    for k in range(1, n):
        out[k] = phi * out[k - 1] + math.sqrt(1 - phi * phi) * e[k]
    return out


def _derived(ln: float, hr: float, rng: np.random.Generator) -> dict[str, float]:
    """HF power, stress index and SNS index consistent with a window's lnRMSSD and HR
    (the fast path; with ``--rr`` they come from the real HRV code)."""
    hf = math.exp(2.0 * ln - 0.4 + rng.normal(0, 0.35))
    si = math.exp(math.log(150.0) - 1.1 * (ln - 3.5) + 0.02 * (hr - 66) + rng.normal(0, 0.2))
    sns = 0.08 * (hr - 66) + 0.8 * (math.log(si) - math.log(150.0)) + rng.normal(0, 0.15)
    return {"ln_rmssd": ln, "mean_hr": hr, "hf": hf, "stress_index": si, "sns_index": sns}


class _RRWindows:
    """Beat-to-beat RR for a search range, cleaned and measured by the real pipeline."""

    def __init__(self, rng: np.random.Generator, cfg: SimConfig) -> None:
        self.rng, self.cfg = rng, cfg

    def side(
        self,
        t0: float,
        minutes: float,
        ln: np.ndarray,
        hr: np.ndarray,
        present: np.ndarray,
        prefer: str,
        search: tuple[datetime, datetime],
    ) -> WindowValues:
        from signal_processing.rr import clean_rr
        from signal_processing.windows import analyze_window, window_quality

        rng = self.rng
        # Three 10-minute stretches with their own targets (the candidates' neighbourhoods).
        rr_all, t_all = [], []
        t = t0
        for k in range(3):
            n = int(10 * 60 * hr[k] / 60) + 20
            seg = 60000.0 / hr[k] + math.exp(ln[k]) * rng.standard_normal(n) / math.sqrt(2.0)
            rate = rng.uniform(0.02, 0.10) if rng.random() < self.cfg.p_movement else rng.uniform(0, 0.015)
            hit = rng.random(n) < rate
            seg = np.where(
                hit,
                seg * np.where(rng.random(n) < 0.5, rng.uniform(0.45, 0.7, n), rng.uniform(1.4, 1.9, n)),
                seg,
            )
            times = t + np.cumsum(seg) / 1000.0
            keep = times < t + 600.0
            seg, times = seg[keep], times[keep]
            if not present[k]:
                seg, times = seg[:0], times[:0]
            elif rng.random() < self.cfg.p_gap:
                g0 = t + rng.uniform(0, 510)
                drop = (times >= g0) & (times < g0 + rng.uniform(10, 90))
                seg, times = seg[~drop], times[~drop]
            rr_all.append(seg)
            t_all.append(times)
            t += 600.0
        rr, times = np.concatenate(rr_all), np.concatenate(t_all)
        if rr.size < 10:
            return WindowValues(insufficient_reason="no_data")
        clean = clean_rr(rr, times)
        cands = []
        for m in range(0, int(minutes) - 4):
            a = t0 + 60.0 * m
            q = window_quality(clean, a, a + 300.0)
            if q.n_input_beats >= 3:
                start = search[0] + timedelta(minutes=m)
                cands.append(
                    CandidateWindow(
                        start,
                        start + timedelta(minutes=5),
                        q.coverage,
                        q.artifact_share if q.artifact_share is not None else 1.0,
                    )
                )
        sel = select_best_window(cands, search_start=search[0], search_end=search[1], prefer=prefer)
        if sel.window is None:
            return WindowValues(insufficient_reason=sel.reason)
        a = t0 + (sel.window.start - search[0]).total_seconds()
        w = analyze_window(clean, a, a + 300.0)
        if w.hrv is None:
            return WindowValues(insufficient_reason=",".join(w.reasons) or "no_data")
        idx = w.indices
        return WindowValues(
            {
                "ln_rmssd": w.hrv.ln_rmssd,
                "mean_hr": w.hrv.mean_hr,
                "hf": w.hrv.hf,
                "stress_index": idx.stress_index if idx else None,
                "sns_index": idx.sns_index if idx else None,
            }
        )


def simulate_person(seed: int | Sequence[int], cfg: SimConfig, world: World, *, rr: bool = False) -> Person:
    """One synthetic person. The same ``seed`` gives the same person, days and noise in
    every world (common random numbers) up to what the world changes."""
    rng = np.random.default_rng(seed)
    n_sessions = cfg.sessions + world.rest_sessions
    weeks = cfg.baseline_weeks + n_sessions + cfg.after_weeks
    n_days = 7 * weeks
    ln0, hr0 = rng.normal(3.5, 0.35), rng.normal(66, 8)
    amp_ln, amp_hr = rng.uniform(0.1, 0.3), rng.uniform(3, 8)
    sd_win_ln, sd_win_hr = rng.uniform(0.10, 0.25), rng.uniform(2.0, 4.0)
    weekday = int(rng.integers(7))
    start_h = float(rng.uniform(9.0, 18.0))
    kinds = list(rng.permutation(["massage"] * cfg.sessions + ["rest"] * world.rest_sessions))

    day_ln = _day_effects(rng, n_days + 1, world.ar1, 0.15)
    day_hr = -12.0 * day_ln + rng.normal(0, 1.5, n_days + 1)
    night_noise = rng.normal(0, 0.07, n_days)
    morning_noise = rng.normal(0, 0.12, n_days)
    morning = ln0 + 0.1 + day_ln[1:] + morning_noise  # the morning *of* day d+1, after night d

    session_days: dict[int, str] = {}
    for k in range(n_sessions):
        week = cfg.baseline_weeks + k
        if world.worst_mornings:
            # The person books on the day whose own morning was the week's worst.
            own = [morning[d - 1] if d > 0 else np.inf for d in range(7 * week, 7 * week + 7)]
            d = 7 * week + int(np.argmin(own))
        else:
            d = 7 * week + weekday
        session_days[d] = str(kinds[k])

    pre_off = np.array([-27.5, -17.5, -7.5]) / 60.0
    post_off = (cfg.session_minutes + np.array([7.5, 17.5, 27.5])) / 60.0
    centres = start_h + np.concatenate([pre_off, post_off])
    rhythm = np.cos(2 * np.pi * (centres - 16.0) / 24.0)
    z1 = rng.standard_t(5, (n_days, 6)) * math.sqrt(3 / 5)
    z2 = -0.5 * z1 + math.sqrt(0.75) * rng.standard_t(5, (n_days, 6)) * math.sqrt(3 / 5)
    ln = ln0 - amp_ln * rhythm + day_ln[:n_days, None] + sd_win_ln * z1
    hr = hr0 + amp_hr * rhythm + day_hr[:n_days, None] + sd_win_hr * z2
    shift = np.zeros((n_days, 6))
    for d in range(n_days):
        kind = session_days.get(d)
        if d % 7 == weekday:
            shift[d, 3:] += world.weekday_effect
        if kind is not None:
            shift[d, 3:] += world.rest_effect + (world.massage_effect if kind == "massage" else 0.0)
            shift[d, :3] -= world.arrival_stress
    ln += shift
    hr = np.clip(hr + HR_PER_LN * shift, 40, 110)
    present = (rng.random((n_days, 6)) >= cfg.p_window_missing) & (rng.random(n_days) >= cfg.p_day_missing)[
        :, None
    ]
    coverage = np.where(rng.random((n_days, 6)) < cfg.p_gap, 1 - rng.uniform(10, 90, (n_days, 6)) / 300, 1.0)
    coverage = np.minimum(coverage, rng.uniform(0.93, 1.0, (n_days, 6)))
    artifacts = np.where(
        rng.random((n_days, 6)) < cfg.p_movement,
        rng.uniform(0.02, 0.10, (n_days, 6)),
        rng.uniform(0.0, 0.015, (n_days, 6)),
    )
    device_days = {d for d in session_days if rng.random() < world.device_change}
    rr_windows = _RRWindows(rng, cfg) if rr else None

    person = Person({}, {}, {}, [], set())
    for d in range(n_days):
        day = EPOCH + timedelta(days=d)
        t0 = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=start_h)
        end = t0 + timedelta(minutes=cfg.session_minutes)
        searches = (
            (t0 - timedelta(minutes=30), t0),
            (end + timedelta(minutes=5), end + timedelta(minutes=35)),
        )
        sides = []
        for side, (lo, hi), prefer in ((0, (0, 3), "latest"), (1, (3, 6), "earliest")):
            keep = present[d, lo:hi].copy()
            if side == 1 and d in device_days:
                keep[:] = False  # the strap came off after the session
            if rr_windows is not None:
                sides.append(
                    rr_windows.side(
                        searches[side][0].timestamp(),
                        30,
                        ln[d, lo:hi],
                        hr[d, lo:hi],
                        keep,
                        prefer,
                        searches[side],
                    )
                )
                continue
            cands, index = [], {}
            for j in range(lo, hi):
                if keep[j - lo]:
                    s = t0 + timedelta(hours=float(centres[j] - start_h)) - timedelta(minutes=2.5)
                    c = CandidateWindow(
                        s, s + timedelta(minutes=5), float(coverage[d, j]), float(artifacts[d, j])
                    )
                    cands.append(c)
                    index[c] = j
            sel = select_best_window(
                cands, search_start=searches[side][0], search_end=searches[side][1], prefer=prefer
            )
            if sel.window is None:
                sides.append(WindowValues(insufficient_reason=sel.reason))
            else:
                j = index[sel.window]
                sides.append(WindowValues(_derived(float(ln[d, j]), float(hr[d, j]), rng)))
        person.windows[day] = {STRAP: (sides[0], sides[1])}
        if d in device_days:
            # A watch put on after the session reads lnRMSSD 0.10 higher (PPG vs ECG).
            j = 3 + int(rng.integers(3))
            watch = WindowValues(_derived(float(ln[d, j]) + 0.10, float(hr[d, j]), rng))
            person.windows[day][WATCH] = (WindowValues(insufficient_reason="no_data"), watch)
        # The night after the day, and the morning after it: separate measurements.
        kind = session_days.get(d)
        wd_shift = world.weekday_effect / 2 if d % 7 == weekday else 0.0
        night_ln = ln0 + 0.3 + 0.6 * day_ln[d] + 0.4 * day_ln[d + 1] + night_noise[d] + wd_shift
        worn = rng.random() >= cfg.p_day_missing
        person.nights[day] = {
            "night_ln_rmssd": night_ln if worn else None,
            "night_hr": hr0 - 8 + HR_PER_LN * (night_ln - ln0 - 0.3) * 0.5 + rng.normal(0, 1.0)
            if worn
            else None,
            "sleep_duration_min": float(rng.normal(420, 35)) if worn else None,
            "sleep_efficiency": float(np.clip(rng.normal(0.88, 0.03), 0.5, 1.0)) if worn else None,
        }
        person.mornings[day] = float(morning[d] + wd_shift) if rng.random() >= cfg.p_day_missing else None
        if kind is not None:
            person.sessions.append((day, kind))
    person.device_changed = {EPOCH + timedelta(days=d) for d in device_days}
    return person


# --------------------------------------------------------------------------- the pipeline


def responses(person: Person, cfg: SimConfig) -> list[tuple[str, dict[str, Any]]]:
    """Each session's response, shaped like ``service.analysis.session_response``'s."""
    days = sorted(person.windows)
    busy = [d for d, _ in person.sessions]
    out = []
    for day, kind in person.sessions:
        by_source = [(s, *person.windows[day][s]) for s in sorted(person.windows[day])]
        choice = same_device_day(day, by_source)
        chosen = control_days(
            day,
            days,
            busy,
            max_distance_days=cfg.nearby_days,
            weekday_distance_days=cfg.weekday_days,
        )
        source = choice.source if choice.source is not None else STRAP
        controls = []
        for other in chosen.days:
            pre, post = person.windows[other].get(source, (WindowValues(insufficient_reason="no_data"),) * 2)
            if pre.insufficient_reason is None or post.insufficient_reason is None:
                controls.append(DayWindows(other, pre, post))
        metrics = session_response(
            choice.windows,
            controls,
            WINDOW_METRICS,
            min_controls=cfg.min_controls,
            nearby_days=cfg.nearby_days,
        )

        def level(
            values: dict[date, Any], metric: str, pick, day: date = day, chosen=chosen
        ) -> dict[str, Any]:
            def wv(v: float | None) -> WindowValues:
                return WindowValues({metric: v}, None if v is not None else "no_data")

            ctrl = [(d, wv(pick(values[d]))) for d in chosen.days if d in values]
            r = level_response(
                day,
                wv(pick(values[day])),
                ctrl,
                metric,
                min_controls=cfg.min_controls,
                nearby_days=cfg.nearby_days,
            )
            return {
                **r.to_dict(),
                "control_values": [w.value(metric) for _, w in ctrl if w.value(metric) is not None],
            }

        body = {
            "status": "insufficient" if choice.windows.excluded else "ok",
            "insufficient_reason": choice.windows.excluded,
            "controls": {"same_weekday_controls": sum(chosen.same_weekday(c.day) for c in controls)},
            "metrics": {
                m: {
                    **r.to_dict(),
                    "control_changes": [c.change(m) for c in controls if c.change(m) is not None],
                }
                for m, r in metrics.items()
            },
            "night": {"metrics": {m: level(person.nights, m, lambda v, m=m: v[m]) for m in NIGHT_METRICS}},
            "next_days": {"morning": level(person.mornings, "morning_ln_rmssd", lambda v: v)},
        }
        out.append((kind, body))
    return out


def _evidence_api():
    """The service's evidence assessment and its claims table."""
    from service.evidence import assess
    from service.evidence.claims import CLAIMS

    return assess, CLAIMS


def _entry(body: dict[str, Any], metric: str) -> dict[str, Any] | None:
    if metric in body["metrics"]:
        return body["metrics"][metric]
    if metric in body["night"]["metrics"]:
        return body["night"]["metrics"][metric]
    if metric == "morning_ln_rmssd":
        return body["next_days"]["morning"]
    return None


def endpoints(massage: list[dict[str, Any]], rest: list[dict[str, Any]]) -> list[Any]:
    """The service's endpoints for every measure of the claims table these data give."""
    api, claims = _evidence_api()
    names = {f.name for f in dataclasses.fields(api.EndpointData)}
    out = []
    for claim in claims.values():
        for measure in claim.measures:
            entries = [_entry(b, measure.metric) for b in massage]
            if not entries or entries[0] is None:
                continue
            spread = [v for e in entries for v in (e.get("control_changes") or e.get("control_values") or [])]
            extra: dict[str, Any] = {}
            if "rest_deltas" in names:
                extra["rest_deltas"] = [_entry(b, measure.metric)["delta"] for b in rest]
            if "n_without_weekday_control" in names:
                # Unmatched sessions: the control term did not come from same-weekday days.
                extra["n_without_weekday_control"] = sum(
                    1 for e in entries if e["delta"] is not None and not e.get("weekday_matched")
                )
            excluded = Counter(
                str(e["reason"]).split(":")[0] for e in entries if e["delta"] is None and e["reason"]
            )
            out.append(
                api.EndpointData(
                    claim.id,
                    measure.metric,
                    [e["delta"] for e in entries],
                    smallest_worthwhile_change(measure.metric, spread),
                    sum(1 for e in entries if e.get("control_adjusted", e["delta"] is not None)),
                    dict(excluded),
                    **extra,
                )
            )
    return out


def person_claims(person: Person, cfg: SimConfig) -> dict[str, Any]:
    """Verdict per claim, the primary endpoint's interval, and bookkeeping, for one person."""
    api, _ = _evidence_api()
    rs = responses(person, cfg)
    massage = [b for k, b in rs if k == "massage"]
    rest = [b for k, b in rs if k == "rest"]
    results = api.assess_person(endpoints(massage, rest))
    by_claim = {r.claim: r for r in results}
    primary = next((e for e in by_claim["acute_stress"].endpoints if e.metric == "ln_rmssd"), None)
    return {
        "verdicts": {c: by_claim[c].verdict for c in CLAIMS_REPORTED if c in by_claim},
        "primary": primary,
        "device_changed": sum(b["insufficient_reason"] == "device_changed" for b in massage),
        "weekday_matched": float(np.mean([b["metrics"]["ln_rmssd"]["weekday_matched"] for b in massage])),
        "comparison": getattr(primary, "comparison", None),
    }


# --------------------------------------------------------------------------- the run


def run_world(
    world: World,
    cfg: SimConfig,
    n_persons: int,
    *,
    seed: int = 1,
    rr: bool = False,
) -> dict[str, Any]:
    verdicts: dict[str, Counter] = {c: Counter() for c in CLAIMS_REPORTED}
    covered, n_usable, widths, device, matched = [], [], [], [], []
    for i in range(n_persons):
        person = simulate_person([seed, i], cfg, world, rr=rr)
        got = person_claims(person, cfg)
        for claim, v in got["verdicts"].items():
            verdicts[claim][v] += 1
        p = got["primary"]
        if p is not None:
            n_usable.append(p.n_sessions)
            if p.ci_low is not None and p.ci_high is not None:
                covered.append(p.ci_low <= world.massage_effect <= p.ci_high)
                widths.append(p.ci_high - p.ci_low)
        device.append(got["device_changed"])
        matched.append(got["weekday_matched"])
    return {
        "world": world,
        "persons": n_persons,
        "supported": {c: verdicts[c]["supported"] / n_persons for c in CLAIMS_REPORTED},
        "contradicted": {c: verdicts[c]["contradicted"] / n_persons for c in CLAIMS_REPORTED},
        "verdicts": verdicts,
        "coverage": float(np.mean(covered)) if covered else float("nan"),
        "n_ci": len(covered),
        "ci_width": float(np.median(widths)) if widths else float("nan"),
        "mean_usable": float(np.mean(n_usable)) if n_usable else 0.0,
        "device_changed": float(np.mean(device)),
        "weekday_matched": float(np.mean(matched)),
    }


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| world | null | rest sessions | "
        + " | ".join(f"{c} supported / contradicted" for c in CLAIMS_REPORTED)
        + " | primary CI coverage of massage effect (n) | median CI width | mean usable sessions "
        "| sessions weekday-matched | device_changed per person |"
    )
    lines = [head, "|" + "---|" * (8 + len(CLAIMS_REPORTED))]
    for r in rows:
        w = r["world"]
        cells = " | ".join(f"{r['supported'][c]:.1%} / {r['contradicted'][c]:.1%}" for c in CLAIMS_REPORTED)
        lines.append(
            f"| {w.name} | {'yes' if w.null else 'no'} | {w.rest_sessions} | {cells} "
            f"| {r['coverage']:.1%} ({r['n_ci']}) | {r['ci_width']:.3f} | {r['mean_usable']:.1f} "
            f"| {r['weekday_matched']:.0%} | {r['device_changed']:.2f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=200)
    ap.add_argument("--sessions", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rr", action="store_true", help="simulate beat-to-beat RR and run cleaning and HRV")
    ap.add_argument("--worlds", nargs="*", help="world names (default: all)")
    args = ap.parse_args(argv)
    worlds = [w for w in WORLDS if not args.worlds or w.name in args.worlds]
    cfg = SimConfig(sessions=args.sessions)
    rows = []
    t = time.perf_counter()
    for world in worlds:
        rows.append(run_world(world, cfg, args.persons, seed=args.seed, rr=args.rr))
        print(f"# {world.name}: {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    api, _ = _evidence_api()
    print(table(rows))
    print(
        f"\n({args.persons} persons per world, {args.sessions} massage sessions each, "
        f"seed {args.seed}, "
        f"{'RR + cleaning + HRV' if args.rr else 'window metrics'}, "
        f"evidence API {api.__name__}; {time.perf_counter() - t:.0f} s)"
    )


if __name__ == "__main__":
    main()
