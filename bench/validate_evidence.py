"""Validate the evidence pipeline by simulation (issue 6, item 7).

Synthetic persons wear a watch for some weeks and get one massage a week at the same
local clock time. For every day we simulate beat-to-beat RR in three candidate
5-minute windows before the session time and three after it, with a daily rhythm,
day-to-day and window-to-window noise, ectopic/missed-beat artifacts, recording gaps
and windows that are missing altogether. The real pipeline then runs on them:
best-window choice (:func:`response.select_best_window`), control days and
difference-in-differences (:mod:`response`), Hodges–Lehmann + BCa CI + Wilcoxon +
verdict (:mod:`evidence`). lnRMSSD is computed from the RR with plain numpy.

Scenarios inject a known session effect on post-session lnRMSSD and mean HR (or none)
and count, over many persons, how often the verdict is ``supported`` and how often the
95 % CI covers the injected effect.

    .venv/bin/python bench/validate_evidence.py --persons 200 --sessions 8 12

Prints a Markdown table (pasted into docs/validation.md).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
from scipy.ndimage import median_filter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from signal_processing.evidence import EndpointData, assess_cohort, assess_endpoint  # noqa: E402
from signal_processing.metrics import METRICS, smallest_worthwhile_change  # noqa: E402
from signal_processing.response import (  # noqa: E402
    CandidateWindow,
    DayWindows,
    WindowValues,
    control_days,
    metric_response,
    select_best_window,
)
from signal_processing.stats import bootstrap_hl_ci  # noqa: E402

WINDOW_S = 300.0
N_BEATS = 560  # enough beats to fill 5 minutes up to ~110 bpm
EPOCH = date(2026, 1, 5)


@dataclass(frozen=True)
class SimConfig:
    """Knobs of the synthetic world; defaults are the ones reported in docs/validation.md."""

    n_sessions: int = 8
    session_every_days: int = 7
    first_session_day: int = 14
    session_minutes: int = 60
    p_day_missing: float = 0.08  # watch not worn all day
    p_window_missing: float = 0.12  # no beats in one candidate window
    p_gap: float = 0.30  # a recording gap of 10-90 s inside a window
    p_movement: float = 0.15  # window with many artifacts (2-10 % of beats)
    control_radius_days: int = 14

    @property
    def n_days(self) -> int:
        return self.first_session_day + self.session_every_days * (self.n_sessions - 1) + 15


@dataclass(frozen=True)
class Scenario:
    name: str
    d_ln_rmssd: float  # injected change of post-session lnRMSSD (ln units)
    d_hr: float  # injected change of post-session mean HR (bpm)


def _rr_windows(rng: np.random.Generator, hr: np.ndarray, ln_rmssd: np.ndarray, p_movement: float,
                p_gap: float) -> dict[str, np.ndarray]:
    """RR series for each window (rows) and their quality figures and metrics.

    RR = 60000/HR + RMSSD_target * e/sqrt(2) with white e, so the RR-derived lnRMSSD
    shifts exactly with the target. Artifacts multiply single RRs by 0.45-0.7 (ectopic)
    or 1.4-1.9 (missed beat); detection flags beats deviating > 20 % from the local
    median of 11 beats, plus physiological bounds (300-2000 ms).
    """
    w = hr.size
    mean_rr = 60000.0 / hr
    rr = mean_rr[:, None] + np.exp(ln_rmssd)[:, None] * rng.standard_normal((w, N_BEATS)) / np.sqrt(2.0)
    rate = np.where(rng.random(w) < p_movement, rng.uniform(0.02, 0.10, w), rng.uniform(0.0, 0.015, w))
    hit = rng.random((w, N_BEATS)) < rate[:, None]
    factor = np.where(rng.random((w, N_BEATS)) < 0.5, rng.uniform(0.45, 0.7, (w, N_BEATS)),
                      rng.uniform(1.4, 1.9, (w, N_BEATS)))
    rr = np.where(hit, rr * factor, rr)
    t = np.cumsum(rr, axis=1) / 1000.0
    recorded = t <= WINDOW_S
    gap_len = np.where(rng.random(w) < p_gap, rng.uniform(10.0, 90.0, w), 0.0)
    gap_start = rng.uniform(0.0, WINDOW_S - 90.0, w)
    recorded &= ~((t >= gap_start[:, None]) & (t < (gap_start + gap_len)[:, None]))
    med = median_filter(rr, size=(1, 11), mode="nearest")
    flagged = (np.abs(rr - med) > 0.2 * med) | (rr < 300) | (rr > 2000)
    good = recorded & ~flagged
    pairs = good[:, 1:] & good[:, :-1]
    sq = np.diff(rr, axis=1) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        ln = np.log(np.sqrt((sq * pairs).sum(1) / pairs.sum(1)))  # ln(sqrt(mean(diff(rr)^2)))
        mhr = 60000.0 / ((rr * good).sum(1) / good.sum(1))
        coverage = (rr * recorded).sum(1) / (WINDOW_S * 1000.0)
        artifacts = (flagged & recorded).sum(1) / recorded.sum(1)
    return {"ln_rmssd": ln, "mean_hr": mhr, "coverage": np.minimum(coverage, 1.0),
            "artifact_share": np.nan_to_num(artifacts, nan=1.0)}


def simulate_person(seed: int | Sequence[int], cfg: SimConfig, scenario: Scenario) -> dict[str, object]:
    """One synthetic person through the whole pipeline; returns per-metric deltas and SWCs.

    The same ``seed`` gives the same person, days and noise in every scenario (common
    random numbers), so scenarios differ only by the injected effect.
    """
    rng = np.random.default_rng(seed)
    n_days = cfg.n_days
    hr0, ln0 = rng.normal(66, 8), rng.normal(3.5, 0.35)
    amp_hr, amp_ln = rng.uniform(3, 8), rng.uniform(0.1, 0.3)
    sd_win_ln, sd_win_hr = rng.uniform(0.10, 0.25), rng.uniform(2.0, 4.0)
    start_h = rng.uniform(9.0, 19.0)  # the person's usual session time, same every week
    session_days = [cfg.first_session_day + cfg.session_every_days * k for k in range(cfg.n_sessions)]

    # window centres (hours): three candidates in [start-30, start] and in [end+5, end+35] minutes
    pre_off = np.array([-27.5, -17.5, -7.5]) / 60.0
    post_off = (cfg.session_minutes + np.array([7.5, 17.5, 27.5])) / 60.0
    centres = start_h + np.concatenate([pre_off, post_off])  # 6 per day
    rhythm = np.cos(2 * np.pi * (centres - 16.0) / 24.0)  # HR peaks late afternoon, HRV dips

    day_hr = rng.normal(0, 3.0, n_days)[:, None]
    day_ln = rng.normal(0, 0.15, n_days)[:, None]
    z1 = rng.standard_t(5, (n_days, 6)) * np.sqrt(3 / 5)  # heavy-tailed, unit variance
    z2 = -0.5 * z1 + np.sqrt(1 - 0.25) * rng.standard_t(5, (n_days, 6)) * np.sqrt(3 / 5)
    hr = hr0 + amp_hr * rhythm + day_hr + sd_win_hr * z2
    ln = ln0 - amp_ln * rhythm + day_ln + sd_win_ln * z1
    is_session = np.zeros(n_days, bool)
    is_session[session_days] = True
    hr[is_session, 3:] += scenario.d_hr
    ln[is_session, 3:] += scenario.d_ln_rmssd
    hr = np.clip(hr, 40, 105)

    m = _rr_windows(rng, hr.ravel(), ln.ravel(), cfg.p_movement, cfg.p_gap)
    m = {k: v.reshape(n_days, 6) for k, v in m.items()}
    present = (rng.random((n_days, 6)) >= cfg.p_window_missing) & (rng.random(n_days) >= cfg.p_day_missing)[:, None]

    days: dict[date, DayWindows] = {}
    for d in range(n_days):
        day = EPOCH + timedelta(days=d)
        t0 = datetime(day.year, day.month, day.day, tzinfo=timezone.utc) + timedelta(hours=float(start_h))
        wins = []
        for side, (lo, hi), prefer in (("pre", (0, 3), "latest"), ("post", (3, 6), "earliest")):
            cands, index = [], {}
            for j in range(lo, hi):
                if present[d, j]:
                    start = t0 + timedelta(hours=float(centres[j] - start_h)) - timedelta(minutes=2.5)
                    c = CandidateWindow(start, start + timedelta(minutes=5), float(m["coverage"][d, j]),
                                        float(m["artifact_share"][d, j]))
                    cands.append(c)
                    index[c] = j
            if side == "pre":
                rng_s, rng_e = t0 - timedelta(minutes=30), t0
            else:
                end = t0 + timedelta(minutes=cfg.session_minutes)
                rng_s, rng_e = end + timedelta(minutes=5), end + timedelta(minutes=35)
            sel = select_best_window(cands, search_start=rng_s, search_end=rng_e, prefer=prefer)
            if sel.window is None:
                wins.append(WindowValues(insufficient_reason=sel.reason))
            else:
                j = index[sel.window]
                wins.append(WindowValues({"ln_rmssd": float(m["ln_rmssd"][d, j]),
                                          "mean_hr": float(m["mean_hr"][d, j])}))
        days[day] = DayWindows(day, wins[0], wins[1])

    s_days = [EPOCH + timedelta(days=d) for d in session_days]
    out: dict[str, object] = {}
    for metric in ("ln_rmssd", "mean_hr"):
        deltas, n_adj = [], 0
        for sd in s_days:
            ctrl = [days[c] for c in control_days(sd, days, s_days, max_distance_days=cfg.control_radius_days,
                                                 weekday_distance_days=0).days]
            r = metric_response(days[sd], ctrl, metric)
            if r.delta is not None:
                deltas.append(r.delta)
                n_adj += r.control_adjusted
        ctrl_changes = [days[d].change(metric) for d in days if d not in s_days]
        out[metric] = (deltas, smallest_worthwhile_change(metric, ctrl_changes), n_adj)
    return out


def _cohorts(persons: dict[str, tuple[list[float], float]], metric: str, truth: float, size: int,
             n_resamples: int) -> dict[str, list[float]]:
    """Split persons into cohorts of ``size`` and pool each with DerSimonian-Laird."""
    ids = list(persons)
    out: dict[str, list[float]] = {"cohort_covered": [], "cohort_supported": [], "cohort_i2": [],
                                   "cohort_covered_wald": [], "cohort_supported_wald": []}
    for start in range(0, len(ids) - size + 1, size):
        members = ids[start:start + size]
        swc = float(np.median([persons[p][1] for p in members]))
        for hk, suffix in ((True, ""), (False, "_wald")):
            r = assess_cohort("acute_stress", metric, {p: persons[p][0] for p in members}, swc=swc,
                              n_resamples=n_resamples, hartung_knapp=hk)
            if r.ci_low is not None:
                out["cohort_covered" + suffix].append(r.ci_low <= truth <= r.ci_high)
                out["cohort_supported" + suffix].append(r.verdict == "supported")
                if hk:
                    out["cohort_i2"].append(r.i2 if r.i2 is not None else float("nan"))
    return out


def run(n_persons: int, scenarios: Sequence[Scenario], cfg: SimConfig, *, seed: int = 1,
        n_resamples: int = 2000, cohort_size: int = 10) -> list[dict[str, float]]:
    """Per scenario and metric: supported/contradicted rate, CI coverage, mean n, CI width,
    and the same for cohorts of ``cohort_size`` persons pooled with DerSimonian-Laird."""
    rows = []
    for sc in scenarios:
        acc: dict[str, dict[str, list[float]]] = {"ln_rmssd": {}, "mean_hr": {}}
        by_person: dict[str, dict[str, tuple[list[float], float]]] = {"ln_rmssd": {}, "mean_hr": {}}
        for i in range(n_persons):
            person = simulate_person([seed, i], cfg, sc)
            for metric, truth in (("ln_rmssd", sc.d_ln_rmssd), ("mean_hr", sc.d_hr)):
                deltas, swc, n_adj = person[metric]  # type: ignore[misc]
                by_person[metric][f"p{i}"] = (deltas, swc)
                r = assess_endpoint(EndpointData("acute_stress", metric, deltas, swc, n_control_adjusted=n_adj),
                                    n_resamples=n_resamples, seed=i)
                a = acc[metric]
                a.setdefault("n", []).append(r.n_sessions)
                a.setdefault("supported", []).append(r.verdict == "supported")
                a.setdefault("contradicted", []).append(r.verdict == "contradicted")
                a.setdefault("insufficient", []).append(r.verdict == "insufficient data")
                # "significant": the same rule without the SWC gate, to show what the gate costs
                sign = 1 if METRICS[metric].better == "higher" else -1
                sig = (r.n_sessions >= 6 and r.ci_low is not None and r.p_value is not None
                       and r.p_value < 0.05 and min(sign * r.ci_low, sign * r.ci_high) > 0)
                a.setdefault("significant", []).append(sig)
                if r.ci_low is not None and r.n_sessions >= 6:
                    a.setdefault("covered", []).append(r.ci_low <= truth <= r.ci_high)
                    plain = bootstrap_hl_ci(deltas, n_resamples=n_resamples, seed=i, expand=False)
                    if plain is not None:
                        a.setdefault("covered_plain", []).append(plain.low <= truth <= plain.high)
                    a.setdefault("width", []).append(r.ci_high - r.ci_low)
                    a.setdefault("swc", []).append(swc)
        for metric, a in acc.items():
            truth = sc.d_ln_rmssd if metric == "ln_rmssd" else sc.d_hr
            a.update(_cohorts(by_person[metric], metric, truth, cohort_size, n_resamples))
            rows.append({
                "scenario": sc.name, "metric": metric,
                "effect": sc.d_ln_rmssd if metric == "ln_rmssd" else sc.d_hr,
                "persons": n_persons, "mean_sessions": float(np.mean(a["n"])),
                "insufficient": float(np.mean(a["insufficient"])),
                "supported": float(np.mean(a["supported"])),
                "significant": float(np.mean(a["significant"])),
                "contradicted": float(np.mean(a["contradicted"])),
                "coverage": float(np.mean(a["covered"])) if a.get("covered") else float("nan"),
                "n_ci": len(a.get("covered", [])),
                "coverage_plain": float(np.mean(a["covered_plain"])) if a.get("covered_plain") else float("nan"),
                "ci_width": float(np.median(a["width"])) if a.get("width") else float("nan"),
                "swc": float(np.median(a["swc"])) if a.get("swc") else float("nan"),
                "cohorts": len(a["cohort_covered"]),
                "cohort_coverage": float(np.mean(a["cohort_covered"])) if a["cohort_covered"] else float("nan"),
                "cohort_supported": float(np.mean(a["cohort_supported"])) if a["cohort_supported"] else float("nan"),
                "cohort_i2": float(np.median(a["cohort_i2"])) if a["cohort_i2"] else float("nan"),
                "cohort_coverage_wald": float(np.mean(a["cohort_covered_wald"])) if a["cohort_covered_wald"]
                else float("nan"),
                "cohort_supported_wald": float(np.mean(a["cohort_supported_wald"])) if a["cohort_supported_wald"]
                else float("nan"),
            })
    return rows


DEFAULT_SCENARIOS = (
    Scenario("no effect", 0.0, 0.0),
    Scenario("small", 0.05, -1.0),
    Scenario("moderate", 0.10, -2.0),
    Scenario("large", 0.20, -4.0),
)


def _table(rows: list[dict[str, float]], n_sessions: int, cohort_size: int) -> str:
    head = ("| sessions | scenario | metric | injected | mean usable sessions | insufficient | supported "
            "| CI∌0 & p<.05 (no SWC gate) | contradicted | 95 % CI coverage (n) | plain BCa coverage "
            "| median CI width | median SWC |")
    lines = [head, "|" + "---|" * 13]
    for r in rows:
        lines.append(
            f"| {n_sessions} | {r['scenario']} | {r['metric']} | {r['effect']:+g} | {r['mean_sessions']:.1f} "
            f"| {r['insufficient']:.1%} | {r['supported']:.1%} | {r['significant']:.1%} | {r['contradicted']:.1%} "
            f"| {r['coverage']:.1%} ({r['n_ci']}) | {r['coverage_plain']:.1%} | {r['ci_width']:.3f} | {r['swc']:.3f} |")
    lines += ["", f"| sessions | scenario | metric | injected | cohorts of {cohort_size} | pooled CI coverage (HK) "
              "| pooled supported (HK) | coverage (Wald) | supported (Wald) | median I² |", "|" + "---|" * 10]
    for r in rows:
        lines.append(f"| {n_sessions} | {r['scenario']} | {r['metric']} | {r['effect']:+g} | {r['cohorts']} "
                     f"| {r['cohort_coverage']:.1%} | {r['cohort_supported']:.1%} | {r['cohort_coverage_wald']:.1%} "
                     f"| {r['cohort_supported_wald']:.1%} | {r['cohort_i2']:.0f} % |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=200)
    ap.add_argument("--sessions", type=int, nargs="+", default=[8, 12])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--resamples", type=int, default=2000)
    ap.add_argument("--cohort-size", type=int, default=10)
    args = ap.parse_args(argv)
    for n_sessions in args.sessions:
        t = time.perf_counter()
        rows = run(args.persons, DEFAULT_SCENARIOS, SimConfig(n_sessions=n_sessions), seed=args.seed,
                   n_resamples=args.resamples, cohort_size=args.cohort_size)
        print(_table(rows, n_sessions, args.cohort_size))
        print(f"\n({args.persons} persons per scenario, {n_sessions} planned sessions each, seed {args.seed}, "
              f"{args.resamples} bootstrap resamples; {time.perf_counter() - t:.0f} s)\n")


if __name__ == "__main__":
    main()
