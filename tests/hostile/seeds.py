"""Small valid exports of every connector's format, as bytes, for fuzzing and the corpus.

Each :class:`Seed` is one export as a set of files (relative name -> bytes)
and the path a connector reads (the single file, or the folder holding the
set). They come from the project's own generators (``tests/support/generators``)
with the fewest days and samples that still exercise each reader, so that a
fuzzing example costs milliseconds. Nothing here is third-party data.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.generators.apple import write_export
from tests.support.generators.fit import fit_activity
from tests.support.generators.fitbit import write_fitbit_export
from tests.support.generators.garmin_connect import write_garmin_export
from tests.support.generators.health_connect import write_health_connect
from tests.support.generators.oura import write_oura_export
from tests.support.generators.polar_flow import write_polar_export
from tests.support.generators.samsung import write_samsung_export
from tests.support.generators.whoop import write_whoop_export

START = dt.datetime(2024, 5, 4, 8, 0, tzinfo=dt.UTC)
TZ = "Europe/Berlin"


@dataclass(frozen=True)
class Seed:
    """One small export: its files, and whether a connector reads the folder or one file."""

    connector: str
    files: dict[str, bytes]
    folder: bool  # read the folder holding ``files`` (else the single file)

    def write(self, directory: Path, files: dict[str, bytes] | None = None) -> Path:
        """Write ``files`` (default: the seed's own) under ``directory``; the path to read."""
        files = self.files if files is None else files
        root = directory / f"{self.connector}_export"
        for name, data in files.items():
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        if self.folder:
            return root
        (only,) = files
        return root / only


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _unzipped(archive: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(archive) as zipped:
        return {i.filename: zipped.read(i) for i in zipped.infolist() if not i.is_dir()}


def _fewer_json_records(files: dict[str, bytes], pattern: str, keep: int) -> dict[str, bytes]:
    """Files whose name contains ``pattern`` (JSON arrays) cut to their first ``keep`` records."""
    return {
        name: json.dumps(json.loads(data)[:keep]).encode() if pattern in name else data
        for name, data in files.items()
    }


def _fewer_rows(files: dict[str, bytes], keep_lines: int, keep_bins: int) -> dict[str, bytes]:
    """A Samsung export with short CSVs and only a few binning files (fuzzing speed)."""
    out: dict[str, bytes] = {}
    bins = 0
    for name, data in files.items():
        if name.endswith(".csv"):
            out[name] = b"".join(data.splitlines(keepends=True)[:keep_lines])
        elif "/jsons/" in name:
            bins += 1
            if bins <= keep_bins:
                out[name] = data
        else:
            out[name] = data
    return out


def _plain_rr() -> bytes:
    return ("RR\n" + "\n".join(str(800 + (i * 37) % 120) for i in range(120)) + "\n").encode()


def _rr_csv() -> bytes:
    rows = [f"{i * 0.85:.2f},{850 + i % 7}" for i in range(1, 100)]
    return ("time,rr\n" + "\n".join(rows) + "\n").encode()


def _hr_csv() -> bytes:
    rows = [f"{(START + dt.timedelta(seconds=5 * i)).isoformat()},{60 + i % 30}" for i in range(100)]
    return ("timestamp,bpm\n" + "\n".join(rows) + "\n").encode()


def _polar_sensor_logger() -> bytes:
    rows, clock = [], START.replace(tzinfo=None)
    for i in range(100):
        rr = 780 + (i * 13) % 90
        clock += dt.timedelta(milliseconds=rr)
        rows.append(f"{clock.isoformat(timespec='milliseconds')};{rr}")
    return ("Phone timestamp;RR-interval [ms]\n" + "\n".join(rows) + "\n").encode()


def _empatica() -> dict[str, bytes]:
    start = START.timestamp()
    ibi = [f"{start:.6f}, IBI"] + [f"{10 + i * 0.8:.6f},0.800000" for i in range(80)]
    hr = [f"{start + 10:.6f}", "1.000000"] + [f"{60 + i % 20:.2f}" for i in range(80)]
    return {"IBI.csv": ("\n".join(ibi) + "\n").encode(), "HR.csv": ("\n".join(hr) + "\n").encode()}


@functools.cache
def seeds() -> tuple[Seed, ...]:
    """Every connector's seed, built once per process (about a second)."""
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        apple = tmp / "export.xml"
        write_export(apple, days=1, layout="xml", hr_every_s=1800, energy_every_s=3600)
        fit, _truth = fit_activity(minutes=0.5)
        write_fitbit_export(tmp / "fitbit", days=1, google_days=0)
        write_garmin_export(tmp / "garmin", days=1, activities=1, layout="folder")
        write_health_connect(
            tmp / "health_connect_export.db", days=1, samples_per_record=5, records_per_day=4
        )
        write_oura_export(tmp / "oura", days=1)
        write_polar_export(tmp / "polar", days=1, beats_per_day=60, session_minutes=0.5)
        write_samsung_export(tmp / "samsung", days=1)
        write_whoop_export(tmp / "whoop", days=1)
        return (
            Seed("apple_health", {"export.xml": apple.read_bytes()}, folder=False),
            Seed("polar_flow", _tree(tmp / "polar"), folder=True),
            Seed("garmin_connect", _tree(tmp / "garmin"), folder=True),
            Seed("garmin_fit", {"activity.fit": fit}, folder=False),
            Seed(
                "health_connect",
                {"health_connect_export.db": (tmp / "health_connect_export.db").read_bytes()},
                folder=False,
            ),
            Seed("empatica_e4", _empatica(), folder=True),
            Seed("fitbit", _fewer_json_records(_tree(tmp / "fitbit"), "/heart_rate-", 300), folder=True),
            Seed("samsung_health", _fewer_rows(_tree(tmp / "samsung"), 16, 6), folder=True),
            Seed("oura", _tree(tmp / "oura"), folder=True),
            Seed("whoop", _tree(tmp / "whoop"), folder=True),
            Seed("polar_sensor_logger", {"Polar_H10_RR.txt": _polar_sensor_logger()}, folder=False),
            Seed("rr_csv", {"rr.csv": _rr_csv()}, folder=False),
            Seed("hr_csv", {"hr.csv": _hr_csv()}, folder=False),
            Seed("rr_text", {"rr.txt": _plain_rr()}, folder=False),
        )


def seed(connector: str) -> Seed:
    return next(s for s in seeds() if s.connector == connector)
