"""Benchmark: 5-minute HRV windows over synthetic chest-strap RR, against naive neurokit2.

Synthetic part only (no database): builds continuous RR days like a chest strap records them
(LF/HF modulation, slow drifts, 1 % ectopic/missed/extra beats, a 30 s contact loss every 2 h),
then measures

* cleaning throughput (beats/s) and window throughput (5-minute windows/s), one core;
* the same on N worker processes (default 2) over separate days, wall clock;
* the naive way, ``neurokit2.hrv(peaks)`` with defaults per window, on a sample of windows,
  and compares the metrics both compute (values must be identical for the shared ones);
* the extrapolated time for a person-year (35 million beats, ~105,000 5-minute windows).

With ``--from-database DAYS`` it also loads DAYS of those synthetic days (365 = a person-year,
about 35 million beats) into a fresh database through the real ingest path, then recomputes
every 5-minute window from the database, day by day, on the worker processes: read the day's
RR (one query), clean, analyse. Ingest time and recompute time are reported apart.

Run: ``.venv/bin/python bench/hrv.py [--days 2] [--workers 2] [--naive-sample 10]
[--from-database 365]``; ``--robustness`` prints the artifact-robustness table and
``--reference`` the pyhrv comparison of docs/method.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from signal_processing.rr import clean_rr
from signal_processing.synthetic import inject_artifacts, simulate_rr
from signal_processing.windows import analyze_windows, tile_starts

WINDOW_S = 300.0
PERSON_YEAR_BEATS = 35_000_000
PERSON_YEAR_WINDOWS = 365 * 24 * 12


def synthetic_day(seed: int, hours: float = 24.0) -> tuple[np.ndarray, np.ndarray]:
    """One day of chest-strap RR (ms) with beat timestamps (s), artifacts and contact losses."""
    rng = np.random.default_rng(seed)
    parts, t_parts, t0 = [], [], 0.0
    for block in range(int(hours * 12)):  # 5-minute blocks with varying state
        rr = simulate_rr(
            WINDOW_S,
            mean_ms=rng.uniform(650, 1050),
            lf_amplitude_ms=rng.uniform(10, 50),
            hf_amplitude_ms=rng.uniform(8, 45),
            noise_ms=rng.uniform(3, 12),
            seed=seed * 1000 + block,
        )
        rr = inject_artifacts(rr, 0.01, seed=seed * 1000 + block)
        t = t0 + np.cumsum(rr) / 1000.0
        t0 = t[-1]
        if block % 24 == 23:  # every 2 h the strap loses contact for 30 s
            keep = (t < t0 - 60) | (t > t0 - 30)
            rr, t = rr[keep], t[keep]
        parts.append(rr)
        t_parts.append(t)
    return np.concatenate(parts), np.concatenate(t_parts)


def process_day(seed: int) -> dict:
    """Clean one day and compute all its 5-minute windows; returns counts and timings."""
    rr, t = synthetic_day(seed)
    cpu0, t_start = time.process_time(), time.perf_counter()
    clean = clean_rr(rr, t)
    t_clean = time.perf_counter()
    results = analyze_windows(clean, tile_starts(0.0, float(t[-1]), WINDOW_S), WINDOW_S)
    t_end = time.perf_counter()
    # CPU time too: on a shared machine wall time includes waiting for a core.
    return {
        "beats": rr.size,
        "windows": len(results),
        "clean_s": t_clean - t_start,
        "windows_s": t_end - t_clean,
        "cpu_s": time.process_time() - cpu0,
        "ok": sum(r.status in ("ok", "partial") for r in results),
    }


def naive_compare(seed: int, sample: int) -> dict:
    """neurokit2.hrv() with defaults per window vs ours, on the same cleaned NN intervals."""
    import neurokit2 as nk

    rr, t = synthetic_day(seed, hours=max(1.0, sample * WINDOW_S / 3600.0 + 0.5))
    clean = clean_rr(rr, t)
    starts = tile_starts(0.0, float(t[-1]), WINDOW_S)
    ours_s, naive_s, rows = 0.0, 0.0, []
    for s in starts:
        t0 = time.perf_counter()
        r = analyze_windows(clean, [s], WINDOW_S)[0]
        ours_s += time.perf_counter() - t0
        if r.hrv is None or r.hrv.lf_hf is None:
            continue
        i0, i1 = np.searchsorted(clean.times_s, [s, s + WINDOW_S])
        if clean.segment_id[i0] != clean.segment_id[i1 - 1]:
            continue  # nk.hrv(peaks) cannot represent a gap: compare contiguous windows only
        peaks = nk.intervals_to_peaks(clean.nn_ms[i0:i1], sampling_rate=1000)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = nk.hrv(peaks, sampling_rate=1000).iloc[0]
        naive_s += time.perf_counter() - t0
        rows.append((r.hrv, ref))
        if len(rows) >= sample:
            break
    shared = {
        "mean_rr": "HRV_MeanNN",
        "sdnn": "HRV_SDNN",
        "rmssd": "HRV_RMSSD",
        "pnn50": "HRV_pNN50",
        "sd1": "HRV_SD1",
        "sd2": "HRV_SD2",
    }
    max_rel = {
        k: max(abs(getattr(m, k) / ref[v] - 1) if ref[v] else abs(getattr(m, k)) for m, ref in rows)
        for k, v in shared.items()
    }
    differ = {"lf_hf": "HRV_LFHF", "dfa_alpha1": "HRV_DFA_alpha1"}
    med_rel = {
        k: float(np.median([abs(getattr(m, k) / ref[v] - 1) for m, ref in rows])) for k, v in differ.items()
    }
    n_ours = len(starts[: len(rows)]) or 1
    return {
        "n": len(rows),
        "naive_per_window_s": naive_s / max(len(rows), 1),
        "ours_per_window_s": ours_s / len(starts),
        "n_ours": n_ours,
        "shared_max_rel": max_rel,
        "different_median_rel": med_rel,
    }


def robustness_table(seeds: int = 10) -> None:
    """Markdown table: RMSSD/SDNN error after correction vs the clean series, per artifact mix."""
    from signal_processing.hrv import compute_hrv

    print(
        "| artifacts | rate | RMSSD error, corrected: median / max | SDNN error, corrected: median / max "
        "| RMSSD error, uncorrected: median |"
    )
    print("|---|---|---|---|---|")
    for kinds in [("ectopic",), ("missed",), ("extra",), ("ectopic", "missed", "extra")]:
        for rate in (0.0, 0.01, 0.03, 0.05):
            if rate == 0.0 and kinds != ("ectopic",):
                continue  # the clean baseline row once
            e_rmssd, e_sdnn, e_raw = [], [], []
            for seed in range(seeds):
                rr = simulate_rr(300, seed=seed)
                truth = compute_hrv(rr)
                bad = inject_artifacts(rr, rate, kinds, seed=seed)
                c = clean_rr(bad)
                m = compute_hrv(c.nn_ms, c.times_s, c.segment_id)
                e_rmssd.append(abs(m.rmssd / truth.rmssd - 1))
                e_sdnn.append(abs(m.sdnn / truth.sdnn - 1))
                e_raw.append(abs(compute_hrv(bad).rmssd / truth.rmssd - 1))
            label = "none" if rate == 0.0 else " + ".join(kinds)
            print(
                f"| {label} | {rate:.0%} | {np.median(e_rmssd):.2%} / {max(e_rmssd):.2%} "
                f"| {np.median(e_sdnn):.2%} / {max(e_sdnn):.2%} | {np.median(e_raw):.0%} |"
            )


def reference_check() -> None:
    """pyhrv's SampleNNISeriesLong against its SampleReport.txt, cleaning off and on."""
    import importlib.util
    import re

    from signal_processing.hrv import compute_hrv

    files = Path(importlib.util.find_spec("pyhrv").origin).parent / "files"
    report = (files / "SampleReport.txt").read_text()
    expected = {
        k: float(re.search(p, report, re.MULTILINE).group(1))
        for k, p in {
            "sdnn": r"^SDNN \(ms\)\s*;\s*([\d.]+)",
            "rmssd": r"^RMSSD \(ms\)\s*;\s*([\d.]+)",
            "sd1": r"^SD1 \(ms\)\s*;\s*([\d.]+)",
            "sd2": r"^SD2 \(ms\)\s*;\s*([\d.]+)",
            "lf_hf": r"^LF/HF Ratio \(-\)\s*;\s*([\d.]+)",
        }.items()
    }
    nn = np.load(files / "SampleNNISeriesLong.npy").astype(float)
    c = clean_rr(nn)
    changed = int(np.sum(np.abs(c.nn_ms - nn) > 1.5)) if c.nn_ms.size == nn.size else -1
    print(
        f"pyhrv sample: {nn.size} intervals; first-pass flagged {c.flagged_times_s.size} "
        f"({c.flagged_times_s.size / nn.size:.1%}) {c.counts}; intervals changed by cleaning: {changed}"
    )
    print("| metric | pyhrv report | ours, no cleaning | diff | ours, cleaning on | diff |")
    print("|---|---|---|---|---|---|")
    raw = compute_hrv(nn)
    cleaned = compute_hrv(c.nn_ms, c.times_s, c.segment_id)
    for k, v in expected.items():
        a, b = getattr(raw, k), getattr(cleaned, k)
        print(f"| {k} | {v:.3f} | {a:.3f} | {a / v - 1:+.2%} | {b:.3f} | {b / v - 1:+.2%} |")


