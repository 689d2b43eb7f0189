"""The Oura connector: the pure record mapping, then JSON and CSV exports."""

from __future__ import annotations

import datetime as dt
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from connectors.base import ConnectorError, Episode, ReadContext, ReadReport, SampleBatch
from connectors.oura import (
    RING,
    Oura,
    RecordProblem,
    map_record,
    record_kind,
    sleep_period,
)
from connectors.registry import detect
from tests.support.generators.oura import OuraTruth, write_oura_export

UTC = dt.UTC


def us(*args: int, tz: dt.tzinfo = UTC) -> int:
    return int(dt.datetime(*args, tzinfo=tz).timestamp() * 1_000_000)


# -- the mapping, on records as the API v2 returns them ------------------------------


def test_heart_rate_record_maps_to_one_sample_with_its_context() -> None:
    mapped = map_record({"bpm": 61, "source": "rest", "timestamp": "2024-01-15T08:00:00+00:00"})
    (sample,) = mapped.samples
    assert (sample.metric, sample.ts_us, sample.value, sample.utc_offset_s, sample.context) == (
        "heart_rate",
        us(2024, 1, 15, 8),
        61.0,
        0,
        "rest",
    )


def test_sleep_period_series_nulls_and_summaries() -> None:
    record = {
        "type": "long_sleep",
        "bedtime_start": "2024-01-14T23:00:00+01:00",
        "bedtime_end": "2024-01-14T23:20:00+01:00",
        "average_hrv": 40,
        "lowest_heart_rate": 48,
        "heart_rate": {
            "interval": 300.0,
            "items": [55, None, 53, 52],
            "timestamp": "2024-01-14T23:00:00.000+01:00",
        },
        "hrv": {
            "interval": 300.0,
            "items": [None, 41.0, 39.0, None],
            "timestamp": "2024-01-14T23:00:00.000+01:00",
        },
        "sleep_phase_5_min": "4221",
    }
    mapped = sleep_period(record)
    by_metric: dict[str, list[tuple[int, float]]] = {}
    for sample in mapped.samples:
        by_metric.setdefault(sample.metric, []).append((sample.ts_us, sample.value))
        assert sample.utc_offset_s == 3600
    assert by_metric["heart_rate"] == [
        (us(2024, 1, 14, 22, 0), 55.0),
        (us(2024, 1, 14, 22, 10), 53.0),
        (us(2024, 1, 14, 22, 15), 52.0),
    ]
    assert by_metric["hrv_rmssd"] == [(us(2024, 1, 14, 22, 5), 41.0), (us(2024, 1, 14, 22, 10), 39.0)]
    assert by_metric["resting_heart_rate"] == [(us(2024, 1, 14, 22, 20), 48.0)]
    assert mapped.skipped["Oura heart_rate item without a value (null)"] == 1
    assert mapped.skipped["Oura hrv item without a value (null)"] == 2
    assert mapped.skipped["Oura average_hrv of a period whose hrv items were read"] == 1
    stages = [(e.kind, int((e.end - e.start).total_seconds())) for e in mapped.episodes]
    assert stages == [("in_bed", 1200), ("awake", 300), ("asleep_core", 600), ("asleep_deep", 300)]
    assert all(e.source == RING for e in mapped.episodes)


def test_readiness_is_placed_at_noon_of_its_day_in_the_record_offset() -> None:
    mapped = map_record(
        {
            "day": "2024-03-31",
            "score": 77,
            "temperature_deviation": 0.1,
            "timestamp": "2024-03-31T00:00:00+01:00",
            "contributors": {"hrv_balance": 70},
        }
    )
    (sample,) = mapped.samples
    assert (sample.metric, sample.ts_us, sample.value) == ("vendor_readiness", us(2024, 3, 31, 11), 77.0)


@pytest.mark.parametrize(
    "record, problem",
    [
        ({"bpm": 60, "source": "awake", "timestamp": "2024-01-15T08:00:00"}, "without a UTC offset"),
        ({"bpm": 60, "source": "awake", "timestamp": "2024-02-30T08:00:00Z"}, "unparseable"),
        ({"bpm": 60, "source": "awake", "timestamp": "2024-01-15T08:00:00+25:00"}, "unparseable"),
        ({"bpm": "x", "source": "awake", "timestamp": "2024-01-15T08:00:00Z"}, "not a number"),
        ({"bedtime_start": "2024-01-15T08:00:00Z", "bedtime_end": "2024-01-15T07:00:00Z"}, "ends before"),
    ],
)
def test_malformed_records_raise_a_named_problem(record, problem) -> None:
    with pytest.raises(RecordProblem, match=problem):
        map_record(record)


def test_other_records_are_not_claimed() -> None:
    assert record_kind({"day": "2024-01-01", "score": 80, "steps": 1000}) is None
    assert map_record({"steps": 1}).skipped["Oura record of a kind not read"] == 1


# -- files ---------------------------------------------------------------------------


