"""Plain RR and heart-rate files: units, times, headers, errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from connectors import ConnectorError, ReadContext, ReadReport, detect
from connectors.base import from_epoch_us, to_epoch_us
from connectors.plain import HeartRateCsv, PolarSensorLogger, RrCsv, RrText

START = dt.datetime(2024, 5, 4, 7, 0, tzinfo=dt.UTC)


def read_all(connector, path: Path, ctx: ReadContext | None = None):
    report = ReadReport()
    batches = list(connector.read(path, ctx or ReadContext(start=START), report))
    ts = np.concatenate([b.ts for b in batches]) if batches else np.array([], np.int64)
    values = np.concatenate([b.value for b in batches]) if batches else np.array([])
    return ts, values, report, batches


@pytest.mark.parametrize(
    ("text", "factor"),
    [("0.8\n0.9\n1.05\n", 1000.0), ("800\n900\n1050\n", 1.0), ("0,8\n0,9\n1,05\n", 1000.0)],
)
def test_rr_text_detects_seconds_or_milliseconds(tmp_path, text, factor):
    path = tmp_path / "rr.txt"
    path.write_text(text)
    ts, values, _, _ = read_all(RrText(), path)
    expected = np.array([0.8, 0.9, 1.05]) * 1000 if factor == 1000.0 else np.array([800, 900, 1050.0])
    np.testing.assert_allclose(values, expected)
    # Each beat ends its interval: times are the running sum from the start.
    np.testing.assert_array_equal(ts - to_epoch_us(START), np.cumsum(expected) * 1000)


def test_rr_text_header_and_blank_lines(tmp_path):
    path = tmp_path / "rr.txt"
    path.write_text("RR (ms)\n800\n\n900\n")
    _, values, _, _ = read_all(RrText(), path)
    assert values.tolist() == [800.0, 900.0]


def test_rr_text_rejected_beats_still_take_their_time(tmp_path):
    path = tmp_path / "rr.txt"
    path.write_text("800\n3000\n900\n")
    ts, values, report, _ = read_all(RrText(), path)
    assert values.tolist() == [800.0, 900.0]
    assert (ts[-1] - to_epoch_us(START)) == 4_700_000
    assert report.rejected == {"rr_interval out of physiological bounds": 1}


def test_rr_text_garbage_names_file_and_line(tmp_path):
    path = tmp_path / "rr.txt"
    path.write_text("800\n900\n9x0\n")
    with pytest.raises(ConnectorError, match=r"rr.txt line 3: expected one RR interval"):
        read_all(RrText(), path)


def test_rr_text_without_start_is_refused(tmp_path):
    path = tmp_path / "rr.txt"
    path.write_text("800\n")
    with pytest.raises(ConnectorError, match="no absolute times"):
        read_all(RrText(), path, ReadContext())


def test_rr_csv_with_iso_times_and_local_zone(tmp_path):
    path = tmp_path / "rr.csv"
    path.write_text("time,rr\n2024-05-04T09:00:00.5,0.8\n2024-05-04T09:00:01.3+02:00,0.8\n")
    ts, values, _, _ = read_all(RrCsv(), path, ReadContext(tz="Europe/Berlin"))
    assert values.tolist() == [800.0, 800.0]
    assert [from_epoch_us(t) for t in ts] == [
        START + dt.timedelta(seconds=0.5),
        START + dt.timedelta(seconds=1.3),
    ]


def test_rr_csv_with_relative_seconds_needs_start(tmp_path):
    path = tmp_path / "rr.csv"
    path.write_text("time,rr_ms\n0.9,900\n1.7,800\n")
    ts, values, _, _ = read_all(RrCsv(), path)
    assert values.tolist() == [900.0, 800.0]
    assert (ts - to_epoch_us(START)).tolist() == [900_000, 1_700_000]
    with pytest.raises(ConnectorError, match="start"):
        read_all(RrCsv(), path, ReadContext())


def test_hr_csv(tmp_path):
    path = tmp_path / "hr.csv"
    path.write_text("timestamp,bpm\n2024-05-04T07:00:00Z,61\n2024-05-04T07:00:05Z,300\n")
    ts, values, report, batches = read_all(HeartRateCsv(), path)
    assert values.tolist() == [61.0] and batches[0].metric == "heart_rate"
    assert report.rejected == {"heart_rate out of physiological bounds": 1}


def test_hr_csv_bad_timestamp_names_line(tmp_path):
    path = tmp_path / "hr.csv"
    path.write_text("timestamp,bpm\n2024-05-04T07:00:00Z,61\nyesterday,62\n")
    with pytest.raises(ConnectorError, match="hr.csv line 3"):
        read_all(HeartRateCsv(), path)


def _polar_file(path: Path, rr: np.ndarray, start: dt.datetime, rng) -> np.ndarray:
    """Beats grouped into notifications arriving 20-400 ms after their last beat."""
    beats_ms = np.cumsum(rr)
    lines = ["Phone timestamp;RR-interval [ms]"]
    i = 0
    while i < rr.size:
        size = int(rng.integers(1, 4))
        last = min(i + size, rr.size) - 1
        arrival = start + dt.timedelta(milliseconds=float(beats_ms[last] + rng.uniform(20, 400)))
        for value in rr[i : last + 1]:
            lines.append(f"{arrival.replace(tzinfo=None).isoformat(timespec='milliseconds')};{value:.0f}")
        i = last + 1
    path.write_text("\n".join(lines) + "\n")
    return beats_ms


def test_polar_beat_times_come_from_intervals_not_arrivals(tmp_path):
    rng = np.random.default_rng(3)
    rr = np.round(rng.normal(850, 40, 600))
    local_start = dt.datetime(2024, 5, 4, 9, 0)  # Europe/Berlin wall clock = 07:00 UTC
    true_beats = _polar_file(tmp_path / "polar.txt", rr, local_start, rng)
    ts, values, _, _ = read_all(PolarSensorLogger(), tmp_path / "polar.txt", ReadContext(tz="Europe/Berlin"))
    assert values.tolist() == rr.tolist()
    got_ms = (ts - to_epoch_us(START)) / 1000.0
    # Consecutive beat times differ by exactly the intervals ...
    np.testing.assert_allclose(np.diff(got_ms), rr[1:], atol=0.002)
    # ... and the anchor is within the smallest arrival delay (20 ms) of the truth.
    assert np.abs(got_ms - true_beats).max() <= 21


def test_polar_dropout_starts_a_new_anchor(tmp_path):
    text = ["Phone timestamp;RR-interval [ms]"]
    base = dt.datetime(2024, 5, 4, 9, 0)
    for i in range(200):
        lost = 30_000 if i >= 100 else 0  # 30 s of beats never arrived
        stamp = base + dt.timedelta(milliseconds=(i + 1) * 1000 + lost + 50)
        text.append(f"{stamp.isoformat(timespec='milliseconds')};1000")
    (tmp_path / "p.txt").write_text("\n".join(text) + "\n")
    ts, _, _, _ = read_all(PolarSensorLogger(), tmp_path / "p.txt", ReadContext(tz="UTC"))
    gaps = np.diff(ts) / 1000.0
    assert gaps.max() == pytest.approx(31_000, abs=1)  # the dropout shows as a gap, not lost time


@pytest.mark.parametrize(
    ("content", "name"),
    [
        ("800\n810\n", "rr_text"),
        ("time,rr\n2024-05-04T07:00:00Z,800\n", "rr_csv"),
        ("timestamp,bpm\n2024-05-04T07:00:00Z,61\n", "hr_csv"),
        ("Phone timestamp;RR-interval [ms]\n2024-05-04T07:00:00.000;800\n", "polar_sensor_logger"),
    ],
)
def test_detection_from_content(tmp_path, content, name):
    path = tmp_path / "file.dat"
    path.write_text(content)
    assert detect(path).name == name


def test_unknown_format_lists_supported_ones(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("dear diary\n")
    with pytest.raises(ConnectorError, match="supported formats: .*rr_text"):
        detect(path)


def test_hr_csv_accepts_unix_seconds_and_milliseconds(tmp_path):
    path = tmp_path / "hr.csv"
    epoch_s = START.timestamp()
    path.write_text(f"timestamp,bpm\n{epoch_s:.0f},61\n{epoch_s * 1000 + 1500:.0f},62\n")
    ts, values, _, _ = read_all(HeartRateCsv(), path)
    assert values.tolist() == [61.0, 62.0]
    assert [from_epoch_us(t) for t in ts] == [START, START + dt.timedelta(seconds=1.5)]
