"""Android Health Connect export database (docs/formats.md, "Health Connect")."""

from __future__ import annotations

import sqlite3
import zipfile
from pathlib import Path

import pytest

from connectors import ConnectorError, Episode, ReadContext, ReadReport, SampleBatch, detect
from connectors.health_connect import HealthConnect
from tests.support.generators.health_connect import (
    PHONE_APP,
    WATCH_APP,
    write_health_connect,
)


def _read(path: Path) -> tuple[list, ReadReport]:
    report = ReadReport()
    return list(HealthConnect().read(path, ReadContext(tz="Europe/Berlin"), report)), report


def _samples(items: list) -> dict[tuple[str, str], list[tuple[int, float, int]]]:
    found: dict[tuple[str, str], list[tuple[int, float, int]]] = {}
    for batch in items:
        if isinstance(batch, SampleBatch):
            package = batch.source.key.split(":", 1)[1].split(" [")[0]
            found.setdefault((package, batch.metric), []).extend(
                (int(t), float(v), batch.utc_offset_s) for t, v in zip(batch.ts, batch.value, strict=True)
            )
    return {key: sorted(rows) for key, rows in found.items()}


@pytest.mark.parametrize("name", ["health_connect_export.db", "Health Connect.zip"])
def test_known_values_round_trip_per_writing_app(tmp_path, name):
    path = tmp_path / name
    truth = write_health_connect(path, days=3)  # 2024-03-31 is a daylight-saving day in Berlin
    assert detect(path).name == "health_connect"
    items, report = _read(path)
    assert _samples(items) == {key: sorted(rows) for key, rows in truth.samples.items()}
    sources = {b.source for b in items if isinstance(b, SampleBatch) and b.metric == "heart_rate"}
    assert {(s.name, s.kind) for s in sources} == {(WATCH_APP[1], "watch"), (PHONE_APP[1], "phone")}
    episodes = [
        (e.source.key.split(":", 1)[1].split(" [")[0], e.kind, e.start, e.end)
        for e in items
        if isinstance(e, Episode)
    ]
    assert sorted(episodes) == sorted(truth.episodes)
    assert report.skipped["Health Connect table not read (steps_record_table)"] == truth.steps
    assert report.skipped["Health Connect sleep stage not read (out of bed)"] == truth.out_of_bed
    assert not report.rejected
    assert {b.utc_offset_s for b in items if isinstance(b, SampleBatch)} == {3600, 7200}


def test_reading_twice_gives_identical_items(tmp_path):
    path = tmp_path / "export.db"
    write_health_connect(path)

    def flat(items: list) -> list:
        return [
            (i.kind, i.start, i.end)
            if isinstance(i, Episode)
            else (i.metric, i.source, i.ts.tolist(), i.value.tolist())
            for i in items
        ]

    assert flat(_read(path)[0]) == flat(_read(path)[0])


def _edit(tmp_path: Path, *statements: str) -> Path:
    path = tmp_path / "export.db"
    write_health_connect(path, days=1, records_per_day=2, samples_per_record=5)
    with sqlite3.connect(path) as connection:
        for statement in statements:
            connection.execute(statement)
    return path


@pytest.mark.parametrize(
    "statement, reason",
    [
        (
            "UPDATE heart_rate_record_series_table SET epoch_millis = NULL WHERE row_id = 1",
            "Health Connect heart_rate without a time",
        ),
        (
            "UPDATE heart_rate_record_series_table SET epoch_millis = 'yesterday' WHERE row_id = 1",
            "Health Connect heart_rate without a time",
        ),
        (
            "UPDATE heart_rate_record_table SET start_zone_offset = 86400 WHERE row_id = 1",
            "Health Connect heart_rate with an impossible zone offset",
        ),
        (
            "UPDATE resting_heart_rate_record_table SET zone_offset = 1234",
            "Health Connect resting_heart_rate with an impossible zone offset",
        ),
        (
            "UPDATE heart_rate_record_series_table SET beats_per_minute = 400 WHERE row_id = 1",
            "heart_rate out of physiological bounds",
        ),
        (
            "UPDATE heart_rate_record_series_table SET parent_key = 999 WHERE row_id = 1",
            "Health Connect heart-rate sample without its record",
        ),
        (
            "UPDATE sleep_stages_table SET stage_end_time = stage_start_time - 1 WHERE row_id = 1",
            "Health Connect sleep that ends before it starts",
        ),
    ],
)
def test_bad_rows_are_counted_and_located(tmp_path, statement, reason):
    path = _edit(tmp_path, statement)
    _, report = _read(path)
    count = report.rejected[reason]
    assert count >= 1
    assert report.first_seen[reason].startswith(f"{path} (")


def test_missing_required_column_is_an_error_naming_the_table(tmp_path):
    path = _edit(tmp_path, "ALTER TABLE resting_heart_rate_record_table DROP COLUMN beats_per_minute")
    with pytest.raises(ConnectorError) as caught:
        _read(path)
    assert caught.value.record == "resting_heart_rate_record_table"
    assert "beats_per_minute" in str(caught.value)


def test_extra_and_reordered_columns_do_not_matter(tmp_path):
    path = tmp_path / "export.db"
    truth = write_health_connect(path, days=1, records_per_day=2, samples_per_record=5)
    with sqlite3.connect(path) as connection:
        connection.executescript("""
            ALTER TABLE heart_rate_record_series_table RENAME TO old_series;
            CREATE TABLE heart_rate_record_series_table (epoch_millis INTEGER,
                future_column TEXT, BEATS_PER_MINUTE INTEGER, parent_key INTEGER);
            INSERT INTO heart_rate_record_series_table (epoch_millis, BEATS_PER_MINUTE,
                parent_key) SELECT epoch_millis, beats_per_minute, parent_key FROM old_series;
            DROP TABLE old_series;""")
    items, _ = _read(path)
    assert _samples(items)[(WATCH_APP[0], "heart_rate")] == sorted(
        truth.samples[(WATCH_APP[0], "heart_rate")]
    )


def test_a_database_that_is_not_health_connects_is_a_clear_error(tmp_path):
    path = tmp_path / "contacts.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE contacts (name TEXT)")
    with pytest.raises(ConnectorError, match="format not recognised"):
        detect(path)  # in a bundle: a named skip, not a failing part
    with pytest.raises(ConnectorError, match="not a Health Connect export") as caught:
        _read(path)  # --format health_connect
    assert caught.value.file == str(path)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_damaged_database_is_an_error_naming_the_file(tmp_path, damage):
    path = tmp_path / "export.db"
    write_health_connect(path, days=2)
    data = path.read_bytes()
    path.write_bytes(
        {"garbage": data[:16] + b"\x00\xff" * 2000, "truncated": data[: len(data) // 3], "empty": b""}[damage]
    )
    with pytest.raises(ConnectorError) as caught:
        _read(path)
    assert caught.value.file == str(path)


def test_zip_without_a_database_is_an_error(tmp_path):
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "no database here")
    assert not HealthConnect().sniff(path, path.read_bytes()[:64])
    with pytest.raises(ConnectorError, match="no .db file"):
        _read(path)


def test_the_database_is_opened_read_only(tmp_path):
    path = tmp_path / "export.db"
    write_health_connect(path, days=1)
    before = path.read_bytes()
    _read(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.db"]
