"""Garmin Connect account export in one go (docs/formats.md, "Garmin Connect")."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from connectors import ConnectorError, Episode, ReadContext, ReadReport, SampleBatch, detect
from connectors.garmin_connect import GarminConnect
from tests.support.generators.fit import fit_activity
from tests.support.generators.garmin_connect import PREFIX, write_garmin_export

TZ = "Europe/Berlin"
UDS = PREFIX + "DI-Connect-Aggregator/UDSFile_2024-10-25_2024-10-27.json"
UPLOADS = PREFIX + "DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip"


def _read(path: Path, tz: str = TZ) -> tuple[list, ReadReport]:
    report = ReadReport()
    return list(GarminConnect().read(path, ReadContext(tz=tz), report)), report


def _series(items: list, metric: str, key: str) -> list[tuple[int, float]]:
    pairs = [
        (int(t), float(v))
        for b in items
        if isinstance(b, SampleBatch) and b.metric == metric and b.source.key == key
        for t, v in zip(b.ts, b.value, strict=True)
    ]
    return sorted(pairs)


@pytest.mark.parametrize("layout", ["zip", "folder"])
def test_whole_export_round_trips(tmp_path, layout):
    dest = tmp_path / ("export.zip" if layout == "zip" else "export")
    truth = write_garmin_export(dest, layout=layout, days=3, activities=2)
    assert detect(dest).name == "garmin_connect"
    items, report = _read(dest)
    for metric, expected in truth.daily.items():
        assert _series(items, metric, "garmin_connect:daily_summary") == expected
    for metric, expected in truth.health.items():
        assert _series(items, metric, "garmin_connect:health_status") == expected
    episodes = [(e.kind, e.start, e.end) for e in items if isinstance(e, Episode)]
    assert episodes == truth.episodes
    fit = [b for b in items if isinstance(b, SampleBatch) and b.source.key.startswith("fit:")]
    assert sum(len(b) for b in fit if b.metric == "rr_interval") == truth.rr_count
    assert sum(len(b) for b in fit if b.metric == "heart_rate") == truth.heart_rate_count
    assert report.rejected["Garmin stress sentinel (negative: not enough data)"] == truth.stress_sentinels
    assert report.skipped["Garmin body battery (no Vagus metric for it)"] == 3
    assert report.skipped["Garmin health status SKIN_TEMP_C not read"] == 3
    assert report.skipped["Garmin Connect file not read (DI-Connect-User)"] == 1
    assert report.skipped["uploaded-files zip member that is not a .fit file"] == 1
    assert report.bytes_read == report.bytes_total > 0


def test_day_values_are_stamped_at_local_midnight_across_daylight_saving(tmp_path):
    # Berlin leaves summer time on 2024-10-27: midnight is +02:00 until then, +01:00 after.
    truth = write_garmin_export(tmp_path / "export.zip", days=4, start=dt.date(2024, 10, 26))
    items, _ = _read(tmp_path / "export.zip")
    hrv = [b for b in items if isinstance(b, SampleBatch) and b.metric == "hrv_rmssd"]
    offsets = {int(t): b.utc_offset_s for b in hrv for t in b.ts}
    stamps = [t for t, _ in truth.health["hrv_rmssd"]]
    expected = [
        dt.datetime(2024, 10, 25, 22, tzinfo=dt.UTC),
        dt.datetime(2024, 10, 26, 22, tzinfo=dt.UTC),
        dt.datetime(2024, 10, 27, 23, tzinfo=dt.UTC),
        dt.datetime(2024, 10, 28, 23, tzinfo=dt.UTC),
    ]
    assert stamps == [round(m.timestamp() * 1e6) for m in expected]
    assert [offsets[s] for s in stamps] == [7200, 7200, 3600, 3600]
    assert sorted(offsets) == stamps


def test_reading_twice_gives_identical_items(tmp_path):
    write_garmin_export(tmp_path / "export.zip")

    def flat(items: list) -> list:
        return [
            (i.kind, i.start, i.end)
            if isinstance(i, Episode)
            else (i.metric, i.source, i.ts.tolist(), i.value.tolist())
            for i in items
        ]

    assert flat(_read(tmp_path / "export.zip")[0]) == flat(_read(tmp_path / "export.zip")[0])


def _replace(tmp_path: Path, name: str, data: bytes) -> Path:
    truth = write_garmin_export(tmp_path / "good.zip")
    members = dict(truth.members)
    members[name] = data
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for member, content in members.items():
            archive.writestr(member, content)
    return path


@pytest.mark.parametrize(
    "data, line",
    [
        (b"", None),
        (b'[{"calendarDate": "2024-10-25",\n "restingHeartRate": 5', 2),
        ('[{"calendarDate": "2024-10-25"}]'.encode("utf-16"), 1),
        (b'{"calendarDate": "2024-10-25"}', None),
    ],
)
def test_broken_json_is_an_error_naming_member_and_line(tmp_path, data, line):
    path = _replace(tmp_path, UDS, data)
    with pytest.raises(ConnectorError) as caught:
        _read(path)
    assert caught.value.file == f"{path}!{UDS}"
    assert caught.value.line == line


def test_bad_values_are_counted_and_located(tmp_path):
    days = [
        {"calendarDate": "2024-13-01", "restingHeartRate": 50},
        {"calendarDate": "2024-10-26", "restingHeartRate": "fifty"},
        {"calendarDate": "2024-10-27", "restingHeartRate": 300},
        {"calendarDate": "2024-10-28", "restingHeartRate": 51},
    ]
    path = _replace(tmp_path, UDS, json.dumps(days).encode())
    items, report = _read(path)
    assert [v for _, v in _series(items, "resting_heart_rate", "garmin_connect:daily_summary")] == [51.0]
    assert report.rejected["Garmin day without a readable calendarDate"] == 1
    assert report.first_seen["Garmin day without a readable calendarDate"] == f"{path}!{UDS} (day 0)"
    assert report.first_seen["Garmin resting_heart_rate is not a number"].endswith("(day 1)")
    assert report.rejected["resting_heart_rate out of physiological bounds"] == 1


def test_sleep_without_times_is_counted(tmp_path):
    name = PREFIX + "DI-Connect-Wellness/x_sleepData.json"
    nights = [
        {"calendarDate": "2024-10-25", "sleepStartTimestampGMT": "2024-10-24T21:00:00.0"},
        {
            "calendarDate": "2024-10-26",
            "sleepStartTimestampGMT": 1729890000000,
            "sleepEndTimestampGMT": 1729917000000,
        },
    ]
    path = _replace(tmp_path, name, json.dumps(nights).encode())
    items, report = _read(path)
    assert report.rejected["Garmin sleep without a readable start and end"] == 1
    asleep = [
        e
        for e in items
        if isinstance(e, Episode)
        and e.source.key == "garmin_connect:sleep"
        and e.start == dt.datetime(2024, 10, 25, 21, 0, tzinfo=dt.UTC)
    ]
    assert asleep and asleep[0].end == dt.datetime(2024, 10, 26, 4, 30, tzinfo=dt.UTC)


def _inner_zip(members: dict[str, bytes], level: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", level) as inner:
        for name, data in members.items():
            inner.writestr(name, data)
    return buffer.getvalue()


def test_nested_zip_bomb_is_refused(tmp_path):
    bomb = _inner_zip({"a.fit": bytes(200 << 20)})  # 200 MB of zeros, ~200 KB compressed
    path = _replace(tmp_path, UPLOADS, bomb)
    with pytest.raises(ConnectorError, match="zip bomb") as caught:
        _read(path)
    assert caught.value.file == f"{path}!{UPLOADS}"


def test_nested_zip_slip_is_refused(tmp_path):
    path = _replace(tmp_path, UPLOADS, _inner_zip({"../../evil.fit": b"x"}))
    with pytest.raises(ConnectorError, match="zip-slip"):
        _read(path)


def test_damaged_fit_inside_a_nested_zip_is_named(tmp_path):
    data, _ = fit_activity(seed=0, minutes=0.5)
    path = _replace(tmp_path, UPLOADS, _inner_zip({"good.fit": data, "bad.fit": data[:80]}))
    with pytest.raises(ConnectorError) as caught:
        _read(path)
    assert caught.value.file == f"{path}!{UPLOADS}!bad.fit"


def test_corrupt_nested_zip_is_named(tmp_path):
    path = _replace(tmp_path, UPLOADS, b"PK\x03\x04 this is not a zip")
    with pytest.raises(ConnectorError, match="not a readable zip") as caught:
        _read(path)
    assert caught.value.file == f"{path}!{UPLOADS}"


def test_unknown_zone_is_an_error(tmp_path):
    write_garmin_export(tmp_path / "export.zip")
    with pytest.raises(ConnectorError, match="unknown time zone"):
        _read(tmp_path / "export.zip", tz="Nowhere/Land")


def test_detection_of_folder_forms(tmp_path):
    write_garmin_export(tmp_path / "export", layout="folder")
    assert detect(tmp_path / "export").name == "garmin_connect"
    assert detect(tmp_path / "export" / "DI_CONNECT").name == "garmin_connect"
    items, _ = _read(tmp_path / "export" / "DI_CONNECT")
    assert any(isinstance(i, SampleBatch) and i.metric == "hrv_rmssd" for i in items)
    lone = tmp_path / "export" / UDS
    assert detect(lone).name == "garmin_connect"
    items, _ = _read(lone)
    assert {i.metric for i in items} == {"resting_heart_rate", "vendor_stress"}
    assert np.all(np.diff(items[0].ts) > 0)
