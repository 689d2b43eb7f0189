"""The WHOOP connector against generated exports (two column versions) and quirks."""

from __future__ import annotations

import datetime as dt
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from connectors.base import ConnectorError, Episode, ReadContext, ReadReport, SampleBatch
from connectors.registry import detect
from connectors.whoop import Whoop
from tests.support.generators.whoop import WhoopTruth, write_whoop_export

UTC = dt.UTC
HEADER = (
    "Cycle start time,Cycle end time,Cycle timezone,Recovery score %,"
    "Resting heart rate (bpm),Heart rate variability (ms),Wake onset\n"
)


def read(path: Path) -> tuple[list[SampleBatch], list[Episode], ReadReport]:
    report = ReadReport()
    items = list(Whoop().read(path, ReadContext(), report))
    return (
        [i for i in items if isinstance(i, SampleBatch)],
        [i for i in items if isinstance(i, Episode)],
        report,
    )


def us(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=UTC).timestamp() * 1_000_000)


@pytest.fixture(scope="module", params=[1, 2])
def export(request, tmp_path_factory) -> tuple[Path, WhoopTruth]:
    """Four cycles across the start of summer time in Berlin, zipped, in each column version."""
    path = tmp_path_factory.mktemp("whoop") / f"whoop-v{request.param}.zip"
    return path, write_whoop_export(path, days=4, seed=4, version=request.param)


def test_counts_and_known_values_round_trip(export) -> None:
    path, truth = export
    batches, episodes, report = read(path)
    counts: Counter[str] = Counter()
    found = {}
    for batch in batches:
        counts[batch.metric] += len(batch)
        assert batch.source.key == "whoop"
        for t, v in zip(batch.ts.tolist(), batch.value.tolist(), strict=True):
            found[(batch.metric, t)] = v
    assert counts == truth.samples
    assert len(episodes) == truth.episodes and {e.kind for e in episodes} == {"in_bed"}
    for metric, ts_us, value in truth.known:
        assert found[(metric, ts_us)] == value
    assert report.skipped["WHOOP cycle without vendor_recovery (not scored)"] == truth.not_scored == 1
    assert not report.rejected


def test_rmssd_is_never_stored_as_sdnn(export) -> None:
    batches, _e, _r = read(export[0])
    assert "hrv_sdnn" not in {b.metric for b in batches}
    assert any(b.metric == "hrv_rmssd" for b in batches)


def test_cycle_timezone_decides_each_rows_instant_across_dst(tmp_path: Path) -> None:
    (tmp_path / "physiological_cycles.csv").write_text(
        HEADER
        + "2024-03-30 23:10:00,2024-03-31 23:05:00,UTC+01:00,61,52,70,2024-03-31 07:30:00\n"
        + "2024-03-31 23:05:00,,UTC+02:00,72,50,80,2024-04-01 07:00:00\n"
    )
    batches, _e, _r = read(tmp_path / "physiological_cycles.csv")
    recovery = {
        b.utc_offset_s: (b.ts.tolist(), b.value.tolist()) for b in batches if b.metric == "vendor_recovery"
    }
    # The first row's times are all in UTC+01:00 (its cycle's zone), also past the change.
    assert recovery[3600] == ([us(2024, 3, 31, 6, 30)], [61.0])
    assert recovery[7200] == ([us(2024, 4, 1, 5, 0)], [72.0])


def test_columns_found_by_name_whatever_the_order_and_case(tmp_path: Path) -> None:
    (tmp_path / "physiological_cycles.csv").write_text(
        "HRV (ms),cycle TIMEZONE,CYCLE START TIME,Extra,recovery score %\n"
        "55,UTC-05:00,2024-06-01 22:00:00,x,80\n"
    )
    batches, _e, report = read(tmp_path / "physiological_cycles.csv")
    values = {b.metric: (b.ts.tolist(), b.value.tolist()) for b in batches}
    assert values == {
        "hrv_rmssd": ([us(2024, 6, 2, 3)], [55.0]),
        "vendor_recovery": ([us(2024, 6, 2, 3)], [80.0]),
    }
    assert report.notes["WHOOP cycle values timed at the cycle start (no Wake onset)"] == 1


def test_reimport_gives_the_same_identities(export) -> None:
    key = lambda r: {(b.metric, t) for b in r[0] for t in b.ts.tolist()}  # noqa: E731
    assert key(read(export[0])) == key(read(export[0]))


def test_detection_zipped_unzipped_and_lone_files(export, tmp_path: Path) -> None:
    assert detect(export[0]).name == "whoop"
    with zipfile.ZipFile(export[0]) as archive:
        archive.extractall(tmp_path)
    assert detect(tmp_path).name == "whoop"
    assert detect(next(tmp_path.rglob("sleeps.csv"))).name == "whoop"
    assert detect(next(tmp_path.rglob("physiological_cycles.csv"))).name == "whoop"


def test_bad_offsets_and_dates_are_counted_by_line(tmp_path: Path) -> None:
    (tmp_path / "physiological_cycles.csv").write_text(
        HEADER
        + "2024-05-01 23:00:00,,UTC+02:00,61,52,70,2024-05-02 07:00:00\n"
        + "2024-05-02 23:00:00,,UTC+15:00,62,52,70,2024-05-03 07:00:00\n"
        + "2024-05-03 23:00:00,,UTC+02:00,63,52,70,2024-05-34 07:00:00\n"
        + "2024-05-04 23:00:00,,UTC+02:00,64,52,70,2024-05-05 07:00:00\n"
    )
    batches, _e, report = read(tmp_path / "physiological_cycles.csv")
    assert sorted(v for b in batches if b.metric == "vendor_recovery" for v in b.value.tolist()) == [
        61.0,
        64.0,
    ]
    assert report.rejected == Counter(
        {
            "impossible or unparseable Cycle timezone (physiological_cycles.csv, first at line 3)": 1,
            "impossible or unparseable Wake onset (physiological_cycles.csv, first at line 4)": 1,
        }
    )


def test_missing_required_column_empty_file_and_encoding(tmp_path: Path) -> None:
    path = tmp_path / "physiological_cycles.csv"
    path.write_text("Cycle start time,Recovery score %\n2024-05-01 23:00:00,61\n")
    with pytest.raises(ConnectorError, match="missing required column 'Cycle timezone'") as error:
        read(path)
    assert error.value.line == 1
    path.write_bytes(b"")
    with pytest.raises(ConnectorError, match="empty file"):
        read(path)
    path.write_bytes((HEADER + "2024-05-01 23:00:00,,UTC+02:00,61,52,70,\u00e9\n").encode("utf-16"))
    with pytest.raises(ConnectorError, match="not UTF-8"):
        read(path)


def test_sleeps_become_in_bed_episodes_in_their_cycle_zone(tmp_path: Path) -> None:
    (tmp_path / "sleeps.csv").write_text(
        "Cycle start time,Cycle timezone,Sleep onset,Wake onset,Nap\n"
        "2024-10-26 23:00:00,UTC+02:00,2024-10-26 23:00:00,2024-10-27 07:00:00,false\n"
        "2024-10-27 14:00:00,UTC+01:00,2024-10-27 15:00:00,2024-10-27 14:00:00,true\n"
    )
    _b, episodes, report = read(tmp_path / "sleeps.csv")
    (episode,) = episodes
    assert episode.start == dt.datetime(2024, 10, 26, 21, tzinfo=UTC)
    assert episode.end == dt.datetime(2024, 10, 27, 5, tzinfo=UTC)
    assert report.rejected["sleep ends before it starts (sleeps.csv, first at line 3)"] == 1
