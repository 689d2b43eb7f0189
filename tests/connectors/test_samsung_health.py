"""The Samsung Health connector against generated exports and hand-written quirks."""

from __future__ import annotations

import datetime as dt
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from connectors.base import ConnectorError, ReadContext, ReadReport, SampleBatch
from connectors.registry import detect
from connectors.samsung_health import SamsungHealth
from tests.support.generators.samsung import HR_PREFIX, SamsungTruth, write_samsung_export

HEADER = (
    ",".join(HR_PREFIX + c for c in ("start_time", "time_offset", "heart_rate", "deviceuuid", "pkg_name"))
    + ","
)
META = "com.samsung.shealth.tracker.heart_rate,6315003,5\n"


def read(path: Path) -> tuple[list[SampleBatch], ReadReport]:
    report = ReadReport()
    return list(SamsungHealth().read(path, ReadContext(), report)), report  # type: ignore[arg-type]


def values(batches: list[SampleBatch]) -> dict[tuple[str, int], tuple[float, str]]:
    return {
        (b.metric, t): (v, b.source.key)
        for b in batches
        for t, v in zip(b.ts.tolist(), b.value.tolist(), strict=True)
    }


def hr_file(folder: Path, rows: str, header: str = HEADER, meta: str = META) -> Path:
    path = folder / "com.samsung.shealth.tracker.heart_rate.20240101000000.csv"
    path.write_text(meta + header + "\n" + rows)
    return path


@pytest.fixture(scope="module")
def spring(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SamsungTruth]:
    """A zipped export across the start of summer time in Berlin (2024-03-31)."""
    path = tmp_path_factory.mktemp("samsung") / "samsunghealth.zip"
    return path, write_samsung_export(path, days=2, seed=3)


@pytest.fixture(scope="module")
def spring_read(spring):
    return read(spring[0])


def test_counts_sources_and_rejections_match_the_truth(spring, spring_read) -> None:
    _path, truth = spring
    batches, report = spring_read
    counts: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    for batch in batches:
        counts[batch.metric] += len(batch)
        if batch.metric == "heart_rate":
            sources[batch.source.key] += len(batch)
    assert counts == truth.samples and sources == truth.by_source
    offsets = [r for r in report.rejected if r.startswith("impossible or unparseable time_off")]
    dates = [r for r in report.rejected if r.startswith("impossible or unparseable start_time")]
    assert [report.rejected[r] for r in offsets] == [truth.rejected["offset"]]
    assert [report.rejected[r] for r in dates] == [truth.rejected["date"]]
    assert "heart_rate.20241101120000.csv, first at line" in offsets[0]
    assert (
        report.skipped["Samsung Health file not read: com.samsung.shealth.tracker.pedometer_step_count"] == 1
    )


def test_known_values_round_trip_with_their_source(spring, spring_read) -> None:
    found = values(spring_read[0])
    for metric, ts_us, value, key in spring[1].known:
        assert found[(metric, ts_us)] == (value, key)


def test_binned_rows_give_per_minute_values_not_the_row_mean(spring, spring_read) -> None:
    _path, truth = spring
    assert spring_read[1].notes["Samsung Health binning file read"] == truth.binned_rows + 48


def test_device_profile_names_the_sources(spring_read) -> None:
    kinds = {(b.source.name, b.source.kind) for b in spring_read[0]}
    assert kinds == {("Galaxy Watch6", "watch"), ("Galaxy S23", "phone")}


def test_daylight_saving_change_keeps_utc_and_splits_offsets(spring_read) -> None:
    batches = [b for b in spring_read[0] if b.metric == "heart_rate" and b.source.kind == "watch"]
    change = int(dt.datetime(2024, 3, 31, 1, 0, tzinfo=dt.UTC).timestamp()) * 1_000_000
    for batch in batches:
        if batch.utc_offset_s == 3600:
            assert batch.ts.max() < change
        else:
            assert batch.utc_offset_s == 7200 and batch.ts.min() >= change
    # Ten-minute rows on the UTC clock: no hour lost or doubled at the change.
    stamps = sorted(t for b in batches for t in b.ts.tolist())
    steps = {b - a for a, b in zip(stamps, stamps[1:], strict=False)}
    assert max(steps) <= 10 * 60 * 1_000_000


