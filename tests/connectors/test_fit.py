"""Garmin FIT connector against the project's own generated FIT files."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from fit_tool.fit_file_builder import FitFileBuilder
from fit_tool.profile.messages.file_id_message import FileIdMessage
from fit_tool.profile.messages.hr_message import HrMessage
from fit_tool.profile.profile_type import FileType, Manufacturer

from connectors.base import ConnectorError, ReadContext, ReadReport, SampleBatch
from connectors.garmin_fit import (
    FIT_EPOCH_S,
    GarminFit,
    decode_fit,
    expand_timestamp_16,
    rollover,
    unpack_12bit,
)
from connectors.registry import detect
from tests.support.generators.fit import (
    STRAP_SERIAL,
    WATCH_SERIAL,
    fit_activity,
    fit_wellness,
    write_fit_activity,
)


def _decode(data: bytes, name: str = "test.fit") -> tuple[list[SampleBatch], ReadReport]:
    report = ReadReport()
    return list(decode_fit(io.BytesIO(data), name, report)), report


def _one(batches: list[SampleBatch], metric: str) -> SampleBatch:
    found = [b for b in batches if b.metric == metric]
    assert len(found) == 1, f"expected one {metric} batch, got {len(found)}"
    return found[0]


# -- helpers ---------------------------------------------------------------------


def test_timestamp_16_is_added_forward_across_the_rollover():
    last = 0x1234_FFF0
    assert expand_timestamp_16(last, 0xFFF5) == last + 5
    assert expand_timestamp_16(last, 0x0003) == last + 0x13  # wrapped past 0xFFFF
    assert expand_timestamp_16(last, last & 0xFFFF) == last


def test_rollover_keeps_a_growing_counter():
    assert rollover(0x1FF0, 0xFF8, 12) == 0x1FF8
    assert rollover(0x1FF0, 0x005, 12) == 0x2005
    assert rollover(0x1FF0, 0xFF0, 12) == 0x1FF0


def test_unpack_12bit_reads_little_endian_pairs():
    values = [0x123, 0xABC, 0x000, 0xFFF, 0x7A1, 0x001, 0x800, 0x0F0]
    packed = sum(v << (12 * i) for i, v in enumerate(values)).to_bytes(12, "little")
    assert unpack_12bit(packed) == values


# -- activity files -------------------------------------------------------------


def test_activity_round_trips_exactly_with_sentinels_rejected_and_no_clock_time():
    data, truth = fit_activity(seed=3, minutes=4, sentinel_rate=0.03)
    assert truth.sentinels > 0  # the file really carries 5 s / 61 s sentinels
    batches, report = _decode(data)

    rr = _one(batches, "rr_interval")
    np.testing.assert_array_equal(rr.value, truth.rr_ms)
    # Exact beat times prove that sentinels did not advance the beat clock.
    np.testing.assert_array_equal(rr.ts, truth.beat_ts_us)
    assert report.rejected["rr_interval out of physiological bounds"] == truth.sentinels

    hr = _one(batches, "heart_rate")
    np.testing.assert_array_equal(hr.ts, truth.heart_rate_ts_us)
    np.testing.assert_array_equal(hr.value, truth.heart_rate_bpm)
    assert rr.utc_offset_s == hr.utc_offset_s == truth.utc_offset_s


def test_strap_is_the_beat_source_and_its_key_is_stable():
    first, _ = _decode(fit_activity(seed=1, minutes=1)[0])
    second, _ = _decode(fit_activity(seed=2, minutes=1)[0])
    sources = {b.source for b in first + second}
    assert len(sources) == 1
    source = sources.pop()
    assert source.kind == "chest_strap"
    assert str(STRAP_SERIAL) in source.key
    assert "hrm pro" in source.name.lower()


def test_without_a_strap_the_watch_is_the_source():
    batches, _ = _decode(fit_activity(seed=1, minutes=1, strap=False)[0])
    assert {b.source.kind for b in batches} == {"watch"}
    assert all(str(WATCH_SERIAL) in b.source.key for b in batches)


def test_lost_beats_re_anchor_the_beat_clock_to_the_record_clock():
    data, truth = fit_activity(seed=5, minutes=3, sentinel_rate=0, dropout=(60, 20))
    assert truth.dropped_beats > 10
    batches, report = _decode(data)
    rr = _one(batches, "rr_interval")
    np.testing.assert_array_equal(rr.value, truth.rr_ms)
    assert report.notes["FIT hrv beat clock re-anchored to the file clock after lost beats"] == 1
    error_s = np.abs(rr.ts - truth.beat_ts_us) / 1e6
    naive_s = np.abs(truth.start_us + np.cumsum(truth.rr_ms) * 1000 - truth.beat_ts_us) / 1e6
    assert naive_s.max() > 15  # summing alone would put later beats 20 s early
    assert error_s.max() < 1.5  # re-anchoring keeps every beat within a beat or so


# -- wellness files ----------------------------------------------------------------


def test_wellness_file_round_trips_every_metric():
    data, truth = fit_wellness(seed=4, hours=2)
    batches, report = _decode(data)
    by_metric = {b.metric: b for b in batches}
    assert set(by_metric) == {"heart_rate", "vendor_stress", "hrv_rmssd", "respiratory_rate", "rr_interval"}
    for metric in ("heart_rate", "vendor_stress", "hrv_rmssd", "respiratory_rate"):
        ts, values = getattr(truth, metric)
        np.testing.assert_array_equal(by_metric[metric].ts, ts, err_msg=metric)
        np.testing.assert_allclose(by_metric[metric].value, values, err_msg=metric)
        assert by_metric[metric].utc_offset_s == truth.utc_offset_s
    assert all(b.source.kind == "watch" for b in batches)

    assert report.rejected["FIT stress_level sentinel (negative: not measured)"] == truth.stress_sentinels > 0
    assert (
        report.rejected["FIT respiration_rate sentinel (negative: not measured)"]
        == truth.respiration_sentinels
        > 0
    )
    assert report.skipped["FIT hrv_status_summary (nightly summary of hrv_value)"] == 1


def test_monitoring_timestamp_16_crosses_its_rollover():
    data, truth = fit_wellness(seed=6, hours=1)
    assert truth.timestamp_16_messages > 30
    seconds = truth.heart_rate[0] // 1_000_000 - FIT_EPOCH_S
    assert np.any(np.diff(seconds & 0xFFFF) < 0)  # the low 16 bits do wrap in this file
    batches, report = _decode(data)
    np.testing.assert_array_equal(_one(batches, "heart_rate").ts, truth.heart_rate[0])
    assert not [r for r in report.rejected if "monitoring" in r]


def test_raw_bbi_keeps_good_beats_and_counts_flags():
    data, truth = fit_wellness(seed=7, hours=0.5)
    batches, report = _decode(data)
    rr = _one(batches, "rr_interval")
    np.testing.assert_array_equal(rr.ts, truth.bbi[0])
    np.testing.assert_array_equal(rr.value, truth.bbi[1])
    assert (
        report.rejected["FIT raw_bbi interval flagged low quality by the device"] == truth.bbi_low_quality > 0
    )
    assert report.notes["FIT raw_bbi gap entries"] == truth.bbi_gaps > 0


# -- hr messages (HRM stored data) -------------------------------------------------


def _hr_file(
    anchor_unix_s: int, fraction_s: float, anchor_event_s: float, beats_after_s: list[float]
) -> bytes:
    """An anchor ``hr`` message, then the beats packed 8 per message as 12-bit times."""
    builder = FitFileBuilder(auto_define=True)
    file_id = FileIdMessage()
    file_id.type = FileType.ACTIVITY
    file_id.manufacturer = Manufacturer.GARMIN.value
    file_id.product = 1
    file_id.serial_number = 77
    file_id.time_created = anchor_unix_s * 1000
    builder.add(file_id)
    anchor = HrMessage(local_id=1)
    anchor.timestamp = anchor_unix_s * 1000
    anchor.fractional_timestamp = fraction_s
    anchor.event_timestamp = [anchor_event_s]
    anchor.filtered_bpm = [60]
    builder.add(anchor)
    counts = [round((anchor_event_s + b) * 1024) for b in beats_after_s]
    for first in range(0, len(counts), 8):
        chunk = counts[first : first + 8]
        chunk += [chunk[-1]] * (8 - len(chunk))  # padding repeats the last time
        packed = sum((c & 0xFFF) << (12 * i) for i, c in enumerate(chunk))
        message = HrMessage(local_id=2)
        message.event_timestamp_12 = packed.to_bytes(12, "little")
        message.filtered_bpm = [61 + i for i in range(8)]
        builder.add(message)
    return builder.build().to_bytes()


def test_hr_event_times_accumulate_across_12_bit_rollovers():
    rng = np.random.default_rng(11)
    beats = np.cumsum(rng.uniform(0.5, 1.4, size=21))  # crosses the 4 s wrap several times
    data = _hr_file(1_700_000_000, 0.25, 5000.5, list(beats))
    batches, report = _decode(data)
    hr = _one(batches, "heart_rate")
    start_us = 1_700_000_000_250_000
    expected = [start_us] + [
        start_us + round(round((5000.5 + b) * 1024) * 1e6 / 1024 - 5000.5 * 1e6) for b in beats
    ]
    np.testing.assert_allclose(hr.ts, expected, atol=1)
    assert report.skipped["FIT hr padding (repeated beat time)"] == 3  # 21 beats in 3x8 slots


# -- inputs: folders, zips, detection, errors ---------------------------------------


def _export(tmp_path: Path) -> tuple[list[Path], int]:
    paths, total = [], 0
    for seed in range(3):
        path = tmp_path / f"activity_{seed}.fit"
        total += write_fit_activity(path, seed=seed, minutes=1).rr_ms.size
        paths.append(path)
    return paths, total


def test_folder_of_fit_files_imports_them_all(tmp_path):
    folder = tmp_path / "DI_CONNECT" / "uploads"
    folder.mkdir(parents=True)
    _paths, total = _export(folder)
    (folder / "notes.json").write_text("{}")
    assert detect(tmp_path).name == "garmin_fit"
    report = ReadReport()
    items = list(GarminFit().read(tmp_path, ReadContext(), report))
    assert sum(len(b) for b in items if b.metric == "rr_interval") == total
    assert report.bytes_read == report.bytes_total > 0


def test_zip_of_fit_files_imports_them_all(tmp_path):
    paths, total = _export(tmp_path)
    bundle = tmp_path / "UploadedFiles_0-_Part1.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        for path in paths:
            archive.write(path, f"uploads/{path.name}")
        archive.writestr("uploads/readme.txt", "not FIT")
    assert detect(bundle).name == "garmin_fit"
    report = ReadReport()
    items = list(GarminFit().read(bundle, ReadContext(), report))
    assert sum(len(b) for b in items if b.metric == "rr_interval") == total
    assert report.skipped["zip member that is not a .fit file"] == 1


def test_sniff_needs_fit_content(tmp_path):
    connector = GarminFit()
    data, _ = fit_activity(seed=0, minutes=0.2)
    assert connector.sniff(tmp_path / "renamed.bin", data[:64])
    assert not connector.sniff(tmp_path / "x.fit", b"timestamp,bpm\n")
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("export.xml", "<HealthData/>")
    assert not connector.sniff(other, other.read_bytes()[:64])
    empty = tmp_path / "empty"
    empty.mkdir()
    assert not connector.sniff(empty, b"")


@pytest.mark.parametrize("damage", ["truncated", "crc", "garbage", "empty"])
def test_damaged_fit_raises_connector_error_naming_the_file(tmp_path, damage):
    data, _ = fit_activity(seed=0, minutes=1)
    damaged = {
        "truncated": data[: len(data) // 2],
        "crc": data[:-1] + bytes([data[-1] ^ 0xFF]),
        "garbage": b"\x0e\x10" + b"not a fit file at all" * 4,
        "empty": b"",
    }[damage]
    path = tmp_path / f"{damage}.fit"
    path.write_bytes(damaged)
    with pytest.raises(ConnectorError) as caught:
        list(GarminFit().read(path, ReadContext(), ReadReport()))
    assert caught.value.file == str(path)
    assert path.name in str(caught.value)
    if damage == "truncated":
        assert caught.value.record and caught.value.record.startswith("byte ")


def test_damaged_member_of_a_zip_is_named(tmp_path):
    data, _ = fit_activity(seed=0, minutes=1)
    bundle = tmp_path / "export.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("good.fit", data)
        archive.writestr("sub/bad.fit", data[:100])
    with pytest.raises(ConnectorError) as caught:
        list(GarminFit().read(bundle, ReadContext(), ReadReport()))
    assert caught.value.file == f"{bundle}!sub/bad.fit"


def test_garmin_connect_export_zip_is_garmin_connects_and_fit_names_it(tmp_path):
    inner = tmp_path / "UploadedFiles_0-_Part1.zip"
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("a.fit", fit_activity(seed=0, minutes=0.2)[0])
    outer = tmp_path / "export.zip"
    member = "DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip"
    with zipfile.ZipFile(outer, "w") as archive:
        archive.write(inner, member)
        archive.writestr("DI_CONNECT/DI-Connect-User/user_profile.json", "{}")
    assert detect(outer).name == "garmin_connect"  # the whole export, nested zips too
    with pytest.raises(ConnectorError) as caught:  # --format garmin_fit on it
        list(GarminFit().read(outer, ReadContext(), ReadReport()))
    assert member in str(caught.value) and "garmin_connect" in str(caught.value)
    assert detect(inner).name == "garmin_fit"  # the inner zip itself imports


def test_stored_hr_beats_without_a_named_strap_belong_to_a_paired_hrm():
    batches, _ = _decode(_hr_file(1_700_000_000, 0.0, 100.0, [0.8, 1.6]))
    source = _one(batches, "heart_rate").source
    assert source.kind == "chest_strap"
    assert source.key == "fit:garmin:sn77:hrm"


def test_generators_are_deterministic_for_a_seed():
    assert fit_activity(seed=9, minutes=0.5)[0] == fit_activity(seed=9, minutes=0.5)[0]
    assert fit_activity(seed=9, minutes=0.5)[0] != fit_activity(seed=10, minutes=0.5)[0]
    assert fit_wellness(seed=9, hours=0.2)[0] == fit_wellness(seed=9, hours=0.2)[0]


def test_bluetooth_heart_rate_strap_is_the_beat_source():
    from fit_tool.profile.messages.device_info_message import DeviceInfoMessage
    from fit_tool.profile.messages.hrv_message import HrvMessage
    from fit_tool.profile.profile_type import SourceType

    builder = FitFileBuilder(auto_define=True)
    file_id = FileIdMessage()
    file_id.type = FileType.ACTIVITY
    file_id.manufacturer = Manufacturer.GARMIN.value
    file_id.product = 1
    file_id.serial_number = 42
    file_id.time_created = 1_700_000_000_000
    builder.add(file_id)
    strap = DeviceInfoMessage(local_id=1)
    strap.timestamp = 1_700_000_000_000
    strap.device_index = 1
    strap.source_type = SourceType.BLUETOOTH_LOW_ENERGY
    strap.ble_device_type = 1  # heart rate
    strap.manufacturer = Manufacturer.POLAR_ELECTRO.value
    strap.product = 7
    strap.serial_number = 31337
    builder.add(strap)
    beats = HrvMessage(local_id=2)
    beats.time = [0.8, 0.82, None, None, None]
    builder.add(beats)
    batches, _ = _decode(builder.build().to_bytes())
    rr = _one(batches, "rr_interval")
    assert rr.source.kind == "chest_strap"
    assert "31337" in rr.source.key
    # No timer event and no record: the clock starts at file_id.time_created.
    assert rr.ts.tolist() == [1_700_000_000_800_000, 1_700_000_001_620_000]