def read(path: Path) -> tuple[list[SampleBatch], list[Episode], ReadReport]:
    report = ReadReport()
    items = list(Oura().read(path, ReadContext(tz="Europe/Berlin"), report))
    return (
        [i for i in items if isinstance(i, SampleBatch)],
        [i for i in items if isinstance(i, Episode)],
        report,
    )


@pytest.fixture(scope="module", params=["json", "csv"])
def export(request, tmp_path_factory) -> tuple[Path, OuraTruth]:
    path = tmp_path_factory.mktemp("oura") / f"oura-{request.param}.zip"
    return path, write_oura_export(path, days=4, seed=9, layout=request.param)


def test_counts_and_known_values_round_trip(export) -> None:
    path, truth = export
    batches, episodes, report = read(path)
    counts: Counter[str] = Counter()
    found = {}
    for batch in batches:
        counts[batch.metric] += len(batch)
        assert batch.source == RING
        for t, v in zip(batch.ts.tolist(), batch.value.tolist(), strict=True):
            found[(batch.metric, t)] = v
    assert counts == truth.samples
    assert Counter(e.kind for e in episodes) == truth.episodes
    for metric, ts_us, value in truth.known:
        assert found[(metric, ts_us)] == value
    nulls = sum(n for r, n in report.skipped.items() if "without a value (null)" in r)
    assert nulls == truth.null_items and not report.rejected


def test_night_across_the_autumn_change_lasts_its_real_eight_hours(export) -> None:
    _b, episodes, _r = read(export[0])
    nights = [
        e
        for e in episodes
        if e.kind == "in_bed" and e.start.hour >= 22 and e.start.date() == dt.date(2024, 10, 26)
    ]
    (night,) = nights
    assert night.start.utcoffset() == dt.timedelta(hours=2)
    assert night.end.utcoffset() == dt.timedelta(hours=1)
    assert night.end - night.start == dt.timedelta(hours=8)
    stages = sorted(
        (e for e in episodes if e.kind != "in_bed" and night.start <= e.start < night.end),
        key=lambda e: e.start,
    )
    assert stages[0].start == night.start and stages[-1].end == night.end
    for before, after in zip(stages, stages[1:], strict=False):
        assert before.end == after.start


def test_reimport_reads_the_same_identities(export) -> None:
    first, second = read(export[0]), read(export[0])
    key = lambda b: {(x.metric, t) for x in b for t in x.ts.tolist()}  # noqa: E731
    assert key(first[0]) == key(second[0])


def test_detection_zipped_unzipped_and_lone_files(export, tmp_path) -> None:
    path, _truth = export
    assert detect(path).name == "oura"
    with zipfile.ZipFile(path) as archive:
        archive.extractall(tmp_path)
    assert detect(tmp_path).name == "oura"
    lone = next(p for p in tmp_path.rglob("*") if p.name in ("sleep.json", "sleepmodel.csv"))
    assert detect(lone).name == "oura"


# -- malformed files -----------------------------------------------------------------


def test_truncated_json_names_the_file_and_record(tmp_path: Path) -> None:
    path = tmp_path / "heartrate.json"
    path.write_text(
        '{"data": [{"bpm": 60, "source": "awake", "timestamp": '
        '"2024-01-15T08:00:00+00:00"},\n{"bpm": 61, "source": "aw'
    )
    with pytest.raises(ConnectorError, match="truncated") as error:
        read(path)
    assert "heartrate.json" in str(error.value) and error.value.line == 2


def test_bad_times_are_counted_with_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "App Data"
    folder.mkdir()
    (folder / "heartrate.csv").write_text(
        "timestamp;bpm;source\n2024-01-15T08:00:00+00:00;60;awake\n"
        "2024-01-15T08:05:00;61;awake\n2024-01-15T08:10:00+25:00;62;awake\n"
        "2024-01-15T08:15:00+00:00;63;rest\n"
    )
    batches, _e, report = read(tmp_path)
    assert sorted(v for b in batches for v in b.value.tolist()) == [60.0, 63.0]
    assert report.rejected["timestamp without a UTC offset (App Data/heartrate.csv, first at line 3)"] == 1
    assert report.rejected["unparseable timestamp (App Data/heartrate.csv, first at line 4)"] == 1


def test_missing_required_column_empty_file_and_encoding(tmp_path: Path) -> None:
    (tmp_path / "sleepmodel.csv").write_text("id;bedtime_start;type\n1;2024-01-15T08:00:00Z;x\n")
    with pytest.raises(ConnectorError, match="missing required column 'bedtime_end'") as error:
        read(tmp_path / "sleepmodel.csv")
    assert error.value.line == 1
    (tmp_path / "dailyreadiness.csv").write_bytes(b"")
    with pytest.raises(ConnectorError, match="empty file"):
        read(tmp_path / "dailyreadiness.csv")
    (tmp_path / "heartrate.csv").write_bytes(
        "timestamp;bpm;source\n2024-01-15T08:00:00Z;60;\u00e9veil\n".encode("cp1252")
    )
    with pytest.raises(ConnectorError, match="not UTF-8") as error:
        read(tmp_path / "heartrate.csv")
    assert error.value.line == 2