def test_reading_twice_is_identical(spring) -> None:
    assert values(read(spring[0])[0]) == values(read(spring[0])[0])


def test_detection_zipped_unzipped_and_lone_csv(spring, tmp_path: Path) -> None:
    assert detect(spring[0]).name == "samsung_health"
    with zipfile.ZipFile(spring[0]) as archive:
        archive.extractall(tmp_path)
    assert detect(tmp_path).name == "samsung_health"
    lone = next(tmp_path.rglob("com.samsung.shealth.stress.*.csv"))
    assert detect(lone).name == "samsung_health"
    plain = tmp_path / "heart_rate.csv"
    plain.write_text("timestamp,bpm\n2024-01-01T00:00:00Z,60\n")
    assert detect(plain).name == "hr_csv"


def test_columns_found_by_name_in_any_order_and_case(tmp_path: Path) -> None:
    header = "TIME_OFFSET,Heart_Rate,extra_column,START_TIME,"
    path = hr_file(tmp_path, "UTC+0900,64.0,x,2024-05-01 00:00:00.000,\n", header=header)
    (batch,), _report = read(path)
    assert batch.value.tolist() == [64.0] and batch.utc_offset_s == 9 * 3600
    assert batch.ts.tolist() == [int(dt.datetime(2024, 5, 1, tzinfo=dt.UTC).timestamp()) * 1_000_000]
    assert batch.source.key == "samsung_health:unknown:unknown"


def test_missing_required_column_names_the_file_and_header_line(tmp_path: Path) -> None:
    path = hr_file(
        tmp_path,
        "2024-05-01 00:00:00.000,64,\n",
        header="com.samsung.health.heart_rate.start_time,com.samsung.health.heart_rate.heart_rate,",
    )
    with pytest.raises(ConnectorError, match="missing required column 'time_offset'") as error:
        read(path)
    assert error.value.line == 2 and "heart_rate.20240101000000.csv" in str(error.value)


def test_bad_offsets_and_dates_are_counted_by_line(tmp_path: Path) -> None:
    rows = (
        "2024-05-01 00:00:00.000,UTC+0900,60,d,p,\n"
        "2024-05-01 00:01:00.000,UTC+0975,61,d,p,\n"  # impossible minutes
        "2024-05-01 00:02:00.000,UTC-1500,62,d,p,\n"  # beyond -14 h
        "2024-13-01 00:03:00.000,UTC+0900,63,d,p,\n"  # month 13
        "2024-05-01 00:04:00.000,UTC+0900,64,d,p,\n"
    )
    batches, report = read(hr_file(tmp_path, rows))
    assert sorted(v for b in batches for v in b.value.tolist()) == [60.0, 64.0]
    assert sorted(report.rejected.values()) == [1, 2]
    assert any("time_offset" in r and "first at line 4" in r for r in report.rejected)
    assert any("start_time" in r and "first at line 6" in r for r in report.rejected)


def test_empty_file_and_wrong_encoding_are_errors(tmp_path: Path) -> None:
    empty = tmp_path / "a" / "com.samsung.shealth.stress.20240101000000.csv"
    empty.parent.mkdir()
    empty.write_bytes(b"")
    with pytest.raises(ConnectorError, match="empty file"):
        read(empty.parent)
    latin = hr_file(tmp_path, "2024-05-01 00:00:00.000,UTC+0900,60,Ger\u00e4t,p,\n")
    latin.write_bytes(latin.read_text().encode("latin-1"))
    with pytest.raises(ConnectorError, match="not UTF-8") as error:
        read(latin)
    assert error.value.line == 3


def test_truncated_binning_file_is_counted_and_the_row_value_kept(tmp_path: Path) -> None:
    header = HEADER + "com.samsung.health.heart_rate.binning_data,"
    hr_file(tmp_path, "2024-05-01 00:00:00.000,UTC+0900,60,d,p,abc.binning_data.json,\n", header=header)
    bins = tmp_path / "jsons" / "com.samsung.shealth.tracker.heart_rate" / "a"
    bins.mkdir(parents=True)
    (bins / "abc.binning_data.json").write_text('[{"heart_rate": 61.0, "start_time": 17')
    batches, report = read(tmp_path)
    assert [v for b in batches for v in b.value.tolist()] == [60.0]
    (reason,) = report.rejected
    assert reason.startswith("unreadable binning file (truncated") and "first at line 3" in reason