DAY_START = 1_704_067_200.0  # 2024-01-01T00:00:00Z, Unix seconds


class SyntheticDays:
    """A connector over generated days, so the benchmark uses the real ingest path."""

    name = "synthetic_days"
    description = "bench only"

    def __init__(self, days: range) -> None:
        self.days = days

    def sniff(self, path, head) -> bool:
        return False

    def read(self, path, ctx, report):
        from connectors.base import SourceInfo, rr_batch

        source = SourceInfo(key="bench strap", name="bench strap", kind="chest_strap")
        for day in self.days:
            rr, t = synthetic_day(day)
            ts_us = np.round((DAY_START + day * 86_400 + t) * 1e6).astype(np.int64)
            yield rr_batch(source, ts_us, rr, report)


def recompute_day(url: str, person_id: str, day: int) -> dict:
    """Read one stored day, clean it, compute its 5-minute windows."""
    import datetime as dt

    from service.core.db.connect import connect
    from service.core.db.rls import act_for_person
    from service.observations.repository import read_series

    t0, cpu0 = time.perf_counter(), time.process_time()
    start = dt.datetime.fromtimestamp(DAY_START + day * 86_400, dt.UTC)
    with connect(url) as conn:
        act_for_person(conn, person_id)
        rr = read_series(
            conn, person_id=person_id, metrics=("rr_interval",), start=start, end=start + dt.timedelta(days=1)
        )["rr_interval"]
    t_read = time.perf_counter()
    t = rr.ts_us / 1e6
    clean = clean_rr(rr.value, t)
    day0 = DAY_START + day * 86_400
    results = analyze_windows(clean, tile_starts(day0, day0 + 86_400, WINDOW_S), WINDOW_S)
    return {
        "beats": len(rr),
        "windows": len(results),
        "read_s": t_read - t0,
        "wall_s": time.perf_counter() - t0,
        "cpu_s": time.process_time() - cpu0,
        "ok": sum(r.status in ("ok", "partial") for r in results),
    }


