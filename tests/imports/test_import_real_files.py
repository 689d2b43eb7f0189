"""Real third-party files from ../shared/data through ingest into PostgreSQL (end to end)."""

from __future__ import annotations

from pathlib import Path

import fitdecode
import pytest
from lxml import etree

from connectors.base import RR_BOUNDS_MS
from service.core.db.rls import system_connection
from service.imports import repository as imports
from service.imports.service import run_import
from tests.support.people import new_person

FIT_FILES = [
    "garmin-edge-820-bike.fit",
    "garmin-fenix-5-run.fit",
    "garmin-fenix-5-walk.fit",
    "event_timestamp.fit",
    "MonitoringFile.fit",
]


def _import(pool, person: str, path: Path):
    with system_connection(pool) as conn:
        row = imports.create(conn, person_id=person, file_name=path.name)
    return run_import(pool, row["id"], path)


def _stored(pool, person: str, metric: str) -> int:
    with system_connection(pool) as conn:
        return conn.execute(
            "SELECT count(*) AS n FROM observation WHERE person_id = %s AND metric = %s", (person, metric)
        ).fetchone()["n"]


def _valid_hrv_times(path: Path) -> int:
    """Physiologically valid, non-None hrv.time values, read with fitdecode directly."""
    low, high = RR_BOUNDS_MS
    count = 0
    with fitdecode.FitReader(path) as fit:
        for frame in fit:
            if isinstance(frame, fitdecode.FitDataMessage) and frame.name == "hrv":
                for value in frame.get_value("time") or ():
                    if value is not None and low <= value * 1000 <= high:
                        count += 1
    return count


@pytest.mark.parametrize("name", FIT_FILES)
def test_fit_rr_count_equals_valid_hrv_times_and_reimport_adds_nothing(pool, shared_data, name):
    path = shared_data / "fit" / name
    person = new_person(pool, f"FIT {name}")
    outcome = _import(pool, person, path)
    if outcome.status == "failed":
        # A file with nothing Vagus stores (a step counter's monitoring file) fails with the
        # reason instead of completing with 0 rows; it has no beat intervals either.
        assert "nothing readable" in outcome.error and _valid_hrv_times(path) == 0
        return
    assert outcome.status == "completed", outcome.error
    assert _stored(pool, person, "rr_interval") == _valid_hrv_times(path)
    again = _import(pool, person, path)
    assert again.inserted == 0 and again.duplicates == outcome.inserted


def test_fit_folder_imports_every_file(pool, shared_data):
    person = new_person(pool, "FIT folder")
    outcome = _import(pool, person, shared_data / "fit")
    assert outcome.status == "completed", outcome.error
    expected = sum(_valid_hrv_times(shared_data / "fit" / n) for n in FIT_FILES)
    assert _stored(pool, person, "rr_interval") == expected


def test_empatica_ibi_count_matches_the_file(pool, shared_data):
    path = shared_data / "empatica" / "IBI.csv"
    rows = sum(1 for line in path.read_text().splitlines()[1:] if line.strip())
    person = new_person(pool, "E4")
    outcome = _import(pool, person, path)
    assert outcome.status == "completed", outcome.error
    assert outcome.read == rows
    assert _stored(pool, person, "rr_interval") == rows - outcome.rejected
    assert _import(pool, person, path).inserted == 0


@pytest.mark.parametrize("name", ["export.xml", "export.zip"])
def test_apple_samples_import_their_heart_rate_records(pool, shared_data, name):
    xml = (shared_data / "apple" / "export.xml").read_bytes()
    root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    expected = len(root.findall("Record[@type='HKQuantityTypeIdentifierHeartRate']"))
    person = new_person(pool, f"Apple {name}")
    outcome = _import(pool, person, shared_data / "apple" / name)
    assert outcome.status == "completed", outcome.error
    assert expected >= 1 and _stored(pool, person, "heart_rate") == expected
    # The record's HKMetadataKeyHeartRateMotionContext is kept (0 = not set).
    contexts = [
        r.find("MetadataEntry[@key='HKMetadataKeyHeartRateMotionContext']")
        for r in root.findall("Record[@type='HKQuantityTypeIdentifierHeartRate']")
    ]
    with system_connection(pool) as conn:
        stored = conn.execute(
            "SELECT context FROM observation WHERE person_id = %s AND metric = 'heart_rate' ORDER BY ts",
            (person,),
        ).fetchall()
    assert [r["context"] for r in stored] == [int(c.get("value")) for c in contexts]
    assert _import(pool, person, shared_data / "apple" / name).inserted == 0
