"""Polar Flow account export: PPI and training sessions (docs/formats.md, "Polar Flow")."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

from connectors import ConnectorError, ReadContext, ReadReport, SampleBatch, detect
from connectors.polar_flow import PolarFlow
from tests.support.generators.polar_flow import (
    DEVICE_ID,
    PolarTruth,
    ppi_day,
    write_polar_export,
    zip_folder,
)

TZ = "Europe/Berlin"


def _read(path: Path, tz: str = TZ) -> tuple[list[SampleBatch], ReadReport]:
    report = ReadReport()
    items = list(PolarFlow().read(path, ReadContext(tz=tz), report))
    return items, report  # type: ignore[return-value]


def _series(items: list[SampleBatch], metric: str, kind: str) -> tuple[np.ndarray, np.ndarray]:
    chosen = [b for b in items if b.metric == metric and b.source.kind == kind]
    ts = np.concatenate([b.ts for b in chosen])
    value = np.concatenate([b.value for b in chosen])
    order = np.argsort(ts, kind="stable")
    return ts[order], value[order]


def test_known_values_round_trip(tmp_path):
    truth = write_polar_export(tmp_path / "export", seed=3, days=2)
    items, report = _read(tmp_path / "export")
    ts, rr = _series(items, "rr_interval", "watch")
    assert ts.tolist() == truth.ppi_ts and rr.tolist() == truth.ppi_ms
    ts, bpm = _series(items, "heart_rate", "watch")
    assert ts.tolist() == truth.hr_ts and bpm.tolist() == truth.hr_bpm
    ts, rr = _series(items, "rr_interval", "chest_strap")
    assert ts.tolist() == truth.rr_ts and rr.tolist() == truth.rr_ms
    watch = next(b.source for b in items if b.source.kind == "watch")
    assert watch.key == f"polar_flow:{DEVICE_ID}" and watch.name == f"Polar {DEVICE_ID}"
    assert len({b.source for b in items if b.source.kind == "watch"}) == 1
    # 01:00 local in May in Berlin is 23:00 UTC the day before: the offset is known.
    first = next(b for b in items if b.metric == "rr_interval")
    assert first.utc_offset_s == 7200
    assert dt.datetime.fromtimestamp(truth.ppi_ts[0] / 1e6, dt.UTC).hour == 23
    assert report.skipped["Polar Flow file not read (account-data)"] == 1
    assert report.skipped["Polar Flow file not read (activity)"] == 1
    assert report.skipped["Polar heartRate sample without a value (no reading)"] == 1
    assert not report.rejected
    assert report.bytes_read == report.bytes_total > 0


def test_reading_twice_gives_identical_samples(tmp_path):
    write_polar_export(tmp_path / "export", seed=1)
    first, _ = _read(tmp_path / "export")
    second, _ = _read(tmp_path / "export")
    assert [(b.metric, b.source, b.ts.tolist(), b.value.tolist()) for b in first] == [
        (b.metric, b.source, b.ts.tolist(), b.value.tolist()) for b in second
    ]


def _ppi_file(path: Path, samples: list[dict]) -> Path:
    path.write_text(
        json.dumps(
            [{"date": "2024-10-27", "devicePpiSamplesList": [{"deviceId": DEVICE_ID, "ppiSamples": samples}]}]
        )
    )
    return path


def test_repeated_hour_when_clocks_go_back_is_placed_by_order(tmp_path):
    # Berlin, 2024-10-27: 03:00 CEST becomes 02:00 CET. Beats every 30 min of
    # UTC from 00:00Z to 02:30Z are written 02:00, 02:30 (CEST), 02:00, 02:30 (CET)...
    truth = PolarTruth()
    start = dt.datetime(2024, 10, 26, 23, 50, tzinfo=dt.UTC)
    day = ppi_day(start, TZ, beats=12_000, rng=np.random.default_rng(0), truth=truth)
    walls = [s["sampleDateTime"] for s in day["devicePpiSamplesList"][0]["ppiSamples"]]
    assert any(w.startswith("2024-10-27T02:") for w in walls)
    path = tmp_path / "ppi_samples_2024-10-27.json"
    path.write_text(json.dumps([day]))
    items, report = _read(path)
    ts, rr = _series(items, "rr_interval", "watch")
    assert ts.tolist() == truth.ppi_ts
    assert np.all(np.diff(ts) > 0)
    assert sorted({b.utc_offset_s for b in items}) == [3600, 7200]
    assert not report.rejected


def test_skipped_hour_when_clocks_go_forward_is_refused_and_counted(tmp_path):
    # Berlin, 2024-03-31: 02:00 CET becomes 03:00 CEST; 02:30 never happened.
    path = _ppi_file(
        tmp_path / "ppi_samples_2024-03-31.json",
        [
            {"sampleDateTime": "2024-03-31T01:59:59.100", "pulseLength": 900},
            {"sampleDateTime": "2024-03-31T02:30", "pulseLength": 900},
            {"sampleDateTime": "2024-03-31T03:00:00.050", "pulseLength": 950},
        ],
    )
    items, report = _read(path)
    ts, _ = _series(items, "rr_interval", "watch")
    assert ts.tolist() == [
        int(dt.datetime(2024, 3, 31, 0, 59, 59, 100_000, dt.UTC).timestamp() * 1e6),
        int(dt.datetime(2024, 3, 31, 1, 0, 0, 50_000, dt.UTC).timestamp() * 1e6),
    ]
    reason = f"Polar PPI local time in the daylight-saving gap of {TZ}"
    assert report.rejected[reason] == 1
    assert str(path) in report.first_seen[reason]


def test_times_without_seconds_are_read(tmp_path):
    path = _ppi_file(
        tmp_path / "ppi_samples_x.json", [{"sampleDateTime": "2024-05-04T01:15", "pulseLength": 1000}]
    )
    items, _ = _read(path, tz="UTC")
    assert items[0].ts.tolist() == [int(dt.datetime(2024, 5, 4, 1, 15, tzinfo=dt.UTC).timestamp() * 1e6)]


@pytest.mark.parametrize(
    "sample, reason",
    [
        ({"pulseLength": 900}, "Polar PPI sample without sampleDateTime"),
        ({"sampleDateTime": "2024-05-04T01:00:00.500"}, "Polar PPI sample without a numeric pulseLength"),
        (
            {"sampleDateTime": "04/05/2024 01:00", "pulseLength": 900},
            "Polar PPI sampleDateTime unreadable (expected local ISO time)",
        ),
        (
            {"sampleDateTime": "2024-13-04T01:00:00", "pulseLength": 900},
            "Polar PPI sampleDateTime unreadable (expected local ISO time)",
        ),
        (
            {"sampleDateTime": "2024-05-04T01:00:00Z", "pulseLength": 900},
            "Polar PPI sampleDateTime unreadable (expected local ISO time)",
        ),
        (
            {"sampleDateTime": "2024-05-04T01:00:02", "pulseLength": 90},
            "rr_interval out of physiological bounds",
        ),
    ],
)
def test_bad_ppi_samples_are_counted_and_located(tmp_path, sample, reason):
    good = {"sampleDateTime": "2024-05-04T01:00:01", "pulseLength": 900}
    path = _ppi_file(tmp_path / "ppi_samples_bad.json", [good, sample])
    items, report = _read(path)
    assert sum(len(b) for b in items) == 1
    assert report.rejected[reason] == 1
    if reason in report.first_seen:
        assert str(path) in report.first_seen[reason]
        assert "devicePpiSamplesList[0]" in report.first_seen[reason]


def _session(tmp_path: Path, **exercise: object) -> Path:
    body = {
        "startTime": "2024-05-04T18:30:00",
        "timezoneOffset": 120,
        "samples": {"heartRate": [{"dateTime": "2024-05-04T18:30:00", "value": 100}]},
    }
    body.update(exercise)
    path = tmp_path / "training-session-2024-05-04-1.json"
    path.write_text(json.dumps({"deviceId": DEVICE_ID, "exercises": [body]}))
    return path


def test_session_times_use_the_session_offset(tmp_path):
    items, _ = _read(_session(tmp_path), tz="Asia/Tokyo")  # the person's zone is not used
    assert items[0].ts.tolist() == [int(dt.datetime(2024, 5, 4, 16, 30, tzinfo=dt.UTC).timestamp() * 1e6)]
    assert items[0].utc_offset_s == 7200


def test_session_rr_without_times_are_summed_from_the_start(tmp_path):
    path = _session(tmp_path, samples={"rr": [{"value": 500}, {"value": 520}]})
    items, _ = _read(path)
    start = int(dt.datetime(2024, 5, 4, 16, 30, tzinfo=dt.UTC).timestamp() * 1e6)
    assert items[0].ts.tolist() == [start + 500_000, start + 1_020_000]
    assert items[0].source.kind == "chest_strap"


@pytest.mark.parametrize("offset", [61, 15 * 60, "120", None])
def test_bad_session_offset_is_an_error_naming_the_exercise(tmp_path, offset):
    path = _session(tmp_path, timezoneOffset=offset)
    with pytest.raises(ConnectorError) as caught:
        _read(path)
    assert caught.value.file == str(path) and caught.value.record == "exercises[0]"


def test_missing_session_offset_is_an_error(tmp_path):
    path = tmp_path / "training-session-1.json"
    path.write_text(json.dumps({"exercises": [{"samples": {}}]}))
    with pytest.raises(ConnectorError, match="no timezoneOffset"):
        _read(path)


@pytest.mark.parametrize(
    "content, line",
    [
        (b"", None),
        (b'[{"date": "2024-05-04", "devicePpiSamplesList": [\n{"deviceId": "A", "ppiS', 2),
        ('[{"date": "2024-05-04", "devicePpiSamplesList": []}]'.encode("utf-16"), 1),
        (b'[{"date": "2024-05-04"}]', None),
    ],
)
def test_broken_files_are_errors_naming_file_and_line(tmp_path, content, line):
    path = tmp_path / "ppi_samples_2024-05-04.json"
    path.write_bytes(content)
    with pytest.raises(ConnectorError) as caught:
        _read(path)
    assert caught.value.file == str(path)
    if line is not None:
        assert caught.value.line == line


def test_unknown_zone_is_an_error(tmp_path):
    write_polar_export(tmp_path / "export")
    with pytest.raises(ConnectorError, match="unknown time zone"):
        _read(tmp_path / "export", tz="Mars/Olympus")


def test_detected_zipped_and_unzipped(tmp_path):
    write_polar_export(tmp_path / "polar-user-data-export_abc")
    assert detect(tmp_path / "polar-user-data-export_abc").name == "polar_flow"
    zipped = zip_folder(
        tmp_path / "polar-user-data-export_abc", tmp_path / "polar.zip", prefix="polar-user-data-export_abc/"
    )
    assert detect(zipped).name == "polar_flow"
    items, report = _read(zipped)
    assert sum(len(b) for b in items) > 0
    assert report.skipped["Polar Flow file not read (activity)"] == 1
    lone = next((tmp_path / "polar-user-data-export_abc").glob("ppi_*.json"))
    renamed = tmp_path / "download.json"
    renamed.write_bytes(lone.read_bytes())
    assert detect(renamed).name == "polar_flow"