def from_database(days: int, workers: int) -> None:
    import tempfile

    from bench._database import fresh_database
    from service.access.repository import persons
    from service.core.db.connect import create_pool
    from service.core.db.rls import system_connection
    from service.imports import repository as imports
    from service.imports.service import run_import

    with tempfile.TemporaryDirectory(prefix="vagus-bench-") as tmp, fresh_database(Path(tmp)) as url:
        pool = create_pool(url, 4)
        with system_connection(pool) as conn:
            person = str(persons.create(conn, name="bench", tz="UTC")["id"])
        marker = Path(tmp) / "synthetic.marker"
        marker.write_text("generated in memory\n")
        t0 = time.perf_counter()
        inserted = 0
        for month in range(0, days, 31):  # one import per month, as exports arrive
            with system_connection(pool) as conn:
                row = imports.create(conn, person_id=person, file_name=f"month-{month}")
            outcome = run_import(
                pool, row["id"], marker, connector=SyntheticDays(range(month, min(month + 31, days)))
            )
            assert outcome.status == "completed", outcome.error
            inserted += outcome.inserted
        ingest_s = time.perf_counter() - t0
        pool.close()
        print(
            f"database: {days} days, {inserted:,} beats stored in {ingest_s:.0f} s "
            f"(generation + ingest, {inserted / ingest_s:,.0f} beats/s)"
        )
        t0 = time.perf_counter()
        with ProcessPoolExecutor(workers) as executor:
            done = list(executor.map(recompute_day, [url] * days, [person] * days, range(days)))
        wall = time.perf_counter() - t0
        windows = sum(d["windows"] for d in done)
        print(
            f"recompute from the database, {workers} workers: {windows:,} windows "
            f"({sum(d['ok'] for d in done):,} with HRV) from {sum(d['beats'] for d in done):,} "
            f"beats in {wall:.0f} s wall = {wall / 60:.1f} min; reading "
            f"{sum(d['read_s'] for d in done):.0f} s, CPU {sum(d['cpu_s'] for d in done):.0f} s "
            f"summed over workers (load average now {os.getloadavg()[0]:.1f})"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=2, help="synthetic days for the parallel run")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--naive-sample", type=int, default=10)
    ap.add_argument("--robustness", action="store_true", help="print the artifact table only")
    ap.add_argument("--reference", action="store_true", help="print the pyhrv comparison only")
    ap.add_argument(
        "--from-database",
        type=int,
        metavar="DAYS",
        default=0,
        help="also store DAYS days and recompute them from the database (365 = a year)",
    )
    args = ap.parse_args()
    if args.robustness or args.reference:
        if args.reference:
            reference_check()
        if args.robustness:
            robustness_table()
        return
    print(f"cpus={os.cpu_count()} workers={args.workers} days={args.days}")

    one = process_day(0)
    per_window_1core = (one["clean_s"] + one["windows_s"]) / one["windows"]
    print(f"one core, 1 day: {one['beats']:,} beats, {one['windows']} windows ({one['ok']} with HRV)")
    print(f"  cleaning  {one['beats'] / one['clean_s']:,.0f} beats/s ({one['clean_s']:.1f} s)")
    print(f"  windows   {one['windows'] / one['windows_s']:,.0f} windows/s ({one['windows_s']:.2f} s)")
    print(
        f"  end to end {1 / per_window_1core:,.1f} windows/s, {per_window_1core * 1e3:.1f} ms/window "
        f"(CPU {one['cpu_s'] / one['windows'] * 1e3:.1f} ms/window)"
    )

    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        days = list(pool.map(process_day, range(1, args.days + 1)))
    wall = time.perf_counter() - t0
    beats = sum(d["beats"] for d in days)
    windows = sum(d["windows"] for d in days)
    print(
        f"{args.workers} workers, {args.days} days: {beats:,} beats, {windows} windows in "
        f"{wall:.1f} s wall (incl. synthesis) -> {windows / wall:,.1f} windows/s, "
        f"{beats / wall:,.0f} beats/s"
    )
    compute = sum(d["clean_s"] + d["windows_s"] for d in days) / args.workers
    cpu = sum(d["cpu_s"] for d in days) / args.workers
    year_s = PERSON_YEAR_BEATS / beats * compute
    year_cpu = PERSON_YEAR_BEATS / beats * cpu
    print(
        f"person-year extrapolated (35M beats, compute only, {args.workers} workers): "
        f"{year_s / 60:.1f} min by wall time, {year_cpu / 60:.1f} min by CPU time "
        f"(load average now {os.getloadavg()[0]:.1f})"
    )

    cmp = naive_compare(99, args.naive_sample)
    speedup = cmp["naive_per_window_s"] / per_window_1core
    print(
        f"naive nk.hrv() per window: {cmp['naive_per_window_s'] * 1e3:.0f} ms "
        f"({cmp['n']} windows); ours incl. cleaning: {per_window_1core * 1e3:.1f} ms "
        f"-> {speedup:.0f}x; ours without cleaning: {cmp['ours_per_window_s'] * 1e3:.2f} ms"
    )
    print("shared metrics, max relative difference vs nk.hrv():")
    for k, v in cmp["shared_max_rel"].items():
        print(f"  {k:8s} {v:.2e}")
    print("defined differently (median relative difference, see docs/method.md):")
    for k, v in cmp["different_median_rel"].items():
        print(f"  {k:10s} {v:.1%}")
    if args.from_database:
        from_database(args.from_database, args.workers)


if __name__ == "__main__":
    main()
