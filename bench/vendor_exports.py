"""Account-export connectors (Fitbit, Samsung Health, Oura, WHOOP): a year of each, parse only.

Builds, with the test-support generators, one zipped export per family
covering ``--days`` days (default 365), then reads each through its connector
in a child process, consuming every item (no database). Reports:

* MB/s: megabytes (10^6 bytes) of *uncompressed* export files per second of
  wall time (the generators count what they wrote);
* CPU seconds (user + system), steadier than wall time on a shared machine;
* peak RSS of the child alone (``os.wait4``); the target is under 300 MB.

Run from the repository root::

    .venv/bin/python bench/vendor_exports.py
    .venv/bin/python bench/vendor_exports.py --days 30 --families oura whoop

Exports are cached in ``bench/out/`` (gitignored) by family, days and seed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OUT = ROOT / "bench" / "out"
SEED = 2024
FAMILIES = ("fitbit", "samsung_health", "oura", "whoop")


@dataclass
class Measure:
    family: str
    days: int
    export_mb: float
    zip_mb: float
    seconds: float
    cpu_seconds: float
    mb_per_s: float
    peak_rss_mb: float
    ok: bool
    detail: str


def build(family: str, days: int, out: Path) -> tuple[Path, int]:
    """The zipped export and its uncompressed size, cached.

    Built in a child process: a forked child's peak RSS would otherwise start
    from this process's size after generating.
    """
    path = out / f"{family}-{days}d-seed{SEED}.zip"
    meta = path.with_suffix(".json")
    if not (path.exists() and meta.exists()):
        subprocess.run(
            [sys.executable, __file__, "--build", family, "--days", str(days), str(path)],
            check=True,
            cwd=ROOT,
        )
    return path, json.loads(meta.read_text())["bytes"]


def build_child(family: str, days: int, path: Path) -> None:
    meta = path.with_suffix(".json")
    started = time.perf_counter()
    start = dt.date(2024, 1, 1)
    if family == "fitbit":
        from tests.support.generators.fitbit import write_fitbit_export

        truth = write_fitbit_export(path, days=days, seed=SEED, start=start, google_days=30)
    elif family == "samsung_health":
        from tests.support.generators.samsung import write_samsung_export

        truth = write_samsung_export(path, days=days, seed=SEED, start=start)
    elif family == "oura":
        from tests.support.generators.oura import write_oura_export

        truth = write_oura_export(path, days=days, seed=SEED, start=start)
    else:
        from tests.support.generators.whoop import write_whoop_export

        truth = write_whoop_export(path, days=days, seed=SEED, start=start)
    size = truth.bytes_written
    meta.write_text(json.dumps({"bytes": size, "samples": dict(truth.samples)}))
    print(
        f"built {path.name}: {size / 1e6:.1f} MB uncompressed, "
        f"{path.stat().st_size / 1e6:.1f} MB zipped in {time.perf_counter() - started:.0f} s",
        flush=True,
    )


def child(family: str, path: Path) -> str:
    """Read the export through the connector named ``family``; every item consumed."""
    from connectors.base import ReadContext, ReadReport, SampleBatch
    from connectors.registry import detect, get_connector

    connector = get_connector(family)
    detected = detect(path).name
    report = ReadReport()
    samples = episodes = 0
    for item in connector.read(path, ReadContext(tz="Europe/Berlin"), report):
        if isinstance(item, SampleBatch):
            samples += len(item)
        else:
            episodes += 1
    return (
        f"detected as {detected}; {samples} samples, {episodes} episodes, "
        f"{sum(report.rejected.values())} rejected, {sum(report.skipped.values())} skipped"
    )


def measure(family: str, days: int, path: Path, size: int) -> Measure:
    command = [sys.executable, __file__, "--child", family, str(path)]
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, cwd=ROOT)
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        out_text, err_text = stdout.read().decode(), stderr.read().decode()
    detail = (out_text.strip().splitlines() or [""])[-1] if code == 0 else f"exit {code}: {err_text[-400:]}"
    mb = size / 1e6
    return Measure(
        family,
        days,
        round(mb, 1),
        round(path.stat().st_size / 1e6, 1),
        round(seconds, 2),
        round(usage.ru_utime + usage.ru_stime, 2),
        round(mb / seconds, 1),
        round(usage.ru_maxrss / 1024, 1),
        code == 0,
        detail[:300],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--families", nargs="+", choices=FAMILIES, default=list(FAMILIES))
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per family; the fastest is reported, with the largest RSS"
    )
    parser.add_argument("--child", choices=FAMILIES, help=argparse.SUPPRESS)
    parser.add_argument("--build", choices=FAMILIES, help=argparse.SUPPRESS)
    parser.add_argument("path", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(child(args.child, Path(args.path)))
        return 0
    if args.build:
        build_child(args.build, args.days, Path(args.path))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for family in args.families:
        path, size = build(family, args.days, args.out)
        runs = [measure(family, args.days, path, size) for _ in range(args.repeat)]
        best = min(runs, key=lambda r: (not r.ok, r.seconds))
        best.peak_rss_mb = max(r.peak_rss_mb for r in runs)
        results.append(best)
        print(
            f"{family:<15} {best.export_mb:>8.1f} MB {best.seconds:>7.1f} s "
            f"{best.mb_per_s:>6.1f} MB/s {best.cpu_seconds:>7.1f} s CPU "
            f"{best.peak_rss_mb:>6.1f} MB RSS  {'ok' if best.ok else 'FAILED'}  {best.detail}",
            flush=True,
        )
    report = args.out / "vendor_exports.json"
    report.write_text(json.dumps([asdict(r) for r in results], indent=2))
    print(f"\nfigures written to {report}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
