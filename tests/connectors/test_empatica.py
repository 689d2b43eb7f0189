"""Empatica E4 connector against sessions written by the test itself."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from connectors import empatica
from connectors.base import ConnectorError, ReadContext, ReadReport, SampleBatch
from connectors.empatica import EmpaticaE4, looks_like_hr, looks_like_ibi
from connectors.registry import detect

START = 1_700_000_000.0


@dataclass(frozen=True)
class Session:
    """A written E4 session and what a reader must yield from it."""

    folder: Path
    beat_ts_us: np.ndarray  # valid intervals only
    rr_ms: np.ndarray
    rr_rejected: int
    hr_ts_us: np.ndarray
    hr_bpm: np.ndarray


def write_session(
    folder: Path, seed: int = 0, beats: int = 400, hr_samples: int = 300, rate: float = 1.0
) -> Session:
    """An E4 session folder: IBI.csv with gaps and two impossible intervals, HR.csv, others."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    rr_s = np.round(rng.uniform(0.6, 1.1, size=beats), 6)
    rr_s[[50, 120]] = [0.1, 3.2]  # outside 250-2500 ms: rejected
    ends = np.cumsum(rr_s) + 10.0
    kept = rng.random(beats) > 0.2  # the E4 drops beats it cannot see: gaps
    lines = [f"{START:.6f}, IBI"]
    lines += [f"{t:.6f},{r:.6f}" for t, r, k in zip(ends, rr_s, kept, strict=True) if k]
    (folder / "IBI.csv").write_text("\n".join(lines) + "\n")
    bpm = np.round(rng.uniform(55, 95, size=hr_samples), 2)
    (folder / "HR.csv").write_text(
        f"{START + 10:.6f}\n{rate:.6f}\n" + "\n".join(f"{v:.2f}" for v in bpm) + "\n"
    )
    (folder / "TEMP.csv").write_text(f"{START:.6f}\n4.000000\n33.1\n33.2\n")
    (folder / "tags.csv").write_text(f"{START + 60:.6f}\n")

    valid = kept & (rr_s >= 0.25) & (rr_s <= 2.5)
    start_us = round(START * 1e6)
    return Session(
        folder=folder,
        beat_ts_us=start_us + np.round(ends[valid] * 1e6).astype(np.int64),
        rr_ms=rr_s[valid] * 1000,
        rr_rejected=int(np.count_nonzero(kept & ~valid)),
        hr_ts_us=round((START + 10) * 1e6) + np.round(np.arange(hr_samples) * 1e6 / rate).astype(np.int64),
        hr_bpm=bpm,
    )


def _read(path: Path) -> tuple[list[SampleBatch], ReadReport]:
    report = ReadReport()
    return list(EmpaticaE4().read(path, ReadContext(), report)), report


def _concat(batches: list[SampleBatch], metric: str) -> tuple[np.ndarray, np.ndarray]:
    chosen = [b for b in batches if b.metric == metric]
    return np.concatenate([b.ts for b in chosen]), np.concatenate([b.value for b in chosen])


def _check(batches: list[SampleBatch], report: ReadReport, session: Session) -> None:
    ts, rr = _concat(batches, "rr_interval")
    np.testing.assert_array_equal(ts, session.beat_ts_us)
    np.testing.assert_allclose(rr, session.rr_ms)
    assert report.rejected["rr_interval out of physiological bounds"] == session.rr_rejected
    ts, bpm = _concat(batches, "heart_rate")
    np.testing.assert_array_equal(ts, session.hr_ts_us)
    np.testing.assert_allclose(bpm, session.hr_bpm)


def test_session_folder(tmp_path):
    session = write_session(tmp_path / "session")
    assert session.rr_rejected == 2
    assert detect(session.folder).name == "empatica_e4"
    batches, report = _read(session.folder)
    _check(batches, report, session)
    assert {b.source.kind for b in batches} == {"watch"}
    assert {b.source.name for b in batches} == {"Empatica E4"}
    assert report.skipped["Empatica file not imported (TEMP.csv)"] == 1
    assert report.bytes_read == report.bytes_total > 0


def test_session_zip_keys_the_source_by_device_id(tmp_path):
    session = write_session(tmp_path / "session", seed=1)
    bundle = tmp_path / "1700000000_A01B2C.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        for path in session.folder.iterdir():
            archive.write(path, path.name)
    assert detect(bundle).name == "empatica_e4"
    batches, report = _read(bundle)
    _check(batches, report, session)
    assert {b.source.key for b in batches} == {"Empatica E4 A01B2C"}


@pytest.mark.parametrize("name", ["IBI.csv", "HR.csv"])
def test_lone_files_are_detected_by_content(tmp_path, name):
    session = write_session(tmp_path / "s", seed=2)
    lone = tmp_path / "renamed.csv"
    lone.write_bytes((session.folder / name).read_bytes())
    assert detect(lone).name == "empatica_e4"
    batches, _ = _read(lone)
    assert {b.metric for b in batches} == {"rr_interval" if name == "IBI.csv" else "heart_rate"}


def test_long_recordings_keep_their_times_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(empatica, "CHUNK_ROWS", 64)
    session = write_session(tmp_path / "s", seed=3, beats=1000, hr_samples=700, rate=4.0)
    batches, report = _read(session.folder)
    assert sum(1 for b in batches if b.metric == "heart_rate") > 5
    _check(batches, report, session)


def test_sniff_rejects_other_numeric_files(tmp_path):
    assert not looks_like_hr(b"812\n790\n805\n")  # a plain RR list: no Unix start time
    assert not looks_like_ibi(b"time,rr\n1,800\n")
    assert looks_like_ibi(b"1560279825.000000, IBI\n83.5,0.6\n")
    assert looks_like_hr(b"1560279835.000000\n1.000000\n93.00\n")
    plain = tmp_path / "rr.txt"
    plain.write_text("812\n790\n805\n")
    assert not EmpaticaE4().sniff(plain, plain.read_bytes())


@pytest.mark.parametrize(
    "content, line",
    [
        ("1700000000.0, IBI\n1.0,0.8\n2.0,abc\n", 3),
        ("1700000000.0, IBI\n1.0;0.8\n", 2),
        ("1700000000.0, BVP\n1.0,0.8\n", 1),
    ],
)
def test_malformed_ibi_names_file_and_line(tmp_path, content, line):
    path = tmp_path / "IBI.csv"
    path.write_text(content)
    with path.open("rb") as handle, pytest.raises(ConnectorError) as caught:
        list(empatica.read_ibi(handle, str(path), empatica.session_source("x"), ReadReport()))
    assert caught.value.line == line
    assert str(path) in str(caught.value)


def test_malformed_hr_names_the_line(tmp_path):
    path = tmp_path / "HR.csv"
    path.write_text("1700000000.0\n1.0\n70\n\n7O\n")
    with pytest.raises(ConnectorError) as caught:
        _read(tmp_path)
    assert caught.value.line == 5
