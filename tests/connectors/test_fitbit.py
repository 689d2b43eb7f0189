"""The Fitbit / Google Takeout connector against generated exports and hand-written quirks."""

from __future__ import annotations

import datetime as dt
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from connectors.base import ConnectorError, Episode, ReadContext, ReadReport, SampleBatch
from connectors.fitbit import Fitbit
from connectors.registry import detect
from tests.support.generators.fitbit import FitbitTruth, write_fitbit_export

UTC = dt.UTC


def read(path: Path, tz: str = "UTC") -> tuple[list[SampleBatch], list[Episode], ReadReport]:
    report = ReadReport()
    batches: list[SampleBatch] = []
    episodes: list[Episode] = []
    for item in Fitbit().read(path, ReadContext(tz=tz), report):
        (batches if isinstance(item, SampleBatch) else episodes).append(item)
    return batches, episodes, report


def samples(batches: list[SampleBatch]) -> dict[tuple[str, int], tuple[float, str]]:
    """(metric, UTC µs) -> (value, source key)."""
    found: dict[tuple[str, int], tuple[float, str]] = {}
    for batch in batches:
        for ts, value in zip(batch.ts.tolist(), batch.value.tolist(), strict=True):
            found[(batch.metric, ts)] = (value, batch.source.key)
    return found


def rejected(report: ReadReport, prefix: str) -> int:
    return sum(n for reason, n in report.rejected.items() if reason.startswith(prefix))


@pytest.fixture(scope="module")
def autumn(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, FitbitTruth]:
    """A zipped export across the end of summer time in Berlin (2024-10-27)."""
    path = tmp_path_factory.mktemp("fitbit") / "takeout-20241101.zip"
    return path, write_fitbit_export(path, days=4, seed=5, start=dt.date(2024, 10, 25))


@pytest.fixture(scope="module")
def autumn_read(autumn: tuple[Path, FitbitTruth]):
    return read(autumn[0])


def test_counts_match_the_generated_truth(autumn, autumn_read) -> None:
    _path, truth = autumn
    batches, episodes, report = autumn_read
    counts: Counter[str] = Counter()
    for batch in batches:
        counts[batch.metric] += len(batch)
    assert counts == truth.samples
    assert Counter(e.kind for e in episodes) == truth.episodes
    assert rejected(report, "heart_rate out of plausible bounds") == truth.rejected["heart_rate"]
    assert rejected(report, "stress score not calculated") == truth.rejected["vendor_stress"]
    assert rejected(report, "resting heart rate not computed") == truth.rejected["resting_heart_rate"]
    assert report.skipped["Fitbit file not read: steps-*.json"] == truth.skipped_files


def test_known_values_come_back_at_their_utc_instant_metric_and_source(autumn, autumn_read):
    _path, truth = autumn
    found = samples(autumn_read[0])
    assert len(truth.known) > 10
    for metric, ts_us, value in truth.known:
        assert found[(metric, ts_us)] == (value, "fitbit"), (metric, ts_us)


def test_a_hand_picked_value_round_trips_exactly(tmp_path: Path) -> None:
    folder = tmp_path / "Fitbit" / "Global Export Data"
    folder.mkdir(parents=True)
    (folder / "heart_rate-2024-07-01.json").write_text(
        '[{"dateTime" : "07/01/24 08:15:05", "value" : {"bpm" : 71, "confidence" : 3}}]'
    )
    batches, _episodes, report = read(tmp_path, tz="Europe/Berlin")
    (batch,) = batches
    assert batch.metric == "heart_rate" and batch.source.key == "fitbit"
    assert batch.ts.tolist() == [int(dt.datetime(2024, 7, 1, 6, 15, 5, tzinfo=UTC).timestamp() * 1_000_000)]
    assert batch.value.tolist() == [71.0] and batch.utc_offset_s == 7200
    assert any("from the import's zone option" in note for note in report.notes)


def test_the_profile_zone_is_used_and_reported(autumn_read) -> None:
    notes = autumn_read[2].notes
    assert any("Europe/Berlin from Takeout/Fitbit/Your Profile/Profile.csv" in n for n in notes)


def test_without_a_profile_the_import_zone_is_used(tmp_path: Path) -> None:
    path = tmp_path / "export"
    truth = write_fitbit_export(path, days=2, seed=2, zone="America/New_York", with_profile=False)
    batches, _episodes, report = read(path, tz="America/New_York")
    found = samples(batches)
    for metric, ts_us, value in truth.known:
        assert found[(metric, ts_us)][0] == value
    assert any("America/New_York from the import's zone option" in n for n in report.notes)


# -- daylight saving ---------------------------------------------------------------


