"""Empatica E4 connector against the real session in ../shared/data/empatica.

Expected counts are computed here from the files, never hard-coded.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from connectors.base import RR_BOUNDS_MS, ReadContext, ReadReport, SampleBatch
from connectors.empatica import EmpaticaE4


def _read(path: Path) -> tuple[list[SampleBatch], ReadReport]:
    report = ReadReport()
    return list(EmpaticaE4().read(path, ReadContext(), report)), report


def _ibi_rows(path: Path) -> tuple[float, np.ndarray]:
    lines = path.read_text().splitlines()
    start = float(lines[0].split(",")[0])
    rows = np.array([[float(x) for x in line.split(",")] for line in lines[1:] if line.strip()])
    return start, rows


def _count(batches: list[SampleBatch], metric: str) -> int:
    return sum(len(b) for b in batches if b.metric == metric)


def test_ibi_count_matches_the_file_minus_reported_rejections(shared_data):
    folder = shared_data / "empatica"
    start, rows = _ibi_rows(folder / "IBI.csv")
    low, high = RR_BOUNDS_MS
    out_of_bounds = int(np.count_nonzero((rows[:, 1] * 1000 < low) | (rows[:, 1] * 1000 > high)))
    batches, report = _read(folder / "IBI.csv")
    assert _count(batches, "rr_interval") == len(rows) - out_of_bounds
    assert sum(report.rejected.values()) == out_of_bounds
    rr = next(b for b in batches if b.metric == "rr_interval")
    # The first column is the time of the beat that ends the interval.
    assert rr.ts[0] == round(start * 1e6) + round(rows[0, 0] * 1e6)
    assert np.all(np.diff(rr.ts) > 0)
    gaps = np.diff(rows[:, 0]) - rows[1:, 1]
    assert np.count_nonzero(gaps > 0.01) > 0  # the real file does have gaps


def test_heart_rate_count_and_times(shared_data):
    lines = (shared_data / "empatica" / "HR.csv").read_text().split()
    start, rate, values = float(lines[0]), float(lines[1]), lines[2:]
    batches, report = _read(shared_data / "empatica" / "HR.csv")
    heart = next(b for b in batches if b.metric == "heart_rate")
    assert len(heart) + sum(report.rejected.values()) == len(values)
    assert heart.ts[0] == round(start * 1e6)
    assert heart.ts[-1] == round(start * 1e6) + round((len(values) - 1) * 1e6 / rate)


def test_folder_and_zip_give_the_same_data(shared_data, tmp_path):
    folder = shared_data / "empatica"
    bundle = tmp_path / "session.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        for path in folder.iterdir():
            archive.write(path, path.name)
    from_folder, _ = _read(folder)
    from_zip, _ = _read(bundle)
    for metric in ("rr_interval", "heart_rate"):
        a = np.concatenate([b.ts for b in from_folder if b.metric == metric])
        b = np.concatenate([b.ts for b in from_zip if b.metric == metric])
        np.testing.assert_array_equal(a, b)
    _, rows = _ibi_rows(folder / "IBI.csv")
    assert _count(from_folder, "rr_interval") <= len(rows)
    assert {b.source.kind for b in from_folder} == {"watch"}
