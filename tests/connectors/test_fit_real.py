"""Garmin FIT connector against real third-party files in ../shared/data/fit.

Expectations are computed here from the files (decoded with fitdecode
directly, or from the CSVs python-fitparse made of them), never hard-coded.
"""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from pathlib import Path

import fitdecode
import numpy as np
import pytest

from connectors.base import (
    RR_BOUNDS_MS,
    NothingReadable,
    ReadContext,
    ReadReport,
    SampleBatch,
    to_epoch_us,
)
from connectors.garmin_fit import FIT_EPOCH_S, GarminFit, expand_timestamp_16

ACTIVITIES = ["garmin-edge-820-bike", "garmin-fenix-5-run", "garmin-fenix-5-walk"]


def _read(path: Path) -> tuple[list[SampleBatch], ReadReport]:
    report = ReadReport()
    return list(GarminFit().read(path, ReadContext(), report)), report


def _messages(path: Path, number: int) -> list[fitdecode.FitDataMessage]:
    with fitdecode.FitReader(path) as reader:
        return [f for f in reader if isinstance(f, fitdecode.FitDataMessage) and f.global_mesg_num == number]


def _valid_hrv_intervals(path: Path) -> int:
    low, high = RR_BOUNDS_MS
    count = 0
    for message in _messages(path, 78):
        values = message.get_value("time")
        values = values if isinstance(values, tuple) else (values,)
        count += sum(1 for v in values if v is not None and low <= v * 1000 <= high)
    return count


def _fit_files(shared_data: Path) -> list[Path]:
    return sorted((shared_data / "fit").glob("*.fit"))


def test_every_real_file_yields_its_valid_hrv_intervals(shared_data):
    files = _fit_files(shared_data)
    assert files
    for path in files:
        expected = _valid_hrv_intervals(path)
        try:
            batches, _report = _read(path)
        except NothingReadable:
            # A file with nothing Vagus stores (e.g. monitoring without heart rate) is a
            # failure with a reason, never a silent empty success; it has no intervals either.
            assert expected == 0, path.name
            continue
        got = sum(len(b) for b in batches if b.metric == "rr_interval")
        assert got == expected, path.name


@pytest.mark.parametrize("name", ACTIVITIES)
def test_record_heart_rate_matches_the_fitparse_csv(shared_data, name):
    rows = list(csv.DictReader((shared_data / "fit" / f"{name}-records.csv").open()))
    assert rows and all(" PDT " in r["timestamp"] for r in rows)
    pdt = dt.timezone(dt.timedelta(hours=-7))
    expected = {
        (
            to_epoch_us(
                dt.datetime.strptime(r["timestamp"].replace(" PDT", ""), "%a %b %d %H:%M:%S %Y").replace(
                    tzinfo=pdt
                )
            ),
            float(r["heart_rate"]),
        )
        for r in rows
        if r["heart_rate"]
    }
    batches, _ = _read(shared_data / "fit" / f"{name}.fit")
    heart = [b for b in batches if b.metric == "heart_rate"]
    got = {(int(t), float(v)) for b in heart for t, v in zip(b.ts, b.value, strict=True)}
    assert got == expected
    # The CSV is in PDT; the activity's local_timestamp must give the same offset.
    assert {b.utc_offset_s for b in batches} == {-7 * 3600}


@pytest.mark.parametrize("name", ACTIVITIES)
def test_beats_start_at_the_recording_start_and_stay_on_the_record_clock(shared_data, name):
    path = shared_data / "fit" / f"{name}.fit"
    batches, report = _read(path)
    rr = next(b for b in batches if b.metric == "rr_interval")
    starts = [
        m
        for m in _messages(path, 21)
        if m.get_value("event") == "timer" and m.get_value("event_type") == "start"
    ]
    start_us = to_epoch_us(starts[0].get_value("timestamp"))
    assert rr.ts[0] == start_us + round(rr.value[0] * 1000)
    assert np.all(np.diff(rr.ts) > 0)
    records = [to_epoch_us(m.get_value("timestamp")) for m in _messages(path, 20)]
    assert abs(int(rr.ts[-1]) - max(records)) < 30_000_000  # ends near the last record
    assert not report.notes  # no beats lost in these files: no re-anchoring