def test_fall_back_repeated_hour_is_placed_by_file_order(tmp_path: Path) -> None:
    """02:30 local twice on 2024-10-27 in Berlin: 00:30Z (summer) then 01:30Z (winter)."""
    folder = tmp_path / "Global Export Data"
    folder.mkdir()
    (folder / "heart_rate-2024-10-27.json").write_text(
        '[{"dateTime":"10/27/24 02:30:00","value":{"bpm":60,"confidence":2}},'
        '{"dateTime":"10/27/24 02:59:55","value":{"bpm":61,"confidence":2}},'
        '{"dateTime":"10/27/24 02:00:05","value":{"bpm":62,"confidence":2}},'
        '{"dateTime":"10/27/24 02:30:00","value":{"bpm":63,"confidence":2}},'
        '{"dateTime":"10/27/24 03:10:00","value":{"bpm":64,"confidence":2}}]'
    )
    batches, _e, report = read(tmp_path, tz="Europe/Berlin")
    by_value = {
        v: (t, b.utc_offset_s) for b in batches for t, v in zip(b.ts.tolist(), b.value.tolist(), strict=True)
    }

    def utc(hour: int, minute: int, second: int = 0) -> int:
        return int(dt.datetime(2024, 10, 27, hour, minute, second, tzinfo=UTC).timestamp()) * 1_000_000

    assert by_value[60.0] == (utc(0, 30), 7200)
    assert by_value[61.0] == (utc(0, 59, 55), 7200)
    assert by_value[62.0] == (utc(1, 0, 5), 3600)
    assert by_value[63.0] == (utc(1, 30), 3600)
    assert by_value[64.0] == (utc(2, 10), 3600)
    assert any("second pass" in note for note in report.notes)


def test_spring_forward_gap_time_is_rejected_with_file_and_record(tmp_path: Path) -> None:
    (tmp_path / "heart_rate-2024-03-31.json").write_text(
        '[{"dateTime":"03/31/24 01:59:55","value":{"bpm":60,"confidence":2}},'
        '{"dateTime":"03/31/24 02:30:00","value":{"bpm":61,"confidence":2}},'
        '{"dateTime":"03/31/24 03:00:05","value":{"bpm":62,"confidence":2}}]'
    )
    batches, _e, report = read(tmp_path / "heart_rate-2024-03-31.json", tz="Europe/Berlin")
    assert sorted(v for b in batches for v in b.value.tolist()) == [60.0, 62.0]
    (reason,) = [r for r in report.rejected if r.startswith("local time that does not exist")]
    assert "heart_rate-2024-03-31.json" in reason and "record 2" in reason
    gap_closed = sorted(t for b in batches for t in b.ts.tolist())
    assert gap_closed[1] - gap_closed[0] == 10 * 1_000_000  # 01:59:55 CET -> 03:00:05 CEST


def test_sleep_stages_across_the_autumn_change_keep_elapsed_time(autumn_read) -> None:
    episodes = [e for e in autumn_read[1] if e.kind != "in_bed"]
    for episode in episodes:
        assert episode.end > episode.start
    # Stages are contiguous in real (UTC) time, also over the repeated hour.
    ordered = sorted(episodes, key=lambda e: e.start)
    in_bed = sorted((e for e in autumn_read[1] if e.kind == "in_bed"), key=lambda e: e.start)
    for night in in_bed:
        stages = [e for e in ordered if night.start <= e.start < night.end]
        for before, after in zip(stages, stages[1:], strict=False):
            assert before.end == after.start


# -- idempotency, detection ------------------------------------------------------------


def test_reading_twice_gives_the_same_identities(autumn) -> None:
    first, second = read(autumn[0]), read(autumn[0])
    assert samples(first[0]) == samples(second[0])
    assert {(e.kind, e.start) for e in first[1]} == {(e.kind, e.start) for e in second[1]}


def test_detected_without_format_zipped_unzipped_and_single_files(autumn, tmp_path) -> None:
    assert detect(autumn[0]).name == "fitbit"
    with zipfile.ZipFile(autumn[0]) as archive:
        archive.extractall(tmp_path)
    assert detect(tmp_path).name == "fitbit"
    assert detect(tmp_path / "Takeout").name == "fitbit"
    google = next((tmp_path / "Takeout/Fitbit/Physical Activity_GoogleData").glob("*.csv"))
    assert detect(google).name == "fitbit"
    plain = tmp_path / "hr.csv"
    plain.write_text("timestamp,bpm\n2024-01-01T00:00:00Z,60\n")
    assert detect(plain).name == "hr_csv"


# -- malformed input ----------------------------------------------------------------