def test_sensor_sources_and_a_key_stable_across_files(shared_data):
    fit = shared_data / "fit"
    run, _ = _read(fit / "garmin-fenix-5-run.fit")
    walk, _ = _read(fit / "garmin-fenix-5-walk.fit")
    bike, _ = _read(fit / "garmin-edge-820-bike.fit")
    strap = {b.source for b in run} | {b.source for b in walk}
    assert len(strap) == 1 and strap.pop().kind == "chest_strap"  # the HRM-Run
    # The Edge got its beats from the Fenix 5's optical sensor (relayed over
    # ANT+ as "OHR"): a watch, keyed like the Fenix 5 that wrote the other files.
    fenix_serial = _messages(fit / "garmin-fenix-5-run.fit", 0)[0].get_value("serial_number")
    bike_source = {b.source for b in bike}
    assert len(bike_source) == 1
    source = bike_source.pop()
    assert source.kind == "watch"
    assert str(fenix_serial) in source.key


def test_hr_messages_give_per_beat_heart_rate(shared_data):
    path = shared_data / "fit" / "event_timestamp.fit"
    batches, report = _read(path)
    heart = [b for b in batches if b.metric == "heart_rate"]
    hr_messages = _messages(path, 132)
    total = sum(len(b) for b in heart)
    assert total > 6 * len(hr_messages)  # eight beats per packed message, some padding
    session = _messages(path, 18)[0]
    end_us = to_epoch_us(session.get_value("timestamp"))
    for batch in heart:
        assert np.all(np.diff(batch.ts) > 0)
        assert batch.ts[-1] <= end_us + 60_000_000
        # Beat spacing agrees with the strap's own filtered bpm.
        instant = 60e6 / np.diff(batch.ts)
        assert np.median(np.abs(instant - batch.value[1:])) < 5
    assert {b.utc_offset_s for b in batches} == {-4 * 3600}  # activity local_timestamp
    assert report.skipped["FIT hr padding (repeated beat time)"] > 0
    # Stored hr beats come from the swim strap paired with the FR735XT.
    assert {b.source.kind for b in heart} == {"chest_strap"}


def test_monitoring_file_timestamp_16(shared_data):
    path = shared_data / "fit" / "MonitoringFile.fit"
    report = ReadReport()
    with pytest.raises(NothingReadable):  # a vivofit file: steps and activity, no heart rate
        list(GarminFit().read(path, ReadContext(), report))
    monitoring = _messages(path, 55)
    assert report.skipped["FIT monitoring without heart_rate"] == len(monitoring)
    # timestamp_16 values rebuilt from the last full timestamp stay in the
    # file's span (time_created .. the device_info written at sync) and ordered.
    last_full, rebuilt = None, []
    with fitdecode.FitReader(path) as reader:
        for frame in reader:
            if not isinstance(frame, fitdecode.FitDataMessage):
                continue
            if frame.has_field("timestamp"):
                last_full = frame.get_raw_value("timestamp")
            elif frame.global_mesg_num == 55 and frame.has_field("timestamp_16"):
                rebuilt.append(expand_timestamp_16(last_full, frame.get_raw_value("timestamp_16")))
    assert len(rebuilt) > 100
    created = _messages(path, 0)[0].get_raw_value("time_created")
    synced = _messages(path, 23)[0].get_raw_value("timestamp")
    assert created <= min(rebuilt) and max(rebuilt) <= synced
    assert np.all(np.diff(rebuilt) >= 0)
    assert dt.datetime.fromtimestamp(min(rebuilt) + FIT_EPOCH_S, dt.UTC).year == 2014


def test_a_zip_and_a_folder_of_the_real_files_import_them_all(shared_data, tmp_path):
    files = _fit_files(shared_data)
    expected = sum(_valid_hrv_intervals(p) for p in files)
    bundle = tmp_path / "garmin_export.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        for path in files:
            archive.write(path, f"DI_CONNECT/DI-Connect-Fitness-Uploaded-Files/{path.name}")
    for source in (bundle, shared_data / "fit"):
        batches, _ = _read(source)
        assert sum(len(b) for b in batches if b.metric == "rr_interval") == expected