def test_missing_required_column_names_file_and_header_line(tmp_path: Path) -> None:
    folder = tmp_path / "Heart Rate Variability"
    folder.mkdir()
    (folder / "Heart Rate Variability Details - 2024-05-01.csv").write_text(
        "timestamp,coverage\n2024-05-01T01:00:00,0.9\n"
    )
    with pytest.raises(ConnectorError) as error:
        read(tmp_path)
    assert "Heart Rate Variability Details - 2024-05-01.csv" in str(error.value)
    assert "'rmssd'" in str(error.value) and error.value.line == 1


def test_bad_dates_and_offsets_are_counted_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "heart_rate_2024-05-01.csv").write_text(
        "timestamp,beats per minute\n2024-05-01T00:00:00Z,60\n2024-02-30T00:00:05Z,61\n"
        "2024-05-01T00:00:10+25:00,62\n2024-05-01T00:00:15,63\n2024-05-01T00:00:20Z,64\n"
    )
    batches, _e, report = read(tmp_path)
    assert sorted(v for b in batches for v in b.value.tolist()) == [60.0, 64.0]
    (reason,) = report.rejected
    assert "heart_rate_2024-05-01.csv, first at line 3" in reason
    assert report.rejected[reason] == 3


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "Stress Score").mkdir()
    (tmp_path / "Stress Score" / "Stress Score.csv").write_bytes(b"")
    (tmp_path / "heart_rate-2024-05-01.json").write_text("[]")
    with pytest.raises(ConnectorError, match="Stress Score.csv: empty file"):
        read(tmp_path)


def test_truncated_json_names_file_line_and_record(tmp_path: Path) -> None:
    (tmp_path / "heart_rate-2024-05-01.json").write_text(
        '[{"dateTime":"05/01/24 00:00:00","value":{"bpm":60,"confidence":2}},\n'
        '{"dateTime":"05/01/24 00:00:05","value":{"bpm":6'
    )
    with pytest.raises(ConnectorError) as error:
        read(tmp_path / "heart_rate-2024-05-01.json")
    message = str(error.value)
    assert "heart_rate-2024-05-01.json" in message and "truncated" in message
    assert error.value.line == 2 and error.value.record == "record 2"


def test_wrong_encoding_is_an_error_naming_the_line(tmp_path: Path) -> None:
    (tmp_path / "Stress Score").mkdir()
    (tmp_path / "Stress Score" / "Stress Score.csv").write_bytes(
        "DATE,STRESS_SCORE,CALCULATION_FAILED\n2024-05-01T00:00:00,80,false\n"
        "2024-05-02T00:00:00,81,falsch\u00e9\n".encode("latin-1")
    )
    (tmp_path / "heart_rate-2024-05-01.json").write_text("[]")
    with pytest.raises(ConnectorError, match="not UTF-8") as error:
        read(tmp_path)
    assert error.value.line == 3


def test_daily_summary_is_kept_only_for_nights_without_details(autumn, autumn_read) -> None:
    report = autumn_read[2]
    nights_with_details = 4 - sum(1 for i in range(4) if i % 3 == 2)
    assert nights_with_details == 3  # one night has only its daily summary
    assert (
        report.skipped["Fitbit daily HRV summary of a night whose details were read"] == nights_with_details
    )
    rmssd = np.concatenate([b.value for b in autumn_read[0] if b.metric == "hrv_rmssd"])
    assert rmssd.min() >= 20 and rmssd.max() <= 70


def test_hrv_details_through_the_repeated_hour_stay_five_minutes_apart(autumn_read) -> None:
    """The night of 26-27 October 2024 passes 02:00-03:00 twice; no two values may collide."""
    stamps = sorted(t for b in autumn_read[0] if b.metric == "hrv_rmssd" for t in b.ts.tolist())
    night_start = int(dt.datetime(2024, 10, 26, 21, 30, tzinfo=UTC).timestamp()) * 1_000_000
    night = [t for t in stamps if night_start <= t < night_start + 8 * 3600 * 1_000_000]
    assert len(night) == 84
    assert {b - a for a, b in zip(night, night[1:], strict=False)} == {300 * 1_000_000}


def test_an_unknown_profile_zone_is_counted_and_the_import_zone_used(tmp_path: Path) -> None:
    (tmp_path / "Your Profile").mkdir()
    (tmp_path / "Your Profile" / "Profile.csv").write_text("id,timezone\nX,Mars/Olympus\n")
    (tmp_path / "heart_rate-2024-07-01.json").write_text(
        '[{"dateTime":"07/01/24 12:00:00","value":{"bpm":70,"confidence":2}}]'
    )
    batches, _e, report = read(tmp_path, tz="Asia/Tokyo")
    assert batches[0].utc_offset_s == 9 * 3600
    assert (
        report.rejected[
            "unknown time zone 'Mars/Olympus' in the profile (Your Profile/Profile.csv, first at line 2)"
        ]
        == 1
    )
    assert any("Asia/Tokyo from the import's zone option" in n for n in report.notes)
